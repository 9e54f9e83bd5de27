"""Which deployment a seat opens after sign-in: the ones it may open now, and the one it chose last.

The last choice is a convenience, not a governed setting: it only preselects a line in the seat's
chooser, and lives in a small file beside the data (``seat_choice.json`` in the SQLite data
directory; for a PostgreSQL store, in this computer's data directory, one file per database). Every
opening is still checked and logged by the services that open a deployment.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import urlsplit

from console.paths import ensure_data_dir
from console.services.accounts.auth import Actor
from console.services.setup.deployment_setup import seat_choices
from console.store import open_location

FILE = "seat_choice.json"


def memory_file(location: Path | str | None) -> Path:
    """Where this seat remembers its last choice for the store at ``location``."""
    text = str(location) if location is not None else ""
    if "://" in text:  # a database server: keyed by its address, never its password
        url = urlsplit(text)
        key = f"{url.scheme}://{url.hostname}:{url.port}{url.path}?{url.username}"
        return ensure_data_dir(None) / f"seat_choice-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
    return ensure_data_dir(location) / FILE


def last_choice(location: Path | str | None) -> int | None:
    """The deployment this seat opened last by choice; None if never (or the file is unreadable)."""
    try:
        value = json.loads(memory_file(location).read_text(encoding="utf-8")).get("deployment_id")
        return int(value) if value is not None else None
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def remember(location: Path | str | None, deployment_id: int) -> None:
    path = memory_file(location)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"deployment_id": int(deployment_id)}), encoding="utf-8")
    tmp.replace(path)


def choices(location: Path | str | None, actor: Actor) -> tuple[list[dict], int | None]:
    """The deployments this seat may open now (newest first) and the one it chose last."""
    with open_location(location) as store:
        rows = seat_choices(store, actor)
    return rows, last_choice(location)
