"""The bundled YuNet + SFace pair: verified against resources/models/manifest.json."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from console.errors import ModelError
from console.paths import resources_dir

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class BundledFiles:
    detector: Path
    recogniser: Path
    model_id: str


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_bundled(models_dir: Path | None = None) -> BundledFiles:
    """Check every bundled file against its recorded SHA-256 before anything loads it."""
    directory = Path(models_dir) if models_dir else resources_dir() / "models"
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise ModelError(f"model manifest is missing: {manifest_path}")
    try:
        manifest = json.loads(manifest_path.read_text())
        files = manifest["files"]
    except (ValueError, KeyError) as exc:
        raise ModelError(f"model manifest {manifest_path} is unreadable: {exc}") from exc
    paths = {}
    for role in ("detector", "recogniser"):
        if role not in files:
            raise ModelError(f"model manifest {manifest_path} names no {role}")
        path = directory / files[role]["file"]
        if not path.is_file():
            raise ModelError(f"bundled {role} model is missing: {path}")
        actual = sha256_file(path)
        if actual != files[role]["sha256"]:
            raise ModelError(
                f"bundled {role} model {path} has been altered: SHA-256 {actual[:16]}... "
                f"does not match the recorded {files[role]['sha256'][:16]}..."
            )
        paths[role] = path
    model_id = "yunet-2023mar+sface-2021dec@" + files["recogniser"]["sha256"][:12]
    return BundledFiles(paths["detector"], paths["recogniser"], model_id)
