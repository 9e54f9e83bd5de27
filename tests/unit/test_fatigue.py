"""Time at the seat without a break (issue 29, item 4), in the services, on a real SQLite store with the
wall clock moved: the spell starts at sign-in, a break stops it and its end starts a new one, an idle-lock
unlock is no break, a hand-over gives the next user a fresh spell, the prompt is due after the deployment's
period and again every 15 minutes, and the period is a governed setting a supervisor changes with a reason."""

import json

import pytest

from console import clock
from console.errors import ConsoleError, PermissionDenied
from console.services.accounts import auth
from console.services.decisions import fatigue, handover
from console.store import audit, governed, repo
from tests.factories import password_hash, small_deployment

T0 = 1_800_000_000.0  # 2027-01-15, a fixed wall clock the tests move
PASSWORD = "Night-Shift-Keeper-2049"


@pytest.fixture
def wall(monkeypatch):
    now = [T0]
    monkeypatch.setattr(clock, "_wall", lambda: now[0])

    def move(minutes: float) -> None:
        now[0] += minutes * 60

    move.now = lambda: now[0]
    return move


@pytest.fixture
def seat(store, wall):
    d = small_deployment(store)
    for name in ("ann", "bob"):
        repo.create_user(store, name, name.title(), "operator", password_hash=password_hash(PASSWORD))
    return d


def entries(store, action):
    return [dict(r) | {"details": json.loads(r["details_json"])}
            for r in store.query("SELECT * FROM audit_log WHERE action = ? ORDER BY seq", (action,))]


def test_the_spell_starts_at_sign_in_and_the_prompt_is_due_after_the_period(seat, wall):
    ann = auth.login(seat.store, "ann", PASSWORD)
    wall(119)
    s = fatigue.spell(seat.store, ann, seat.deployment_id)
    assert s.since == "sign-in" and s.ask_after_min == 120 and s.text() == "1 h 59 min"
    assert not s.due() and not fatigue.should_prompt(s, None)
    wall(1)
    s = fatigue.spell(seat.store, ann, seat.deployment_id)
    assert s.due() and s.text() == "2 h 00 min" and fatigue.should_prompt(s, None)


def test_an_ignored_prompt_comes_back_every_15_minutes_and_each_is_logged(seat, wall):
    ann = auth.login(seat.store, "ann", PASSWORD)
    wall(120)
    s = fatigue.spell(seat.store, ann, seat.deployment_id)
    shown = wall.now()
    fatigue.record_prompt(seat.store, ann, seat.deployment_id, s, repeat=0)
    wall(14.9)
    assert not fatigue.should_prompt(s, shown)
    wall(0.1)
    assert fatigue.should_prompt(s, shown)
    fatigue.record_prompt(seat.store, ann, seat.deployment_id, s, repeat=1)
    fatigue.answer(seat.store, ann, seat.deployment_id, "later", s)
    prompts = entries(seat.store, fatigue.PROMPTED)
    assert [(p["actor"], p["details"]["repeat"], p["details"]["minutes_at_seat"]) for p in prompts] == [
        ("ann", 0, 120), ("ann", 1, 135)]
    (answered,) = entries(seat.store, fatigue.ANSWERED)
    assert answered["details"]["response"] == "later" and answered["subject_id"] == str(seat.deployment_id)
    with pytest.raises(ConsoleError, match="unknown answer"):
        fatigue.answer(seat.store, ann, seat.deployment_id, "never", s)


def test_a_break_stops_the_count_and_its_end_starts_a_new_spell(seat, wall):
    ann = auth.login(seat.store, "ann", PASSWORD)
    wall(130)
    ended = fatigue.start_break(seat.store, ann, seat.deployment_id)
    assert ended.text() == "2 h 10 min"
    wall(20)
    on_break = fatigue.spell(seat.store, ann, seat.deployment_id)
    assert on_break.on_break and not on_break.due()
    fatigue.start_break(seat.store, ann, seat.deployment_id)  # twice: one break
    back = fatigue.end_break(seat.store, ann, seat.deployment_id)
    assert back.since == "the end of a break" and back.seconds() == 0 and not back.on_break
    wall(119)
    assert not fatigue.spell(seat.store, ann, seat.deployment_id).due()
    (started,) = entries(seat.store, fatigue.BREAK_STARTED)
    (finished,) = entries(seat.store, fatigue.BREAK_ENDED)
    assert started["details"]["minutes_at_seat"] == 130 and finished["details"]["break_min"] == 20
    assert fatigue.end_break(seat.store, ann, seat.deployment_id).since == "the end of a break"  # no break: no entry
    assert len(entries(seat.store, fatigue.BREAK_ENDED)) == 1


def test_the_password_again_after_the_idle_lock_is_no_break(seat, wall, tmp_path):
    from console.services.accounts import session

    ann = auth.login(seat.store, "ann", PASSWORD)
    wall(100)
    session.unlock(tmp_path / "data", ann, PASSWORD)  # the idle lock's unlock: a sign-in entry and session.unlocked
    wall(20)
    s = fatigue.spell(seat.store, ann, seat.deployment_id)
    assert s.since == "sign-in" and s.text() == "2 h 00 min" and s.due()


def test_a_hand_over_gives_the_next_user_a_fresh_spell(seat, wall):
    ann = auth.login(seat.store, "ann", PASSWORD)
    wall(125)
    assert fatigue.spell(seat.store, ann, seat.deployment_id).due()
    handover.hand_over(seat.store, ann, seat.deployment_id)
    wall(1)
    bob = auth.login(seat.store, "bob", PASSWORD)  # on the hand-over screen
    s = fatigue.spell(seat.store, bob, seat.deployment_id)
    assert s.since == "sign-in" and s.seconds() == 0 and not s.due()
    # ann's own record ends at her hand-over: the seat no longer counts her time
    assert fatigue.spell(seat.store, ann, seat.deployment_id).since == "a hand-over"


def test_a_seat_opened_without_a_sign_in_counts_from_when_it_took_the_operator_on(seat, wall):
    ann = auth.login(seat.store, "ann", PASSWORD)  # signed in long before, on an earlier run of the console
    wall(fatigue.SEAT_OPENING_S / 60 + 1)
    seated = clock.utcnow()
    wall(120)
    s = fatigue.spell(seat.store, ann, seat.deployment_id, seated)
    assert s.since == "the seat opened" and s.text() == "2 h 00 min" and s.due()
    auth.login(seat.store, "ann", PASSWORD)  # a sign-in after the seat took her on starts the spell
    assert fatigue.spell(seat.store, ann, seat.deployment_id, seated).since == "sign-in"
    wall(1)  # and one moments before the seat took her on (the deployment opening in between) is the start too
    assert fatigue.spell(seat.store, ann, seat.deployment_id, clock.utcnow()).seconds() == 60


def test_the_period_is_a_governed_setting_a_supervisor_changes_with_a_reason(seat, wall):
    sup, ann = auth.actor_for(seat.store, "sup"), auth.login(seat.store, "ann", PASSWORD)
    assert fatigue.config(seat.store, seat.deployment_id) == {"ask_after_min": 120}
    with pytest.raises(PermissionDenied):
        fatigue.configure(seat.store, ann, seat.deployment_id, 600, "I am fine")
    refused = entries(seat.store, "access.refused")
    assert refused[-1]["actor"] == "ann" and refused[-1]["subject_id"] == "manage_deployment"
    with pytest.raises(ConsoleError, match="needs a reason"):
        fatigue.configure(seat.store, sup, seat.deployment_id, 90, "  ")
    for bad in (5, 1000, 90.5):
        with pytest.raises(ConsoleError, match="whole minutes"):
            fatigue.configure(seat.store, sup, seat.deployment_id, bad, "night shift")
    assert fatigue.configure(seat.store, sup, seat.deployment_id, 90, "night shift: shorter spells") == {
        "ask_after_min": 90}
    (changed,) = [e for e in entries(seat.store, "setting.changed") if e["subject_id"].endswith("/fatigue")]
    assert changed["actor"] == "sup" and changed["subject_id"] == f"deployment/{seat.deployment_id}/fatigue"
    assert changed["details"]["reason"] == "night shift: shorter spells"
    assert changed["details"]["old"] is None and changed["details"]["new"] == {"ask_after_min": 90}
    assert changed["details"]["governed"] == {"value": {"ask_after_min": 90}}
    assert governed.verify(seat.store) == [] and audit.verify_chain(seat.store).ok
    wall(90)
    assert fatigue.spell(seat.store, ann, seat.deployment_id).due()
    with seat.store.transaction() as conn:  # a hand edit of the period is found by the audit
        conn.execute("UPDATE settings SET value_json = ? WHERE key = 'fatigue'", ('{"ask_after_min":600}',))
    assert any("fatigue" in p for p in governed.verify(seat.store))


def test_at_seat_text():
    assert [fatigue.at_seat_text(s) for s in (0, 59, 45 * 60, 7199, 7200, 3600 * 10 + 61)] == [
        "0 min", "0 min", "45 min", "1 h 59 min", "2 h 00 min", "10 h 01 min"]
