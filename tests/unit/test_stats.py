"""Dashboard figures, equality monitoring and the decision log's filters, on a real database."""

import numpy as np
import pytest

from console.errors import PermissionDenied
from console.services.accounts.auth import actor_for
from console.services.decisions import adjudication
from console.services.record import stats
from console.store import repo


@pytest.fixture
def history(store):
    sup = repo.create_user(store, "sup", "Supervisor", "supervisor")
    repo.create_user(store, "op1", "One", "operator")
    repo.create_user(store, "op2", "Two", "operator")
    dep = repo.create_deployment(store, repo.DeploymentSpec("D", "P", "R", "2026-01-01T08:00:00Z",
                                                            "2026-01-01T18:00:00Z", 0.4, 0.363, "m",
                                                            incident_window_s=0), sup, "sup")  # one alert, one incident
    repo.activate_deployment(store, dep, "sup")  # a past deployment whose alerts are on record
    cams = [repo.add_camera(store, dep, f"Cam {i}", "demo:0", "sup") for i in (1, 2)]
    wl = repo.create_watchlist(store, dep, "WL", "sup")
    entry = repo.add_entry(store, wl, repo.EntrySpec("R-1", "Jo Bloggs", "risk_to_others", "b", "r", "s",
                                                     "2025-01-01", "2099-01-01"), sup, "sup")
    image = repo.add_entry_image(store, entry, b"j", np.ones(128, np.float32), "m", {}, "sup")
    ops = [actor_for(store, "op1"), actor_for(store, "op2")]
    ids = []
    for i in range(40):
        cam = cams[i % 2]
        alert = repo.insert_alert(store, repo.AlertRecord(dep, cam, i, [(entry, image, 0.4 + i / 100)], 0.4, "m",
                                                          [0, 0, 1, 1], {}, b"p", b"c", "2026-01-01T09:00:00Z"))
        ids.append(alert)
        op = ops[i % 2]
        adjudication.open_alert(store, op, alert)
        if i % 4 == 0:
            adjudication.reject(store, op, alert, "look_alike", "cap and glasses")
        elif i < 38:
            adjudication.confirm(store, op, alert)
            eng = adjudication.record_outcome(store, op, alert, "confirmed_false" if i % 3 == 0 else "confirmed_true",
                                        "no_further_action" if i % 3 == 0 else "arrest")
            stats.record_demographics(store, actor_for(store, "sup"), eng, "female" if i % 2 else "male",
                                      "black" if i % 5 == 0 else "white")
    for cam in cams:
        repo.add_face_stats(store, dep, cam, 5000, 10, np.array([0.1] * 100))
    return store, dep, ids


def test_dashboard_figures_add_up(history):
    store, dep, ids = history
    d = stats.dashboard(store, actor_for(store, "sup"), dep)
    assert d["alerts"] == d["incidents"] == 40 and d["decided"] == 38  # window 0: one alert, one incident
    assert d["reject_rate"] == round(10 / 38, 3) and d["confirm_rate"] == round(28 / 38, 3)
    assert d["reject_reasons"] == {"look_alike": 10}
    assert set(d["time_to_decision_ms"]) == {"op1", "op2"}
    assert all(v["median"] is not None and v["p90"] >= v["median"] for v in d["time_to_decision_ms"].values())
    assert d["faces_analysed"] == 10000 and d["false_incidents_per_1000_faces"] == 1.0
    assert sum(c["alerts"] for c in d["per_camera"].values()) == 40
    assert len(d["scores_confirmed"]) == 28 and min(d["scores_rejected"]) == 0.4
    assert sum(n for _, n in d["alerts_per_hour"]) == 40


def test_equality_rates_come_with_their_counts(history):
    store, dep, _ = history
    e = stats.dashboard(store, actor_for(store, "sup"), dep)["equality"]
    assert e["engagements_with_demographics"] == 28
    total = sum(g["engaged"] for g in e["ethnic_group"].values())
    assert total == 28
    for g in list(e["sex"].values()) + list(e["ethnic_group"].values()):
        assert g["rate"] == round(g["false_at_engagement"] / g["engaged"], 3)
        assert g["too_few_to_compare"] == (g["engaged"] < 10)


def test_only_supervisors_record_demographics_and_only_from_the_fixed_lists(history):
    store, _, _ = history
    eng = store.one("SELECT id FROM engagements")["id"]
    with pytest.raises(PermissionDenied):
        stats.record_demographics(store, actor_for(store, "op1"), eng, "male", "white")
    with pytest.raises(Exception, match="one of"):
        stats.record_demographics(store, actor_for(store, "sup"), eng, "male", "martian")


def test_decision_log_filters_and_pages(history):
    store, dep, ids = history
    f = stats.LogFilter(deployment_id=dep)
    sup = actor_for(store, "sup")
    assert stats.log_count(store, sup, f) == 40
    pages = stats.log_page(store, sup, f, 0, 15) + stats.log_page(store, sup, f, 15, 15) + stats.log_page(store, sup, f, 30, 15)
    assert len({r["id"] for r in pages}) == 40
    assert stats.log_count(store, sup, stats.LogFilter(deployment_id=dep, decision="false_alert")) == 10
    assert stats.log_count(store, sup, stats.LogFilter(deployment_id=dep, decision="undecided")) == 2
    by_op1 = stats.LogFilter(deployment_id=dep, operator="op1", decision="true_alert")
    assert stats.log_count(store, sup, by_op1) == 9  # i=2,6,..,34
    assert stats.log_count(store, sup, stats.LogFilter(deployment_id=dep, score_min=0.7)) == 10
    assert stats.log_count(store, sup, stats.LogFilter(deployment_id=dep, text="glasses")) == 10
    assert stats.log_count(store, sup, stats.LogFilter(deployment_id=dep, category="missing_person")) == 0
    history_rows = stats.alert_history(store, sup, ids[0])
    assert [h["action"] for h in history_rows] == ["alert.raised", "alert.opened", "decision.recorded"]


@pytest.fixture
def notes(db):
    """Decisions whose notes hold LIKE's special characters, on SQLite and on PostgreSQL."""
    from tests.factories import small_deployment

    d = small_deployment(db, operators=("ann",))
    ann = actor_for(db, "ann")
    written = {"cap_and_glasses": d.alert(track=1), "about 50% sure": d.alert(track=2),
               "C:\\cameras\\north": d.alert(track=3), "plain note": d.alert(track=4), "nothing odd": d.alert(track=5)}
    for note, alert in written.items():
        adjudication.open_alert(db, ann, alert)
        adjudication.confirm(db, ann, alert, note)
    undecided = d.alert(track=6)
    return db, d.deployment_id, written, undecided


@pytest.mark.parametrize(("text", "expected"), [
    ("_", ["cap_and_glasses"]), ("%", ["about 50% sure"]), ("50%", ["about 50% sure"]),
    ("\\", ["C:\\cameras\\north"]), ("p_a", ["cap_and_glasses"]), ("0% s", ["about 50% sure"]),
    ("%%", []), ("__", []), ("n%d", []), ("\\%", []), ("a_n", []), ("note", ["plain note"])])
def test_search_text_matches_its_characters_literally(notes, text, expected):
    """'_' and '%' are LIKE's wildcards, '\\' the escape: in search text each means itself."""
    db, dep, written, _ = notes
    sup = actor_for(db, "sup")
    f = stats.LogFilter(deployment_id=dep, text=text)
    assert stats.log_count(db, sup, f) == len(expected)
    assert sorted(r["id"] for r in stats.log_page(db, sup, f, 0, 50)) == sorted(written[n] for n in expected)
