"""Database access: the store's contract (base), SQLite (the default) and PostgreSQL (several
seats), one opener for locations, forward migrations, the hash-chained audit log, and the
repository's SQL of each record type."""

from console.store.base import Store
from console.store.location import open_location, open_store

__all__ = ["Store", "open_location", "open_store"]
