"""``selftest``: load the models, run the whole pipeline on the demo feed, let a scripted operator
decide the demo alerts through the same services the window uses, and verify the record.

It works on its own demo deployment in the store it is given and says what it did, line by line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from console.feeds.demo import FPS, DemoScene
from console.services.accounts.auth import actor_for
from console.services.decisions import adjudication
from console.services.decisions.adjudicate import adjudicate
from console.services.runtime import recognition
from console.services.setup import deployments
from console.services.setup.demo import DEMO_OPERATOR, ensure_demo_deployment
from console.store import Store, repo
from console.store.audit import verify_chain, verify_records
from console.vision.engine import FaceEngine


def run_selftest(store: Store, engine: FaceEngine, seconds: float, say: Callable[[str], None] = print,
                 witnesses: list[Path] | tuple[Path, ...] = ()) -> list[str]:
    """The problems found (none: passed). With ``witnesses``, a signed checkpoint of the log is
    left in each of those folders (and this data directory's own witness folder)."""
    say(f"database: {store.path} (schema version {store.schema_version}, WAL, synchronous=FULL)")
    dep_id = ensure_demo_deployment(store, engine)
    operator = actor_for(store, DEMO_OPERATOR)
    deployments.start(store, operator, dep_id)  # inside its authorised window only
    camera_id = int(repo.cameras(store, dep_id)[0]["id"])
    recognizer = recognition.recognizer_for_camera(store, engine, dep_id, camera_id)
    say(f"demo deployment {dep_id}: watchlist of {len(recognizer.subject_names)} subjects, "
        f"{len(recognizer.gallery)} enrolled images")
    scene = DemoScene(0)
    base = time.time()
    alert_ids: list[int] = []
    analysed = 0
    t1 = time.perf_counter()
    for index in range(0, int(seconds * FPS), 2):  # every 2nd frame: 12.5 analysed frames per demo second
        result = recognizer.process(scene.frame(index), base + index / FPS, index)
        alert_ids.extend(result.alert_ids)
        analysed += 1
    elapsed = time.perf_counter() - t1
    embedded, gated, best = recognizer.stats.take()
    repo.add_face_stats(store, dep_id, camera_id, embedded, gated, best)
    say(f"pipeline: {analysed} frames in {elapsed:.1f} s ({analysed / elapsed:.1f} fps), {embedded} faces "
        f"embedded, {gated} below the quality gate, {len(alert_ids)} alerts")
    confirmed = rejected = 0
    alerted_subjects = set()
    for row in adjudication.queue_rows(store, operator, dep_id):
        alert_id = int(row["id"])
        # The scripted operator knows the demo's truth: only DEMO- records walk through it.
        truth = row["record_number"].startswith("DEMO-") and row["score"] >= 0.5
        adjudication.open_alert(store, operator, alert_id)
        adjudicate(store, operator, alert_id, "true_alert" if truth else "false_alert",
                   "" if truth else "different_person", "scripted operator")
        confirmed, rejected = confirmed + truth, rejected + (not truth)
        if truth:
            alerted_subjects.add(row["record_number"])
    left = len(adjudication.queue_rows(store, operator, dep_id))
    say(f"scripted operator: {confirmed} confirmed, {rejected} rejected, {left} left pending")
    held = repo.biometric_counts(store)
    say(f"biometric data stored: {held['enrolled']} enrolment images, {held['alerts']} alert crops; nothing of faces "
        "that raised no alert")
    report = verify_chain(store)
    say(report.summary())
    problems = verify_records(store)
    say(f"records against the log: {'; '.join(problems) or 'all match'}")
    names = recognizer.subject_names
    if len(alerted_subjects) < len(names):
        problems.append(f"only {len(alerted_subjects)} of {len(names)} demo subjects were confirmed")
    if not report.ok:
        problems.append("audit chain broken")
    if witnesses and report.ok:
        from console.services.record.audit_trail import make_checkpoint

        cp = make_checkpoint(store, witnesses, reason="selftest")
        say(f"signed checkpoint: {cp.size} entries, root {cp.root[:16]}..., key {cp.key_fingerprint[:23]}... "
            f"left in {', '.join(map(str, witnesses))}")
        problems.extend(f"no checkpoint could be left in {w}" for w in witnesses
                        if not (Path(w) / cp.file_name()).is_file())
    return problems
