"""Purges leave nothing (Step 12, item 5): after a purge the purged JPEGs and embeddings are in no
byte of the database's files - not in free pages, not in the write-ahead log."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import numpy as np

from console.services.record import retention
from console.store import open_store, repo
from tests.factories import small_deployment


def _files(data_dir) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.iterdir()) if p.name.startswith("console.sqlite3"))


def _marks(value: bytes) -> list[bytes]:
    """Three 64-byte pieces of a value (its start, middle and end): any one found means a copy is left."""
    mid = len(value) // 2
    return [value[:64], value[mid:mid + 64], value[-64:]]


def test_security_a_purge_leaves_no_copy_of_the_images_or_embeddings_in_the_files(tmp_path, monkeypatch):
    import sqlite3

    from console.store import sqlite as sqlite_store

    real_connect = sqlite3.connect

    def built_without_secure_delete(*args, **kwargs):
        """SQLite as some builds come: freed pages keep their bytes unless the connection asks."""
        conn = real_connect(*args, **kwargs)
        conn.execute("PRAGMA secure_delete=OFF")
        return conn

    monkeypatch.setattr(sqlite_store.sqlite3, "connect", built_without_secure_delete)
    data = tmp_path / "data"
    store = open_store(data)
    other_seat = open_store(data)  # the console keeps other connections open: the WAL stays
    try:
        d = small_deployment(store)
        rng = np.random.default_rng(7)
        probe, context, view, photo = (os.urandom(30_000) for _ in range(4))
        embedding = rng.standard_normal(128).astype(np.float32)
        alert = repo.insert_alert(store, repo.AlertRecord(
            d.deployment_id, d.camera_id, 1, [(d.entry_id, d.image_id, 0.7)], 0.4, "m", [0, 0, 1, 1], {}, probe, context,
            "2026-01-01T09:00:00Z"))
        repo.add_alert_view(store, alert, view, 0.8, {}, "2026-01-01T09:00:01Z")
        repo.add_entry_image(store, d.entry_id, photo, embedding, "m", {}, "sup")
        secrets = {"probe": probe, "context": context, "view": view, "photo": photo, "embedding": embedding.tobytes()}
        before = _files(data)
        assert all(_marks(value)[0] in before for value in secrets.values())  # the premise: they are there

        report = retention.run_purges(store, now=datetime(2100, 1, 1, tzinfo=UTC))
        assert report.alerts == 1 and report.views == 1 and report.entry_images == 2
        after = _files(data)  # while the console runs: the database file and its write-ahead log
        left = [name for name, value in secrets.items() if any(mark in after for mark in _marks(value))]
        assert left == []
    finally:
        other_seat.close()
        store.close()
