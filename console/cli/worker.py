"""`main.py worker`: a headless recognition worker; `--processes N` splits one deployment's cameras
over N worker processes; `--pool` joins the deployment's pool of workers, which share its cameras
through leases in the store (console/services/runtime/pool.py).

Eight camera threads in one Python process wait on each other; one process per core analyses
about 15 % more frames on a 2-core machine (docs/performance.md, issue 18). Each process is
an ordinary worker for its share of the cameras (`--cameras`), with its own heartbeat, under the
same credential, handed on in its environment (never on a command line, which every local user
can read). A stop (Ctrl+C, SIGTERM) reaches every one of them.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from console.errors import ConsoleError


def add_parser(sub, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("worker", help="a headless recognition worker for a deployment's cameras, writing alerts "
                       "to the shared store")
    add_common(p)
    p.add_argument("--deployment", type=int, required=True)
    p.add_argument("--cameras", default="", help="camera ids, comma separated (default: all of the deployment's)")
    p.add_argument("--pool", action="store_true",
                   help="join the deployment's pool of workers: the cameras are shared out through leases in the store, "
                        "and a worker that stops renewing its leases has its cameras taken over by another")
    p.add_argument("--seconds", type=float, default=None, help="stop after this long (default: the window's end)")
    p.add_argument("--processes", type=int, default=1,
                   help="split the cameras over this many worker processes (one per core analyses more frames)")
    p.add_argument("--credential-file", type=Path, default=None,
                   help="the worker credential an administrator issued (users issue-worker), in a file only you can "
                        "read; default: the ORC_WORKER_CREDENTIAL environment variable (never an argument)")


def cmd_worker(args) -> int:
    from console.cli.stores import open_store as _store
    from console.cli.stores import providers as _providers
    from console.cli.users import worker_token

    try:
        cameras = [int(c) for c in args.cameras.split(",") if c.strip()]
    except ValueError as exc:
        raise ConsoleError(f"--cameras takes ids like 1,2: {exc}") from exc
    if args.pool and (cameras or args.processes > 1):
        raise ConsoleError("--pool shares out all of the deployment's cameras: give neither --cameras nor --processes")
    if args.processes > 1:
        return run_processes(args, cameras or None, worker_token(args), _store)
    with _store(args) as store:
        if args.pool:
            from console.services.runtime.pool import run_pool_worker

            summary = run_pool_worker(store, args.deployment, args.seconds, _providers(args), args.model_pack,
                                      credential=worker_token(args))
        else:
            from console.services.runtime.worker import run_worker

            summary = run_worker(store, args.deployment, cameras or None, args.seconds, _providers(args),
                                 args.model_pack, credential=worker_token(args))
    print(json.dumps(summary))
    return 0


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
