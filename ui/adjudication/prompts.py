"""The decision prompts as a state machine: which step is in progress, what has been picked,
and when a key becomes a request.

A confirm is deliberate and names the person: C asks "Confirm: <name>, <record>, score <s>?"
for the candidate on screen, Enter confirms that candidate. A candidate other than the top one
takes one more key (C again) before the question. A reject needs one of the fixed reasons:
R shows them, a number picks one, Enter records it. After a confirm the outcome may be
recorded at once (a result and an action by number, Enter) or later (Esc). Nothing here
draws; the view follows ``changed`` and ``picked``. The review service still decides what is
allowed: a request is only a request.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from console.domain import EngagementAction, EngagementResult, RejectReason

MODES = ("empty", "review", "confirm_other", "confirm", "reject", "outcome", "busy")
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
    escalateRequested = Signal(int)
    returnRequested = Signal(int)
    outcomeRequested = Signal(int, str, str, str)
    changed = Signal()  # the mode or a pick changed: the view redraws the decision area
    picked = Signal(str, str)  # ("reason" | "result" | "action", code) chosen by a number key
    noteWanted = Signal()  # "other" was picked: the note says what was done

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

    def load(self, alert_id: int, pending: bool, may_decide: bool, mode: str = "review") -> None:
        """A newly shown alert: no picks yet; a decided alert only reviews (or records its outcome)."""
        self.alert_id, self.pending, self.may_decide = alert_id, pending, may_decide
        self.reason = self.result = self.action = None
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

    def ask_reject(self) -> None:
        if self.may_ask:
            self.set_mode("reject")

    def escalate(self) -> None:
        if self.may_ask:
            self.set_mode("busy")
            self.escalateRequested.emit(self.alert_id)

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
        if self.mode == "confirm" and self.candidate is not None:
            self.set_mode("busy")
            self.confirmRequested.emit(self.alert_id, self.candidate.entry_id)
        elif self.mode == "reject" and self.reason:
            self.set_mode("busy")
            self.rejectRequested.emit(self.alert_id, self.reason)
        elif self.mode == "outcome" and self.outcome_ready:
            self.set_mode("busy")
            self.outcomeRequested.emit(self.alert_id, self.result, self.action, note)

    def back(self) -> None:
        """Esc: cancel the step in progress, or leave the alert undecided."""
        if self.mode in ("confirm", "confirm_other", "reject"):
            self.set_mode("review")
        elif self.mode in ("review", "outcome", "empty") and self.alert_id is not None:
            self.returnRequested.emit(self.alert_id)
