"""Fixtures of the reliability tests: a real, small file system that can be filled to the last byte."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest


@pytest.fixture
def small_disk(tmp_path):
    """A real 16 MiB file system (tmpfs), mounted for this test and removed after it."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    why = "mounting a small file system needs root" if os.geteuid() != 0 else ""
    if not why:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(mount)],
                              capture_output=True, text=True)
        why = done.stderr.strip() if done.returncode else ""
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the full-disk test: {why}")
        pytest.skip(why)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


class FullDisk:
    def __init__(self, store, mount: Path) -> None:
        self.store, self.filler = store, mount / "filler"

    def on(self) -> None:
        # Empty the write-ahead log first, so that the next write must grow a file.
        self.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with open(self.filler, "wb", buffering=0) as fh:
            for size in (65536, 512):  # big pieces, then the last few bytes too
                try:
                    while True:
                        fh.write(b"\0" * size)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC

    def off(self) -> None:
        self.filler.unlink()
