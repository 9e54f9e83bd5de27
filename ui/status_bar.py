"""What the operator must always see: the deployment, its window, who is signed in, the threshold,
faces analysed, alerts pending, remote workers - and, above the grid, whether recognition is
stopped or ended (and by whom, and why), faults to know of, and whether the console has focus.
Everything here is read from memory; database reads come back from background jobs."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel, QMainWindow

from console import clock

STATUS_KEYS = ("deployment", "window", "user", "threshold", "recognition", "analysis", "faces", "pending", "workers")
# On a narrow screen the bar drops its items in this order, least important first. Never dropped:
# the DEMO/TEST marking (shortened to "DEMO", the rest in its tooltip), the window's time left, the
# user and role, and the threshold (shortened to its value, the false-alert rate in its tooltip).
DROP_ORDER = ("faces", "analysis", "pending", "short:banner", "workers", "deployment", "recognition", "short:threshold")
GRIP_PX = 32  # the size grip and the bar's own margins


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


class _Resized(QObject):
    def __init__(self, parent, then) -> None:
        super().__init__(parent)
        self.then = then

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize:
            self.then()
        return False


class ConsoleStatus:
    def __init__(self, window: QMainWindow) -> None:
        self.banner = QLabel("")  # DEMO
        self.banner.setObjectName("banner")
        self.banner.hide()
        self.labels = {k: QLabel("") for k in STATUS_KEYS}
        self.full = {k: "" for k in (*STATUS_KEYS, "banner")}  # each item's whole text; shown shortened if need be
        self.wanted = {k: True for k in STATUS_KEYS} | {"banner": False}
        self.bar = bar = window.statusBar()
        bar.addWidget(self.banner)
        for key in STATUS_KEYS:
            bar.addWidget(self.labels[key])
        bar.installEventFilter(_Resized(bar, self.fit))
        self.focus_banner = _banner("focus_banner", "CONSOLE NOT IN FOCUS - new alerts may be missed")
        self.oversight_banner = _banner("oversight_banner")  # recognition stopped or ended
        # Faults the operator must know of (alerts waiting for the database, a clock that was
        # set): read from memory each second, never from the database on this thread.
        self.problem_banner = _banner("problem_banner")
        self.problem_banner.setAlignment(Qt.AlignmentFlag.AlignLeft)

    def show_deployment(self, live) -> None:
        dep = live.deployment
        self._set("deployment", dep["name"])
        self.labels["deployment"].setToolTip(f"{dep['location']}\n{dep['rationale']}")
        self._set("user", f"User: {live.operator.username} ({live.operator.role})")
        self.show_threshold(live)
        if dep["is_demo"]:
            self._set("banner", "DEMO - generated video, demo watchlist")
            self.banner.setToolTip(self.full["banner"])
            self.wanted["banner"] = True
        self.show_recognition(live)

    def show_threshold(self, live) -> None:
        """The threshold in force, with the false alerts it lets through at this watchlist's size."""
        op = live.operating_point()
        self._set("threshold", op.short())
        self.labels["threshold"].setToolTip(f"{op.short()}\nModel {live.engine.model_id}\n{op.line()}\n{op.detail()}")

    def show_recognition(self, live, by: str = "") -> None:
        """Running, stopped by a person (who, why) or ended: in the status bar and, unless running,
        across the top of the window on every seat."""
        if live.ended:
            text = f"RECOGNITION ENDED - {live.ended}" + (f" (by {by})" if by and by != "system" else "")
            self._set("recognition", "Recognition ENDED")
        elif live.stopped:
            who = f" by {by}" if by else ""
            text = (f"RECOGNITION STOPPED{who}: {live.stopped}. No camera of this deployment is analysed on any "
                    "seat or worker; only a supervisor can restart it (Ctrl+F12).")
            self._set("recognition", "Recognition STOPPED")
        else:
            # Running is the normal state: the tiles say LIVE; the line stays free for the rest.
            recognises = bool(live.workers or getattr(live, "seat", None))
            self._set("recognition", "" if recognises else "Review seat")
            self.wanted["recognition"] = not recognises
            self.oversight_banner.hide()
            return self.fit()
        self.wanted["recognition"] = True
        self.labels["recognition"].setToolTip(text)
        self.oversight_banner.setText(text)
        self.oversight_banner.show()
        self.fit()

    def refresh(self, live, faces: int, pending_problems: list[str]) -> None:
        self._set("window", window_left(live.deployment["ends_at"]))
        self._set("faces", f"Faces analysed: {faces:,}")
        self.problem_banner.setText("\n".join(pending_problems))
        self.problem_banner.setVisible(bool(pending_problems))
        self.fit()

    def show_analysis(self, live) -> None:
        """Each camera's analysed frame rate, as measured where it is analysed, and - for a seat with
        its own recognition process - that process's state."""
        seat = getattr(live, "seat", None)
        cams = seat.cameras if seat is not None else live.workers
        label = self.labels["analysis"]
        self.wanted["analysis"] = bool(cams)
        if not cams:
            return self.fit()
        rates = " ".join(f"{c.analysed_fps:.0f}" for c in cams)
        if seat is None or seat.running:
            self._set("analysis", f"Analysed: {rates} fps")
        else:
            self._set("analysis", f"Recognition process {seat.state.upper()}")  # why: on the banner and in the tooltip
        names = [c.name for c in live.cameras]
        tip = "\n".join(f"{n}: {c.analysed_fps:.1f} frames analysed per second" for n, c in zip(names, cams, strict=False))
        if seat is not None:
            tip += (f"\nRecognition process {seat.state} (pid {seat.pid}, lower priority), "
                    f"restarted {seat.restarts} time(s)" + (f"; last: {seat.detail}" if seat.detail else ""))
        label.setToolTip(tip)
        self.fit()

    def show_pending(self, n: int) -> None:
        self._set("pending", f"Pending incidents: {n}")
        self.fit()

    def show_workers(self, workers: list[dict]) -> None:
        label = self.labels["workers"]
        if not workers:
            self._set("workers", "")
            return self.fit()
        cams = sum(len(w["cameras"]) for w in workers)
        stopped = sum(w["state"] == "stopped" for w in workers)
        self._set("workers", f"Remote workers: {len(workers)} ({cams} cameras)"
                  + (f", {stopped} stopped" if stopped else ""))
        label.setToolTip("\n".join(
            f"{w['worker_id']} on {w['host']} ({w['state']}): " + ", ".join(
                f"{c['name']} {c['state']} {c['fps']} fps" for c in w["cameras"].values()) for w in workers))
        self.fit()

    # -- fitting the bar to the window -------------------------------------------------------
    def _label(self, key: str) -> QLabel:
        return self.banner if key == "banner" else self.labels[key]

    def _set(self, key: str, text: str) -> None:
        self.full[key] = text
        self._label(key).setText(text)

    def _short(self, key: str) -> str:
        """The shortened form: the marking alone ("DEMO"), the threshold's value alone."""
        return self.full[key].split(" - " if key == "banner" else " · ")[0]

    def _width(self, key: str, text: str) -> int:
        label = self._label(key)
        metrics = label.fontMetrics()
        extra = max(0, label.sizeHint().width() - metrics.horizontalAdvance(label.text()))
        return metrics.horizontalAdvance(text) + extra + 8

    def fit(self) -> None:
        """Show what fits the bar's width: drop the least important items first, then shorten the
        marking and the threshold (their whole text stays in their tooltips)."""
        if self.bar.currentMessage():  # a passing message has the bar; the next second refits it
            return
        room = self.bar.width() - GRIP_PX
        keys = [k for k in ("banner", *STATUS_KEYS) if self.wanted[k]]
        short: set[str] = set()

        def need() -> int:
            return sum(self._width(k, self._short(k) if k in short else self.full[k]) for k in keys)

        for step in DROP_ORDER:
            if need() <= room:
                break
            if step.startswith("short:"):
                short.add(step[6:])
            elif step in keys:
                keys.remove(step)
        for key in ("banner", *STATUS_KEYS):
            label = self._label(key)
            label.setText(self._short(key) if key in short else self.full[key])
            label.setVisible(key in keys)
