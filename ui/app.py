"""Start the console window (or render it offscreen for screenshots)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from ui.qt_env import clear_opencv_qt_overrides, has_display, missing_window_libraries


def create_app():
    clear_opencv_qt_overrides()
    from PySide6.QtWidgets import QApplication

    from ui.theme import STYLESHEET

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Operator Review Console")
    app.setStyleSheet(STYLESHEET)
    return app


class SilentPlayer:
    """For screenshots and benchmarks: counts the sounds instead of playing them."""

    def __init__(self) -> None:
        self.played: list[int] = []

    def play(self, priority: int) -> None:
        self.played.append(priority)


def start_window(args, cameras: int, quiet: bool = False):
    """The main window, shown at once; the deployment opens in the background."""
    from console.services.live import LiveDeployment
    from ui.jobs import JobRunner
    from ui.main_window import MainWindow

    window = MainWindow(player=SilentPlayer() if quiet else None)
    loader = JobRunner(window, threads=1)
    window.loader = loader
    providers = [p.strip() for p in args.providers.split(",") if p.strip()]

    def opened(live: LiveDeployment) -> None:
        window.attach(live)
        live.start()

    loader.submit(lambda: LiveDeployment.open_demo(args.data_dir, cameras, args.model_pack, providers),
                  opened, window.show_error)
    return window


def run_gui(args) -> int:
    missing = missing_window_libraries()
    if missing:
        print("error: a console window needs system libraries that are missing. On Debian/Ubuntu run:\n"
              f"  sudo apt-get install {' '.join(missing)}", file=sys.stderr)
        return 2
    if not has_display():
        print("error: no display found (DISPLAY is not set). Run the console on a desktop session, or set "
              "QT_QPA_PLATFORM=offscreen to run it without a screen.", file=sys.stderr)
        return 2
    app = create_app()
    window = start_window(args, max(1, min(9, args.cameras)))
    window.resize(1600, 900)
    window.show()
    code = app.exec()
    window.shutdown()
    return code


def _wait(app, condition, timeout_s: float) -> bool:
    """Run the event loop until condition() holds or the time is up (a QEventLoop, no sleeps)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    timer = QTimer()
    timer.timeout.connect(lambda: (condition() or time.monotonic() > deadline) and loop.quit())
    timer.start(100)
    loop.exec()
    timer.stop()
    return bool(condition())


def run_screenshot(args) -> int:
    """Render the operator window with the demo deployment, then the adjudication view of its
    first alert, to OUT_DIR/main_window.png and OUT_DIR/adjudication.png."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = create_app()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    window = start_window(args, max(1, min(9, args.cameras)), quiet=True)
    window.resize(1640, 940)
    window.show()
    try:
        ready = _wait(app, lambda: bool(window.alerts.rows) and any(any(f.matched for f in t.faces) for t in window.tiles),
                      120)
        _wait(app, lambda: False, 1.5)  # let the queue fill a little more and ages tick
        path = out_dir / "main_window.png"
        window.grab().save(str(path))
        print(f"wrote {path}{'' if ready else ' (no alert on screen before the time limit)'}")
        if not ready:
            return 1
        window.review.open(window.alerts.rows[0]["id"])
        shown = _wait(app, lambda: window.view.mode == "review" and window.view.detail is not None, 30)
        _wait(app, lambda: False, 0.5)
        path = out_dir / "adjudication.png"
        window.grab().save(str(path))
        print(f"wrote {path}")
        return 0 if shown else 1
    finally:
        window.shutdown()
