"""Database access: SQLite by default, forward migrations, the hash-chained audit log."""

from console.store.db import Store, open_store

__all__ = ["Store", "open_store"]
