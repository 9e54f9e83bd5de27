"""Image views with zoom and pan, optionally linked so probe and candidate move together.

A view with a face box (its *anchor*) frames the face: the box fills ``FACE_FILL`` of the view
and its centre is the view's centre, so a probe and a watchlist photo of any size show their
faces at the same size and place. The linked state is expressed in face units (a zoom relative
to that framing, and the view centre's offset from the face centre in face widths and heights):
zooming one zooms both about their faces. ``full`` shows the whole photo instead (key F)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QFrame, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView

FACE_FILL = 0.55  # the face box's share of the view when framed on the face


class ZoomView(QGraphicsView):
    """Wheel or +/- to zoom, drag to pan. Emits its view as (zoom, offset from the anchor's
    centre in anchor units)."""

    viewChanged = Signal(float, float, float)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self.item)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(QColor("#0b0d10"))
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # drag pans; no bars to
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # shrink the view as it zooms
        self.photo = QRectF()
        self.offset = (0.0, 0.0)
        self.zoom = 1.0
        self._quiet = False
        self._panning = False  # a hand drag under way: only then is a scroll a pan to follow
        self.horizontalScrollBar().valueChanged.connect(self._emit)
        self.verticalScrollBar().valueChanged.connect(self._emit)
        self.box: QRectF | None = None
        self.face: QRectF | None = None
        self.full = False

    def set_image(self, image: QImage | None, box: list[float] | None = None, face: list[float] | None = None) -> None:
        """``box``: drawn on the image (the context frame's face); ``face``: the anchor to frame."""
        pix = QPixmap.fromImage(image) if image is not None and not image.isNull() else QPixmap()
        self._quiet = True  # the scroll bars move with the new scene: no pan, nothing for the linked view
        try:
            self.item.setPixmap(pix)
            self.photo = QRectF(pix.rect())
            # Room around the photo, so a face near its edge can still be centred (no clamped scrolling).
            margin = 2 * max(self.photo.width(), self.photo.height())
            self.scene().setSceneRect(self.photo.adjusted(-margin, -margin, margin, margin))
        finally:
            self._quiet = False
        self.box = _rect(box)
        self.face = _rect(face)
        if self.face is not None and not self.face.intersects(self.photo):
            self.face = None
        self.reset_zoom()

    def set_full(self, full: bool) -> None:
        self.full = full
        self.reset_zoom()

    def anchor(self) -> QRectF:
        """The rectangle the view frames: the face, or the whole photo."""
        return self.face if self.face is not None and not self.full else self.photo

    def drawForeground(self, painter, rect) -> None:  # noqa: N802
        if self.box is not None:
            painter.setPen(QPen(QColor("#E69F00"), 3))
            painter.drawRect(self.box)

    def fit_scale(self) -> float:
        r = self.anchor()
        if r.isEmpty():
            return 1.0
        fill = FACE_FILL if r is self.face else 1.0
        return fill * min(self.viewport().width() / r.width(), self.viewport().height() / r.height())

    def apply(self, zoom: float, ox: float, oy: float) -> None:
        self._quiet = True
        try:
            self.zoom = max(0.25, min(8.0, zoom))
            s = self.fit_scale() * self.zoom
            self.resetTransform()
            self.scale(s, s)
            a = self.anchor()
            self.centerOn(QPointF(a.center().x() + ox * a.width(), a.center().y() + oy * a.height()))
            self.offset = (ox, oy)  # kept exact: the view's pixel centre would round it
        finally:
            self._quiet = False

    def centre(self) -> tuple[float, float]:
        """The view centre's offset from the anchor's centre, in anchor widths and heights."""
        a = self.anchor()
        if a.isEmpty():
            return 0.0, 0.0
        c = self.mapToScene(self.viewport().rect().center())
        return (c.x() - a.center().x()) / a.width(), (c.y() - a.center().y()) / a.height()

    def zoom_by(self, factor: float) -> None:
        self.apply(self.zoom * factor, *self.offset)
        self._emit()

    def reset_zoom(self) -> None:
        self.apply(1.0, 0.0, 0.0)
        self._emit()

    def wheelEvent(self, event) -> None:  # noqa: N802
        self.zoom_by(1.25 if event.angleDelta().y() > 0 else 0.8)

    def resizeEvent(self, event) -> None:  # noqa: N802
        self._quiet = True  # a layout moving the scroll bars is not a pan
        try:
            super().resizeEvent(event)
        finally:
            self._quiet = False
        self.apply(self.zoom, *self.offset)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self._panning = True
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        super().mouseReleaseEvent(event)
        self._panning = False

    def _emit(self, *_):
        if self._quiet:
            return
        if _:  # the scroll bars moved: a pan only while a hand drags (a layout change moves them too)
            if not self._panning:
                return
            self.offset = self.centre()
        self.viewChanged.emit(self.zoom, *self.offset)


def _rect(box: list[float] | None) -> QRectF | None:
    return QRectF(box[0], box[1], box[2] - box[0], box[3] - box[1]) if box and box[2] > box[0] and box[3] > box[1] \
        else None


class ZoomLink(QObject):
    """Keeps every linked view at the same zoom and the same centre relative to its face."""

    def __init__(self, views: list[ZoomView], parent=None) -> None:
        super().__init__(parent)
        self.views = views
        self._busy = False
        for v in views:
            v.viewChanged.connect(lambda z, x, y, src=v: self._follow(src, z, x, y))

    def _follow(self, source: ZoomView, zoom: float, cx: float, cy: float) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            for v in self.views:
                if v is not source:
                    v.apply(zoom, cx, cy)
        finally:
            self._busy = False
