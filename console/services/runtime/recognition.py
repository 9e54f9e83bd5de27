"""The one factory of a camera's recogniser, for the console, the headless worker, selftest,
scan and the benchmarks.

A recogniser needs a plan - the watchlist gallery, the settings in force, the subjects' names,
the "different person" suppressions and where its track numbers start - and a sink for what it
raises. A deployment's camera gets its plan from the store (``plan_for_camera``) and writes into
it (``store_sink``); ``scan`` builds its plan from a folder and prints its alerts instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from console.clock import wall
from console.domain import AlertRecord
from console.errors import ConsoleError
from console.pipeline.gallery import Gallery
from console.pipeline.recognizer import CameraRecognizer, RecognizerSettings
from console.store import Store, repo, watchlists
from console.vision.engine import FaceEngine
from console.vision.quality import QualityGate


@dataclass
class RecognitionPlan:
    gallery: Gallery
    settings: RecognizerSettings
    subject_names: dict[int, str]
    suppressed: set[tuple[int, int]] = field(default_factory=set)  # (track id, entry id)
    first_track_id: int = 1


def load_gallery(store: Store, deployment_id: int, model_id: str) -> Gallery:
    rows = repo.gallery_rows(store, deployment_id, model_id)
    if rows.matrix.size == 0:
        return Gallery.empty()
    return Gallery(rows.matrix, rows.image_ids, rows.entry_ids)


def subject_names(store: Store, deployment_id: int) -> dict[int, str]:
    return watchlists.subject_names(store, deployment_id)



def recognizer_settings(store: Store, deployment_id: int) -> RecognizerSettings:
    dep = repo.get_deployment(store, deployment_id)
    if dep is None:
        raise ConsoleError(f"deployment {deployment_id} does not exist")
    scope = f"deployment/{deployment_id}"
    return RecognizerSettings(
        threshold=float(dep["threshold"]),
        top_k=int(repo.get_setting(store, scope, "top_k", 3)),
        realert_window_s=float(repo.get_setting(store, scope, "realert_window_s", 120.0)),
        gate=QualityGate.from_dict(repo.get_setting(store, scope, "quality_gate", {}) or {}),
    )


def plan_for_camera(store: Store, deployment_id: int, camera_id: int, model_id: str) -> RecognitionPlan:
    """Everything a camera of a deployment needs from the store, as it stands now. Track numbers
    continue after the camera's last alerted track, so a suppression of an earlier run can never
    fall on a new person."""
    return RecognitionPlan(
        gallery=load_gallery(store, deployment_id, model_id),
        settings=recognizer_settings(store, deployment_id),
        subject_names=subject_names(store, deployment_id),
        suppressed=repo.suppressions(store, deployment_id, camera_id),
        first_track_id=repo.last_track_id(store, camera_id) + 1,
    )


@dataclass(frozen=True)
class AlertSink:
    write_alert: Callable[[AlertRecord], int]
    is_decided: Callable[[int], bool] = lambda _alert_id: False
    write_view: Callable[[int, bytes, float, dict, str], object] | None = None
    keeps_context: bool = True  # False: the alerts go nowhere that keeps images (scan), so none is made
    # () -> (write, close, attach) on a connection of its own: alerts written off the camera's thread,
    # at once, and their context frames after them (console/pipeline/alerting.py); None: written, each
    # with its frame, by the camera's own loop.
    off_thread_writer: Callable[[], tuple[Callable[[AlertRecord], int], Callable[[], None],
                                          Callable[[int, bytes], None]]] | None = None


def store_sink(store: Store, fence: Callable[[object], None] | None = None) -> AlertSink:
    """Alerts, and further views of alerted tracks, into the store (the store of the recogniser's
    own thread: one connection, one thread); ``fence`` as console/store/alerts.py's insert_alert takes it."""
    return AlertSink(
        write_alert=lambda record: repo.insert_alert(store, record, fence=fence),
        is_decided=lambda alert_id: repo.alert_status(store, alert_id) == "decided",
        write_view=lambda alert_id, jpeg, score, quality, at: repo.add_alert_view(store, alert_id, jpeg, score,
                                                                                  quality, at),
        off_thread_writer=lambda: _own_writer(store, fence),
    )


def _own_writer(store: Store, fence: Callable[[object], None] | None):
    own = store.reopen()
    if getattr(store, "bound_session", ""):  # PostgreSQL: the same recognition token as the camera's own
        repo.bind_session(own, store.bound_session)
    return ((lambda record: repo.insert_alert(own, record, fence=fence)), own.close,
            lambda alert_id, jpeg: repo.add_alert_context(own, alert_id, jpeg))


def build_recognizer(engine: FaceEngine, plan: RecognitionPlan, sink: AlertSink, *, deployment_id: int,
                     camera_id: int, clock: Callable[[], float] = wall) -> CameraRecognizer:
    return CameraRecognizer(
        engine, plan.gallery, deployment_id=deployment_id, camera_id=camera_id, settings=plan.settings,
        write_alert=sink.write_alert, is_decided=sink.is_decided, subject_names=plan.subject_names, clock=clock,
        write_view=sink.write_view, suppressed=plan.suppressed, first_track_id=plan.first_track_id,
        keep_context=sink.keeps_context, alert_writer_factory=sink.off_thread_writer,
    )


def recognizer_for_camera(store: Store, engine: FaceEngine, deployment_id: int, camera_id: int,
                          sink: AlertSink | None = None) -> CameraRecognizer:
    """A camera of a deployment, planned from the store and (unless told otherwise) writing into it."""
    plan = plan_for_camera(store, deployment_id, camera_id, engine.model_id)
    return build_recognizer(engine, plan, sink or store_sink(store), deployment_id=deployment_id,
                            camera_id=camera_id)
