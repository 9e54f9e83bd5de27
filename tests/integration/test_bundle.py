"""The desktop bundle: built with PyInstaller, it passes its selftest away from the source tree."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "dist" / "operator-review-console" / "operator-review-console"


@pytest.mark.bundle
@pytest.mark.slow
def test_the_bundle_builds_and_passes_its_selftest_without_the_source(tmp_path):
    pytest.importorskip("PyInstaller")
    build = subprocess.run([sys.executable, str(ROOT / "packaging" / "build_bundle.py")], cwd=ROOT,
                           capture_output=True, text=True, timeout=1200)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-3000:]
    assert BUNDLE.is_file()
    internal = BUNDLE.parent / "_internal"
    # Bundled: verified models, sounds, icon, demo photos with their sources; trimmed: the pack stack.
    assert (internal / "resources" / "models" / "manifest.json").is_file()
    assert (internal / "resources" / "demo" / "SOURCES.txt").is_file()
    assert not (internal / "scipy").exists() and not (internal / "insightface").exists()
    entry = (ROOT / "dist" / "operator-review-console.desktop").read_text()
    assert "Exec=" in entry and "operator-review-console.svg" in entry
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    run = subprocess.run([str(BUNDLE), "selftest", "--data-dir", str(tmp_path / "data")], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "selftest passed" in run.stdout
    gui = subprocess.run([str(BUNDLE), "screenshot", str(tmp_path / "shots"), "--data-dir", str(tmp_path / "gui")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert gui.returncode == 0, gui.stdout[-2000:] + gui.stderr[-2000:]
    assert (tmp_path / "shots" / "main_window.png").stat().st_size > 50_000
