#!/usr/bin/env python3
"""Set up a local environment and run the console or its tests - the README's two commands.

    python3 bootstrap.py run [ARGS...]   install (first time) and open the console on the demo
    python3 bootstrap.py test [ARGS...]  install with the dev extra and run the whole suite headless

Needs only Python 3.11+ with pip. Everything goes into ./.venv, once: a stamp file records
the extras installed for this pyproject.toml, and a command whose extras are already there
(`run` after `test`: dev includes the base) skips the install. After installing, the full
opencv-python wheel that insightface pulls in is removed and the headless wheel reinstalled:
the full wheel ships Qt 5 plugins that stop PySide6 from opening a window on X11.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def say(text: str) -> None:
    print(f"[bootstrap] {text}", flush=True)


def run(cmd: list[str], **kw) -> None:
    result = subprocess.run(cmd, **kw)
    if result.returncode != 0:
        raise SystemExit(f"[bootstrap] failed ({result.returncode}): {' '.join(map(str, cmd))}")


def make_venv() -> None:
    if PY.exists():
        return
    say(f"creating {VENV}")
    try:
        venv.EnvBuilder(with_pip=True).create(VENV)
    except Exception as exc:  # Debian without python3-venv: fall back to virtualenv via pip
        say(f"the venv module failed ({exc}); trying virtualenv")
        run([sys.executable, "-m", "pip", "install", "--user", "--quiet", "virtualenv"])
        run([sys.executable, "-m", "virtualenv", str(VENV)])


def installed_dists() -> set[str]:
    out = subprocess.run([str(PY), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True).stdout
    return {line.split("==")[0].lower() for line in out.splitlines() if "==" in line}


def ensure_headless_opencv() -> None:
    dists = installed_dists()
    if "opencv-python" in dists:
        say("removing opencv-python (pulled in by insightface) and reinstalling opencv-python-headless")
        run([str(PY), "-m", "pip", "uninstall", "--yes", "--quiet", "opencv-python"])
        run([str(PY), "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps", "opencv-python-headless"
             + _pinned("opencv-python-headless")])


def _pinned(name: str) -> str:
    out = subprocess.run([str(PY), "-m", "pip", "show", name], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("Version:"):
            return "==" + line.split(":", 1)[1].strip()
    return ""


STAMP = ".installed.json"


def _project_digest() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]


def read_stamp() -> tuple[str, set[str]]:
    """The pyproject digest and the extras of the last install ("" and none: no install)."""
    try:
        data = json.loads((VENV / STAMP).read_text())
        return str(data["pyproject"]), set(data["extras"])
    except (OSError, ValueError, KeyError, TypeError):
        return "", set()


def installed_extras() -> set[str] | None:
    """The extras installed for this very pyproject.toml; None: an install is needed."""
    digest, extras = read_stamp()
    return extras if digest == _project_digest() else None


def install(extras: str) -> None:
    """Install once: a venv that already holds every extra asked for (``run`` needs none,
    ``test`` needs dev; dev includes the base) is left as it is, whichever command made it."""
    make_venv()
    needs = {e for e in extras.split(",") if e}
    have = installed_extras()
    if have is not None and needs <= have:
        ensure_headless_opencv()
        return
    wanted = sorted(needs | read_stamp()[1])  # never drop an extra an earlier install put there
    joined = ",".join(wanted)
    say(f"installing the console{' with ' + joined if joined else ''} into {VENV} (first run takes a few minutes)")
    run([str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    target = f".[{joined}]" if joined else "."
    run([str(PY), "-m", "pip", "install", "--quiet", "-e", target], cwd=ROOT)
    ensure_headless_opencv()
    for old in VENV.glob(".installed-*"):  # the stamps of earlier versions of this script
        old.unlink()
    (VENV / STAMP).write_text(json.dumps({"pyproject": _project_digest(), "extras": wanted}) + "\n")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "run":
        install("")
        # With no arguments: the demo, in its own data directory (a real store is never touched).
        return subprocess.call([str(PY), str(ROOT / "main.py"), *(rest or ["--demo"])], cwd=ROOT)
    install("dev")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    say("ruff check")
    lint = subprocess.call([str(PY), "-m", "ruff", "check", "--quiet", "."], cwd=ROOT)
    if lint != 0:
        return lint
    say("import contracts (lint-imports: the core without Qt, the UI and the CLI through the services, the layers)")
    contracts = subprocess.call([str(BIN / ("lint-imports.exe" if os.name == "nt" else "lint-imports")), "--no-cache"], cwd=ROOT)
    if contracts != 0:
        return contracts
    say("pytest (headless)")
    return subprocess.call([str(PY), "-m", "pytest", *rest], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
