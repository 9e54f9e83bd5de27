"""Headless commands. Each takes --data-dir, has --help, exits 0 on success and answers
bad input with one clear line on stderr and a non-zero status."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

from console.errors import ConsoleError, MediaError

EXIT_ERROR = 2
EXIT_FAILED = 1


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where the database and biometric data live (default: the per-user data directory)")
    parser.add_argument("--providers", default="cpu",
                        help="onnxruntime execution providers, comma separated (cpu, cuda); default cpu")
    parser.add_argument("--model-pack", default=None,
                        help="an InsightFace model pack folder to use instead of the bundled models")
    parser.add_argument("--db", default=None,
                        help="postgresql://... for a store shared by several seats (default: SQLite in the data directory)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="Operator review console for live facial "
                                     "recognition. With no command, opens the console window.")
    add_common(parser)
    parser.add_argument("--cameras", type=int, default=1, help="demo cameras to open in the console (1-9)")
    parser.add_argument("--deployment", type=int, default=None, dest="open_deployment",
                        help="open this deployment of the store instead of the demo")
    parser.add_argument("--review-only", action="store_true",
                        help="a review seat: no local recognition (workers elsewhere write the alerts)")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("selftest", help="load the models, run the pipeline on the demo feed, decide the demo "
                       "alerts through the services, verify the audit chain")
    add_common(p)
    p.add_argument("--seconds", type=float, default=24.0, help="seconds of demo video to analyse (default 24)")

    p = sub.add_parser("eval-pairs", help="verification accuracy on a labelled pairs CSV (file_x, file_y, Decision)")
    add_common(p)
    p.add_argument("csv", type=Path)
    p.add_argument("image_dir", type=Path)
    p.add_argument("--threshold", type=float, default=None, help="default: the model pack's own threshold")

    p = sub.add_parser("scan", help="run the live pipeline over a video file against a watchlist folder; "
                       "one JSON line per alert, a JSON summary last")
    add_common(p)
    p.add_argument("video", type=Path)
    p.add_argument("--watchlist", type=Path, required=True,
                   help="folder of photos: subject = file stem, or sub-folder name for several photos of one subject")
    p.add_argument("--threshold", type=float, default=None, help="default: the model pack's own threshold")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--every", type=int, default=1, help="analyse every Nth frame (default 1: all)")

    p = sub.add_parser("bench", help="benchmarks that print their figures and how to reproduce them")
    bench = p.add_subparsers(dest="bench", required=True)
    b = bench.add_parser("pipeline", help="N feeds at once from 720p video files paced at 25 fps")
    add_common(b)
    b.add_argument("--feeds", type=int, default=4)
    b.add_argument("--seconds", type=float, default=60.0)
    b.add_argument("--threads", type=int, default=1, help="onnxruntime threads per model session")
    b = bench.add_parser("control-room", help="workers writing and operators deciding alerts on one store at once")
    add_common(b)
    b.add_argument("--alerts", type=int, default=10000)
    b.add_argument("--workers", type=int, default=2)
    b.add_argument("--feeds", type=int, default=4)
    b.add_argument("--operators", type=int, default=4)
    b = bench.add_parser("log", help="decision-log queries over a large history")
    add_common(b)
    b.add_argument("--alerts", type=int, default=100000)
    b = bench.add_parser("ui", help="GUI event-loop latency of the real window with live feeds")
    add_common(b)
    b.add_argument("--feeds", type=int, default=4)
    b.add_argument("--seconds", type=float, default=30.0)
    b = bench.add_parser("fuzz", help="the hostile-input fuzzing at N times the suite's case count (a source checkout"
                                      " with the dev extras)")
    b.add_argument("--scale", type=int, default=20)
    b = bench.add_parser("gallery", help="watchlist search time against gallery size")
    add_common(b)
    b.add_argument("--sizes", default="1000,10000,100000,1000000")
    b.add_argument("--probes", type=int, default=10)
    b.add_argument("--ann", action="store_true", help="also time the FAISS index at the largest size")

    p = sub.add_parser("audit", help="the hash-chained audit log")
    add_common(p)
    p.add_argument("action", choices=["verify", "show"], help="verify the chain, or show the latest entries")
    p.add_argument("--last", type=int, default=30, help="entries to show (audit show)")
    p.add_argument("--action-filter", default="", help="only entries whose action starts with this, e.g. decision")

    p = sub.add_parser("worker", help="a headless recognition worker for a deployment's cameras, writing alerts "
                       "to the shared store")
    add_common(p)
    p.add_argument("--deployment", type=int, required=True)
    p.add_argument("--cameras", default="", help="camera ids, comma separated (default: all of the deployment's)")
    p.add_argument("--seconds", type=float, default=None, help="stop after this long (default: the window's end)")

    p = sub.add_parser("report", help="the deployment record (PDF, CSV or JSON by the file's extension)")
    add_common(p)
    p.add_argument("deployment", nargs="?", type=int, help="deployment id (or --last)")
    p.add_argument("--last", action="store_true", help="the most recent deployment")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--what-if", type=float, default=None, help="also print what this threshold would have done")

    p = sub.add_parser("users", help="user accounts: create the first administrator")
    add_common(p)
    p.add_argument("action", choices=["bootstrap", "list"])
    p.add_argument("--username", default="admin")
    p.add_argument("--display-name", default="Administrator")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    p = sub.add_parser("purge", help="run the retention purges that are due now (also run at every start)")
    add_common(p)

    p = sub.add_parser("models", help="the bundled models")
    add_common(p)
    p.add_argument("action", choices=["verify"])
    p.add_argument("--models-dir", type=Path, default=None,
                   help="check this copy of the model folder (default: the bundled models)")

    p = sub.add_parser("screenshot", help="render the main views with demo data offscreen to PNG files")
    add_common(p)
    p.add_argument("out_dir", type=Path)
    p.add_argument("--cameras", type=int, default=1, help="demo cameras to show (1-9)")
    return parser


def _providers(args) -> list[str]:
    return [p.strip() for p in args.providers.split(",") if p.strip()]


def _engine(args):
    from console.vision.engine import load_engine

    return load_engine(args.model_pack, _providers(args))


def _store(args):
    from console.store import open_location

    return open_location(getattr(args, "db", None) or args.data_dir)


# -- eval-pairs ----------------------------------------------------------------------
def cmd_eval_pairs(args) -> int:
    from console.media import read_image
    from console.vision.engine import describe_faces, largest_face

    if not args.csv.is_file():
        raise MediaError(f"pairs file {args.csv} does not exist")
    if not args.image_dir.is_dir():
        raise MediaError(f"image folder {args.image_dir} does not exist")
    with args.csv.open(newline="") as fh:
        reader = csv.DictReader(fh)
        cols = {c.lower(): c for c in (reader.fieldnames or [])}
        need = ["file_x", "file_y", "decision"]
        if any(n not in cols for n in need):
            raise MediaError(f"{args.csv} needs the columns file_x, file_y, Decision; it has {reader.fieldnames}")
        pairs = [(r[cols["file_x"]], r[cols["file_y"]], r[cols["decision"]].strip().lower() in ("yes", "1", "true"))
                 for r in reader]
    if not pairs:
        raise MediaError(f"{args.csv} holds no pairs")
    engine = _engine(args)
    threshold = engine.default_threshold if args.threshold is None else args.threshold
    embeddings: dict[str, np.ndarray | None] = {}
    started = time.perf_counter()
    for name in sorted({n for a, b, _ in pairs for n in (a, b)}):
        path = args.image_dir / name
        image = read_image(path)
        face = largest_face(describe_faces(engine, image))
        embeddings[name] = None if face is None else face.embedding
        if face is None:
            print(f"no face found in {name}: its pairs count as 'different'")
    scores = np.array([
        float(embeddings[a] @ embeddings[b]) if embeddings[a] is not None and embeddings[b] is not None else -1.0
        for a, b, _ in pairs
    ])
    labels = np.array([same for _, _, same in pairs])
    acc = float(((scores >= threshold) == labels).mean())
    best_acc, best_t = max((float(((scores >= t) == labels).mean()), float(t)) for t in np.unique(scores))
    same, diff = scores[labels], scores[~labels]
    print(f"model={engine.model_id} images={len(embeddings)} seconds={time.perf_counter() - started:.1f}")
    print(f"same-person pairs={len(same)} mean score={same.mean():.3f}; different-person pairs={len(diff)} "
          f"mean score={diff.mean():.3f}")
    print(f"true matches={int((same >= threshold).sum())}/{len(same)} false matches={int((diff >= threshold).sum())}/"
          f"{len(diff)} at threshold {threshold:.3f}")
    print(f"for reference only (not used): best accuracy {best_acc:.3f} at threshold {best_t:.3f}")
    print(f"accuracy={acc:.4f} threshold={threshold:.3f} pairs={len(pairs)}")
    return 0


# -- scan ----------------------------------------------------------------------------
def cmd_scan(args) -> int:
    from console.feeds.capture import probe_video
    from console.pipeline.recognizer import RecognizerSettings
    from console.services.scan import load_watchlist_folder, scan_video

    if args.every < 1 or args.top_k < 1:
        raise MediaError("--every and --top-k must be at least 1")
    probe_video(args.video)  # a broken video is refused before the models load
    engine = _engine(args)
    watchlist = load_watchlist_folder(engine, args.watchlist)
    settings = RecognizerSettings(threshold=engine.default_threshold if args.threshold is None else args.threshold,
                                  top_k=args.top_k)
    summary = scan_video(engine, args.video, watchlist, settings,
                         lambda alert: print(json.dumps(alert), flush=True), every=args.every)
    summary["watchlist_subjects"] = len(watchlist.names)
    summary["watchlist_images"] = watchlist.images
    print(json.dumps(summary))
    return 0


# -- audit / models --------------------------------------------------------------------
def cmd_audit(args) -> int:
    from console.store.audit import verify_chain, verify_records

    if args.action == "show":
        with _store(args) as store:
            rows = store.query(
                "SELECT seq, at, actor, action, subject_type, subject_id, details_json FROM audit_log"
                " WHERE action LIKE ? ORDER BY seq DESC LIMIT ?", (args.action_filter + "%", args.last))
        for r in reversed(rows):
            details = json.loads(r["details_json"])
            shown = {k: v for k, v in details.items() if not k.endswith("sha256")}
            print(f"{r['seq']:>6}  {r['at']}  {r['actor']:<16} {r['action']:<22} {r['subject_type']} {r['subject_id']}"
                  f"  {json.dumps(shown, sort_keys=True)}")
        return 0
    with _store(args) as store:
        report = verify_chain(store)
        problems = verify_records(store)
    print(report.summary())
    for problem in problems:
        print(f"record check FAILED: {problem}")
    if not problems:
        print("decisions, engagements and alerts match their audit entries")
    return 0 if report.ok and not problems else EXIT_FAILED


def cmd_users(args) -> int:
    import getpass

    from console.services import auth

    with _store(args) as store:
        if args.action == "list":
            for r in store.query("SELECT username, display_name, role, active, is_demo FROM users ORDER BY username"):
                print(f"{r['username']:<20} {r['role']:<18} {'active' if r['active'] else 'inactive':<9}"
                      f"{' demo' if r['is_demo'] else ''}  {r['display_name']}")
            return 0
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password for the first administrator: ")
            if getpass.getpass("Again: ") != password:
                raise ConsoleError("the two passwords differ")
        actor = auth.bootstrap_administrator(store, args.username, args.display_name, password)
    print(f"administrator {actor.username} created; sign in with it to create the other accounts")
    return 0


def cmd_worker(args) -> int:
    from console.services.worker import run_worker

    try:
        cameras = [int(c) for c in args.cameras.split(",") if c.strip()]
    except ValueError as exc:
        raise ConsoleError(f"--cameras takes ids like 1,2: {exc}") from exc
    with _store(args) as store:
        summary = run_worker(store, args.deployment, cameras or None, args.seconds, _providers(args),
                             args.model_pack)
    print(json.dumps(summary))
    return 0


def cmd_report(args) -> int:
    from console.services import reports
    from console.services.auth import Actor

    with _store(args) as store:
        if args.last:
            row = store.one("SELECT id FROM deployments ORDER BY id DESC LIMIT 1")
            if row is None:
                raise ConsoleError("there is no deployment yet")
            dep_id = int(row["id"])
        elif args.deployment is None:
            raise ConsoleError("name a deployment id, or use --last")
        else:
            dep_id = args.deployment
        # The command line acts as the local auditor account: the export is logged under it.
        auditor = Actor(0, "cli-auditor", "auditor")
        record = reports.deployment_record(store, dep_id)
        out = reports.export_record(store, auditor, dep_id, args.out)
        print(f"wrote {out}: {record['alerts']} alerts ({record['true_alerts']} true, {record['false_alerts']} false),"
              f" {record['faces_analysed']} faces analysed")
        if args.what_if is not None:
            print(json.dumps(reports.threshold_what_if(store, dep_id, args.what_if)))
    return 0


def cmd_purge(args) -> int:
    from console.services import retention

    with _store(args) as store:
        report = retention.run_purges(store, actor="cli")
    print(report.summary())
    return 0


def cmd_models(args) -> int:
    from console.vision.bundled import verify_bundled

    files = verify_bundled(args.models_dir)
    which = "bundled models" if args.models_dir is None else f"models in {args.models_dir}"
    print(f"{which} verified: {files.detector.name}, {files.recogniser.name} ({files.model_id})")
    return 0


# -- selftest --------------------------------------------------------------------------
def cmd_selftest(args) -> int:
    from console.feeds.demo import FPS, DemoScene
    from console.pipeline.recognizer import CameraRecognizer
    from console.services import deployment as dep_service
    from console.services import deployments, review
    from console.services.adjudicate import adjudicate
    from console.services.auth import actor_for
    from console.services.demo import DEMO_OPERATOR, ensure_demo_deployment
    from console.store import repo
    from console.store.audit import verify_chain, verify_records

    t0 = time.perf_counter()
    engine = _engine(args)
    print(f"models: {engine.model_id} on {', '.join(engine.providers)} (threshold {engine.default_threshold})")
    store = _store(args)
    with store:
        print(f"database: {store.path} (schema version {store.schema_version}, WAL, synchronous=FULL)")
        dep_id = ensure_demo_deployment(store, engine)
        deployments.start(store, actor_for(store, DEMO_OPERATOR), dep_id)  # inside its authorised window only
        camera = repo.cameras(store, dep_id)[0]
        names = dep_service.subject_names(store, dep_id)
        gallery = dep_service.load_gallery(store, dep_id, engine.model_id)
        print(f"demo deployment {dep_id}: watchlist of {len(names)} subjects, {len(gallery)} enrolled images")
        recognizer = CameraRecognizer(
            engine, gallery, deployment_id=dep_id, camera_id=int(camera["id"]),
            settings=dep_service.recognizer_settings(store, dep_id),
            write_alert=lambda record: repo.insert_alert(store, record),
            subject_names=names,
        )
        scene = DemoScene(0)
        frames = int(args.seconds * FPS)
        base = time.time()
        alert_ids: list[int] = []
        analysed = 0
        t1 = time.perf_counter()
        for index in range(0, frames, 2):  # every 2nd frame: 12.5 analysed frames per demo second
            result = recognizer.process(scene.frame(index), base + index / FPS, index)
            alert_ids.extend(result.alert_ids)
            analysed += 1
        elapsed = time.perf_counter() - t1
        embedded, gated, best = recognizer.stats.take()
        repo.add_face_stats(store, dep_id, int(camera["id"]), embedded, gated, best)
        print(f"pipeline: {analysed} frames in {elapsed:.1f} s ({analysed / elapsed:.1f} fps), {embedded} faces "
              f"embedded, {gated} below the quality gate, {len(alert_ids)} alerts")
        operator = actor_for(store, DEMO_OPERATOR)
        confirmed = rejected = 0
        alerted_subjects = set()
        for alert in repo.pending_alerts(store, dep_id):
            # The scripted operator knows the demo's truth: only DEMO- records walk through it.
            truth = alert["record_number"].startswith("DEMO-") and alert["score"] >= 0.5
            review.open_alert(store, operator, int(alert["id"]))
            adjudicate(store, operator, int(alert["id"]), "true_alert" if truth else "false_alert",
                       "" if truth else "different_person", "scripted operator")
            confirmed, rejected = confirmed + truth, rejected + (not truth)
            if truth:
                alerted_subjects.add(alert["record_number"])
        print(f"scripted operator: {confirmed} confirmed, {rejected} rejected, "
              f"{len(repo.pending_alerts(store, dep_id))} left pending")
        biometric_rows = store.one("SELECT (SELECT COUNT(*) FROM entry_images) AS enrolled,"
                                   " (SELECT COUNT(*) FROM alerts) AS alerts")
        print(f"biometric data stored: {biometric_rows['enrolled']} enrolment images, {biometric_rows['alerts']} "
              "alert crops; nothing of faces that raised no alert")
        report = verify_chain(store)
        print(report.summary())
        record_problems = verify_records(store)
        print(f"records against the log: {'; '.join(record_problems) or 'all match'}")
    problems = list(record_problems)
    if len(alerted_subjects) < len(names):
        problems.append(f"only {len(alerted_subjects)} of {len(names)} demo subjects were confirmed")
    if not report.ok:
        problems.append("audit chain broken")
    print(f"selftest {'FAILED: ' + '; '.join(problems) if problems else 'passed'} in {time.perf_counter() - t0:.1f} s")
    return EXIT_FAILED if problems else 0


COMMANDS = {
    "selftest": cmd_selftest,
    "eval-pairs": cmd_eval_pairs,
    "scan": cmd_scan,
    "audit": cmd_audit,
    "models": cmd_models,
    "users": cmd_users,
    "purge": cmd_purge,
    "report": cmd_report,
    "worker": cmd_worker,
}


def run(args: argparse.Namespace) -> int:
    try:
        return COMMANDS[args.command](args)
    except ConsoleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        print("no command given (the console window opens from main.py)", file=sys.stderr)
        return EXIT_ERROR
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
