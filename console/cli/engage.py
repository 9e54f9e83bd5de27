"""`main.py engage`: the engagement officers' handheld service (HTTPS), on this machine's store."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from console.errors import ConsoleError

DESCRIPTION = ("Serve the page that engagement officers' paired phones open, over HTTPS, from the same store as the "
               "seats (an SQLite data directory or a PostgreSQL URL). On the first start it makes the installation's "
               "certificate under DATA_DIR/handheld/ and prints its SHA-256 fingerprint; every start announces the "
               "address and fingerprint in the store, where the supervisor's pairing dialog shows them beside the "
               "one-time code and its QR code. Stop it with Ctrl+C.")


def add_parser(sub, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("engage", help="serve the engagement officers' handheld pages over HTTPS (pair phones, send "
                       "confirmed alerts to them, take their outcomes back)", description=DESCRIPTION)
    add_common(p)
    p.add_argument("--listen", default="0.0.0.0:8443", metavar="HOST:PORT",
                   help="the address and port to listen on (default 0.0.0.0:8443: every interface)")
    p.add_argument("--demo", action="store_true",
                   help="serve the demo's own store (the data directory 'python main.py --demo' uses), to try a phone")
    p.add_argument("--hostname", action="append", default=[], metavar="NAME",
                   help="a name or address phones reach this machine by (repeatable; the first is the one announced). "
                        "The certificate names them on its first start (default: this machine's name)")


def cmd_engage(args) -> int:
    from console.handheld.server import serve

    db = getattr(args, "db", None)
    if db and not db.startswith(("postgresql://", "postgres://")):  # not echoed: it may hold a password
        raise ConsoleError("--db takes a postgresql:// URL (an SQLite data directory is given with --data-dir)")
    data_dir = args.data_dir
    if getattr(args, "demo", False):
        if db or data_dir:
            raise ConsoleError("--demo serves the demo's own store: leave out --db and --data-dir")
        from console.services.setup.demo import demo_data_dir

        data_dir = demo_data_dir()
    serve(db or data_dir, data_dir, args.listen, args.hostname)
    return 0
