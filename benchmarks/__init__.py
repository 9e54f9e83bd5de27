"""Benchmarks: each prints its figures and the command that reproduces them.

They sit beside the product, above its layers (they drive console/ and ui/ as a user would),
so nothing in console/ or ui/ depends on them. Speed is measured here, never in tests; compare
before and after in the same run, since the machines are shared and noisy.

    python main.py bench pipeline|scan|recall|gallery|log|control-room|fuzz|ui|mutation|engage|rtsp|verify ...
"""

from __future__ import annotations

import json

from benchmarks.common import machine


def run(args) -> int:
    from benchmarks import control_room, fuzz, gallery, log, pipeline
    from console.paths import ensure_data_dir

    print(f"machine: {machine()}")
    if args.bench == "control-room" and args.cameras:
        from benchmarks.control_room_pool import bench_pool

        result = bench_pool(getattr(args, "db", None), args.cameras, args.workers, args.seconds)
        cmd = (f"python main.py bench control-room --cameras {args.cameras} --workers {args.workers} --seconds "
               f"{args.seconds:g}{' --db URL' if getattr(args, 'db', None) else ''}")
    elif args.bench == "control-room":
        result = control_room.bench_control_room(getattr(args, "db", None), args.alerts, args.workers, args.feeds,
                                                 args.operators, args.incident_window)
        cmd = (f"python main.py bench control-room --alerts {args.alerts} --workers {args.workers} --feeds {args.feeds}"
               f" --operators {args.operators} --incident-window {args.incident_window}"
               f"{' --db URL' if getattr(args, 'db', None) else ''}")
    elif args.bench == "log":
        result = log.bench_log(args.alerts)
        cmd = f"python main.py bench log --alerts {args.alerts}"
    elif args.bench == "engage":
        from benchmarks import engage

        if args.dispatches < 1:
            from console.errors import ConsoleError

            raise ConsoleError("--dispatches must be 1 or more")
        result = engage.bench_engage(args.dispatches)
        cmd = f"python main.py bench engage --dispatches {args.dispatches}"
    elif args.bench == "rtsp":
        from benchmarks import rtsp
        from console.errors import ConsoleError

        try:
            width, height = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            raise ConsoleError(f"--size {args.size!r} must be WIDTHxHEIGHT, such as 1280x720") from None
        if not (512 <= width <= 3840 and 64 <= height <= 2160) or args.seconds <= 0 or not 1 <= args.fps <= 60:
            raise ConsoleError("--size from 512x64 to 3840x2160 (the stamp needs 512 px), --seconds above 0, --fps 1 to 60")
        result = rtsp.bench_rtsp(args.seconds, (width, height), args.fps)
        cmd = f"python main.py bench rtsp --seconds {args.seconds:g} --size {width}x{height} --fps {args.fps:g}"
    elif args.bench == "verify":
        from benchmarks import verify
        from console.errors import ConsoleError

        try:
            counts = [int(c) for c in args.checkpoints.split(",") if c.strip()]
        except ValueError:
            raise ConsoleError(f"--checkpoints {args.checkpoints!r} must be numbers, such as 1,1000") from None
        if args.entries < 1 or not counts or min(counts) < 0 or max(counts) > args.entries:
            raise ConsoleError("--entries 1 or more; --checkpoints from 0 to --entries")
        result = verify.bench_verify(args.entries, counts, args.repeats, args.signoffs)
        cmd = (f"python main.py bench verify --entries {args.entries} --checkpoints {args.checkpoints}"
               f"{f' --signoffs {args.signoffs}' if args.signoffs else ''}")
    elif args.bench == "fuzz":
        result = fuzz.bench_fuzz(args.scale)
        cmd = f"python main.py bench fuzz --scale {args.scale}"
        if not result["passed"]:
            print(json.dumps(result))
            return 1
    elif args.bench == "recall":
        from benchmarks import recall

        if args.video:
            if args.watchlist is None:
                print("bench recall --video needs --watchlist FOLDER (the photos to search for)")
                return 2
            result = recall.bench_recall_on(args.video, args.watchlist, _providers(args), args.threads, args.model_pack)
        else:
            result = recall.bench_recall(ensure_data_dir(args.data_dir), _providers(args), args.threads,
                                         args.model_pack)
        cmd = (f"python main.py bench recall --threads {args.threads}"
               + "".join(f" --video {v}" for v in args.video or [])
               + (f" --watchlist {args.watchlist}" if args.video else ""))
        if not result["recall"]["passed"]:
            result["machine"] = machine()
            print(json.dumps(result))
            print(f"reproduce: {cmd}")
            return 1
    elif args.bench == "mutation":
        from benchmarks import mutation

        if args.sample:
            from benchmarks import mutation_sample

            result = mutation_sample.run_sample(args.sample, args.seed, args.children, args.keep, args.module)
            cmd = (f"python main.py bench mutation --sample {args.sample} --seed {result['seed']}"
                   + "".join(f" --module {m}" for m in args.module or []))
        else:
            result = mutation.bench_mutation(args.module, args.children, args.keep)
            cmd = "python main.py bench mutation" + "".join(f" --module {m}" for m in args.module or [])
        if not result["passed"]:
            result["machine"] = machine()
            print(json.dumps(result))
            print(f"reproduce: {cmd}")
            return 1
    elif args.bench == "gallery":
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        result = gallery.bench_gallery(sizes, args.probes)
        cmd = f"python main.py bench gallery --sizes {args.sizes} --probes {args.probes}"
    elif args.bench == "scan":
        from benchmarks import scan

        providers = [p.strip() for p in args.providers.split(",") if p.strip()]
        result = scan.bench_scan(ensure_data_dir(args.data_dir), args.seconds, args.threads, providers)
        cmd = f"python main.py bench scan --seconds {args.seconds:g} --threads {args.threads}"
    else:
        providers = [p.strip() for p in args.providers.split(",") if p.strip()]
        result = pipeline.bench_pipeline(ensure_data_dir(args.data_dir), args.feeds, args.seconds, args.threads, providers,
                                         args.processes)
        cmd = (f"python main.py bench pipeline --feeds {args.feeds} --seconds {args.seconds:g} "
               f"--threads {args.threads}{f' --processes {args.processes}' if args.processes > 1 else ''}")
    result["machine"] = machine()
    print(json.dumps(result))
    print(f"reproduce: {cmd}")
    return 0


def _providers(args) -> list[str]:
    return [p.strip() for p in args.providers.split(",") if p.strip()]
