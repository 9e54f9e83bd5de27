"""``main.py screenshot`` renders on a throwaway demo of its own (issue 27): it runs any number of times,
never opens the user's data (named or the default folder) and removes its temporary data directory."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_screenshot_runs_twice_on_its_own_throwaway_demo_and_leaves_the_users_data_alone(tmp_path):
    home, named, scratch, shots = tmp_path / "home", tmp_path / "named", tmp_path / "scratch", tmp_path / "shots"
    scratch.mkdir()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ORC_DATA_DIR": str(home), "TMPDIR": str(scratch)}
    for attempt in (1, 2):  # the second run found the first one's escalations and decisions before
        done = subprocess.run([sys.executable, str(ROOT / "main.py"), "screenshot", str(shots), "--only-main",
                               "--data-dir", str(named)], capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
        assert done.returncode == 0, f"run {attempt}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
        assert "throwaway demo of its own" in done.stdout and f"wrote {shots / 'main_window.png'}" in done.stdout
        assert (shots / "main_window.png").stat().st_size > 50_000
        assert not home.exists() and not named.exists()  # neither the default data folder nor the one named
        assert list(scratch.glob("orc-*")) == []  # its temporary data directories are gone
