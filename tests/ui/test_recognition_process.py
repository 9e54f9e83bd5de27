"""The seat's recognition in its own process (console/services/runtime/seat_process.py): the real window on
the demo, its cameras analysed by a real child process, frames through shared memory, alerts
through the store's change feed."""

import argparse
import os
import signal
import sqlite3
import time

import pytest

from console.services.runtime.seat_display import SLOT_SIZE, DisplayBlock


@pytest.fixture
def window(qtbot, console_app, tmp_path):
    from ui.app import start_window

    args = argparse.Namespace(data_dir=tmp_path / "data", providers="cpu", model_pack=None, recognition="process")
    win = start_window(args, cameras=2, quiet=True)
    qtbot.addWidget(win)
    win.resize(1500, 900)
    win.show()
    win.db_path = tmp_path / "data" / "console.sqlite3"
    yield win
    win.shutdown()


def incidents_in_store(win) -> set[int]:
    con = sqlite3.connect(win.db_path)
    try:
        rows = con.execute("SELECT COALESCE(incident_id, id) FROM alerts WHERE status = 'pending' AND deployment_id = ?",
                           (win.live.deployment_id,)).fetchall()
    finally:
        con.close()
    return {int(r[0]) for r in rows}


def incidents_on_screen(win) -> set[int]:
    return {int(r.get("incident_id") or r["id"]) for r in win.alerts.rows}


def test_recognition_runs_in_its_own_process_and_the_window_paints_tile_sized_frames(qtbot, window):
    qtbot.waitUntil(lambda: window.live is not None and window.live.seat is not None, timeout=60000)
    seat = window.live.seat
    assert window.live.workers == []  # the window's process analyses nothing
    qtbot.waitUntil(lambda: seat.running, timeout=60000)
    assert seat.pid != os.getpid()
    tile = window.tiles[0]
    qtbot.waitUntil(lambda: tile.image is not None and len(tile.faces) > 0, timeout=60000)
    # The frame arrives at the tile's size (no scaling left for the GUI thread) and the boxes in its pixels.
    assert tile.image.width() <= tile.width() and tile.image.height() <= tile.height() - 28
    assert max(tile.image.width() - tile.width(), tile.image.height() - (tile.height() - 28)) >= -2
    for face in tile.faces:
        assert 0 <= face.box[0] < face.box[2] <= tile.image.width() + 1
    # The status bar shows each camera's analysed frame rate, measured in that process.
    qtbot.waitUntil(lambda: window.status_labels["analysis"].text().startswith("Analysed:"), timeout=5000)
    qtbot.waitUntil(lambda: all(c.analysed_fps > 0 for c in seat.cameras), timeout=20000)
    # Alerts come through the change feed, written by the process.
    qtbot.waitUntil(lambda: len(window.alerts.rows) >= 1, timeout=90000)
    # 1 up: the hidden camera is not sent any more (0 x 0 asked for it).
    window.grid_host.show_one(0)
    qtbot.wait(200)
    assert seat.block.wanted(1) == (0, 0) and seat.block.wanted(0)[0] > 0


def test_killing_the_recognition_process_shows_within_2_s_and_it_restarts_with_no_alert_lost(qtbot, window):
    qtbot.waitUntil(lambda: window.live is not None and window.live.seat is not None, timeout=60000)
    seat = window.live.seat
    qtbot.waitUntil(lambda: seat.running and len(window.alerts.rows) >= 1, timeout=120000)
    first_pid = seat.pid
    os.kill(first_pid, signal.SIGKILL)  # by hand, as an operator's mistake or a crash would
    killed = time.monotonic()
    qtbot.waitUntil(lambda: "RESTARTING" in window.status_labels["analysis"].text()
                    and window.problem_banner.isVisible() and "restarting" in window.problem_banner.text(), timeout=2000)
    assert time.monotonic() - killed < 2.0
    qtbot.waitUntil(lambda: window.tiles[0].state == "restarting", timeout=2000)
    # Restarted: a new process, running, frames painted again.
    qtbot.waitUntil(lambda: seat.running and seat.pid != first_pid, timeout=60000)
    assert seat.restarts == 1
    before = window.tiles[0].frame_index
    qtbot.waitUntil(lambda: window.tiles[0].state == "live" and window.tiles[0].frame_index != before, timeout=30000)
    qtbot.waitUntil(lambda: window.status_labels["analysis"].text().startswith("Analysed:")
                    and not window.problem_banner.isVisible(), timeout=5000)
    # No alert lost: every pending incident in the store - raised before the kill or after the
    # restart - is in the queue.
    qtbot.waitUntil(lambda: len(incidents_in_store(window)) >= 1
                    and incidents_in_store(window) <= incidents_on_screen(window), timeout=10000)
    # The restart is in the record: the new process joined the deployment as the seat's operator.
    con = sqlite3.connect(window.db_path)
    try:
        joins = con.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'deployment.joined'").fetchone()[0]
    finally:
        con.close()
    assert joins >= 2


def test_the_shared_block_never_shows_a_torn_or_stale_frame():
    import numpy as np

    block = DisplayBlock.create(2)
    try:
        reader = DisplayBlock.attach(block.name, 2)
        assert reader.read(0) is None  # nothing written yet
        reader.want(1, 320, 180)
        assert block.wanted(1) == (320, 180) and block.wanted(0) == (0, 0)
        image = np.full((180, 320, 3), 7, np.uint8)
        block.write(1, 41, image, [(1, 2, 30, 40, 1)], "live", 25.0, 10, 3, 19.5)
        shown = reader.read(1)
        assert shown.index == 41 and shown.image.shape == (180, 320, 3) and int(shown.image[5, 5, 0]) == 7
        assert shown.faces[0].box == (1, 2, 30, 40) and shown.faces[0].matched and not shown.faces[0].passed_gate
        assert (shown.state, shown.analysed, shown.embedded, shown.analysed_fps) == ("live", 10, 3, 19.5)
        assert reader.read(1, since_seq=shown.seq) is None  # painted already: nothing new
        # A write in progress (odd sequence number) is never handed out.
        seq = shown.seq
        block.buf[SLOT_SIZE: SLOT_SIZE + 8] = (seq + 1).to_bytes(8, "little")
        assert reader.read(1) is None
        reader.close()
    finally:
        block.close()
