"""Step 4's safeguards, each tried by someone who should not get through: every service as every
role, logins, the authorised window, the threshold, the two-person rule (watchlist, retention and
exports: test_accountability_records.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from console.errors import ConsoleError, PermissionDenied
from console.services.accounts import auth
from console.services.decisions import adjudication, case_file, outbound
from console.services.record import audit_trail, reports, retention, stats
from console.services.setup import deployments, enrol
from console.store import repo
from tests.unit.accountability_world import MODEL, NOW, PASSWORD, audit_trail_details, entry_spec, iso, world  # noqa: F401  (world: a fixture)


# -- every service, every role --------------------------------------------------------------
def _opened(w, actor, decide, *args):
    """A new alert, opened by the reviewer and then decided (a decision needs the reviewer's own claim)."""
    alert = w["make_alert"]()
    adjudication.open_alert(w["store"], actor, alert)
    return decide(w["store"], actor, alert, *args)


def _alert(w):
    w["alert"] = w["make_alert"]()


def _decided_sample(w):
    sup = w["actors"]["supervisor"]
    _alert(w)
    adjudication.open_alert(w["store"], sup, w["alert"])
    adjudication.confirm(w["store"], sup, w["alert"])
    w["sample"] = reports.draw_sample(w["store"], sup, w["dep"], 1, seed=1)


def _engaged(w):
    sup = w["actors"]["supervisor"]
    _alert(w)
    adjudication.open_alert(w["store"], sup, w["alert"])
    adjudication.confirm(w["store"], sup, w["alert"])
    w["engagement"] = adjudication.record_outcome(w["store"], sup, w["alert"], "confirmed_true", "arrest")


def _purged(w):
    _alert(w)
    retention.run_purges(w["store"], now=datetime.now(UTC) + timedelta(days=40))


# What each service needs in the database before it is tried (not counted as its effect).
SETUP = {
    "queue_row": _alert, "queue_rows": _alert, "alert_detail": _alert, "dashboard": _alert, "log_count": _alert,
    "log_page": _alert, "alert_history": _alert, "deployment_record": _alert, "threshold_what_if": _alert,
    "run_purges_now": _alert, "latest_engagement": _engaged, "blind_view": _decided_sample,
    "sample_agreement": _decided_sample, "recent_purges": _purged,
}
CALLS = {
    # writes
    "adjudicate": lambda w, a: _opened(w, a, adjudication.confirm),
    "reject": lambda w, a: _opened(w, a, adjudication.reject, "look_alike"),
    "open_alert": lambda w, a: adjudication.open_alert(w["store"], a, w["make_alert"]()),
    "export_alert": lambda w, a: case_file.export_alert(w["store"], a, w["make_alert"](), w["tmp"]),
    "add_entry": lambda w, a: enrol.add_entry(w["store"], a, w["wl"], entry_spec(f"R-{a.role}")),
    "create_deployment": lambda w, a: deployments.create(w["store"], a, repo.DeploymentSpec(
        "D", "P", "R", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", 0.5, 0.363, MODEL, legal_basis="b")),
    "change_threshold": lambda w, a: deployments.change_threshold(w["store"], a, w["dep"], 0.45, "fewer alerts"),
    "two_person_rule": lambda w, a: deployments.set_two_person_rule(w["store"], a, w["dep"], True, "policy"),
    "create_user": lambda w, a: auth.create_user(w["store"], a, f"new-{a.role}", "N", "operator", "a long password!"),
    "retention_settings": lambda w, a: retention.configure(w["store"], a, 14, 2, "policy"),
    "outbound": lambda w, a: outbound.configure(w["store"], a, w["dep"], jsonl_path=str(w["tmp"] / "out.jsonl")),
    "add_camera": lambda w, a: deployments.add_camera(w["store"], a, w["dep"], f"cam-{a.role}", "demo:1"),
    "run_purges_now": lambda w, a: retention.run_purges_now(w["store"], a, now=datetime.now(UTC) + timedelta(days=40)),
    # reads of biometric or decision data, and of the records about people
    "queue_row": lambda w, a: adjudication.queue_row(w["store"], a, w["alert"]),
    "queue_rows": lambda w, a: adjudication.queue_rows(w["store"], a, w["dep"]),
    "alert_detail": lambda w, a: adjudication.alert_detail(w["store"], a, w["alert"], "role table"),
    "dashboard": lambda w, a: stats.dashboard(w["store"], a, w["dep"]),
    "log_count": lambda w, a: stats.log_count(w["store"], a, stats.LogFilter(deployment_id=w["dep"])),
    "log_page": lambda w, a: stats.log_page(w["store"], a, stats.LogFilter(deployment_id=w["dep"]), 0),
    "alert_history": lambda w, a: stats.alert_history(w["store"], a, w["alert"]),
    "latest_engagement": lambda w, a: stats.latest_engagement(w["store"], a, w["alert"]),
    "deployment_record": lambda w, a: reports.deployment_record(w["store"], a, w["dep"]),
    "threshold_what_if": lambda w, a: reports.threshold_what_if(w["store"], a, w["dep"], 0.9),
    "blind_view": lambda w, a: reports.blind_view(w["store"], a, w["sample"]),
    "sample_agreement": lambda w, a: reports.sample_agreement(w["store"], a, w["sample"]),
    "watchlist_entries": lambda w, a: enrol.watchlist_entries(w["store"], a, w["dep"]),
    "list_users": lambda w, a: auth.list_users(w["store"], a),
    "recent_purges": lambda w, a: retention.recent_purges(w["store"], a),
    "audit_verify": lambda w, a: audit_trail.verify(w["store"], a),
    "audit_latest": lambda w, a: audit_trail.latest(w["store"], a, "deployment.", 3),
}


def _one(w, sql, *params):
    return w["store"].one(sql, params)


def _logged(w, action, actor):
    return [r for r in w["store"].query("SELECT actor, subject_id, details_json FROM audit_log WHERE action = ?",
                                        (action,)) if r["actor"] == actor.username]


# What an allowed call really did: the row written, or the data returned.
EFFECTS = {
    "adjudicate": lambda w, a, r: tuple(_one(w, "SELECT user_id, decision FROM decisions WHERE id = ?", r))
    == (a.user_id, "true_alert"),
    "reject": lambda w, a, r: tuple(_one(w, "SELECT user_id, reason_code FROM decisions WHERE id = ?", r))
    == (a.user_id, "look_alike"),
    "open_alert": lambda w, a, r: _one(w, "SELECT user_id FROM alert_events WHERE alert_id = ? AND event = 'opened'",
                                       r.alert_id)[0] == a.user_id and r.probe_jpeg == b"probe",
    "export_alert": lambda w, a, r: all(p.is_file() for p in r) and len(_logged(w, "alert.exported", a)) == 1,
    "add_entry": lambda w, a, r: _one(w, "SELECT record_number FROM watchlist_entries WHERE id = ?", r)[0]
    == f"R-{a.role}",
    "create_deployment": lambda w, a, r: _one(w, "SELECT state FROM deployments WHERE id = ?", r)[0] == "draft",
    "change_threshold": lambda w, a, r: repo.get_deployment(w["store"], w["dep"])["threshold"] == 0.45,
    "two_person_rule": lambda w, a, r: repo.get_deployment(w["store"], w["dep"])["two_person_rule"] == 1,
    "create_user": lambda w, a, r: repo.get_user(w["store"], f"new-{a.role}")["id"] == r,
    "retention_settings": lambda w, a, r: retention.settings(w["store"]) == (14, 2),
    "outbound": lambda w, a, r: outbound.config_of(w["store"], w["dep"])["jsonl_path"].endswith("out.jsonl"),
    "add_camera": lambda w, a, r: _one(w, "SELECT name FROM cameras WHERE id = ?", r)[0] == f"cam-{a.role}",
    "run_purges_now": lambda w, a, r: r.alerts == 1 and len(_logged(w, "retention.purged.alert_images", a)) == 1
    and _one(w, "SELECT probe_jpeg FROM alerts WHERE id = ?", w["alert"])[0] is None,
    "queue_row": lambda w, a, r: r["id"] == w["alert"] and r["probe_jpeg"] == b"probe" and r["candidate_jpeg"],
    "queue_rows": lambda w, a, r: [row["id"] for row in r] == [w["alert"]],
    "alert_detail": lambda w, a, r: r.alert_id == w["alert"] and r.probe_jpeg == b"probe"
    and [x["subject_id"] for x in _logged(w, "alert.viewed", a)] == [str(w["alert"])],
    "dashboard": lambda w, a, r: r["alerts"] == 1 and r["decided"] == 0,
    "log_count": lambda w, a, r: r == 1,
    "log_page": lambda w, a, r: [row["id"] for row in r] == [w["alert"]],
    "alert_history": lambda w, a, r: [h["action"] for h in r] == ["alert.raised"],
    "latest_engagement": lambda w, a, r: r == w["engagement"],
    "deployment_record": lambda w, a, r: r["deployment_id"] == w["dep"] and r["alerts"] == 1,
    "threshold_what_if": lambda w, a, r: (r["threshold_asked"], r["past_alerts_suppressed"]) == (0.9, 1),
    "blind_view": lambda w, a, r: [row["alert_id"] for row in r] == [w["alert"]] and r[0]["probe_jpeg"] == b"probe"
    and [x["subject_id"] for x in _logged(w, "alert.viewed", a)] == [str(w["alert"])],
    "sample_agreement": lambda w, a, r: (r["size"], r["decided"]) == (1, 0),
    "watchlist_entries": lambda w, a, r: [(e["record_number"], e["photos"]) for e in r] == [("R-1", 1)],
    "list_users": lambda w, a, r: {u["username"] for u in r} == {"admin", *ROLES} - {"administrator"}
    and all("password_hash" not in u for u in r),
    "recent_purges": lambda w, a, r: ("alert_images", 1) in [(p["rule"], p["items"]) for p in r],
    "audit_verify": lambda w, a, r: r.ok and r.chain.entries > 0,
    "audit_latest": lambda w, a, r: 0 < len(r) <= 3 and all(e["action"].startswith("deployment.") for e in r)
    and [e["seq"] for e in r] == sorted(e["seq"] for e in r),
}
ALLOWED = {
    "adjudicate": {"operator", "supervisor"},
    "reject": {"operator", "supervisor"},
    "open_alert": {"operator", "supervisor"},
    "export_alert": {"supervisor"},
    "add_entry": {"supervisor"},
    "create_deployment": {"supervisor"},
    "change_threshold": {"supervisor"},
    "two_person_rule": {"supervisor"},
    "create_user": {"administrator"},
    "retention_settings": {"administrator"},
    "outbound": {"administrator"},
    "add_camera": {"administrator", "supervisor"},
    "run_purges_now": {"administrator", "supervisor"},
    "queue_row": {"operator", "supervisor"},
    "queue_rows": {"operator", "supervisor"},
    "alert_detail": {"supervisor", "auditor"},
    "dashboard": {"supervisor", "auditor"},
    "log_count": {"supervisor", "auditor"},
    "log_page": {"supervisor", "auditor"},
    "alert_history": {"supervisor", "auditor"},
    "latest_engagement": {"supervisor", "auditor"},
    "deployment_record": {"supervisor", "administrator", "auditor"},
    "threshold_what_if": {"supervisor", "auditor"},
    "blind_view": {"supervisor"},
    "sample_agreement": {"supervisor", "auditor"},
    "watchlist_entries": {"supervisor", "auditor"},
    "list_users": {"administrator", "supervisor", "auditor"},
    "recent_purges": {"supervisor", "administrator", "auditor"},
    "audit_verify": {"supervisor", "administrator", "auditor"},
    "audit_latest": {"supervisor", "administrator", "auditor"},
}
ROLES = ("operator", "supervisor", "administrator", "engagement_officer", "auditor")


def test_the_role_table_covers_every_call():
    assert set(CALLS) == set(ALLOWED) == set(EFFECTS)


@pytest.mark.parametrize("service", sorted(CALLS))
@pytest.mark.parametrize("role", ROLES)
def test_every_service_refuses_every_role_it_should(world, tmp_path, service, role):
    world["tmp"] = tmp_path / "export"
    actor = world["actors"][role]
    SETUP.get(service, lambda w: None)(world)
    before = world["store"].one("SELECT MAX(seq) AS s FROM audit_log")["s"]
    if role in ALLOWED[service]:
        result = CALLS[service](world, actor)
        assert EFFECTS[service](world, actor, result), f"{service} as {role} did not do what it says"
        refusals = world["store"].query("SELECT 1 FROM audit_log WHERE seq > ? AND action = 'access.refused'",
                                        (before,))
        assert refusals == []
    else:
        with pytest.raises(PermissionDenied, match=role):
            CALLS[service](world, actor)
        # A refusal changes nothing but the alert the test itself raised - and is itself logged.
        rows = world["store"].query("SELECT action, actor, subject_id FROM audit_log WHERE seq > ?", (before,))
        assert {r["action"] for r in rows} <= {"alert.raised", "access.refused"}
        refusals = [r for r in rows if r["action"] == "access.refused"]
        assert len(refusals) == 1 and refusals[0]["actor"] == actor.username


def test_anyone_may_ask_whether_the_audit_log_holds(world):
    store = world["store"]
    assert audit_trail.integrity(store).ok
    store.conn.execute("DROP TRIGGER audit_log_no_update")
    store.conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    result = audit_trail.integrity(store)
    assert not result.ok and result.chain.first_broken == 3 and "BROKEN at entry 3" in result.lines()[0]


# -- logins -----------------------------------------------------------------------------------
def test_passwords_are_stored_as_scrypt_and_logins_are_logged(world, monkeypatch):
    store = world["store"]
    monkeypatch.setattr(auth, "SCRYPT_N", 2**15)
    auth.create_user(store, world["actors"]["administrator"], "fresh", "F", "operator", "a new long passphrase")
    row = store.one("SELECT password_hash FROM users WHERE username = 'fresh'")
    assert row["password_hash"].startswith("scrypt$32768$8$1$") and "new long" not in row["password_hash"]
    assert auth.verify_password("a new long passphrase", row["password_hash"])
    assert not auth.verify_password("a new long passphrasf", row["password_hash"])
    assert auth.login(store, "operator", PASSWORD).role == "operator"
    with pytest.raises(auth.LoginError, match="wrong user name or password"):
        auth.login(store, "operator", "nope")
    with pytest.raises(auth.LoginError, match="wrong user name or password"):
        auth.login(store, "nobody", "nope")
    actions = [r["action"] for r in store.query("SELECT action FROM audit_log WHERE action LIKE 'login.%'")]
    assert actions == ["login.succeeded", "login.failed", "login.failed"]
    assert auth.login(store, "fresh", "a new long passphrase").username == "fresh"


def test_five_failures_lock_the_account_for_fifteen_minutes(world):
    store = world["store"]
    for _ in range(4):
        with pytest.raises(auth.LoginError):
            auth.login(store, "operator", "bad", now=NOW)
    with pytest.raises(auth.LoginError, match="locked or disabled"):
        auth.login(store, "operator", "bad", now=NOW)
    with pytest.raises(auth.LoginError, match="locked or disabled"):
        auth.login(store, "operator", PASSWORD, now=NOW + timedelta(minutes=14))
    reasons = [audit_trail_details(r)["reason"] for r in store.query(
        "SELECT details_json FROM audit_log WHERE action = 'login.failed' ORDER BY seq")]
    assert reasons == ["wrong password"] * 5 + ["locked"]
    assert auth.login(store, "operator", PASSWORD, now=NOW + timedelta(minutes=16))


def test_only_the_first_administrator_bootstraps_and_passwords_have_a_minimum(world):
    with pytest.raises(PermissionDenied, match="already exists"):
        auth.bootstrap_administrator(world["store"], "second", "S", "another long password")
    with pytest.raises(ConsoleError, match="at least 12"):
        auth.create_user(world["store"], world["actors"]["administrator"], "short", "S", "operator", "short")


def test_inactive_accounts_cannot_log_in(world):
    store, admin = world["store"], world["actors"]["administrator"]
    auth.set_active(store, admin, "operator", False)
    with pytest.raises(auth.LoginError, match="locked or disabled"):
        auth.login(store, "operator", PASSWORD)
    last = store.one("SELECT details_json FROM audit_log WHERE action = 'login.failed' ORDER BY seq DESC LIMIT 1")
    assert audit_trail_details(last)["reason"] == "inactive"


# -- deployments: only inside the window -------------------------------------------------------
def test_recognition_only_inside_the_authorised_window(world):
    store, sup = world["store"], world["actors"]["supervisor"]
    dep = world["dep"]
    with pytest.raises(deployments.DeploymentError, match="authorised from"):
        deployments.start(store, sup, dep, now=NOW - timedelta(hours=2))
    with pytest.raises(deployments.DeploymentError, match="window is over"):
        deployments.start(store, sup, dep, now=NOW + timedelta(hours=9))
    deployments.start(store, sup, dep, now=NOW)
    assert repo.get_deployment(store, dep)["state"] == "active"
    refused = store.query("SELECT details_json FROM audit_log WHERE action = 'deployment.start_refused'")
    assert len(refused) == 2


def test_a_draft_cannot_run_and_an_ended_deployment_is_read_only(world):
    store, sup = world["store"], world["actors"]["supervisor"]
    draft = deployments.create(store, sup, repo.DeploymentSpec("D", "P", "R", iso(NOW - timedelta(hours=1)),
                                                               iso(NOW + timedelta(hours=1)), 0.5, 0.363, MODEL,
                                                               legal_basis="b"))
    with pytest.raises(deployments.DeploymentError, match="draft"):
        deployments.start(store, sup, draft, now=NOW)
    deployments.end(store, sup, world["dep"], "operation finished")
    with pytest.raises(deployments.DeploymentError, match="read-only"):
        deployments.change_threshold(store, sup, world["dep"], 0.5, "x")
    with pytest.raises(deployments.DeploymentError, match="read-only"):
        enrol.add_entry(store, sup, world["wl"], entry_spec())
    with pytest.raises(deployments.DeploymentError, match="has ended"):
        deployments.start(store, sup, world["dep"], now=NOW)


def test_the_pipeline_stops_by_itself_at_the_end_of_the_window():
    from console.feeds.source import DemoSource
    from console.pipeline.recognizer import FrameResult, ScoreStats
    from console.pipeline.worker import CameraWorker

    class Counting:
        stats = ScoreStats()
        calls = 0

        outbox = ()
        outbox_dropped = 0

        def process(self, image, captured_at, index):
            Counting.calls += 1
            return FrameResult(index, captured_at, [], [], 0, 0, 0.0)

        def drain_outbox(self, force=False):
            return []

    import time

    halted = []
    source = DemoSource(0, realtime=True)
    worker = CameraWorker(source, Counting(), until=time.time() + 0.5, on_halt=halted.append)
    source.start()
    worker.start()
    worker._thread.join(10)
    source.stop()
    assert halted == ["the deployment's authorised window is over"]
    assert not worker._thread.is_alive() and 0 < Counting.calls < 25


# -- threshold control -------------------------------------------------------------------------
def test_threshold_has_a_floor_needs_a_reason_and_is_logged(world):
    store, sup = world["store"], world["actors"]["supervisor"]
    with pytest.raises(deployments.DeploymentError, match="below the floor"):
        deployments.change_threshold(store, sup, world["dep"], 0.30, "more alerts")
    with pytest.raises(deployments.DeploymentError, match="needs a reason"):
        deployments.change_threshold(store, sup, world["dep"], 0.45, " ")
    deployments.change_threshold(store, sup, world["dep"], 0.45, "fewer false alerts")
    assert repo.get_deployment(store, world["dep"])["threshold"] == 0.45
    entry = store.one("SELECT details_json FROM audit_log WHERE action = 'deployment.threshold_changed'")
    assert '"new":0.45' in entry["details_json"] and '"old":0.4' in entry["details_json"]


# -- two-person rule -----------------------------------------------------------------------------
def test_two_person_rule_needs_a_second_different_user(world):
    store, sup, op = world["store"], world["actors"]["supervisor"], world["actors"]["operator"]
    deployments.set_two_person_rule(store, sup, world["dep"], True, "force policy")
    alert = world["make_alert"]()
    adjudication.open_alert(store, op, alert)
    assert adjudication.confirm(store, op, alert) is None  # first confirmation: not yet passed on
    assert store.one("SELECT status FROM alerts WHERE id = ?", (alert,))["status"] == "pending"
    adjudication.open_alert(store, op, alert)
    with pytest.raises(adjudication.DecisionError, match="second, different user"):
        adjudication.confirm(store, op, alert)
    adjudication.return_to_queue(store, op, alert)
    adjudication.open_alert(store, sup, alert)
    decision = adjudication.confirm(store, sup, alert)
    row = store.one("SELECT * FROM decisions WHERE id = ?", (decision,))
    assert row["decision"] == "true_alert" and row["user_id"] == sup.user_id and "first by user" in row["reason"]
    with pytest.raises(adjudication.DecisionError, match="was not confirmed|already"):
        adjudication.record_outcome(store, op, world["make_alert"](), "confirmed_true", "arrest")


