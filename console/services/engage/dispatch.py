"""A confirmed incident sent to the officers who act on it, and their outcome taken back.

``send`` is the operator's: only an alert whose latest decision is a confirmation can go (never one
pending, rejected or escalated), once (a retry returns the first dispatch), to one officer of the
deployment or to its team (every officer with a live paired handheld). The handheld asks for its
inbox (that is "delivered"), opens the incident ("seen": an audit entry for every view) and reports
the outcome, written as the alert's engagement in the officer's name (``recorded_via`` handheld) in
the same table and log as an outcome an operator keys in (relayed). What the phone is shown is only
that incident: the capture with bystanders blurred, the confirmed watchlist photo and record, the
operator's name and note, and the instructions for the entry's category - while it is open and for
at most ``OPEN_FOR``; a confirmation corrected since withdraws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from console import clock
from console.domain import DispatchStage, EngagementAction, WatchlistCategory
from console.errors import ConsoleError, PermissionDenied
from console.redaction import redact
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.services.decisions import mqtt_out
from console.services.engage import instructions
from console.services.engage.pairing import Device, officers, ts
from console.store import Store, audit, known_answer, ledger, repo
from console.store import handheld as db

OPEN_FOR = timedelta(minutes=30)
NOT_DELIVERED_S = 5.0  # the console tells the operator to radio instead
TEAM = "team"


class DispatchError(ConsoleError):
    pass


class DispatchConflict(DispatchError):
    """The incident's state refuses the request (its outcome is in already, or it is no longer open)."""


@dataclass(frozen=True)
class Sent:
    dispatch_id: int
    alert_id: int
    to: str  # an officer's user name, or "team"
    sent_at: str
    new: bool  # False: the alert had been dispatched already (nothing new was made)
    reach: int  # how many officers have a live handheld to receive it


def _parse(t: str) -> datetime:
    return datetime.fromisoformat(t.replace("Z", "+00:00"))


def send(store: Store, operator: Actor, alert_id: int, officer: str | None = None) -> Sent:
    """Send the confirmed alert to ``officer`` (a user name) or, by default, the deployment's team."""
    operator.require(Permission.DISPATCH, store)
    alert = db.alert_for_dispatch(store, alert_id)
    if alert is None:
        raise DispatchError(f"alert {alert_id} does not exist")
    decision = db.latest_decision(store, alert_id)
    if decision is None or decision["decision"] != "true_alert":
        raise DispatchError(f"alert {alert_id} is not confirmed: only a confirmed alert goes to the officers")
    if known_answer.test_of(store, alert_id) is not None:
        raise DispatchError(f"alert {alert_id} is a known-answer test: a test is never dispatched")
    deployment_id = int(alert["deployment_id"])
    team = officers(store, deployment_id)
    officer_id = None
    if officer:
        match = [t for t in team if t["officer"] == officer]
        if not match:
            raise DispatchError(f"{officer} has no paired handheld for this deployment: send to the team, or radio them")
        officer_id = match[0]["officer_id"]
    with store.transaction() as conn:
        existing = db.dispatch_of_alert(store, alert_id)
        if existing is not None:
            return Sent(int(existing["id"]), alert_id, existing["officer_name"] or TEAM, existing["sent_at"], False,
                        len(team))
        sent_at = ts(clock.now())
        dispatch_id = db.insert_dispatch(conn, alert_id, deployment_id, int(decision["id"]), operator.user_id,
                                         officer_id, sent_at)
        if dispatch_id is None:  # another seat sent it in the same instant
            existing = db.dispatch_of_alert(store, alert_id)
            return Sent(int(existing["id"]), alert_id, existing["officer_name"] or TEAM, existing["sent_at"], False,
                        len(team))
        audit.append(store, operator.username, "dispatch.sent", "alert", alert_id,
                     {"dispatch_id": dispatch_id, "deployment_id": deployment_id, "to": officer or TEAM,
                      "reach": len(team), "rows": ledger.of(conn, "dispatches", id=dispatch_id)})
    return Sent(dispatch_id, alert_id, officer or TEAM, sent_at, True, len(team))


def _for_device(store: Store, device: Device, dispatch_id: int):
    """The dispatch, if it is addressed to this device's officer; the same refusal for any other."""
    device.actor.require(Permission.RECEIVE_DISPATCH, store)
    row = db.dispatch(store, dispatch_id)
    if (row is None or int(row["deployment_id"]) != device.deployment_id
            or (row["officer_id"] is not None and int(row["officer_id"]) != device.officer_id)):
        audit.append(store, device.officer, "access.refused", "dispatch", dispatch_id,
                     {"device_id": device.device_id, "reason": "not addressed to this officer's handheld"})
        raise PermissionDenied("no such incident for this handheld")
    return row


def _event(store: Store, device: Device, row, event: str) -> None:
    at = ts(clock.now())
    with store.transaction() as conn:
        event_id = db.add_event(conn, int(row["id"]), device.device_id, event, at)
        if event_id is not None:
            mqtt_out.dispatch_stage(store, int(row["alert_id"]), int(row["decision_id"]), int(row["id"]), event, at,
                                    event_id)  # to the broker once committed, if asked
            audit.append(store, device.officer, f"dispatch.{event}", "alert", int(row["alert_id"]),
                         {"dispatch_id": int(row["id"]), "device_id": device.device_id,
                          "rows": ledger.of(conn, "dispatch_events", id=event_id)})


def _closed(store: Store, row) -> dict | None:
    """The officer's outcome recorded for the dispatch, if any (the latest engagement of the alert)."""
    found = [g for g in db.engagements_of(store, int(row["alert_id"])) if g["recorded_at"] >= row["sent_at"]]
    return dict(found[-1]) if found else None


def _open(store: Store, row) -> str:
    """'' while the incident may be shown; else why not."""
    if _parse(row["sent_at"]) + OPEN_FOR <= clock.now():
        return "expired"
    decision = db.latest_decision(store, int(row["alert_id"]))
    if decision is None or decision["decision"] != "true_alert" or int(decision["id"]) != int(row["decision_id"]):
        return "withdrawn"
    if _closed(store, row) is not None:
        return "closed"
    return ""


def inbox(store: Store, device: Device) -> list[dict]:
    """The incidents sent to this device's officer in the last ``OPEN_FOR``, newest first; asking is delivery."""
    device.actor.require(Permission.RECEIVE_DISPATCH, store)
    since = ts(clock.now() - OPEN_FOR)
    out = []
    for row in db.dispatches_for(store, device.deployment_id, device.officer_id, since):
        why = _open(store, row)
        if not why:
            _event(store, device, row, DispatchStage.DELIVERED)
        out.append({"dispatch_id": int(row["id"]), "sent_at": row["sent_at"], "state": why or "open"})
    return out


def card(store: Store, device: Device, dispatch_id: int) -> dict:
    """What the handheld shows for one dispatched incident (no image bytes: they come by ``image``)."""
    row = _for_device(store, device, dispatch_id)
    why = _open(store, row)
    base = {"dispatch_id": dispatch_id, "sent_at": row["sent_at"], "state": why or "open",
            "open_until": ts(_parse(row["sent_at"]) + OPEN_FOR)}
    if why:
        closed = _closed(store, row) if why == "closed" else None
        if closed:
            base["outcome"] = {"result": closed["result"], "action": closed["action"], "by": closed["username"]}
        return base
    alert = db.alert_for_dispatch(store, int(row["alert_id"]))
    decision = db.latest_decision(store, int(row["alert_id"]))
    entry = db.entry_photo(store, int(row["alert_id"]), int(decision["candidate_entry_id"] or 0)) if decision else None
    _event(store, device, row, DispatchStage.DELIVERED)
    _event(store, device, row, DispatchStage.SEEN)
    audit.append(store, device.officer, "dispatch.viewed", "alert", int(row["alert_id"]),
                 {"dispatch_id": dispatch_id, "device_id": device.device_id})
    category = entry["category"] if entry else ""
    return {**base,
            "camera": redact(alert["camera"]), "place": alert["place"], "deployment": alert["deployment"],
            "captured_at": alert["captured_at"],
            "operator": decision["display_name"] or decision["username"],
            "operator_note": _operator_note(decision["reason"] or ""),
            "subject_name": entry["subject_name"] if entry else "", "record_number": entry["record_number"] if entry else "",
            "category": WatchlistCategory(category).label if category else "",
            "reason": entry["reason"] if entry else "", "legal_basis": entry["legal_basis"] if entry else "",
            "instructions": instructions.for_category(store, device.deployment_id, category),
            "has_capture": bool(alert["context_jpeg"] or alert["probe_jpeg"]) and alert["purged_at"] is None,
            "has_photo": bool(entry and entry["image_jpeg"])}


def _operator_note(reason: str) -> str:
    return reason.split(". ", 1)[1] if reason.startswith("second confirmation (") and ". " in reason else reason


IMAGES = ("capture", "face", "photo")


def image(store: Store, device: Device, dispatch_id: int, which: str) -> bytes:
    """A JPEG of the open incident this device was shown: the capture (bystanders blurred at the alert),
    the captured face, or the watchlist photo. Refused once the incident is closed, withdrawn or expired."""
    if which not in IMAGES:
        raise DispatchError(f"unknown image {which!r}")
    row = _for_device(store, device, dispatch_id)
    if _open(store, row):
        raise PermissionDenied("this incident is no longer shown on handhelds")
    if not any(e["device_id"] == device.device_id and e["stage"] == DispatchStage.SEEN for e in db.events(store, dispatch_id)):
        raise PermissionDenied("open the incident first")  # every image shown follows a logged view
    alert = db.alert_for_dispatch(store, int(row["alert_id"]))
    if which == "photo":
        decision = db.latest_decision(store, int(row["alert_id"]))
        entry = db.entry_photo(store, int(row["alert_id"]), int(decision["candidate_entry_id"] or 0))
        data = entry["image_jpeg"] if entry else None
    else:
        data = None if alert["purged_at"] else alert["context_jpeg" if which == "capture" else "probe_jpeg"]
    if not data:
        raise DispatchError("no such image for this incident")
    return bytes(data)


RESULTS = {(False, None): "not_located", (True, True): "confirmed_true", (True, False): "confirmed_false"}


def record_outcome(store: Store, device: Device, dispatch_id: int, located: bool, same_person: bool | None,
                   action: str, note: str = "") -> int:
    """The officer's outcome: located or not; if located, whether checks by other means showed the same
    person; what was done. Written once per dispatch, as the alert's engagement in the officer's name."""
    row = _for_device(store, device, dispatch_id)
    key = (bool(located), None if not located else bool(same_person) if same_person is not None else None)
    if key not in RESULTS:
        raise DispatchError("say whether the person's identity was checked by other means: the same person, or not")
    if not located:
        action = action or EngagementAction.NO_FURTHER_ACTION.value
    if action not in EngagementAction.codes():
        raise DispatchError(f"unknown action {action!r}; use one of {', '.join(EngagementAction.codes())}")
    note = " ".join(note.split())[:500]
    if action == EngagementAction.OTHER.value and not note:
        raise DispatchError("an outcome of 'other' needs a note saying what was done")
    device.actor.require(Permission.RECORD_ENGAGEMENT, store)
    with store.transaction() as conn:
        why = _open(store, row)  # asked inside the write: two officers of a team cannot both close it
        if why == "closed":
            raise DispatchConflict("the outcome of this incident is already recorded")
        if why:
            raise DispatchConflict(f"this incident is {why}: tell the operator by radio")
        engagement_id = repo.record_engagement(store, int(row["alert_id"]), device.officer_id, RESULTS[key], action, note,
                                               device.officer, via="handheld",
                                               extra={"dispatch_id": dispatch_id, "device_id": device.device_id})
        at = ts(clock.now())
        event_id = db.add_event(conn, dispatch_id, device.device_id, DispatchStage.CLOSED, at)
        mqtt_out.outcome(store, int(row["alert_id"]), int(row["decision_id"]), engagement_id, RESULTS[key], action,
                         "handheld", at, dispatch_id)
        if event_id is not None:
            audit.append(store, device.officer, "dispatch.closed", "alert", int(row["alert_id"]),
                         {"dispatch_id": dispatch_id, "device_id": device.device_id, "engagement_id": engagement_id,
                          "rows": ledger.of(conn, "dispatch_events", id=event_id)})
    return engagement_id


@dataclass(frozen=True)
class Delivery:
    """Where a dispatched incident stands, for the operator's screen."""

    alert_id: int
    dispatch_id: int
    to: str
    sent_at: str
    delivered_at: str | None
    seen_at: str | None
    outcome: dict | None  # result, action, by, via
    reach: int
    subject: str = ""  # the confirmed candidate's name, as the operator saw it

    @property
    def state(self) -> str:
        return ("outcome" if self.outcome else "seen" if self.seen_at else "delivered" if self.delivered_at else "sent")

    def late(self, now: datetime | None = None) -> bool:
        """Sent, not delivered to any handheld within NOT_DELIVERED_S: radio instead."""
        now = now or clock.now()
        return self.delivered_at is None and (now - _parse(self.sent_at)).total_seconds() >= NOT_DELIVERED_S


def delivery(store: Store, actor: Actor, alert_id: int) -> Delivery | None:
    """The dispatch of the alert and its delivery (None: not dispatched)."""
    actor.require(Permission.DISPATCH)
    row = db.dispatch_of_alert(store, alert_id)
    if row is None:
        return None
    events = db.events(store, int(row["id"]))
    first = {e: next((x["at"] for x in events if x["stage"] == e), None) for e in (DispatchStage.DELIVERED, DispatchStage.SEEN)}
    closed = _closed(store, row)
    outcome = None
    if closed:
        outcome = {"result": closed["result"], "action": closed["action"], "by": closed["username"],
                   "via": closed["recorded_via"] or "relayed", "notes": closed["notes"]}
    entry = db.entry_photo(store, alert_id, int(db.latest_decision(store, alert_id)["candidate_entry_id"] or 0))
    return Delivery(alert_id, int(row["id"]), row["officer_name"] or TEAM, row["sent_at"], first[DispatchStage.DELIVERED],
                    first[DispatchStage.SEEN], outcome, len(officers(store, int(row["deployment_id"]))),
                    entry["subject_name"] if entry else "")


def recent(store: Store, actor: Actor, deployment_id: int, limit: int = 8) -> list[int]:
    """The alerts of the deployment's dispatches of the last ``OPEN_FOR``, newest first (a seat that
    starts mid-shift follows them too)."""
    actor.require(Permission.DISPATCH)
    rows = db.dispatches_of_deployment(store, deployment_id, ts(clock.now() - OPEN_FOR))
    return [int(r["alert_id"]) for r in rows[:limit]]
