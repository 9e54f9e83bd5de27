"""Every screen size, keyboard first (issue 27): the operator window, the adjudication view, Review and
Set up at 1280x720, 1366x768 and 1920x1080 - nothing clipped, no label wider than itself - and the
keys alone, from sign-in: Enter opens the first incident, a decision, the queue has the focus again."""

import argparse

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontMetrics, QTextDocument
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QLabel, QWidget

from ui.video_tile import VideoTile

SIZES = ((1280, 720), (1366, 768), (1920, 1080))
ELLIPSIS = "…"


def text_width(label: QLabel) -> int:
    text = label.text()
    if label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and "<" in text and ">" in text
    ):
        doc = QTextDocument()
        doc.setDefaultFont(label.font())
        doc.setDocumentMargin(0)
        doc.setHtml(text)
        return int(doc.idealWidth())
    metrics = QFontMetrics(label.font())
    return max(metrics.horizontalAdvance(line) for line in text.split("\n"))


def in_scroll_area(widget: QWidget, top: QWidget) -> bool:
    """Inside a scrolled viewport a widget may lie outside the window: the viewport clips it."""
    parent = widget.parentWidget()
    while parent is not None and parent is not top:
        if isinstance(parent, QAbstractScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def problems(top: QWidget, size: tuple[int, int]) -> list[str]:
    """What is clipped in ``top`` shown at ``size``: its minimum size too big, a visible widget outside
    it, a non-wrapping label whose text is wider than the label, an elided label without its tooltip."""
    found = []
    hint = top.minimumSizeHint()
    if hint.width() > size[0] or hint.height() > size[1]:
        found.append(f"minimumSizeHint {hint.width()}x{hint.height()} exceeds {size[0]}x{size[1]}")
    if top.width() > size[0] or top.height() > size[1]:
        found.append(f"shown at {top.width()}x{top.height()}, not {size[0]}x{size[1]}")
    for w in top.findChildren(QWidget):
        if not w.isVisible() or w.isWindow() or in_scroll_area(w, top):
            continue
        where = w.mapTo(top, QPoint(0, 0))
        name = f"{type(w).__name__}({getattr(w, 'text', lambda: '')()!r:.50})" if isinstance(w, QLabel) else type(
            w
        ).__name__
        if where.x() < -1 or where.y() < -1 or where.x() + w.width() > top.width() + 1 or (
            where.y() + w.height() > top.height() + 1
        ):
            found.append(f"{name} at {where.x()},{where.y()} {w.width()}x{w.height()} lies outside the window")
        if isinstance(w, QLabel) and w.text() and not w.wordWrap() and w.pixmap().isNull():
            room = w.contentsRect().width() - 2 * w.margin()
            if text_width(w) > room + 1:
                found.append(f"{name}: text {text_width(w)} px wide in a {room} px label")
            if ELLIPSIS in w.text() and not w.toolTip():
                found.append(f"{name}: elided without the whole text in its tooltip")
    return found


def show_at(qtbot, top: QWidget, size: tuple[int, int]) -> None:
    top.setMinimumSize(0, 0)
    top.resize(*size)
    top.show()
    for _ in range(3):
        QApplication.processEvents()
    qtbot.wait(50)


@pytest.fixture
def window(qtbot, console_app, tmp_path):
    from ui.app import start_window

    args = argparse.Namespace(data_dir=tmp_path / "data", providers="cpu", model_pack=None)
    win = start_window(args, cameras=1, quiet=True)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.live is not None and len(win.tiles) == 1, timeout=60000)
    qtbot.waitUntil(lambda: win.status_labels["window"].text().startswith("Window:"), timeout=5000)
    yield win
    win.shutdown()


def test_the_operator_window_fits_every_screen_and_keeps_what_matters(qtbot, window):
    status = window.status
    for size in SIZES:
        show_at(qtbot, window, size)
        assert problems(window, size) == [], size
        shown = {k for k in status.full if status._label(k).isVisible()}
        assert {"banner", "window", "user", "threshold"} <= shown, (size, shown)  # never dropped
        assert window.banner.text().startswith("DEMO")
        for key in shown:
            label = status._label(key)
            if label.text() != status.full[key]:  # shortened: the whole text in the tooltip
                assert status.full[key] in label.toolTip(), key
    # The widest screen has room for everything; the narrowest dropped something, least important first.
    show_at(qtbot, window, SIZES[-1])
    assert status.labels["pending"].isVisible() and status.labels["deployment"].isVisible()
    show_at(qtbot, window, SIZES[0])
    assert not status.labels["faces"].isVisible()


def test_the_adjudication_view_fits_every_screen(qtbot, window):
    qtbot.waitUntil(lambda: len(window.alerts.rows) >= 1, timeout=90000)
    window.review.open(window.alerts.rows[0]["id"])
    qtbot.waitUntil(lambda: window.view.mode == "review" and window.view.detail is not None, timeout=10000)
    for mode in ("review", "reject", "outcome"):
        window.view.set_mode(mode)
        for size in SIZES:
            show_at(qtbot, window, size)
            assert problems(window, size) == [], (mode, size)


def test_review_and_set_up_fit_every_screen(qtbot, window):
    from ui.review import ReviewWindow
    from ui.supervision import SupervisionDialog

    review = ReviewWindow(window.live, window.db_jobs, window)
    supervision = SupervisionDialog(window.live, window.db_jobs, window)
    names = [supervision.tabs.tabText(i) for i in range(supervision.tabs.count())]
    supervision.tabs.setCurrentIndex(names.index("Set up"))
    try:
        for dialog in (review, supervision):
            for size in SIZES:
                show_at(qtbot, dialog, size)
                assert problems(dialog, size) == [], (dialog.windowTitle(), size)
    finally:
        review.close()
        supervision.close()


def test_the_small_live_tile_ends_the_camera_name_before_the_live_badge(qtbot, console_app):
    tile = VideoTile("Entrance north - platform 4, looking towards the ticket hall")
    qtbot.addWidget(tile)
    tile.set_state("live")
    tile.fps = 25
    tile.resize(240, 150)
    tile.show()
    title, state = tile.strip_texts()
    metrics = QFontMetrics(tile._strip_font())
    badge_left = tile.width() - 10 - metrics.horizontalAdvance(state)
    assert state.startswith("● LIVE")
    assert title.endswith(ELLIPSIS) and title != tile.title
    assert 10 + metrics.horizontalAdvance(title) < badge_left
    tile.resize(1200, 150)  # room enough: the whole name
    assert tile.strip_texts()[0] == tile.title
    assert not tile.grab().isNull()


def test_keyboard_alone_from_sign_in(qtbot, console_app, tmp_path):
    """Sign in by keys; Enter opens the first incident; a rejection keyed; the queue has the focus again
    and Enter (after Esc back to the grid) opens the next incident - no click anywhere."""
    from ui.app import start_window

    args = argparse.Namespace(data_dir=tmp_path / "data", providers="cpu", model_pack=None, demo=True)
    win = start_window(args, cameras=1, quiet=True, login=True)
    qtbot.addWidget(win)
    win.resize(1280, 720)
    win.show()

    def press(key) -> None:  # where a real keyboard sends it: the focused widget
        target = QApplication.focusWidget()
        assert target is not None, "nothing has the keyboard focus"
        qtbot.keyClick(target, key)

    try:
        qtbot.waitUntil(lambda: getattr(win, "login_dialog", None) is not None, timeout=15000)
        dialog = win.login_dialog
        dialog.user.setText("demo.operator")
        dialog.password.setFocus()
        qtbot.keyClicks(dialog.password, "demo")
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: win.live is not None, timeout=60000)
        qtbot.waitUntil(lambda: len(win.alerts.rows) >= 2, timeout=120000)
        qtbot.waitUntil(lambda: QApplication.focusWidget() is win.queue_view, timeout=5000)
        first = win.queue.current_alert()

        press(Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: win.view.mode == "review" and win.view.detail is not None, timeout=10000)
        assert win.view.detail.alert_id == first
        assert QApplication.focusWidget() is win.queue_view

        press(Qt.Key.Key_R)
        assert win.view.mode == "reject"
        press(Qt.Key.Key_1)
        press(Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: all(r["id"] != first for r in win.alerts.rows), timeout=10000)
        qtbot.waitUntil(lambda: win.view.mode in ("review", "empty") and QApplication.focusWidget() is win.queue_view,
                        timeout=10000)

        press(Qt.Key.Key_Escape)  # back to the grid: the queue keeps the keyboard
        qtbot.waitUntil(lambda: win.center.currentWidget() is win.grid_host, timeout=5000)
        assert QApplication.focusWidget() is win.queue_view
        nxt = win.queue.current_alert()
        assert nxt is not None and nxt != first
        press(Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: win.view.mode == "review" and win.view.detail is not None, timeout=10000)
        assert win.view.detail.alert_id == nxt
    finally:
        win.shutdown()
