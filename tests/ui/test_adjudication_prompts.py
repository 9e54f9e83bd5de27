"""The decision prompts as a state machine, without a widget: which key asks, which records."""

import pytest

from ui.adjudication import DecisionPrompts
from ui.adjudication.prompts import Candidate

TOP = Candidate(1, 41, "Demo subject B", "DEMO-0002", 0.6912)
SECOND = Candidate(2, 42, "Demo subject A", "DEMO-0001", 0.4133)


@pytest.fixture
def prompts(qapp):
    p = DecisionPrompts()
    p.sent = []
    for name in ("confirmRequested", "rejectRequested", "escalateRequested", "returnRequested", "outcomeRequested"):
        getattr(p, name).connect(lambda *args, n=name: p.sent.append((n, *args)))
    p.set_candidate(TOP)
    p.load(7, pending=True, may_decide=True)
    return p


def test_confirm_asks_first_and_enter_confirms(prompts):
    prompts.commit()
    assert prompts.sent == [] and prompts.mode == "review"  # Enter alone never decides
    prompts.ask_confirm()
    assert prompts.mode == "confirm" and prompts.sent == []
    assert TOP.question() == "Confirm: Demo subject B, DEMO-0002, score 0.69?"
    prompts.commit()
    assert prompts.sent == [("confirmRequested", 7, 41)] and prompts.mode == "busy"


def test_confirming_another_candidate_than_the_top_one_takes_one_more_key(prompts):
    prompts.set_candidate(SECOND)
    prompts.ask_confirm()
    assert prompts.mode == "confirm_other"
    prompts.commit()  # Enter does not confirm from the warning
    assert prompts.sent == [] and prompts.mode == "confirm_other"
    prompts.ask_confirm()
    assert prompts.mode == "confirm"
    prompts.commit()
    assert prompts.sent == [("confirmRequested", 7, 42)]


def test_turning_to_another_candidate_cancels_the_question(prompts):
    prompts.ask_confirm()
    prompts.set_candidate(SECOND)  # the question named candidate 1: it must not confirm candidate 2
    assert prompts.mode == "review"
    prompts.commit()
    assert prompts.sent == []


def test_reject_needs_a_reason_picked_by_number(prompts):
    prompts.ask_reject()
    prompts.commit()
    assert prompts.sent == [] and not prompts.reject_ready
    picked = []
    prompts.picked.connect(lambda kind, code: picked.append((kind, code)))
    prompts.pick(9)  # no such reason
    prompts.pick(3)
    assert picked == [("reason", "look_alike")]
    prompts.commit()
    assert prompts.sent == [("rejectRequested", 7, "look_alike")]


def test_esc_cancels_a_prompt_then_returns_the_alert(prompts):
    prompts.ask_reject()
    prompts.back()
    assert prompts.mode == "review" and prompts.sent == []
    prompts.back()
    assert prompts.sent == [("returnRequested", 7)]


def test_outcome_needs_a_result_and_an_action_and_other_asks_for_the_note(prompts):
    prompts.set_mode("outcome")
    wanted = []
    prompts.noteWanted.connect(lambda: wanted.append(True))
    prompts.pick(2)
    prompts.commit("x")
    assert prompts.sent == [] and not prompts.outcome_ready
    prompts.pick(7)
    assert (prompts.result, prompts.action, wanted) == ("confirmed_false", "other", [True])
    prompts.commit("walked away")
    assert prompts.sent == [("outcomeRequested", 7, "confirmed_false", "other", "walked away")]


def test_an_escalated_or_decided_alert_offers_no_decision(prompts):
    prompts.load(8, pending=True, may_decide=False)
    prompts.ask_confirm()
    prompts.escalate()
    assert prompts.mode == "review" and prompts.sent == [] and not prompts.may_ask
    prompts.load(9, pending=False, may_decide=True, mode="confirm")
    assert prompts.mode == "review" and not prompts.may_ask
    prompts.clear()
    prompts.back()
    assert prompts.sent == []
