"""Recognition throughput and latency: N feeds at once from 720p demo videos paced at 25 fps,
alerts written to a real SQLite database.

    python main.py bench pipeline --feeds 4 --seconds 60
"""

from __future__ import annotations

import os
import resource
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.common import pct

DISTINCT = 8  # different corridors; past eight feeds they repeat (feed i plays corridor i % 8)


def _bench_videos(cache: Path, feeds: int) -> list[Path]:
    from console.feeds.demo import PERIOD_S, write_demo_video

    cache.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(min(feeds, DISTINCT)):
        path = cache / f"demo-720p-cam{i}.mp4"
        if not path.exists():
            write_demo_video(path, i, PERIOD_S)
        paths.append(path)
    return [paths[i % DISTINCT] for i in range(feeds)]


def _appearances(engine, gate, camera_index: int, frames: int) -> dict[int, int]:
    """Ground truth: for each walk-by, the first frame in which its face is detected and
    passes the quality gate (every 2nd frame analysed offline)."""
    from console.feeds.demo import DemoScene

    scene = DemoScene(camera_index)
    first: dict[int, int] = {}
    for index in range(0, frames, 2):
        image = scene.frame(index)
        for det in engine.detect(image):
            crop = engine.align(image, det)
            if not engine.assess(det, crop, gate, image.shape).passed:
                continue
            owner = _owner(scene, index, det.box)
            if owner is not None and owner not in first:
                first[owner] = index
    return first


def _owner(scene, index: int, box) -> int | None:
    """The walk-by whose head is drawn at the face box's centre. Where two heads overlap (one
    leaving the frame as another enters), the one drawn last covers the other, so the last box
    holding the centre is the face's owner (before, the first was taken: a face seen on time was
    counted as the other person's, and its own person's as late)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    for number, _, (x1, y1, x2, y2) in reversed(scene.head_boxes(index)):  # drawn last first
        if x1 <= cx <= x2 and y1 <= cy <= y2:
            return number
    return None


def bench_pipeline(data_dir: Path, feeds: int, seconds: float, threads: int, providers, processes: int = 1) -> dict:
    """The feeds as threads of one process, or split over ``processes`` processes (as several
    `main.py worker --cameras ...` would split a deployment's cameras), timed over the same seconds."""
    from console.services.accounts.auth import actor_for
    from console.services.setup import deployments
    from console.services.setup.demo import DEMO_OPERATOR, ensure_demo_deployment
    from console.store import open_store, repo
    from console.vision.engine import BundledEngine

    # Alerts go to a real SQLite database (WAL, synchronous=FULL) of a demo deployment.
    store = open_store(data_dir / "bench")
    dep_id = ensure_demo_deployment(store, BundledEngine(providers, threads=threads), cameras=feeds)
    deployments.start(store, actor_for(store, DEMO_OPERATOR), dep_id)
    camera_ids = [int(c["id"]) for c in repo.cameras(store, dep_id)][:feeds]
    store.close()
    videos = _bench_videos(data_dir / "bench", feeds)
    processes = max(1, min(processes, feeds))
    groups = [list(range(feeds))[g::processes] for g in range(processes)]
    job = (data_dir, dep_id, camera_ids, videos, seconds, threads, providers)
    if processes == 1:
        parts = [_run_group(*job, groups[0], None)]
    else:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        barrier, results = ctx.Barrier(processes), ctx.Queue()
        children = [ctx.Process(target=_group_main, args=(results, *job, group, barrier)) for group in groups]
        for child in children:
            child.start()
        parts = [results.get(timeout=seconds + 600) for _ in children]
        for child in children:
            child.join(30)
    return _report(parts, feeds, threads, processes)


def _group_main(results, *args) -> None:
    results.put(_run_group(*args))


def _run_group(data_dir: Path, dep_id: int, camera_ids: list[int], videos: list[Path], seconds: float, threads: int,
               providers, feed_numbers: list[int], barrier) -> dict:
    from console.feeds.capture import FileSource
    from console.feeds.demo import DemoScene
    from console.pipeline.batcher import shared
    from console.pipeline.worker import CameraWorker
    from console.services.runtime import recognition
    from console.store import open_store, repo
    from console.vision.engine import BundledEngine

    engine = shared(BundledEngine(providers, threads=threads))  # the feeds of this process share recogniser runs
    store = open_store(data_dir / "bench")
    settings = recognition.recognizer_settings(store, dep_id)
    corridors = sorted({i % DISTINCT for i in feed_numbers})
    print(f"ground truth: finding when each face first becomes recognisable in {len(corridors)} videos ...",
          flush=True)
    frames_per_video = int(round(24.0 * 25))
    distinct = {c: _appearances(engine, settings.gate, c, frames_per_video) for c in corridors}
    truth = [distinct[i % DISTINCT] for i in feed_numbers]
    scenes = [DemoScene(i % DISTINCT) for i in feed_numbers]
    feeds = len(feed_numbers)

    lock = threading.Lock()
    latencies_ms: list[float] = []
    context_ms: list[float] = []  # frame capture to the alert's context frame stored after it
    captured_of: dict[int, float] = {}
    ages: list[list[tuple[float, float]]] = [[] for _ in range(feeds)]  # (when, frame age at analysis)
    first_embed: list[dict[tuple[int, int], float]] = [{} for _ in range(feeds)]
    # (frame index, capture time) of every analysed frame: when a frame of the video was delivered,
    # interpolated between them (a source that falls behind its 25 fps under load must not make
    # faces look late that were not).
    delivered: list[list[tuple[int, float]]] = [[] for _ in range(feeds)]

    stores = []

    def make_writer():
        wstore = store.reopen()
        stores.append(wstore)

        def write(record) -> int:
            from datetime import datetime

            alert_id = repo.insert_alert(wstore, record)  # committed, fsync'd, when this returns
            stored = time.time()
            captured = datetime.fromisoformat(record.captured_at.replace("Z", "+00:00")).timestamp()
            with lock:
                latencies_ms.append((stored - captured) * 1000)
                captured_of[alert_id] = captured
            return alert_id
        return write

    def make_own_writer():
        write = make_writer()
        own = stores[-1]

        def attach(alert_id: int, jpeg: bytes) -> None:
            repo.add_alert_context(own, alert_id, jpeg)
            with lock:
                context_ms.append((time.time() - captured_of[alert_id]) * 1000)
        return write, lambda: None, attach  # closed with the others below

    def make_on_result(i: int):
        def on_result(result) -> None:
            now = time.time()
            ages[i].append((now, now - result.captured_at))
            delivered[i].append((result.frame_index, result.captured_at))
            if not result.embedded_tracks:
                return
            loop, local = divmod(result.frame_index, frames_per_video)
            boxes = {f.track_id: f.box for f in result.faces}
            for track_id in result.embedded_tracks:
                owner = _owner(scenes[i], local, boxes[track_id])
                if owner is not None:
                    first_embed[i].setdefault((loop, owner), now)
        return on_result

    workers = []
    for i, number in enumerate(feed_numbers):
        recognizer = recognition.recognizer_for_camera(store, engine, dep_id, camera_ids[number],
                                                       recognition.AlertSink(write_alert=make_writer(),
                                                                                 off_thread_writer=make_own_writer))
        source = FileSource(videos[number], loop=True, realtime=True)
        workers.append(CameraWorker(source, recognizer, on_result=make_on_result(i)))
    if barrier is not None:
        barrier.wait()  # every process starts its feeds at the same moment
    cpu0, wall0, wall_start = resource.getrusage(resource.RUSAGE_SELF), time.monotonic(), time.time()
    for w in workers:
        w.source.start()
        w.start()
    time.sleep(seconds)
    for w in workers:
        w.source.stop()
    for w in workers:
        w.stop()
    wall = time.monotonic() - wall0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    for s in stores:
        s.close()
    store.close()

    judged = [0] * feeds  # per feed: faces judged, those embedded within 1 s, and the delays
    within_feed = [0] * feeds
    delays_feed: list[list[float]] = [[] for _ in range(feeds)]
    for i, w in enumerate(workers):
        produced = w.source.frames
        loops = produced // frames_per_video + 1
        for loop in range(loops):
            for owner, index in truth[i].items():
                if index == 0:  # in view when the video starts (or loops): not an appearance
                    continue
                global_index = loop * frames_per_video + index
                if global_index + 25 >= produced:  # appeared in the last second: not judged
                    continue
                judged[i] += 1
                appeared = _delivered_at(delivered[i], global_index)
                done = first_embed[i].get((loop, owner))
                if done is not None:
                    delays_feed[i].append(done - appeared)
                    within_feed[i] += (done - appeared) <= 1.0
                if done is None or done - appeared > 1.0:  # named, so a late face can be traced
                    late = "never" if done is None else f"{done - appeared:.2f} s"
                    print(f"late: feed {feed_numbers[i] + 1}, walk-by {owner}, recognisable from frame "
                          f"{global_index} ({appeared - wall_start:.2f} s in), embedded {late}", flush=True)
    total, within = sum(judged), sum(within_feed)
    delays = [d for feed_delays in delays_feed for d in feed_delays]

    def age_ms(i: int, half: int) -> float:
        # A queue that grows shows as frames analysed later and later: the first half against the second.
        rows = ages[i]
        part = rows[: len(rows) // 2] if half == 0 else rows[len(rows) // 2:]
        return round(pct([a for _, a in part], 95) * 1000, 1) if part else 0.0

    per_feed = [{
        "feed": number + 1,
        "frames_delivered": w.source.frames,
        "frames_analysed": w.analysed,
        "analysed_fps": round(w.analysed / wall, 1),
        "detected_fps": round(w.recognizer.cadence.detected / wall, 1),
        "frames_dropped": w.source.frames - w.analysed,
        "dropped_share": round(1 - w.analysed / max(1, w.source.frames), 3),
        "frame_age_ms_p95_first_half": age_ms(i, 0),
        "frame_age_ms_p95_second_half": age_ms(i, 1),
        "faces_judged": judged[i],
        "embedded_within_1s_share": round(within_feed[i] / judged[i], 3) if judged[i] else None,
        "embed_delay_s_p50": round(pct(delays_feed[i], 50), 3),
        "embed_delay_s_p95": round(pct(delays_feed[i], 95), 3),
    } for i, (number, w) in enumerate(zip(feed_numbers, workers, strict=True))]
    cpu_s = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {"per_feed": per_feed, "total": total, "within": within, "delays": delays, "latencies_ms": latencies_ms,
            "context_ms": context_ms,
            "batches": engine.batches, "faces": engine.faces, "cpu_s": cpu_s, "wall": wall}


def _delivered_at(delivered: list[tuple[int, float]], index: int) -> float:
    """When the source delivered frame ``index``: between the analysed frames around it, at 25 fps
    from the nearest one outside them."""
    indices = np.array([i for i, _ in delivered], dtype=np.float64)
    times = np.array([t for _, t in delivered], dtype=np.float64)
    if index <= indices[0]:
        return float(times[0] - (indices[0] - index) / 25.0)
    if index >= indices[-1]:
        return float(times[-1] + (index - indices[-1]) / 25.0)
    return float(np.interp(index, indices, times))


def _report(parts: list[dict], feeds: int, threads: int, processes: int) -> dict:
    per_feed = sorted((f for p in parts for f in p["per_feed"]), key=lambda f: f["feed"])
    total, within = sum(p["total"] for p in parts), sum(p["within"] for p in parts)
    delays = [d for p in parts for d in p["delays"]]
    latencies_ms = [v for p in parts for v in p["latencies_ms"]]
    context_ms = [v for p in parts for v in p["context_ms"]]
    batches, faces = sum(p["batches"] for p in parts), sum(p["faces"] for p in parts)
    wall, cpu_s = max(p["wall"] for p in parts), sum(p["cpu_s"] for p in parts)
    report = {
        "feeds": feeds,
        "processes": processes,
        "seconds": round(wall, 1),
        "threads_per_session": threads,
        "per_feed": per_feed,
        "faces_judged": total,
        "embedded_within_1s": within,
        "embedded_within_1s_share": round(within / total, 3) if total else None,
        "embed_delay_s_p50": round(pct(delays, 50), 3),
        "embed_delay_s_p95": round(pct(delays, 95), 3),
        "alerts": len(latencies_ms),
        "alert_latency_ms_p50": round(pct(latencies_ms, 50), 1),
        "alert_latency_ms_p95": round(pct(latencies_ms, 95), 1),
        "contexts": len(context_ms),
        "context_latency_ms_p50": round(pct(context_ms, 50), 1),
        "context_latency_ms_p95": round(pct(context_ms, 95), 1),
        "embed_batches": batches,
        "faces_per_batch": round(faces / max(1, batches), 2),
        "cpu_cores_used": round(cpu_s / wall, 2),
        "cpu_share_of_machine": round(cpu_s / wall / (os.cpu_count() or 1), 3),
    }
    for f in per_feed:
        print(f"feed {f['feed']}: {f['analysed_fps']:.1f} frames analysed/s of 25 delivered "
              f"({f['detected_fps']:.1f}/s through the detector); dropped {f['frames_dropped']} of "
              f"{f['frames_delivered']} ({f['dropped_share']:.0%}); frame age when analysed, p95: "
              f"{f['frame_age_ms_p95_first_half']:.0f} ms in the first half, "
              f"{f['frame_age_ms_p95_second_half']:.0f} ms in the second; embedded within 1 s of becoming "
              f"recognisable: {f['embedded_within_1s_share'] or 0:.0%} of {f['faces_judged']}, delay p50 "
              f"{f['embed_delay_s_p50']:.2f} s, p95 {f['embed_delay_s_p95']:.2f} s")
    print(f"recogniser runs: {batches}, {report['faces_per_batch']:.2f} faces each; feeds in {processes} process(es)")
    print(f"faces embedded within 1 s of first becoming recognisable: {within}/{total} "
          f"({report['embedded_within_1s_share'] or 0:.0%}); delay p50 {report['embed_delay_s_p50']:.2f} s, "
          f"p95 {report['embed_delay_s_p95']:.2f} s")
    print(f"alert latency, frame capture to alert stored in SQLite: p50 {report['alert_latency_ms_p50']:.0f} ms, "
          f"p95 {report['alert_latency_ms_p95']:.0f} ms ({len(latencies_ms)} alerts)")
    print(f"context frame (bystanders blurred) stored after its alert, from the frame's capture: p50 "
          f"{report['context_latency_ms_p50']:.0f} ms, p95 {report['context_latency_ms_p95']:.0f} ms "
          f"({len(context_ms)} frames)")
    print(f"CPU: {report['cpu_cores_used']:.2f} cores ({report['cpu_share_of_machine']:.0%} of the machine)")
    return {"pipeline": report}
