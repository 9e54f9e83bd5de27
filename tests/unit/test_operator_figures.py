"""Per-operator figures (console/services/accuracy/operators.py) on a real SQLite store: a scripted
operator who confirms everything, a supervisor's blind second look that rejects everything."""

import json

import pytest

from console.errors import ConsoleError, PermissionDenied
from console.services.accounts import auth
from console.services.accounts.auth import actor_for
from console.services.accuracy import operators
from console.services.accuracy.operators import rate, wilson
from console.services.decisions import adjudication
from console.services.record import audit_trail, reports
from console.store import repo
from tests.factories import SetClock, password_hash, small_deployment

OP_PASSWORD = "an operator's green passphrase"
START = 1_767_254_400.0  # 2026-01-01T08:00:00Z


@pytest.mark.parametrize("k, n, low, high", [(0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0), (5, 10, 0.2366, 0.7634),
                                              (1, 100, 0.0018, 0.0545), (0, 1, 0.0, 0.7935)])
def test_wilson_matches_known_values(k, n, low, high):
    assert wilson(k, n) == pytest.approx((low, high), abs=1e-4)


def test_wilson_refuses_what_has_no_interval_and_a_rate_of_nothing_is_none():
    for k, n in ((0, 0), (3, 2), (-1, 4)):
        with pytest.raises(ConsoleError):
            wilson(k, n)
    assert rate(0, 0) == {"k": 0, "n": 0, "rate": None, "low": None, "high": None}
    assert rate(10, 10) == {"k": 10, "n": 10, "rate": 1.0, "low": 0.7225, "high": 1.0}


def scripted_world(store, clock):
    """'op' signs in at 08:00 and confirms ten alerts, one every 25 minutes, each after 4 s; the
    supervisor draws all ten for a blind look and rejects every one. (tests/ui uses it too.)"""
    d = small_deployment(store)
    repo.create_user(store, "op", "Op", "operator", password_hash=password_hash(OP_PASSWORD))
    op = auth.login(store, "op", OP_PASSWORD)
    sup = actor_for(store, "sup")
    ids = [d.alert(track=i) for i in range(10)]
    for i, alert_id in enumerate(ids):
        clock.at(i * 25 * 60)
        adjudication.open_alert(store, op, alert_id)
        clock.at(i * 25 * 60 + 4)
        adjudication.confirm(store, op, alert_id)
    clock.at(6 * 3600)
    sample = reports.draw_sample(store, sup, d.deployment_id, 10, seed=3)
    for row in reports.blind_view(store, sup, sample):
        reports.blind_decide(store, sup, sample, row["alert_id"], "false_alert")
    return store, d, op, sup


@pytest.fixture
def world(store, monkeypatch):
    return scripted_world(store, SetClock(monkeypatch, START))


def _op(figures):
    return next(f for f in figures if f["operator"] == "op")


def test_an_operator_who_confirms_everything_shows_every_possible_false_confirmation(world):
    store, d, _op_actor, sup = world
    figures = operators.operator_figures(store, sup, d.deployment_id)
    assert [f["operator"] for f in figures] == ["op"]  # the supervisor decided nothing of their own
    me = _op(figures)
    assert (me["decisions"], me["confirmed"]) == (10, 10)
    assert me["decision_time"] == {"n": 10, "median_s": 4.0, "p90_s": 4.0}
    blind = me["blind_review"]
    assert blind["n"] == 10
    assert blind["agreement"] == {"k": 0, "n": 10, "rate": 0.0, "low": 0.0, "high": 0.2775}
    assert blind["false_confirmations"] == {"k": 10, "n": 10, "rate": 1.0, "low": 0.7225, "high": 1.0}
    assert blind["missed_confirmations"]["n"] == 0 and blind["missed_confirmations"]["rate"] is None
    known = me["known_answer"]  # the known-answer tests are not built yet: their slots read nothing
    assert known["n"] == 0 and known["false_confirmations"]["rate"] is None and known["missed_confirmations"]["low"] is None


def test_decisions_are_grouped_by_whole_hours_since_the_sign_in(world):
    store, d, _op_actor, sup = world
    hours = _op(operators.operator_figures(store, sup, d.deployment_id))["by_hour"]
    # decisions at 0, 25, 50, ... 225 minutes after signing in (plus 4 s)
    assert [(h["hour"], h["decisions"]) for h in hours] == [(0, 3), (1, 2), (2, 3), (3, 2)]
    assert all(h["decision_time"]["median_s"] == 4.0 for h in hours)
    assert [h["blind_agreement"]["n"] for h in hours] == [3, 2, 3, 2]
    assert all(h["blind_agreement"]["k"] == 0 for h in hours)


def test_a_new_sign_in_starts_a_new_shift_and_a_sign_in_for_something_else_does_not(world, monkeypatch):
    store, d, op, _sup = world
    shifts = operators.Shifts(store)
    assert shifts.hour(op.user_id, "2026-01-01T10:30:00Z") == 2
    clock = SetClock(monkeypatch, START + 11 * 3600)
    auth.login(store, "op", OP_PASSWORD, purpose="password change")
    assert operators.Shifts(store).hour(op.user_id, "2026-01-01T19:30:00Z") == 11
    clock.at(60)
    auth.login(store, "op", OP_PASSWORD)
    assert operators.Shifts(store).hour(op.user_id, "2026-01-01T19:30:00Z") == 0
    assert operators.Shifts(store).hour(op.user_id, "2025-12-31T19:30:00Z") is None  # before any sign-in


def test_the_rule_flags_on_the_lower_bound_and_is_a_supervisors_logged_setting(world):
    store, d, op, sup = world
    dep = d.deployment_id
    assert operators.flag_rule(store, dep) == {"limit": 0.05, "min_tests": 10, "set": False}
    me = _op(operators.operator_figures(store, sup, dep))
    assert me["flagged"] and me["flagged_by"] == ["blind_review"]  # lower bound 0.7225 > 0.05, n 10 >= 10
    with pytest.raises(PermissionDenied):
        operators.set_flag_rule(store, op, dep, 0.5, 5, "an operator may not")
    with pytest.raises(ConsoleError, match="reason"):
        operators.set_flag_rule(store, sup, dep, 0.5, 5, " ")
    with pytest.raises(ConsoleError, match="between 0 and 1"):
        operators.set_flag_rule(store, sup, dep, 5, 5, "five percent")
    operators.set_flag_rule(store, sup, dep, 0.8, 10, "a lenient rule, to see it unflag")
    assert not _op(operators.operator_figures(store, sup, dep))["flagged"]  # 0.7225 is not above 0.8
    operators.set_flag_rule(store, sup, dep, 0.05, 11, "more tests first")
    assert not _op(operators.operator_figures(store, sup, dep))["flagged"]  # only 10 tests
    entry = store.one("SELECT details_json FROM audit_log WHERE action = 'setting.changed' ORDER BY seq DESC LIMIT 1")
    details = json.loads(entry["details_json"])
    assert details["new"] == {"limit": 0.05, "min_tests": 11} and details["reason"] == "more tests first"
    assert details["governed"]  # the row is held against the log (audit verify)
    with pytest.raises(PermissionDenied):
        operators.operator_figures(store, op, dep)  # an operator does not read the others' figures


def test_what_the_supervisor_did_is_an_audit_entry_with_the_figures_seen(world):
    store, d, op, sup = world
    dep = d.deployment_id
    with pytest.raises(PermissionDenied):
        operators.record_action(store, op, dep, "op", "I retrained myself")
    with pytest.raises(ConsoleError, match="say what was done"):
        operators.record_action(store, sup, dep, "op", "  ")
    with pytest.raises(ConsoleError, match="no account"):
        operators.record_action(store, sup, dep, "nobody", "retrained")
    seq = operators.record_action(store, sup, dep, "op", "Retrained on look-alikes; second person on their alerts")
    row = store.one("SELECT actor, action, subject_type, subject_id, details_json FROM audit_log WHERE seq = ?", (seq,))
    assert (row["actor"], row["action"], row["subject_type"], row["subject_id"]) == (
        "sup", "operator.flag_action", "deployment", str(dep))
    details = json.loads(row["details_json"])
    assert details["operator"] == "op" and details["flagged"] is True
    assert details["false_confirmations"]["blind_review"]["low"] == 0.7225
    assert [(a["operator"], a["by"], a["flagged"]) for a in operators.actions_taken(store, sup, dep)] == [
        ("op", "sup", True)]
    operators.set_flag_rule(store, sup, dep, 0.1, 20, "stricter evidence before a flag")
    check = audit_trail.integrity(store)
    assert check.ok, check.lines()  # the entries and the governed setting hold against the log


def test_the_record_carries_the_pooled_figures_and_no_name(world):
    store, d, _op_actor, sup = world
    record = reports.deployment_record(store, sup, d.deployment_id)
    pooled = record["operator_accuracy"]
    assert pooled["operators"] == 1 and pooled["operators_flagged"] == 1
    assert pooled["blind_review"]["false_confirmations"] == {"k": 10, "n": 10, "rate": 1.0, "low": 0.7225, "high": 1.0}
    assert pooled["known_answer"]["n"] == 0
    assert pooled["decision_time"]["median_s"] == 4.0
    assert '"op"' not in json.dumps(pooled) and "user_id" not in json.dumps(pooled)


def test_a_blind_look_by_the_one_who_decided_is_not_a_second_look(store):
    d = small_deployment(store)
    sup = actor_for(store, "sup")
    for i in range(3):
        alert_id = d.alert(track=i)
        adjudication.open_alert(store, sup, alert_id)
        adjudication.reject(store, sup, alert_id, "look_alike")
    sample = reports.draw_sample(store, sup, d.deployment_id, 3, seed=1)
    for row in reports.blind_view(store, sup, sample):
        reports.blind_decide(store, sup, sample, row["alert_id"], "true_alert")
    me = operators.operator_figures(store, sup, d.deployment_id)[0]
    assert me["decisions"] == 3 and me["blind_review"]["n"] == 0


def test_the_pdf_and_the_record_tab_print_the_pooled_paragraph(world):
    from console.services.record import signing
    from tests.pdf_text import pdf_text
    from ui.record_pdf import render_record_pdf
    from ui.review.record_html import document_html

    store, d, _op_actor, _sup = world
    doc = signing.document(store, d.deployment_id)
    text = " ".join(pdf_text(render_record_pdf(doc)).split())
    assert "The operators' decisions" in text
    assert "possible false confirmations (confirmed where the second look rejected) 100.0 % [72.2-100.0 %] (n 10)" in text
    assert "Known-answer tests: none yet." in text and "operators it flags: 1." in text
    assert " op " not in text.replace("(", " ").replace(")", " ")  # no operator is named
    assert "100.0 % [72.2-100.0 %] (n 10)" in document_html(doc)


def test_the_same_figures_on_both_databases(db, monkeypatch):
    store, d, _op_actor, sup = scripted_world(db, SetClock(monkeypatch, START))
    me = _op(operators.operator_figures(store, sup, d.deployment_id))
    assert me["blind_review"]["false_confirmations"] == {"k": 10, "n": 10, "rate": 1.0, "low": 0.7225, "high": 1.0}
    assert [(h["hour"], h["decisions"]) for h in me["by_hour"]] == [(0, 3), (1, 2), (2, 3), (3, 2)]
