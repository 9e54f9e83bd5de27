"""An InsightFace model pack folder: what is missing is said clearly."""

import json
import shutil

import pytest

from console.errors import ModelError
from console.paths import resources_dir
from console.vision.engine import load_engine


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        load_engine(tmp_path / "buffalo_l")


def test_empty_folder_says_what_a_pack_needs(tmp_path):
    with pytest.raises(ModelError, match="holds no .onnx files: a pack needs a detector"):
        load_engine(tmp_path)


def test_pack_without_a_detector_says_so(tmp_path):
    pack = tmp_path / "my_pack"
    pack.mkdir()
    # A real recognition model (112x112 input) alone: insightface finds no detector.
    shutil.copy(resources_dir() / "models" / "sface_2021dec_fp32.onnx", pack / "rec.onnx")
    with pytest.raises(ModelError, match="has no face detector"):
        load_engine(pack)


def test_manifest_v2_without_detection_task_says_so(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"manifest_version": 2, "model_id": "x", "license": "y",
                                                        "tasks": {"recognition": {}}}))
    with pytest.raises(ModelError, match="declares no detection task"):
        load_engine(tmp_path)


def test_broken_manifest_says_so(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_engine(tmp_path)
