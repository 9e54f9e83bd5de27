"""Mutation check of the modules that carry the safeguards (issue 19), with mutmut 3.

Each module is mutated in a scratch copy of the checkout (never in the working tree) and every
mutant is run against a FAST selection of tests (the table below), on SQLite only: the modules'
logic is the same on both databases and a PostgreSQL test database costs most of a second to
set up. mutmut runs, per mutant, only the tests of the selection that call the mutated function.

    python main.py bench mutation [--module audit --module review ...] [--children 2] [--keep DIR]

Prints per module the mutants killed (a timeout counts as killed: the tests noticed), and every
survivor as file:line and the change. A survivor either gets a test (tests/unit/test_mutants_*.py)
or a note in docs/reliability.md, "Mutation check", saying why it changes nothing.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.mutation_access import ACCESS  # the table of modules and their tests, in parts
from benchmarks.mutation_record import RECORD
from benchmarks.mutation_targets import CORE, Target, merged

ROOT = Path(__file__).resolve().parent.parent


TARGETS: dict[str, Target] = merged(CORE, ACCESS, RECORD)

KILLED = {1, 3}  # pytest: tests failed / internal error
TIMEOUT = {24, -24, 152, 255, 36}
SURVIVED = 0
NO_TESTS = {5, 33}


def _module_of(path: str) -> str:
    return path[:-3].replace("/", ".")


def _scratch(target: Target, work: Path) -> None:
    """A copy of what the tests need, with mutmut's settings for this one module."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "console", work / "console", ignore=ignore)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=ignore)
    tests = [t for t in target.tests if (ROOT / t.split("::")[0]).exists()]
    # SQLite only, unless the module's rules live in PostgreSQL itself (policies, definer functions).
    keyword = " and ".join(([] if target.postgres else ["not postgres"]) + ([f"({target.keyword})"] if target.keyword
                                                                           else []))
    settings = {
        "source_paths": ["console"],
        "only_mutate": [target.path],
        "pytest_add_cli_args_test_selection": tests,
        "pytest_add_cli_args": ["-p", "no:cacheprovider"] + (["-k", keyword] if keyword else []),
        "use_git_change_detection": False,
    }
    pyproject = (ROOT / "pyproject.toml").read_text()
    pyproject += "\n[tool.mutmut]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items())
    (work / "pyproject.toml").write_text(pyproject)
    # Models, and the list of common passwords the password policy reads: linked, not copied.
    (work / "mutants").mkdir()
    (work / "mutants" / "resources").symlink_to(ROOT / "resources")


def _survivor_diffs(work: Path, names: list[str]) -> dict[str, str]:
    """mutmut's own diff of each survivor against the original function."""
    if not names:
        return {}
    script = ("import json, sys\nfrom mutmut.mutation.diff_apply import get_diff_for_mutant\n"
              "print(json.dumps({n: get_diff_for_mutant(n) for n in json.load(sys.stdin)}))")
    out = subprocess.run([sys.executable, "-c", script], cwd=work, input=json.dumps(names), capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)


def _functions(source: str) -> dict[str, int]:
    """qualified name (Class.method or function) -> first line (decorators included)."""
    found: dict[str, int] = {}
    tree = ast.parse(source)
    for node in tree.body:
        items = [(node, "")]
        if isinstance(node, ast.ClassDef):
            items = [(n, node.name + ".") for n in node.body]
        for fn, prefix in items:
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                found[prefix + fn.name] = min([fn.lineno] + [d.lineno for d in fn.decorator_list])
    return found


def _qualname(mutant: str) -> str:
    name = mutant.partition("__mutmut_")[0].rpartition(".")[2]
    if "ǁ" in name:
        _, cls, method = name.split("ǁ")
        return f"{cls}.{method}"
    return name.removeprefix("x_")


def _locate(diff: str, start: int, lines: list[str]) -> tuple[int, str]:
    """The changed line in the original file, and the change as '- old => + new'."""
    hunk = re.search(r"^@@ -(\d+)", diff, re.M)
    offset = int(hunk.group(1)) if hunk else 1
    removed, added, pos = [], [], offset
    after = False
    for line in diff.splitlines():
        if line.startswith("@@"):
            after = True
            continue
        if not after or line.startswith(("---", "+++")):
            continue
        if line.startswith("-"):
            removed.append(line[1:].strip())
        elif line.startswith("+"):
            added.append(line[1:].strip())
        elif not removed:
            pos += 1
    line_no = start + pos - 1
    if removed and not (0 < line_no <= len(lines) and lines[line_no - 1].strip() == removed[0]):
        hits = [i + 1 for i, text in enumerate(lines) if text.strip() == removed[0] and i + 1 >= start]
        line_no = hits[0] if hits else line_no
    return line_no, f"{' / '.join(removed)}  =>  {' / '.join(added) or '(removed)'}"


EXPLAINED = ROOT / "benchmarks" / "mutation_explained.txt"


def _key(module: str, function: str, change: str) -> str:
    old, _, new = change.partition("=>")
    return f"{module}:{function}: {' '.join(old.split())} => {' '.join(new.split())}"


def explained() -> set[str]:
    """The survivors explained as equivalent in docs/reliability.md, as "module:function: old => new"
    lines: matched on the change itself, not on mutmut's number for it (which shifts with the code)."""
    if not EXPLAINED.exists():
        return set()
    found = set()
    for line in EXPLAINED.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            head, _, change = line.strip().partition(": ")
            module, _, function = head.partition(":")
            found.add(_key(module, function, change))
    return found


def check_module(name: str, target: Target, children: int, keep: Path | None,
                 names: list[str] | None = None) -> dict:
    """Mutate one module (every mutant, or only ``names``: mutmut's full mutant names)."""
    work = Path(tempfile.mkdtemp(prefix=f"orc-mutation-{name}-", dir=keep))
    started = time.perf_counter()
    try:
        _scratch(target, work)
        patterns = list(names) if names else [f"{_module_of(target.path)}.{p}" for p in target.only]
        # One thread per BLAS/OpenMP/onnxruntime pool: mutmut forks a child per mutant from a
        # process that has run the tests, and a thread pool does not survive a fork (FAISS hung).
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"}
        if not target.postgres:
            env.pop("ORC_TEST_PG_URL", None)
        elif not env.get("ORC_TEST_PG_URL"):
            return {"module": target.path, "error": "needs ORC_TEST_PG_URL (bash .ci/start_postgres.sh prints one)"}
        with open(work / "mutmut.log", "w") as log:
            rc = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(children), *patterns],
                                cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
        meta_path = work / "mutants" / (target.path + ".meta")
        if not meta_path.exists():
            tail = (work / "mutmut.log").read_text(errors="replace")[-2000:]
            return {"module": target.path, "error": f"mutmut exited {rc} without results: {tail}"}
        codes: dict[str, int | None] = json.loads(meta_path.read_text())["exit_code_by_key"]
        if patterns:
            import fnmatch

            codes = {k: v for k, v in codes.items() if any(fnmatch.fnmatch(k, p) for p in patterns)}
        killed = sum(1 for v in codes.values() if v in KILLED)
        timeouts = sum(1 for v in codes.values() if v in TIMEOUT)
        left = sorted((k for k, v in codes.items() if v not in KILLED and v not in TIMEOUT),
                      key=lambda k: (k.partition("__mutmut_")[0], int(k.rpartition("_")[2])))
        diffs = _survivor_diffs(work, left)
        source = (ROOT / target.path).read_text()
        starts, lines = _functions(source), source.splitlines()
        survivors, known = [], explained()
        for k in left:
            line_no, change = _locate(diffs.get(k, ""), starts.get(_qualname(k), 1), lines)
            v = codes[k]
            status = ("survived" if v == SURVIVED else "no tests" if v in NO_TESTS
                      else "not run" if v is None else f"exit {v}")
            old, _, new = change.partition("  =>  ")
            if status == "survived" and old != new and old.lower() == new.lower():
                # SQL keywords, unquoted identifiers and sqlite3.Row keys ignore case: equivalent on
                # SQLite. The PostgreSQL runs of the suite catch a changed row key.
                status = "case only"
            elif status == "survived" and _key(name, _qualname(k), change) in known:
                status = "explained"  # an equivalent mutant, its reason in docs/reliability.md
            survivors.append({"mutant": k.rpartition(".")[2], "at": f"{target.path}:{line_no}", "status": status,
                              "change": change})
        total = len(codes)
        case_only = sum(1 for x in survivors if x["status"] == "case only")
        return {"module": target.path, "mutants": total, "killed": killed + timeouts, "timeouts": timeouts,
                "explained": sum(1 for x in survivors if x["status"] == "explained"),
                "share": round((killed + timeouts) / total, 3) if total else None, "case_only": case_only,
                "share_without_case_only": round((killed + timeouts) / (total - case_only), 3) if total > case_only
                else None,
                "survivors": survivors, "wall_s": round(time.perf_counter() - started, 1)}
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)


def bench_mutation(modules: list[str] | None, children: int = 2, keep: Path | None = None) -> dict:
    from benchmarks.mutation_sql import SQL_TARGETS, check_sql  # the SQL of the PostgreSQL rules

    names = modules or [*TARGETS, *SQL_TARGETS]
    unknown = [m for m in names if m not in TARGETS and m not in SQL_TARGETS]
    if unknown:
        raise SystemExit(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join([*TARGETS, *SQL_TARGETS])}")
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = []
    for name in names:
        r = (check_sql(name, SQL_TARGETS[name], children, keep, known=explained()) if name in SQL_TARGETS
             else check_module(name, TARGETS[name], children, keep))
        results.append(r)
        if "error" in r:
            print(f"{name:<11} ERROR {r['error']}", flush=True)
            continue
        print(f"{name:<11} {r['killed']}/{r['mutants']} killed ({100 * (r['share'] or 0):.1f}%, "
              f"{r['timeouts']} by timeout; {100 * (r['share_without_case_only'] or 0):.1f}% of the "
              f"{r['mutants'] - r['case_only']} that are not case-only; {r['explained']} explained) in {r['wall_s']:.0f} s",
              flush=True)
        for s in r["survivors"]:
            print(f"    {s['at']}  [{s['status']}] {s['mutant']}: {s['change']}", flush=True)
    total = sum(r.get("mutants", 0) for r in results)
    killed = sum(r.get("killed", 0) for r in results)
    case_only = sum(r.get("case_only", 0) for r in results)
    overall = round(killed / total, 3) if total else None
    print(f"overall     {killed}/{total} killed ({100 * (overall or 0):.1f}%; {case_only} case-only survivors, "
          f"{100 * killed / max(1, total - case_only):.1f}% without them)", flush=True)
    return {"modules": [{k: v for k, v in r.items() if k != "survivors"} | {"survivors": len(r.get("survivors", []))}
                        for r in results],
            "mutants": total, "killed": killed, "share": overall, "case_only": case_only, "goal": 0.85,
            "passed": overall is not None and overall >= 0.85 and not any("error" in r for r in results),
            "wall_s": round(time.perf_counter() - started, 1)}
