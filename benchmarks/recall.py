"""Recall of the schedule: the live recogniser (which detects and embeds only when a view is due)
against the exhaustive pass (every frame detected, every face past the quality gate embedded on
every frame), on the same frames of the same videos.

    python main.py bench recall

Each video is decoded once with OpenCV, frame by frame (not paced), and every frame goes through
both recognisers. Both have the re-alert window off, so every track may alert and which track
alerts does not depend on timing. A track the exhaustive pass alerted on (subject, frame span)
counts as found when the schedule alerted the same subject on a track whose span overlaps it;
the schedule's track numbers are its own, so tracks are paired by their frames, not their ids.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import cv2

GIF = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "openface-webcam" / "youtube-web.gif"
ENROL_WITHIN_S = 2.0  # the clip's own subject is enrolled from one frame of its first 2 s, judged on the rest


@dataclass(frozen=True)
class TrackAlert:
    """One track's alert on one subject, with the frames the track was seen in."""

    video: str
    subject: str
    track: int
    first: int
    last: int
    score: float  # the best score the track reached against that subject

    def overlaps(self, other: TrackAlert) -> bool:
        return self.first <= other.last and other.first <= self.last

    def as_dict(self) -> dict:
        return {"video": self.video, "subject": self.subject, "track": self.track, "frames": [self.first, self.last],
                "best_score": round(self.score, 4)}


@dataclass(frozen=True)
class Comparison:
    matched: list[TrackAlert]  # exhaustive alerts the schedule also raised
    missed: list[TrackAlert]  # exhaustive alerts the schedule did not raise
    extra: list[TrackAlert]  # scheduled alerts with no exhaustive counterpart


def _counterpart(alert: TrackAlert, others: list[TrackAlert]) -> bool:
    return any(o.video == alert.video and o.subject == alert.subject and o.overlaps(alert) for o in others)


def compare(exhaustive: list[TrackAlert], scheduled: list[TrackAlert]) -> Comparison:
    """Pure: each exhaustive alert is matched by a scheduled alert of the same video and subject on
    a track whose frame span overlaps; a scheduled alert with no such exhaustive one is an extra."""
    matched = [a for a in exhaustive if _counterpart(a, scheduled)]
    missed = [a for a in exhaustive if not _counterpart(a, scheduled)]
    extra = [s for s in scheduled if not _counterpart(s, exhaustive)]
    return Comparison(matched, missed, extra)


class _Pass:
    """One recogniser over the frames, keeping what the comparison needs from its FrameResults."""

    def __init__(self, engine, watchlist, settings, clock) -> None:
        from console.services.runtime.recognition import AlertSink, RecognitionPlan, build_recognizer

        self.names = watchlist.names
        self.alerts: list[tuple[int, str]] = []  # (track, subject), as raised
        self.spans: dict[int, list[int]] = {}  # track -> [first frame, last frame] with a face on it
        self.best: dict[tuple[int, str], float] = {}  # (track, subject) -> best score
        self.embedded = self.detected = self.frames = 0
        self._frame = 0
        plan = RecognitionPlan(watchlist.gallery, settings, watchlist.names)
        sink = AlertSink(write_alert=self._write, keeps_context=False)
        self.recognizer = build_recognizer(engine, plan, sink, deployment_id=0, camera_id=0, clock=clock)

    def _write(self, record) -> int:
        entry, _, score = record.candidates[0]
        subject = self.names.get(entry, str(entry))
        self.alerts.append((record.track_id, subject))
        key = (record.track_id, subject)
        self.best[key] = max(self.best.get(key, -1.0), float(score))
        return len(self.alerts)

    def feed(self, image, captured_at: float, index: int) -> None:
        result = self.recognizer.process(image, captured_at, index)
        self.frames += 1
        self.embedded += result.embedded
        self.detected += bool(result.detected)
        for face in result.faces:
            span = self.spans.setdefault(face.track_id, [index, index])
            span[0], span[1] = min(span[0], index), max(span[1], index)
            if face.subject is not None and face.score is not None:
                key = (face.track_id, face.subject)
                self.best[key] = max(self.best.get(key, -1.0), float(face.score))

    def track_alerts(self, video: str) -> list[TrackAlert]:
        out = []
        for track, subject in self.alerts:
            first, last = self.spans.get(track, [-1, -1])
            out.append(TrackAlert(video, subject, track, first, last, self.best.get((track, subject), float("nan"))))
        return out


def recall_on_video(engine, video: Path, watchlist, threshold: float, label: str, start_frame: int = 0) -> dict:
    """Both recognisers over every frame of ``video`` from ``start_frame``; the comparison and the counts."""
    from console.feeds.capture import probe_video
    from console.services.runtime.scan import settings_for

    fps, _, size = probe_video(video)
    scheduled_settings = dataclasses.replace(settings_for(threshold, 3), realert_window_s=0.0)
    exhaustive_settings = dataclasses.replace(scheduled_settings, every_view=True)
    now = {"t": 0.0}
    clock = lambda: now["t"]  # noqa: E731 - the video's own time
    scheduled = _Pass(engine, watchlist, scheduled_settings, clock)
    exhaustive = _Pass(engine, watchlist, exhaustive_settings, clock)
    cap = cv2.VideoCapture(str(video))
    index = 0
    try:
        while True:
            ok, image = cap.read()
            if not ok or image is None:
                break
            if index >= start_frame:
                now["t"] = index / fps
                scheduled.feed(image, now["t"], index)
                exhaustive.feed(image, now["t"], index)
            index += 1
    finally:
        cap.release()
    result = compare(exhaustive.track_alerts(label), scheduled.track_alerts(label))
    return {
        "video": label,
        "size": list(size),
        "frames": scheduled.frames,
        "exhaustive_alerted_tracks": len(result.matched) + len(result.missed),
        "matched": len(result.matched),
        "missed": [a.as_dict() for a in result.missed],
        "scheduled_alerts": len(scheduled.alerts),
        "scheduled_without_exhaustive_counterpart": [a.as_dict() for a in result.extra],
        "embedded": {"scheduled": scheduled.embedded, "exhaustive": exhaustive.embedded},
        "embeddings_saved_share": round(1 - scheduled.embedded / exhaustive.embedded, 3) if exhaustive.embedded else None,
        "frames_detected": {"scheduled": scheduled.detected, "exhaustive": exhaustive.detected},
    }


def summarise(videos: list[dict], notes: list[str]) -> dict:
    """The overall figures over the videos' results, and whether no track was missed."""
    missed = [m for v in videos for m in v["missed"]]
    embedded = {k: sum(v["embedded"][k] for v in videos) for k in ("scheduled", "exhaustive")}
    return {
        "videos": videos,
        "notes": notes,
        "exhaustive_alerted_tracks": sum(v["exhaustive_alerted_tracks"] for v in videos),
        "matched": sum(v["matched"] for v in videos),
        "missed": missed,
        "scheduled_without_exhaustive_counterpart": sum(len(v["scheduled_without_exhaustive_counterpart"])
                                                        for v in videos),
        "embedded": embedded,
        "embeddings_saved_share": round(1 - embedded["scheduled"] / embedded["exhaustive"], 3)
        if embedded["exhaustive"] else None,
        "frames": sum(v["frames"] for v in videos),
        "frames_detected": {k: sum(v["frames_detected"][k] for v in videos) for k in ("scheduled", "exhaustive")},
        "passed": not missed,
    }


def print_video(v: dict) -> None:
    saved = v["embeddings_saved_share"]
    print(f"{v['video']}: {v['exhaustive_alerted_tracks']} tracks alerted by the exhaustive pass, {v['matched']} "
          f"matched by the schedule, {len(v['missed'])} missed; {len(v['scheduled_without_exhaustive_counterpart'])} "
          f"scheduled alerts with no exhaustive counterpart; embeddings {v['embedded']['scheduled']} scheduled / "
          f"{v['embedded']['exhaustive']} exhaustive ({'-' if saved is None else f'{saved:.0%}'} saved); frames detected "
          f"{v['frames_detected']['scheduled']} / {v['frames_detected']['exhaustive']} of {v['frames']}", flush=True)
    for m in v["missed"]:
        print(f"  MISSED: {m['video']}, {m['subject']}, frames {m['frames'][0]}-{m['frames'][1]}, best exhaustive "
              f"score {m['best_score']:.3f}", flush=True)


def print_summary(report: dict) -> None:
    for note in report["notes"]:
        print(note)
    saved = report["embeddings_saved_share"]
    print(f"overall: {report['exhaustive_alerted_tracks']} tracks alerted by the exhaustive pass, {report['matched']} "
          f"matched by the schedule, {len(report['missed'])} missed; {report['scheduled_without_exhaustive_counterpart']}"
          f" scheduled alerts with no exhaustive counterpart; embeddings {report['embedded']['scheduled']} scheduled / "
          f"{report['embedded']['exhaustive']} exhaustive ({'-' if saved is None else f'{saved:.0%}'} saved); frames "
          f"detected {report['frames_detected']['scheduled']} / {report['frames_detected']['exhaustive']} of "
          f"{report['frames']}")
    for m in report["missed"]:
        print(f"  MISSED: {m['video']}, {m['subject']}, frames {m['frames'][0]}-{m['frames'][1]}, best exhaustive "
              f"score {m['best_score']:.3f}")


def enrol_from_clip(engine, video: Path, within_s: float = ENROL_WITHIN_S):
    """A watchlist of the clip's first person, from ONE frame of its first ``within_s`` seconds: the
    face with the best quality among those past the gate. (watchlist, frame index, frames skipped)."""
    import numpy as np

    from console.feeds.capture import probe_video
    from console.pipeline.gallery import Gallery
    from console.services.runtime.scan import FolderWatchlist
    from console.vision.engine import describe_faces

    fps, _, _ = probe_video(video)
    skip = int(round(within_s * fps))
    cap = cv2.VideoCapture(str(video))
    best = None
    try:
        for index in range(skip):
            ok, image = cap.read()
            if not ok or image is None:
                break
            for face in describe_faces(engine, image):
                if face.quality.passed and (best is None or face.quality.score > best[1].quality.score):
                    best = (index, face)
    finally:
        cap.release()
    if best is None:
        return None, -1, skip
    name = f"person 1 (enrolled from the clip, frame {best[0]})"
    gallery = Gallery(np.stack([best[1].embedding]), np.array([1]), np.array([1]))
    return FolderWatchlist(gallery, {1: name}, 1), best[0], skip


def bench_recall_on(videos: list[Path], folder: Path, providers, threads: int = 0, model_pack=None) -> dict:
    """The same comparison on footage of your own, against a watchlist folder (as `main.py scan` reads one)."""
    from console.services.runtime.scan import check_video, load_watchlist_folder, operating_point
    from console.vision.engine import load_engine

    engine = load_engine(model_pack, providers, threads)
    watchlist = load_watchlist_folder(engine, folder)
    threshold, _, how = operating_point(engine, watchlist, None)
    notes = [f"watchlist {folder}: {watchlist.images} photos, threshold {threshold:.3f} ({how})",
             "re-alert window 0 s in both passes; scheduled: the product's settings, exhaustive: every_view=True"]
    results = []
    for path in videos:
        check_video(path)
        results.append(recall_on_video(engine, path, watchlist, threshold, path.name))
        print_video(results[-1])
    report = summarise(results, notes)
    print_summary(report)
    return {"recall": report}


def bench_recall(data_dir: Path, providers, threads: int = 0, model_pack=None) -> dict:
    from benchmarks.pipeline import _bench_videos
    from benchmarks.scan import crowd_video, demo_watchlist_folder
    from console.services.runtime.scan import load_watchlist_folder, operating_point
    from console.vision.engine import load_engine

    cache = data_dir / "bench"
    engine = load_engine(model_pack, providers, threads)
    demo = load_watchlist_folder(engine, demo_watchlist_folder(cache))
    demo_threshold, _, how = operating_point(engine, demo, None)
    notes = [f"demo watchlist: {demo.images} photos, threshold {demo_threshold:.3f} ({how})",
             "re-alert window 0 s in both passes; scheduled: the product's settings, exhaustive: every_view=True"]
    print(f"writing the demo corridors and the crowd clip where not cached in {cache} ...", flush=True)
    corridors = _bench_videos(cache, 8)
    crowd = cache / "crowd-1080p-24s.mp4"
    if not crowd.exists():
        crowd_video(crowd, 24.0)
    videos = []
    for path in [*corridors, crowd]:
        videos.append(recall_on_video(engine, path, demo, demo_threshold, path.stem))
        print_video(videos[-1])
    if GIF.exists():
        videos.append(recall_on_video(engine, GIF, demo, demo_threshold, f"{GIF.name} (demo watchlist)"))
        print_video(videos[-1])
        own, frame, skip = enrol_from_clip(engine, GIF)
        if own is None:
            notes.append(f"{GIF.name}: no face past the quality gate in its first {ENROL_WITHIN_S:g} s; not enrolled")
        else:
            threshold, _, how = operating_point(engine, own, None)
            notes.append(f"{GIF.name}: its first person enrolled from the clip itself (frame {frame}), judged on frames "
                         f"{skip} on; threshold {threshold:.3f} ({how})")
            videos.append(recall_on_video(engine, GIF, own, threshold, f"{GIF.name} (enrolled from the clip)", skip))
            print_video(videos[-1])
    else:
        notes.append(f"{GIF} is absent: the real webcam footage was not run")
    report = summarise(videos, notes)
    print_summary(report)
    return {"recall": report}
