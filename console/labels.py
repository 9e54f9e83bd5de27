"""What a person reads instead of a stored code: one place that turns codes, counts, times and
audit entries into words, for every screen and the printed record.

The vocabularies' own labels live in console/domain.py; this adds the audit log's actions and
the few words that are not a vocabulary, and never lets a raw code, a dict or a microsecond
UTC time through: an unknown code is written out in words (``some_code`` -> "Some code").
"""

from __future__ import annotations

from datetime import UTC, datetime

from console.domain import (
    AlertEvent,
    Decision,
    DeploymentState,
    EngagementAction,
    EngagementResult,
    EthnicGroup,
    RejectReason,
    Role,
    Sex,
    WatchlistCategory,
)

NOT_RECORDED = "Not recorded"

VOCABULARIES: dict[str, dict[str, str]] = {
    "decision": {**Decision.labels(), "undecided": "Undecided"},
    "reason_code": RejectReason.labels(),
    "result": EngagementResult.labels(),
    "outcome": EngagementResult.labels(),
    "action": EngagementAction.labels(),
    "category": WatchlistCategory.labels(),
    "state": DeploymentState.labels(),
    "role": Role.labels(),
    "sex": Sex.labels(),
    "ethnic_group": EthnicGroup.labels(),
    "event": AlertEvent.labels(),
    "incident_outcome": {"true": "Confirmed match", "false": "Rejected", "repeat": "Repeat (old duplicate)",
                         "undecided": "Undecided"},
}

# The audit log's actions on an alert, as a reader of its history says them.
ACTIONS = {
    "alert.raised": "Alert raised",
    "alert.opened": "Opened for review",
    "alert.viewed": "Viewed",
    "alert.returned": "Returned to the queue",
    "alert.escalated": "Escalated to a supervisor",
    "alert.suppressed": "Same track and person no longer alerted on this camera",
    "alert.view_kept": "A further view of the face kept",
    "decision.recorded": "Decided",
    "decision.first_confirmation": "First confirmation (two-person rule)",
    "decision.corrected": "Decision corrected",
    "decision.correction_proposed": "Correction proposed",
    "incident.decided": "Incident decided",
    "engagement.recorded": "Engagement outcome recorded",
    "equality.recorded": "Equality fields recorded",
    "deployment.threshold_changed": "Threshold changed",
    "deployment.ended": "Deployment ended",
    "deployment.stopped": "Recognition stopped",
    "deployment.restarted": "Recognition restarted",
    "clock.jumped": "System clock jumped",
    "report.signed_off": "Record signed off",
    "report.exported": "Record exported",
    "operator.flag_action": "Action recorded about an operator",
}


def words(code: str) -> str:
    """A code nobody labelled, written out: ``look_alike`` -> "Look alike"."""
    text = str(code).replace("_", " ").replace(".", " ").strip()
    return text[:1].upper() + text[1:]


def label(kind: str, code) -> str:
    """The label of ``code`` in vocabulary ``kind``; "" for none; words for an unknown code."""
    if code is None or code == "":
        return ""
    return VOCABULARIES.get(kind, {}).get(str(code)) or words(str(code))


def action(code: str) -> str:
    return ACTIONS.get(code) or words(code)


def counts(values: dict, kind: str) -> str:
    """``{'different_person': 2, 'duplicate': 1}`` -> "Different person: 2, Duplicate of ...: 1"."""
    return ", ".join(f"{label(kind, code)}: {n}" for code, n in sorted(values.items(), key=lambda kv: (-kv[1], kv[0])))


def _parsed(ts: str, zone) -> datetime | None:
    """A stored time in ``zone`` (None: the reader's own); None when it is not a time."""
    try:
        t = datetime.fromisoformat(str(ts).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.astimezone(zone) if t.tzinfo is not None else t


def local_time(ts: str | None, seconds: bool = True) -> str:
    """A stored UTC time as the reader's local time, to the second (or minute); "" for none."""
    if not ts:
        return ""
    t = _parsed(ts, None)
    return str(ts) if t is None else t.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def history_line(entry: dict) -> str:
    """One entry of an alert's history as a sentence: when, who, what, and the few details that
    matter (decision, reason, outcome, note), never the entry's raw fields."""
    d = entry.get("details") or {}
    parts = [action(entry["action"])]
    if d.get("decision"):
        parts.append(label("decision", d["decision"]))
    if d.get("reason_code"):
        parts.append(label("reason_code", d["reason_code"]))
    if d.get("result"):
        parts.append(label("result", d["result"]))
    if d.get("action"):
        parts.append(label("action", d["action"]))
    if entry["action"] == "alert.raised" and d.get("score") is not None:
        parts.append(f"score {float(d['score']):.3f}")
    if entry["action"] == "alert.viewed" and d.get("where"):
        parts.append(f"in the {d['where']}")
    note = d.get("reason") or d.get("note")
    if isinstance(note, str) and note.strip():
        parts.append(f"\u201c{note.strip()}\u201d")
    return f"{local_time(entry.get('at'))}  {entry.get('actor', '')}  " + " \u00b7 ".join(parts)


def utc_time(ts: str | None) -> str:
    """A stored UTC time for a published record, the same wherever it is printed: to the second, marked UTC."""
    if not ts:
        return ""
    t = _parsed(ts, UTC)
    return str(ts) if t is None else t.strftime("%Y-%m-%d %H:%M:%S") + " UTC"
