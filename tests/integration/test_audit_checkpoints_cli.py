"""Step 12 from the command line: selftest leaves a signed checkpoint in a witness folder; audit
verify --witness holds a copied, rewritten log against it; audit check-proof checks a proof."""

import sqlite3

from tests.integration.test_cli import run
from tests.unit.test_security_checkpoints import forge_decision


class _Store:
    """Enough of a store for forge_decision on a bare sqlite3 connection (what an insider uses)."""

    dialect = "sqlite"

    def __init__(self, conn):
        conn.row_factory = sqlite3.Row
        self.conn = conn

    def query(self, sql, params=()):
        return self.conn.execute(sql, params).fetchall()


def test_security_selftest_witness_then_verify_catches_a_rewritten_copy_attack(tmp_path):
    data, w = tmp_path / "data", tmp_path / "witness"
    made = run("selftest", "--data-dir", data, "--witness", w)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "signed checkpoint:" in made.stdout and list(w.glob("checkpoint-*.json"))
    ok = run("audit", "verify", "--data-dir", data, "--witness", w)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "checkpoints hold" in ok.stdout
    # An insider's copy: the decision and its entry changed, every hash recomputed, triggers restored.
    copy = tmp_path / "copy"
    copy.mkdir()
    src, dst = sqlite3.connect(data / "console.sqlite3"), sqlite3.connect(copy / "console.sqlite3")
    src.backup(dst)
    src.close()
    forge_decision(_Store(dst), 1)
    dst.commit()
    dst.close()
    bad = run("audit", "verify", "--data-dir", copy, "--witness", w)
    assert bad.returncode == 1
    assert "audit chain intact" in bad.stdout  # the chain alone is fooled
    assert "no longer hash to the signed root - history was rewritten" in bad.stdout
    # No witness named and no local copy: nothing outside the database vouches - it says so.
    bare = run("audit", "verify", "--data-dir", copy)
    assert "checkpoint" in bare.stdout


def test_audit_check_proof_and_the_open_commands(tmp_path):
    refused = run("audit", "prove", "1", "--out", tmp_path / "p.json", "--data-dir", tmp_path / "d")
    assert refused.returncode == 2 and "sign in" in refused.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "orc-audit-inclusion-proof/1"}')
    checked = run("audit", "check-proof", bad, "--data-dir", tmp_path / "d")
    assert checked.returncode == 1 and "FAILED" in checked.stdout
