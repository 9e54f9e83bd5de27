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


def start_window(args, cameras: int):
    """The main window, shown at once; the deployment opens in the background."""
    from console.services.live import LiveDeployment
    from ui.jobs import JobRunner
    from ui.main_window import MainWindow

    window = MainWindow()
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


def run_screenshot(args) -> int:
    """Render the main window with the demo deployment to OUT_DIR/main_window.png."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer

    app = create_app()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    window = start_window(args, max(1, min(9, args.cameras)))
    window.resize(1600, 900)
    window.show()
    deadline = time.monotonic() + 90
    outcome = {"code": 1}

    def ready() -> bool:
        tile_matched = any(any(f.matched for f in t.faces) for t in window.tiles)
        return bool(window.alerts.rows) and tile_matched

    def check() -> None:
        if ready() or time.monotonic() > deadline:
            path = out_dir / "main_window.png"
            window.grab().save(str(path))
            print(f"wrote {path}{'' if ready() else ' (no alert on screen before the time limit)'}")
            outcome["code"] = 0 if ready() else 1
            app.quit()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(200)
    app.exec()
    timer.stop()
    window.shutdown()
    return outcome["code"]
