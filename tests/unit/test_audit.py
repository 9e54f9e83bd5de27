"""The hash-chained audit log: verification and tamper detection."""

import json

import pytest

from console.store import audit
from tests.conftest import drop_append_only_guards as _drop_guards


@pytest.fixture
def chained(db):
    """Five chained entries, on SQLite and on PostgreSQL."""
    for i in range(5):
        audit.append(db, "op", "decision.recorded", "alert", i, {"n": i, "note": "ünïcode ok"})
    return db


def test_intact_chain_verifies(chained):
    report = audit.verify_chain(chained)
    assert report.ok and report.entries == 5
    rows = chained.query("SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq")
    assert rows[0]["prev_hash"] == audit.GENESIS
    assert all(rows[i]["prev_hash"] == rows[i - 1]["hash"] for i in range(1, 5))


def test_database_refuses_to_change_or_delete_entries(chained):
    with pytest.raises(Exception, match="append-only"):
        chained.conn.execute("UPDATE audit_log SET actor = 'x' WHERE seq = 2")
    with pytest.raises(Exception, match="append-only"):
        chained.conn.execute("DELETE FROM audit_log WHERE seq = 2")


def test_altered_content_is_found_and_named(chained):
    _drop_guards(chained)
    chained.conn.execute("UPDATE audit_log SET details_json = ? WHERE seq = 3", (json.dumps({"n": 99}),))
    report = audit.verify_chain(chained)
    assert not report.ok and report.first_broken == 3
    assert "entry 3" in report.summary() and "altered" in report.summary()


def test_rehashed_entry_still_breaks_the_link_to_the_next(chained):
    _drop_guards(chained)
    row = chained.one("SELECT * FROM audit_log WHERE seq = 2")
    forged = json.dumps({"n": 42})
    new_hash = audit.entry_hash(2, row["at"], "someone", row["action"], row["subject_type"], row["subject_id"],
                                forged, row["prev_hash"])
    chained.conn.execute("UPDATE audit_log SET actor = 'someone', details_json = ?, hash = ? WHERE seq = 2",
                         (forged, new_hash))
    report = audit.verify_chain(chained)
    assert not report.ok and report.first_broken == 3


def test_deleted_entry_in_the_middle_is_found(chained):
    _drop_guards(chained)
    chained.conn.execute("DELETE FROM audit_log WHERE seq = 2")
    report = audit.verify_chain(chained)
    assert not report.ok and report.first_broken == 2 and "missing" in report.problem


def test_entries_removed_from_the_end_are_found(chained):
    _drop_guards(chained)
    chained.conn.execute("DELETE FROM audit_log WHERE seq >= 4")
    report = audit.verify_chain(chained)
    assert not report.ok and report.first_broken == 4


def test_appends_after_verification_continue_the_chain(chained):
    audit.append(chained, "sup", "setting.changed", "setting", "x", {})
    assert audit.verify_chain(chained).entries == 6


class _Abandoned(Exception):
    pass


def test_an_append_rolled_back_leaves_no_gap_and_no_false_alarm(db):
    """A seat killed (or refused) after taking an audit number: the number goes back with the
    transaction. On PostgreSQL a sequence would have kept it and verify would cry tampering."""
    audit.append(db, "op", "first")
    with pytest.raises(_Abandoned):
        with db.transaction():
            audit.append(db, "op", "never committed")
            raise _Abandoned
    assert audit.verify_chain(db).ok and db.audit_high_water() == 1
    assert audit.append(db, "op", "second") == 2
    report = audit.verify_chain(db)
    assert report.ok and report.entries == 2
