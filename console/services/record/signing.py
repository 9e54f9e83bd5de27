"""Signing the deployment record, and the record as signed.

A supervisor signs only a deployment that has ended with nothing left undecided or escalated.
The sign-off keeps the record as it was signed (its JSON, with the digest and the audit
checkpoint it pins); every later export is built from that frozen JSON, so it is the same bytes
each time. Whatever changes afterwards (a late engagement outcome, a correction, equality fields)
is listed in a dated addendum beside the signed body, never written into it.
"""

from __future__ import annotations

import json
import logging

from console import labels
from console.errors import ConsoleError
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.services.record.incident_figures import incidents, tally
from console.services.record.record_figures import escalations
from console.store import Store, audit, ledger, repo
from console.store import record as db

log = logging.getLogger(__name__)

# The record's figures compared with the signed ones for the addendum (a field that moved is listed).
COMPARED = ("incidents", "true_incidents", "false_incidents", "undecided_incidents", "alerts", "false_alerts",
            "faces_analysed", "false_incidents_per_1000_faces", "false_alerts_per_1000_faces", "arrests",
            "engagements", "engagements_recorded_by", "equality", "escalations", "watchlist_size")
# Later entries of the audit log that change what the record says about the deployment's alerts.
LATER = ("decision.recorded", "decision.corrected", "engagement.recorded", "alert.escalated", "equality.recorded",
         "deployment.threshold_changed", "clock.jumped")


class SignOffRefused(ConsoleError):
    """The record may not be signed now; the message says why."""


def frozen(store: Store, deployment_id: int) -> dict | None:
    """The sign-off that froze the record: signed_at, username, note, record_sha256 and the
    record's JSON text; None while it is not signed. A row counts only when its sign-off entry is in
    the log with a signature that verifies, and its record is the one signed (issue 27: a row put in
    the database by hand signs nothing)."""
    from console.services.record.record_body import record_digest
    from console.services.record.signing_keys import signed_in_log

    rows = db.signoff_records(store, deployment_id)
    signed = signed_in_log(store, deployment_id) if rows else set()
    for row in rows:
        try:
            body = record_digest(json.loads(row["record_json"]))
        except (TypeError, ValueError, AttributeError):
            continue
        if body == row["record_sha256"] and (row["record_sha256"], row["signed_at"]) in signed:
            return dict(row)
    return None


def refusal(store: Store, deployment_id: int) -> str | None:
    """Why the record may not be signed now, in words; None when it may."""
    dep = repo.get_deployment(store, deployment_id)
    if dep is None:
        return f"deployment {deployment_id} does not exist"
    if dep["state"] != "ended":
        return (f"the deployment is {labels.label('state', dep['state']).lower()}: a record is signed only once "
                "the deployment has ended (end it first)")
    open_escalations = escalations(store, deployment_id)["still_open"]
    if open_escalations:
        return f"{open_escalations} escalated incident(s) still wait for a supervisor's decision"
    undecided = tally(incidents(store, deployment_id))["undecided"]
    if undecided:
        return f"{undecided} incident(s) are still undecided: every alert is decided before the record is signed"
    done = frozen(store, deployment_id)
    if done:
        return (f"it was signed off by {done['username']} at {labels.local_time(done['signed_at'])}; later changes "
                "appear in the record's addendum")
    return None


def preview(store: Store, actor: Actor, deployment_id: int) -> dict:
    """What the confirmation step shows: the record as it would be signed, and why it may not be."""
    from console.services.record.record_body import _record

    actor.require(Permission.AUTHORISE_DEPLOYMENT, store)
    return {"record": _record(store, deployment_id), "refusal": refusal(store, deployment_id)}


def sign_off(store: Store, actor: Actor, deployment_id: int, note: str = "", password: str = "") -> str:
    """Sign and freeze the record; its digest. Refused (SignOffRefused, with the reason, and the
    refusal logged) unless the deployment has ended with nothing undecided or escalated. The
    supervisor's password (checked as a sign-in is) opens their own key, which signs the record's
    digest and the log as it stands (console/services/record/signing_keys.py)."""
    from console.services.accounts import auth
    from console.services.record import signing_keys
    from console.services.record.audit_trail import make_checkpoint
    from console.services.record.record_body import _pin, _record, record_digest

    actor.require(Permission.AUTHORISE_DEPLOYMENT, store)
    why = refusal(store, deployment_id)
    key = None
    if why is None:
        key = signing_keys.unlock(store, auth.login(store, actor.username, password, purpose="report sign-off"),
                                  password)
        try:  # the record pins the log as it stands at sign-off
            make_checkpoint(store, reason="report sign-off")
        except (ConsoleError, OSError) as exc:
            log.warning("no checkpoint at sign-off: %s", exc)
    with store.transaction() as conn:
        why = why or refusal(store, deployment_id)  # again, inside the transaction: two supervisors at once
        if why:
            audit.append(store, actor.username, "report.sign_off_refused", "deployment", deployment_id, {"why": why})
        else:
            record = _record(store, deployment_id)
            digest = record_digest(record)
            signed = signing_keys.signed_statement(store, key, actor, deployment_id, digest)
            signed_at = signed["statement"]["signed_at"]
            record["signed_off"] = [{"signed_at": signed_at, "username": actor.username, "note": note}]
            signoff_id = db.insert_signoff(conn, deployment_id, actor.user_id, signed_at, digest, note, canonical(record))
            cp = record.get("audit_checkpoint") or {}
            audit.append(store, actor.username, "report.signed_off", "deployment", deployment_id,
                         {"record_sha256": digest, "note": note, "checkpoint_size": cp.get("size"),
                          "checkpoint_root": cp.get("root"), **signed,
                          "rows": ledger.of(conn, "report_signoffs", id=signoff_id)})
            _pin(store, "report sign-off")
    if why:
        raise SignOffRefused(f"sign-off refused: {why}")
    return digest


def canonical(record: dict) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


def _later_entries(store: Store, deployment_id: int, after_seq: int) -> list[dict]:
    rows = db.entries_after(store, deployment_id, after_seq, tuple(LATER))
    out = []
    for r in rows:
        entry = {"at": r["at"], "actor": r["actor"], "action": r["action"], "details": json.loads(r["details_json"])}
        what = labels.history_line(entry).split("  ", 2)[-1]
        subject = f"alert {r['subject_id']}" if r["subject_type"] == "alert" else (
            f"engagement {r['subject_id']}" if r["subject_type"] == "engagement" else "the deployment")
        out.append({"at": r["at"], "by": r["actor"], "what": f"{what} ({subject})"})
    return out


def addendum(store: Store, deployment_id: int, signed: dict) -> dict | None:
    """What changed since the record was signed: the dated entries of the log, and each figure that
    now differs from the signed one. Dated by its latest change, so it reads the same each export
    until something else changes; None when nothing has."""
    from console.services.record.record_body import _record

    seq = db.first_signoff_seq(store, deployment_id)

    changes = _later_entries(store, deployment_id, int(seq or 0))
    now = _record(store, deployment_id)
    moved = [{"field": key, "signed": signed.get(key), "now": now.get(key)} for key in COMPARED
             if json.dumps(signed.get(key), sort_keys=True) != json.dumps(now.get(key), sort_keys=True)]
    if not changes and not moved:
        return None
    return {"as_of": max([c["at"] for c in changes] or [signed["signed_off"][0]["signed_at"]]),
            "changes": changes, "figures": moved}


def document(store: Store, deployment_id: int) -> dict:
    """What an export prints: the frozen record with its addendum once signed, else the record as
    it stands (a draft, marked so)."""
    from console.services.record.record_body import _record

    done = frozen(store, deployment_id)
    if done is None:
        return {"signed": False, "record": _record(store, deployment_id), "addendum": None}
    record = json.loads(done["record_json"])
    return {"signed": True, "record": record, "record_sha256": done["record_sha256"],
            "addendum": addendum(store, deployment_id, record)}


def view(store: Store, actor: Actor, deployment_id: int) -> dict:
    """The record as a reader sees it: ``document`` for a role that may read the record."""
    actor.require(Permission.VIEW_AUDIT, store)
    return document(store, deployment_id)
