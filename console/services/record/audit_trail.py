"""Reading the audit log: whether it still holds, and what it says.

Whether the chain and the records still match is no secret: anyone may ask (the command line's
``audit verify``), and the answer names only entry numbers. Reading the entries themselves,
or checking from a signed-in screen, is for the roles that may view the audit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from console.errors import ConsoleError
from console.redaction import redact_value
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.services.record import signing_keys
from console.store import Store, audit, checkpoints, governed, ledger, merkle, settings, witness
from console.store import record as record_rows


@dataclass(frozen=True)
class Integrity:
    """The hash chain's verdict, the records (decisions, engagements, alerts), governed rows
    (deployments, settings, accounts, cameras, watchlist entries: console/store/governed.py) and the
    rows digested into the log (every other table of evidence: console/store/ledger.py; the list of
    all tables is console/store/accounting.py) that disagree with their audit entries, the signed
    checkpoints held against the log, and every report sign-off held against its signer's key
    (console/services/record/signing_keys.py)."""

    chain: audit.ChainReport
    problems: list[str] = field(default_factory=list)
    checkpoints: witness.CheckpointReport = field(default_factory=witness.CheckpointReport)
    signoffs: signing_keys.SignoffReport = field(default_factory=signing_keys.SignoffReport)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems and self.checkpoints.ok and self.signoffs.ok

    def lines(self) -> list[str]:
        return [self.chain.summary(), *self.problems, self.checkpoints.summary(), *self.checkpoints.problems,
                *self.signoffs.lines()]


def integrity(store: Store, witnesses: list[Path] | tuple[Path, ...] = ()) -> Integrity:
    """Verify the chain, the records and governed rows against it and every signed checkpoint found
    (``witnesses``, the configured witness folders, this seat's own, the log's entries), and every
    report sign-off's signature; open to anyone."""
    tree = merkle.PrefixTree()  # one walk of the log: the chain, and every prefix root the signatures name
    chain = audit.verify_chain(store, tree)
    return Integrity(chain, audit.verify_records(store) + governed.verify(store) + ledger.verify(store),
                     witness.check(store, witnesses, tree), signing_keys.check(store, tree))


def verify(store: Store, actor: Actor) -> Integrity:
    """``integrity`` for a signed-in user who may view the audit."""
    actor.require(Permission.VIEW_AUDIT, store)
    return integrity(store)


def latest(store: Store, actor: Actor, prefix: str = "", last: int = 30) -> list[dict]:
    """The newest ``last`` entries whose action starts with ``prefix``, oldest first, with
    their details decoded - and redacted: an entry written before redaction began may hold a
    camera's password, and the log cannot be changed."""
    actor.require(Permission.VIEW_AUDIT, store)
    rows = record_rows.entries_like(store, _like_prefix(prefix), last)
    return [{**{k: r[k] for k in ("seq", "at", "actor", "action", "subject_type", "subject_id")},
             "details": redact_value(json.loads(r["details_json"]))} for r in reversed(rows)]


def deployment_stop(store: Store, deployment_id: int) -> dict | None:
    """Who stopped the deployment's recognition, when and why (the latest stop entry), or None.

    Every seat is told of a stop by name, so this is open to any signed-in screen."""
    row = record_rows.latest_stop_entry(store, deployment_id)

    if row is None:
        return None
    details = json.loads(row["details_json"])
    return {"at": row["at"], "by": row["actor"], "role": details.get("role", ""), "reason": details.get("reason", "")}


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching ``prefix`` literally at the start (% and _ in it are not wildcards)."""
    return prefix.replace("\x00", "").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# -- checkpoints and witnesses (Step 12) -------------------------------------------------------------
def witness_folders(store: Store) -> list[Path]:
    return checkpoints.configured_witnesses(store)


def add_witness(store: Store, admin: Actor, folder: Path) -> list[Path]:
    """An administrator names a folder every checkpoint is also written to (a share, a removable
    disk, another machine's mount): it must exist and take a file now."""
    admin.require(Permission.MANAGE_WITNESSES, store)
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise ConsoleError(f"witness folder {folder} does not exist (make it first)")
    probe = folder / ".orc-witness-probe"
    try:
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ConsoleError(f"witness folder {folder} cannot be written: {exc.strerror or exc}") from None
    folders = [str(p) for p in witness_folders(store)]
    if str(folder) not in folders:
        settings.set_setting(store, "audit", "witnesses", [*folders, str(folder)], admin.user_id, admin.username,
                             "witness folder added")
    cp = checkpoints.latest_in_log(store)
    if cp is not None:
        checkpoints.write_to(folder, cp[1])  # it starts with the latest checkpoint
    return witness_folders(store)


def remove_witness(store: Store, admin: Actor, folder: Path) -> list[Path]:
    admin.require(Permission.MANAGE_WITNESSES, store)
    folders = [str(p) for p in witness_folders(store)]
    wanted = str(Path(folder).expanduser().resolve())
    if wanted not in folders:
        raise ConsoleError(f"{folder} is not a witness folder")
    settings.set_setting(store, "audit", "witnesses", [f for f in folders if f != wanted], admin.user_id,
                         admin.username, "witness folder removed")
    return witness_folders(store)


def make_checkpoint(store: Store, extra: list[Path] | tuple[Path, ...] = (), reason: str = "") -> checkpoints.Checkpoint:
    """Sign the log as it stands and write the checkpoint to every witness (and ``extra``). Signing
    is refused while a checkpoint already found no longer matches the log: the key would vouch for a
    rewritten history."""
    report = witness.check(store)
    if not report.ok:
        raise ConsoleError("not signing a checkpoint: " + "; ".join(report.problems[:3]))
    return checkpoints.make(store, extra, reason)


def prove(store: Store, actor: Actor, seq: int) -> dict:
    """An inclusion proof of entry ``seq`` (it holds the entry: for roles that may view the audit)."""
    actor.require(Permission.VIEW_AUDIT, store)
    try:
        return witness.inclusion_proof(store, seq)
    except ValueError as exc:
        raise ConsoleError(str(exc)) from None


def check_proof_file(path: Path) -> tuple[bool, list[str]]:
    """Check an inclusion proof file exactly as the standalone console/store/proof_check.py does."""
    import contextlib
    import io

    from console.store import proof_check

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        rc = proof_check.main([str(path)])
    return rc == 0, out.getvalue().splitlines()
