"""The deployment record as the review window shows it: labels, local times and the counts
behind every rate (what the sign-off confirmation and the record tab show)."""

from __future__ import annotations

from html import escape

from console import labels
from console.services.accuracy.operators import pooled_text
from ui import theme


def _n(v) -> str:
    return "n/a" if v is None else (f"{v:,}" if isinstance(v, int) else f"{v:g}")


def _recorded_by(r: dict) -> str:
    by = r.get("engagements_recorded_by")  # absent from a record signed before Step 16
    if not by:
        return ""
    return (f"; recorded by the officer on a handheld {by['officer_on_handheld']}, "
            f"relayed by an operator {by['relayed_by_operator']}")


def figures_html(r: dict) -> str:
    tt, esc = r["time_to_decision"], r["escalations"]
    engagements = ", ".join(f"{labels.label('result', e['result'])} / {labels.label('action', e['action'])}: "
                            f"{e['count']}" for e in r["engagements"]) or "none"
    eq = r["equality"]
    groups = "; ".join(f"{labels.label(dim, g)}: {v['false_at_engagement']} false of {v['engaged']} engaged"
                       for dim in ("sex", "ethnic_group") for g, v in sorted(eq[dim].items())) or "none recorded"
    changes = "; ".join(f"{labels.local_time(c['at'], False)} {escape(str(c['by']))}: {c['old']} \u2192 {c['new']}"
                        for c in r["threshold_changes"]) or "none"
    jumps = "; ".join(f"{labels.local_time(j['at'], False)} ({j['by_s']:+.0f} s)" for j in r["clock_jumps"]) or "none"
    rows = [
        ("Place and window", f"{escape(r['place'])}, {labels.local_time(r['start'], False)} to "
                             f"{labels.local_time(r['end'], False)} ({r['duration_hours']} h); "
                             f"{labels.label('state', r['state'])}"),
        ("Watchlist, faces", f"{r['watchlist_size']} entries; {r['faces_analysed']:,} faces analysed"),
        ("Incidents", f"<b>{r['incidents']}</b> ({r['alerts']} alerts): {r['true_incidents']} confirmed, "
                      f"{r['false_incidents']} rejected, <b>{r['undecided_incidents']} undecided</b>"),
        ("False alerts", f"{_n(r['false_alerts_per_1000_faces'])} per 1,000 faces; {_n(r['false_alerts_per_alert'])} per "
                         f"alert ({r['false_alerts']} of {r['alerts']})"),
        ("Reject reasons", escape(labels.counts(r["reject_reasons"], "reason_code")) or "none"),
        ("Escalations", f"{esc['incidents']} escalated, <b>{esc['still_open']} still open</b>"),
        ("Time to decision", (f"median {_n(tt['median_s'])} s, 90th percentile {_n(tt['p90_s'])} s "
                              f"({tt['decisions']} decisions)") if tt["decisions"] else "no decisions yet"),
        ("Engagement outcomes", escape(engagements) + f"; arrests {r['arrests']}" + _recorded_by(r)),
        ("Equality", f"{escape(groups)} ({eq['engagements_with_demographics']} with fields recorded)"),
        ("Threshold changes", escape(changes)),
        ("Clock jumps", jumps),
    ]
    if r.get("operator_accuracy"):  # absent from a record signed before format 4
        rows.append(("Operators (pooled)", escape(pooled_text(r["operator_accuracy"]))))
    return "<table cellpadding='3'>" + "".join(
        f"<tr><td style='color:{theme.MUTED}'>{k}</td><td>{v}</td></tr>" for k, v in rows) + "</table>"


def document_html(doc: dict) -> str:
    """The record tab: the signed (frozen) record with its addendum, or the draft as it stands."""
    r = doc["record"]
    if doc["signed"]:
        s = r["signed_off"][0]
        head = (f"<span style='color:{theme.FACE}'><b>\u2713 Signed</b></span> by {escape(s['username'])} at "
                f"{labels.local_time(s['signed_at'])}. This is the record as signed: every export reproduces it "
                f"exactly (digest {doc['record_sha256'][:16]}\u2026).")
    else:
        head = (f"<span style='color:{theme.MATCH}'><b>Draft</b></span> - not signed off; the figures are as they "
                "stand now.")
    out = f"<b>{escape(r['name'])}</b><br>{head}{figures_html(r)}"
    extra = doc.get("addendum")
    if extra:
        items = "".join(f"<li>{labels.local_time(c['at'])} {escape(c['by'])}: {escape(c['what'])}</li>"
                        for c in extra["changes"])
        moved = "".join(f"<li>{labels.words(f['field'])} changed</li>" for f in extra["figures"])
        out += (f"<b>Addendum</b> (not part of the signed record; as of {labels.local_time(extra['as_of'])})"
                f"<ul>{items}{moved}</ul>")
    return out
