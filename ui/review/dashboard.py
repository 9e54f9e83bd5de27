"""The dashboard tab: how often, how fast, how wrong, and wrong for whom."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from console import labels
from console.domain import EthnicGroup, Sex
from console.services.record import stats
from ui import theme
from ui.charts import BarChart
from ui.tool_dialog import ToolTab

GROUPS = {"sex": ("Sex", Sex.labels()), "ethnic_group": ("Ethnic group", EthnicGroup.labels())}


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def summary_html(d: dict) -> str:
    reasons = labels.counts(d["reject_reasons"], "reason_code") or "none"
    per_1000 = d["false_incidents_per_1000_faces"]
    repeats = (f"; {d['repeats_rejected_as_duplicate']} old repeats rejected as duplicates (not counted as false)"
               if d["repeats_rejected_as_duplicate"] else "")
    return (f"<b>{d['incidents']}</b> incidents ({d['alerts']} alerts), <b>{d['decided']}</b> decided: confirmed "
            f"{_pct(d['confirm_rate'])}, rejected {_pct(d['reject_rate'])}; <b>{d['faces_analysed']:,}</b> faces "
            f"analysed; false incidents per 1,000 faces: <b>{per_1000 if per_1000 is not None else 'n/a'}</b>; "
            f"reject reasons: {reasons}{repeats}")


def equality_html(e: dict) -> str:
    rows = "".join(
        f"<tr><td>{GROUPS[dim][0]}</td><td>{GROUPS[dim][1].get(g, g)}</td><td>{v['engaged']}</td>"
        f"<td>{v['false_at_engagement']}</td><td>{v['rate']:.3f}</td>"
        f"<td>{'too few to compare' if v['too_few_to_compare'] else ''}</td></tr>"
        for dim in GROUPS for g, v in sorted(e[dim].items()))
    return (f"<b>Equality monitoring</b> - false alerts at engagement by recorded group "
            f"({e['engagements_with_demographics']} engagements have supervisor-recorded fields)<br>"
            f"<table cellpadding='4'><tr><th>field</th><th>group</th><th>engaged</th><th>false</th><th>rate</th>"
            f"<th></th></tr>{rows or '<tr><td colspan=6>No demographic fields recorded.</td></tr>'}</table>")


class DashboardTab(ToolTab):
    def __init__(self, dialog) -> None:
        super().__init__(dialog)
        inner = QWidget()
        g = QGridLayout(inner)
        self.c_hour = BarChart("Incidents and alerts per hour (local time)")
        self.c_time = BarChart("Time to decision per operator", " s")
        self.c_scores = BarChart("Best scores of confirmed and rejected incidents (count per band)")
        self.c_camera = BarChart("False incidents per 1,000 faces, per camera")
        self.summary, self.equality = QLabel(""), QLabel("")
        for label in (self.summary, self.equality):
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
        g.addWidget(self.summary, 0, 0, 1, 2)
        g.addWidget(self.c_hour, 1, 0)
        g.addWidget(self.c_time, 1, 1)
        g.addWidget(self.c_scores, 2, 0)
        g.addWidget(self.c_camera, 2, 1)
        g.addWidget(self.equality, 3, 0, 1, 2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(scroll)

    def refresh(self) -> None:
        store, actor, dep = self.live.store, self.actor, self.live.deployment_id
        self.read(lambda: stats.dashboard(store, actor, dep), self.show_figures)

    def show_figures(self, d: dict) -> None:
        self.summary.setText(summary_html(d))
        alerts = dict(d["alerts_per_hour"])
        self.c_hour.set_data([(labels.local_time(h + ":00Z", False)[11:], [n, alerts.get(h, 0)])
                              for h, n in d["incidents_per_hour"][-24:]],
                             [("incidents", theme.ACCENT), ("alerts", theme.MUTED)])
        self.c_time.set_data([(op, [(v["median"] or 0) / 1000, (v["p90"] or 0) / 1000])
                              for op, v in d["time_to_decision_ms"].items()],
                             [("median", theme.ACCENT), ("90th percentile", theme.MATCH)])
        bands = [(f"{lo:.1f}-{lo + 0.1:.1f}", lo) for lo in [x / 10 for x in range(3, 10)]]
        self.c_scores.set_data([(name, [sum(lo <= s < lo + 0.1 for s in d["scores_confirmed"]),
                                        sum(lo <= s < lo + 0.1 for s in d["scores_rejected"])]) for name, lo in bands],
                               [("confirmed", theme.CONFIRM), ("rejected", theme.REJECT)])
        self.c_camera.set_data([(name, [c["false_per_1000_faces"]]) for name, c in d["per_camera"].items()],
                               [("false incidents per 1,000 faces", theme.REJECT)])
        self.equality.setText(equality_html(d["equality"]))
