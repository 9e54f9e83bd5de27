"""The hostile-input tests at N times the suite's case count.

    python main.py bench fuzz --scale 200
"""

from __future__ import annotations

import time
from pathlib import Path

from console.errors import ConsoleError


def bench_fuzz(scale: int) -> dict:
    """The hostile-input tests with ORC_FUZZ_SCALE=scale: every case must pass."""
    import os
    import re
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    target = root / "tests" / "reliability" / "test_hostile_input.py"
    if not target.is_file():
        raise ConsoleError("the fuzzing benchmark runs from a source checkout (its tests/ folder is not here)")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", str(target)],
                          cwd=root, capture_output=True, text=True,
                          env={**os.environ, "ORC_FUZZ_SCALE": str(scale), "QT_QPA_PLATFORM": "offscreen"})
    if "No module named pytest" in done.stderr:
        raise ConsoleError("the fuzzing benchmark needs the dev extras: python3 bootstrap.py test installs them")
    cases = re.search(r"hostile-input cases tried in this run: (\d+)", done.stdout)
    summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-2000:])
    return {"bench": "fuzz", "scale": scale, "cases": int(cases.group(1)) if cases else 0, "passed": done.returncode == 0,
            "pytest": summary, "seconds": round(time.perf_counter() - t0, 1)}
