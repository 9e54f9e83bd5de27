"""A seat's recognition in its own process, started and supervised by the console.

The console window does no recognition: it starts one local process that runs the headless
worker's code (console/services/runtime/worker.py ``serve``) for the seat's cameras, at a lower scheduling
priority (under load it drops frames before the window lags). The process writes its alerts to the
store, and the window learns of them through the change feed, as from any worker. For display it
writes each camera's newest frame, already scaled to the tile's size, into shared memory
(console/services/runtime/seat_display.py).

Who the process is: the signed-in person at the seat, as the threads were before it. It needs no
worker credential of its own (issuing one takes an administrator); the console hands it the
person's identity - and on PostgreSQL the sign-in session's token, which the database checks at
every write - through an inherited pipe (its standard input), never the command line or the
environment. The process checks that identity against the store before anything else, as every
service does, and it ends when the pipe closes (the console closed or died).

The console restarts a process that dies (not one that ends because the deployment ended, or was
refused), and its state is shown: starting, running, or restarting after an exit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from console.services.runtime.seat_display import DisplayBlock, Shown

PUBLISH_S = 0.04  # 25 displays a second, like the grid's paint
OVERLAY_MAX_AGE_S = 0.5  # the analysed frame (with its boxes) while at most this much older than the newest
NICE = 10  # recognition yields to the window
RESTART_S = (0.3, 1.0, 2.0, 5.0, 10.0)  # waits before restarting a process that died, by restarts in a row
REFUSED = 3  # the process's exit status when its identity or the deployment refuses it


class SharedCamera:
    """One camera of the seat, as the window sees it: read from the shared block (memory only)."""

    def __init__(self, seat: SeatProcess, index: int, name: str) -> None:
        self.seat, self.index, self.name = seat, index, name
        self.last: Shown | None = None
        self._seen = -1
        self._want = (-1, -1)

    def want(self, width: int, height: int) -> None:
        if (width, height) != self._want and self.seat.block is not None:
            self._want = (width, height)
            self.seat.block.want(self.index, width, height)

    def poll(self) -> Shown | None:
        """The display written since the last poll, or None."""
        if self.seat.block is None:
            return None
        shown = self.seat.block.read(self.index, self._seen)
        if shown is not None:
            self._seen = shown.seq
            self.last = shown
        return shown

    def _head(self) -> Shown | None:
        block = self.seat.block
        return block.read(self.index, image=False) if block is not None else self.last

    @property
    def analysed_fps(self) -> float:
        head = self._head()
        return head.analysed_fps if head is not None and self.seat.running else 0.0

    @property
    def analysed(self) -> int:
        head = self._head()
        return head.analysed if head is not None else 0

    @property
    def embedded_total(self) -> int:
        head = self._head()
        return head.embedded if head is not None else 0


class SeatProcess:
    """Starts, watches and restarts the seat's recognition process."""

    def __init__(self, location, deployment_id: int, camera_ids: list[int], names: list[str], actor,
                 pack: str | None = None, providers: list[str] | None = None) -> None:
        self.location = str(location) if location is not None else None
        self.deployment_id = deployment_id
        self.camera_ids = camera_ids
        self.actor = actor
        self.pack, self.providers = pack, providers
        self.worker_id = f"seat-{os.getpid()}-{deployment_id}"
        self.block: DisplayBlock | None = None
        self.cameras = [SharedCamera(self, i, name) for i, name in enumerate(names)]
        self.state = "starting"  # starting, running, restarting, ended, refused, stopped
        self.detail = ""  # the last exit, or why it was refused
        self.restarts = 0
        self.exits: list[tuple[float, int]] = []  # (monotonic time, exit status) of each unexpected exit
        self.proc: subprocess.Popen | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> SeatProcess:
        self.block = DisplayBlock.create(len(self.camera_ids))
        self._thread = threading.Thread(target=self._supervise, name="seat-recognition", daemon=True)
        self._thread.start()
        return self

    def _command(self) -> list[str]:
        if getattr(sys, "frozen", False):  # the bundled console: its own executable takes the command
            return [sys.executable, "seat-recognition"]
        return [sys.executable, str(Path(__file__).resolve().parents[3] / "main.py"), "seat-recognition"]

    def _spawn(self) -> subprocess.Popen:
        a = self.actor
        config = {"location": self.location, "deployment_id": self.deployment_id, "cameras": self.camera_ids,
                  "pack": self.pack, "providers": self.providers, "shm": self.block.name, "worker_id": self.worker_id,
                  "actor": {"user_id": a.user_id, "username": a.username, "role": a.role, "token": a.token}}
        proc = subprocess.Popen(self._command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                close_fds=True)
        proc.stdin.write(json.dumps(config) + "\n")  # the identity goes through the pipe only
        proc.stdin.flush()
        return proc

    def _supervise(self) -> None:
        in_a_row = 0
        while not self._stop.is_set():
            self.state = "starting" if not self.restarts else "restarting"
            try:
                self.proc = proc = self._spawn()
            except OSError as exc:
                self.state, self.detail = "restarting", f"could not start: {exc}"
                self._stop.wait(RESTART_S[-1])
                continue
            reader = threading.Thread(target=self._read, args=(proc,), daemon=True)
            reader.start()
            started = time.monotonic()
            while proc.poll() is None and not self._stop.wait(0.1):
                pass
            if self._stop.is_set():
                return
            code = proc.wait()
            reader.join(1.0)
            _close_pipes(proc)
            if code == 0:
                self.state = "ended"
                return
            if code == REFUSED:
                self.state = "refused"
                return
            in_a_row = 0 if time.monotonic() - started > 60 else in_a_row + 1
            self.exits.append((time.monotonic(), code))
            self.restarts += 1
            self.state = "restarting"
            self.detail = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
            self._stop.wait(RESTART_S[min(in_a_row, len(RESTART_S) - 1)])

    def _read(self, proc: subprocess.Popen) -> None:
        """The process's lines: "ready" once it recognises, "refused: why" before it gives up."""
        for line in proc.stdout:
            line = line.strip()
            if line == "ready" and proc is self.proc:
                self.state = "running"
            elif line.startswith("refused:"):
                self.detail = line[len("refused:"):].strip()

    def problem(self) -> str:
        """What the operator must know about the seat's recognition now ("" while it runs)."""
        if self.state == "restarting":
            return (f"The recognition process stopped ({self.detail}); restarting it (restart {self.restarts}). "
                    "Alerts already raised are kept.")
        if self.state == "refused":
            return f"The recognition process was refused: {self.detail}"
        return ""

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the process to finish (its pipe closes: it writes what it holds and ends), then end it."""
        self._stop.set()
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self._thread is not None:
            self._thread.join(2)
        if self.proc is not None:
            _close_pipes(self.proc)
        self.state = "stopped" if self.state not in ("ended", "refused") else self.state
        if self.block is not None:
            block, self.block = self.block, None
            block.close()


def _close_pipes(proc: subprocess.Popen) -> None:
    for pipe in (proc.stdin, proc.stdout):
        try:
            if pipe is not None:
                pipe.close()
        except OSError:  # a broken pipe to a process that died
            pass
