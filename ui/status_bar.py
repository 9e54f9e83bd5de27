"""What the operator must always see: the deployment, its window, who is signed in, the threshold,
faces analysed, alerts pending, remote workers - and, above the grid, whether recognition is
stopped or ended (and by whom, and why), faults to know of, and whether the console has focus.
Everything here is read from memory; database reads come back from background jobs."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow

from console import clock

STATUS_KEYS = ("deployment", "window", "user", "threshold", "recognition", "analysis", "faces", "pending", "workers")


def window_left(ends_at: str) -> str:
    left = (datetime.fromisoformat(ends_at.replace("Z", "+00:00")) - clock.now()).total_seconds()
    if left <= 0:
        return "Window ENDED"
    return f"Window: {int(left // 3600)} h {int(left % 3600 // 60):02d} min left"


def _banner(name: str, text: str = "") -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.hide()
    return label


class ConsoleStatus:
    def __init__(self, window: QMainWindow) -> None:
        self.banner = QLabel("")  # DEMO
        self.banner.setObjectName("banner")
        self.banner.hide()
        self.labels = {k: QLabel("") for k in STATUS_KEYS}
        bar = window.statusBar()
        bar.addWidget(self.banner)
        for key in STATUS_KEYS:
            bar.addWidget(self.labels[key])
        self.focus_banner = _banner("focus_banner", "CONSOLE NOT IN FOCUS - new alerts may be missed")
        self.oversight_banner = _banner("oversight_banner")  # recognition stopped or ended
        # Faults the operator must know of (alerts waiting for the database, a clock that was
        # set): read from memory each second, never from the database on this thread.
        self.problem_banner = _banner("problem_banner")
        self.problem_banner.setAlignment(Qt.AlignmentFlag.AlignLeft)

    def show_deployment(self, live) -> None:
        dep = live.deployment
        self.labels["deployment"].setText(dep["name"])
        self.labels["deployment"].setToolTip(f"{dep['location']}\n{dep['rationale']}")
        self.labels["user"].setText(f"User: {live.operator.username} ({live.operator.role})")
        self.show_threshold(live)
        if dep["is_demo"]:
            self.banner.setText("DEMO - generated video, demo watchlist")
            self.banner.show()
        self.show_recognition(live)

    def show_threshold(self, live) -> None:
        """The threshold in force, with the false alerts it lets through at this watchlist's size."""
        op = live.operating_point()
        self.labels["threshold"].setText(op.short())
        self.labels["threshold"].setToolTip(f"Model {live.engine.model_id}\n{op.line()}\n{op.detail()}")

    def show_recognition(self, live, by: str = "") -> None:
        """Running, stopped by a person (who, why) or ended: in the status bar and, unless running,
        across the top of the window on every seat."""
        if live.ended:
            text = f"RECOGNITION ENDED - {live.ended}" + (f" (by {by})" if by and by != "system" else "")
            self.labels["recognition"].setText("Recognition ENDED")
        elif live.stopped:
            who = f" by {by}" if by else ""
            text = (f"RECOGNITION STOPPED{who}: {live.stopped}. No camera of this deployment is analysed on any "
                    "seat or worker; only a supervisor can restart it (Ctrl+F12).")
            self.labels["recognition"].setText("Recognition STOPPED")
        else:
            # Running is the normal state: the tiles say LIVE; the line stays free for the rest.
            recognises = bool(live.workers or getattr(live, "seat", None))
            self.labels["recognition"].setText("" if recognises else "Review seat")
            self.labels["recognition"].setVisible(not recognises)
            self.oversight_banner.hide()
            return
        self.labels["recognition"].show()
        self.labels["recognition"].setToolTip(text)
        self.oversight_banner.setText(text)
        self.oversight_banner.show()

    def refresh(self, live, faces: int, pending_problems: list[str]) -> None:
        self.labels["window"].setText(window_left(live.deployment["ends_at"]))
        self.labels["faces"].setText(f"Faces analysed: {faces:,}")
        self.problem_banner.setText("\n".join(pending_problems))
        self.problem_banner.setVisible(bool(pending_problems))

    def show_analysis(self, live) -> None:
        """Each camera's analysed frame rate, as measured where it is analysed, and - for a seat with
        its own recognition process - that process's state."""
        seat = getattr(live, "seat", None)
        cams = seat.cameras if seat is not None else live.workers
        label = self.labels["analysis"]
        if not cams:
            label.hide()
            return
        rates = " ".join(f"{c.analysed_fps:.0f}" for c in cams)
        if seat is None or seat.running:
            label.setText(f"Analysed: {rates} fps")
        else:
            label.setText(f"Recognition process {seat.state.upper()}")  # why: on the banner and in the tooltip
        names = [c.name for c in live.cameras]
        tip = "\n".join(f"{n}: {c.analysed_fps:.1f} frames analysed per second" for n, c in zip(names, cams, strict=False))
        if seat is not None:
            tip += (f"\nRecognition process {seat.state} (pid {seat.pid}, lower priority), "
                    f"restarted {seat.restarts} time(s)" + (f"; last: {seat.detail}" if seat.detail else ""))
        label.setToolTip(tip)
        label.show()

    def show_pending(self, n: int) -> None:
        self.labels["pending"].setText(f"Pending incidents: {n}")

    def show_workers(self, workers: list[dict]) -> None:
        label = self.labels["workers"]
        if not workers:
            label.setText("")
            return
        cams = sum(len(w["cameras"]) for w in workers)
        stopped = sum(w["state"] == "stopped" for w in workers)
        label.setText(f"Remote workers: {len(workers)} ({cams} cameras)" + (f", {stopped} stopped" if stopped else ""))
        label.setToolTip("\n".join(
            f"{w['worker_id']} on {w['host']} ({w['state']}): " + ", ".join(
                f"{c['name']} {c['state']} {c['fps']} fps" for c in w["cameras"].values()) for w in workers))
