"""``calibrate.py --check`` names what differs (issue 32, item 4): the comparison alone, on small dicts.

The full check embeds some 4,000 faces (minutes); its comparison is pure, so it is tested here
without the engine, the data or numpy."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "calibration" / "calibrate_compare.py"
_SPEC = importlib.util.spec_from_file_location("calibrate_compare", _PATH)
cc = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(cc)

DIGEST = {"files": 512, "bytes": 25718117, "sha256": "17a966e2425d63fd" + "0" * 48}


def calibration() -> dict:
    return {
        "model_id": "yunet+sface@002431a1f0b0",
        "inputs": {"data": {"congress-portraits-dev": dict(DIGEST), "openface-webcam": None},
                   "model": {"sface.onnx": "002431a1f0b0" + "0" * 52},
                   "pipeline_sha256": "a" * 64, "software": {"numpy": "2.4.6"}},
        "counts": {"congress_people": 510, "degraded_impostor_pairs": {"fit": 357886, "report": 361442},
                   "genuine_pairs": {"clean": 313}, "webcam_faces": 105},
        "faces_left_out": {"note": "...", "congress-portraits-dev": {
            "eye13": {"no_face": [], "not_good": {"3": "face too small: 11.2 px between the eyes (needs 12)"}},
            "blur": {"no_face": [], "not_good": {}}}},
        "table": [{"n_entries": 2000, "threshold": 0.5654, "tpir": 0.8441}],
        "tails": {"degraded": {"u": 0.30099, "sigma": 0.03189, "xi": -0.0859}},
    }


def test_the_same_calibration_has_no_problems():
    assert cc.compare(calibration(), calibration()) == []
    assert cc.report(calibration(), calibration()) == []


def test_a_changed_count_names_the_set_the_count_and_both_values():
    new = calibration()
    new["counts"]["degraded_impostor_pairs"]["fit"] = 357632
    (problem,) = cc.compare(calibration(), new)
    assert problem == ("congress-portraits-dev: count degraded_impostor_pairs.fit: "
                       "committed 357886, measured 357632 (-254)")


def test_counts_of_the_other_sets_are_named_by_their_own_set():
    new = calibration()
    new["counts"]["webcam_faces"], new["counts"]["genuine_pairs"]["clean"] = 106, 312
    problems = cc.compare(calibration(), new)
    assert "openface-webcam: count webcam_faces: committed 105, measured 106 (+1)" in problems
    assert "dlib-johns + deepface-pairs: count genuine_pairs.clean: committed 313, measured 312 (-1)" in problems


def test_a_face_that_moved_across_a_limit_is_named_with_why():
    new = calibration()
    left = new["faces_left_out"]["congress-portraits-dev"]
    del left["eye13"]["not_good"]["3"]
    left["blur"]["not_good"]["7"] = "head tilted down 37 deg (limit 35)"
    names = {"congress-portraits-dev": [f"P{i:03d}.jpg" for i in range(10)]}
    problems = cc.compare(calibration(), new, names)
    assert ("congress-portraits-dev eye13: 1 face(s) no longer outside the good-view limits: P003.jpg "
            "(committed: face too small: 11.2 px between the eyes (needs 12))") in problems
    assert ("congress-portraits-dev blur: 1 face(s) now outside the good-view limits: P007.jpg "
            "(measured: head tilted down 37 deg (limit 35))") in problems
    # Without the local data the faces keep their numbers: the shipped file holds no image names.
    assert any(p.endswith("#7 (measured: head tilted down 37 deg (limit 35))") for p in cc.compare(calibration(), new))


def test_another_copy_of_the_data_is_told_apart_from_a_changed_pipeline():
    copy_of_data = calibration()
    copy_of_data["inputs"]["data"]["congress-portraits-dev"] = {**DIGEST, "files": 511, "sha256": "b" * 64}
    copy_of_data["counts"]["congress_people"] = 509
    problems = cc.compare(calibration(), copy_of_data)
    assert problems[0].startswith("data set congress-portraits-dev: committed 512 files")
    assert "measured 511 files" in problems[0] and "a different copy of the data" in problems[0]
    assert not any("pipeline" in line for line in cc.report(calibration(), copy_of_data))

    new_code = calibration()
    new_code["inputs"]["pipeline_sha256"] = "c" * 64
    new_code["counts"]["congress_people"] = 509
    info = cc.report(calibration(), new_code)
    assert any(line.startswith("pipeline code") for line in info)
    assert any("not the inputs" in line for line in info)
    assert cc.compare(calibration(), new_code) == [
        "congress-portraits-dev: count congress_people: committed 510, measured 509 (-1)"]


def test_another_model_file_is_a_problem():
    new = calibration()
    new["inputs"]["model"]["sface.onnx"] = "f" * 64
    assert cc.compare(calibration(), new) == ["model file sface.onnx: committed sha256 002431a1f0b00000, "
                                              "measured ffffffffffffffff"]


def test_a_file_without_recorded_inputs_cannot_pass():
    old = calibration()
    del old["inputs"]
    assert any("records no digests" in p for p in cc.compare(old, calibration()))


@pytest.mark.parametrize(("field", "by", "fails"), [("threshold", 0.0019, False), ("threshold", 0.0021, True),
                                                    ("tpir", 0.004, False), ("tpir", 0.006, True)])
def test_the_table_is_compared_within_its_stated_tolerance(field, by, fails):
    new = copy.deepcopy(calibration())
    new["table"][0][field] += by
    problems = cc.compare(calibration(), new)
    assert bool(problems) is fails
    if fails:
        assert problems[0].startswith("table N=2000: threshold committed 0.5654")


def test_a_tail_outside_its_tolerance_gives_both_fits():
    new = calibration()
    new["tails"]["degraded"]["xi"] = -0.12
    (problem,) = cc.compare(calibration(), new)
    assert problem.startswith("degraded tail: committed u 0.3010 sigma 0.0319 xi -0.0859, measured")
    assert problem.endswith("xi -0.1200")
