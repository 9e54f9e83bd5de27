"""The decision prompts as a state machine: which step is in progress, what has been picked,
and when a key becomes a request.

A confirm is deliberate and names the person: C asks "Confirm: <name>, <record>, score <s>?"
for the candidate on screen, Enter confirms that candidate. A candidate other than the top one
takes one more key (C again) before the question. A reject needs one of the fixed reasons:
R shows them, a number picks one, Enter records it. An escalation needs a note: E asks for it,
Enter sends it. A key that can do nothing now says why (``notice``), never nothing. After a confirm the outcome may be
recorded at once (a result and an action by number, Enter) or later (Esc). Nothing here
draws; the view follows ``changed`` and ``picked``. The review service still decides what is
allowed: a request is only a request.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from console.domain import EngagementAction, EngagementResult, RejectReason

MODES = ("empty", "review", "confirm_other", "confirm", "reject", "outcome", "busy", "escalate", "note")
REASONS = tuple(RejectReason.offered())
RESULTS = tuple(EngagementResult.codes())
ACTIONS = tuple(EngagementAction.codes())
FIRST_ACTION_KEY = len(RESULTS) + 1  # results are numbered from 1, actions after them


@dataclass(frozen=True)
class Candidate:
    """The candidate on screen, as the confirm question names it."""

    rank: int
    entry_id: int
    name: str
    record_number: str
    score: float | None  # None: a blind second confirmation (the score is not shown)

    def question(self) -> str:
        if self.score is None:
            return f"Confirm: {self.name}, {self.record_number}? (second confirmation: the score stays hidden)"
        return f"Confirm: {self.name}, {self.record_number}, score {self.score:.2f}?"


class DecisionPrompts(QObject):
    confirmRequested = Signal(int, int)  # alert id, the confirmed candidate's watchlist entry
    rejectRequested = Signal(int, str)
    escalateRequested = Signal(int, str)  # alert id, the note for the supervisor
    returnRequested = Signal(int)
    outcomeRequested = Signal(int, str, str, str)
    changed = Signal()  # the mode or a pick changed: the view redraws the decision area
    picked = Signal(str, str)  # ("reason" | "result" | "action", code) chosen by a number key
    noteWanted = Signal()  # "other" was picked: the note says what was done
    notice = Signal(str)  # a key or button that can do nothing now: why (shown over the view)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.mode = "empty"
        self.alert_id: int | None = None
        self.pending = False
        self.may_decide = True
        self.reason: str | None = None
        self.result: str | None = None
        self.action: str | None = None
        self.candidate: Candidate | None = None
        # An escalated alert is decided by a supervisor with a note: after the confirm or reject
        # step the "note" mode asks for it, then the step is sent with ``note`` set.
        self.needs_note = False
        self.note = ""
        self._noted_step = ""

    # -- what the view shows ----------------------------------------------------------
    @property
    def may_ask(self) -> bool:
        """Whether Confirm, Reject and Escalate are offered now."""
        return self.mode == "review" and self.alert_id is not None and self.pending and self.may_decide

    @property
    def reject_ready(self) -> bool:
        return self.reason is not None

    @property
    def outcome_ready(self) -> bool:
        return self.result is not None and self.action is not None

    # -- state ------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown prompt mode {mode!r}")
        self.mode = mode
        self.changed.emit()

    def load(self, alert_id: int, pending: bool, may_decide: bool, mode: str = "review",
             needs_note: bool = False) -> None:
        """A newly shown alert: no picks yet; a decided alert only reviews (or records its outcome)."""
        self.alert_id, self.pending, self.may_decide = alert_id, pending, may_decide
        self.reason = self.result = self.action = None
        self.needs_note, self.note, self._noted_step = needs_note, "", ""
        self.set_mode(mode if pending or mode == "outcome" else "review")

    def set_candidate(self, candidate: Candidate | None) -> None:
        """The candidate now on screen. Turning to another one cancels a confirm in progress: the
        question must always name the person being looked at."""
        self.candidate = candidate
        if self.mode in ("confirm", "confirm_other"):
            self.set_mode("review")

    def clear(self) -> None:
        """No alert on screen."""
        self.alert_id = None
        self.pending = False

    def choose(self, kind: str, code: str) -> None:
        """A pick by mouse or key: ``kind`` is reason, result or action."""
        setattr(self, kind, code)
        self.changed.emit()

    # -- commands (keys and buttons) ----------------------------------------------------
    def ask_confirm(self) -> None:
        """C: the question for the top candidate; for another candidate, first a warning that it is
        not the top match, and C again for the question."""
        if self.mode == "confirm_other":
            self.set_mode("confirm")
        elif self.may_ask and self.candidate is not None:
            self.set_mode("confirm" if self.candidate.rank == 1 else "confirm_other")
        else:
            self._why_not("confirm")

    def ask_reject(self) -> None:
        if self.may_ask:
            self.set_mode("reject")
        else:
            self._why_not("reject")

    def escalate(self) -> None:
        """E: ask for the note the supervisor will read; Enter sends it."""
        if self.may_ask:
            self.set_mode("escalate")
        else:
            self._why_not("escalate")

    def _why_not(self, what: str) -> None:
        if self.mode in ("busy", "escalate", "note", "reject", "confirm", "confirm_other"):
            return  # a step is in progress; its own prompt is on screen
        if self.alert_id is None:
            self.notice.emit(f"Nothing to {what}: open an alert first (select it in the queue, then Enter).")
        elif not self.pending:
            self.notice.emit(f"This alert is decided already: nothing to {what}. A supervisor may correct it "
                             "from the decision log (F10).")
        elif not self.may_decide:
            self.notice.emit("This alert was escalated: a supervisor decides it.")
        elif self.mode == "outcome":
            self.notice.emit("Record the outcome first (a result and an action, then Enter), or Esc for later.")

    def pick(self, number: int) -> None:
        """A number key: a reason in the reject prompt; a result (1-3) or an action (4-7) in the
        outcome prompt. Anywhere else it does nothing."""
        if self.mode == "reject":
            if 1 <= number <= len(REASONS):
                self._pick("reason", REASONS[number - 1])
        elif self.mode == "outcome":
            if 1 <= number <= len(RESULTS):
                self._pick("result", RESULTS[number - 1])
            elif FIRST_ACTION_KEY <= number < FIRST_ACTION_KEY + len(ACTIONS):
                code = ACTIONS[number - FIRST_ACTION_KEY]
                self._pick("action", code)
                if code == EngagementAction.OTHER:
                    self.noteWanted.emit()

    def _pick(self, kind: str, code: str) -> None:
        self.choose(kind, code)
        self.picked.emit(kind, code)

    def commit(self, note: str = "") -> None:
        """Enter: finish the step in progress (never a decision from the plain review state)."""
        if self.alert_id is None:
            return
        if self.mode == "note":
            if not note.strip():
                self.notice.emit("An escalated alert is decided with a note: write why, then Enter.")
                return
            self.note = note.strip()
            self.set_mode(self._noted_step)
        if self.needs_note and not self.note and (self.mode == "confirm" and self.candidate is not None
                                                  or self.mode == "reject" and self.reason):
            self._noted_step = self.mode
            self.set_mode("note")
            return
        if self.mode == "confirm" and self.candidate is not None:
            self.set_mode("busy")
            self.confirmRequested.emit(self.alert_id, self.candidate.entry_id)
        elif self.mode == "reject" and self.reason:
            self.set_mode("busy")
            self.rejectRequested.emit(self.alert_id, self.reason)
        elif self.mode == "reject":
            self.notice.emit(f"Pick a reason first: number keys 1-{len(REASONS)}, then Enter. Esc cancels.")
        elif self.mode == "escalate" and note.strip():
            self.set_mode("busy")
            self.escalateRequested.emit(self.alert_id, note.strip())
        elif self.mode == "escalate":
            self.notice.emit("An escalation needs a note: write what the supervisor should look at, then Enter.")
        elif self.mode == "outcome" and self.outcome_ready:
            self.set_mode("busy")
            self.outcomeRequested.emit(self.alert_id, self.result, self.action, note)
        elif self.mode == "outcome":
            self.notice.emit("Pick a result (1-3) and an action (4-7), then Enter. Esc records it later.")
        elif self.mode == "review" and self.may_ask:
            self.notice.emit("Enter commits a step: press C to confirm, R to reject or E to escalate first.")

    def back(self) -> None:
        """Esc: cancel the step in progress, or leave the alert undecided."""
        if self.mode in ("confirm", "confirm_other", "reject", "escalate", "note"):
            self.note = ""
            self.set_mode("review")
        elif self.mode in ("review", "outcome", "empty") and self.alert_id is not None:
            self.returnRequested.emit(self.alert_id)
