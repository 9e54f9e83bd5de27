"""The shipped calibration: operating points for a watchlist's size (no dependence on ../shared)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from console.cli import commands as cli
from console.errors import ConsoleError, ModelError
from console.services.accuracy import calibration
from console.vision.bundled import verify_bundled

PUBLISHED_1_TO_1 = 0.363


@pytest.fixture(scope="module")
def cal() -> calibration.Calibration:
    return calibration.load_for(verify_bundled().model_id)


def test_shipped_file_loads_and_belongs_to_the_bundled_model(cal):
    assert cal.model_id == verify_bundled().model_id
    assert calibration.default_path().parent.name == "models"
    assert (calibration.default_path().parent / "manifest.json").is_file()
    assert len(cal.boot) >= 100  # the uncertainty travels with the point estimate
    assert {"congress-portraits-dev", "deepface-pairs", "dlib-johns"} <= set(cal.data["data"])
    for source in cal.data["data"].values():
        assert source["licence"] and source["source"]


def test_another_models_calibration_is_refused(cal):
    with pytest.raises(ModelError, match="belongs to model"):
        calibration.load_for("some-other-pack@0123456789ab")


def test_a_missing_calibration_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="missing"):
        calibration.load(tmp_path / "calibration.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ModelError, match="unreadable"):
        calibration.load(broken)


def test_threshold_rises_with_watchlist_size(cal):
    ts = [cal.threshold_for(n) for n in (1, 100, 500, 1000, 2000, 10000)]
    assert ts == sorted(ts) and len(set(ts)) == len(ts)


def test_threshold_rises_with_a_stricter_target(cal):
    ts = [cal.threshold_for(2000, target) for target in (1e-4, 3e-5, 1e-5, 1e-6, 1e-7)]
    assert ts == sorted(ts) and len(set(ts)) == len(ts)


@pytest.mark.parametrize("target", [2e-4, 1e-3, 0.5, 1.0, 0.0, -1e-5, math.nan, math.inf, -math.inf, "x"])
def test_targets_looser_than_1_in_10000_or_not_positive_are_refused(cal, target):
    with pytest.raises(calibration.TargetRefused):
        cal.threshold_for(500, target)
    with pytest.raises(ValueError):  # also a plain ValueError for callers outside the console
        calibration.threshold_for(500, target, cal=cal)
    with pytest.raises(ConsoleError):  # and one clear line from the CLI
        calibration.check_target(target)


def test_the_loosest_allowed_target_is_accepted(cal):
    assert cal.threshold_for(500, 1e-4) < cal.threshold_for(500, 1e-5)


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_watchlist_size_must_be_a_whole_number(cal, n):
    with pytest.raises(calibration.TargetRefused):
        cal.threshold_for(n)


@pytest.mark.parametrize("n", [1, 10, 100, 500, 1000, 2000, 10000, 100000])
@pytest.mark.parametrize("target", [1e-4, 1e-5, 1e-6])
def test_expected_false_alerts_at_the_threshold_meet_the_target(cal, n, target):
    t = cal.threshold_for(n, target)
    assert cal.false_alerts_per_100k(t, n) <= target * 1e5
    # ... and it is the lowest such threshold, not an arbitrarily strict one.
    assert cal.false_alerts_per_100k(t - 0.002, n) > target * 1e5


def test_calibrated_threshold_for_500_entries_is_above_the_published_1_to_1_threshold(cal):
    assert calibration.threshold_for(500, cal=cal) > PUBLISHED_1_TO_1
    # At the published threshold a 500-entry watchlist raises far more than 1 in 100,000.
    assert calibration.false_alerts_per_100k(PUBLISHED_1_TO_1, 500, cal=cal) > 1.0


def test_false_alerts_grow_with_n_and_fall_with_the_threshold(cal):
    assert cal.false_alerts_per_100k(0.45, 100) < cal.false_alerts_per_100k(0.45, 2000)
    rates = [cal.false_alerts_per_100k(t, 2000) for t in (0.30, 0.363, 0.40, 0.45, 0.50)]
    assert rates == sorted(rates, reverse=True)
    assert all(0.0 <= r <= 1e5 for r in rates)


def test_true_match_rate_is_a_falling_share(cal):
    rates = [calibration.true_match_rate(t, cal=cal) for t in (0.0, 0.3, 0.363, 0.5, 0.7, 1.0)]
    assert rates == sorted(rates, reverse=True)
    assert all(0.0 <= r <= 1.0 for r in rates)
    assert cal.true_match_rate(0.5, "clean") >= cal.true_match_rate(0.5, "degraded")
    with pytest.raises(ModelError):
        cal.true_match_rate(0.5, "nonsense")


def test_the_shipped_table_agrees_with_the_functions(cal):
    for row in cal.data["table"]:
        t = cal.threshold_for(row["n_entries"], row["target"])
        assert t == pytest.approx(row["threshold"], abs=1e-3)
        lo, hi = cal.threshold_interval(row["n_entries"], row["target"])
        assert lo <= t <= hi
        assert cal.true_match_rate(t) == pytest.approx(row["tpir"], abs=0.01)


def test_only_derived_numbers_ship():
    text = calibration.default_path().read_text()
    assert ".jpg" not in text.lower() and ".png" not in text.lower()  # no image names, let alone images
    assert not re.search(r"\b[A-Z]\d{6}\b", text)  # no Bioguide IDs of the portraits
    data = json.loads(text)
    assert data["written_by"] == "calibration/calibrate.py"


def test_eval_watchlist_says_when_its_data_is_not_there(tmp_path, capsys):
    code = cli.main(["eval-watchlist", "--data", str(tmp_path / "nowhere")])
    assert code == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert f"no evaluation data at {tmp_path / 'nowhere'}" in err and "nothing was measured" in err
    assert "congress-portraits-dev" in err and "dlib-johns" in err and "deepface-pairs" in err


def test_eval_watchlist_without_data_names_the_sets_and_where_the_readme_says_to_get_them(capsys):
    code = cli.main(["eval-watchlist"])  # no default folder: ../shared/data is no part of an installation
    err = capsys.readouterr().err
    assert code == cli.EXIT_ERROR and err.count("\n") == 1  # one clear line
    assert "no --data given" in err and "--data DIR" in err and "nothing was measured" in err
    for name in ("congress-portraits-dev", "dlib-johns", "deepface-pairs"):
        assert name in err
    assert 'README.md, "Accuracy on public test sets"' in err and "shared" not in err
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## Accuracy on public test sets"):]
    assert all(name in section for name in ("congress-portraits-dev", "dlib-johns", "deepface-pairs"))


def test_nothing_in_the_product_defaults_to_a_folder_outside_the_installation():
    from console.services.accuracy import watchlist_eval

    root = Path(__file__).resolve().parents[2]
    assert not hasattr(watchlist_eval, "default_data_dir")  # console.paths.default_data_dir is the user's store
    for path in [root / "main.py", *(root / "console").rglob("*.py"), *(root / "ui").rglob("*.py")]:
        text = path.read_text()  # a comment may say where a figure was measured; no code builds the path
        assert '"shared"' not in text and "'shared'" not in text and '"../shared' not in text, path


def test_eval_watchlist_refuses_a_loose_target(tmp_path, capsys):
    assert cli.main(["eval-watchlist", "--data", str(tmp_path), "--target", "0.01"]) == cli.EXIT_ERROR
    assert "looser" in capsys.readouterr().err
