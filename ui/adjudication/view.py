"""The adjudication view: probe and candidates side by side, the facts that help judge them, and
the decision area. Layout and rendering only: the decision prompts (which keys do what, and when a
key becomes a request) are ``prompts.DecisionPrompts``; the review service decides and records."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (  # noqa: I001
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console import clock
from console.domain import EngagementAction, EngagementResult, RejectReason, WatchlistCategory
from ui import theme
from ui.adjudication.framing import probe_face, toggle_full
from ui.adjudication.images import decode_images
from ui.adjudication.notes import EscalatePage
from ui.adjudication.prompts import FIRST_ACTION_KEY, Candidate, DecisionPrompts
from ui.adjudication.send_to import SendToChoice
from ui.adjudication.widgets import PHOTO_MIN_H, ScoreBar, badge, choices, scrolled, show_page, sightings_html, wrapped
from ui.alert_model import age_text, parse_ts
from ui.toast import say
from ui.zoom_view import ZoomLink, ZoomView

CATEGORY_LABELS = WatchlistCategory.labels()
RESULT_LABELS = EngagementResult.labels()
REJECT_REASONS = RejectReason.offered()
ENGAGEMENT_ACTIONS = EngagementAction.labels()
PAGES = {"empty": 0, "review": 0, "confirm_other": 1, "confirm": 1, "reject": 2, "outcome": 3, "busy": 4,
         "escalate": 5, "note": 5}


class AdjudicationView(QWidget):
    confirmRequested = Signal(int, int)  # alert id, the confirmed candidate's watchlist entry
    rejectRequested = Signal(int, str)
    escalateRequested = Signal(int, str)
    returnRequested = Signal(int)
    outcomeRequested = Signal(int, str, str, str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.prompts = DecisionPrompts(self)
        for name in ("confirmRequested", "rejectRequested", "escalateRequested", "returnRequested",
                     "outcomeRequested"):
            getattr(self.prompts, name).connect(getattr(self, name))
        self._detail = None
        self.candidate_index = 0
        self.images: dict = {}

        root = QVBoxLayout(self)
        root.setContentsMargins(8, 8, 8, 8)
        head = QHBoxLayout()
        self.title = QLabel("")
        self.title.setObjectName("title")
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("muted")
        self.subtitle.setWordWrap(True)
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
            c.setWordWrap(True)
        images.addWidget(self.probe_caption, 0, 0)
        images.addWidget(self.cand_caption, 0, 1)
        images.addWidget(self.context_caption, 0, 2)
        images.addWidget(self.probe_view, 1, 0)
        images.addWidget(self.cand_view, 1, 1)
        images.addWidget(self.context_view, 1, 2)
        for column, stretch in enumerate((3, 3, 4)):
            images.setColumnStretch(column, stretch)
        images.setRowStretch(1, 1)
        images.setRowMinimumHeight(1, PHOTO_MIN_H)  # the faces stay big enough to compare at 1280x720
        root.addLayout(images, 3)

        # Facts row: score + quality | candidate facts | other candidates and views
        self.facts_row = facts = QHBoxLayout()  # the main window adds the alert camera's live view
        left = QFrame()
        left.setObjectName("card")
        lv = QVBoxLayout(inner := QWidget())  # scrolled: at 720 px a long note scrolls, nothing overlaps
        QVBoxLayout(left).addWidget(scrolled(inner, 430))
        self.score_bar = ScoreBar()
        lv.addWidget(self.score_bar)
        self.badges = QGridLayout()
        lv.addLayout(self.badges)
        self.quality_note = QLabel("")
        self.quality_note.setObjectName("muted")
        self.quality_note.setWordWrap(True)
        lv.addWidget(self.quality_note)
        self.sightings_note = QLabel("")
        self.sightings_note.setTextFormat(Qt.TextFormat.RichText)
        self.sightings_note.setWordWrap(True)
        lv.addWidget(self.sightings_note)
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
        rv.addWidget(scrolled(self.facts, 240))  # a long reason or legal basis scrolls; nothing is cut
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
        self.stack.addWidget(escalate_page := EscalatePage(self.commit))
        self.escalate_page = escalate_page
        root.addWidget(self.stack)
        self.prompts.notice.connect(lambda text: say(self, text))
        self.prompts.changed.connect(self._render_prompt)
        self.prompts.picked.connect(lambda kind, code: self.choice_buttons[kind][code].setChecked(True))
        self.prompts.noteWanted.connect(self.outcome_note.setFocus)
        self._render_prompt()

    # -- pages ---------------------------------------------------------------------
    def _buttons_page(self) -> QWidget:
        w = QWidget()
        page = QVBoxLayout(w)
        page.addLayout(h := QHBoxLayout())
        self.btn_confirm = QPushButton("Confirm match  [C]")
        self.btn_confirm.setObjectName("confirm")
        self.btn_reject = QPushButton("Reject  [R]")
        self.btn_reject.setObjectName("reject")
        self.btn_escalate = QPushButton("Escalate to supervisor  [E]")
        self.btn_back = QPushButton("Back to queue  [Esc]")
        self.btn_confirm.clicked.connect(self.prompts.ask_confirm)
        self.btn_reject.clicked.connect(self.prompts.ask_reject)
        self.btn_escalate.clicked.connect(self.prompts.escalate)
        self.btn_back.clicked.connect(self.prompts.back)
        for b in (self.btn_confirm, self.btn_reject, self.btn_escalate, self.btn_back):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            h.addWidget(b)
        hint = QLabel("J/K next/previous incident  ·  S other sightings  ·  [ ] other candidates  ·  + − 0 zoom  ·  "
                      "F whole photos")
        hint.setObjectName("muted")
        hint.setWordWrap(True)  # under the buttons, wrapping: the window fits 1280 px
        page.addWidget(hint)
        return w

    def _confirm_page(self) -> QWidget:
        w = QFrame()
        w.setObjectName("prompt")
        h = QHBoxLayout(w)
        h.addLayout(left := QVBoxLayout(), 1)
        self.confirm_text = text = QLabel("")
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setWordWrap(True)
        left.addWidget(text)
        left.addWidget(send_to := SendToChoice())  # the team by default: no extra key
        self.send_to = send_to
        self.btn_confirm_commit = ok = QPushButton("Confirm  [Enter]")
        ok.setObjectName("confirm")
        ok.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        ok.clicked.connect(self.commit)
        h.addWidget(ok)
        return w

    def _reject_page(self) -> QWidget:
        w = QFrame()
        w.setObjectName("prompt")
        v = QVBoxLayout(w)
        v.addWidget(wrapped("Why is this not a match? Pick a reason (number key), then <b>Enter</b>. "
                            "<b>Esc</b> cancels."))
        row, self.reason_group, self.reason_buttons = choices(
            self, REJECT_REASONS, 1, lambda code: self.prompts.choose("reason", code))
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
        v.addWidget(wrapped("Confirmed. Record the outcome the officers tell you (relayed) now - or <b>Esc</b> for later; "
                            "an officer with a handheld reports it there."))
        row, self.result_group, self.result_buttons = choices(
            self, RESULT_LABELS, 1, lambda code: self.prompts.choose("result", code))
        v.addLayout(row)
        row2, self.action_group, self.action_buttons = choices(
            self, ENGAGEMENT_ACTIONS, FIRST_ACTION_KEY, lambda code: self.prompts.choose("action", code))
        self.choice_buttons = {"reason": self.reason_buttons, "result": self.result_buttons,
                               "action": self.action_buttons}
        self.outcome_note = QLineEdit()
        self.outcome_note.setPlaceholderText("Note (needed for Other)")
        self.outcome_note.returnPressed.connect(self.commit)
        v.addLayout(row2)
        v.addLayout(row3 := QHBoxLayout())  # the note and the button on their own line: fits 1280 px
        row3.addWidget(self.outcome_note, 1)
        self.btn_outcome = QPushButton("Record outcome  [Enter]")
        self.btn_outcome.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.btn_outcome.clicked.connect(self.commit)
        row3.addWidget(self.btn_outcome)
        return w

    # -- the prompt's state, drawn ------------------------------------------------------
    @property
    def mode(self) -> str:
        return self.prompts.mode

    @property
    def detail(self):
        return self._detail

    @detail.setter
    def detail(self, detail) -> None:
        self._detail = detail
        if detail is None:
            self.prompts.clear()

    def set_mode(self, mode: str) -> None:
        self.prompts.set_mode(mode)

    def _render_prompt(self) -> None:
        p = self.prompts
        if p.mode in ("escalate", "note") and self.stack.currentIndex() != PAGES["escalate"]:
            self.escalate_page.ask(p.mode)
        show_page(self.stack, PAGES[p.mode])  # sized to the page shown, not the tallest
        if p.candidate is not None and p.mode == "confirm_other":
            self.confirm_text.setText(
                f"<b>Candidate {p.candidate.rank} is not the top match.</b> To confirm {p.candidate.name} "
                f"({p.candidate.record_number}) rather than candidate 1, press <b>C</b> again.   <b>Esc</b> cancel")
        elif p.candidate is not None:
            self.confirm_text.setText(
                f"<b>{p.candidate.question()}</b> It goes to the officers' handhelds.   "
                f"<b>Enter</b> confirm   ·   {self.send_to.keys_hint() + '   ·   ' if self.send_to.keys_hint() else ''}"
                "<b>Esc</b> cancel")
        self.btn_confirm_commit.setEnabled(p.mode == "confirm")
        for b in (self.btn_confirm, self.btn_reject, self.btn_escalate):
            b.setEnabled(p.may_ask)
        self.btn_reject_commit.setEnabled(p.reject_ready)
        self.btn_outcome.setEnabled(p.outcome_ready)

    def show_context(self, image, bbox, waiting: bool = False) -> None:
        """The whole frame, which may follow the alert by a second (its bystanders are blurred first)."""
        self.images["context"] = image
        self.context_view.set_image(image, bbox)
        self.context_caption.setText("Where: the whole frame" + (" (being blurred - it follows in a moment)"
                                                                 if image is None and waiting else ""))

    def show_alert(self, detail, mode: str = "review", may_decide: bool = True, images: dict | None = None) -> None:
        self.images = images or decode_images(detail)
        self._detail = detail
        self.candidate_index = 0
        for group in (self.reason_group, self.result_group, self.action_group):
            group.setExclusive(False)
            for b in group.buttons():
                b.setChecked(False)
            group.setExclusive(True)
        self.outcome_note.clear()
        captured = parse_ts(detail.captured_at)
        age = (clock.now() - captured).total_seconds()
        n = len(detail.sightings)
        self.title.setText(f"Incident {detail.incident_id}  ·  sighting {detail.sighting_index + 1} of {n}  ·  "
                           f"{detail.camera}" if n > 1 else f"Alert {detail.alert_id}  ·  {detail.camera}")
        self.sightings_note.setText(sightings_html(detail))
        self.sightings_note.setVisible(n > 1)
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
        self.probe_view.set_image(self.images["probe"], face=probe_face(detail, self.images["probe"]))
        self.show_context(self.images["context"], detail.bbox, waiting=detail.status == "pending" and not detail.context_jpeg)
        self._show_candidate()
        q = detail.quality
        while (item := self.badges.takeAt(0)) is not None:  # the badges only: widgets
            item.widget().deleteLater()
        reasons = " ".join(q.get("reasons", []))
        for n, b in enumerate((badge(f"Face {q.get('face_px', 0):.0f} px between eyes", "small" not in reasons),
                               badge(f"Sharpness {q.get('sharpness', 0):.0f}", "blurred" not in reasons),
                               badge(f"Pose yaw {q.get('yaw', 0):+.0f}° pitch {q.get('pitch', 0):+.0f}°",
                                     "turned" not in reasons and "tilted" not in reasons),
                               badge(f"Detector {q.get('detector_score', 0):.2f}", "weak" not in reasons))):
            self.badges.addWidget(b, n // 2, n % 2)  # two to a line: the card fits a 1280 px window
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
            thumb.setToolTip(f"{at}" + (f"  score {score:.3f}" if score is not None else ""))
            self.views_row.addWidget(thumb)
        self.views_row.addStretch(1)
        self.prompts.load(detail.alert_id, detail.status == "pending", may_decide, mode,
                          needs_note=bool(detail.escalated_at))

    def _show_candidate(self) -> None:
        d = self.detail
        if d is None or not d.candidates:
            return
        c = d.candidates[self.candidate_index]
        self.prompts.set_candidate(Candidate(c.rank, c.entry_id, c.subject_name, c.record_number, c.score))
        self.cand_view.set_image(self.images["candidates"][self.candidate_index], face=c.face_box)
        self.cand_caption.setText(f"Watchlist photo - candidate {c.rank} of {len(d.candidates)}")
        self.score_bar.set_values(c.score, d.threshold)
        age = c.image_age_years
        age_s = f"{age:.1f} years old" if age is not None else "age unknown"
        others = "  ·  ".join(f"{x.rank}. {x.subject_name}" + (f" {x.score:.3f}" if x.score is not None else "")
                              for x in d.candidates)
        self.facts.setText(
            f"<b style='font-size:14pt'>{c.subject_name}</b> &nbsp; {c.record_number}<br>"
            f"<b>Category:</b> {CATEGORY_LABELS.get(c.category, c.category)}<br>"
            f"<b>Reason:</b> {c.reason}<br><b>Legal basis:</b> {c.legal_basis}<br>"
            f"<b>Photo:</b> {c.image_source}, taken {c.image_date} ({age_s})<br>"
            f"<b>Entry review due:</b> {c.review_date}<br>"
            f"<span style='color:{theme.MUTED}'>Top {len(d.candidates)}: {others}</span>")

    def toggle_full(self) -> None:
        whole = toggle_full([self.probe_view, self.cand_view])
        self.probe_caption.setText("Live capture (probe)" + ("  -  whole crop [F]" if whole else ""))

    def cycle_candidate(self, step: int) -> None:
        if self.detail and self.detail.candidates:
            self.candidate_index = (self.candidate_index + step) % len(self.detail.candidates)
            self._show_candidate()

    # -- commands (keys and buttons), answered by the prompts ----------------------------
    def ask_confirm(self) -> None:
        self.prompts.ask_confirm()

    def ask_reject(self) -> None:
        self.prompts.ask_reject()

    def escalate(self) -> None:
        self.prompts.escalate()

    def pick(self, number: int) -> None:
        if self.mode == "confirm" and self.send_to.pick(number):  # 1 the team, 2.. an officer
            return
        self.prompts.pick(number)

    def commit(self) -> None:
        self.prompts.commit((self.escalate_page.note if self.mode in ("escalate", "note") else self.outcome_note).text())

    def back(self) -> None:
        self.prompts.back()

    def failed(self, message: str) -> None:
        """The service refused: show why, and let the reviewer act again."""
        self.quality_note.setText(f"<b>Not recorded:</b> {message}")
        say(self, f"Not recorded: {message}")
        self.set_mode("review")
