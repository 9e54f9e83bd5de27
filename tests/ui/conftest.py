import threading

import pytest


@pytest.fixture(autouse=True)
def no_leaked_camera_threads():
    yield
    leaked = [t.name for t in threading.enumerate() if t.name.startswith(("source-", "worker-")) and t.is_alive()]
    assert leaked == [], f"test left camera threads running: {leaked}"


@pytest.fixture
def console_app(qapp):
    from ui.app import create_app

    return create_app()
