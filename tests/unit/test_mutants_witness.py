"""Holding the log against its checkpoints (console/store/witness.py), line by line (issue 32's
mutation check): where checkpoints are looked for, each finding's words, the summary, the latest
holding checkpoint and the inclusion proof."""

from __future__ import annotations

import json

import pytest

from console.store import audit, checkpoints, merkle, proof_check, witness


@pytest.fixture
def log(store, monkeypatch):
    """Five entries and no automatic checkpoint."""
    monkeypatch.delenv("ORC_KEY_DIR", raising=False)
    store._checkpointing = True
    for i in range(5):
        audit.append(store, "t", "test.entry", "x", i, {"i": i})
    return store


def _root(store, size: int) -> str:
    hashes = [r["hash"].encode("ascii") for r in store.query("SELECT hash FROM audit_log ORDER BY seq LIMIT ?",
                                                             (size,))]
    return merkle.root(hashes).hex()


def _signed(store, size: int, root: str | None = None, log_id: str | None = None) -> checkpoints.Checkpoint:
    return checkpoints.sign(store, size, _root(store, size) if root is None else root,
                            checkpoints.log_id(store) if log_id is None else log_id)


def test_with_no_checkpoint_the_summary_says_only_the_chain_vouches_and_where_it_looked(log, tmp_path):
    store = log
    report = witness.check(store)
    assert report.checked == 0 and report.ok and report.latest is None
    assert report.summary() == ("no signed checkpoint found: only the hash chain vouches for the log ("
                                f"{checkpoints.local_witness_dir(store)}, the log's own checkpoint entries)")
    assert witness.CheckpointReport().summary() == ("no signed checkpoint found: only the hash chain vouches for the"
                                                    " log (no witness folder)")


def test_each_way_a_checkpoint_can_fail_is_named_in_its_own_words(log, tmp_path):
    store = log
    folder = tmp_path / "w"
    good = _signed(store, 3)
    cases = {
        "long": _signed(store, 9, "00" * 32),
        "other log": _signed(store, 2, log_id="ff" * 32),
        "rewritten": _signed(store, 4, "11" * 32),
        "negative": _signed(store, -1, "22" * 32),
    }
    forged = checkpoints.Checkpoint(**{**good.to_json(), "size": 2})
    for cp in (good, forged, *cases.values()):
        checkpoints.write_to(folder, cp)
    report = witness.check(store, [folder])
    assert report.checked == 6 and not report.ok and report.holding == [good]
    problems = report.problems

    def head(cp):
        return f"checkpoint of {cp.time[:19].replace('T', ' ')}, size {cp.size} ({folder / cp.file_name()})"

    assert f"{head(cases['long'])}: the log has 5 entries but a checkpoint signed 9: truncated - entries were" \
           " removed" in problems
    log_hash = checkpoints.log_id(store)
    assert (f"{head(cases['other log'])}: it signed a log whose first entry hashes to {'ff' * 8}..., this log's first"
            f" entry hashes to {log_hash[:16]}...: rewritten from its first entry (or the checkpoint is another"
            " console's)") in problems
    assert f"{head(cases['rewritten'])}: the log's first 4 entries no longer hash to the signed root - history was" \
           " rewritten" in problems
    assert f"{head(cases['negative'])}: it signed a size below zero, which no log has" in problems
    assert f"{head(forged)}: {forged.problem()}" in problems and forged.problem()
    assert [p.split(" (")[0].rsplit("size ", 1)[1] for p in problems] == ["-1", "2", "2", "4", "9"]  # by size
    assert report.summary() == "checkpoints FAILED: 5 of 6 signed checkpoints do not match the log"


def test_a_checkpoint_of_size_zero_holds_without_a_root_and_the_latest_is_the_largest(log, tmp_path):
    store = log
    folder = tmp_path / "w"
    for cp in (_signed(store, 0, "anything"), _signed(store, 5), _signed(store, 2)):
        checkpoints.write_to(folder, cp)
    report = witness.check(store, [folder])
    assert report.ok and report.checked == 3 and len(report.holding) == 3
    top = report.latest
    assert top.size == 5
    assert report.summary() == (f"checkpoints hold: 3 signed checkpoints match the log (latest: 5 entries, {top.time},"
                                f" key {top.key_fingerprint[:23]}...)")
    assert witness.latest_holding(store) is None  # none of them is in a folder checked by default
    local = checkpoints.local_witness_dir(store)
    checkpoints.write_to(local, _signed(store, 1))
    assert witness.latest_holding(store).size == 1  # one entry is enough by default
    for size in (4, 2):
        checkpoints.write_to(local, _signed(store, size))
    assert witness.latest_holding(store).size == 4
    assert witness.latest_holding(store, at_least=4).size == 4
    assert witness.latest_holding(store, at_least=5) is None


def test_findings_come_in_order_of_size_whichever_folder_holds_them(log, tmp_path):
    store = log
    big, small = _signed(store, 9, "00" * 32), _signed(store, 2, "11" * 32)
    checkpoints.write_to(tmp_path / "a", big)
    checkpoints.write_to(tmp_path / "z", small)
    problems = witness.check(store, [tmp_path / "a", tmp_path / "z", tmp_path / "gone"]).problems
    assert problems[0] == f"witness folder {tmp_path / 'gone'} is missing or not a folder"  # gather's, first
    assert [p.split(", size ")[1].split(" ")[0] for p in problems[1:]] == ["2", "9"]


def test_gather_reads_every_place_once_names_what_it_cannot_read_and_counts_a_checkpoint_once(log, tmp_path,
                                                                                            monkeypatch):
    store = log
    named, configured, missing = tmp_path / "named", tmp_path / "configured", tmp_path / "missing"
    cp = _signed(store, 3)
    checkpoints.write_to(named, cp)
    checkpoints.write_to(configured, cp)  # the same checkpoint in two places: counted once
    (named / "checkpoint-broken.json").write_text("{not json")
    (named / "checkpoint-partial.json").write_text(json.dumps({"size": 1}))
    (named / "not-a-checkpoint.json").write_text("{}")
    monkeypatch.setattr(witness, "configured_witnesses", lambda s: [configured, tmp_path / "unmounted"])
    audit.append(store, "t", checkpoints.ACTION, "checkpoint", 3, {"size": 3})  # an entry that cannot be read
    found, problems, looked = witness.gather(store, [named, named, missing])
    assert [where for where, _ in found] == [str(named / cp.file_name())]
    assert problems == [f"{named / 'checkpoint-broken.json'}: not a readable checkpoint (JSONDecodeError)",
                        f"{named / 'checkpoint-partial.json'}: not a readable checkpoint (KeyError)",
                        f"witness folder {missing} is missing or not a folder",
                        "audit entry 6: a checkpoint entry that cannot be read"]
    assert looked == [str(named), str(missing), str(configured), str(tmp_path / "unmounted"),
                      str(checkpoints.local_witness_dir(store)), "the log's own checkpoint entries"]
    made = checkpoints.make(store)  # in this seat's folder and in the log: counted once, from the folder
    found, _, _ = witness.gather(store)
    assert [where for where, c in found if c == made] == [str(checkpoints.local_witness_dir(store) / made.file_name())]


def test_the_log_entry_of_a_checkpoint_is_checked_when_no_folder_holds_it(log):
    store = log
    cp = checkpoints.make(store)
    (checkpoints.local_witness_dir(store) / cp.file_name()).unlink()
    found, problems, _ = witness.gather(store)
    assert [(w, c) for w, c in found] == [("audit entry 6", cp)] and problems == []
    assert witness.check(store).holding == [cp]


def test_a_given_tree_is_used_and_otherwise_one_is_built_from_the_log(log, tmp_path):
    store = log
    folder = tmp_path / "w"
    checkpoints.write_to(folder, _signed(store, 5))
    assert witness.check(store, [folder]).ok
    assert witness.prefix_tree(store).root_at(5).hex() == _root(store, 5)
    empty = merkle.PrefixTree()
    report = witness.check(store, [folder], tree=empty)  # a caller's tree of 0 entries: then it is truncated
    assert not report.ok and "the log has 0 entries" in report.problems[0]


def test_an_inclusion_proof_uses_the_latest_checkpoint_covering_the_entry_or_makes_one(log):
    store = log
    with pytest.raises(ValueError, match="there is no audit entry 99"):
        witness.inclusion_proof(store, 99)
    proof = witness.inclusion_proof(store, 3)  # none yet: one is made now, over the whole log
    assert proof["checkpoint"]["size"] == 5 and proof["leaf_index"] == 2 and proof["format"] == proof_check.PROOF_FORMAT
    assert proof_check.proof_problems(proof) == []
    row = store.one("SELECT * FROM audit_log WHERE seq = 3")
    assert proof["entry"] == {**{k: row[k] for k in ("seq", "at", "actor", "action", "subject_type", "subject_id",
                                                    "prev_hash", "hash")}, "details": {"i": 2}}
    hashes = checkpoints.leaf_hashes(store)[:5]
    assert proof["leaf_hash"] == hashes[2].hex()
    assert proof["audit_path"] == [h.hex() for h in merkle.inclusion_proof(2, hashes)]
    made = store.one("SELECT COUNT(*) AS n FROM audit_log WHERE action = ?", (checkpoints.ACTION,))["n"]
    reason = json.loads(store.one("SELECT details_json FROM audit_log WHERE action = ?", (checkpoints.ACTION,))
                        ["details_json"])["reason"]
    assert made == 1 and reason == "proof of entry 3"
    again = witness.inclusion_proof(store, 5)  # the one made covers entry 5: no new checkpoint
    assert again["checkpoint"] == proof["checkpoint"]
    assert store.one("SELECT COUNT(*) AS n FROM audit_log WHERE action = ?", (checkpoints.ACTION,))["n"] == made
    for _ in range(3):
        audit.append(store, "t", "test.entry", "x", 9, {})
    later = checkpoints.make(store)  # two now cover entry 2: the proof uses the latest
    assert witness.inclusion_proof(store, 2)["checkpoint"] == later.to_json() and later.size == 9
    checkpoints.write_to(checkpoints.local_witness_dir(store), _signed(store, 4, "33" * 32))
    with pytest.raises(ValueError, match=r"^the log no longer matches its checkpoints, no proof is given: checkpoint"
                                         r" of .*, size 4 "):
        witness.inclusion_proof(store, 2)
