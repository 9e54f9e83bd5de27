"""`main.py screenshot`: the console's screens rendered on a throwaway demo of its own, for the
docs and for looking at what was built (the other screens' scripts sit beside this one)."""

from __future__ import annotations

import os
from pathlib import Path

from ui.app import create_app, start_window, wait_until


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
    window.resize(1280, 720)  # the smallest screen it is made for: nothing may be cut (tests/ui/test_screen_sizes.py)
    window.show()
    try:
        ready = wait_until(app, lambda: bool(window.alerts.rows) and any(any(f.matched for f in t.faces) for t in window.tiles),
                      120)
        # Let the queue fill a little more and ages tick; an incident with several sightings is the
        # better picture (its card and its adjudication show them), so wait a while for one.
        only_main = getattr(args, "only_main", False)
        wait_until(app, lambda: any(r.get("sightings", 1) > 1 for r in window.alerts.rows), 0 if only_main else 45)
        wait_until(app, lambda: False, 1.5)
        path = out_dir / "main_window.png"
        window.grab().save(str(path))
        print(f"wrote {path}{'' if ready else ' (no alert on screen before the time limit)'}")
        if not ready or only_main:
            return 0 if ready else 1
        grid = window.grid_host  # 1 up on a chosen camera (the third, when there are three)
        grid.show_one(min(2, len(grid.tiles) - 1))
        wait_until(app, lambda: False, 0.8)
        window.grab().save(str(out_dir / "one_up.png"))
        print(f"wrote {out_dir / 'one_up.png'}")
        grid.toggle_one_up(grid.one_up)
        grouped = [r for r in window.alerts.rows if r.get("sightings", 1) > 1]
        window.review.open((grouped or window.alerts.rows)[0]["id"])
        shown = wait_until(app, lambda: window.view.mode == "review" and window.view.detail is not None, 30)
        wait_until(app, lambda: grid.mini.image is not None, 5)  # the alert's camera, live, beside it
        wait_until(app, lambda: False, 0.5)
        path = out_dir / "adjudication.png"
        window.grab().save(str(path))
        print(f"wrote {path}")
        window.view.toggle_full()  # F: the whole photos
        wait_until(app, lambda: False, 0.3)
        window.grab().save(str(out_dir / "adjudication_whole.png"))
        print(f"wrote {out_dir / 'adjudication_whole.png'}")
        window.view.toggle_full()
        from ui.screenshots.dispatch import shoot_dispatch  # Send to, and the delivery states

        shoot_dispatch(app, window, out_dir, wait_until)
        from ui.login import DEMO_HINT, LoginDialog
        from ui.supervision import SupervisionDialog

        dialog = SupervisionDialog(window.live, window.db_jobs, window)
        dialog.show()
        wait_until(app, lambda: "Threshold in force" in dialog.dep_facts.text(), 20)
        path = out_dir / "supervision.png"
        dialog.grab().save(str(path))
        print(f"wrote {path}")
        dialog.close()
        from ui.screenshots.setup import render_setup

        for path in render_setup(lambda c, t: wait_until(app, c, t), window.live.engine, window.db_jobs, out_dir,
                                  scratch / "setup"):
            print(f"wrote {path}")
        from console.services.accounts import session
        from ui.review import ReviewWindow

        window.live.operator = session.login(window.location, "demo.supervisor", "demo")
        review_window = ReviewWindow(window.live, window.db_jobs, window)
        review_window.resize(1500, 900)
        review_window.show()
        review_window.tabs.setCurrentIndex(1)
        wait_until(app, lambda: "incidents (" in review_window.summary.text(), 20)
        wait_until(app, lambda: False, 0.5)
        path = out_dir / "review_dashboard.png"
        review_window.grab().save(str(path))
        print(f"wrote {path}")
        review_window.tabs.setCurrentIndex(0)
        wait_until(app, lambda: len(review_window.log_model.rows) > 0, 20)
        review_window.log_view.selectRow(0)
        wait_until(app, lambda: review_window.d_history.count() > 0, 20)
        path = out_dir / "review_log.png"
        review_window.grab().save(str(path))
        print(f"wrote {path}")
        review_window.close()
        login = LoginDialog(lambda u, p: None, window, hint=DEMO_HINT)
        login.user.setText("demo.operator")
        login.show()
        wait_until(app, lambda: False, 0.3)
        path = out_dir / "login.png"
        login.grab().save(str(path))
        print(f"wrote {path}")
        login.close()
        from ui.screenshots.seat_choice import render_seat_choice  # two deployments authorised: the seat asks

        print(f"wrote {render_seat_choice(lambda c, t: wait_until(app, c, t), out_dir, scratch / 'seat')}")
        from ui.screenshots.shift import shoot_shift  # escalated band, feedback, correction, hand-over

        shoot_shift(app, window, out_dir, wait_until)
        window.shutdown()  # the record's screens are taken on a copy of the data, once nothing writes to it
        from ui.screenshots import record as record_screens

        return 0 if record_screens.shoot(Path(window.location), out_dir, lambda c, t: wait_until(app, c, t)) and shown else 1
    finally:
        window.shutdown()
