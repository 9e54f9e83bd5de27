"""A random sample of mutants across the mutation targets, for CI (issue 32).

    python main.py bench mutation --sample 12 [--seed S]

The full check takes an hour; a sample of a dozen mutants takes a few minutes and still fails
when a test the sample needs has been weakened: every sampled mutant must be killed, or be an
explained equivalent (``benchmarks/mutation_explained.txt``, matched on the change text, or a
letter-case-only change). Targets that load the shipped models are left out (slow to start);
those that need PostgreSQL are in only when ORC_TEST_PG_URL is set.
"""

from __future__ import annotations

import fnmatch
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.mutation import ROOT, TARGETS, Target, check_module

_LIST = """
import json, sys
from pathlib import Path
from mutmut.mutation.file_mutation import mutate_file_contents
from mutmut.utils.format_utils import get_mutant_name
root, paths = Path(sys.argv[1]), json.load(sys.stdin)
out = {}
for path in paths:
    made = mutate_file_contents(path, (root / path).read_text())
    out[path] = [get_mutant_name(Path(path), n) for n in made.mutant_names]
print(json.dumps(out))
"""


def eligible() -> dict[str, Target]:
    """The targets a sample draws from: no models; PostgreSQL ones only with a server to hand; not the
    ones whose equivalents are not yet listed in mutation_explained.txt (``sampled=False``)."""
    pg = bool(os.environ.get("ORC_TEST_PG_URL"))
    return {name: t for name, t in TARGETS.items() if t.sampled and not t.needs_models and (pg or not t.postgres)}


def all_mutants(targets: dict[str, Target]) -> list[tuple[str, str]]:
    """(target name, mutmut's mutant name) for every mutant mutmut would make of the targets, in a
    fixed order. mutmut needs its settings to make them: a scratch folder holds them."""
    with tempfile.TemporaryDirectory(prefix="orc-mutation-list-") as tmp:
        Path(tmp, "pyproject.toml").write_text('[tool.mutmut]\nsource_paths = ["console"]\n')
        paths = sorted({t.path for t in targets.values()})
        out = subprocess.run([sys.executable, "-c", _LIST, str(ROOT)], cwd=tmp, input=json.dumps(paths),
                             capture_output=True, text=True, check=True)
    by_path = json.loads(out.stdout)
    found = []
    for name, t in sorted(targets.items()):
        prefix = t.path[:-3].replace("/", ".") + "."
        for mutant in by_path[t.path]:
            if not t.only or any(fnmatch.fnmatch(mutant, prefix + p) for p in t.only):
                found.append((name, mutant))
    return found


def run_sample(n: int, seed: int | None, children: int = 2, keep: Path | None = None,
               modules: list[str] | None = None) -> dict:
    """Run ``n`` mutants drawn at random (the seed is printed, to draw the same ones again), from
    every eligible module or from ``modules`` only."""
    seed = seed if seed is not None else random.SystemRandom().randrange(10**6)
    started = time.perf_counter()
    targets = {k: t for k, t in eligible().items() if not modules or k in modules}
    pool = all_mutants(targets)
    picked = random.Random(seed).sample(pool, min(n, len(pool)))
    by_target: dict[str, list[str]] = {}
    for name, mutant in picked:
        by_target.setdefault(name, []).append(mutant)
    print(f"seed {seed}: {len(picked)} of {len(pool)} mutants in {len(by_target)} of {len(targets)} modules",
          flush=True)
    failures, killed, equivalent = [], 0, 0
    for name, names in sorted(by_target.items()):
        r = check_module(name, targets[name], children, keep, names=names)
        if "error" in r:
            failures.append(f"{name}: {r['error']}")
            print(f"{name:<11} ERROR {r['error']}", flush=True)
            continue
        killed += r["killed"]
        for s in r["survivors"]:
            if s["status"] in ("case only", "explained"):
                equivalent += 1
            else:
                failures.append(f"{s['at']} [{s['status']}] {s['mutant']}: {s['change']}")
        print(f"{name:<11} {r['killed']}/{r['mutants']} killed in {r['wall_s']:.0f} s", flush=True)
    for f in failures:
        print(f"    NOT KILLED {f}", flush=True)
    return {"seed": seed, "sampled": len(picked), "killed": killed, "equivalent": equivalent,
            "failures": failures, "passed": not failures, "wall_s": round(time.perf_counter() - started, 1)}
