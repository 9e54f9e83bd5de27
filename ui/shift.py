"""A shift change at a seat, without closing the console.

Sign out (the toolbar, Ctrl+Shift+Q, or "Switch user" on the idle lock) hands over: the user's
claims are released and a ``shift.handover`` entry logged (console/services/decisions/handover.py), the
window hides everything, and a hand-over screen lists what is waiting above the sign-in of the
next user. Recognition goes on underneath, as under the idle lock. The next user gets the queue
as their role sees it. Closing the window with incidents waiting asks first, and hands over too.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QListWidget, QMessageBox

from console.redaction import redact
from console.services.accounts import session
from console.services.accounts.permissions import Permission
from console.services.decisions import handover
from ui.login import LoginDialog


def handover_lines(result: handover.Handover) -> list[str]:
    out = []
    for p in result.pending:
        state = ("ESCALATED - a supervisor decides" if p["escalated"]
                 else "released by you" if p["id"] in result.released
                 else "open on another seat" if p["claimed_by"] else "waiting")
        seen = f", {p['sightings']} sightings" if p["sightings"] > 1 else ""
        out.append(f"Incident {p['incident_id']}: {p['subject']} on {p['camera']}{seen}  -  {state}")
    return out


class ShiftController(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: LoginDialog | None = None
        self.last: handover.Handover | None = None
        # The console a person runs asks before closing with incidents waiting (ui/app.py run_gui sets
        # this); a window made for a test or a screenshot is closed by its harness without a person.
        self.ask_on_close = False

    # -- sign out, hand over -------------------------------------------------------------
    def sign_out(self) -> None:
        """Hand over and ask for the next user; nothing shows while nobody is signed in."""
        w, live = self.window, self.window.live
        if live is None or self.dialog is not None:
            return
        lock = w.session_lock
        lock.idle_timer.stop()
        lock.locked = True  # no idle lock over the hand-over screen
        w.review.renew_timer.stop()
        w.review.current = None
        w.view.detail = None
        w.view.set_mode("empty")
        w.center.setCurrentWidget(w.grid_host)
        w.centralWidget().hide()
        w.db_jobs.submit(lambda: handover.hand_over(live.store, live.operator, live.deployment_id),
                         self._handed_over, self._handover_failed)

    def _handover_failed(self, exc: Exception) -> None:
        """The hand-over could not be logged (a database fault): the claims lapse by themselves; the
        next user may still sign in."""
        self._ask_next(None, f"The hand-over could not be recorded: {redact(str(exc))}. Claims lapse by themselves "
                             "within a minute.")

    def _handed_over(self, result: handover.Handover) -> None:
        self.last = result
        self._ask_next(result, "")

    def _ask_next(self, result: handover.Handover | None, problem: str) -> None:
        w = self.window
        location = getattr(w, "location", None)
        gone = w.live.operator.username
        dialog = LoginDialog(lambda u, p: session.login(location, u, p), w, hint="")
        dialog.setWindowTitle("Shift change - Operator Review Console")
        layout = dialog.layout()
        title = layout.itemAt(0).widget()
        title.setText(f"{gone} signed out. Next user: sign in")
        summary = QLabel(problem or (result.summary() if result else ""))
        summary.setWordWrap(True)
        summary.setObjectName("heading")
        self.pending_list = QListWidget()
        self.pending_list.setWordWrap(True)  # a line says the incident whole, no sideways scrolling
        self.pending_list.addItems(handover_lines(result) if result else [])
        self.pending_list.setMinimumHeight(min(260, 40 + 24 * max(1, self.pending_list.count())))
        self.pending_list.setVisible(self.pending_list.count() > 0)
        layout.insertWidget(1, summary)
        layout.insertWidget(2, self.pending_list)
        dialog.setMinimumWidth(760)
        self.summary = summary
        self.dialog = dialog
        dialog.finished.connect(self._signed_in)
        dialog.open()

    def _signed_in(self, result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if result and dialog is not None and dialog.actor is not None:
            self.switch_to(dialog.actor)
        elif self.window.live is not None and self.window.isVisible():  # nobody passes but by signing in
            self._ask_next(self.last, "")

    def switch_to(self, actor) -> None:
        """The next user takes the seat: the same deployment, its queue as their role sees it."""
        w, live = self.window, self.window.live
        live.operator = actor
        while w.alerts.rows:
            w.alerts.remove_alert(w.alerts.rows[0]["id"])
        w.queue.awaiting.clear()
        w.queue.remove_awaiting(-1)  # hides the emptied list
        w.session_lock.locked = False
        w.enable_idle_lock(actor, w.session_lock.idle_lock_s)
        w.review.renew_timer.start()
        w.centralWidget().show()
        w.status.show_deployment(live)
        if actor.may(Permission.ADJUDICATE):
            w.queue.empty_queue.setText("No alerts waiting.")
            w.review.load_queue(lambda rows: [w.alerts.add_alert(r) for r in rows])
        else:
            w.queue.empty_queue.setText(f"Alerts are reviewed by operators and supervisors; your role "
                                        f"({actor.role}) does not see the queue.")
        w._update_actions()
        w._queue_changed()
        w.queue.take_focus()  # the next user's Enter opens their first incident

    # -- closing ----------------------------------------------------------------------------
    def may_close(self) -> bool:
        """Closing with incidents waiting asks first; a yes hands over (claims released, logged)."""
        w, live = self.window, self.window.live
        if live is None:
            return True
        waiting = len(w.alerts.rows)
        if waiting and self.ask_on_close and live.operator.may(Permission.ADJUDICATE):
            answer = QMessageBox.question(
                w, "Operator Review Console",
                f"{waiting} incident(s) are waiting for review on this deployment.\n\nIf you close the console, "
                "nobody at this seat will see them. Close anyway? (Your open alerts are handed back.)",
                QMessageBox.StandardButton.Close | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Close:
                return False
        w.db_jobs.submit(lambda: handover.hand_over(live.store, live.operator, live.deployment_id))
        return True
