"""The blind review tab: a supervisor decides a random sample of decided alerts again without
seeing the original decision; agreement is shown when the sample is done."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout

from console.services.record import reports
from ui.review.images import pixmap
from ui.tool_dialog import ToolTab


class BlindReviewTab(ToolTab):
    def __init__(self, dialog) -> None:
        super().__init__(dialog)
        v = QVBoxLayout(self)
        row = QHBoxLayout()
        self.sample_size = QSpinBox()
        self.sample_size.setRange(1, 200)
        self.sample_size.setValue(10)
        draw = QPushButton("Draw a random sample of decided alerts")
        draw.clicked.connect(self.draw_sample)
        row.addWidget(QLabel("Sample size"))
        row.addWidget(self.sample_size)
        row.addWidget(draw)
        row.addStretch(1)
        v.addLayout(row)
        images = QHBoxLayout()
        self.s_probe, self.s_cand = QLabel(), QLabel()
        for label in (self.s_probe, self.s_cand):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setMinimumSize(280, 280)
            images.addWidget(label)
        v.addLayout(images)
        buttons = QHBoxLayout()
        self.same = QPushButton("Same person")
        self.different = QPushButton("Different person")
        self.same.clicked.connect(lambda: self.blind_decide("true_alert"))
        self.different.clicked.connect(lambda: self.blind_decide("false_alert"))
        buttons.addWidget(self.same)
        buttons.addWidget(self.different)
        v.addLayout(buttons)
        self.sample_status = QLabel("The original decision is hidden until the sample is done.")
        self.sample_status.setObjectName("muted")
        v.addWidget(self.sample_status)
        v.addStretch(1)
        self.sample: str | None = None
        self.pending: list[dict] = []

    def draw_sample(self) -> None:
        store, actor, dep, n = self.live.store, self.actor, self.live.deployment_id, self.sample_size.value()

        def run():
            name = reports.draw_sample(store, actor, dep, n)
            return name, reports.blind_view(store, actor, name)  # the viewing of each alert is logged

        self.read(run, self._start_sample)

    def _start_sample(self, pair) -> None:
        self.sample, self.pending = pair
        self._next_blind()

    def _next_blind(self) -> None:
        if not self.pending:
            store, actor, sample = self.live.store, self.actor, self.sample
            self.s_probe.clear()
            self.s_cand.clear()
            self.read(lambda: reports.sample_agreement(store, actor, sample),
                      lambda a: self.sample_status.setText(
                          f"Sample done: {a['agreed']} of {a['decided']} blind decisions agree with the "
                          f"original ({a['agreement_rate']})."))
            return
        item = self.pending[0]
        self.s_probe.setPixmap(pixmap(item["probe_jpeg"], 280))
        self.s_cand.setPixmap(pixmap(item["candidate_jpeg"], 280))
        self.sample_status.setText(f"{len(self.pending)} left in this sample. Decide without the original decision.")

    def blind_decide(self, decision: str) -> None:
        if not self.pending:
            return
        item = self.pending.pop(0)
        store, actor, sample = self.live.store, self.actor, self.sample
        self.jobs.submit(lambda: reports.blind_decide(store, actor, sample, item["alert_id"], decision),
                         lambda _r: self._next_blind(), self.fail)
