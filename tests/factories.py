"""Small shared builders for tests: one deployment with a camera and a watchlist entry, and a
wait that polls a condition instead of sleeping a fixed time."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from console.store import repo


@dataclass
class SmallDeployment:
    store: object
    supervisor_id: int
    deployment_id: int
    camera_id: int
    watchlist_id: int
    entry_id: int
    image_id: int

    def alert(self, score: float = 0.7, track: int = 1, store=None, camera: int | None = None) -> int:
        """An alert on the entry (fake images: these tests are about records, not faces)."""
        return repo.insert_alert(store or self.store, repo.AlertRecord(
            self.deployment_id, camera or self.camera_id, track, [(self.entry_id, self.image_id, score)], 0.4, "m",
            [0, 0, 1, 1], {}, b"p", b"c", "2026-01-01T09:00:00Z"))


SUPERVISOR_PASSWORD = "a supervisor's amber passphrase"  # "sup"'s: a sign-off asks for it
_HASHES: dict[str, str] = {}


def password_hash(password: str = SUPERVISOR_PASSWORD) -> str:
    """A stored hash of ``password``, made once per test run (scrypt costs 32 MiB and a tenth of a second)."""
    from console.services.accounts.auth import hash_password

    if password not in _HASHES:
        _HASHES[password] = hash_password(password)
    return _HASHES[password]


def small_deployment(store, operators: tuple[str, ...] = (), incident_window_s: int = 0) -> SmallDeployment:
    """Alerts are their own incidents here (window 0) unless asked: most tests built on this are
    about one alert's record; tests/unit/test_incidents.py tests the grouping at the default."""
    sup = repo.create_user(store, "sup", "Supervisor", "supervisor", password_hash=password_hash())
    for name in operators:
        repo.create_user(store, name, name.title(), "operator")
    dep = repo.create_deployment(store, repo.DeploymentSpec("D", "P", "R", "2026-01-01T00:00:00Z",
                                                            "2099-01-01T00:00:00Z", 0.4, 0.363, "m",
                                                            incident_window_s=incident_window_s), sup, "sup")
    repo.activate_deployment(store, dep, "sup")
    cam = repo.add_camera(store, dep, "Cam", "demo:0", "sup")
    wl = repo.create_watchlist(store, dep, "WL", "sup")
    entry = repo.add_entry(store, wl, repo.EntrySpec("R-1", "P", "missing_person", "b", "r", "s", "2025-01-01",
                                                     "2099-01-01"), sup, "sup")
    image = repo.add_entry_image(store, entry, b"j", np.ones(128, np.float32), "m", {}, "sup")
    return SmallDeployment(store, sup, dep, cam, wl, entry, image)


def wait_for(condition, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


class RecognizerStub:
    """The face a CameraWorker needs of a recognizer, for tests about the worker itself;
    subclasses give ``process``."""

    outbox = ()
    outbox_dropped = 0
    store_problem = ""

    def __init__(self) -> None:
        from console.pipeline.recognizer import ScoreStats

        self.stats = ScoreStats()

    def drain_outbox(self, force: bool = False) -> list[int]:
        return []


LOCKER = textwrap.dedent("""
    import sqlite3, sys
    con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
    con.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.readline()
    con.execute("ROLLBACK")
""")


class OtherProcessLock:
    """Another program (a backup tool, a curious administrator) holding the write lock."""

    def __init__(self, path: Path) -> None:
        self.path, self.proc = path, None

    def on(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", LOCKER, str(self.path)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "locked"

    def off(self) -> None:
        self.proc.stdin.write("\n")
        self.proc.stdin.close()
        self.proc.stdout.close()
        assert self.proc.wait(10) == 0


class SetClock:
    """The console's wall clock held at ``start``; ``at(seconds)`` moves it to start + seconds."""

    def __init__(self, monkeypatch, start: float) -> None:
        from console import clock

        self.start = self.t = start
        monkeypatch.setattr(clock, "_wall", lambda: self.t)

    def at(self, seconds: float) -> None:
        self.t = self.start + seconds
