"""A crowd scan at 1080p: every frame of a generated 1920x1080 clip analysed as fast as the machine
allows, against the demo watchlist.

    python main.py bench scan --seconds 24

The clip is four demo corridors (console/feeds/demo.py) side by side at 960x540 each: about eight
faces in view at any moment, walking, crossing, two of them on the watchlist. Its faces are half
the size of the live demo's (36-50 px wide), as in a wide shot of a crowd.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import cv2
import numpy as np

TILE_W, TILE_H = 960, 540


def crowd_video(path: Path, seconds: float, fps: float = 25.0) -> int:
    from console.feeds.demo import DemoScene

    scenes = [DemoScene(i) for i in range(4)]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (2 * TILE_W, 2 * TILE_H))
    if not writer.isOpened():
        raise OSError(f"cannot write video {path}")
    frames = int(round(seconds * fps))
    try:
        for i in range(frames):
            tiles = [cv2.resize(s.frame(i), (TILE_W, TILE_H), interpolation=cv2.INTER_AREA) for s in scenes]
            writer.write(np.vstack([np.hstack(tiles[:2]), np.hstack(tiles[2:])]))
    finally:
        writer.release()
    return frames


def demo_watchlist_folder(cache: Path) -> Path:
    """The demo watchlist as a folder of photos (as `main.py scan --watchlist` reads one)."""
    from console.feeds.demo_media import demo_subjects

    folder = cache / "crowd-watchlist"
    folder.mkdir(parents=True, exist_ok=True)
    for subject in demo_subjects():
        target = folder / f"{subject.name}{subject.photo.suffix}"
        if not target.exists():
            shutil.copyfile(subject.photo, target)
    return folder


def bench_scan(data_dir: Path, seconds: float, threads: int, providers) -> dict:
    from console.services.runtime.scan import load_watchlist_folder, operating_point, scan_video, settings_for
    from console.vision.engine import BundledEngine

    cache = data_dir / "bench"
    cache.mkdir(parents=True, exist_ok=True)
    video = cache / f"crowd-1080p-{seconds:g}s.mp4"
    if not video.exists():
        print(f"writing the {seconds:g} s crowd clip ...", flush=True)
        crowd_video(video, seconds)
    engine = BundledEngine(providers, threads=threads)
    watchlist = load_watchlist_folder(engine, demo_watchlist_folder(cache))
    started = time.perf_counter()
    threshold, _, _ = operating_point(engine, watchlist, None)  # as `main.py scan` sets it
    summary = scan_video(engine, video, watchlist, settings_for(threshold, 3), on_alert=lambda a: None)
    wall = time.perf_counter() - started
    report = {
        "video": "generated 1920x1080, 25 fps, four demo corridors side by side",
        "seconds_of_video": round(summary["frames"] / summary["video_fps"], 1),
        "frames": summary["frames"],
        "faces_per_frame": round(summary["faces"] / max(1, summary["frames_analysed"]), 2),
        "faces_embedded": summary["faces_embedded"],
        "alerts": summary["alerts"],
        "subjects_alerted": summary["subjects_alerted"],
        "fps": summary["fps"],
        "times_real_time": summary["faster_than_real_time"],
        "wall_s": round(wall, 1),
        "threads": threads,
    }
    print(f"1080p crowd scan: {summary['frames']} frames, {report['faces_per_frame']:.1f} faces per frame, "
          f"{summary['fps']:.1f} frames/s = {summary['faster_than_real_time']:.2f}x real time; "
          f"{summary['faces_embedded']} faces embedded, {summary['alerts']} alerts ({', '.join(summary['subjects_alerted'])})")
    return {"scan": report}
