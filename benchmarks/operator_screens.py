"""The Review window's Operators tab, photographed for the docs: docs/operator_figures.png.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.operator_screens [--out docs]

It runs on a throwaway store of its own (a temporary folder, removed after) with scripted work:
three operators sign in and decide alerts (one confirms everything), and a supervisor gives a
sample of their decisions a blind second look. Nothing here is a real person or a real face.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from console import clock
from console.services.accounts import auth
from console.services.accuracy import known_answer, operators
from console.services.decisions import adjudication
from console.services.record import reports
from console.store import open_store, repo

START = 1_767_254_400.0  # 2026-01-01T08:00:00Z
PASSWORD = "an illustrative long passphrase"
# operator -> (decisions, share confirmed, share of blind looks that agree)
SCRIPT = {"op.ada": (40, 1.0, 0.45), "op.ben": (36, 0.5, 0.95), "op.cy": (12, 0.4, 1.0)}


def _proficiency_set(store, sup_id: int) -> None:
    """Six scripted pairs, three mated (images are not shown on this tab)."""
    import json

    from console.store import audit, ledger
    from console.store import known_answer as ka_db

    with store.transaction() as conn:
        set_id = ka_db.insert_set(conn, "scripted set", "m", "0" * 64, sup_id, clock.utcnow())
        ids = [ka_db.insert_item(conn, set_id, m, not m, "p1", "p1" if m else "p2", b"p", b"c", json.dumps([0, 0, 1, 1]),
                                 "{}", b"j", np.ones(128, np.float32).tobytes(), 128, 0.5 if m else 0.38)
               for m in (True, False, True, False, True, False)]
        audit.append(store, "sup.dee", "known_answer.set_loaded", "store", "",
                     {"rows": ledger.merged(ledger.of(conn, "proficiency_sets", id=set_id),
                                            ledger.of(conn, "proficiency_items", id=ids))})


def build(store) -> int:
    """The scripted deployment; its id. The console's clock is moved along as the work is done."""
    now = [START]
    clock._wall = lambda: now[0]
    rng = random.Random(7)
    hashed = auth.hash_password(PASSWORD)
    sup_id = repo.create_user(store, "sup.dee", "Supervisor", "supervisor", password_hash=hashed)
    dep = repo.create_deployment(store, repo.DeploymentSpec("High Street (illustration)", "High Street", "scripted",
                                                            "2026-01-01T07:00:00Z", "2026-01-01T19:00:00Z", 0.4,
                                                            0.363, "m", incident_window_s=0), sup_id, "sup.dee")
    repo.activate_deployment(store, dep, "sup.dee")
    cam = repo.add_camera(store, dep, "Cam 1", "demo:0", "sup.dee")
    wl = repo.create_watchlist(store, dep, "WL", "sup.dee")
    entry = repo.add_entry(store, wl, repo.EntrySpec("R-1", "P", "missing_person", "b", "r", "s", "2025-01-01",
                                                     "2099-01-01"), sup_id, "sup.dee")
    image = repo.add_entry_image(store, entry, b"j", np.ones(128, np.float32), "m", {}, "sup.dee")
    agree_share, decided, track = {}, {}, 0
    _proficiency_set(store, sup_id)
    known_answer.configure(store, auth.actor_for(store, "sup.dee"), dep, True, every=5, reason="measure the operators")
    for name, (count, confirm_share, agree) in SCRIPT.items():
        repo.create_user(store, name, name, "operator", password_hash=hashed)
        now[0] = START + rng.uniform(0, 600)
        op = auth.login(store, name, PASSWORD)
        for i in range(count):
            track += 1
            alert_id = repo.insert_alert(store, repo.AlertRecord(dep, cam, track, [(entry, image, 0.5)], 0.4, "m",
                                                                 [0, 0, 1, 1], {}, b"p", b"c", clock.utcnow()))
            adjudication.open_alert(store, op, alert_id)
            now[0] += rng.uniform(3, 9) * (1 + i / count)  # slower as the shift goes on
            if rng.random() < confirm_share:
                adjudication.confirm(store, op, alert_id)
                decided[alert_id] = "true_alert"
            else:
                adjudication.reject(store, op, alert_id, "different_person")
                decided[alert_id] = "false_alert"
            agree_share[alert_id] = agree
            now[0] += 4 * 3600 / count
            if i % 4 == 3:  # a known-answer test now and then, decided the way this operator decides
                test = known_answer.inject(store, dep, rng)
                adjudication.open_alert(store, op, test)
                now[0] += rng.uniform(3, 9)
                if rng.random() < confirm_share:
                    adjudication.confirm(store, op, test)
                else:
                    adjudication.reject(store, op, test, "different_person")
    sup = auth.login(store, "sup.dee", PASSWORD)
    sample = reports.draw_sample(store, sup, dep, 60, seed=3)
    for row in reports.blind_view(store, sup, sample):
        alert_id = row["alert_id"]
        decision = decided[alert_id]
        other = "false_alert" if decision == "true_alert" else "true_alert"
        reports.blind_decide(store, sup, sample, alert_id, decision if rng.random() < agree_share[alert_id] else other)
    operators.record_action(store, sup, dep, "op.ada", "Talked through the look-alike cases; their alerts go to a "
                                                        "second operator until the next blind sample.")
    return dep


def shoot(out: Path) -> Path:
    from PySide6.QtWidgets import QApplication

    from ui.app import create_app, wait_until
    from ui.jobs import JobRunner
    from ui.review import ReviewWindow

    app = QApplication.instance() or create_app()
    out.mkdir(parents=True, exist_ok=True)
    target = out / "operator_figures.png"
    wall = clock._wall
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "data")
        try:
            dep = build(store)
            live = SimpleNamespace(store=store, deployment_id=dep, deployment=repo.get_deployment(store, dep),
                                   operator=auth.actor_for(store, "sup.dee"), path=store.path)
            jobs = JobRunner(threads=1)
            win = ReviewWindow(live, jobs)
            win.resize(1400, 760)
            win.show()
            win.tabs.setCurrentWidget(win.operators)
            wait_until(app, lambda: len(win.operators.model.rows) == len(SCRIPT), 20)
            wait_until(app, lambda: "second operator" in win.operators.actions.text(), 5)
            win.grab().save(str(target))
            win.close()
            jobs.wait(5000)
        finally:
            clock._wall = wall
            store.close()
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    print(f"wrote {shoot(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
