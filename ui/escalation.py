"""Escalations between seats: an incident an operator escalates leaves every operator's queue and
arrives, highlighted and with the priority-1 sound, at the top of every supervisor's queue, with
the operator's note on its card and over the queue."""

from __future__ import annotations

from console.services.accounts.permissions import Permission
from console.services.decisions import adjudication, escalations
from ui.alert_model import with_thumbnails
from ui.toast import say


def load_row(live, alert_id: int) -> dict:
    """A queue card with the escalation's note (for a job, off the GUI thread)."""
    row = with_thumbnails(adjudication.queue_row(live.store, live.operator, alert_id))
    if row and row.get("escalated_at"):
        esc = escalations.note_of(live.store, live.operator, alert_id)
        if esc:
            row.update(escalated_by=esc["by"], escalation_note=esc["note"])
    return row


def load_queue(live) -> list[dict]:
    return [load_row(live, r["id"]) if r.get("escalated_at") else with_thumbnails(r)
            for r in adjudication.queue_rows(live.store, live.operator, live.deployment_id)]


def arrived(window, alert_id: int, by: str) -> None:
    """The log says ``by`` escalated ``alert_id``: out of an operator's queue; to the top of a supervisor's."""
    live = window.live
    if live is None or not live.operator.may(Permission.ADJUDICATE):
        return
    if not live.operator.may(Permission.DECIDE_ESCALATED):
        window.alerts.remove_alert(alert_id)
        return

    def show(row: dict) -> None:
        if not row:
            return
        window.alerts.remove_alert(alert_id)
        window.alerts.add_alert(row)
        window.alerts.acknowledged.discard(row["id"])  # it sounds until a supervisor acknowledges it
        window.attention.new_alert(row["id"], 1)
        say(window.queue, f"ESCALATED by {by}: {row['subject_name']} on {row['camera']}"
            + (f" - \u201c{row.get('escalation_note')}\u201d" if row.get("escalation_note") else ""), "info")

    window.db_jobs.submit(lambda: load_row(live, alert_id), show)
