"""Benchmarks: each prints its figures and the command that reproduces them.

    python main.py bench pipeline --feeds 4 --seconds 60
    python main.py bench gallery --sizes 1000,10000,100000,1000000 [--ann]

Speed is measured here, never in tests. Compare before/after in the same run: the
machines are shared and noisy.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import threading
import time
from pathlib import Path

import numpy as np

from console.errors import ConsoleError


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def pct(values, q) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


# -- gallery ---------------------------------------------------------------------------
def bench_gallery(sizes: list[int], probes: int, ann: bool) -> dict:
    from console.pipeline.gallery import ApproximateGallery, Gallery

    rng = np.random.default_rng(7)
    rows = []
    largest = None
    for n in sizes:
        matrix = rng.standard_normal((n, 128), dtype=np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        gallery = Gallery(matrix, np.arange(n), np.arange(n) // 2)  # two images per subject
        targets = rng.choice(n, probes, replace=False)
        q = matrix[targets] + 0.05 * rng.standard_normal((probes, 128), dtype=np.float32)
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        gallery.search(q)
        times = []
        for _ in range(15):
            t = time.perf_counter()
            gallery.search(q)
            times.append(time.perf_counter() - t)
        rows.append({"size": n, "probes": probes, "ms_median": round(pct(times, 50) * 1000, 2),
                     "ms_p95": round(pct(times, 95) * 1000, 2), "index": "exact"})
        print(f"gallery {n:>9,} images, {probes} faces: exact search median {rows[-1]['ms_median']:.2f} ms "
              f"(p95 {rows[-1]['ms_p95']:.2f} ms)", flush=True)
        largest = (matrix, targets, q)
    if ann and largest is not None:
        matrix, targets, q = largest
        n = len(matrix)
        t = time.perf_counter()
        index = ApproximateGallery(matrix, np.arange(n), np.arange(n))
        build = time.perf_counter() - t
        index.search(q)
        times = []
        for _ in range(15):
            t = time.perf_counter()
            found = index.search(q)
            times.append(time.perf_counter() - t)
        recall = float(np.mean([bool(f) and f[0].entry_id == tgt for f, tgt in zip(found, targets, strict=True)]))
        rows.append({"size": n, "probes": probes, "ms_median": round(pct(times, 50) * 1000, 2),
                     "ms_p95": round(pct(times, 95) * 1000, 2), "index": "faiss-ivf", "build_s": round(build, 1),
                     "recall_at_1": recall})
        print(f"gallery {n:>9,} images: FAISS IVF index built in {build:.1f} s, search median "
              f"{rows[-1]['ms_median']:.2f} ms, recall@1 on planted matches {recall:.2f} "
              "(random embeddings: the index's worst case)", flush=True)
    return {"gallery": rows}


# -- pipeline ----------------------------------------------------------------------------
def _bench_videos(cache: Path, feeds: int) -> list[Path]:
    from console.feeds.demo import PERIOD_S, write_demo_video

    cache.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(feeds):
        path = cache / f"demo-720p-cam{i}.mp4"
        if not path.exists():
            write_demo_video(path, i, PERIOD_S)
        paths.append(path)
    return paths


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
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    for number, _, (x1, y1, x2, y2) in scene.head_boxes(index):
        if x1 <= cx <= x2 and y1 <= cy <= y2:
            return number
    return None


def bench_pipeline(data_dir: Path, feeds: int, seconds: float, threads: int, providers) -> dict:
    from console.feeds.capture import FileSource
    from console.feeds.demo import DemoScene
    from console.pipeline.recognizer import CameraRecognizer
    from console.pipeline.worker import CameraWorker
    from console.services import deployment as dep_service
    from console.services.demo import ensure_demo_deployment
    from console.store import open_store, repo
    from console.vision.engine import BundledEngine

    engine = BundledEngine(providers, threads=threads)
    # Alerts go to a real SQLite database (WAL, synchronous=FULL) of a demo deployment.
    store = open_store(data_dir / "bench")
    dep_id = ensure_demo_deployment(store, engine, cameras=feeds)
    camera_ids = [int(c["id"]) for c in repo.cameras(store, dep_id)][:feeds]
    gallery = dep_service.load_gallery(store, dep_id, engine.model_id)
    settings = dep_service.recognizer_settings(store, dep_id)
    videos = _bench_videos(data_dir / "bench", feeds)
    print(f"ground truth: finding when each face first becomes recognisable in {feeds} videos ...", flush=True)
    frames_per_video = int(round(24.0 * 25))
    truth = [_appearances(engine, settings.gate, i, frames_per_video) for i in range(feeds)]
    scenes = [DemoScene(i) for i in range(feeds)]

    lock = threading.Lock()
    latencies_ms: list[float] = []
    first_embed: list[dict[tuple[int, int], float]] = [{} for _ in range(feeds)]
    frame0: list[float | None] = [None] * feeds

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
            return alert_id
        return write

    def make_on_result(i: int, recognizer):
        def on_result(result) -> None:
            now = time.time()
            if frame0[i] is None:
                frame0[i] = result.captured_at - result.frame_index / 25.0
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
    for i, path in enumerate(videos):
        recognizer = CameraRecognizer(engine, gallery, deployment_id=dep_id, camera_id=camera_ids[i],
                                      settings=settings, write_alert=make_writer())
        source = FileSource(path, loop=True, realtime=True)
        workers.append(CameraWorker(source, recognizer, on_result=make_on_result(i, recognizer)))
    cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
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
    cpu_s = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)

    within, delays = 0, []
    total = 0
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
                total += 1
                appeared = frame0[i] + global_index / 25.0
                done = first_embed[i].get((loop, owner))
                if done is not None:
                    delays.append(done - appeared)
                    within += (done - appeared) <= 1.0
    per_feed = [{
        "feed": i + 1,
        "frames_delivered": w.source.frames,
        "frames_analysed": w.analysed,
        "analysed_fps": round(w.analysed / wall, 1),
        "frames_dropped": w.source.frames - w.analysed,
        "dropped_share": round(1 - w.analysed / max(1, w.source.frames), 3),
    } for i, w in enumerate(workers)]
    report = {
        "feeds": feeds,
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
        "cpu_cores_used": round(cpu_s / wall, 2),
        "cpu_share_of_machine": round(cpu_s / wall / (os.cpu_count() or 1), 3),
    }
    for f in per_feed:
        print(f"feed {f['feed']}: {f['analysed_fps']:.1f} frames analysed/s of 25 delivered; "
              f"dropped {f['frames_dropped']} of {f['frames_delivered']} ({f['dropped_share']:.0%})")
    print(f"faces embedded within 1 s of first becoming recognisable: {within}/{total} "
          f"({report['embedded_within_1s_share'] or 0:.0%}); delay p50 {report['embed_delay_s_p50']:.2f} s, "
          f"p95 {report['embed_delay_s_p95']:.2f} s")
    print(f"alert latency, frame capture to alert stored in SQLite: p50 {report['alert_latency_ms_p50']:.0f} ms, "
          f"p95 {report['alert_latency_ms_p95']:.0f} ms ({len(latencies_ms)} alerts)")
    print(f"CPU: {report['cpu_cores_used']:.2f} cores ({report['cpu_share_of_machine']:.0%} of the machine)")
    return {"pipeline": report}


def bench_log(alerts: int) -> dict:
    """The decision log over a large history: count and page queries (run as background jobs in the UI)."""
    import tempfile

    from console.services import stats
    from console.store import open_store, repo

    with tempfile.TemporaryDirectory() as tmp, open_store(tmp) as s:
        sup = repo.create_user(s, "sup", "S", "supervisor")
        dep = repo.create_deployment(s, repo.DeploymentSpec("D", "P", "R", "2026-01-01T08:00:00Z",
                                                            "2026-01-01T18:00:00Z", 0.4, 0.363, "m"), sup, "sup")
        repo.activate_deployment(s, dep, "sup")
        cam = repo.add_camera(s, dep, "C", "demo:0", "sup")
        wl = repo.create_watchlist(s, dep, "W", "sup")
        e = repo.add_entry(s, wl, repo.EntrySpec("R", "N", "missing_person", "b", "r", "s", "2025-01-01",
                                                 "2099-01-01"), sup, "sup")
        with s.transaction() as c:
            c.executemany(
                "INSERT INTO alerts(deployment_id, camera_id, track_id, entry_id, score, threshold, model_id, bbox_json,"
                " quality_json, probe_jpeg, probe_sha256, context_jpeg, context_sha256, captured_at, stored_at, priority)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(dep, cam, i, e, 0.4 + (i % 60) / 100, 0.4, "m", "[]", "{}", b"p", "h", b"c", "h",
                  "2026-01-01T09:00:00Z", f"2026-01-01T{9 + i // 360000:02d}:{i // 6000 % 60:02d}:{i // 100 % 60:02d}."
                  f"{i % 100:06d}Z", 2) for i in range(alerts)])
        out = {}
        for name, f in (("all", stats.LogFilter(deployment_id=dep)),
                        ("score >= 0.9", stats.LogFilter(deployment_id=dep, score_min=0.9)),
                        ("text search", stats.LogFilter(deployment_id=dep, text="nothing like this"))):
            t0 = time.perf_counter()
            n = stats.log_count(s, f)
            t1 = time.perf_counter()
            stats.log_page(s, f, 0, 200)
            t2 = time.perf_counter()
            stats.log_page(s, f, n // 2, 200)
            t3 = time.perf_counter()
            out[name] = {"rows": n, "count_ms": round(1000 * (t1 - t0)), "first_page_ms": round(1000 * (t2 - t1)),
                         "middle_page_ms": round(1000 * (t3 - t2))}
            print(f"decision log of {alerts:,} alerts, filter {name}: {n:,} rows; count {out[name]['count_ms']} ms, "
                  f"first page of 200 {out[name]['first_page_ms']} ms, a page in the middle {out[name]['middle_page_ms']} ms")
        return {"log": out}


def bench_control_room(location: str | None, alerts: int, workers: int, feeds: int, operators: int) -> dict:
    """Several seats on one store: simulated workers write alerts while simulated operators claim
    and decide them, all at once. Nothing may be lost or decided twice; the chain must hold."""
    import random
    import tempfile

    from console.errors import ConsoleError
    from console.services import auth, review
    from console.store import audit, open_location, repo

    tmp = None
    if location is None:
        tmp = tempfile.TemporaryDirectory()
        location = tmp.name
    store = open_location(location)
    try:
        sup = repo.create_user(store, f"bench.sup.{time.time_ns()}", "S", "supervisor")
        ops = [repo.create_user(store, f"bench.op{i}.{time.time_ns()}", f"Op {i}", "operator") for i in range(operators)]
        dep = repo.create_deployment(store, repo.DeploymentSpec("Load test", "P", "R", "2026-01-01T00:00:00Z",
                                                                "2099-01-01T00:00:00Z", 0.4, 0.363, "m"), sup, "bench")
        repo.activate_deployment(store, dep, "bench")
        cams = [repo.add_camera(store, dep, f"Cam {i}", f"demo:{i}", "bench") for i in range(workers * feeds)]
        wl = repo.create_watchlist(store, dep, "WL", "bench")
        entries = []
        for i in range(20):
            e = repo.add_entry(store, wl, repo.EntrySpec(f"R-{i}", f"S{i}", "missing_person", "b", "r", "s",
                                                         "2025-01-01", "2099-01-01"), sup, "bench")
            entries.append((e, repo.add_entry_image(store, e, os.urandom(20000), np.ones(128, np.float32), "m", {},
                                                    "bench")))
        actors = [auth.Actor(uid, store.one("SELECT username FROM users WHERE id = ?", (uid,))["username"], "operator")
                  for uid in ops]
        per_worker = alerts // workers
        written, decided, conflicts = [], [], [0]
        lock = threading.Lock()
        done_writing = threading.Event()
        probe = os.urandom(15000)
        context = os.urandom(120000)

        def worker(w: int) -> None:
            s = store.reopen()
            rng = random.Random(w)
            try:
                for n in range(per_worker):
                    e, img = rng.choice(entries)
                    cam = cams[w * feeds + n % feeds]
                    a = repo.insert_alert(s, repo.AlertRecord(dep, cam, n, [(e, img, 0.5 + rng.random() / 2)], 0.4, "m",
                                                              [0, 0, 1, 1], {}, probe, context, audit.utcnow()))
                    with lock:
                        written.append(a)
            finally:
                s.close()

        def operator(actor) -> None:
            s = store.reopen()
            rng = random.Random(actor.user_id)
            try:
                while True:
                    rows = s.query("SELECT id FROM alerts WHERE deployment_id = ? AND status = 'pending' AND"
                                   " (claimed_by IS NULL OR claim_expires < ?) ORDER BY id LIMIT 8",
                                   (dep, audit.utcnow()))
                    if not rows:
                        if done_writing.is_set():
                            return
                        time.sleep(0.01)
                        continue
                    a = rng.choice(rows)["id"]
                    try:
                        review.open_alert(s, actor, a)
                        if rng.random() < 0.5:
                            review.confirm(s, actor, a)
                        else:
                            review.reject(s, actor, a, "look_alike")
                        with lock:
                            decided.append(a)
                    except ConsoleError:
                        with lock:
                            conflicts[0] += 1  # another seat had it: refused, as it must be
            finally:
                s.close()

        t0 = time.perf_counter()
        ws = [threading.Thread(target=worker, args=(w,)) for w in range(workers)]
        os_ = [threading.Thread(target=operator, args=(a,)) for a in actors]
        for t in ws + os_:
            t.start()
        for t in ws:
            t.join()
        t_written = time.perf_counter() - t0
        done_writing.set()
        for t in os_:
            t.join()
        elapsed = time.perf_counter() - t0
        stored = store.one("SELECT COUNT(*) AS n FROM alerts WHERE deployment_id = ?", (dep,))["n"]
        dec_rows = store.query("SELECT d.alert_id, COUNT(*) AS n FROM decisions d JOIN alerts a ON a.id = d.alert_id"
                               " WHERE a.deployment_id = ? GROUP BY d.alert_id", (dep,))
        pending = store.one("SELECT COUNT(*) AS n FROM alerts WHERE deployment_id = ? AND status = 'pending'",
                            (dep,))["n"]
        chain = audit.verify_chain(store)
        result = {
            "store": getattr(store, "dialect", "sqlite"),
            "alerts_written": len(written), "alerts_stored": stored, "alerts_lost": len(written) - stored,
            "decisions": len(dec_rows), "decided_twice": sum(1 for r in dec_rows if r["n"] > 1),
            "left_pending": pending, "refused_claims_or_decisions": conflicts[0],
            "audit_chain_ok": chain.ok, "audit_entries": chain.entries,
            "write_seconds": round(t_written, 1), "total_seconds": round(elapsed, 1),
            "alerts_per_s": round(len(written) / t_written, 1), "decisions_per_s": round(len(dec_rows) / elapsed, 1),
        }
        print(f"control room on {result['store']}: {workers} workers x {feeds} feeds wrote {len(written):,} alerts "
              f"({result['alerts_per_s']}/s) while {operators} operators decided {len(dec_rows):,} "
              f"({result['decisions_per_s']}/s); lost {result['alerts_lost']}, decided twice {result['decided_twice']}, "
              f"left pending {pending}, refused (taken by another seat) {conflicts[0]}, audit chain "
              f"{'intact' if chain.ok else 'BROKEN'} ({chain.entries:,} entries)")
        return {"control_room": result}
    finally:
        store.close()
        if tmp is not None:
            tmp.cleanup()


def bench_fuzz(scale: int) -> dict:
    """The hostile-input tests with ORC_FUZZ_SCALE=scale: every case must pass."""
    import os
    import re
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    target = root / "tests" / "reliability" / "test_hostile_input.py"
    if not target.is_file():
        raise ConsoleError("the fuzzing benchmark runs from a source checkout (its tests/ folder is not here)")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", str(target)],
                          cwd=root, capture_output=True, text=True,
                          env={**os.environ, "ORC_FUZZ_SCALE": str(scale), "QT_QPA_PLATFORM": "offscreen"})
    if "No module named pytest" in done.stderr:
        raise ConsoleError("the fuzzing benchmark needs the dev extras: python3 bootstrap.py test installs them")
    cases = re.search(r"hostile-input cases tried in this run: (\d+)", done.stdout)
    summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-2000:])
    return {"bench": "fuzz", "scale": scale, "cases": int(cases.group(1)) if cases else 0, "passed": done.returncode == 0,
            "pytest": summary, "seconds": round(time.perf_counter() - t0, 1)}


def run(args) -> int:
    from console.paths import ensure_data_dir

    print(f"machine: {machine()}")
    if args.bench == "control-room":
        result = bench_control_room(getattr(args, "db", None), args.alerts, args.workers, args.feeds, args.operators)
        cmd = (f"python main.py bench control-room --alerts {args.alerts} --workers {args.workers} --feeds {args.feeds}"
               f" --operators {args.operators}{' --db URL' if getattr(args, 'db', None) else ''}")
    elif args.bench == "log":
        result = bench_log(args.alerts)
        cmd = f"python main.py bench log --alerts {args.alerts}"
    elif args.bench == "fuzz":
        result = bench_fuzz(args.scale)
        cmd = f"python main.py bench fuzz --scale {args.scale}"
        if not result["passed"]:
            print(json.dumps(result))
            return 1
    elif args.bench == "gallery":
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        result = bench_gallery(sizes, args.probes, args.ann)
        cmd = f"python main.py bench gallery --sizes {args.sizes} --probes {args.probes}{' --ann' if args.ann else ''}"
    else:
        providers = [p.strip() for p in args.providers.split(",") if p.strip()]
        result = bench_pipeline(ensure_data_dir(args.data_dir), args.feeds, args.seconds, args.threads, providers)
        cmd = (f"python main.py bench pipeline --feeds {args.feeds} --seconds {args.seconds:g} "
               f"--threads {args.threads}")
    result["machine"] = machine()
    print(json.dumps(result))
    print(f"reproduce: {cmd}")
    return 0
