"""The deployment record as a PDF, drawn with Qt's own QPdfWriter: text, tables and bar charts
with colour keys (ui/charts.py). console/ never imports Qt, so the services take this as their
``pdf_renderer`` (the record tab passes it; main.py passes it to ``report``).

The same document gives the same bytes: times are printed in UTC, the PDF's document id is the
record's digest and its dates are the sign-off's (Qt stamps the time of writing; the stamp is
replaced by one of the same length, so no offset in the file moves).
"""

from __future__ import annotations

import os
import re
import uuid

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, Qt, QUuid
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QGuiApplication, QPageLayout, QPageSize, QPainter, QPdfWriter

from console import labels
from console.services.accuracy.operators import pooled_text
from ui import theme
from ui.charts import chart_height, paint_bars

DPI = 96
INK, GREY, RULE = "#1b1f24", "#5b6570", "#c9ced4"
FIGURES = (("Watchlist entries", "watchlist_size"), ("Faces analysed", "faces_analysed"), ("Incidents", "incidents"),
           ("Alerts (sightings)", "alerts"), ("Confirmed matches (incidents)", "true_incidents"),
           ("Rejected (incidents)", "false_incidents"), ("Undecided (incidents)", "undecided_incidents"),
           ("False incidents per 1,000 faces", "false_incidents_per_1000_faces"),
           ("False alerts per 1,000 faces", "false_alerts_per_1000_faces"),
           ("False alerts per alert", "false_alerts_per_alert"), ("Arrests", "arrests"))


def _app() -> None:
    """QPdfWriter needs a Qt application for its fonts; a command-line export makes one offscreen (a
    QApplication, so that a window opened later in the same process finds the kind it needs)."""
    if QGuiApplication.instance() is None:
        from PySide6.QtWidgets import QApplication

        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _app.keep = QApplication([])  # type: ignore[attr-defined]


class _Page:
    """A cursor down A4 pages: text, rows of a table and charts, a new page when one is full."""

    def __init__(self, writer: QPdfWriter, footer: str) -> None:
        self.w, self.footer = writer, footer
        self.p = QPainter(writer)
        rect = writer.pageLayout().paintRectPixels(DPI)
        self.width, self.bottom = float(rect.width()), float(rect.height()) - 28
        self.y, self.page = 0.0, 1
        self.family = QFont().family()

    def need(self, h: float) -> None:
        if self.y + h > self.bottom:
            self._foot()
            self.w.newPage()
            self.page += 1
            self.y = 0.0

    def _foot(self) -> None:
        self.p.setFont(QFont(self.family, 7))
        self.p.setPen(QColor(GREY))
        self.p.drawText(QRectF(0, self.bottom + 8, self.width, 16), Qt.AlignmentFlag.AlignLeft,
                        f"{self.footer} - page {self.page}")

    def text(self, s: str, size: float = 9, bold: bool = False, colour: str = INK, gap: float = 3) -> None:
        font = QFont(self.family, size, QFont.Weight.Bold if bold else QFont.Weight.Normal)
        bound = QFontMetricsF(font).boundingRect(QRectF(0, 0, self.width, 10_000), Qt.TextFlag.TextWordWrap, s)
        self.need(bound.height() + gap)
        self.p.setFont(font)
        self.p.setPen(QColor(colour))
        self.p.drawText(QRectF(0, self.y, self.width, bound.height() + 2), Qt.TextFlag.TextWordWrap, s)
        self.y += bound.height() + gap

    def heading(self, s: str) -> None:
        self.need(60)
        self.y += 8
        self.text(s, 12, True)
        self.p.setPen(QColor(RULE))
        self.p.drawLine(0, int(self.y), int(self.width), int(self.y))
        self.y += 4

    def pairs(self, rows: list[tuple[str, str]]) -> None:
        font = QFont(self.family, 9)
        for name, value in rows:
            self.need(16)
            self.p.setFont(font)
            self.p.setPen(QColor(GREY))
            self.p.drawText(QRectF(0, self.y, 260, 16), Qt.AlignmentFlag.AlignVCenter, name)
            self.p.setPen(QColor(INK))
            self.p.drawText(QRectF(264, self.y, self.width - 264, 16), Qt.AlignmentFlag.AlignVCenter, value)
            self.y += 16

    def chart(self, title: str, rows, series, unit: str = "") -> None:
        h = chart_height(rows, series)
        self.need(h)
        paint_bars(self.p, QRectF(0, self.y, self.width * 0.8, h), title, rows, series, unit, text=INK, muted=GREY,
                   family=self.family)
        self.y += h + 6

    def end(self) -> None:
        self._foot()
        self.p.end()


def _n(v) -> str:
    return "n/a" if v is None else (f"{v:,}" if isinstance(v, int) else f"{v:g}")


def _body(pg: _Page, r: dict, doc: dict) -> None:
    pg.text(f"Deployment record: {r['name']}", 16, True, gap=2)
    if doc["signed"]:
        s = r["signed_off"][0]
        pg.text(f"SIGNED by {s['username']} at {labels.utc_time(s['signed_at'])}"
                + (f" - \u201c{s['note']}\u201d" if s.get("note") else "")
                + ". This body is the record as signed; later changes are in the addendum.", 9, True, theme.CONFIRM)
    else:
        pg.text("DRAFT - not signed off. The figures are as they stand at export.", 9, True, theme.LOST)
    pg.heading("The deployment")
    pg.pairs([("Place", r["place"]), ("State", labels.label("state", r["state"])),
              ("From", labels.utc_time(r["start"])), ("To", f"{labels.utc_time(r['end'])} ({r['duration_hours']} h)"),
              ("Model", r["model_id"]), ("Threshold at the end", f"{r['threshold']:.3f}")])
    pg.text(f"Why here: {r['rationale']}")
    pg.text(f"Legal basis: {r['legal_basis']}")
    cal = r["calibration"]
    pg.text("Calibration used: " + (f"written by {cal['written_by']} ({cal['method']}) on "
                                    + "; ".join(f"{k} ({v})" for k, v in cal["data"].items())
                                    if cal["calibrated"] else f"none for this model ({cal['why']})"), colour=GREY)
    pg.heading("Figures (an incident is one pass of one person, decided once)")
    tt, esc = r["time_to_decision"], r["escalations"]
    pg.pairs([(name, _n(r[key])) for name, key in FIGURES] + [
        ("Time to decision, median / 90th percentile", f"{_n(tt['median_s'])} s / {_n(tt['p90_s'])} s"
                                                       f" ({tt['decisions']} decisions)"),
        ("Escalated incidents", f"{esc['incidents']} ({esc['still_open']} still open)"),
        ("Repeats rejected as duplicates (old)", _n(r["repeats_rejected_as_duplicate"]))])
    pg.heading("Charts")
    pg.chart("Incidents and alerts per hour (UTC)", [(h["hour"][11:16], [h["incidents"], h["alerts"]])
                                                     for h in r["per_hour"][-24:]],
             [("incidents", theme.CONFIRM), ("alerts", theme.MATCH)])
    pg.chart("Decisions (incidents)", [("Confirmed match", [r["true_incidents"]]), ("Rejected", [r["false_incidents"]]),
                                       ("Undecided", [r["undecided_incidents"]])], [("incidents", theme.CONFIRM)])
    pg.chart("Reject reasons (incidents)", [(labels.label("reason_code", k), [v]) for k, v in r["reject_reasons"].items()],
             [("rejected incidents", theme.REJECT)])
    pg.chart("Engagement outcomes (latest per alert)",
             [(f"{labels.label('result', e['result'])} / {labels.label('action', e['action'])}", [e["count"]])
              for e in r["engagements"]], [("alerts", theme.FACE)])
    if r.get("engagements_recorded_by"):  # absent from a record signed before Step 16
        by = r["engagements_recorded_by"]
        pg.text(f"Outcomes recorded by the officer on a handheld: {by['officer_on_handheld']}; relayed by an operator: "
                f"{by['relayed_by_operator']}.")
    _equality(pg, r["equality"])
    if r.get("operator_accuracy"):  # absent from a record signed before format 4
        pg.heading("The operators' decisions")
        pg.text(pooled_text(r["operator_accuracy"]))
        pg.text("Pooled over every operator; the record names none. A blind second look is another person's "
                "judgement, not the truth: its errors are possible ones.", 8, colour=GREY)
    pg.heading("Threshold changes")
    for c in r["threshold_changes"] or [None]:
        pg.text("None." if c is None else f"{labels.utc_time(c['at'])}  {c['by']}: {c['old']} \u2192 {c['new']}"
                                          f" - {c['reason']}")
    pg.heading("Clock jumps")
    for j in r["clock_jumps"] or [None]:
        pg.text("None: the system clock ran true." if j is None else
                f"{labels.utc_time(j['at'])}: jumped {'forward' if (j['by_s'] or 0) > 0 else 'back'} by "
                f"{abs(j['by_s'] or 0):.0f} s")
    _seal(pg, r, doc)


def _equality(pg: _Page, e: dict) -> None:
    rows = [(f"{labels.label(dim, g)} ({v['false_at_engagement']} of {v['engaged']}"
             f"{', too few' if v['too_few_to_compare'] else ''})", [v["rate"]])
            for dim in ("sex", "ethnic_group") for g, v in sorted(e[dim].items())]
    pg.chart("Equality: share of engagements that found the wrong person, by recorded group", rows,
             [("share false at engagement", theme.LOST)])
    pg.text(f"{e['engagements_with_demographics']} engagements have equality fields recorded by a supervisor; a group "
            "with fewer than 10 is too small to compare.", 8, colour=GREY)


def _seal(pg: _Page, r: dict, doc: dict) -> None:
    pg.heading("Digest and audit checkpoint")
    pg.text(f"Record digest (SHA-256): {doc.get('record_sha256') or '(draft)'}", 8)
    cp = r.get("audit_checkpoint")
    if cp:
        pg.text(f"Audit log checkpoint at {labels.utc_time(cp['time'])}: {cp['size']} entries, root {cp['root']}, "
                f"key {cp['key_fingerprint']}. Check with: main.py audit verify --witness FOLDER", 8, colour=GREY)
    else:
        pg.text("No signed checkpoint of the audit log yet.", 8, colour=GREY)


def _addendum(pg: _Page, a: dict) -> None:
    pg.need(10_000)  # on a page of its own
    pg.text(f"Addendum: changes after sign-off (as of {labels.utc_time(a['as_of'])})", 14, True)
    pg.text("Not part of the signed record. Each entry is in the audit log.", colour=GREY)
    pg.heading("What happened since")
    for c in a["changes"] or [None]:
        pg.text("Nothing new in the log." if c is None else f"{labels.utc_time(c['at'])}  {c['by']}: {c['what']}")
    pg.heading("Figures that now differ from the signed ones")
    for f in a["figures"] or [None]:
        if f is None:
            pg.text("None.")
        elif isinstance(f["now"], (dict, list)):
            pg.text(f"{labels.words(f['field'])}: changed (see the record as it now stands)")
        else:
            pg.text(f"{labels.words(f['field'])}: signed {_n(f['signed'])}, now {_n(f['now'])}")


def render_record_pdf(doc: dict) -> bytes:
    """The PDF of an export document (console/services/record/signing.py ``document``)."""
    _app()
    r = doc["record"]
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    w = QPdfWriter(buf)
    w.setResolution(DPI)
    w.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                QMarginsF(18, 18, 18, 14), QPageLayout.Unit.Millimeter))
    w.setTitle(f"Deployment record: {r['name']}")
    w.setCreator("Operator review console")
    seed = doc.get("record_sha256") or "draft"
    w.setDocumentId(QUuid(str(uuid.uuid5(uuid.NAMESPACE_OID, f"{seed}:{bool(doc['addendum'])}"))))
    pg = _Page(w, f"Deployment record {r['name']} ({'signed' if doc['signed'] else 'draft'})")
    _body(pg, r, doc)
    if doc["addendum"]:
        _addendum(pg, doc["addendum"])
    pg.end()
    buf.close()
    out = bytes(data.data())
    if doc["signed"]:
        out = _stamp(out, r["signed_off"][0]["signed_at"])
    return out


def _stamp(pdf: bytes, at: str) -> bytes:
    """Qt's time-of-writing stamps replaced by the sign-off time, each by one of the same length."""
    digits = re.sub(r"\D", "", at)[:14].ljust(14, "0")
    iso = f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}T{digits[8:10]}:{digits[10:12]}:{digits[12:14]}"
    pdf = re.sub(rb"\(D:\d{14}", b"(D:" + digits.encode(), pdf)
    return re.sub(rb'(xmp:(?:CreateDate|ModifyDate|MetadataDate)=")\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d',
                  lambda m: m.group(1) + iso.encode(), pdf)
