"""Each supervisor's own key for report sign-offs (Step 12), and the check of every signed sign-off.

A supervisor's first sign-in with a password makes them an Ed25519 key. The private key lives in
the key folder (``checkpoints.key_dir``: ``<data dir>/keys/signoff-<user id>-<log>.pem``, 0600, never
in the database), encrypted with their password: PKCS#8 under BestAvailableEncryption, whose own
key derivation is weak (PBKDF2, 2048 rounds), so its passphrase is scrypt(password) at the cost of
the password hash (32 MiB), with its salt in the file's first line. The public key goes to the audit
log (``user.signing_key_created``): the log is where others learn it.

- A password change (``auth.change_password``) re-encrypts the key: both passwords are known there.
- An administrator's reset leaves a key nobody can open: the next sign-in makes a new one and logs
  that it replaces the previous one (which still stands for the sign-offs made with it).
- A sign-in that finds the key under the account's current password does no key crypto at all: the
  file's first line names the password hash it was encrypted under (a digest of its salt).
- A sign-off asks for the password again (counted like a sign-in), opens the key for that one
  signature and drops it: no decrypted key stays in memory.

A signed sign-off's audit entry holds the statement (deployment, record digest, the log's size and
Merkle root just before the entry, signer, time, key fingerprint) and its signature; ``check`` holds
every sign-off against the keys the log recorded. Sign-offs made before this feature carry no
signature and are listed, not failed; an unsigned one made after its signer had a key is a problem.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from console.clock import utcnow
from console.errors import ConsoleError
from console.services.accounts.permissions import Permission
from console.store import Store, audit, checkpoints, countersign, merkle, repo, witness
from console.store import record as db
from console.store.proof_check import key_fingerprint

CREATED = "user.signing_key_created"
SIGNED_OFF = "report.signed_off"
FILE_FORMAT = "orc-signoff-key/1"
STATEMENT_FORMAT = "orc-signoff/1"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1  # the password hash's cost (console/services/accounts/auth.py)
UNSIGNED = "unsigned (made before sign-off keys)"
log = logging.getLogger(__name__)


def key_path(store: Store, user_id: int) -> Path:
    """``signoff-<user id>-<log>.pem``: the log's first hash tells stores apart, since one seat's key
    folder may serve several (PostgreSQL databases), each with its own user ids."""
    return checkpoints.key_dir(store) / f"signoff-{int(user_id)}-{checkpoints.log_id(store)[:12]}.pem"


# -- the key file ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyFile:
    header: dict
    pem: bytes


def _read(path: Path) -> KeyFile | None:
    try:
        first, pem = path.read_bytes().split(b"\n", 1)
        return KeyFile(json.loads(first), pem)
    except FileNotFoundError:
        return None
    except ValueError:  # not ours, or cut short: treated as a key nobody can open
        return KeyFile({}, b"")


def _passphrase(password: str, kdf: str) -> bytes:
    _, n, r, p, salt = kdf.split("$")
    return base64.b64encode(hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                           p=int(p), maxmem=64 << 20, dklen=32))


def _password_mark(store: Store, user_id: int) -> str:
    """Which password hash the account has now (a digest of its salt, which every change renews)."""
    return hashlib.sha256((repo.password_salt(store, user_id) or "").encode()).hexdigest()


def public_raw(key) -> bytes:
    return checkpoints.public_raw(key)


def _encode(store: Store, key, user_id: int, password: str) -> bytes:
    from cryptography.hazmat.primitives import serialization

    kdf = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${base64.b64encode(os.urandom(16)).decode()}"
    raw = public_raw(key)
    header = {"format": FILE_FORMAT, "user_id": user_id, "kdf": kdf, "password_mark": _password_mark(store, user_id),
              "public_key": base64.b64encode(raw).decode(), "key_fingerprint": key_fingerprint(raw)}
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(_passphrase(password, kdf)))
    return json.dumps(header, sort_keys=True).encode() + b"\n" + pem


def _open(kf: KeyFile, password: str):
    """The private key, or None where this password does not open it."""
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_pem_private_key(kf.pem, _passphrase(password, kf.header["kdf"]))
    except (KeyError, ValueError, TypeError):
        return None


def _put(path: Path, data: bytes) -> None:
    """Write the file whole (0600), replacing any there."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    checkpoints.write_private(tmp, data)
    os.replace(tmp, path)


def _create(store: Store, actor, password: str, previous: KeyFile | None) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    raw = public_raw(key)
    path = key_path(store, actor.user_id)
    data = _encode(store, key, actor.user_id, password)
    old = previous.header.get("key_fingerprint") if previous else None
    if previous is not None and path.exists():  # kept beside, for the record; nobody can open it
        os.replace(path, path.with_name(f"{path.stem}.replaced-{old[7:19] if old else 'unreadable'}.pem"))
    # Logged first: a key the log does not hold would sign sign-offs that verify names as forged.
    details = {"username": actor.username, "user_id": actor.user_id, "public_key": base64.b64encode(raw).decode(),
               "key_fingerprint": key_fingerprint(raw), "replaces": old,
               "reason": "first sign-in" if previous is None else
               "the password was reset: the previous key cannot be opened (it still stands for its sign-offs)"}
    audit.append(store, actor.username, CREATED, "user", actor.user_id, countersign.sign(store, details))
    _put(path, data)


def at_sign_in(store: Store, actor, password: str):
    """After a sign-in with ``password`` (``auth._authenticate``): a supervisor without a key gets one;
    one whose key no longer opens with their password (an administrator reset it) gets a new one.
    Returns ``actor``. Costs nothing but a file read while the password is the one the key is under."""
    if not actor.may(Permission.AUTHORISE_DEPLOYMENT):  # who signs off the record (console/services/record/signing.py)
        return actor
    try:
        path = key_path(store, actor.user_id)
        kf = _read(path)
        if kf is None:
            _create(store, actor, password, None)
        elif kf.header.get("password_mark") != _password_mark(store, actor.user_id):
            key = _open(kf, password)
            if key is None:
                _create(store, actor, password, kf)
            else:  # the same password under a new hash: note the new one, so sign-ins stay cheap
                _put(path, _encode(store, key, actor.user_id, password))
    except OSError as exc:  # a key folder that cannot be written: the sign-in stands, a sign-off will not
        log.warning("no sign-off key for %s at this seat: %s", actor.username, exc)
    return actor


def rekey(store: Store, actor, old: str, new: str) -> None:
    """After ``actor`` changed their password from ``old`` to ``new``: the key, under the new one."""
    path = key_path(store, actor.user_id)
    kf = _read(path)
    key = _open(kf, old) if kf is not None else None
    if key is not None:
        _put(path, _encode(store, key, actor.user_id, new))


def unlock(store: Store, actor, password: str):
    """The signer's private key, opened with ``password`` (already checked as a sign-in)."""
    try:
        kf = _read(key_path(store, actor.user_id))
    except OSError:
        kf = None
    key = _open(kf, password) if kf is not None else None
    if key is None:
        raise ConsoleError(f"{actor.username}'s sign-off key cannot be opened at this seat; sign in again")
    return key


# -- the statement a sign-off signs ---------------------------------------------------------------
def message(statement: dict) -> bytes:
    return b"orc report sign-off\n" + audit.canonical(statement)


def signed_statement(store: Store, key, actor, deployment_id: int, record_sha256: str) -> dict:
    """The statement over the record and the log as it stands (just before the sign-off's own entry),
    and its signature: what the sign-off's audit entry carries."""
    tree = checkpoints.current_tree(store)
    raw = public_raw(key)
    statement = {"format": STATEMENT_FORMAT, "deployment_id": int(deployment_id), "record_sha256": record_sha256,
                 "log": checkpoints.log_id(store), "log_size": tree.size, "log_root": tree.root().hex(),
                 "signer_user_id": actor.user_id, "signer": actor.username, "signed_at": utcnow(),
                 "key_fingerprint": key_fingerprint(raw)}
    return {"statement": statement, "signature": base64.b64encode(key.sign(message(statement))).decode()}


# -- the check ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignoffReport:
    signed: int = 0
    problems: list[str] = field(default_factory=list)
    unsigned: list[str] = field(default_factory=list)
    verified: frozenset = frozenset()  # (deployment id, record digest, signed_at) of each sign-off that holds

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        bad = f", {len(self.problems)} FAILED" if self.problems else ""
        old = f", {len(self.unsigned)} {UNSIGNED}" if self.unsigned else ""
        return f"report sign-offs: {self.signed} signed and verified{bad}{old}"

    def lines(self) -> list[str]:
        return [self.summary(), *self.problems, *self.unsigned]


def _verifies(public_b64: str, signature_b64: str, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64)).verify(base64.b64decode(signature_b64), data)
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def check(store: Store, tree: merkle.PrefixTree | None = None) -> SignoffReport:
    """Every sign-off in the log against the key its signer had then (as the log recorded it).
    ``tree``: the log's prefix tree when the caller walked the log already; else made here, once,
    at the first signed sign-off (each one's signed root is then O(log n), not a rehash)."""
    keys: dict[str, dict] = {}  # fingerprint -> the key entry's details, with _seq
    replaced: dict[str, int] = {}  # fingerprint -> the entry that replaced it
    first_key: dict[str, int] = {}  # username -> their first key entry
    signed, problems, unsigned, verified = 0, [], [], set()
    countersigned = False  # a countersigned key entry seen: bare ones after it are breaks
    for row in db.signing_entries(store, CREATED, SIGNED_OFF):
        seq, details = int(row["seq"]), json.loads(row["details_json"])
        if row["action"] == CREATED:
            bad = _key_entry_problem(store, seq, details, countersigned, unsigned)
            if bad:
                problems.append(f"key entry {seq} ({row['actor']}): {bad}")
                continue  # its key signs nothing
            countersigned = countersigned or "countersignature" in details
            fp = str(details.get("key_fingerprint"))
            keys.setdefault(fp, {**details, "_seq": seq})
            first_key.setdefault(str(details.get("username")), seq)
            if details.get("replaces"):
                replaced.setdefault(str(details["replaces"]), seq)
            continue
        name = f"sign-off of deployment {row['subject_id']} by {row['actor']} (audit entry {seq})"
        statement, signature = details.get("statement"), details.get("signature")
        if statement is None and signature is None:
            had = first_key.get(row["actor"])
            if had is None:
                unsigned.append(f"{name}: {UNSIGNED}")
            else:
                problems.append(f"{name}: unsigned, though {row['actor']} had a sign-off key from audit entry {had}")
            continue
        if tree is None:
            tree = witness.prefix_tree(store)
        problem = _problem(store, row, details, keys, replaced, tree)
        if problem:
            problems.append(f"{name}: {problem}")
        else:
            signed += 1
            verified.add((int(row["subject_id"]), details["statement"]["record_sha256"],
                          details["statement"].get("signed_at")))
    return SignoffReport(signed, problems, unsigned, frozenset(verified))


def _key_entry_problem(store: Store, seq: int, details: dict, countersigned: bool, legacy: list) -> str | None:
    """Why a key entry is not to be trusted (store/countersign.py); a bare one made before
    countersigning is listed in ``legacy`` and trusted."""
    if "countersignature" in details or "countersigned_by" in details:
        why = countersign.unchecked(store, details)
        if why:
            legacy.append(f"key entry {seq}: countersignature not checked: {why}")
            return None
        return countersign.problem(store, details)
    if not countersigned and countersign.installation_key(store) is None:
        legacy.append(f"key entry {seq} has no countersignature, and this machine holds no installation key to "
                      "tell whether it predates countersigning")
        return None
    if not countersigned and seq <= countersign.covered_by_checkpoint(store):
        legacy.append(f"key entry {seq} predates countersigning (no countersignature; covered by a checkpoint)")
        return None
    return "no countersignature by the installation key (a key entry written outside the console)"


def signed_in_log(store: Store, deployment_id: int) -> set[tuple[str, str]]:
    """(record digest, signed_at) of each sign-off of the deployment whose entry is in the log with a
    signature that verifies: a report_signoffs row counts as a signature only when it is one of these."""
    return {(digest, at) for dep, digest, at in check(store).verified if dep == int(deployment_id)}


def _problem(store: Store, row, details: dict, keys: dict, replaced: dict, tree: merkle.PrefixTree) -> str | None:
    statement, signature, seq = details.get("statement"), details.get("signature"), int(row["seq"])
    if not isinstance(statement, dict) or not isinstance(signature, str):
        return "its statement or signature is missing or malformed"
    key = keys.get(str(statement.get("key_fingerprint")))
    if key is None or key["_seq"] > seq or key.get("username") != row["actor"]:
        return f"signed with a key the log does not hold for {row['actor']}"
    if not _verifies(key.get("public_key", ""), signature, message(statement)):
        return "signature does not verify"
    if (statement.get("deployment_id") != int(row["subject_id"]) or statement.get("record_sha256")
            != details.get("record_sha256") or statement.get("signer") != row["actor"]
            or statement.get("signer_user_id") != key.get("user_id")):
        return "its signed statement does not match the entry (another deployment, record or signer)"
    if replaced.get(statement["key_fingerprint"], seq) < seq:
        return f"signed with a key replaced at audit entry {replaced[statement['key_fingerprint']]}"
    size = statement.get("log_size")
    if (not isinstance(size, int) or not 0 < size < seq or size > tree.size
            or statement.get("log") != checkpoints.log_id(store) or tree.root_at(size).hex() != statement.get("log_root")):
        return f"the log it signed (size {size}) is not this log's first {size} entries"
    return None
