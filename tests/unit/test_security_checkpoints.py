"""Signed checkpoints against someone holding the database (Step 12): drop the triggers, change a
decision and its audit entry, recompute every hash with the console's own ``entry_hash``, restore
the triggers - the chain and the records then read as intact, but a checkpoint that left for a
witness folder names the rewrite. Also: a cut log, inclusion proofs, who may name witnesses."""

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from console.errors import PermissionDenied
from console.services.accounts.auth import Actor, actor_for
from console.services.decisions import adjudication
from console.services.record import audit_trail, reports
from console.services.setup import deployments
from console.store import audit, checkpoints, proof_check, repo, witness
from tests.factories import SUPERVISOR_PASSWORD, small_deployment
from tests.pdf_text import pdf_text

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def signed(store, tmp_path, monkeypatch):
    """A decided alert, then a checkpoint of the log left in a witness folder."""
    monkeypatch.delenv("ORC_KEY_DIR", raising=False)
    d = small_deployment(store, operators=("ann",))
    ann = actor_for(store, "ann")
    alert = d.alert()
    adjudication.open_alert(store, ann, alert)
    decision = adjudication.confirm(store, ann, alert)
    w = tmp_path / "witness"
    cp = audit_trail.make_checkpoint(store, [w], reason="test")
    assert (w / cp.file_name()).is_file()
    assert audit_trail.integrity(store, [w]).ok
    return {"store": store, "witness": w, "decision": decision, "checkpoint": cp, "d": d}


def decision_entry(store, decision_id: int) -> int:
    rows = [r["seq"] for r in store.query("SELECT seq, details_json FROM audit_log WHERE action = 'decision.recorded'")
            if json.loads(r["details_json"]).get("decision_id") == decision_id]
    assert len(rows) == 1
    return int(rows[0])


def forge_decision(store, decision_id: int, new_decision: str = "false_alert") -> int:
    """What an insider with the SQLite file does: triggers off, the decision row and its audit entry
    changed, every later hash recomputed with the project's own entry_hash, triggers back on."""
    conn = store.conn
    triggers = [r["sql"] for r in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND"
                                               " tbl_name IN ('audit_log', 'decisions')")]
    names = [r["name"] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND"
                                             " tbl_name IN ('audit_log', 'decisions')")]
    for name in names:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("UPDATE decisions SET decision = ?, reason_code = 'different_person' WHERE id = ?",
                 (new_decision, decision_id))
    row = conn.execute("SELECT * FROM decisions WHERE id = ?", (decision_id,)).fetchone()
    seq = decision_entry(store, decision_id)
    entry = conn.execute("SELECT details_json FROM audit_log WHERE seq = ?", (seq,)).fetchone()
    details = json.loads(entry["details_json"])
    details["decision"] = new_decision
    details["row_sha256"] = audit.row_digest(row, audit.DECISION_FIELDS)
    conn.execute("UPDATE audit_log SET details_json = ? WHERE seq = ?",
                 (json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False), seq))
    prev = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (seq - 1,)).fetchone()["hash"] if seq > 1 \
        else audit.GENESIS
    for r in conn.execute("SELECT * FROM audit_log WHERE seq >= ? ORDER BY seq", (seq,)).fetchall():
        digest = audit.entry_hash(r["seq"], r["at"], r["actor"], r["action"], r["subject_type"], r["subject_id"],
                                  r["details_json"], prev)
        conn.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, r["seq"]))
        prev = digest
    for sql in triggers:
        conn.execute(sql)
    return seq


def test_security_a_rewritten_history_with_every_hash_recomputed_is_caught_from_the_witness_attack(signed):
    store, w = signed["store"], signed["witness"]
    forge_decision(store, signed["decision"])
    shutil.rmtree(checkpoints.local_witness_dir(store))  # the forger also empties this seat's own copies
    assert audit.verify_chain(store).ok  # the chain alone is fooled...
    assert audit.verify_records(store) == []  # ...and so are the records
    store._merkle_tree = None
    result = audit_trail.integrity(store, [w])
    assert not result.ok
    cp = signed["checkpoint"]
    found = [p for p in result.checkpoints.problems if f"size {cp.size} ({w}" in p]
    assert found and "no longer hash to the signed root - history was rewritten" in found[0]
    assert "checkpoints FAILED" in result.checkpoints.summary()
    with pytest.raises(Exception, match="not signing a checkpoint"):  # the key will not vouch for the rewrite
        audit_trail.make_checkpoint(store)


def test_security_a_cut_log_is_caught_as_truncated_attack(signed):
    store, w = signed["store"], signed["witness"]
    size = signed["checkpoint"].size
    store.conn.execute("DROP TRIGGER audit_log_no_delete")
    store.conn.execute("DELETE FROM audit_log WHERE seq > ?", (size - 3,))
    store.conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'audit_log'", (size - 3,))
    assert audit.verify_chain(store).ok  # the high-water mark was wound back too
    problems = witness.check(store, [w]).problems
    assert any(f"the log has {size - 3} entries but a checkpoint signed {size}: truncated" in p for p in problems)


def test_an_inclusion_proof_verifies_alone_and_fails_for_a_changed_decision_attack(signed, tmp_path):
    store = signed["store"]
    seq = decision_entry(store, signed["decision"])
    proof = audit_trail.prove(store, actor_for(store, "sup"), seq)
    assert proof_check.proof_problems(proof) == []
    assert proof["checkpoint"]["root"] == signed["checkpoint"].root  # the checkpoint already out
    # A third party: only this one file, Python and cryptography.
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(ROOT / "console" / "store" / "proof_check.py", alone / "proof_check.py")
    (alone / "proof.json").write_text(json.dumps(proof))
    ran = subprocess.run([sys.executable, "proof_check.py", "proof.json"], cwd=alone, capture_output=True,
                         text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert signed["checkpoint"].key_fingerprint in ran.stdout
    # The decision changed in the proof: refused.
    changed = json.loads(json.dumps(proof))
    changed["entry"]["details"]["decision"] = "false_alert"
    assert any("altered" in p for p in proof_check.proof_problems(changed))
    # The decision changed in the log, every hash recomputed: the rewritten entry does not lead to the signed root.
    forge_decision(store, signed["decision"])
    row = store.one("SELECT * FROM audit_log WHERE seq = ?", (seq,))
    forged = json.loads(json.dumps(proof))
    forged["entry"] = {**{k: row[k] for k in ("seq", "at", "actor", "action", "subject_type", "subject_id",
                                             "prev_hash", "hash")}, "details": json.loads(row["details_json"])}
    forged["leaf_hash"] = checkpoints.merkle.leaf_hash(row["hash"].encode()).hex()
    assert any("not in the log the checkpoint signed" in p for p in proof_check.proof_problems(forged))
    (alone / "forged.json").write_text(json.dumps(forged))
    ran = subprocess.run([sys.executable, "proof_check.py", "forged.json"], cwd=alone, capture_output=True,
                         text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert ran.returncode == 1 and "FAILED" in ran.stdout
    store._merkle_tree = None
    with pytest.raises(Exception, match="no longer matches its checkpoints"):
        audit_trail.prove(store, actor_for(store, "sup"), seq)


def test_a_forged_signature_or_a_stranger_key_is_named_attack(signed, tmp_path):
    store, cp = signed["store"], signed["checkpoint"]
    w2 = tmp_path / "w2"
    w2.mkdir()
    forged = {**cp.to_json(), "root": "00" * 32}
    (w2 / "checkpoint-9.json").write_text(json.dumps(forged))
    problems = witness.check(store, [w2]).problems
    assert any("signature does not verify" in p for p in problems)


def test_checkpoints_are_made_every_n_entries_and_written_to_every_witness(store, tmp_path, monkeypatch):
    monkeypatch.delenv("ORC_KEY_DIR", raising=False)
    monkeypatch.setattr(checkpoints, "CHECKPOINT_EVERY_ENTRIES", 10)
    admin_id = repo.create_user(store, "root", "Admin", "administrator")
    admin = Actor(admin_id, "root", "administrator")
    w = tmp_path / "share"
    w.mkdir()
    audit_trail.add_witness(store, admin, w)
    for i in range(25):
        audit.append(store, "t", "test.entry", "x", i, {"i": i})
    made = store.query("SELECT subject_id FROM audit_log WHERE action = 'audit.checkpoint' ORDER BY seq")
    assert len(made) >= 2
    local = sorted(p.name for p in checkpoints.local_witness_dir(store).glob("checkpoint-*.json"))
    assert local and local == sorted(p.name for p in w.glob("checkpoint-*.json"))
    key = checkpoints.key_dir(store) / checkpoints.KEY_FILE
    assert key.stat().st_mode & 0o777 == 0o600
    assert "PRIVATE KEY" in key.read_text() and key.parent != checkpoints.local_witness_dir(store)
    assert audit_trail.integrity(store).ok


def test_security_only_an_administrator_names_a_witness_refused(store, tmp_path):
    sup_id = repo.create_user(store, "sup", "Sup", "supervisor")
    with pytest.raises(PermissionDenied):
        audit_trail.add_witness(store, Actor(sup_id, "sup", "supervisor"), tmp_path)
    assert audit_trail.witness_folders(store) == []


def test_the_deployment_record_pins_the_log_with_its_latest_checkpoint(signed, tmp_path):
    store, d = signed["store"], signed["d"]
    sup = actor_for(store, "sup")
    deployments.end(store, sup, d.deployment_id, "done")
    reports.sign_off(store, sup, d.deployment_id, "checked", SUPERVISOR_PASSWORD)
    out = reports.export_record(store, sup, d.deployment_id, tmp_path / "record.json")
    cp = json.loads(out.read_text())["signed_record"]["audit_checkpoint"]
    assert cp and cp["size"] > signed["checkpoint"].size  # the sign-off made a fresh one, and the record pins it
    ended = store.one("SELECT MAX(seq) AS s FROM audit_log WHERE action = 'deployment.ended'")["s"]
    assert cp["size"] >= ended
    from ui.record_pdf import render_record_pdf

    pdf = reports.export_record(store, sup, d.deployment_id, tmp_path / "record.pdf", render_record_pdf).read_bytes()
    text = pdf_text(pdf).replace("\n", " ")
    assert "Audit log checkpoint at" in text and f"key {cp['key_fingerprint']}" in text and f"root {cp['root']}" in text


def test_the_proof_checker_needs_only_python_and_cryptography():
    tree = ast.parse((ROOT / "console" / "store" / "proof_check.py").read_text())
    imported = {(n.module if isinstance(n, ast.ImportFrom) else a.name).split(".")[0]
                for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in (n.names if isinstance(n, ast.Import) else [n])}
    assert imported <= {"__future__", "base64", "hashlib", "json", "sys", "cryptography"}


def test_the_proof_checker_hashes_entries_as_the_log_does(signed):
    store = signed["store"]
    for r in store.query("SELECT * FROM audit_log ORDER BY seq"):
        entry = {k: r[k] for k in ("seq", "at", "actor", "action", "subject_type", "subject_id", "prev_hash")}
        entry["details"] = json.loads(r["details_json"])
        assert proof_check.entry_hash(entry) == r["hash"]
