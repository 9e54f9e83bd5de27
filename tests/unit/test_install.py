"""The headless OpenCV wheel must be the one in use (the full one breaks PySide6 on X11)."""

from importlib import metadata
from pathlib import Path

import cv2


def test_full_opencv_wheel_is_not_installed():
    names = {d.metadata["Name"].lower() for d in metadata.distributions()}
    assert "opencv-python-headless" in names
    assert "opencv-python" not in names, "run bootstrap.py, which replaces opencv-python with the headless wheel"


def test_cv2_in_use_carries_no_qt_plugins():
    cv2_dir = Path(cv2.__file__).parent
    assert not (cv2_dir / "qt" / "plugins").exists()


def _fake_bootstrap(tmp_path, monkeypatch):
    """bootstrap.py against a fake venv: every pip call recorded, none run."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bootstrap_under_test", Path(__file__).parents[2] / "bootstrap.py")
    boot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(boot)
    venv = tmp_path / ".venv"
    venv.mkdir()
    calls: list[list[str]] = []
    monkeypatch.setattr(boot, "VENV", venv)
    monkeypatch.setattr(boot, "make_venv", lambda: None)
    monkeypatch.setattr(boot, "ensure_headless_opencv", lambda: None)
    monkeypatch.setattr(boot, "run", lambda cmd, **kw: calls.append([str(c) for c in cmd]))
    return boot, venv, calls


def _installs(calls):
    return [c[-1] for c in calls if "-e" in c]


def test_bootstrap_run_after_test_installs_nothing(tmp_path, monkeypatch):
    boot, venv, calls = _fake_bootstrap(tmp_path, monkeypatch)
    boot.install("dev")  # `bootstrap.py test`
    assert _installs(calls) == [".[dev]"]
    boot.install("")  # then `bootstrap.py run`: dev includes the base
    boot.install("dev")  # and `test` again
    assert _installs(calls) == [".[dev]"], "a second command must not install again"
    assert boot.installed_extras() == {"dev"}


def test_bootstrap_test_after_run_adds_the_dev_extra_once(tmp_path, monkeypatch):
    boot, venv, calls = _fake_bootstrap(tmp_path, monkeypatch)
    boot.install("")
    boot.install("")
    assert _installs(calls) == ["."]
    boot.install("dev")
    boot.install("")
    boot.install("dev")
    assert _installs(calls) == [".", ".[dev]"]


def test_bootstrap_installs_again_when_the_project_changes(tmp_path, monkeypatch):
    boot, venv, calls = _fake_bootstrap(tmp_path, monkeypatch)
    boot.install("dev")
    import json

    stamp = json.loads((venv / boot.STAMP).read_text())
    stamp["pyproject"] = "0" * 16  # as if pyproject.toml had changed since
    (venv / boot.STAMP).write_text(json.dumps(stamp))
    boot.install("")
    assert _installs(calls) == [".[dev]", ".[dev]"], "a changed project reinstalls, keeping the extras it had"
    (venv / boot.STAMP).write_text("not json")
    boot.install("")
    assert len(_installs(calls)) == 3
