"""Start the console window (or render it offscreen for screenshots)."""

from __future__ import annotations

import sys
import time

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


def start_window(args, cameras: int, quiet: bool = False, login: bool = False):
    """The main window, shown at once; the deployment opens in the background.

    With ``login`` the user signs in first (the database is prepared in the background, then
    the sign-in dialog shows); without it the demo operator is used (tests, screenshots), which is
    the demo, in the demo's own store. ``args.demo`` opens the demo (its sign-in shows the demo
    accounts; no other store does).
    """
    from console.services.accounts import session
    from console.services.runtime.live import LiveDeployment
    from ui.jobs import JobRunner
    from ui.login import DEMO_HINT, LoginDialog
    from ui.main_window import MainWindow

    window = MainWindow(player=SilentPlayer() if quiet else None)
    loader = JobRunner(window, threads=1)
    window.loader = loader
    location = getattr(args, "db", None) or args.data_dir  # a postgresql:// URL, or the SQLite data directory
    window.location = location
    providers = [p.strip() for p in args.providers.split(",") if p.strip()]
    demo = bool(getattr(args, "demo", False)) or not login
    # Recognition in the seat's own process (console/services/runtime/seat_process.py), or as threads here.
    process = getattr(args, "recognition", "threads") == "process"

    def opened(live: LiveDeployment) -> None:
        window.attach(live)
        live.start()

    def open_deployment(actor, idle_minutes: float = 10, chosen: int | None = None) -> None:
        window.enable_idle_lock(actor, idle_minutes * 60)
        window.placeholder.setText(f"Signed in as {actor.username} ({actor.role}). Loading the models and "
                                   "the deployment...")
        dep = chosen if chosen is not None else getattr(args, "open_deployment", None)
        loader.submit(lambda: LiveDeployment.open(location, cameras, args.model_pack, providers, actor,
                                                       dep, demo, process),
                      opened, window.show_error)

    def ask_login(info: dict) -> None:
        command = "operator-review-console" if getattr(sys, "frozen", False) else "python main.py"
        hint = None if info.get("has_administrator") else (
            f"No administrator exists yet: create one with <b>{command} users bootstrap</b>.<br>")
        # The demo accounts are named only in the demo's store, and only while one is left open.
        dialog = LoginDialog(lambda u, p: session.login(location, u, p), window,
                             hint=(hint or "") + (DEMO_HINT if info.get("demo_accounts") else ""))

        def finished(result: int) -> None:
            idle = info.get("idle_lock_minutes", 10)
            named = demo or info.get("demo") or getattr(args, "open_deployment", None) is not None
            if result and dialog.actor is not None and named:
                open_deployment(dialog.actor, idle)  # the demo, or the deployment named: nothing to choose
            elif result and dialog.actor is not None:  # the seat picks its deployment (ui/seat_choice.py)
                from ui.seat_choice import pick

                actor = dialog.actor

                def choose() -> None:  # again after a supervisor set one up here (ui/setup_first.py)
                    from ui import setup_first

                    pick(window, loader, location, actor, lambda dep: open_deployment(actor, idle, dep),
                         lambda text: setup_first.offer(window, loader, location, actor, args.model_pack, providers,
                                                        text, choose))

                choose()
            else:
                window.placeholder.setText("Not signed in. Close the window, or start again to sign in.")

        window.login_dialog = dialog
        dialog.finished.connect(finished)
        dialog.open()  # window-modal, without a nested event loop

    if login:
        loader.submit(lambda: session.prepare(location, demo), ask_login, window.show_error)
    else:
        loader.submit(lambda: LiveDeployment.open(location, cameras, args.model_pack, providers, demo=True,
                                                       process=process),
                      opened, window.show_error)
    return window


def _demo_location(args) -> None:
    """The demo opens in its own data directory unless one is named."""
    if getattr(args, "demo", False) and not args.data_dir and not getattr(args, "db", None):
        from console.services.setup.demo import demo_data_dir

        args.data_dir = demo_data_dir()


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
    _demo_location(args)
    app = create_app()
    cameras = 0 if getattr(args, "review_only", False) else max(1, min(9, args.cameras))
    window = start_window(args, cameras, login=True)
    window.shift.ask_on_close = True  # closing with incidents waiting asks first
    from ui.screen_fit import open_fitted

    open_fitted(window, 1600, 900)  # a smaller screen gets the whole window (it fits 1280x720)
    window.show()
    code = app.exec()
    window.shutdown()
    return code


def wait_until(app, condition, timeout_s: float) -> bool:
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
