"""Shared fixtures: real models, real SQLite files in temporary folders, offscreen Qt."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The per-user data folder (keys, witness folders of PostgreSQL seats, the demo's default) is a
# temporary one: tests never write into the home of whoever runs them.
os.environ.setdefault("ORC_DATA_DIR", tempfile.mkdtemp(prefix="orc-test-data-"))
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


PG_URL = os.environ.get("ORC_TEST_PG_URL", "")


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    """The store on each database: SQLite in a temporary folder, and a fresh PostgreSQL database
    (ORC_TEST_PG_URL names the server; .ci/run starts one on loopback)."""
    from console.store import open_store

    if request.param == "sqlite":
        s = open_store(tmp_path / "data")
        yield s
        s.close()
        return
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must run the store tests on PostgreSQL too: ORC_TEST_PG_URL is not set")
        pytest.skip("no PostgreSQL server (set ORC_TEST_PG_URL, or run .ci/start_postgres.sh)")
    import uuid

    import psycopg

    from console.store import open_location as open_store_url

    name = f"orc_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    s = open_store_url(url)
    yield s
    s.close()
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def drop_append_only_guards(store, table: str = "audit_log") -> None:
    """What someone editing the database by hand would do first."""
    for op in ("update", "delete"):
        name = f"{table}_no_{op}"
        if store.dialect == "sqlite":
            store.conn.execute(f"DROP TRIGGER {name}")
        else:
            store.conn.execute(f"DROP TRIGGER {name} ON {table}")
