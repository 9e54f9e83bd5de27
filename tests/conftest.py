"""Shared fixtures: real models, real SQLite files in temporary folders, offscreen Qt."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def engine():
    from console.vision.engine import load_engine

    return load_engine()


@pytest.fixture
def store(tmp_path):
    from console.store import open_store

    s = open_store(tmp_path / "data")
    yield s
    s.close()


@pytest.fixture(scope="session")
def photos():
    import cv2

    def read(name: str):
        image = cv2.imread(str(DATA / name))
        assert image is not None, name
        return image

    return read


@pytest.fixture(scope="session")
def group_photo():
    from console.feeds.demo_media import passer_by_photo, read_image

    return read_image(passer_by_photo())
