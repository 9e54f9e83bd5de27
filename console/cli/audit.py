"""`main.py audit ...`: the audit log from the command line.

- ``verify [--witness DIR ...]``: the hash chain, the records against it, and every signed checkpoint
  found (the folders named, the configured witnesses, this seat's own witness folder, the log's own
  checkpoint entries). Open to anyone holding the data: it says only whether and where it is broken.
- ``show``: the latest entries (a signed-in auditor, supervisor or administrator).
- ``prove SEQ --out FILE``: an inclusion proof of one entry against a signed checkpoint (signed in:
  it holds the entry). ``check-proof FILE`` checks one, as console/store/proof_check.py does alone.
- ``witness list|add|remove [DIR]``: the folders every checkpoint is written to (an administrator
  adds and removes them).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from console.cli.users import add_identity, signed_in
from console.errors import ConsoleError
from console.redaction import redact
from console.services.accounts.permissions import Permission

EXIT_FAILED = 1
ACTIONS = ["verify", "show", "prove", "check-proof", "witness"]


def add_parser(sub, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("audit", help="the hash-chained audit log, its signed checkpoints and proofs")
    add_common(p)
    p.add_argument("action", choices=ACTIONS, help="verify the log (open to anyone); show the latest entries; "
                   "prove SEQ (an inclusion proof); check-proof FILE; witness list|add|remove DIR")
    p.add_argument("target", nargs="*", help="prove: the entry's number; check-proof: the proof file; "
                   "witness: list, add DIR or remove DIR")
    p.add_argument("--witness", type=Path, action="append", default=[],
                   help="verify: also check the checkpoints in this folder (repeat)")
    p.add_argument("--out", type=Path, default=None, help="prove: the proof file to write (JSON)")
    p.add_argument("--last", type=int, default=30, help="entries to show (audit show)")
    p.add_argument("--action-filter", default="", help="only entries whose action starts with this, e.g. decision")
    add_identity(p)  # show, prove and witness changes are signed in


def _open(args):
    from console.services.accounts.session import open_store

    db = getattr(args, "db", None)
    if db and not db.startswith(("postgresql://", "postgres://")):  # not echoed: it may be "host=... password=..."
        raise ConsoleError("--db takes a postgresql:// URL (an SQLite data directory is given with --data-dir)")
    return open_store(db or args.data_dir)


def cmd_audit(args) -> int:
    handler = {"verify": _verify, "show": _show, "prove": _prove, "check-proof": _check_proof,
               "witness": _witness}[args.action]
    return handler(args)


def _verify(args) -> int:
    from console.services.record import audit_trail

    with _open(args) as store:
        result = audit_trail.integrity(store, args.witness)
    print(result.chain.summary())
    for problem in result.problems:
        print(f"record check FAILED: {problem}")
    if not result.problems:
        print("decisions, engagements, alerts, governed rows (deployments, settings, accounts, cameras,"
              " watchlist entries) and every other table of evidence match their audit entries")
    print(result.checkpoints.summary())
    for problem in result.checkpoints.problems:
        print(f"checkpoint check FAILED: {problem}")
    print(result.signoffs.summary())
    for problem in result.signoffs.problems:
        print(f"sign-off check FAILED: {problem}")
    for line in result.signoffs.unsigned:
        print(line)
    return 0 if result.ok else EXIT_FAILED


def _show(args) -> int:
    from console.services.record import audit_trail

    with _open(args) as store:
        entries = audit_trail.latest(store, signed_in(args, store), args.action_filter, args.last)
    for e in entries:
        shown = {k: v for k, v in e["details"].items() if not k.endswith("sha256")}
        print(redact(f"{e['seq']:>6}  {e['at']}  {e['actor']:<16} {e['action']:<22} {e['subject_type']}"
                     f" {e['subject_id']}  {json.dumps(shown, sort_keys=True)}"))
    return 0


def _prove(args) -> int:
    from console.exports import check_target, write_new
    from console.services.record import audit_trail

    if len(args.target) != 1 or not args.target[0].isdigit():
        raise ConsoleError("name the entry: audit prove SEQ --out FILE")
    if args.out is None:
        raise ConsoleError("name the proof file: --out FILE")
    args.out = check_target(args.out, (".json",))
    with _open(args) as store:
        proof = audit_trail.prove(store, signed_in(args, store), int(args.target[0]))
    write_new(args.out, (json.dumps(proof, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode())
    cp = proof["checkpoint"]
    print(f"wrote {args.out}: entry {proof['entry']['seq']} against the checkpoint of {cp['time']} "
          f"({cp['size']} entries), key {cp['key_fingerprint']}")
    return 0


def _check_proof(args) -> int:
    from console.services.record.audit_trail import check_proof_file

    if len(args.target) != 1:
        raise ConsoleError("name the proof file: audit check-proof FILE")
    ok, lines = check_proof_file(Path(args.target[0]))
    for line in lines:
        print(line)
    return 0 if ok else EXIT_FAILED


def _witness(args) -> int:
    from console.services.record import audit_trail

    what = args.target[0] if args.target else "list"
    if what not in ("list", "add", "remove") or (what != "list" and len(args.target) != 2):
        raise ConsoleError("audit witness list | add DIR | remove DIR")
    with _open(args) as store:
        actor = signed_in(args, store)
        if what == "list":
            actor.require(Permission.VIEW_AUDIT, store)
            folders = audit_trail.witness_folders(store)
        elif what == "add":
            folders = audit_trail.add_witness(store, actor, Path(args.target[1]))
        else:
            folders = audit_trail.remove_witness(store, actor, Path(args.target[1]))
    print("\n".join(map(str, folders)) or "no witness folder configured (this seat's own folder still keeps them)")
    return 0
