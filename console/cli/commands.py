"""Headless commands. Each takes --data-dir, has --help, exits 0 on success and answers
bad input with one clear line on stderr and a non-zero status."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from console.cli import known_answer
from console.cli.audit import add_parser as add_audit_parser
from console.cli.audit import cmd_audit
from console.cli.bench_args import add_parser as add_bench_parser
from console.cli.deploy import add_parser as add_deploy_parser
from console.cli.deploy import cmd_deploy
from console.cli.engage import add_parser as add_engage_parser
from console.cli.engage import cmd_engage
from console.cli.stores import open_store as _store
from console.cli.stores import providers as _providers
from console.cli.users import add_identity, cmd_users
from console.cli.users import add_parser as add_users_parser
from console.cli.users import signed_in as _signed_in
from console.cli.worker import add_parser as add_worker_parser
from console.cli.worker import cmd_worker
from console.errors import ConsoleError, MediaError
from console.redaction import redact
from console.services.accounts.permissions import Permission

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
                        help="postgresql://... for a store shared by several seats (default: SQLite in the data directory);"
                        " keep its password in ~/.pgpass or PGPASSWORD: a command line is visible to every local user")


def add_recognition(p: argparse.ArgumentParser) -> None:
    p.add_argument("--recognition", choices=("process", "threads"), default="process",
                   help="where the seat's cameras are analysed: its own lower-priority process (default), or threads "
                        "inside the window's process (the former design)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="Operator review console for live facial "
                                     "recognition. With no command, opens the console window.")
    add_common(parser)
    parser.add_argument("--cameras", type=int, default=1, help="demo cameras to open in the console (1-9)")
    parser.add_argument("--deployment", type=int, default=None, dest="open_deployment",
                        help="open this deployment of the store instead of the demo")
    parser.add_argument("--demo", action="store_true",
                        help="open the demo: generated video, demo watchlist and demo accounts, in a data directory "
                             "of its own (made on first use); without it the console opens a real store")
    parser.add_argument("--review-only", action="store_true",
                        help="a review seat: no local recognition (workers elsewhere write the alerts)")
    add_recognition(parser)
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("selftest", help="load the models, run the pipeline on the demo feed, decide the demo "
                       "alerts through the services, verify the audit chain")
    add_common(p)
    p.add_argument("--seconds", type=float, default=24.0, help="seconds of demo video to analyse (default 24)")
    p.add_argument("--witness", type=Path, action="append", default=[], help="leave a signed checkpoint here too")

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
    p.add_argument("--threshold", type=float, default=None,
                   help="default: the calibrated floor for the watchlist folder's size (lower is refused)")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--every", type=int, default=1, help="analyse every Nth frame (default 1: all)")

    add_bench_parser(sub, add_common, add_recognition)
    add_audit_parser(sub, add_common)

    add_worker_parser(sub, add_common)

    p = sub.add_parser("report", help="the deployment record (PDF, CSV or JSON by the file's extension)")
    add_common(p)
    p.add_argument("deployment", nargs="?", type=int, help="deployment id (or --last)")
    p.add_argument("--last", action="store_true", help="the most recent deployment")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--what-if", type=float, default=None, help="also print what this threshold would have done")
    add_identity(p)

    add_users_parser(sub, add_common)
    add_deploy_parser(sub, add_common)
    add_engage_parser(sub, add_common)
    known_answer.add_parser(sub, add_common)

    p = sub.add_parser("db", help="PostgreSQL: make a login role for seats and workers (run with the schema owner's "
                       "--db URL) that cannot alter, drop or rewrite the record")
    add_common(p)
    p.add_argument("action", choices=["grant-seat"])
    p.add_argument("role", help="the new login role's name")
    add_identity(p)

    p = sub.add_parser("purge", help="run the retention purges that are due now (also run at every start)")
    add_common(p)
    add_identity(p)

    p = sub.add_parser("models", help="the bundled models")
    add_common(p)
    p.add_argument("action", choices=["verify"])
    p.add_argument("--models-dir", type=Path, default=None,
                   help="check this copy of the model folder (default: the bundled models)")

    p = sub.add_parser("screenshot", help="render the main views offscreen to PNG files, on a throwaway demo of "
                       "its own (a temporary data directory, removed after; the user's data is never opened)")
    add_common(p)
    p.add_argument("out_dir", type=Path)
    p.add_argument("--cameras", type=int, default=1, help="demo cameras to show (1-9)")
    p.add_argument("--only-main", action="store_true",
                   help="render only the operator window (main_window.png): a quick check")
    add_recognition(p)

    p = sub.add_parser("eval-watchlist", help="TPIR and FPIR at the calibrated threshold for watchlists of N "
                       "entries, from genuine pairs and a gallery of distinct people (public test sets, --data)")
    add_common(p)
    p.add_argument("--data", type=Path, default=None,
                   help="the folder of the public test sets (README.md, 'Accuracy on public test sets'); required")
    p.add_argument("--sizes", default="100,500,2000", help="watchlist sizes, comma separated (default 100,500,2000)")
    p.add_argument("--target", type=float, default=None,
                   help="expected false alerts per face analysed (default 1e-5; never looser than 1e-4)")
    return parser


def _engine(args):
    from console.services.runtime import models

    return models.load(args.model_pack, _providers(args))


# -- eval-pairs ----------------------------------------------------------------------
def cmd_eval_pairs(args) -> int:
    from console.services.accuracy.evaluation import eval_pairs, read_pairs

    read_pairs(args.csv)  # a bad pairs file is refused before the models load
    eval_pairs(_engine(args), args.csv, args.image_dir, args.threshold)
    return 0


# -- scan ----------------------------------------------------------------------------
def cmd_scan(args) -> int:
    from console.services.runtime.scan import (
        MULTI_PHOTO_RULE,
        check_video,
        load_watchlist_folder,
        operating_point,
        scan_video,
        settings_for,
    )

    if args.every < 1 or args.top_k < 1:
        raise MediaError("--every and --top-k must be at least 1")
    check_video(args.video)  # a broken video is refused before the models load
    engine = _engine(args)
    watchlist = load_watchlist_folder(engine, args.watchlist)
    for reason in watchlist.skipped:
        print(f"skipped: {reason}", file=sys.stderr)
    for name in watchlist.without_photo:
        print(f"subject {name!r} has no usable photo: not searched", file=sys.stderr)
    threshold, floor, how = operating_point(engine, watchlist, args.threshold)
    summary = scan_video(engine, args.video, watchlist, settings_for(threshold, args.top_k),
                         lambda alert: print(json.dumps(alert), flush=True), every=args.every)
    summary["watchlist_subjects"] = len(watchlist.names)
    summary["watchlist_images"] = watchlist.images
    summary["watchlist_photos_skipped"] = len(watchlist.skipped)
    summary["subjects_without_usable_photo"] = watchlist.without_photo
    summary["several_photos"] = MULTI_PHOTO_RULE
    summary["threshold_floor"] = round(floor, 4)
    summary["floor_from"] = how
    print(json.dumps(summary))
    return 0


def cmd_report(args) -> int:
    from console.services.record import reports
    from console.services.setup import deployments

    with _store(args) as store:
        auditor = _signed_in(args, store)  # an auditor or a supervisor: the export is logged under them
        if args.last:
            dep_id = deployments.latest_id(store)
            if dep_id is None:
                raise ConsoleError("there is no deployment yet")
        elif args.deployment is None:
            raise ConsoleError("name a deployment id, or use --last")
        else:
            dep_id = args.deployment
        record = reports.deployment_record(store, auditor, dep_id)
        out = reports.export_record(store, auditor, dep_id, args.out, getattr(args, "pdf_renderer", None))
        print(f"wrote {out}: {record['incidents']} incidents ({record['true_incidents']} true, "
              f"{record['false_incidents']} false; {record['alerts']} alerts),"
              f" {record['faces_analysed']} faces analysed")
        if args.what_if is not None:
            print(json.dumps(reports.threshold_what_if(store, auditor, dep_id, args.what_if)))
    return 0


def cmd_db(args) -> int:
    import getpass

    from console.services.accounts import session

    with _store(args) as store:
        admin = _signed_in(args, store)
        password = (sys.stdin.readline().rstrip("\n") if args.password_stdin
                    else getpass.getpass(f"Password for the new role {args.role}: "))
        session.grant_seat(store, admin, args.role, password)
    print(f"role {args.role} made: seats and workers connect with it (postgresql://{args.role}:PASSWORD@host/db); "
          "it cannot alter, drop or rewrite the record")
    return 0


def cmd_purge(args) -> int:
    from console.services.record import retention

    with _store(args) as store:
        actor = _signed_in(args, store)
        actor.require(Permission.RUN_PURGE, store)
        report = retention.run_purges(store, actor_name=actor.username)
    print(report.summary())
    return 0


def cmd_models(args) -> int:
    from console.services.runtime import models

    print(models.verify(args.models_dir))
    return 0


# -- selftest --------------------------------------------------------------------------
def cmd_selftest(args) -> int:
    from console.services.runtime.selftest import run_selftest

    t0 = time.perf_counter()
    engine = _engine(args)
    print(f"models: {engine.model_id} on {', '.join(engine.providers)} (threshold {engine.default_threshold})")
    import tempfile

    # Its own demo store: a fresh temporary one unless a folder is named (which must be empty or the
    # demo's: a real store is refused, never filled with demo accounts).
    with tempfile.TemporaryDirectory(prefix="orc-selftest-") as tmp:
        if not args.data_dir and not getattr(args, "db", None):
            args.data_dir = Path(tmp)
        with _store(args) as store:
            problems = run_selftest(store, engine, args.seconds, witnesses=args.witness)
    print(f"selftest {'FAILED: ' + '; '.join(problems) if problems else 'passed'} in {time.perf_counter() - t0:.1f} s")
    return EXIT_FAILED if problems else 0


# -- eval-watchlist --------------------------------------------------------------------
def cmd_eval_watchlist(args) -> int:
    from console.services.accuracy.calibration import check_target
    from console.services.accuracy.watchlist_eval import evaluate_watchlist, public_sets_dir

    try:
        sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
    except ValueError:
        raise MediaError(f"--sizes {args.sizes!r} must be whole numbers separated by commas") from None
    if not sizes or min(sizes) < 1:
        raise MediaError(f"--sizes {args.sizes!r} must name at least one watchlist size of 1 or more")
    if args.target is not None:
        check_target(args.target)
    data = public_sets_dir(args.data)  # before the models load: no default folder, a clear error instead
    evaluate_watchlist(_engine(args), data, sizes, args.target)
    return 0


# Commands whose code sits above console/ - the window and its screenshots (ui/app.py), the benchmarks
# (benchmarks/) - and the PDF drawing (ui/record_pdf.py): console/ never imports them, so main.py hands
# them to run() by these names (``upper``). Each is a handler ``(args) -> int``, the PDF one ``(document) -> bytes``.
GUI, SCREENSHOT, BENCH, BENCH_UI, PDF = "gui", "screenshot", "bench", "bench ui", "pdf"
REGISTERED = "registered by main.py"

# The one dispatch table: every command, by the name _command() gives it.
COMMANDS: dict[str, Callable[[argparse.Namespace], int] | str] = {
    GUI: REGISTERED,  # no command: the console window
    SCREENSHOT: REGISTERED,
    BENCH: REGISTERED,
    BENCH_UI: REGISTERED,  # the window's own benchmark (benchmarks/ui.py)
    "selftest": cmd_selftest,
    "eval-pairs": cmd_eval_pairs,
    "scan": cmd_scan,
    "audit": cmd_audit,
    "models": cmd_models,
    "users": cmd_users,
    "purge": cmd_purge,
    "db": cmd_db,
    "report": cmd_report,
    "worker": cmd_worker,
    "eval-watchlist": cmd_eval_watchlist,
    "deploy": cmd_deploy,
    "engage": cmd_engage,
    "known-answer": known_answer.cmd_known_answer,
}


def _command(args: argparse.Namespace) -> str:
    if args.command is None:
        return GUI
    if args.command == BENCH and args.bench == "ui":
        return BENCH_UI
    return args.command


def handler(args: argparse.Namespace, upper: Mapping[str, Callable] | None = None) -> Callable[[argparse.Namespace], int]:
    """The command's handler, from the table (or, for one above console/, from ``upper``)."""
    name = _command(args)
    found = COMMANDS[name]
    if found is not REGISTERED:
        return found
    if not upper or name not in upper:
        what = "no command given: the console window" if name == GUI else f"the command {name!r}"
        raise ConsoleError(f"{what} runs from main.py, not from console/ alone (its code sits above the core)")
    return upper[name]


def run(args: argparse.Namespace, upper: Mapping[str, Callable] | None = None) -> int:
    """Run the parsed command; a ConsoleError is one line on stderr and exit status 2."""
    try:
        if args.command == "report" and str(args.out).lower().endswith(".pdf") and upper and PDF in upper:
            args.pdf_renderer = upper[PDF]  # the PDF is drawn with Qt (ui/record_pdf.py)
        return handler(args, upper)(args)
    except ConsoleError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def main(argv: list[str] | None = None, upper: Mapping[str, Callable] | None = None) -> int:
    """Parse ``argv`` and run it: what main.py calls, with the handlers of the layers above (``upper``)."""
    return run(build_parser().parse_args(argv), upper)


if __name__ == "__main__":
    sys.exit(main())
