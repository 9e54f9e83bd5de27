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
    first alert, to OUT_DIR/main_window.png and OUT_DIR/adjudication.png (and the other screens).

    It runs on a throwaway demo of its own: a temporary data directory made here and removed at the
    end. The user's data (--data-dir, --db or the default folder) is never opened, so the command
    runs any number of times and leaves nothing behind but the pictures."""
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if getattr(args, "data_dir", None) or getattr(args, "db", None):
        print("note: screenshot renders on a throwaway demo of its own; --data-dir and --db are not used")
    with tempfile.TemporaryDirectory(prefix="orc-screenshot-") as scratch:
        args.data_dir, args.db, args.demo = Path(scratch) / "demo", None, True
        return _shoot(args, Path(scratch))


def _shoot(args, scratch: Path) -> int:
    app = create_app()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    window = start_window(args, max(1, min(9, args.cameras)), quiet=True)
    window.resize(1640, 940)
    window.show()
    try:
        ready = _wait(app, lambda: bool(window.alerts.rows) and any(any(f.matched for f in t.faces) for t in window.tiles),
                      120)
        # Let the queue fill a little more and ages tick; an incident with several sightings is the
        # better picture (its card and its adjudication show them), so wait a while for one.
        only_main = getattr(args, "only_main", False)
        _wait(app, lambda: any(r.get("sightings", 1) > 1 for r in window.alerts.rows), 0 if only_main else 45)
        _wait(app, lambda: False, 1.5)
        path = out_dir / "main_window.png"
        window.grab().save(str(path))
        print(f"wrote {path}{'' if ready else ' (no alert on screen before the time limit)'}")
        if not ready or only_main:
            return 0 if ready else 1
        grid = window.grid_host  # 1 up on a chosen camera (the third, when there are three)
        grid.show_one(min(2, len(grid.tiles) - 1))
        _wait(app, lambda: False, 0.8)
        window.grab().save(str(out_dir / "one_up.png"))
        print(f"wrote {out_dir / 'one_up.png'}")
        grid.toggle_one_up(grid.one_up)
        grouped = [r for r in window.alerts.rows if r.get("sightings", 1) > 1]
        window.review.open((grouped or window.alerts.rows)[0]["id"])
        shown = _wait(app, lambda: window.view.mode == "review" and window.view.detail is not None, 30)
        _wait(app, lambda: grid.mini.image is not None, 5)  # the alert's camera, live, beside it
        _wait(app, lambda: False, 0.5)
        path = out_dir / "adjudication.png"
        window.grab().save(str(path))
        print(f"wrote {path}")
        window.view.toggle_full()  # F: the whole photos
        _wait(app, lambda: False, 0.3)
        window.grab().save(str(out_dir / "adjudication_whole.png"))
        print(f"wrote {out_dir / 'adjudication_whole.png'}")
        window.view.toggle_full()
        from ui.login import DEMO_HINT, LoginDialog
        from ui.supervision import SupervisionDialog

        dialog = SupervisionDialog(window.live, window.db_jobs, window)
        dialog.show()
        _wait(app, lambda: "Threshold in force" in dialog.dep_facts.text(), 20)
        path = out_dir / "supervision.png"
        dialog.grab().save(str(path))
        print(f"wrote {path}")
        dialog.close()
        from ui.screenshots.setup import render_setup

        for path in render_setup(lambda c, t: _wait(app, c, t), window.live.engine, window.db_jobs, out_dir,
                                  scratch / "setup"):
            print(f"wrote {path}")
        from console.services.accounts import session
        from ui.review import ReviewWindow

        window.live.operator = session.login(window.location, "demo.supervisor", "demo")
        review_window = ReviewWindow(window.live, window.db_jobs, window)
        review_window.resize(1500, 900)
        review_window.show()
        review_window.tabs.setCurrentIndex(1)
        _wait(app, lambda: "incidents (" in review_window.summary.text(), 20)
        _wait(app, lambda: False, 0.5)
        path = out_dir / "review_dashboard.png"
        review_window.grab().save(str(path))
        print(f"wrote {path}")
        review_window.tabs.setCurrentIndex(0)
        _wait(app, lambda: len(review_window.log_model.rows) > 0, 20)
        review_window.log_view.selectRow(0)
        _wait(app, lambda: review_window.d_history.count() > 0, 20)
        path = out_dir / "review_log.png"
        review_window.grab().save(str(path))
        print(f"wrote {path}")
        review_window.close()
        login = LoginDialog(lambda u, p: None, window, hint=DEMO_HINT)
        login.user.setText("demo.operator")
        login.show()
        _wait(app, lambda: False, 0.3)
        path = out_dir / "login.png"
        login.grab().save(str(path))
        print(f"wrote {path}")
        login.close()
        from ui.screenshots.seat_choice import render_seat_choice  # two deployments authorised: the seat asks

        print(f"wrote {render_seat_choice(lambda c, t: _wait(app, c, t), out_dir, scratch / 'seat')}")
        from ui.screenshots.shift import shoot_shift  # escalated band, feedback, correction, hand-over

        shoot_shift(app, window, out_dir, _wait)
        window.shutdown()  # the record's screens are taken on a copy of the data, once nothing writes to it
        from ui.screenshots import record as record_screens

        return 0 if record_screens.shoot(Path(window.location), out_dir, lambda c, t: _wait(app, c, t)) and shown else 1
    finally:
        window.shutdown()
