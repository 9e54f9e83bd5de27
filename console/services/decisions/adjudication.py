"""The operator's adjudication of an alert: open it, decide it, record what happened after.
("Review" in this project is the supervisor's look back over decisions: console/services/record/.)

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
from console.errors import ConsoleError
from console.redaction import redact
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.services.decisions import mqtt_out, outbound
from console.store import Store, audit, known_answer, repo
from console.store import decisions as db


class DecisionError(ConsoleError):
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
    face_box: list[float] | None = None  # the face in image_jpeg (x1, y1, x2, y2), where enrolment recorded it

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
    incident_id: int = 0
    sightings: tuple[dict, ...] = ()  # every sighting of the incident, best first (id, camera, captured_at, score)
    # A second confirmation under the two-person rule is blind: no score (nor the first decision) is
    # shown to the second reviewer until they have decided. Scores are then None.
    blind: bool = False

    @property
    def sighting_index(self) -> int:
        return next((i for i, s in enumerate(self.sightings) if s["id"] == self.alert_id), 0)


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def queue_row(store: Store, actor: Actor, alert_id: int) -> dict:
    """The queue card of the incident this alert belongs to: its best pending sighting with the probe
    and best candidate thumbnails, how many sightings on how many cameras, and since when it waits.

    The queue is the operator's work: role-checked, but not logged row by row (opening an
    alert is what the log records)."""
    actor.require(Permission.ADJUDICATE, store)
    incident = repo.incident_of(store, alert_id)
    card = next((c for c in repo.pending_incidents(store, _deployment_of(store, alert_id))
                 if c["incident_id"] == incident), None) if incident is not None else None
    return _for(actor, _queue_row(store, card["id"], card) if card else _queue_row(store, alert_id))


def _for(actor: Actor, row: dict) -> dict:
    """A card as this reviewer may see it: blind (no score, no first decision) to a second reviewer
    under the two-person rule; none at all ({}) to an operator once escalated (a supervisor's now)."""
    if row and row.get("escalated_at") and not actor.may(Permission.DECIDE_ESCALATED):
        return {}
    if row and row.get("status") == "pending" and row.get("first_confirmed_by") not in (None, actor.user_id):
        return {**row, "score": None, "first_confirmed_by": None, "blind": True}
    return row


def _deployment_of(store: Store, alert_id: int) -> int:
    row = db.deployment_of_alert(store, alert_id)
    return int(row["deployment_id"]) if row else -1


def _queue_row(store: Store, alert_id: int, card: dict | None = None) -> dict:
    """``stored_at`` is when the incident's first sighting came (the card waits since then)."""
    row = db.queue_card(store, alert_id)
    if row is None:
        return {}
    out = {**dict(row), "sightings": 1, "cameras": 1, "sighting_ids": [int(row["id"])]}
    if card:
        ids = db.pending_sighting_ids(store, card["incident_id"])
        out.update(stored_at=card["since"], sightings=int(card["sightings"]), cameras=int(card["cameras"]),
                   priority=int(card["priority"]), sighting_ids=[int(r["id"]) for r in ids])
    return out


def queue_rows(store: Store, actor: Actor, deployment_id: int) -> list[dict]:
    """One card per pending incident: priority first, then the longest-waiting."""
    actor.require(Permission.ADJUDICATE, store)
    rows = [_for(actor, _queue_row(store, c["id"], c)) for c in repo.pending_incidents(store, deployment_id)]
    return [r for r in rows if r]


def alert_detail(store: Store, actor: Actor, alert_id: int, where: str) -> AlertDetail:
    """An alert's images and record for someone looking back at it (not deciding it); every
    viewing is logged with where it happened (e.g. "decision log")."""
    actor.require(Permission.VIEW_DECISIONS, store)
    detail = _read_detail(store, alert_id)
    audit.append(store, actor.username, "alert.viewed", "alert", alert_id, {"where": where})
    return detail


def _read_detail(store: Store, alert_id: int) -> AlertDetail:
    a = db.alert_with_camera(store, alert_id)
    if a is None:
        raise DecisionError(f"alert {alert_id} does not exist")
    cands = db.candidates_shown(store, alert_id)
    views = db.views_of(store, alert_id)
    decisions = db.decisions_of(store, alert_id)
    return AlertDetail(
        alert_id=int(a["id"]), camera=redact(a["camera"]), camera_id=int(a["camera_id"]), track_id=int(a["track_id"]),
        captured_at=a["captured_at"], stored_at=a["stored_at"], score=float(a["score"]),
        threshold=float(a["threshold"]), model_id=a["model_id"], priority=int(a["priority"]), status=a["status"],
        escalated_at=a["escalated_at"], probe_jpeg=a["probe_jpeg"],
        context_jpeg=a["context_after"] or a["context_jpeg"],
        bbox=json.loads(a["bbox_json"]), quality=json.loads(a["quality_json"]),
        candidates=[CandidateView(int(c["rank"]), int(c["entry_id"]), float(c["score"]), c["subject_name"],
                                  c["record_number"], c["category"], c["legal_basis"], c["reason"], redact(c["image_source"]),
                                  c["image_date"], c["review_date"], c["image_jpeg"],
                                  json.loads(c["quality_json"] or "{}").get("face_box")) for c in cands],
        views=[(v["captured_at"], v["jpeg"], float(v["score"])) for v in views],
        decisions=[dict(d) for d in decisions],
        incident_id=int(a["incident_id"] or a["id"]),
        sightings=tuple(dict(r) for r in repo.sightings(store, int(a["incident_id"] or a["id"]))),
    )


CLAIM_LEASE_S = 60


def _lease_end(seconds: float) -> str:
    from datetime import timedelta

    return (_parse(utcnow()) + timedelta(seconds=seconds)).isoformat(timespec="microseconds").replace("+00:00", "Z")


def claim(store: Store, actor: Actor, alert_id: int, lease_s: float = CLAIM_LEASE_S) -> None:
    """Take (or renew) the alert - with every pending sighting of its incident - for this reviewer.
    Refused while another's lease runs; a lease lapses by itself when its console stops renewing
    it (a crashed seat frees its alerts)."""
    actor.require(Permission.ADJUDICATE, store)
    with store.transaction() as conn:
        incident = repo.incident_of(conn, alert_id)
        pending = db.count_pending_sightings(conn, incident)
        claimed = db.claim_pending(conn, incident, actor.user_id, _lease_end(lease_s), utcnow())
        if claimed != pending or pending == 0 or not _is_pending(conn, alert_id):
            row = db.claim_holder(conn, alert_id)
            if row is None:
                raise DecisionError(f"alert {alert_id} does not exist")
            if row["status"] != "pending":
                raise DecisionError(f"alert {alert_id} is already decided")
            row = db.other_claim_holder(conn, incident, actor.user_id) or row
            raise DecisionError(f"alert {alert_id} is being reviewed by {row['username']} (until {row['claim_expires']})")


def _is_pending(conn, alert_id: int) -> bool:
    row = db.alert_status_row(conn, alert_id)
    return row is not None and row["status"] == "pending"


def release(store: Store, actor: Actor, alert_id: int) -> None:
    with store.transaction() as conn:
        db.release_claims(conn, repo.incident_of(conn, alert_id), actor.user_id)


def open_alert(store: Store, actor: Actor, alert_id: int) -> AlertDetail:
    """Show an alert to a reviewer, claiming it (with its incident) while it is pending; the opening
    is logged. A second reviewer under the two-person rule is shown no score (``blind``)."""
    actor.require(Permission.ADJUDICATE, store)
    detail = _read_detail(store, alert_id)  # the "opened" event below is its log entry
    if detail.status == "pending":
        claim(store, actor, alert_id)
    repo.add_alert_event(store, alert_id, actor.user_id, "opened", actor.username)
    return _blinded(detail) if _blind_for(store, actor, alert_id) else detail


def context_frame(store: Store, actor: Actor, alert_id: int) -> bytes | None:
    """The context frame of an alert opened before its frame was stored (the alert is stored first, its
    bystanders blurred after it: console/pipeline/alerting.py); None while it is still being made. Part
    of the opening already logged: no entry of its own."""
    actor.require(Permission.ADJUDICATE, store)
    return repo.context_of(store, alert_id)


def _blind_for(store: Store, actor: Actor, alert_id: int) -> bool:
    row = db.first_confirmation_state(store, alert_id)
    return bool(row and row["status"] == "pending" and row["first_confirmed_by"] is not None
                and row["first_confirmed_by"] != actor.user_id)


def _blinded(detail: AlertDetail) -> AlertDetail:
    from dataclasses import replace

    return replace(detail, score=None, blind=True, decisions=[],
                   candidates=[replace(c, score=None) for c in detail.candidates],
                   views=[(at, jpeg, None) for at, jpeg, _ in detail.views],
                   sightings=tuple({**s, "score": None} for s in detail.sightings))


def _pending(store: Store, actor: Actor, alert_id: int, note: str | None = None):
    """The alert, if this reviewer may act on it now: pending, not held by another, not escalated
    past them, and open on their own screen - a live claim and an "opened" event of theirs (a
    decision is never made on an alert nobody looked at, by a script or otherwise)."""
    alert = db.review_state(store, alert_id)
    if alert is None:
        raise DecisionError(f"alert {alert_id} does not exist")
    if alert["status"] != "pending":
        raise DecisionError(f"alert {alert_id} is already decided; record a correction instead")
    now = utcnow()
    live = alert["claim_expires"] is not None and alert["claim_expires"] > now
    if alert["claimed_by"] is not None and alert["claimed_by"] != actor.user_id and live:
        raise DecisionError(f"alert {alert_id} is being reviewed by {alert['username']}")
    if alert["escalated_at"] and not actor.may(Permission.DECIDE_ESCALATED):
        raise DecisionError(f"alert {alert_id} was escalated: a supervisor decides it")
    if alert["escalated_at"] and note is not None and not note.strip():
        raise DecisionError(f"alert {alert_id} was escalated: the supervisor's decision needs a note saying why")
    opened = db.opened_by(store, alert["incident_id"] or alert_id, actor.user_id)
    if alert["claimed_by"] != actor.user_id or not live or opened is None:
        raise DecisionError(f"alert {alert_id} is not open on your screen: open it first (a decision needs the "
                          "reviewer's own live claim on it)")
    return alert


def _duration_ms(store: Store, actor: Actor, alert_id: int) -> int | None:
    """From when this user opened the incident (its first opening since they last put it back), so
    that looking through its sightings counts as deciding time."""
    incident = repo.incident_of(store, alert_id)
    back = db.last_returned(store, incident, actor.user_id)
    opened = db.first_opened_after(store, incident, actor.user_id,
                                     back["id"] if back and back["id"] is not None else 0)
    if opened is None:
        return None
    return int((_parse(utcnow()) - _parse(opened["at"])).total_seconds() * 1000)


def needs_second_confirmation(store: Store, alert_id: int) -> bool:
    row = db.two_person_rule_of(store, alert_id)
    return bool(row and row["two_person_rule"])


def confirm(store: Store, actor: Actor, alert_id: int, note: str = "", entry_id: int | None = None) -> int | None:
    """A true alert: the reviewer judges the probe to be this candidate (``entry_id``; the top
    candidate if not given). The decision and its entry name the candidate and its score.

    Under the two-person rule the first confirm is recorded as such (returns None) and the alert
    is passed to engagement only when a second, different user confirms the same candidate.
    """
    actor.require(Permission.ADJUDICATE, store)
    with store.transaction() as conn:
        _pending(store, actor, alert_id, note)
        cand = db.candidate_of(store, alert_id, entry_id)
        if cand is None:
            raise DecisionError(f"watchlist entry {entry_id} is not a candidate of alert {alert_id}")
        entry_id = int(cand["entry_id"])
        if needs_second_confirmation(store, alert_id):
            first = db.first_confirmation(conn, alert_id)
            if first["first_confirmed_by"] is None:
                # The alert waits for a second reviewer: the first one's claim is let go at once.
                repo.set_incident_state(conn, alert_id, first_confirmed_by=actor.user_id, first_confirmed_entry=entry_id,
                                        claimed_by=None, claim_expires=None)
                audit.append(store, actor.username, "decision.first_confirmation", "alert", alert_id,
                             {"user_id": actor.user_id, "note": note, "candidate_entry_id": entry_id,
                              "candidate_rank": int(cand["rank"]), "candidate_score": round(float(cand["score"]), 4)})
                return None
            if first["first_confirmed_by"] == actor.user_id:
                raise DecisionError("the two-person rule applies: a second, different user must confirm this alert")
            if first["first_confirmed_entry"] is not None and first["first_confirmed_entry"] != entry_id:
                raise DecisionError("the first confirmation named a different candidate: the two confirmations must name "
                                  "the same person (escalate if you disagree)")
            note = f"second confirmation (first by user {first['first_confirmed_by']}). {note}".strip()
        decision_id = repo.record_decision(store, alert_id, actor.user_id, "true_alert", note, actor.username,
                                           reason_code="same_person", duration_ms=_duration_ms(store, actor, alert_id),
                                           candidate_entry_id=entry_id)
        outbound.alert_confirmed(store, alert_id, decision_id)  # to dispatch, once committed (if configured)
        mqtt_out.alert_confirmed(store, alert_id, decision_id)  # and to the broker (if configured)
        return decision_id


def reject(store: Store, actor: Actor, alert_id: int, reason_code: str, note: str = "") -> int:
    """A false alert, with one of the fixed reasons. 'different_person' also suppresses
    further alerts for that track and subject."""
    actor.require(Permission.ADJUDICATE, store)
    if reason_code not in RejectReason.offered():
        raise DecisionError(f"a rejection needs a reason, one of: {', '.join(RejectReason.offered())}"
                          + (" (repeats of one person are one incident now)" if reason_code == "duplicate" else ""))
    with store.transaction():
        _pending(store, actor, alert_id, note)
        decision_id = repo.record_decision(store, alert_id, actor.user_id, "false_alert",
                                           note or RejectReason(reason_code).label, actor.username,
                                           reason_code=reason_code, duration_ms=_duration_ms(store, actor, alert_id))
        if reason_code == "different_person":  # every track of the incident, on every camera
            incident = repo.incident_of(store, alert_id)
            for sighting in repo.sightings(store, incident):
                repo.add_suppression(store, int(sighting["id"]), decision_id, actor.username)
    return decision_id


def escalate(store: Store, actor: Actor, alert_id: int, note: str = "") -> None:
    """Hand the incident to the supervisors, with a note saying why (required)."""
    actor.require(Permission.ADJUDICATE, store)
    with store.transaction() as conn:
        _pending(store, actor, alert_id)
        if not note.strip():
            raise DecisionError("an escalation needs a note saying why: what should the supervisor look at?")
        repo.add_alert_event(store, alert_id, actor.user_id, "escalated", actor.username, {"note": note})
        # Handed to the supervisors at once, the whole incident: the operator's claim goes with it.
        escalated = db.escalated_at(conn, alert_id)
        repo.set_incident_state(conn, alert_id, escalated_at=escalated, claimed_by=None, claim_expires=None)


def return_to_queue(store: Store, actor: Actor, alert_id: int) -> None:
    """Put an opened alert back, undecided and unclaimed (logged, so a supervisor can see who looked)."""
    actor.require(Permission.ADJUDICATE, store)
    release(store, actor, alert_id)
    repo.add_alert_event(store, alert_id, actor.user_id, "returned", actor.username)


def record_outcome(store: Store, actor: Actor, alert_id: int, result: str, action: str, note: str = "") -> int:
    """What happened at engagement, for a confirmed alert."""
    actor.require(Permission.RECORD_ENGAGEMENT, store)
    if result not in EngagementResult.codes():
        raise DecisionError(f"unknown engagement result {result!r}; use one of {', '.join(EngagementResult.codes())}")
    if action not in EngagementAction.codes():
        raise DecisionError(f"unknown action {action!r}; use one of {', '.join(EngagementAction.codes())}")
    if action == "other" and not note.strip():
        raise DecisionError("an outcome of 'other' needs a note saying what was done")
    latest = db.latest_decision(store, alert_id)

    if latest is None or latest["decision"] != "true_alert":
        raise DecisionError(f"alert {alert_id} was not confirmed: there is no engagement to record")
    if known_answer.test_of(store, alert_id) is not None:
        raise DecisionError(f"alert {alert_id} was a known-answer test: nobody was engaged")
    engagement_id = repo.record_engagement(store, alert_id, actor.user_id, result, action, note, actor.username)
    mqtt_out.outcome(store, alert_id, int(latest["id"]), engagement_id, result, action, "relayed", utcnow())
    return engagement_id
