"""Known-answer test alerts (issue 29, items 1-2), below the window: a test goes into the queue as any
alert does, stays a test through a restart, is revealed after the decision, and never leaves the
console nor counts in a figure; the operator figures take their truth from it."""

from __future__ import annotations

import json
import random

import cv2
import numpy as np
import pytest

from console.errors import ConsoleError
from console.services.accounts.auth import actor_for
from console.services.accuracy import known_answer, operators
from console.services.decisions import adjudication, outbound
from console.services.engage import dispatch
from console.services.record import reports
from console.store import known_answer as ka_db
from console.store import ledger, open_store, repo
from tests.factories import small_deployment


def _jpeg(seed: int) -> bytes:
    img = np.random.default_rng(seed).integers(0, 255, (48, 40, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", img)[1].tobytes()


def load_items(store, sup_id: int, model_id: str = "m", mated=(True, False, True, False)) -> list[int]:
    """A tiny proficiency set written straight through the store (loading a folder is tested apart)."""
    with store.transaction() as conn:
        set_id = ka_db.insert_set(conn, "set", model_id, "0" * 64, sup_id, "2026-01-01T00:00:00Z")
        ids = [ka_db.insert_item(conn, set_id, m, not m, "p1", "p1" if m else "p2", _jpeg(i), _jpeg(100 + i),
                                 json.dumps([4, 4, 30, 36]), json.dumps({"score": 0.8}), _jpeg(200 + i),
                                 np.ones(128, np.float32).tobytes(), 128, 0.62 if m else 0.41)
               for i, m in enumerate(mated)]
        from console.store import audit

        audit.append(store, "sup", "known_answer.set_loaded", "store", "",
                     {"rows": ledger.merged(ledger.of(conn, "proficiency_sets", id=set_id),
                                            ledger.of(conn, "proficiency_items", id=ids))})
    return ids


@pytest.fixture
def room(tmp_path):
    store = open_store(tmp_path / "data")
    d = small_deployment(store, operators=("op",))
    sup, op = actor_for(store, "sup"), actor_for(store, "op")
    load_items(store, d.supervisor_id)
    known_answer.configure(store, sup, d.deployment_id, True, every=2, hourly=True, reason="measure the operators")
    yield {"store": store, "d": d, "sup": sup, "op": op, "path": tmp_path / "data"}
    store.close()


def decide_all(store, op, ids, decision="true_alert"):
    for alert_id in ids:
        adjudication.open_alert(store, op, alert_id)
        if decision == "true_alert":
            adjudication.confirm(store, op, alert_id)
        else:
            adjudication.reject(store, op, alert_id, "different_person")


def test_a_test_alert_is_queued_like_any_other_and_is_due_by_the_rate(room):
    store, d, op = room["store"], room["d"], room["op"]
    assert known_answer.due(store, d.deployment_id)  # hourly: none yet
    test = known_answer.inject(store, d.deployment_id, random.Random(1))
    assert known_answer.is_test(store, test)
    assert not known_answer.due(store, d.deployment_id)  # one just made, no real incident since
    queue = adjudication.queue_rows(store, op, d.deployment_id)
    assert test in [r["id"] for r in queue]
    detail = adjudication.open_alert(store, op, test)
    assert detail.candidates[0].image_jpeg and detail.probe_jpeg and detail.context_jpeg
    real = [d.alert(track=t) for t in (10, 11)]
    assert known_answer.due(store, d.deployment_id)  # two real incidents since the last test
    assert all(not known_answer.is_test(store, a) for a in real)


def test_test_entries_are_never_searched_counted_listed_or_frozen(room):
    from console.services.setup import deployment_setup
    from console.store import record as record_db
    from console.store import watchlists as wl_db

    store, d = room["store"], room["d"]
    with store.transaction() as conn:
        before_hash = deployment_setup.snapshot_hash(conn, d.deployment_id)
    before = (repo.gallery_rows(store, d.deployment_id, "m").entry_ids.tolist(), record_db.watchlist_size(store, d.deployment_id),
              [e["id"] for e in wl_db.entries_listed(store, d.deployment_id)])
    for _ in range(3):
        known_answer.inject(store, d.deployment_id, random.Random(2))
    with store.transaction() as conn:
        assert deployment_setup.snapshot_hash(conn, d.deployment_id) == before_hash
    assert (repo.gallery_rows(store, d.deployment_id, "m").entry_ids.tolist(), record_db.watchlist_size(store, d.deployment_id),
            [e["id"] for e in wl_db.entries_listed(store, d.deployment_id)]) == before


def test_an_operator_who_confirms_every_test_shows_a_false_confirmation_rate_of_100_percent(room):
    store, d, op, sup = room["store"], room["d"], room["op"], room["sup"]
    tests = [known_answer.inject(store, d.deployment_id, random.Random(n)) for n in range(10)]
    decide_all(store, op, tests)
    mated = [bool(ka_db.test_of(store, t)["mated"]) for t in tests]
    assert mated.count(False) == 5  # the picker alternates the kinds
    me = next(f for f in operators.operator_figures(store, sup, d.deployment_id) if f["operator"] == "op")
    ka = me["known_answer"]
    assert ka["false_confirmations"] == {"k": 5, "n": 5, "rate": 1.0, "low": 0.5655, "high": 1.0}
    assert ka["missed_confirmations"]["k"] == 0 and ka["missed_confirmations"]["n"] == 5
    shown = known_answer.reveal(store, op, tests[mated.index(False)])
    assert not shown.correct and "different people" in shown.text and "you confirmed" in shown.text
    assert known_answer.reveal(store, op, d.alert(track=50)) is None  # a real alert has no reveal
    logged = store.query("SELECT details_json FROM audit_log WHERE action = 'known_answer.revealed'")
    assert len(logged) == 1 and json.loads(logged[0]["details_json"])["correct"] is False


def test_no_test_reaches_dispatch_outbound_an_outcome_or_a_figure(room, tmp_path):
    store, d, op, sup = room["store"], room["d"], room["op"], room["sup"]
    real = [d.alert(track=t) for t in (1, 2, 3)]
    decide_all(store, op, real[:2])
    decide_all(store, op, real[2:], "false_alert")
    before = reports.deployment_record(store, sup, d.deployment_id)
    lines = tmp_path / "out.jsonl"
    store.conn.execute("INSERT INTO settings(scope, key, value_json, updated_at) VALUES (?, ?, ?, ?)",
                       (outbound.scope(d.deployment_id), outbound.KEY, json.dumps({"jsonl_path": str(lines)}),
                        "2026-01-01T00:00:00Z"))  # as an administrator's outbound setting would be
    store.conn.commit()
    tests = [known_answer.inject(store, d.deployment_id, random.Random(n)) for n in range(4)]
    decide_all(store, op, tests)
    for t in tests:
        with pytest.raises(ConsoleError, match="known-answer test"):
            dispatch.send(store, op, t)
        with pytest.raises(ConsoleError, match="known-answer test"):
            adjudication.record_outcome(store, op, t, "confirmed_true", "arrest")
    assert not lines.exists() or lines.read_text() == ""
    from console.services.decisions import case_file

    with pytest.raises(ConsoleError, match="known-answer test"):  # not evidence: no case file
        case_file.export_alert(store, sup, tests[0], tmp_path / "case")
    assert not (tmp_path / "case").exists()
    after = reports.deployment_record(store, sup, d.deployment_id)
    skip = {"audit_checkpoint", "operator_accuracy"}
    assert {k: v for k, v in after.items() if k not in skip} == {k: v for k, v in before.items() if k not in skip}
    sample = reports.draw_sample(store, sup, d.deployment_id, 50, seed=1)
    assert not {r["alert_id"] for r in reports.blind_view(store, sup, sample)} & set(tests)


def test_a_test_stays_a_test_through_a_restart_and_the_file_holder_cannot_unmark_it(room):
    from tests.conftest import drop_append_only_guards

    store, d = room["store"], room["d"]
    test = known_answer.inject(store, d.deployment_id, random.Random(3))
    store.close()
    store = room["store"] = open_store(room["path"])
    assert known_answer.is_test(store, test)
    with pytest.raises(Exception, match="stays a test"):
        store.conn.execute("DELETE FROM known_answer_alerts")
    assert ledger.verify(store) == []
    drop_append_only_guards(store, "known_answer_alerts")
    store.conn.execute("DELETE FROM known_answer_alerts")
    store.conn.commit()
    assert any(p.startswith("known_answer_alerts") and "missing" in p for p in ledger.verify(store))


def test_only_a_supervisor_enables_tests_and_never_without_a_set_or_a_reason(room):
    store, d, op, sup = room["store"], room["d"], room["op"], room["sup"]
    with pytest.raises(ConsoleError):
        known_answer.configure(store, op, d.deployment_id, True, reason="me")
    with pytest.raises(ConsoleError, match="reason"):
        known_answer.configure(store, sup, d.deployment_id, True, reason=" ")
    other = repo.create_deployment(store, repo.DeploymentSpec("E", "P", "R", "2026-01-01T00:00:00Z",
                                                              "2099-01-01T00:00:00Z", 0.4, 0.363, "another-model"),
                                   d.supervisor_id, "sup")
    with pytest.raises(ConsoleError, match="no proficiency set"):
        known_answer.configure(store, sup, other, True, reason="measure")


def test_the_record_and_its_pdf_carry_the_pooled_known_answer_figures(room, tmp_path):
    from tests.pdf_text import pdf_text
    from ui.record_pdf import render_record_pdf

    store, d, op, sup = room["store"], room["d"], room["op"], room["sup"]
    tests = [known_answer.inject(store, d.deployment_id, random.Random(n)) for n in range(4)]
    decide_all(store, op, tests)  # confirms all: both non-mated ones are false confirmations
    pooled = reports.deployment_record(store, sup, d.deployment_id)["operator_accuracy"]["known_answer"]
    assert pooled["false_confirmations"]["k"] == pooled["false_confirmations"]["n"] == 2
    pdf = reports.export_record(store, sup, d.deployment_id, tmp_path / "r.pdf", render_record_pdf).read_bytes()
    assert "Known-answer tests (4): false confirmations" in pdf_text(pdf).replace("\n", " ")


def test_security_a_real_alert_or_watchlist_cannot_be_marked_a_test_refused(db):
    """Marked a test, a real alert would leave every figure and a real watchlist would never be searched:
    the database refuses both, on SQLite and on PostgreSQL (raw SQL, as a file or credential holder)."""
    d = small_deployment(db, operators=("op",))
    sup = actor_for(db, "sup")
    items = load_items(db, d.supervisor_id)
    known_answer.configure(db, sup, d.deployment_id, True, reason="measure the operators")
    test = known_answer.inject(db, d.deployment_id, random.Random(4))
    real = d.alert(track=7)
    with pytest.raises(Exception, match="only an alert on a known-answer test entry"):
        with db.transaction() as conn:
            ka_db.mark_alert(conn, real, items[0], False, "2026-01-01T00:00:00Z")
    with pytest.raises(Exception, match="cannot become a known-answer watchlist"):
        with db.transaction() as conn:
            ka_db.mark_watchlist(conn, d.watchlist_id, d.deployment_id + 1000, "2026-01-01T00:00:00Z")
    assert known_answer.is_test(db, test) and not known_answer.is_test(db, real)


def test_known_answer_accuracy_is_shown_by_hour_into_the_shift(room):
    store, d, op, sup = room["store"], room["d"], room["op"], room["sup"]
    tests = [known_answer.inject(store, d.deployment_id, random.Random(n)) for n in range(4)]
    decide_all(store, op, tests, "false_alert")  # rejects all: right on the two non-mated, wrong on the mated
    me = next(f for f in operators.operator_figures(store, sup, d.deployment_id) if f["operator"] == "op")
    hours = [h for h in me["by_hour"] if h["known_answer_accuracy"]["n"]]
    assert sum(h["known_answer_accuracy"]["n"] for h in hours) == 4
    assert sum(h["known_answer_accuracy"]["k"] for h in hours) == 2
