"""The models the console runs: loading a pack (bundled YuNet + SFace, or an InsightFace folder)
and checking the bundled files against their recorded checksums."""

from __future__ import annotations

from pathlib import Path

from console.vision.bundled import verify_bundled
from console.vision.engine import FaceEngine, load_engine


def load(pack: str | None = None, providers: list[str] | None = None, threads: int = 0) -> FaceEngine:
    return load_engine(pack, providers, threads=threads)


def verify(models_dir: Path | None = None) -> str:
    """One line saying what was verified; ModelError naming the file that is missing or altered."""
    files = verify_bundled(models_dir)
    which = "bundled models" if models_dir is None else f"models in {models_dir}"
    return f"{which} verified: {files.detector.name}, {files.recogniser.name} ({files.model_id})"
