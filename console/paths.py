"""Where the console keeps things: shipped resources and the per-user data directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "operator-review-console"


def resources_dir() -> Path:
    """The shipped resources; inside a PyInstaller bundle they sit beside the executable."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def default_data_dir() -> Path:
    """Biometric data lives here (never in the working directory)."""
    override = os.environ.get("ORC_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def ensure_data_dir(path: Path | str | None) -> Path:
    """Create the data directory (owner-only permissions) and return it."""
    directory = Path(path) if path else default_data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        directory.chmod(0o700)
    except OSError:
        pass
    return directory
