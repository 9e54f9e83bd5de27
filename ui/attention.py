"""Getting the operator's attention without wearing them out.

A new alert plays its priority's sound, repeated until the operator acknowledges it (opens
it, or presses A): every 5 s for priority 1, every 20 s for priority 2, by default. Muting
is a logged, deliberate choice in the toolbar, not a setting that is forgotten.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from console.paths import resources_dir

REPEAT_S = {1: 5.0, 2: 20.0}


class SoundPlayer:
    """Plays the WAV of a priority without blocking: winsound on Windows, else the first of
    paplay, aplay or afplay found; the system beep when none is."""

    def __init__(self) -> None:
        self.command = next((c for c in ("paplay", "aplay", "afplay") if shutil.which(c)), None)

    def play(self, priority: int) -> None:
        path = resources_dir() / "sounds" / f"alert-priority{1 if priority == 1 else 2}.wav"
        if sys.platform == "win32":
            import winsound

            winsound.PlaySound(str(path), winsound.SND_FILENAME | winsound.SND_ASYNC)
        elif self.command and path.exists():
            args = [self.command, "-q", str(path)] if self.command == "aplay" else [self.command, str(path)]
            subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=dict(os.environ))
        else:
            QApplication.beep()


class AttentionController(QObject):
    def __init__(self, pending: Callable[[], list[dict]], player=None, parent=None, tick_ms: int = 1000) -> None:
        super().__init__(parent)
        self.pending = pending  # unacknowledged alerts
        self.player = player or SoundPlayer()
        self.muted = False
        self.repeat_s = dict(REPEAT_S)
        self._elapsed = 0.0
        self._last_played: dict[int, float] = {}
        self.timer = QTimer(self)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self._tick)
        self.tick_s = tick_ms / 1000.0

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def new_alert(self, alert_id: int, priority: int) -> None:
        self._last_played[alert_id] = self._elapsed
        if not self.muted:
            self.player.play(priority)

    def _tick(self) -> None:
        self._elapsed += self.tick_s
        waiting = self.pending()
        if not waiting or self.muted:
            return
        top = min(waiting, key=lambda r: r.get("priority", 2))
        priority = top.get("priority", 2)
        last = max((self._last_played.get(r["id"], -1e9) for r in waiting), default=-1e9)
        if self._elapsed - last >= self.repeat_s.get(priority, 20.0):
            for r in waiting:
                self._last_played[r["id"]] = self._elapsed
            self.player.play(priority)
