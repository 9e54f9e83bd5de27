"""Wires the queue, the adjudication view and the review service together.

Every service call runs as a background job on the database thread; its answer comes back
to the GUI thread. After each decision the decision keys rest for a moment before the next
alert opens, so a doubled key press cannot decide the next alert by accident.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from console.redaction import redact
from console.services.accounts.permissions import Permission
from console.services.accuracy import known_answer
from console.services.decisions import adjudication
from console.services.engage import dispatch, pairing
from ui import escalation
from ui.adjudication import AdjudicationView, decode_images
from ui.adjudication.images import decode
from ui.adjudication.reveal import HOLD_MS, show_reveal
from ui.adjudication.send_to import NOBODY_PAIRED
from ui.alert_model import AlertQueueModel
from ui.jobs import JobRunner
from ui.toast import say

NEXT_ALERT_GUARD_MS = 600
# An alert is stored before its context frame, whose bystanders are blurred after it: an alert opened
# at once is shown without it, and the frame is asked for again until it comes (or for 10 s: the
# blur runs below the cameras' search, and the cameras make room for it past 5 s,
# console/pipeline/context_pool.py).
CONTEXT_POLL_MS, CONTEXT_POLLS = 400, 25


def _then_reveal(live, alert_id: int, decide):
    """The decision, then (in the same job) the truth if the alert was a known-answer test: a recorded
    decision's answer is (decision id, Reveal or None). Nothing before the decision tells a test apart."""
    def job():
        decision_id = decide()
        shown = known_answer.reveal(live.store, live.operator, alert_id) if decision_id is not None else None
        return decision_id, shown

    return job


class ReviewController(QObject):
    opened = Signal(int)  # alert id shown in the adjudication view
    closed = Signal()  # back to the camera grid
    decided = Signal(int, str)  # alert id, what was recorded
    awaitingOutcome = Signal(int, str)  # alert id, subject: confirmed, outcome still to record
    dispatched = Signal(int, str)  # alert id, subject: sent to the officers (its delivery is followed)
    revealed = Signal(object)  # known_answer.Reveal: the decided alert was a test, and its truth was shown

    def __init__(self, view: AdjudicationView, queue: AlertQueueModel, jobs: JobRunner, parent=None) -> None:
        super().__init__(parent)
        self.view, self.queue, self.jobs = view, queue, jobs
        self.live = None
        self.current: int | None = None
        # While an alert is open its claim is renewed; a console that dies stops renewing and
        # the alert frees itself for the other seats when the lease runs out.
        self.renew_timer = QTimer(self)
        self.renew_timer.setInterval(int(adjudication.CLAIM_LEASE_S * 1000 / 3))
        self.renew_timer.timeout.connect(self._renew_claim)
        self.renew_timer.start()
        view.confirmRequested.connect(self.confirm)
        view.rejectRequested.connect(self.reject)
        view.escalateRequested.connect(self.escalate)
        view.returnRequested.connect(self.back)
        view.outcomeRequested.connect(self.record_outcome)

    def attach(self, live) -> None:
        self.live = live

    def _renew_claim(self) -> None:
        live, alert_id = self.live, self.current
        if live is not None and alert_id is not None and self.view.mode in ("review", "confirm", "reject"):
            self.jobs.submit(lambda: adjudication.claim(live.store, live.operator, alert_id), None, self._failed)

    # -- opening ---------------------------------------------------------------------
    def open(self, alert_id: int, mode: str = "review") -> None:
        live = self.live
        if live is None:
            return
        self.queue.acknowledge(alert_id)
        self.view.set_mode("busy")
        def fetch():
            detail = adjudication.open_alert(live.store, live.operator, alert_id)
            team = pairing.officers(live.store, live.deployment_id) if live.operator.may(Permission.DISPATCH) else []
            return detail, decode_images(detail), team  # JPEG decoding off the GUI thread

        self.jobs.submit(fetch, lambda got: self._show(*got, mode), self._failed)

    def _show(self, detail, images: dict, team: list, mode: str) -> None:
        self.current = detail.alert_id
        self.view.send_to.set_team(team)  # the confirm step's "Send to": the team unless an officer is picked
        may_decide = not (detail.escalated_at and not self.live.operator.may(Permission.DECIDE_ESCALATED))
        self.view.show_alert(detail, mode, may_decide, images)
        self.opened.emit(detail.alert_id)
        if not detail.context_jpeg and detail.status == "pending":
            self._await_context(detail.alert_id, detail.bbox, CONTEXT_POLLS)

    def _await_context(self, alert_id: int, bbox, tries: int) -> None:
        live = self.live

        def fetch():
            return decode(adjudication.context_frame(live.store, live.operator, alert_id))

        def got(image) -> None:
            if self.current != alert_id:
                return  # the operator moved on
            if image is not None:
                self.view.show_context(image, bbox)
            elif tries > 1:
                QTimer.singleShot(CONTEXT_POLL_MS, self.view, lambda: self._await_context(alert_id, bbox, tries - 1))
            else:
                self.view.show_context(None, bbox)  # not coming: its bystanders could not be blurred
        if live is not None and self.current == alert_id:
            self.jobs.submit(fetch, got, lambda _exc: None)

    def open_next(self) -> None:
        """The first pending alert in queue order, else back to the grid."""
        nxt = next((r["id"] for r in self.queue.rows
                    if self.current not in (r["id"], *r.get("sighting_ids", ()))), None)
        self.current = None
        if nxt is None:
            self.view.detail = None
            self.view.set_mode("empty")
            self.closed.emit()
        else:
            self.open(nxt)

    def step_sighting(self, step: int) -> None:
        """Show the incident's next (or previous) sighting; the decision is recorded on the one shown."""
        detail = self.view.detail
        if detail is None or len(detail.sightings) < 2 or self.view.mode != "review":
            return
        nxt = detail.sightings[(detail.sighting_index + step) % len(detail.sightings)]["id"]
        self.open(int(nxt))

    def _after_decision(self, wait_ms: int = NEXT_ALERT_GUARD_MS) -> None:
        self.view.set_mode("busy")
        QTimer.singleShot(wait_ms, self.view, self.open_next)  # not after the view is gone

    def _failed(self, exc: Exception) -> None:
        self.view.failed(redact(str(exc)))

    # -- decisions ---------------------------------------------------------------------
    def confirm(self, alert_id: int, entry_id: int) -> None:
        """Confirm the candidate the operator was shown and asked about (``entry_id``)."""
        live = self.live

        def done(got) -> None:
            decision_id, shown = got
            if decision_id is None:  # two-person rule: the first of two confirmations
                self.queue.update_alert(alert_id, first_confirmed_by=live.operator.user_id)
                self.decided.emit(alert_id, "first_confirmation")
                say(self.view, "First confirmation recorded. The two-person rule applies: a second, different "
                    "user must confirm before it goes to engagement.", "done")
                self._after_decision()
                return
            self.queue.remove_alert(alert_id)
            self.decided.emit(alert_id, "true_alert")
            if shown is not None:  # a known-answer test: its truth now; nothing is sent, no outcome is asked
                self._revealed(shown)
                return
            named = [c for c in self.view.detail.candidates if c.entry_id == entry_id] if self.view.detail else []
            subject = named[0].subject_name if named else ""
            self.awaitingOutcome.emit(alert_id, subject)
            self.view.set_mode("outcome")
            self.send(alert_id, officer, subject)

        note = self.view.prompts.note  # an escalated alert's supervisor decides with a note
        officer = self.view.send_to.officer()  # as chosen when Enter was pressed
        self.jobs.submit(_then_reveal(live, alert_id, lambda: adjudication.confirm(
            live.store, live.operator, alert_id, note, entry_id=entry_id)), done, self._failed)

    def _revealed(self, shown) -> None:
        show_reveal(self.view, shown)
        self.revealed.emit(shown)
        self._after_decision(HOLD_MS)  # the decided pair stays a moment under its truth

    def send(self, alert_id: int, officer: str | None, subject: str = "") -> None:
        """A final confirmation goes to the officer chosen, or the team; with nobody paired it is still
        recorded, and the operator is told to radio."""
        live = self.live
        if live is None or not live.operator.may(Permission.DISPATCH):
            return

        def done(sent) -> None:
            to = "the team" if sent.to == dispatch.TEAM else sent.to
            if sent.reach == 0:
                say(self.view, f"{NOBODY_PAIRED}. The dispatch is recorded.", "refused")
            else:
                say(self.view, f"Sent to {to} ({sent.reach} officer{'s' if sent.reach != 1 else ''} with a handheld).",
                    "done")
            self.dispatched.emit(alert_id, subject)

        self.jobs.submit(lambda: dispatch.send(live.store, live.operator, alert_id, officer), done,
                         lambda exc: say(self.view, f"Not sent to the handhelds: {redact(str(exc))}. Radio the officers."))

    def reject(self, alert_id: int, reason: str) -> None:
        """A "different person" suppression is applied by the live deployment itself, on whichever seat
        or worker runs the camera, when the decision reaches the shared log."""
        live = self.live

        def done(got) -> None:
            self.queue.remove_alert(alert_id)
            self.decided.emit(alert_id, f"false_alert:{reason}")
            if got[1] is not None:
                self._revealed(got[1])
            else:
                self._after_decision()

        note = self.view.prompts.note
        self.jobs.submit(_then_reveal(live, alert_id, lambda: adjudication.reject(
            live.store, live.operator, alert_id, reason, note)), done, self._failed)

    def escalate(self, alert_id: int, note: str) -> None:
        """The incident leaves this operator's queue for the supervisors' seats (a supervisor's own
        escalation stays in theirs, at the top)."""
        live = self.live

        def done(_none) -> None:
            if live.operator.may(Permission.DECIDE_ESCALATED):  # it stays in a supervisor's queue
                self.queue.update_alert(alert_id, escalated_at="now", escalation_note=note)
            else:
                self.queue.remove_alert(alert_id)
            say(self.view, "Escalated: every supervisor's seat shows it now, with your note.", "done")
            self.decided.emit(alert_id, "escalated")
            self._after_decision()

        self.jobs.submit(lambda: adjudication.escalate(live.store, live.operator, alert_id, note), done, self._failed)

    def back(self, alert_id: int) -> None:
        live = self.live
        if self.view.mode == "outcome":  # "later": the outcome stays on the to-record list
            self._after_decision()
            return
        self.jobs.submit(lambda: adjudication.return_to_queue(live.store, live.operator, alert_id))
        self.current = None
        self.view.detail = None
        self.view.set_mode("empty")
        self.closed.emit()

    def record_outcome(self, alert_id: int, result: str, action: str, note: str) -> None:
        live = self.live

        def done(_id) -> None:
            self.decided.emit(alert_id, f"outcome:{result}")
            self._after_decision()

        self.jobs.submit(lambda: adjudication.record_outcome(live.store, live.operator, alert_id, result, action, note),
                         done, lambda exc: (self.view.failed(redact(str(exc))), self.view.set_mode("outcome")))

    # -- queue ---------------------------------------------------------------------------
    def load_alert_row(self, alert_id: int, on_done) -> None:
        live = self.live
        self.jobs.submit(lambda: escalation.load_row(live, alert_id), on_done)

    def load_queue(self, on_done) -> None:
        """The queue as this user sees it (an escalated incident, on a supervisor's seat, with its note)."""
        live = self.live
        self.jobs.submit(lambda: escalation.load_queue(live), on_done)
