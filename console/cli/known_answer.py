"""`main.py known-answer ...`: the proficiency sets known-answer test alerts are drawn from.

load FOLDER --csv TRUTH.csv --name NAME --as SUPERVISOR checks the folder like a watchlist folder,
makes live-like probes and pairs with the models, and stores the set (refused whole, naming every bad
row, if any row is bad); list shows the sets loaded. Both sign a supervisor in (the password is
asked on the terminal, or read as one line from standard input with --password-stdin).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from console.errors import ConsoleError


def add_parser(sub, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("known-answer", help="proficiency sets for known-answer test alerts: load a folder of photos "
                       "with its truth CSV, list the sets", description=__doc__.split("\n\n")[1].replace("\n", " "))
    add_common(p)
    p.add_argument("action", choices=["load", "list"])
    p.add_argument("folder", nargs="?", type=Path, help="load: the folder of photos the CSV names")
    p.add_argument("--csv", type=Path, default=None, help="load: the truth CSV (columns photo,person)")
    p.add_argument("--name", default="", help="load: the set's name")
    p.add_argument("--as", "--user", dest="user", default="",
                   help="the supervisor who does it, signed in (the password is asked on the terminal)")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password as one line from standard input (never as an argument)")


def _store(args):
    from console.services.accounts.session import open_store

    db = getattr(args, "db", None)
    if db and not db.startswith(("postgresql://", "postgres://")):  # not echoed: it may hold a password
        raise ConsoleError("--db takes a postgresql:// URL (an SQLite data directory is given with --data-dir)")
    return open_store(db or args.data_dir)


def cmd_known_answer(args) -> int:
    from console.cli.deploy import load_engine
    from console.cli.users import signed_in
    from console.services.accuracy import proficiency

    if args.action == "load" and (args.folder is None or args.csv is None or not args.name.strip()):
        raise ConsoleError("known-answer load needs FOLDER, --csv TRUTH.csv and --name NAME")
    with _store(args) as store:
        supervisor = signed_in(args, store)
        if args.action == "list":
            for row in proficiency.list_sets(store, supervisor):
                print(json.dumps(row))
            return 0
        counts = proficiency.load_set(store, load_engine(args), supervisor, args.folder, args.csv, args.name)
    print(f"set {counts['set_id']} loaded: {counts['mated']} mated and {counts['non_mated']} non-mated pairs "
          f"({counts['hard']} hard) from {counts['photos']} photos of {counts['people']} people; "
          f"{counts['refused_photos']} photos gave no live-like probe")
    return 0
