"""The decision prompts as a state machine, without a widget: which key asks, which records."""

import pytest

from ui.adjudication import DecisionPrompts


@pytest.fixture
def prompts(qapp):
    p = DecisionPrompts()
    p.sent = []
    for name in ("confirmRequested", "rejectRequested", "escalateRequested", "returnRequested", "outcomeRequested"):
        getattr(p, name).connect(lambda *args, n=name: p.sent.append((n, *args)))
    p.load(7, pending=True, may_decide=True)
    return p


def test_confirm_asks_first_and_enter_confirms(prompts):
    prompts.commit()
    assert prompts.sent == [] and prompts.mode == "review"  # Enter alone never decides
    prompts.ask_confirm()
    assert prompts.mode == "confirm" and prompts.sent == []
    prompts.commit()
    assert prompts.sent == [("confirmRequested", 7)] and prompts.mode == "busy"


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
