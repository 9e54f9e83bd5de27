"""Loading what a live deployment needs: its gallery, its settings, its subjects."""

from __future__ import annotations

from console.pipeline.gallery import Gallery
from console.pipeline.recognizer import RecognizerSettings
from console.store import Store, repo
from console.vision.quality import QualityGate


def load_gallery(store: Store, deployment_id: int, model_id: str) -> Gallery:
    rows = repo.gallery_rows(store, deployment_id, model_id)
    if rows.matrix.size == 0:
        return Gallery.empty()
    return Gallery(rows.matrix, rows.image_ids, rows.entry_ids)


def subject_names(store: Store, deployment_id: int) -> dict[int, str]:
    rows = store.query(
        "SELECT e.id, e.subject_name FROM watchlist_entries e JOIN watchlists w ON w.id = e.watchlist_id"
        " WHERE w.deployment_id = ?", (deployment_id,))
    return {int(r["id"]): r["subject_name"] for r in rows}


def recognizer_settings(store: Store, deployment_id: int) -> RecognizerSettings:
    dep = repo.get_deployment(store, deployment_id)
    scope = f"deployment/{deployment_id}"
    gate = QualityGate.from_dict(repo.get_setting(store, scope, "quality_gate", {}) or {})
    return RecognizerSettings(
        threshold=float(dep["threshold"]),
        top_k=int(repo.get_setting(store, scope, "top_k", 3)),
        realert_window_s=float(repo.get_setting(store, scope, "realert_window_s", 120.0)),
        gate=gate,
    )
