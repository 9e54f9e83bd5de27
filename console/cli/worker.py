"""`main.py worker --processes N`: one deployment's cameras split over N worker processes.

Eight camera threads in one Python process wait on each other; one process per core analyses
about 15 % more frames on a 2-core machine (docs/performance.md, issue 18). Each process is
an ordinary worker for its share of the cameras (`--cameras`), with its own heartbeat, under the
same credential, handed on in its environment (never on a command line, which every local user
can read). A stop (Ctrl+C, SIGTERM) reaches every one of them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


def camera_groups(camera_ids: list[int], processes: int) -> list[list[int]]:
    """The cameras dealt round like cards: the groups differ in size by one at most."""
    count = max(1, min(processes, len(camera_ids)))
    return [camera_ids[k::count] for k in range(count)]


def _command() -> list[str]:
    if getattr(sys, "frozen", False):  # the bundled console: its own executable takes the command
        return [sys.executable, "worker"]
    return [sys.executable, str(Path(__file__).resolve().parents[2] / "main.py"), "worker"]


def run_processes(args, camera_ids: list[int] | None, token: str, open_store: Callable) -> int:
    """Start one worker per group of the deployment's cameras, wait for all, and return the worst exit status."""
    from console.services.runtime.worker import camera_rows

    with open_store(args) as store:
        ids = [int(r["id"]) for r in camera_rows(store, args.deployment, camera_ids)]
    shared = ["--deployment", str(args.deployment), "--providers", args.providers]
    for flag, value in (("--data-dir", args.data_dir), ("--db", args.db), ("--model-pack", args.model_pack),
                        ("--seconds", args.seconds)):
        if value is not None:
            shared += [flag, str(value)]
    env = {**os.environ, "ORC_WORKER_CREDENTIAL": token}
    children = [subprocess.Popen([*_command(), *shared, "--cameras", ",".join(map(str, group))], env=env)
                for group in camera_groups(ids, args.processes)]
    print(f"deployment {args.deployment}: cameras {ids} in {len(children)} worker processes "
          f"({', '.join(str(c.pid) for c in children)})", file=sys.stderr, flush=True)

    def pass_on(sig, _frame) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(sig)

    previous = {sig: signal.signal(sig, pass_on) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        codes = [child.wait() for child in children]
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return max(codes, key=abs)
