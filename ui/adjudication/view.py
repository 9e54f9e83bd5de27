"""The adjudication view: probe and candidates side by side, and the decision keys.

The view shows an alert and turns keys into requests (signals); the review service decides
what is allowed and writes the record. A confirm is deliberate: C asks, Enter confirms.
A reject needs one of the fixed reasons: R shows them, a number picks one, Enter records it.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console import clock
from console.domain import EngagementAction, EngagementResult, RejectReason, WatchlistCategory
from ui import theme
from ui.alert_model import age_text, parse_ts
from ui.zoom_view import ZoomLink, ZoomView

CATEGORY_LABELS = WatchlistCategory.labels()
RESULT_LABELS = EngagementResult.labels()
REJECT_REASONS = RejectReason.labels()
ENGAGEMENT_ACTIONS = EngagementAction.labels()


def decode(jpeg: bytes | None) -> QImage | None:
    if not jpeg:
        return None
    image = QImage.fromData(jpeg, "JPG")
    return None if image.isNull() else image


def decode_images(detail) -> dict:
    """Every image of an alert as QImage (safe off the GUI thread, unlike QPixmap)."""
    return {
        "probe": decode(detail.probe_jpeg),
        "context": decode(detail.context_jpeg),
        "candidates": [decode(c.image_jpeg) for c in detail.candidates],
        "views": [decode(jpeg) for _, jpeg, _ in detail.views],
    }


class ScoreBar(QWidget):
    """The score against the threshold on one 0..1 scale, with both numbers written out."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.score, self.threshold = 0.0, 0.0
        self.setMinimumHeight(46)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_values(self, score: float, threshold: float) -> None:
        self.score, self.threshold = score, threshold
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        bar = QRectF(0, 24, self.width() - 2, 14)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(theme.PANEL_2))
        p.drawRoundedRect(bar, 4, 4)
        p.setBrush(QColor(theme.MATCH))
        p.drawRoundedRect(QRectF(bar.x(), bar.y(), bar.width() * max(0.0, min(1.0, self.score)), bar.height()), 4, 4)
        tx = bar.x() + bar.width() * self.threshold
        p.setPen(QPen(QColor(theme.TEXT), 2, Qt.PenStyle.DashLine))
        p.drawLine(int(tx), 18, int(tx), 44)
        p.setPen(QColor(theme.TEXT))
        p.setFont(QFont(self.font().family(), 11, QFont.Weight.Bold))
        margin = self.score - self.threshold
        p.drawText(QRectF(0, 0, self.width(), 20), Qt.AlignmentFlag.AlignLeft,
                   f"Similarity {self.score:.3f}   threshold {self.threshold:.3f}   ({margin:+.3f} above)")
        p.end()


def _choices(owner: QWidget, items: dict[str, str], first_key: int, on_pick) -> tuple[QHBoxLayout, QButtonGroup,
                                                                                  dict[str, QRadioButton]]:
    """A row of radio buttons numbered from first_key (the number keys pick them)."""
    row = QHBoxLayout()
    group = QButtonGroup(owner)
    buttons: dict[str, QRadioButton] = {}
    for n, (code, label) in enumerate(items.items(), start=first_key):
        b = QRadioButton(f"{n}  {label}")
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        b.toggled.connect(lambda on, c=code: on and on_pick(c))
        group.addButton(b)
        buttons[code] = b
        row.addWidget(b)
    return row, group, buttons


def _badge(text: str, ok: bool) -> QLabel:
    label = QLabel(("✓ " if ok else "! ") + text)
    label.setObjectName("badge_ok" if ok else "badge_warn")
    return label


class AdjudicationView(QWidget):
    confirmRequested = Signal(int)
    rejectRequested = Signal(int, str)
    escalateRequested = Signal(int)
    returnRequested = Signal(int)
    outcomeRequested = Signal(int, str, str, str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.detail = None
        self.mode = "empty"  # empty | review | confirm | reject | outcome | busy
        self.candidate_index = 0
        self.reason: str | None = None
        self.result: str | None = None
        self.action: str | None = None

        root = QVBoxLayout(self)
        root.setContentsMargins(8, 8, 8, 8)
        head = QHBoxLayout()
        self.title = QLabel("")
        self.title.setObjectName("title")
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("muted")
        self.flags = QLabel("")
        self.flags.setObjectName("banner")
        self.flags.hide()
        head.addWidget(self.title)
        head.addSpacing(16)
        head.addWidget(self.subtitle, 1)
        head.addWidget(self.flags)
        root.addLayout(head)

        # Images: probe | candidate (linked zoom) | context frame
        images = QGridLayout()
        self.probe_view, self.cand_view, self.context_view = ZoomView(), ZoomView(), ZoomView()
        self.link = ZoomLink([self.probe_view, self.cand_view], self)
        self.probe_caption = QLabel("Live capture (probe)")
        self.cand_caption = QLabel("Watchlist photo")
        self.context_caption = QLabel("Where: the whole frame")
        for c in (self.probe_caption, self.cand_caption, self.context_caption):
            c.setObjectName("heading")
        images.addWidget(self.probe_caption, 0, 0)
        images.addWidget(self.cand_caption, 0, 1)
        images.addWidget(self.context_caption, 0, 2)
        images.addWidget(self.probe_view, 1, 0)
        images.addWidget(self.cand_view, 1, 1)
        images.addWidget(self.context_view, 1, 2)
        images.setColumnStretch(0, 3)
        images.setColumnStretch(1, 3)
        images.setColumnStretch(2, 4)
        images.setRowStretch(1, 1)
        root.addLayout(images, 5)

        # Facts row: score + quality | candidate facts | other candidates and views
        facts = QHBoxLayout()
        left = QFrame()
        left.setObjectName("card")
        lv = QVBoxLayout(left)
        self.score_bar = ScoreBar()
        lv.addWidget(self.score_bar)
        self.badges = QHBoxLayout()
        lv.addLayout(self.badges)
        self.quality_note = QLabel("")
        self.quality_note.setObjectName("muted")
        self.quality_note.setWordWrap(True)
        lv.addWidget(self.quality_note)
        self.others = QLabel("")
        self.others.setWordWrap(True)
        lv.addWidget(self.others)
        self.views_row = QHBoxLayout()
        lv.addLayout(self.views_row)
        facts.addWidget(left, 4)
        right = QFrame()
        right.setObjectName("card")
        rv = QVBoxLayout(right)
        self.facts = QLabel("")
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setWordWrap(True)
        self.facts.setAlignment(Qt.AlignmentFlag.AlignTop)
        rv.addWidget(self.facts)
        facts.addWidget(right, 5)
        root.addLayout(facts, 2)

        # Decision area: buttons, or the prompt of the step in progress.
        self.stack = QStackedWidget()
        self.stack.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        self.stack.addWidget(self._buttons_page())
        self.stack.addWidget(self._confirm_page())
        self.stack.addWidget(self._reject_page())
        self.stack.addWidget(self._outcome_page())
        busy = QLabel("Recording...")
        busy.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(busy)
        root.addWidget(self.stack)

    # -- pages ---------------------------------------------------------------------
    def _buttons_page(self) -> QWidget:
        w = QWidget()
        h = QHBoxLayout(w)
        self.btn_confirm = QPushButton("Confirm match  [C]")
        self.btn_confirm.setObjectName("confirm")
        self.btn_reject = QPushButton("Reject  [R]")
        self.btn_reject.setObjectName("reject")
        self.btn_escalate = QPushButton("Escalate to supervisor  [E]")
        self.btn_back = QPushButton("Back to queue  [Esc]")
        self.btn_confirm.clicked.connect(self.ask_confirm)
        self.btn_reject.clicked.connect(self.ask_reject)
        self.btn_escalate.clicked.connect(self.escalate)
        self.btn_back.clicked.connect(self.back)
        for b in (self.btn_confirm, self.btn_reject, self.btn_escalate, self.btn_back):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            h.addWidget(b)
        hint = QLabel("J/K next/previous alert  ·  [ ] other candidates  ·  + − 0 zoom")
        hint.setObjectName("muted")
        h.addWidget(hint)
        return w

    def _confirm_page(self) -> QWidget:
        w = QFrame()
        w.setObjectName("prompt")
        h = QHBoxLayout(w)
        text = QLabel("Confirm this match? The alert goes to an engagement officer.   "
                      "<b>Enter</b> confirm   ·   <b>Esc</b> cancel")
        text.setTextFormat(Qt.TextFormat.RichText)
        h.addWidget(text, 1)
        ok = QPushButton("Confirm  [Enter]")
        ok.setObjectName("confirm")
        ok.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        ok.clicked.connect(self.commit)
        h.addWidget(ok)
        return w

    def _reject_page(self) -> QWidget:
        w = QFrame()
        w.setObjectName("prompt")
        v = QVBoxLayout(w)
        v.addWidget(QLabel("Why is this not a match? Pick a reason (number key), then <b>Enter</b>. "
                           "<b>Esc</b> cancels."))
        row, self.reason_group, self.reason_buttons = _choices(self, REJECT_REASONS, 1, self._set_reason)
        self.btn_reject_commit = QPushButton("Record rejection  [Enter]")
        self.btn_reject_commit.setObjectName("reject")
        self.btn_reject_commit.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.btn_reject_commit.clicked.connect(self.commit)
        row.addWidget(self.btn_reject_commit)
        v.addLayout(row)
        return w

    def _outcome_page(self) -> QWidget:
        w = QFrame()
        w.setObjectName("prompt")
        v = QVBoxLayout(w)
        v.addWidget(QLabel("Confirmed. Record the engagement outcome now - or <b>Esc</b> to record it later."))
        row, self.result_group, self.result_buttons = _choices(self, RESULT_LABELS, 1, self._set_result)
        v.addLayout(row)
        row2, self.action_group, self.action_buttons = _choices(self, ENGAGEMENT_ACTIONS, 4, self._set_action)
        self.outcome_note = QLineEdit()
        self.outcome_note.setPlaceholderText("Note (needed for Other)")
        self.outcome_note.returnPressed.connect(self.commit)
        row2.addWidget(self.outcome_note, 1)
        self.btn_outcome = QPushButton("Record outcome  [Enter]")
        self.btn_outcome.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.btn_outcome.clicked.connect(self.commit)
        row2.addWidget(self.btn_outcome)
        v.addLayout(row2)
        return w

    # -- state ---------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        self.mode = mode
        page = {"empty": 0, "review": 0, "confirm": 1, "reject": 2, "outcome": 3, "busy": 4}[mode]
        self.stack.setCurrentIndex(page)
        reviewing = (mode == "review" and self.detail is not None and self.detail.status == "pending"
                     and getattr(self, "may_decide", True))
        for b in (self.btn_confirm, self.btn_reject, self.btn_escalate):
            b.setEnabled(reviewing)
        self.btn_reject_commit.setEnabled(self.reason is not None)
        self.btn_outcome.setEnabled(self.result is not None and self.action is not None)

    def show_alert(self, detail, mode: str = "review", may_decide: bool = True, images: dict | None = None) -> None:
        self.images = images or decode_images(detail)
        self.detail = detail
        self.may_decide = may_decide
        self.candidate_index = 0
        self.reason = self.result = self.action = None
        for group in (self.reason_group, self.result_group, self.action_group):
            group.setExclusive(False)
            for b in group.buttons():
                b.setChecked(False)
            group.setExclusive(True)
        self.outcome_note.clear()
        captured = parse_ts(detail.captured_at)
        age = (clock.now() - captured).total_seconds()
        self.title.setText(f"Alert {detail.alert_id}  ·  {detail.camera}")
        self.subtitle.setText(f"captured {captured.astimezone().strftime('%H:%M:%S')} ({age_text(age)} ago)  ·  "
                              f"model {detail.model_id.split('@')[0]}")
        flags = []
        if detail.priority == 1:
            flags.append("PRIORITY 1")
        if detail.escalated_at:
            flags.append("ESCALATED - supervisor decides")
        if detail.status != "pending":
            flags.append("DECIDED")
        self.flags.setText("   ".join(flags))
        self.flags.setVisible(bool(flags))
        self.probe_view.set_image(self.images["probe"])
        self.context_view.set_image(self.images["context"], detail.bbox)
        self._show_candidate()
        q = detail.quality
        while self.badges.count():
            item = self.badges.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        reasons = " ".join(q.get("reasons", []))
        self.badges.addWidget(_badge(f"Face {q.get('face_px', 0):.0f} px between eyes", "small" not in reasons))
        self.badges.addWidget(_badge(f"Sharpness {q.get('sharpness', 0):.0f}", "blurred" not in reasons))
        self.badges.addWidget(_badge(f"Pose yaw {q.get('yaw', 0):+.0f}° pitch {q.get('pitch', 0):+.0f}°",
                                     "turned" not in reasons and "tilted" not in reasons))
        self.badges.addWidget(_badge(f"Detector {q.get('detector_score', 0):.2f}", "weak" not in reasons))
        self.badges.addStretch(1)
        self.quality_note.setText(f"Probe quality {q.get('score', 0):.2f} of 1. Small, blurred or turned faces "
                                  "cause most false matches: judge the face, not the score."
                                  + ("" if may_decide else "  This alert was escalated: a supervisor decides it."))
        views = len(detail.views)
        self.others.setText(f"{views} further view{'s' if views != 1 else ''} of this person on this camera:"
                            if views else "No further views of this track yet.")
        while self.views_row.count():
            item = self.views_row.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        for image, (at, _, score) in zip(self.images.get("views", []), detail.views, strict=False):
            if image is None:
                continue
            thumb = QLabel()
            thumb.setPixmap(QPixmap.fromImage(image).scaled(72, 72, Qt.AspectRatioMode.KeepAspectRatio,
                                                            Qt.TransformationMode.SmoothTransformation))
            thumb.setToolTip(f"{at}  score {score:.3f}")
            self.views_row.addWidget(thumb)
        self.views_row.addStretch(1)
        self.set_mode(mode if detail.status == "pending" or mode == "outcome" else "review")

    def _show_candidate(self) -> None:
        d = self.detail
        if d is None or not d.candidates:
            return
        c = d.candidates[self.candidate_index]
        self.cand_view.set_image(self.images["candidates"][self.candidate_index])
        self.cand_caption.setText(f"Watchlist photo - candidate {c.rank} of {len(d.candidates)}")
        self.score_bar.set_values(c.score, d.threshold)
        age = c.image_age_years
        age_s = f"{age:.1f} years old" if age is not None else "age unknown"
        others = "  ·  ".join(f"{x.rank}. {x.subject_name} {x.score:.3f}" for x in d.candidates)
        self.facts.setText(
            f"<b style='font-size:14pt'>{c.subject_name}</b> &nbsp; {c.record_number}<br>"
            f"<b>Category:</b> {CATEGORY_LABELS.get(c.category, c.category)}<br>"
            f"<b>Reason:</b> {c.reason}<br><b>Legal basis:</b> {c.legal_basis}<br>"
            f"<b>Photo:</b> {c.image_source}, taken {c.image_date} ({age_s})<br>"
            f"<b>Entry review due:</b> {c.review_date}<br>"
            f"<span style='color:{theme.MUTED}'>Top {len(d.candidates)}: {others}</span>")

    def cycle_candidate(self, step: int) -> None:
        if self.detail and self.detail.candidates:
            self.candidate_index = (self.candidate_index + step) % len(self.detail.candidates)
            self._show_candidate()

    def _set_reason(self, code: str) -> None:
        self.reason = code
        self.btn_reject_commit.setEnabled(True)

    def _set_result(self, code: str) -> None:
        self.result = code
        self.set_mode(self.mode)

    def _set_action(self, code: str) -> None:
        self.action = code
        self.set_mode(self.mode)

    # -- commands (keys and buttons) ----------------------------------------------------
    def ask_confirm(self) -> None:
        if self.mode == "review" and self.btn_confirm.isEnabled():
            self.set_mode("confirm")

    def ask_reject(self) -> None:
        if self.mode == "review" and self.btn_reject.isEnabled():
            self.set_mode("reject")

    def escalate(self) -> None:
        if self.mode == "review" and self.btn_escalate.isEnabled():
            self.set_mode("busy")
            self.escalateRequested.emit(self.detail.alert_id)

    def pick(self, number: int) -> None:
        if self.mode == "reject":
            codes = list(REJECT_REASONS)
            if 1 <= number <= len(codes):
                self.reason_buttons[codes[number - 1]].setChecked(True)
        elif self.mode == "outcome":
            results, actions = list(RESULT_LABELS), list(ENGAGEMENT_ACTIONS)
            if 1 <= number <= len(results):
                self.result_buttons[results[number - 1]].setChecked(True)
            elif 4 <= number < 4 + len(actions):
                self.action_buttons[actions[number - 4]].setChecked(True)
                if actions[number - 4] == "other":
                    self.outcome_note.setFocus()

    def commit(self) -> None:
        """Enter: finish the step in progress (never a decision from the plain review state)."""
        d = self.detail
        if d is None:
            return
        if self.mode == "confirm":
            self.set_mode("busy")
            self.confirmRequested.emit(d.alert_id)
        elif self.mode == "reject" and self.reason:
            self.set_mode("busy")
            self.rejectRequested.emit(d.alert_id, self.reason)
        elif self.mode == "outcome" and self.result and self.action:
            self.set_mode("busy")
            self.outcomeRequested.emit(d.alert_id, self.result, self.action, self.outcome_note.text())

    def back(self) -> None:
        """Esc: cancel the step in progress, or leave the alert undecided."""
        if self.mode in ("confirm", "reject"):
            self.set_mode("review")
        elif self.mode in ("review", "outcome", "empty") and self.detail is not None:
            self.returnRequested.emit(self.detail.alert_id)

    def failed(self, message: str) -> None:
        """The service refused: show why, and let the reviewer act again."""
        self.quality_note.setText(f"<b>Not recorded:</b> {message}")
        self.set_mode("review")
