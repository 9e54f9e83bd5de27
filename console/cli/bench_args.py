"""The arguments of ``main.py bench ...``: the benchmarks themselves sit above console/ (benchmarks/),
and main.py registers them with the command line (console/cli/commands.py)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def add_parser(sub, add_common: Callable[[argparse.ArgumentParser], None],
               add_recognition: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("bench", help="benchmarks that print their figures and how to reproduce them")
    bench = p.add_subparsers(dest="bench", required=True)
    b = bench.add_parser("pipeline", help="N feeds at once from 720p video files paced at 25 fps")
    add_common(b)
    b.add_argument("--feeds", type=int, default=4)
    b.add_argument("--seconds", type=float, default=60.0)
    b.add_argument("--threads", type=int, default=1, help="onnxruntime threads per model session")
    b.add_argument("--processes", type=int, default=1, help="split the feeds over this many processes")
    b = bench.add_parser("scan", help="a generated 1080p crowd clip scanned frame by frame as fast as possible")
    add_common(b)
    b.add_argument("--seconds", type=float, default=24.0, help="length of the clip")
    b.add_argument("--threads", type=int, default=0, help="onnxruntime threads per model session (0: every core)")
    b = bench.add_parser("recall", help="the recogniser's schedule against the exhaustive pass (every frame detected,"
                                        " every face embedded): alerted tracks it finds and misses, embeddings saved")
    add_common(b)
    b.add_argument("--threads", type=int, default=0, help="onnxruntime threads per model session (0: every core)")
    b.add_argument("--video", action="append", type=Path, help="footage of your own instead of the bundled videos"
                                                                 " (repeatable; needs --watchlist)")
    b.add_argument("--watchlist", type=Path, help="with --video: a folder of watchlist photos, as `main.py scan` reads")
    b = bench.add_parser("control-room", help="workers writing and operators deciding alerts on one store at once")
    add_common(b)
    b.add_argument("--alerts", type=int, default=10000)
    b.add_argument("--workers", type=int, default=2)
    b.add_argument("--feeds", type=int, default=4)
    b.add_argument("--operators", type=int, default=4)
    b.add_argument("--incident-window", type=int, default=300, help="seconds; 0 decides every alert alone")
    b.add_argument("--cameras", type=int, default=0,
                   help="run a pool of real worker processes (--workers of them) on this many demo cameras instead: "
                        "frame rate per camera, alert latency and the failover time of a killed worker")
    b.add_argument("--seconds", type=float, default=30.0, help="with --cameras: how long to measure before the kill")
    b = bench.add_parser("log", help="decision-log queries over a large history")
    add_common(b)
    b.add_argument("--alerts", type=int, default=100000)
    b = bench.add_parser("verify", help="`audit verify` on a long log with few and with many signed checkpoints")
    b.add_argument("--entries", type=int, default=100000)
    b.add_argument("--checkpoints", default="1,1000", help="checkpoints in the log, one run each: 1,1000")
    b.add_argument("--repeats", type=int, default=3, help="runs of verify per log (the best is kept)")
    b.add_argument("--signoffs", type=int, default=0, help="signed report sign-offs in each log (each one also"
                                                             " signs the log's root)")
    b = bench.add_parser("ui", help="GUI event-loop latency of the real window with live feeds")
    add_common(b)
    b.add_argument("--feeds", default="4", help="feeds, or several runs one after another: 1,2,4,8")
    add_recognition(b)
    b.add_argument("--seconds", type=float, default=30.0)
    b = bench.add_parser("engage", help="confirm-to-handheld latency: the real HTTPS service and a headless chromium"
                                        " phone (a source checkout with the dev extras and the system's chromium)")
    b.add_argument("--dispatches", type=int, default=50)
    b = bench.add_parser("rtsp", help="latency from a real RTSP camera's frame (GStreamer's server on loopback) to the "
                                      "decoded frame and the painted tile (a source checkout with python3-gi)")
    b.add_argument("--seconds", type=float, default=20.0)
    b.add_argument("--size", default="1280x720", help="the camera's frame size, WIDTHxHEIGHT")
    b.add_argument("--fps", type=float, default=25.0)
    b = bench.add_parser("fuzz", help="the hostile-input fuzzing at N times the suite's case count (a source checkout"
                                      " with the dev extras)")
    b.add_argument("--scale", type=int, default=20)
    b = bench.add_parser("gallery", help="watchlist search time against gallery size")
    add_common(b)
    b.add_argument("--sizes", default="1000,10000,100000,1000000")
    b.add_argument("--probes", type=int, default=10)
    b = bench.add_parser("mutation", help="mutation check (mutmut) of the safeguard modules, each against its fast"
                                          " tests (a source checkout with the dev extras)")
    b.add_argument("--module", action="append", default=None,
                   help="a name from benchmarks/mutation_targets.py and its parts (repeat; default: all)")
    b.add_argument("--children", type=int, default=2, help="mutants tested at once")
    b.add_argument("--keep", type=Path, default=None, help="keep the scratch copies (mutmut's results) under this folder")
    b.add_argument("--sample", type=int, default=0,
                   help="run only this many mutants drawn at random across the modules (CI); fails on any not killed"
                        " that is not an explained equivalent")
    b.add_argument("--seed", type=int, default=None, help="the sample's seed (default: random; printed)")
