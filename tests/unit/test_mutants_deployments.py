"""Whether a deployment may recognise now, and its governed settings, exactly (mutation check,
issue 32): the window's edges to the second, each refusal's words, and each change's log entry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from console import clock
from console.errors import PermissionDenied
from console.services.accounts.auth import Actor, actor_for
from console.services.setup import deployments as dp
from console.services.setup.deployments import DeploymentError
from console.store import repo
from tests.factories import small_deployment

START = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
WINDOW = {"name": "Harbour", "state": "authorised", "starts_at": "2027-01-15T08:00:00Z",
          "ends_at": "2027-01-15T10:00:00Z", "stopped_at": "2027-01-15T09:00:00Z", "stop_reason": "crowd"}


def refused(fn, *args, kind=DeploymentError) -> str:
    with pytest.raises(kind) as caught:
        fn(*args)
    return str(caught.value)


def log(store, action):
    out = []
    for r in store.query("SELECT * FROM audit_log WHERE action = ? ORDER BY seq", (action,)):
        details = json.loads(r["details_json"])
        details.pop("governed", None)
        out.append((r["actor"], r["subject_type"], r["subject_id"], details))
    return out


@pytest.fixture
def room(store):
    d = small_deployment(store, operators=("op",))
    repo.create_user(store, "aud", "Auditor", "auditor")
    return store, d.deployment_id, actor_for(store, "sup"), actor_for(store, "op")


def test_the_window_opens_at_its_start_second_and_closes_at_its_end_second():
    assert dp.recognition_refusal(WINDOW, START) is None
    assert dp.recognition_refusal(WINDOW, START + timedelta(hours=2) - timedelta(seconds=1)) is None
    assert dp.recognition_refusal(WINDOW, START - timedelta(seconds=1)) == (
        "deployment 'Harbour' is authorised from 2027-01-15T08:00:00Z only (it is now 2027-01-15 07:59 UTC)")
    assert dp.recognition_refusal(WINDOW, START + timedelta(hours=2)) == (
        "deployment 'Harbour' was authorised until 2027-01-15T10:00:00Z; its window is over")


def test_each_state_that_may_not_recognise_says_why():
    def why(state):
        return dp.recognition_refusal({**WINDOW, "state": state}, START)

    assert why("draft") == "deployment 'Harbour' is a draft: a supervisor must authorise it first"
    assert why("ended") == "deployment 'Harbour' has ended"
    assert why("stopped") == ("recognition for deployment 'Harbour' was stopped at 2027-01-15T09:00:00Z (crowd); "
                              "only a supervisor can restart it")
    assert why("active") is None


def test_without_a_time_the_clock_decides(monkeypatch):
    monkeypatch.setattr(clock, "_wall", lambda: (START - timedelta(minutes=1)).timestamp())
    assert dp.recognition_refusal(WINDOW).startswith("deployment 'Harbour' is authorised from")
    monkeypatch.setattr(clock, "_wall", lambda: START.timestamp())
    assert dp.recognition_refusal(WINDOW) is None


def test_current_is_the_newest_open_now_and_refuses_clearly_when_none(room):
    store, dep, sup, _ = room
    assert dp.current(store) == dep
    assert dp.latest_id(store) == dep
    assert refused(dp.current, store, datetime(2100, 1, 1, tzinfo=UTC)) == (
        "this store has no deployment authorised for now: a supervisor creates and authorises one (or name one "
        "with --deployment); the demo runs with python main.py --demo")
    assert refused(dp.get, store, 999) == "deployment 999 does not exist"


def test_start_outside_the_window_is_refused_logged_and_joining_is_logged(room):
    store, dep, sup, op = room
    late = datetime(2100, 1, 1, tzinfo=UTC)
    assert refused(dp.start, store, op, dep, late).startswith("recognition refused: deployment 'D' was authorised until")
    assert [d["reason"].split(";")[0] for *_, d in log(store, "deployment.start_refused")] == [
        "deployment 'D' was authorised until 2099-01-01T00:00:00Z"]
    assert log(store, "deployment.start_refused")[0][:3] == ("op", "deployment", str(dep))
    dp.start(store, op, dep)
    assert log(store, "deployment.joined") == [("op", "deployment", str(dep), {"user_id": op.user_id,
                                                                             "role": "operator"})]
    with pytest.raises(PermissionDenied):
        dp.start(store, actor_for(store, "aud"), dep)


def test_stop_needs_the_right_role_and_a_reason_and_restart_a_supervisor(room):
    store, dep, sup, op = room
    dp.set_operator_may_stop(store, sup, dep, False, "reserved")
    message = refused(dp.stop, store, op, dep, "crowd", kind=PermissionDenied)
    assert message == "op (operator) may not stop deployment 'D': its supervisor has reserved the stop to supervisors"
    assert log(store, "access.refused")[-1] == ("op", "permission", "stop_recognition",
                                                {"role": "operator", "user_id": op.user_id, "deployment_id": dep})
    assert not dp.may_stop(repo.get_deployment(store, dep), op) and dp.may_stop(repo.get_deployment(store, dep), sup)
    assert refused(dp.stop, store, sup, dep, "  ") == \
        "stopping recognition needs a reason (it is logged and shown on every seat)"
    assert refused(dp.restart, store, sup, dep, "why") == "deployment 'D' is active, not stopped"
    dp.stop(store, sup, dep, "  crowd  ")
    assert log(store, "deployment.stopped") == [("sup", "deployment", str(dep), {"reason": "crowd",
                                                 "user_id": sup.user_id, "role": "supervisor", "state": "stopped"})]
    stopped_at = repo.get_deployment(store, dep)["stopped_at"]
    assert refused(dp.stop, store, sup, dep, "again") == \
        f"recognition for deployment 'D' is already stopped (since {stopped_at})"
    dp.start_or_join(store, op, dep)  # a seat coming up never undoes a stop
    assert repo.get_deployment(store, dep)["state"] == "stopped"
    assert refused(dp.restart, store, sup, dep, " ") == "restarting recognition needs a reason (it is logged)"
    with pytest.raises(PermissionDenied):
        dp.restart(store, op, dep, "go")
    assert refused(dp.restart, store, sup, dep, "go", datetime(2100, 1, 1, tzinfo=UTC)).startswith(
        "recognition cannot restart: deployment 'D' was authorised until")
    dp.restart(store, sup, dep, "  clear  ")
    assert log(store, "deployment.restarted") == [("sup", "deployment", str(dep), {"reason": "clear",
                                                 "stopped_at": stopped_at, "state": "active"})]
    dp.set_operator_may_stop(store, sup, dep, True, "night shift")
    assert dp.may_stop(repo.get_deployment(store, dep), op)
    dp.stop(store, op, dep, "smoke")
    assert repo.get_deployment(store, dep)["state"] == "stopped"


def test_end_is_once_and_leaves_the_deployment_read_only(room):
    store, dep, sup, op = room
    with pytest.raises(PermissionDenied):
        dp.end(store, op, dep)
    dp.end(store, None, dep)
    dp.end(store, sup, dep, "again")
    assert log(store, "deployment.ended") == [("system", "deployment", str(dep), {"reason": "window over", "state": "ended"})]
    assert refused(dp.ensure_writable, store, dep) == "deployment 'D' has ended and is read-only"
    assert refused(dp.stop, store, sup, dep, "x") == "deployment 'D' is ended: there is no recognition to stop"
    assert refused(dp.set_two_person_rule, store, sup, dep, True, "x") == "deployment 'D' has ended and is read-only"


def test_the_governed_switches_need_a_reason_and_are_logged(room):
    store, dep, sup, op = room
    assert refused(dp.set_operator_may_stop, store, sup, dep, True, " ") == \
        "changing who may stop recognition needs a reason"
    assert refused(dp.set_two_person_rule, store, sup, dep, True, " ") == "changing the two-person rule needs a reason"
    assert refused(dp.set_incident_window, store, sup, dep, 60, " ") == "changing the incident window needs a reason"
    for bad in (-1, dp.INCIDENT_WINDOW_MAX_S + 1):
        assert refused(dp.set_incident_window, store, sup, dep, bad, "r") == "the incident window is 0 to 3600 seconds"
    dp.set_incident_window(store, sup, dep, 0, "off")
    dp.set_incident_window(store, sup, dep, 3600, "long")
    dp.set_operator_may_stop(store, sup, dep, True, "night")
    dp.set_two_person_rule(store, sup, dep, True, "policy")
    assert log(store, "deployment.incident_window") == [
        ("sup", "deployment", str(dep), {"old": 0, "new": 0, "reason": "off"}),
        ("sup", "deployment", str(dep), {"old": 0, "new": 3600, "reason": "long"})]
    assert log(store, "deployment.stop_policy") == [("sup", "deployment", str(dep), {"operators_may_stop": True,
                                                                                   "reason": "night"})]
    assert log(store, "deployment.two_person_rule") == [("sup", "deployment", str(dep), {"on": True,
                                                                                       "reason": "policy"})]
    for fn, args in ((dp.set_operator_may_stop, (True, "r")), (dp.set_two_person_rule, (True, "r")),
                     (dp.set_incident_window, (60, "r"))):
        with pytest.raises(PermissionDenied):
            fn(store, op, dep, *args)
    with pytest.raises(PermissionDenied):
        dp.set_two_person_rule(store, Actor(sup.user_id, "sup", "operator"), dep, False, "r")


def test_cameras_show_sources_redacted_and_only_to_those_who_manage_them(room):
    store, dep, sup, op = room
    repo.add_camera(store, dep, "Gate", "rtsp://u:pw@cam/live", "sup")
    admin = Actor(0, "x", "administrator")
    shown = dp.cameras(store, admin, dep)
    assert shown[-1] == {"id": shown[-1]["id"], "name": "Gate", "source": "rtsp://***@cam/live"}
    assert [c["source"] for c in dp.cameras(store, op, dep)] == ["", ""]


class _Cal:
    """A calibration as model_floor reads it: its data and its threshold for n photos at a target."""

    def __init__(self, data, threshold):
        self.data, self.threshold, self.asked = data, threshold, []

    def threshold_for(self, n, target):
        self.asked.append((n, target))
        return self.threshold


def test_the_floor_is_the_calibrated_one_photo_threshold_or_the_published_one_if_higher(monkeypatch):
    from console.errors import ModelError
    from console.services.accuracy import calibration

    cals = {"hi": _Cal({"published_threshold": 0.9}, 0.41), "lo": _Cal({"published_threshold": 0.2}, 0.41),
            "none": _Cal({}, 0.41)}

    def load_for(model_id):
        if model_id not in cals:
            raise ModelError("no calibration shipped")
        return cals[model_id]

    monkeypatch.setattr(calibration, "load_for", load_for)
    assert dp.model_floor("hi") == 0.9
    assert dp.model_floor("lo") == dp.operating_point.rounded_up(0.41) == dp.model_floor("none")
    assert cals["lo"].asked == [(1, calibration.DEFAULT_TARGET)]
    assert refused(dp.model_floor, "x") == "no deployment of model 'x': no calibration shipped"


def _spec(**kw):
    from tests.unit.accountability_world import MODEL

    base = dict(name="Harbour", location="Pier 4", rationale="missing child", starts_at="2027-01-15T08:00:00Z",
                ends_at="2027-01-15T10:00:00Z", threshold=0.99, threshold_floor=0.0, model_id=MODEL,
                legal_basis="s.1")
    return repo.DeploymentSpec(**(base | kw))


def test_create_needs_every_field_an_end_after_the_start_and_a_threshold_in_range(room):
    store, dep, sup, op = room
    for field, words in (("name", "name"), ("location", "location"), ("rationale", "rationale"),
                         ("legal_basis", "legal basis")):
        assert refused(dp.create, store, sup, _spec(**{field: "  "})) == f"a deployment needs a {words}"
    assert refused(dp.create, store, sup, _spec(ends_at="2027-01-15T08:00:00Z")) == \
        "a deployment must end after it starts"
    floor = dp.model_floor(_spec().model_id)
    for bad in (float("nan"), floor - 0.001, 1.0):
        assert refused(dp.create, store, sup, _spec(threshold=bad)) == (
            f"threshold {bad} is outside the model's range: at least its calibrated floor {floor:.3f}, below 1")
    made = dp.create(store, sup, _spec(threshold=floor, threshold_floor=0.0))
    assert repo.get_deployment(store, made)["threshold_floor"] == floor  # the caller's floor is replaced
    for who in (op, Actor(999, "ghost", "supervisor")):
        with pytest.raises(PermissionDenied):
            dp.create(store, who, _spec())
    assert refused(dp.authorise, store, sup, dep) == "deployment 'D' is active, not a draft"
    for who in (op, Actor(999, "ghost", "supervisor")):
        with pytest.raises(PermissionDenied):
            dp.authorise(store, who, made)


def test_the_store_opens_a_deployment_from_its_first_second(room):
    store, dep, sup, op = room
    assert dp.current(store, datetime(2026, 1, 1, tzinfo=UTC)) == dep
    assert refused(dp.current, store, datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)).startswith("this store has no")


def governed_of(store, action):
    return [json.loads(r["details_json"])["governed"]
            for r in store.query("SELECT details_json FROM audit_log WHERE action = ? ORDER BY seq", (action,))]


def test_an_actor_the_store_does_not_know_is_refused_by_each_service(room):
    store, dep, sup, op = room
    ghost = Actor(999, "ghost", "supervisor")
    for fn, args in ((dp.start, ()), (dp.stop, ("r",)), (dp.restart, ("r",)), (dp.end, ()),
                     (dp.set_operator_may_stop, (True, "r")), (dp.set_two_person_rule, (True, "r")),
                     (dp.set_incident_window, (60, "r")), (dp.change_threshold, (0.9, "r"))):
        with pytest.raises(PermissionDenied):
            fn(store, ghost, dep, *args)


def test_each_switch_writes_its_column_and_logs_only_its_governed_field(room):
    store, dep, sup, op = room
    dp.set_incident_window(store, sup, dep, 90, "r")
    dp.set_two_person_rule(store, sup, dep, True, "r")
    dp.set_operator_may_stop(store, sup, dep, False, "r")
    row = repo.get_deployment(store, dep)
    assert (row["incident_window_s"], bool(row["two_person_rule"]), bool(row["operator_may_stop"])) == (90, True, False)
    assert [set(g) for g in governed_of(store, "deployment.incident_window")] == [{"incident_window_s"}]
    assert [set(g) for g in governed_of(store, "deployment.two_person_rule")] == [{"two_person_rule"}]
    assert [set(g) for g in governed_of(store, "deployment.stop_policy")] == [{"operator_may_stop"}]


def test_a_threshold_change_needs_a_reason_a_number_in_range_and_a_real_change(room):
    store, dep, sup, op = room
    floor = dp.operating_point.point(store, dep).floor
    assert refused(dp.change_threshold, store, sup, dep, 0.9, " ") == "a threshold change needs a reason"
    assert refused(dp.change_threshold, store, sup, dep, float("nan"), "r") == "threshold nan is not a number"
    assert refused(dp.change_threshold, store, sup, dep, 1.0, "r") == "a threshold of 1 or more would never alert"
    below = refused(dp.change_threshold, store, sup, dep, floor - 0.01, "r")
    op_point = dp.operating_point.point(store, dep)
    why = (f"calibrated for {op_point.photos} watchlist photos at 1 false alert in {1 / op_point.target:,.0f} faces"
           if op_point.calibrated else "the model's published floor")
    assert below == f"threshold {floor - 0.01:.3f} is below the floor {floor:.3f} ({why})"
    current = float(repo.get_deployment(store, dep)["threshold"])
    assert refused(dp.change_threshold, store, sup, dep, current + 3e-5, "r") == \
        f"no change: the threshold is {current + 3e-5:.3f} already (nothing was logged)"
    dp.change_threshold(store, sup, dep, floor, "at the floor")
    assert float(repo.get_deployment(store, dep)["threshold"]) == pytest.approx(floor)
    logged = store.query("SELECT details_json FROM audit_log WHERE details_json LIKE '%at the floor%'")
    assert logged and json.loads(logged[-1]["details_json"])["reason"] == "at the floor"


def test_a_seat_coming_up_joins_and_stop_and_end_write_their_columns(room):
    store, dep, sup, op = room
    dp.start_or_join(store, op, dep)
    assert len(log(store, "deployment.joined")) == 1
    dp.start_or_join(store, op, dep, recognising=False)
    assert len(log(store, "deployment.joined")) == 1
    dp.stop(store, sup, dep, "  crowd ")
    row = repo.get_deployment(store, dep)
    assert (row["stopped_by"], row["stop_reason"]) == (sup.user_id, "crowd") and row["stopped_at"].endswith("Z")
    dp.end(store, sup, dep, "done")
    row = repo.get_deployment(store, dep)
    assert row["state"] == "ended" and row["ended_at"]
    assert log(store, "deployment.ended")[-1][0] == "sup"


def test_a_draft_or_an_authorised_deployment_ends_and_an_authorised_one_stops_and_starts(room):
    store, dep, sup, op = room
    draft = repo.create_deployment(store, _spec(starts_at="2026-01-01T00:00:00Z", ends_at="2099-01-01T00:00:00Z",
                                                 threshold=0.99, threshold_floor=0.5), None, "sup")
    assert repo.get_deployment(store, draft)["state"] == "draft"
    assert refused(dp.stop, store, sup, draft, "x") == "deployment 'Harbour' is draft: there is no recognition to stop"
    dp.end(store, sup, draft, "never needed")
    assert repo.get_deployment(store, draft)["state"] == "ended"
    auth_only = repo.create_deployment(store, _spec(starts_at="2026-01-01T00:00:00Z", ends_at="2099-01-01T00:00:00Z",
                                                    threshold=0.99, threshold_floor=0.5), sup.user_id, "sup")
    assert repo.get_deployment(store, auth_only)["state"] == "authorised"
    other = repo.create_deployment(store, _spec(starts_at="2026-01-01T00:00:00Z", ends_at="2099-01-01T00:00:00Z",
                                                threshold=0.99, threshold_floor=0.5), sup.user_id, "sup")
    dp.start(store, sup, other)
    assert log(store, "deployment.started")[-1][:3] == ("sup", "deployment", str(other))
    spare = repo.create_deployment(store, _spec(starts_at="2026-01-01T00:00:00Z", ends_at="2099-01-01T00:00:00Z",
                                                threshold=0.99, threshold_floor=0.5), sup.user_id, "sup")
    dp.end(store, sup, spare, "not needed")
    assert repo.get_deployment(store, spare)["state"] == "ended"
    dp.stop(store, sup, auth_only, "before it began")
    assert repo.get_deployment(store, auth_only)["state"] == "stopped"
    dp.end(store, sup, auth_only, "x")
    assert repo.get_deployment(store, auth_only)["state"] == "ended"


def test_add_camera_hands_on_to_the_camera_service(room):
    store, dep, sup, op = room
    repo.create_user(store, "adm", "Adm", "administrator")
    adm = actor_for(store, "adm")
    cam = dp.add_camera(store, adm, dep, "Gate", "rtsp://u:pw@cam/live")
    assert {"id": cam, "name": "Gate", "source": "rtsp://cam/live"} in dp.cameras(store, adm, dep)  # its credential kept apart
    with pytest.raises(PermissionDenied):
        dp.add_camera(store, op, dep, "Back", "demo:1")
