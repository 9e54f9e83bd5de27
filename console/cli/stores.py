"""The store and execution providers a headless command was given (--db / --data-dir, --providers)."""

from __future__ import annotations

from console.errors import ConsoleError


def providers(args) -> list[str]:
    return [p.strip() for p in args.providers.split(",") if p.strip()]


def open_store(args):
    from console.services.accounts.session import open_store as open_location

    db = getattr(args, "db", None)
    if db and not db.startswith(("postgresql://", "postgres://")):  # not echoed: it may be "host=... password=..."
        raise ConsoleError("--db takes a postgresql:// URL (an SQLite data directory is given with --data-dir)")
    return open_location(db or args.data_dir)
