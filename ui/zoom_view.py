"""Image views with zoom and pan, optionally linked so probe and candidate move together."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QFrame, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView


class ZoomView(QGraphicsView):
    """Wheel or +/- to zoom, drag to pan. Emits its view as (zoom, centre in 0..1 units)."""

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
        self.zoom = 1.0
        self._quiet = False
        self.horizontalScrollBar().valueChanged.connect(self._emit)
        self.verticalScrollBar().valueChanged.connect(self._emit)
        self.box: QRectF | None = None

    def set_image(self, image: QImage | None, box: list[float] | None = None) -> None:
        pix = QPixmap.fromImage(image) if image is not None and not image.isNull() else QPixmap()
        self.item.setPixmap(pix)
        self.scene().setSceneRect(QRectF(pix.rect()))
        self.box = QRectF(box[0], box[1], box[2] - box[0], box[3] - box[1]) if box else None
        self.reset_zoom()

    def drawForeground(self, painter, rect) -> None:  # noqa: N802
        if self.box is not None:
            painter.setPen(QPen(QColor("#E69F00"), 3))
            painter.drawRect(self.box)

    def fit_scale(self) -> float:
        r = self.sceneRect()
        if r.isEmpty():
            return 1.0
        return min(self.viewport().width() / r.width(), self.viewport().height() / r.height())

    def apply(self, zoom: float, cx: float, cy: float) -> None:
        self._quiet = True
        try:
            self.zoom = max(1.0, min(8.0, zoom))
            s = self.fit_scale() * self.zoom
            self.resetTransform()
            self.scale(s, s)
            r = self.sceneRect()
            self.centerOn(QPointF(r.x() + cx * r.width(), r.y() + cy * r.height()))
        finally:
            self._quiet = False

    def centre(self) -> tuple[float, float]:
        r = self.sceneRect()
        if r.isEmpty():
            return 0.5, 0.5
        c = self.mapToScene(self.viewport().rect().center())
        return (c.x() - r.x()) / r.width(), (c.y() - r.y()) / r.height()

    def zoom_by(self, factor: float) -> None:
        cx, cy = self.centre()
        self.apply(self.zoom * factor, cx, cy)
        self._emit()

    def reset_zoom(self) -> None:
        self.apply(1.0, 0.5, 0.5)
        self._emit()

    def wheelEvent(self, event) -> None:  # noqa: N802
        self.zoom_by(1.25 if event.angleDelta().y() > 0 else 0.8)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        cx, cy = self.centre()
        self.apply(self.zoom, cx, cy)

    def _emit(self, *_):
        if not self._quiet:
            cx, cy = self.centre()
            self.viewChanged.emit(self.zoom, cx, cy)


class ZoomLink(QObject):
    """Keeps every linked view at the same zoom and the same relative centre."""

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
