"""`audit verify` walks the log once (console/services/record/audit_trail.py): the chain check feeds
the prefix tree that the checkpoint and sign-off checks take their roots from. These hold that walk
to what the checks found when each read the log alone - a chain broken early must still leave every
later entry in the tree - and that a crafted checkpoint cannot make it crash."""

import pytest

from console.services.record import audit_trail
from console.store import audit, checkpoints, witness


@pytest.fixture
def signed_log(store, tmp_path, monkeypatch):
    monkeypatch.delenv("ORC_KEY_DIR", raising=False)
    store.after_audit_append = None  # only the checkpoint made here
    for i in range(12):
        audit.append(store, "tester", "test.entry", "test", i, {"n": i})
    folder = tmp_path / "witness"
    cp = checkpoints.make(store, [folder], reason="test")
    return store, folder, cp


def _tamper_hash(store, seq: int) -> None:
    """An insider's edit of one stored hash (the triggers dropped and put back)."""
    conn = store.conn
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"
                            ).fetchall()
    for t in triggers:
        conn.execute(f"DROP TRIGGER {t['name']}")
    conn.execute("UPDATE audit_log SET hash = ? WHERE seq = ?", ("f" * 64, seq))
    for t in triggers:
        conn.execute(t["sql"])
    conn.commit()


def test_a_chain_broken_early_still_puts_every_entry_in_the_tree_attack(signed_log):
    store, folder, cp = signed_log
    _tamper_hash(store, 2)
    result = audit_trail.integrity(store, [folder])
    assert not result.chain.ok and result.chain.first_broken == 2
    alone = witness.check(store, [folder])  # the log read again, on its own
    assert result.checkpoints.problems == alone.problems
    assert any(f"first {cp.size} entries no longer hash to the signed root" in p for p in alone.problems)
    assert not any("truncated" in p for p in alone.problems)


def test_the_walk_gives_the_same_verdict_as_each_check_alone_on_an_intact_log(signed_log):
    store, folder, cp = signed_log
    result = audit_trail.integrity(store, [folder])
    assert result.ok and result.checkpoints.checked == 1 and result.checkpoints.latest == cp
    assert result.checkpoints.problems == witness.check(store, [folder]).problems == []


def test_a_checkpoint_of_negative_size_is_named_not_a_crash_attack(signed_log, tmp_path):
    store, _, cp = signed_log
    odd = tmp_path / "odd"
    checkpoints.write_to(odd, checkpoints.sign(store, -1, cp.root, cp.log))
    report = witness.check(store, [odd])
    assert not report.ok
    assert any("size below zero" in p for p in report.problems), report.problems
