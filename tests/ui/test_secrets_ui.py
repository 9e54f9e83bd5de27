"""Security on screen: a camera's credential shows on no tile, list, tooltip or refusal; the
host and path do, so a supervisor still sees which camera is which."""

import json
from types import SimpleNamespace

import pytest

from console.clock import utcnow
from console.errors import StoreError
from console.services.accounts import auth
from console.store import open_store, repo
from tests.factories import small_deployment

SOURCE = "rtsp://alice:s3cr%40t@10.0.0.5/live"
QUERY_SOURCE = "rtsp://10.0.0.5/live2?password=hunter2&channel=1"
SECRETS = ("s3cr%40t", "s3cr@t", "hunter2")


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@pytest.fixture
def live(tmp_path):
    store = open_store(tmp_path / "data")
    d = small_deployment(store, operators=("op",))
    repo.add_camera(store, d.deployment_id, "Gate", SOURCE, "sup")
    repo.add_camera(store, d.deployment_id, "Gate 2", QUERY_SOURCE, "sup")
    yield SimpleNamespace(store=store, deployment_id=d.deployment_id, engine=None,
                          deployment=repo.get_deployment(store, d.deployment_id),
                          operator=auth.actor_for(store, "sup"))
    store.close()


def _dialog(qtbot, live, username):
    from ui.jobs import JobRunner
    from ui.supervision import SupervisionDialog

    live.operator = auth.actor_for(live.store, username)
    jobs = JobRunner(threads=1)
    dialog = SupervisionDialog(live, jobs)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "Gate 2" in dialog.deployment.cameras.text(), timeout=10000)
    return dialog, jobs


def test_security_the_deployment_tab_lists_cameras_without_their_credentials(qtbot, console_app, live):
    dialog, jobs = _dialog(qtbot, live, "sup")
    text = dialog.deployment.cameras.text()
    assert "rtsp://***@10.0.0.5/live" in text and "10.0.0.5/live2?password=***&amp;channel=1" in text
    assert leaks(text) == []
    dialog._fail(StoreError(f"cannot reach {SOURCE}"))  # a refusal that quotes a source
    assert "rtsp://***@10.0.0.5/live" in dialog.message.text() and leaks(dialog.message.text()) == []
    jobs.wait(5000)


def test_security_an_operator_sees_the_camera_names_not_even_the_redacted_sources(qtbot, console_app, live):
    dialog, jobs = _dialog(qtbot, live, "op")
    assert "Gate" in dialog.deployment.cameras.text() and "rtsp" not in dialog.deployment.cameras.text()
    jobs.wait(5000)


def test_security_a_tile_and_the_workers_tooltip_never_show_a_credential(qtbot, console_app, live):
    from PySide6.QtWidgets import QMainWindow

    from console.services.runtime.worker import alive_workers
    from ui.camera_grid import CameraGrid
    from ui.status_bar import ConsoleStatus

    grid = CameraGrid()
    qtbot.addWidget(grid)
    grid.show_cameras([f"Door {SOURCE}", "Hall"], [])
    grid.timer.stop()
    grid.show()
    grid.tiles[0].grab()  # painted with its title
    assert grid.tiles[0].title == "Door rtsp://***@10.0.0.5/live"
    # A heartbeat as an older worker wrote it: the camera's name whole.
    with live.store.transaction() as conn:
        conn.execute("INSERT INTO worker_heartbeats(worker_id, host, deployment_id, cameras_json, started_at,"
                     " updated_at, state) VALUES (?,?,?,?,?,?,?)",
                     ("w1", "edge-1", live.deployment_id, json.dumps({"3": {"name": f"Gate {QUERY_SOURCE}",
                      "state": "lost", "fps": 0.0}}), utcnow(), utcnow(), "running"))
    window = QMainWindow()
    qtbot.addWidget(window)
    status = ConsoleStatus(window)
    status.show_workers(alive_workers(live.store, live.deployment_id))
    tip = status.labels["workers"].toolTip()
    assert "Gate rtsp://10.0.0.5/live2?password=***&channel=1 lost" in tip and leaks(tip) == []
