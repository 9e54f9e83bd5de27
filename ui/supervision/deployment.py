"""The deployment tab: what was authorised (place, reasons, window), the threshold and the
two-person rule, the human-oversight stop, and ending the deployment."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from console import labels
from console.domain import DeploymentState
from console.services.accounts.permissions import Permission
from console.services.decisions import fatigue
from console.services.record import audit_trail
from console.services.setup import deployments, operating_point
from ui.feedback import gated_button, needs
from ui.supervision.known_answer_row import KnownAnswerRow
from ui.tool_dialog import ToolTab

STOPPABLE = (DeploymentState.AUTHORISED, DeploymentState.ACTIVE)
TARGETS = (("1 in 1,000,000 faces (stricter)", 1e-6), ("1 in 100,000 faces (the default)", 1e-5),
           ("1 in 10,000 faces (the loosest allowed)", 1e-4))


def facts_html(d: dict) -> str:
    return (f"<b>{d['name']}</b> - {d['location']}<br><b>Why here:</b> {d['rationale']}<br>"
            f"<b>Legal basis:</b> {d['legal_basis']} &nbsp; <b>DPIA:</b> {d['dpia_ref']} &nbsp; "
            f"<b>Policy:</b> {d['policy_ref']}<br><b>Window:</b> {labels.local_time(d['starts_at'], False)} to "
            f"{labels.local_time(d['ends_at'], False)} &nbsp; <b>State:</b> {labels.label('state', d['state']).upper()}<br>"
            f"<b>Threshold in force:</b> {d['threshold']:.3f} "
            f"&nbsp; <b>Two-person rule:</b> "
            f"{'on' if d['two_person_rule'] else 'off'} &nbsp; <b>Incident window:</b> "
            f"{_window_text(d['incident_window_s'])}")


def cameras_html(cameras: list[dict]) -> str:
    """The deployment's cameras; a source comes redacted from the service (and only to the roles
    that manage cameras)."""
    items = [escape(c["name"]) + (f" <span style='color:gray'>{escape(c['source'])}</span>" if c["source"] else "")
             for c in cameras]
    return "<b>Cameras:</b> " + ("; ".join(items) if items else "none")


def _window_text(seconds: int) -> str:
    return "off (every alert alone)" if not seconds else f"{seconds // 60} min {seconds % 60:02d} s"


def oversight_html(d: dict, stop: dict | None) -> str:
    """Whether recognition runs, and for a stop: when, by whom and why."""
    who = "operators and supervisors" if d["operator_may_stop"] else "supervisors only"
    if d["state"] == DeploymentState.STOPPED:
        by = f"{stop['by']} ({stop['role']})" if stop else "?"
        return (f"<b>Recognition STOPPED</b> at {labels.local_time(d['stopped_at'])} by {by}: {d['stop_reason']}<br>"
                f"Only a supervisor restarts it. May press stop: {who}.")
    state = DeploymentState(d["state"]).label if d["state"] in DeploymentState.codes() else d["state"]
    return f"<b>Recognition:</b> {state}. May press stop: {who}."


class DeploymentTab(ToolTab):
    def __init__(self, dialog) -> None:
        super().__init__(dialog)
        area = QScrollArea()  # the tab scrolls up and down at 720 px; nothing is cut
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(area)
        v = QVBoxLayout(inner := QWidget())
        self.facts = QLabel("")
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setWordWrap(True)
        v.addWidget(self.facts)
        self.cameras = QLabel("")
        self.cameras.setTextFormat(Qt.TextFormat.RichText)
        self.cameras.setWordWrap(True)
        v.addWidget(self.cameras)
        form = QFormLayout()
        self.threshold = QDoubleSpinBox()
        self.threshold.setDecimals(3)
        self.threshold.setSingleStep(0.01)
        self.threshold.setRange(0.0, 0.99)  # never clamped to the floor: a value below it is refused, and said
        self.threshold_reason = QLineEdit()
        self.threshold_reason.setPlaceholderText("Reason for the change (required, logged)")
        self.apply_threshold_button = gated_button("Change threshold", Permission.CHANGE_THRESHOLD)
        self.apply_threshold_button.clicked.connect(self._change_threshold)
        self.current_threshold: float | None = None
        form.addRow("Threshold", self.threshold)
        form.addRow("Reason", self.threshold_reason)
        form.addRow("", self.apply_threshold_button)
        self.point = QLabel("")
        self.point.setTextFormat(Qt.TextFormat.RichText)
        self.point.setWordWrap(True)
        form.addRow("At this size", self.point)
        target_row = QHBoxLayout()
        self.target = QComboBox()
        for text, value in TARGETS:
            self.target.addItem(text, value)
        set_target = self.set_target_button = gated_button("Set false-alert target", Permission.CHANGE_THRESHOLD,
                                                                "uses the reason above")
        set_target.clicked.connect(lambda: self.act(lambda: operating_point.set_target(
            self.live.store, self.actor, self.live.deployment_id, self.target.currentData(),
            self.threshold_reason.text()).line(), "False-alert target set and logged:"))
        target_row.addWidget(self.target)
        target_row.addWidget(set_target)
        target_row.addStretch(1)
        form.addRow("False alerts", target_row)
        self.two_person = QCheckBox("Two-person rule: a confirm goes to engagement only after a second user confirms")
        self.two_person_reason = QLineEdit()
        self.two_person_reason.setPlaceholderText("Reason (required, logged)")
        set_rule = self.set_rule_button = needs(QPushButton("Apply two-person rule setting"), Permission.MANAGE_DEPLOYMENT)
        set_rule.clicked.connect(lambda: self.act(lambda: deployments.set_two_person_rule(
            self.live.store, self.actor, self.live.deployment_id, self.two_person.isChecked(),
            self.two_person_reason.text()), "Two-person rule updated and logged."))
        form.addRow(self.two_person)
        form.addRow("Reason", self.two_person_reason)
        rule_row = QHBoxLayout()
        rule_row.addWidget(set_rule)
        rule_row.addSpacing(16)
        self.ask_after = QSpinBox()  # after this long at the seat without a break, the operator is asked to hand over
        self.ask_after.setRange(*fatigue.LIMITS_MIN)
        self.ask_after.setPrefix("Hand over after ")
        self.ask_after.setSuffix(" min")
        self.ask_after.setToolTip("After this long at the seat without a break an operator is asked to hand over or "
                                  f"take a break, again every {fatigue.REPEAT_MIN} min while ignored.")
        set_fatigue = self.set_fatigue_button = gated_button("Set hand-over prompt", Permission.MANAGE_DEPLOYMENT,
                                                             "uses the reason above")
        set_fatigue.clicked.connect(lambda: self.act(lambda: fatigue.configure(
            self.live.store, self.actor, self.live.deployment_id, self.ask_after.value(),
            self.two_person_reason.text()), "Hand-over prompt set and logged; it applies at every seat."))
        rule_row.addWidget(self.ask_after)
        rule_row.addWidget(set_fatigue)
        rule_row.addStretch(1)
        form.addRow("", rule_row)
        window_row = QHBoxLayout()
        self.incident_window = QSpinBox()
        self.incident_window.setRange(0, deployments.INCIDENT_WINDOW_MAX_S // 60)
        self.incident_window.setSuffix(" min")
        self.incident_window.setToolTip("Sightings of one person within this time of the last one are one incident: "
                                        "one queue card, decided once. 0: every alert alone.")
        set_window = self.set_window_button = gated_button("Set incident window", Permission.MANAGE_DEPLOYMENT,
                                                                "uses the reason above")
        set_window.clicked.connect(lambda: self.act(lambda: deployments.set_incident_window(
            self.live.store, self.actor, self.live.deployment_id, 60 * self.incident_window.value(),
            self.two_person_reason.text()), "Incident window set and logged; it applies to new sightings."))
        window_row.addWidget(self.incident_window)
        window_row.addWidget(set_window)
        window_row.addStretch(1)
        form.addRow("Incidents", window_row)
        form.addRow("Known-answer tests", known := KnownAnswerRow(self, self.two_person_reason))  # measures the operators
        self.known_answer = known
        end = self.end_button = gated_button("End this deployment now", Permission.MANAGE_DEPLOYMENT)
        end.clicked.connect(lambda: self.act(lambda: deployments.end(
            self.live.store, self.actor, self.live.deployment_id, "ended by supervisor"),
            "Deployment ended: it is read-only and its watchlist will be purged."))
        form.addRow("", end)
        v.addLayout(form)
        v.addWidget(self._oversight_box())
        v.addStretch(1)
        area.setWidget(inner)
        area.setMinimumWidth(inner.minimumSizeHint().width() + area.verticalScrollBar().sizeHint().width())

    def _change_threshold(self) -> None:
        """A value below the floor goes to the service, which refuses it (said over the tab); the same
        value again is no change, said so, and nothing is logged."""
        value, reason = self.threshold.value(), self.threshold_reason.text()
        if self.current_threshold is not None and abs(value - self.current_threshold) < 5e-4:
            self.say(f"No change: the threshold is {value:.3f} already. Nothing was logged.", "info")
            return
        store, actor, dep = self.live.store, self.actor, self.live.deployment_id
        self.act(lambda: deployments.change_threshold(store, actor, dep, value, reason),
                 f"Threshold changed to {value:.3f} and logged; it applies to new recognition.")

    def _oversight_box(self) -> QGroupBox:
        box = QGroupBox("Human oversight: stop recognition for the whole deployment (every seat and worker)")
        bv = QVBoxLayout(box)
        self.oversight = QLabel("")
        self.oversight.setTextFormat(Qt.TextFormat.RichText)
        self.oversight.setWordWrap(True)
        bv.addWidget(self.oversight)
        row = QHBoxLayout()
        self.stop_reason = QLineEdit()
        self.stop_reason.setPlaceholderText("Reason (required, logged and shown on every seat)")
        self.stop_button = QPushButton("Stop recognition now")
        self.stop_button.setObjectName("reject")
        self.stop_button.clicked.connect(lambda: self.act(lambda: deployments.stop(
            self.live.store, self.actor, self.live.deployment_id, self.stop_reason.text()),
            "Recognition stopped on every seat and worker; the stop is logged."))
        self.restart_button = gated_button("Restart recognition", Permission.RESTART_RECOGNITION)
        self.restart_button.clicked.connect(lambda: self.act(lambda: deployments.restart(
            self.live.store, self.actor, self.live.deployment_id, self.stop_reason.text()),
            "Recognition restarted; the restart is logged."))
        for x in (self.stop_reason, self.stop_button, self.restart_button):
            row.addWidget(x)
        bv.addLayout(row)
        policy = QHBoxLayout()
        self.operator_may_stop = QCheckBox("Operators may stop recognition (a supervisor always may)")
        apply_policy = self.apply_policy_button = gated_button("Apply", Permission.MANAGE_DEPLOYMENT, "uses the reason above")
        apply_policy.clicked.connect(lambda: self.act(lambda: deployments.set_operator_may_stop(
            self.live.store, self.actor, self.live.deployment_id, self.operator_may_stop.isChecked(),
            self.stop_reason.text()), "Who may stop recognition is updated and logged."))
        policy.addWidget(self.operator_may_stop)
        policy.addWidget(apply_policy)
        policy.addStretch(1)
        bv.addLayout(policy)
        return box

    def refresh(self) -> None:
        store, dep_id, actor = self.live.store, self.live.deployment_id, self.actor

        def read():
            dep = dict(deployments.get(store, dep_id))
            stop = audit_trail.deployment_stop(store, dep_id) if dep["state"] == DeploymentState.STOPPED else None
            return (dep, stop, operating_point.point(store, dep_id), deployments.cameras(store, actor, dep_id),
                    fatigue.config(store, dep_id))

        self.read(read, self._show)
        self.known_answer.refresh()

    def _show(self, pair) -> None:
        d, stop, op, cameras, seat = pair
        self.ask_after.setValue(seat["ask_after_min"])
        self.facts.setText(facts_html(d))
        self.cameras.setText(cameras_html(cameras))
        self.point.setText(f"<b>{op.line()}</b><br>{op.detail()}")
        index = self.target.findData(op.target)
        if index >= 0:
            self.target.setCurrentIndex(index)
        self.threshold.setValue(d["threshold"])
        self.current_threshold = float(d["threshold"])
        self.threshold.setToolTip(f"The floor at this watchlist's size is {op.floor:.3f}: a threshold below it is "
                                  "refused (it would let passers-by through as matches).")
        self.two_person.setChecked(bool(d["two_person_rule"]))
        self.incident_window.setValue(int(d["incident_window_s"]) // 60)
        self.oversight.setText(oversight_html(d, stop))
        self.operator_may_stop.setChecked(bool(d["operator_may_stop"]))
        self.stop_button.setEnabled(d["state"] in STOPPABLE and deployments.may_stop(d, self.actor))
        self.restart_button.setEnabled(d["state"] == DeploymentState.STOPPED and self.actor.may(Permission.RESTART_RECOGNITION))
