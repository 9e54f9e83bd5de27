"""Sign-off keys (console/services/record/signing_keys.py), line by line (issue 32's mutation check):
the key file's header and name, what a password change or a renewed hash does to it, the key entry
in the log, and each way ``audit verify`` refuses a sign-off - each forged one signed with a real
key, so that only the rule under test can refuse it."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import types

import pytest

from console.services.accounts import auth
from console.services.record import signing_keys as sk
from console.services.setup import deployments
from console.store import audit, checkpoints, countersign, merkle, repo
from tests.factories import SUPERVISOR_PASSWORD, password_hash, small_deployment

OTHER = "copper kettles along the quay at dusk"


@pytest.fixture
def signer(store, tmp_path, monkeypatch):
    """sup signed in (so holding a key), an ended deployment, and the key itself."""
    monkeypatch.setenv("ORC_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setattr(sk, "SCRYPT_N", 2**10)  # the key file's cost; the rules are the same
    d = small_deployment(store)
    deployments.end(store, None, d.deployment_id, "done")
    sup = auth.login(store, "sup", SUPERVISOR_PASSWORD)
    return types.SimpleNamespace(store=store, d=d, sup=sup, key=sk.unlock(store, sup, SUPERVISOR_PASSWORD))


def _sign(s, key=None, actor=None, entry_actor=None, dep=None, record="a" * 64, **changes) -> int:
    """A sign-off entry signed with ``key`` (sup's own by default): the statement as the console makes
    it, then ``changes``, then signed again, so the signature always verifies."""
    key, actor = key or s.key, actor or s.sup
    dep = s.d.deployment_id if dep is None else dep
    st = sk.signed_statement(s.store, key, actor, dep, record)["statement"] | changes
    signature = base64.b64encode(key.sign(sk.message(st))).decode()
    return audit.append(s.store, entry_actor or actor.username, sk.SIGNED_OFF, "deployment", dep,
                        {"record_sha256": record, "statement": st, "signature": signature})


def _problems(s) -> list[str]:
    return sk.check(s.store).problems


def _entries(store, action=sk.CREATED):
    return [(r["seq"], r["actor"], r["subject_type"], str(r["subject_id"]), json.loads(r["details_json"]))
            for r in store.query("SELECT * FROM audit_log WHERE action = ? ORDER BY seq", (action,))]


def test_the_key_file_is_named_for_its_user_and_log_and_its_header_says_what_opens_it(signer):
    s = signer
    path = sk.key_path(s.store, s.sup.user_id)
    assert path == checkpoints.key_dir(s.store) / f"signoff-{s.sup.user_id}-{checkpoints.log_id(s.store)[:12]}.pem"
    first, pem = path.read_bytes().split(b"\n", 1)
    header = json.loads(first)
    assert first == json.dumps(header, sort_keys=True).encode() and b"ENCRYPTED PRIVATE KEY" in pem
    raw = sk.public_raw(s.key)
    assert header == {"format": sk.FILE_FORMAT, "user_id": s.sup.user_id, "kdf": header["kdf"],
                      "password_mark": hashlib.sha256(repo.password_salt(s.store, s.sup.user_id).encode()).hexdigest(),
                      "public_key": base64.b64encode(raw).decode(), "key_fingerprint": header["key_fingerprint"]}
    name, n, r, p, salt = header["kdf"].split("$")
    assert (name, n, r, p) == ("scrypt", str(2**10), "8", "1") and len(base64.b64decode(salt)) == 16


def test_the_passphrase_is_scrypt_of_the_password_32_bytes_as_released():
    kdf = "scrypt$1024$8$1$" + base64.b64encode(b"0123456789abcdef").decode()
    expected = base64.b64encode(hashlib.scrypt(b"pw", salt=b"0123456789abcdef", n=1024, r=8, p=1, dklen=32))
    assert sk._passphrase("pw", kdf) == expected and len(base64.b64decode(expected)) == 32


def test_an_account_without_a_password_has_the_mark_of_nothing(store):
    uid = repo.create_user(store, "nopw", "No Password", "supervisor")
    assert sk._password_mark(store, uid) == hashlib.sha256(b"").hexdigest()


def test_the_key_entry_is_the_users_with_the_reason_for_a_first_key_and_for_a_reset(signer):
    s = signer
    [(seq, actor, kind, subject, details)] = _entries(s.store)
    assert (actor, kind, subject) == ("sup", "user", str(s.sup.user_id))
    assert details["reason"] == "first sign-in" and details["replaces"] is None
    repo.create_user(s.store, "chief", "Chief", "administrator", password_hash=password_hash(OTHER + " chief"))
    auth.reset_password(s.store, auth.actor_for(s.store, "chief"), "sup", OTHER)
    auth.login(s.store, "sup", OTHER)
    second = _entries(s.store)[1][4]
    assert second["reason"] == ("the password was reset: the previous key cannot be opened (it still stands for"
                                " its sign-offs)")
    assert second["replaces"] == details["key_fingerprint"]
    path = sk.key_path(s.store, s.sup.user_id)
    kept = path.with_name(f"{path.stem}.replaced-{details['key_fingerprint'][7:19]}.pem")
    assert kept.is_file() and sorted(p.name for p in path.parent.glob(f"{path.stem}*")) == sorted([path.name, kept.name])


def test_a_key_file_nobody_can_read_is_replaced_and_kept_beside_as_unreadable(signer, caplog):
    s = signer
    path = sk.key_path(s.store, s.sup.user_id)
    path.write_bytes(b"not a key file at all")  # no header line: cut short, or not ours
    assert sk._read(path) == sk.KeyFile({}, b"")
    auth.login(s.store, "sup", SUPERVISOR_PASSWORD)
    assert path.with_name(f"{path.stem}.replaced-unreadable.pem").read_bytes() == b"not a key file at all"
    assert _entries(s.store)[-1][4]["replaces"] is None and len(_entries(s.store)) == 2
    assert sk.unlock(s.store, s.sup, SUPERVISOR_PASSWORD)


def test_a_first_key_made_over_a_stray_file_keeps_nothing_beside_it(signer):
    s = signer
    path = sk.key_path(s.store, s.sup.user_id)
    sk._create(s.store, s.sup, SUPERVISOR_PASSWORD, None)
    assert [p.name for p in path.parent.glob(f"{path.stem}*")] == [path.name]


def test_the_same_password_under_a_renewed_hash_keeps_the_key_and_notes_the_new_mark(signer):
    s = signer
    before = sk.key_path(s.store, s.sup.user_id).read_bytes().split(b"\n", 1)[0]
    with s.store.transaction() as conn:  # a new salt, the same password (a rehash)
        conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (auth.hash_password(SUPERVISOR_PASSWORD),
                                                                         s.sup.user_id))
    auth.login(s.store, "sup", SUPERVISOR_PASSWORD)
    header = json.loads(sk.key_path(s.store, s.sup.user_id).read_bytes().split(b"\n", 1)[0])
    assert len(_entries(s.store)) == 1  # no new key
    assert header["key_fingerprint"] == json.loads(before)["key_fingerprint"]
    assert header["password_mark"] == sk._password_mark(s.store, s.sup.user_id) != json.loads(before)["password_mark"]
    assert header["user_id"] == s.sup.user_id
    assert sk.public_raw(sk.unlock(s.store, s.sup, SUPERVISOR_PASSWORD)) == sk.public_raw(s.key)


def test_rekey_without_a_key_file_does_nothing_and_with_one_keeps_the_users_header(signer):
    s = signer
    ghost = types.SimpleNamespace(user_id=999, username="ghost")
    sk.rekey(s.store, ghost, "old", "new")  # no file: nothing, no error
    assert not sk.key_path(s.store, 999).exists()
    sk.rekey(s.store, s.sup, SUPERVISOR_PASSWORD, OTHER)
    header = json.loads(sk.key_path(s.store, s.sup.user_id).read_bytes().split(b"\n", 1)[0])
    assert header["user_id"] == s.sup.user_id
    assert sk.public_raw(sk.unlock(s.store, s.sup, OTHER)) == sk.public_raw(s.key)


def test_a_key_folder_that_cannot_be_written_is_logged_with_who_and_why(store, tmp_path, monkeypatch, caplog):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("ORC_KEY_DIR", str(tmp_path / "a-file"))
    small_deployment(store)
    with caplog.at_level(logging.WARNING, logger="console.services.record.signing_keys"):
        auth.login(store, "sup", SUPERVISOR_PASSWORD)
    [message] = [r.getMessage() for r in caplog.records if r.name == "console.services.record.signing_keys"]
    assert message.startswith("no sign-off key for sup at this seat: [Errno ")


def test_the_signed_message_and_statement_are_as_released(signer):
    s = signer
    st = sk.signed_statement(s.store, s.key, s.sup, s.d.deployment_id, "b" * 64)["statement"]
    assert st["format"] == sk.STATEMENT_FORMAT == "orc-signoff/1"
    assert sk.message(st) == b"orc report sign-off\n" + audit.canonical(st)
    assert sk.SignoffReport(1, [], ["x"]).summary() == ("report sign-offs: 1 signed and verified, 1 unsigned (made"
                                                        " before sign-off keys)")
    assert sk.SignoffReport(2, ["p"]).summary() == "report sign-offs: 2 signed and verified, 1 FAILED"


def test_a_sign_off_made_properly_verifies_even_over_a_log_of_one_entry(signer):
    s = signer
    _sign(s)
    _sign(s, log_size=1, log_root=merkle.root([s.store.one("SELECT hash FROM audit_log WHERE seq = 1")["hash"]
                                               .encode("ascii")]).hex())
    report = sk.check(s.store)
    assert report.ok and report.signed == 2, report.problems


@pytest.mark.parametrize("changes, named", [
    ({"deployment_id": 999}, "its signed statement does not match the entry (another deployment, record or signer)"),
    ({"record_sha256": "c" * 64}, "its signed statement does not match the entry"),
    ({"signer": "someone"}, "its signed statement does not match the entry"),
    ({"signer_user_id": 999}, "its signed statement does not match the entry"),
    ({"log": "f" * 64}, "the log it signed"),
    ({"log_size": "3"}, "the log it signed (size 3) is not this log's first 3 entries"),
    ({"log_size": 0, "log_root": merkle.PrefixTree().root_at(0).hex()}, "the log it signed (size 0) is not"),
])
def test_each_part_of_the_statement_is_held_against_the_entry_and_the_log(signer, changes, named):
    s = signer
    seq = _sign(s, **changes)
    [problem] = _problems(s)
    assert problem.startswith(f"sign-off of deployment {s.d.deployment_id} by sup (audit entry {seq}): {named}"), problem


@pytest.mark.parametrize("drop", ["statement", "signature"])
def test_a_sign_off_missing_its_statement_or_its_signature_is_malformed_not_unsigned(signer, drop):
    s = signer
    seq = _sign(s)
    details = _entries(s.store, sk.SIGNED_OFF)[-1][4]
    del details[drop]
    seq = audit.append(s.store, "sup", sk.SIGNED_OFF, "deployment", s.d.deployment_id, details)
    problems = _problems(s)
    assert problems == [f"sign-off of deployment {s.d.deployment_id} by sup (audit entry {seq}): its statement or"
                        " signature is missing or malformed"]
    details = {**_entries(s.store, sk.SIGNED_OFF)[0][4], "signature": 123}
    audit.append(s.store, "sup", sk.SIGNED_OFF, "deployment", s.d.deployment_id, details)
    assert _problems(s)[-1].endswith("its statement or signature is missing or malformed")


def test_an_unsigned_old_sign_off_does_not_stop_the_check_of_later_ones(signer):
    s = signer
    audit.append(s.store, "ghost", sk.SIGNED_OFF, "deployment", s.d.deployment_id, {"record_sha256": "0" * 64})
    _sign(s)
    report = sk.check(s.store)
    assert report.signed == 1 and report.ok and len(report.unsigned) == 1


def test_another_supervisors_key_does_not_sign_for_sup(signer):
    s = signer
    repo.create_user(s.store, "sup2", "Sup Two", "supervisor", password_hash=password_hash(OTHER))
    sup2 = auth.login(s.store, "sup2", OTHER)
    key2 = sk.unlock(s.store, sup2, OTHER)
    seq = _sign(s, key=key2, actor=s.sup)  # signed "as sup" with sup2's key, which the log holds for sup2
    assert _problems(s) == [f"sign-off of deployment {s.d.deployment_id} by sup (audit entry {seq}): signed with a key"
                            " the log does not hold for sup"]


def test_a_key_replaced_by_a_reset_signs_nothing_after_it(signer):
    s = signer
    repo.create_user(s.store, "chief", "Chief", "administrator", password_hash=password_hash(OTHER + " chief"))
    auth.reset_password(s.store, auth.actor_for(s.store, "chief"), "sup", OTHER)
    sup = auth.login(s.store, "sup", OTHER)
    replaced_at = _entries(s.store)[-1][0]
    seq = _sign(s, actor=sup)  # with the old key, which the reset made unusable
    assert _problems(s) == [f"sign-off of deployment {s.d.deployment_id} by sup (audit entry {seq}): signed with a key"
                            f" replaced at audit entry {replaced_at}"]
    _sign(s, key=sk.unlock(s.store, sup, OTHER), actor=sup)
    assert sk.check(s.store).signed == 1


def _key_details(s) -> tuple[int, dict]:
    seq, *_, details = _entries(s.store)[0]
    return seq, details


def test_a_key_entry_naming_a_countersigner_without_a_signature_or_the_reverse_is_checked_as_countersigned(signer):
    s = signer
    seq, details = _key_details(s)
    legacy: list = []
    no_signature = {k: v for k, v in details.items() if k != "countersignature"}
    assert sk._key_entry_problem(s.store, seq, no_signature, False, legacy).startswith(
        "its countersignature does not verify")
    no_signer = {k: v for k, v in details.items() if k != "countersigned_by"}
    assert sk._key_entry_problem(s.store, seq, no_signer, False, legacy) == (
        "countersigned by another key (None), not the installation's")
    assert legacy == []


def test_a_bare_key_entry_on_a_machine_without_the_key_is_listed_unless_one_countersigned_came_before(
        signer, tmp_path, monkeypatch):
    s = signer
    seq, details = _key_details(s)
    bare = {k: v for k, v in details.items() if k not in ("countersignature", "countersigned_by")}
    monkeypatch.delenv("ORC_KEY_DIR")  # this store's own folder holds no key
    legacy: list = []
    assert sk._key_entry_problem(s.store, seq, bare, False, legacy) is None
    assert legacy == [f"key entry {seq} has no countersignature, and this machine holds no installation key to tell"
                      " whether it predates countersigning"]
    assert sk._key_entry_problem(s.store, seq, bare, True, legacy) == (
        "no countersignature by the installation key (a key entry written outside the console)")


def test_a_bare_key_entry_exactly_at_a_checkpoints_size_predates_countersigning(signer):
    s = signer
    _, details = _key_details(s)
    bare = {k: v for k, v in details.items() if k not in ("countersignature", "countersigned_by")}
    seq = audit.append(s.store, "sup", sk.CREATED, "user", s.sup.user_id, bare)
    cp = checkpoints.make(s.store)
    assert cp.size == seq == countersign.covered_by_checkpoint(s.store)
    legacy: list = []
    assert sk._key_entry_problem(s.store, seq, bare, False, legacy) is None
    assert legacy == [f"key entry {seq} predates countersigning (no countersignature; covered by a checkpoint)"]


def test_on_a_shared_database_another_seats_countersignature_is_listed_not_checked(signer):
    s = signer
    seq, details = _key_details(s)
    seat = types.SimpleNamespace(dialect="postgres")  # the key is found through ORC_KEY_DIR
    legacy: list = []
    other = {**details, "countersigned_by": "sha256:another-seat"}
    assert sk._key_entry_problem(seat, seq, other, False, legacy) is None
    assert legacy == [f"key entry {seq}: countersignature not checked: countersigned by sha256:another-seat, another"
                      " seat's key (not checked on PostgreSQL)"]


def test_each_verified_sign_off_is_known_by_its_deployment_record_and_time(signer):
    s = signer
    seq = _sign(s, record="d" * 64)
    at = _entries(s.store, sk.SIGNED_OFF)[-1][4]["statement"]["signed_at"]
    report = sk.check(s.store)
    assert report.verified == frozenset({(s.d.deployment_id, "d" * 64, at)}) and seq
    assert sk.signed_in_log(s.store, s.d.deployment_id) == {("d" * 64, at)}
    assert sk.signed_in_log(s.store, s.d.deployment_id + 1) == set()


def test_without_a_named_key_folder_the_key_file_lives_beside_the_store(store, monkeypatch):
    monkeypatch.delenv("ORC_KEY_DIR", raising=False)
    store._checkpointing = True
    audit.append(store, "t", "test.first", "x", 1, {})
    path = sk.key_path(store, 5)
    assert path == checkpoints.installation_dir(store) / "keys" / f"signoff-5-{checkpoints.log_id(store)[:12]}.pem"
