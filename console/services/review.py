"""The operator's review of an alert: open it, decide it, record what happened after.

Every step is one transaction that writes its row and its audit entry together. A decision
records how long it took (from when this user opened the alert), the model, threshold,
score and image hashes at that moment. Nothing is changed afterwards: a correction is a new
decision that references the old one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from console.clock import utcnow
from console.domain import EngagementAction, EngagementResult, RejectReason
from console.errors import ConsoleError, StoreError
from console.exports import ExportError, target_in, write_new
from console.services.auth import Actor
from console.store import Store, audit, repo


class ReviewError(ConsoleError):
    """The review action is not allowed in the alert's present state."""


@dataclass(frozen=True)
class CandidateView:
    rank: int
    entry_id: int
    score: float
    subject_name: str
    record_number: str
    category: str
    legal_basis: str
    reason: str
    image_source: str
    image_date: str
    review_date: str
    image_jpeg: bytes | None

    @property
    def image_age_years(self) -> float | None:
        try:
            taken = date.fromisoformat(self.image_date[:10])
        except ValueError:
            return None
        return (date.today() - taken).days / 365.25


@dataclass(frozen=True)
class AlertDetail:
    alert_id: int
    camera: str
    camera_id: int
    track_id: int
    captured_at: str
    stored_at: str
    score: float
    threshold: float
    model_id: str
    priority: int
    status: str
    escalated_at: str | None
    probe_jpeg: bytes
    context_jpeg: bytes
    bbox: list[float]
    quality: dict
    candidates: list[CandidateView]
    views: list[tuple[str, bytes, float]]
    decisions: list[dict]


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def queue_row(store: Store, actor: Actor, alert_id: int) -> dict:
    """One alert as the queue shows it: with the probe and best candidate thumbnails.

    The queue is the operator's work: role-checked, but not logged row by row (opening an
    alert is what the log records)."""
    actor.require("adjudicate", store)
    return _queue_row(store, alert_id)


def _queue_row(store: Store, alert_id: int) -> dict:
    row = store.one(
        "SELECT a.id, a.score, a.threshold, a.stored_at, a.captured_at, a.status, a.priority, a.escalated_at,"
        " a.first_confirmed_by,"
        " a.probe_jpeg, c.name AS camera, e.subject_name, e.record_number, e.category,"
        " (SELECT i.image_jpeg FROM alert_candidates ac JOIN entry_images i ON i.id = ac.image_id"
        "   WHERE ac.alert_id = a.id AND ac.rank = 1) AS candidate_jpeg"
        " FROM alerts a JOIN cameras c ON c.id = a.camera_id JOIN watchlist_entries e ON e.id = a.entry_id"
        " WHERE a.id = ?", (alert_id,))
    return dict(row) if row else {}


def queue_rows(store: Store, actor: Actor, deployment_id: int) -> list[dict]:
    actor.require("adjudicate", store)
    return [_queue_row(store, int(r["id"])) for r in repo.pending_alerts(store, deployment_id)]


def alert_detail(store: Store, actor: Actor, alert_id: int, where: str) -> AlertDetail:
    """An alert's images and record for someone looking back at it (not deciding it); every
    viewing is logged with where it happened (e.g. "decision log")."""
    actor.require("view_decisions", store)
    detail = _read_detail(store, alert_id)
    audit.append(store, actor.username, "alert.viewed", "alert", alert_id, {"where": where})
    return detail


def _read_detail(store: Store, alert_id: int) -> AlertDetail:
    a = store.one("SELECT a.*, c.name AS camera FROM alerts a JOIN cameras c ON c.id = a.camera_id WHERE a.id = ?",
                  (alert_id,))
    if a is None:
        raise ReviewError(f"alert {alert_id} does not exist")
    cands = store.query(
        "SELECT ac.rank, ac.entry_id, ac.score, e.subject_name, e.record_number, e.category, e.legal_basis, e.reason,"
        " e.image_source, e.image_date, e.review_date, i.image_jpeg FROM alert_candidates ac"
        " JOIN watchlist_entries e ON e.id = ac.entry_id LEFT JOIN entry_images i ON i.id = ac.image_id"
        " WHERE ac.alert_id = ? ORDER BY ac.rank", (alert_id,))
    views = store.query("SELECT captured_at, jpeg, score FROM alert_views WHERE alert_id = ? ORDER BY captured_at",
                        (alert_id,))
    decisions = store.query(
        "SELECT d.id, d.decision, d.reason_code, d.reason, d.decided_at, d.duration_ms, d.supersedes, u.username"
        " FROM decisions d JOIN users u ON u.id = d.user_id WHERE d.alert_id = ? ORDER BY d.id", (alert_id,))
    return AlertDetail(
        alert_id=int(a["id"]), camera=a["camera"], camera_id=int(a["camera_id"]), track_id=int(a["track_id"]),
        captured_at=a["captured_at"], stored_at=a["stored_at"], score=float(a["score"]),
        threshold=float(a["threshold"]), model_id=a["model_id"], priority=int(a["priority"]), status=a["status"],
        escalated_at=a["escalated_at"], probe_jpeg=a["probe_jpeg"], context_jpeg=a["context_jpeg"],
        bbox=json.loads(a["bbox_json"]), quality=json.loads(a["quality_json"]),
        candidates=[CandidateView(int(c["rank"]), int(c["entry_id"]), float(c["score"]), c["subject_name"],
                                  c["record_number"], c["category"], c["legal_basis"], c["reason"], c["image_source"],
                                  c["image_date"], c["review_date"], c["image_jpeg"]) for c in cands],
        views=[(v["captured_at"], v["jpeg"], float(v["score"])) for v in views],
        decisions=[dict(d) for d in decisions],
    )


CLAIM_LEASE_S = 60


def _lease_end(seconds: float) -> str:
    from datetime import timedelta

    return (_parse(utcnow()) + timedelta(seconds=seconds)).isoformat(timespec="microseconds").replace("+00:00", "Z")


def claim(store: Store, actor: Actor, alert_id: int, lease_s: float = CLAIM_LEASE_S) -> None:
    """Take (or renew) the alert for this reviewer. Refused while another's lease runs; a lease
    lapses by itself when its console stops renewing it (a crashed seat frees its alerts)."""
    actor.require("adjudicate", store)
    with store.transaction() as conn:
        cur = conn.execute(
            "UPDATE alerts SET claimed_by = ?, claim_expires = ? WHERE id = ? AND status = 'pending' AND"
            " (claimed_by IS NULL OR claimed_by = ? OR claim_expires < ?)",
            (actor.user_id, _lease_end(lease_s), alert_id, actor.user_id, utcnow()))
        if cur.rowcount != 1:
            row = conn.execute("SELECT a.status, u.username, a.claim_expires FROM alerts a LEFT JOIN users u"
                               " ON u.id = a.claimed_by WHERE a.id = ?", (alert_id,)).fetchone()
            if row is None:
                raise ReviewError(f"alert {alert_id} does not exist")
            if row["status"] != "pending":
                raise ReviewError(f"alert {alert_id} is already decided")
            raise ReviewError(f"alert {alert_id} is being reviewed by {row['username']} (until {row['claim_expires']})")


def release(store: Store, actor: Actor, alert_id: int) -> None:
    with store.transaction() as conn:
        conn.execute("UPDATE alerts SET claimed_by = NULL, claim_expires = NULL WHERE id = ? AND claimed_by = ?",
                     (alert_id, actor.user_id))


def open_alert(store: Store, actor: Actor, alert_id: int) -> AlertDetail:
    """Show an alert to a reviewer, claiming it while it is pending; the opening is logged."""
    actor.require("adjudicate", store)
    detail = _read_detail(store, alert_id)  # the "opened" event below is its log entry
    if detail.status == "pending":
        claim(store, actor, alert_id)
    repo.add_alert_event(store, alert_id, actor.user_id, "opened", actor.username)
    return detail


def _pending(store: Store, actor: Actor, alert_id: int):
    alert = store.one("SELECT a.status, a.escalated_at, a.claimed_by, a.claim_expires, u.username FROM alerts a"
                      " LEFT JOIN users u ON u.id = a.claimed_by WHERE a.id = ?", (alert_id,))
    if alert is None:
        raise ReviewError(f"alert {alert_id} does not exist")
    if alert["status"] != "pending":
        raise ReviewError(f"alert {alert_id} is already decided; record a correction instead")
    if (alert["claimed_by"] is not None and alert["claimed_by"] != actor.user_id
            and alert["claim_expires"] and alert["claim_expires"] > utcnow()):
        raise ReviewError(f"alert {alert_id} is being reviewed by {alert['username']}")
    if alert["escalated_at"] and actor.role != "supervisor":
        raise ReviewError(f"alert {alert_id} was escalated: a supervisor decides it")
    return alert


def _duration_ms(store: Store, actor: Actor, alert_id: int) -> int | None:
    opened = store.one("SELECT at FROM alert_events WHERE alert_id = ? AND user_id = ? AND event = 'opened'"
                       " ORDER BY id DESC LIMIT 1", (alert_id, actor.user_id))
    if opened is None:
        return None
    return int((_parse(utcnow()) - _parse(opened["at"])).total_seconds() * 1000)


def needs_second_confirmation(store: Store, alert_id: int) -> bool:
    row = store.one("SELECT d.two_person_rule FROM alerts a JOIN deployments d ON d.id = a.deployment_id"
                    " WHERE a.id = ?", (alert_id,))
    return bool(row and row["two_person_rule"])


def confirm(store: Store, actor: Actor, alert_id: int, note: str = "") -> int | None:
    """A true alert: the reviewer judges probe and candidate to be the same person.

    Under the two-person rule the first confirm is recorded as such (returns None) and the
    alert is passed to engagement only when a second, different user confirms it.
    """
    actor.require("adjudicate", store)
    with store.transaction() as conn:
        _pending(store, actor, alert_id)
        if needs_second_confirmation(store, alert_id):
            first = conn.execute("SELECT first_confirmed_by FROM alerts WHERE id = ?", (alert_id,)).fetchone()[0]
            if first is None:
                conn.execute("UPDATE alerts SET first_confirmed_by = ? WHERE id = ?", (actor.user_id, alert_id))
                audit.append(store, actor.username, "decision.first_confirmation", "alert", alert_id,
                             {"user_id": actor.user_id, "note": note})
                return None
            if first == actor.user_id:
                raise ReviewError("the two-person rule applies: a second, different user must confirm this alert")
            note = f"second confirmation (first by user {first}). {note}".strip()
        return repo.record_decision(store, alert_id, actor.user_id, "true_alert", note, actor.username,
                                    reason_code="same_person", duration_ms=_duration_ms(store, actor, alert_id))


def reject(store: Store, actor: Actor, alert_id: int, reason_code: str, note: str = "") -> int:
    """A false alert, with one of the fixed reasons. 'different_person' also suppresses
    further alerts for that track and subject."""
    actor.require("adjudicate", store)
    if reason_code not in RejectReason.codes():
        raise ReviewError(f"a rejection needs a reason, one of: {', '.join(RejectReason.codes())}")
    with store.transaction():
        _pending(store, actor, alert_id)
        decision_id = repo.record_decision(store, alert_id, actor.user_id, "false_alert",
                                           note or RejectReason(reason_code).label, actor.username,
                                           reason_code=reason_code, duration_ms=_duration_ms(store, actor, alert_id))
        if reason_code == "different_person":
            repo.add_suppression(store, alert_id, decision_id, actor.username)
    return decision_id


def escalate(store: Store, actor: Actor, alert_id: int, note: str = "") -> None:
    actor.require("adjudicate", store)
    with store.transaction():
        _pending(store, actor, alert_id)
        repo.add_alert_event(store, alert_id, actor.user_id, "escalated", actor.username, {"note": note})


def blur_bystanders(context_jpeg: bytes, bbox: list[float], engine) -> tuple[bytes, int]:
    """The context frame with every face but the alerted one made unrecognisable. Raises
    ExportError when that cannot be done (a frame that does not decode, a detector that fails):
    the caller must not then let the frame leave unblurred."""
    import cv2
    import numpy as np

    from console.pipeline.recognizer import encode_jpeg
    from console.pipeline.tracker import iou

    frame = cv2.imdecode(np.frombuffer(context_jpeg, np.uint8), cv2.IMREAD_COLOR)
    if frame is None or frame.ndim != 3 or frame.shape[2] != 3:
        raise ExportError("the context frame cannot be read as an image, so bystanders' faces in it cannot be"
                          " blurred; nothing was exported")
    target = np.array([bbox], dtype=np.float32)
    blurred = 0
    try:
        faces = engine.detect(frame)
    except (ConsoleError, ValueError, RuntimeError, cv2.error) as exc:
        raise ExportError(f"bystanders' faces could not be blurred: the face detector failed ({exc});"
                          " nothing was exported") from exc
    for det in faces:
        if iou(np.array([det.box]), target)[0, 0] >= 0.3:
            continue
        x1, y1, x2, y2 = (int(v) for v in det.box)
        pad = int(0.25 * max(x2 - x1, y2 - y1))
        x1, y1 = max(0, x1 - pad), max(0, y1 - pad)
        x2, y2 = min(frame.shape[1], x2 + pad), min(frame.shape[0], y2 + pad)
        region = frame[y1:y2, x1:x2]
        # A flat ellipse of the region's own mean colour over a heavy blur: nothing of the face
        # survives (a detector finds no face there afterwards), the scene still reads.
        region[:] = cv2.GaussianBlur(region, (0, 0), max(4.0, (x2 - x1) / 6))
        mean = tuple(int(c) for c in region.reshape(-1, 3).mean(axis=0))
        cv2.ellipse(region, ((x2 - x1) // 2, (y2 - y1) // 2), ((x2 - x1) // 2, (y2 - y1) // 2), 0, 0, 360, mean, -1)
        blurred += 1
    return encode_jpeg(frame, 90), blurred


def export_alert(store: Store, actor: Actor, alert_id: int, out_dir, engine=None) -> list:
    """The alert's images and record as files, for a case file; the export is logged.

    Bystanders' faces in the context frame are always blurred first (exports leave the console;
    people who raised no alert should not leave with them): with ``engine``, or else with the
    bundled detector, loaded for the export. A frame that cannot be blurred is not exported
    unblurred: the export is refused whole and nothing is written.
    """
    from pathlib import Path

    actor.require("export_alert", store)
    detail = _read_detail(store, alert_id)
    context, blurred = detail.context_jpeg, 0
    if context:  # a purged alert has none
        if engine is None:
            from console.vision.engine import load_engine

            try:
                engine = load_engine()
            except (ConsoleError, OSError, RuntimeError) as exc:
                raise ExportError(f"bystanders' faces could not be blurred: the face detector did not load"
                                  f" ({exc}); nothing was exported") from exc
        context, blurred = blur_bystanders(context, detail.bbox, engine)
    out = Path(out_dir).expanduser()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the export folder {out}: {exc.strerror or exc}") from exc
    record = {"alert_id": alert_id, "camera": detail.camera, "captured_at": detail.captured_at,
              "score": detail.score, "threshold": detail.threshold, "model_id": detail.model_id,
              "candidates": [{"rank": c.rank, "record_number": c.record_number, "score": c.score}
                             for c in detail.candidates], "decisions": detail.decisions}
    files = [(f"alert-{alert_id}-{name}", data) for name, data in
             (("probe.jpg", detail.probe_jpeg), ("context.jpg", context)) if data]
    files.append((f"alert-{alert_id}.json", json.dumps(record, indent=2, default=str).encode()))
    targets = [target_in(out, name) for name, _ in files]  # all refused before any is written
    written = []
    try:
        for target, (_, data) in zip(targets, files, strict=True):
            written.append(write_new(target, data))
    except ExportError:
        for path in written:  # a case file is whole or absent
            path.unlink(missing_ok=True)
        raise
    try:
        audit.append(store, actor.username, "alert.exported", "alert", alert_id,
                     {"files": [p.name for p in written], "to": str(out), "bystanders_blurred": blurred,
                      "blurring": bool(context)})
    except BaseException:
        for path in written:  # an export the log does not hold does not leave the console
            path.unlink(missing_ok=True)
        raise
    return written


def return_to_queue(store: Store, actor: Actor, alert_id: int) -> None:
    """Put an opened alert back, undecided and unclaimed (logged, so a supervisor can see who looked)."""
    actor.require("adjudicate", store)
    release(store, actor, alert_id)
    repo.add_alert_event(store, alert_id, actor.user_id, "returned", actor.username)


def record_outcome(store: Store, actor: Actor, alert_id: int, result: str, action: str, note: str = "") -> int:
    """What happened at engagement, for a confirmed alert."""
    actor.require("record_engagement", store)
    if result not in EngagementResult.codes():
        raise ReviewError(f"unknown engagement result {result!r}; use one of {', '.join(EngagementResult.codes())}")
    if action not in EngagementAction.codes():
        raise ReviewError(f"unknown action {action!r}; use one of {', '.join(EngagementAction.codes())}")
    if action == "other" and not note.strip():
        raise ReviewError("an outcome of 'other' needs a note saying what was done")
    latest = store.one("SELECT decision FROM decisions WHERE alert_id = ? ORDER BY id DESC LIMIT 1", (alert_id,))
    if latest is None or latest["decision"] != "true_alert":
        raise ReviewError(f"alert {alert_id} was not confirmed: there is no engagement to record")
    return repo.record_engagement(store, alert_id, actor.user_id, result, action, note, actor.username)


def correct_decision(store: Store, actor: Actor, decision_id: int, decision: str, reason_code: str,
                     note: str) -> int:
    """A new decision that supersedes an earlier one; the old one stays as it was."""
    actor.require("adjudicate", store)
    if not note.strip():
        raise ReviewError("a correction needs a note saying why")
    old = store.one("SELECT alert_id FROM decisions WHERE id = ?", (decision_id,))
    if old is None:
        raise StoreError(f"decision {decision_id} does not exist")
    if decision == "false_alert" and reason_code not in RejectReason.codes():
        raise ReviewError(f"a rejection needs a reason, one of: {', '.join(RejectReason.codes())}")
    return repo.record_decision(store, int(old["alert_id"]), actor.user_id, decision, note, actor.username,
                                supersedes=decision_id, reason_code=reason_code if decision == "false_alert" else "")
