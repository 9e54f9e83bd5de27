"""Screenshots of the shift views (called by ui/app.py run_screenshot, on the demo): the escalated band
on a supervisor's queue, a threshold below the floor refused over the panel, an operator's greyed
supervision controls, the correction screen refusing a correction with no reason, and the hand-over."""

from __future__ import annotations

from pathlib import Path


def _save(widget, path: Path) -> None:
    widget.grab().save(str(path))
    print(f"wrote {path}")


def shoot_shift(app, window, out_dir: Path, wait) -> None:
    from console.services.accounts import auth, session
    from console.services.decisions import adjudication
    from ui.review.correction import CorrectionDialog
    from ui.supervision import SupervisionDialog

    live = window.live
    store = session.open_store(window.location)  # as another seat would: its own connection
    operator = auth.actor_for(store, "demo.operator")
    supervisor = auth.actor_for(store, "demo.supervisor")
    window.view.back()
    wait(app, lambda: False, 0.5)
    pending = adjudication.queue_rows(store, supervisor, live.deployment_id)
    decided = None
    if len(pending) >= 2:
        adjudication.open_alert(store, operator, pending[-1]["id"])
        adjudication.escalate(store, operator, pending[-1]["id"], "the watchlist photo is ten years old - please check")
        adjudication.open_alert(store, operator, pending[0]["id"])
        decided = (pending[0], adjudication.reject(store, operator, pending[0]["id"], "different_person"))
    store.close()
    window.shift.switch_to(supervisor)
    wait(app, lambda: any(r.get("escalation_note") for r in window.alerts.rows), 20)
    wait(app, lambda: False, 1.0)
    _save(window, out_dir / "queue_escalated.png")

    live.operator = operator
    greyed = SupervisionDialog(live, window.db_jobs, window)
    greyed.show()
    wait(app, lambda: "Threshold in force" in greyed.dep_facts.text(), 20)
    _save(greyed, out_dir / "supervision_operator.png")
    greyed.close()

    live.operator = supervisor
    dialog = SupervisionDialog(live, window.db_jobs, window)
    dialog.show()
    wait(app, lambda: "Threshold in force" in dialog.dep_facts.text(), 20)
    tab = dialog.deployment
    tab.threshold.setValue(0.30)
    tab.threshold_reason.setText("more alerts")
    tab.apply_threshold_button.click()
    wait(app, lambda: "below the floor" in dialog.message.text(), 20)
    _save(dialog, out_dir / "feedback_threshold.png")
    dialog.close()

    if decided is not None:
        card, decision_id = decided
        row = {"id": card["id"], "decision_id": decision_id, "decision": "false_alert",
               "reason_code": "different_person", "username": "demo.operator", "subject_name": card["subject_name"]}
        correction = CorrectionDialog(live, window.db_jobs, row, [(0, f"1. {card['subject_name']}")], window)
        correction.show()
        correction.submit()
        wait(app, lambda: False, 0.3)
        _save(correction, out_dir / "correction.png")
        correction.close()

    window.shift.sign_out()
    wait(app, lambda: window.shift.dialog is not None, 20)
    wait(app, lambda: False, 0.3)
    _save(window.shift.dialog, out_dir / "handover.png")
