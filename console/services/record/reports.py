"""Supervisor review: the deployment record a force publishes, threshold what-ifs, blind
review samples. Everything is computed from the database; exports and sign-offs are logged."""

from __future__ import annotations

import csv
import io
import json
import logging
import random
from pathlib import Path

import numpy as np

from console.clock import utcnow
from console.errors import ConsoleError
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.services.record.incident_figures import incidents, tally
from console.services.record.record_body import RECORD_FORMAT, _pin, _record, record_digest
from console.store import Store, audit, ledger, repo
from console.store import record as db

log = logging.getLogger(__name__)
__all__ = ["RECORD_FORMAT", "deployment_record", "export_record", "record_digest", "sign_off"]


def deployment_record(store: Store, actor: Actor, deployment_id: int) -> dict:
    """The record a force publishes; the same figures its export carries, so the same role reads it."""
    actor.require(Permission.VIEW_AUDIT, store)
    return _record(store, deployment_id)


def sign_off(store: Store, actor: Actor, deployment_id: int, note: str = "", password: str = "") -> str:
    """A supervisor signs (with their password and own key) and freezes the record
    (console/services/record/signing.py); its digest."""
    from console.services.record import signing

    return signing.sign_off(store, actor, deployment_id, note, password)


NO_PDF_RENDERER = ("a PDF of the record needs its renderer (ui/record_pdf.py render_record_pdf): export it from "
                   "the console window or with main.py report, or choose .csv or .json")


def export_record(store: Store, actor: Actor, deployment_id: int, out: Path, pdf_renderer=None) -> Path:
    """PDF, CSV or JSON by the file's extension; a new file, written whole; the export is logged.
    A signed record is printed from its frozen JSON (the same bytes every time), with a dated
    addendum of what changed since. ``pdf_renderer(document) -> bytes`` draws the PDF (the UI and
    main.py pass Qt's, ui/record_pdf.py, the one renderer of the record's PDF: console/ never imports Qt)."""
    from console.exports import check_target, write_new
    from console.services.record import signing

    actor.require(Permission.VIEW_AUDIT, store)
    out = check_target(out, (".pdf", ".csv", ".json"))
    if out.suffix.lower() == ".pdf" and pdf_renderer is None:
        raise ConsoleError(NO_PDF_RENDERER)  # before anything is pinned or written
    if signing.frozen(store, deployment_id) is None:
        _pin(store, "export")  # a draft carries a checkpoint of the log as it stands
    doc = signing.document(store, deployment_id)
    data = render(doc, out.suffix.lower(), pdf_renderer)
    write_new(out, data)
    try:
        audit.append(store, actor.username, "report.exported", "deployment", deployment_id,
                     {"file": out.name, "record_sha256": doc.get("record_sha256") or record_digest(doc["record"]),
                      "signed": doc["signed"], "addendum": bool(doc["addendum"])})
    except BaseException:
        out.unlink(missing_ok=True)  # an export the log does not hold does not leave the console
        raise
    return out


def render(doc: dict, suffix: str, pdf_renderer=None) -> bytes:
    """The document's bytes: nothing in them depends on when they are made."""
    record, extra = doc["record"], doc["addendum"]
    if suffix == ".json":
        body = {"signed_record": record, "addendum": extra} if doc["signed"] else record
        return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode()
    if suffix == ".csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["field", "value"])
        for k, v in record.items():
            w.writerow([k, json.dumps(v) if isinstance(v, (list, dict)) else v])
        if extra:
            w.writerow(["addendum_as_of", extra["as_of"]])
            for c in extra["changes"]:
                w.writerow(["addendum_change", f"{c['at']} {c['by']}: {c['what']}"])
            for f in extra["figures"]:
                w.writerow(["addendum_figure", json.dumps(f)])
        return buf.getvalue().encode()
    if pdf_renderer is None:  # the PDF is drawn by Qt's QPdfWriter (ui/record_pdf.py), which the caller passes in
        raise ConsoleError(NO_PDF_RENDERER)
    return pdf_renderer(doc)


def threshold_what_if(store: Store, actor: Actor, deployment_id: int, threshold: float) -> dict:
    """What a different threshold would have done: from past alerts (with their decisions) and
    the histogram of every face's best score (which also counts faces that raised no alert)."""
    actor.require(Permission.VIEW_DECISIONS, store)
    dep = repo.get_deployment(store, deployment_id)
    if dep is None:
        raise ConsoleError(f"deployment {deployment_id} does not exist")
    rows = incidents(store, deployment_id)
    kept = [a for a in rows if a["score"] >= threshold]
    dropped = [a for a in rows if a["score"] < threshold]
    scores = [float(r["score"]) for r in db.alert_scores(store, deployment_id)]
    hist = np.zeros(repo.HIST_BINS, int)
    for row in db.score_histograms(store, deployment_id):
        h = np.array(json.loads(row["score_hist"]))
        if len(h) == repo.HIST_BINS:
            hist += h
    edges = np.linspace(-1, 1, repo.HIST_BINS + 1)

    def above(t: float) -> int:
        return int(hist[edges[:-1] >= t - 1e-9].sum())

    def split(part):
        t = tally(part)
        return {"true": t["true"], "false": t["false"], "undecided": t["undecided"], "repeat": t["repeat"]}

    return {
        "threshold_in_force": dep["threshold"],
        "threshold_asked": threshold,
        "past_incidents_kept": len(kept),
        "past_incidents_suppressed": len(dropped),
        "past_alerts_kept": sum(x >= threshold for x in scores),
        "past_alerts_suppressed": sum(x < threshold for x in scores),
        "kept": split(kept),
        "suppressed": split(dropped),
        "faces_at_or_above_asked": above(threshold),
        "faces_at_or_above_in_force": above(dep["threshold"]),
        "note": "an incident is kept if its best sighting reaches the threshold; "
                "faces counted per embedding (one person may be embedded several times); "
                "a lower threshold's extra faces were never alerted, so their truth is unknown",
    }


def draw_sample(store: Store, actor: Actor, deployment_id: int, size: int, seed: int | None = None) -> str:
    """A random sample of decided incidents for a supervisor to decide again, blind: each shown by
    the sighting its decision was made on. Old "duplicate" rejections (repeats, not judgements of
    the face) are not sampled."""
    actor.require(Permission.AUTHORISE_DEPLOYMENT, store)
    decided = [a for a in incidents(store, deployment_id) if a["outcome"] in ("true", "false")]
    if not decided:
        raise ConsoleError("no decided incidents to sample")
    rng = random.Random(seed)
    chosen = rng.sample(decided, min(size, len(decided)))
    name = f"sample-{deployment_id}-{utcnow()}"
    with store.transaction() as conn:
        for a in chosen:
            db.insert_sample_row(conn, name, a["id"], actor.user_id, utcnow(), a["decision"])
        audit.append(store, actor.username, "review.sample_drawn", "deployment", deployment_id,
                     {"sample": name, "size": len(chosen), "rows": ledger.of(conn, "review_samples", sample=name)})
    return name


def blind_decide(store: Store, actor: Actor, sample: str, alert_id: int, decision: str) -> None:
    actor.require(Permission.AUTHORISE_DEPLOYMENT, store)
    if decision not in ("true_alert", "false_alert"):
        raise ConsoleError("a blind decision is true_alert or false_alert")
    with store.transaction() as conn:
        if not db.record_blind_decision(conn, sample, alert_id, decision, actor.user_id, utcnow()):
            raise ConsoleError(f"alert {alert_id} is not waiting in sample {sample}")
        audit.append(store, actor.username, "review.blind_decision", "alert", alert_id,
                     {"sample": sample, "decision": decision,
                      "rows": ledger.of(conn, "review_samples", sample=sample, alert_id=alert_id)})


def sample_agreement(store: Store, actor: Actor, sample: str) -> dict:
    actor.require(Permission.VIEW_DECISIONS, store)
    rows = db.sample_decisions(store, sample)
    done = [r for r in rows if r["blind_decision"]]
    agree = sum(r["original_decision"] == r["blind_decision"] for r in done)
    return {"sample": sample, "size": len(rows), "decided": len(done), "agreed": agree,
            "agreement_rate": round(agree / len(done), 3) if done else None}


def blind_view(store: Store, actor: Actor, sample: str) -> list[dict]:
    """What the blind reviewer sees: probe and best candidate images and scores, never the
    original decision. Each alert shown is logged as viewed (where: blind review)."""
    actor.require(Permission.AUTHORISE_DEPLOYMENT, store)  # the blind reviewer is a supervisor
    rows = db.sample_waiting(store, sample)

    shown = [dict(r) for r in rows]
    with store.transaction():
        for row in shown:
            audit.append(store, actor.username, "alert.viewed", "alert", row["alert_id"],
                         {"where": "blind review", "sample": sample})
    return shown
