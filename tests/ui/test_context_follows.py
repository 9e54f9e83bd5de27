"""An alert opened before its context frame is stored (issue 31: the alert is stored at once, its
bystanders blurred after it): the adjudication view says the frame is coming and shows it when it
comes, on a real SQLite store with real widgets; one that never comes is no longer promised."""

import cv2
import numpy as np

from tests.ui.test_known_answer_ui import jobs, live, review  # noqa: F401 - the fixtures, shared
from tests.unit.test_alert_contexts import _without_frame

WAITING = "Where: the whole frame (being blurred - it follows in a moment)"


def _opened(qtbot, review, alert_id):  # noqa: F811
    review.open(alert_id)
    qtbot.waitUntil(lambda: review.view.mode == "review" and review.view.detail is not None, timeout=10000)


def test_the_frame_stored_after_the_alert_is_shown_when_it_comes(qtbot, live, review):  # noqa: F811
    from console.store import repo

    alert = _without_frame(live.small)
    _opened(qtbot, review, alert)
    view = review.view
    assert view.images["context"] is None and view.context_caption.text() == WAITING
    frame = np.full((90, 160, 3), 80, np.uint8)
    repo.add_alert_context(live.store, alert, cv2.imencode(".jpg", frame)[1].tobytes())
    qtbot.waitUntil(lambda: view.images["context"] is not None, timeout=10000)
    assert view.images["context"].width() == 160 and view.context_caption.text() == "Where: the whole frame"
    assert view.context_view.photo.width() == 160  # on screen, not only decoded


def test_a_frame_that_never_comes_is_no_longer_promised(qtbot, live, review, monkeypatch):  # noqa: F811
    from ui.adjudication import controller

    monkeypatch.setattr(controller, "CONTEXT_POLL_MS", 20)
    monkeypatch.setattr(controller, "CONTEXT_POLLS", 3)
    _opened(qtbot, review, _without_frame(live.small))
    assert review.view.context_caption.text() == WAITING
    qtbot.waitUntil(lambda: review.view.context_caption.text() == "Where: the whole frame", timeout=10000)
    assert review.view.images["context"] is None


def test_an_alert_with_its_own_frame_promises_nothing(qtbot, live, review):  # noqa: F811
    _opened(qtbot, review, live.small.alert())
    assert review.view.context_caption.text() == "Where: the whole frame"
