"""Mutation check of the rules that live in PostgreSQL itself (issue 32): row-level security
policies, guard triggers and owner's-rights functions, written as SQL text in Python constants.

mutmut mutates Python inside functions and leaves module-level constants alone, so it never
touches the SQL of console/store/pg_authority.py and console/store/pg_doors.py. This module
mutates that SQL instead, one change at a time, in a scratch copy of the checkout, and runs the
attack tests against a fresh database migrated with the mutated text on a real server
(ORC_TEST_PG_URL). The changes are the ones a slip in a policy would make: AND for OR and back,
a condition negated or its NOT dropped, a comparison turned, NULL tests and DISTINCT tests
flipped, EXISTS negated, a role swapped for another, a limit moved by one, a policy's ``true``
made ``false``. The refusal messages (``why=``) and the docstring are not mutated.

    python main.py bench mutation --module pg_doors_sql [--module pg_authority_sql] [--children 2]

A mutant is killed when a test fails (or the database refuses the mutated migration, which
counts as killed and is reported apart: "broken"). A survivor is printed as file:line and the
change; it gets a test, or a line in benchmarks/mutation_explained.txt.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_SEAT_TESTS = ("tests/unit/test_security_pg_doors.py", "tests/unit/test_security_pg_seat.py",
               "tests/unit/test_security_pg_recognition.py", "tests/unit/test_security_pg_inserts.py",
               "tests/unit/test_mutants_pg_sql.py")


@dataclass(frozen=True)
class SqlTarget:
    path: str
    tests: tuple[str, ...] = _SEAT_TESTS
    # (from, to) markers of SQL that a later migration replaces in every database that runs the
    # console (mutating it changes nothing a seat meets): counted apart as "superseded"
    superseded: tuple[tuple[str, str], ...] = ()
    # constant -> a pytest -k expression naming the tests that exercise it: a first, short pass; a
    # mutant that survives it is run again against every test of the target before it counts
    focus: tuple[tuple[str, str], ...] = ()


_ALERT_RULES = "claims or alerts or works_the_console or roles_allow or recogni or incident or confirmation"
_LOCKOUT = "lock or guesses or counter or signs_people_in or superuser"
SQL_TARGETS: dict[str, SqlTarget] = {
    # Migration 27 replaces migration 26's policy on inserting alerts (console/store/pg_recognition.py).
    "pg_doors_sql": SqlTarget("console/store/pg_doors.py", superseded=(("_ALERT_INSERT = (", "_DECISION_INSERT = ("),),
                              focus=(("_LOCKOUT_FUNCTIONS", _LOCKOUT), ("_CALLER_IS_SEAT", _LOCKOUT),
                                     ("_DECISION_INSERT", "claims or limits_each or roles_allow or works_the_console"),
                                     ("_GUARD_ALERTS", _ALERT_RULES),
                                     ("_GUARD_LEASES", "lease"))),
    "pg_recognition_sql": SqlTarget("console/store/pg_recognition.py", focus=(
        ("ALERT_INSERT", "recogni or alerts_go_in"), ("V27_POSTGRES", "recogni or alerts_go_in"))),
    # Migration 26 replaces migration 16's guard on users (CREATE OR REPLACE FUNCTION orc_guard_users).
    "pg_authority_sql": SqlTarget("console/store/pg_authority.py",
                                  superseded=(('"CREATE FUNCTION orc_guard_users()', '"CREATE TRIGGER users_guarded'),
                                              # migration 26's decisions rule, and 22's orc_actor_role/_id
                                              ('("decisions", "user_id', '("engagements",'),
                                              ('f"CREATE FUNCTION orc_actor_role()', '# Whether this connection')),
                                  focus=(("INSERT_RULES", "right_role_inserts"), ("SETUP_RULES", "right_role_inserts"))),
}

_ROLES = ("operator", "supervisor", "administrator", "auditor", "worker", "engagement_officer")
# (pattern, replacement): a replacement is a string or a function of the match.
_OPERATORS: tuple[tuple[str, object], ...] = (
    (r"\bAND\b", "OR"),
    (r"\bOR\b(?! REPLACE| UPDATE)", "AND"),
    (r"\bIS NOT DISTINCT FROM\b", "IS DISTINCT FROM"),
    (r"\bIS DISTINCT FROM\b", "IS NOT DISTINCT FROM"),
    (r"\bIS NOT NULL\b", "IS NULL"),
    (r"\bIS NULL\b", "IS NOT NULL"),
    (r"(?<!IS )\bNOT (?!NULL\b|DISTINCT\b|EXISTS\b)", ""),
    (r"\bNOT EXISTS\b", "EXISTS"),
    (r"(?<!NOT )\bEXISTS \(", "NOT EXISTS ("),
    (r" <> ", " = "),
    (r" <= ", " < "),
    (r" >= ", " > "),
    (r" < ", " <= "),
    (r" > ", " >= "),
    (r"(?<!search_path)(?<=[\w)]) = (?=[\w('-])", " <> "),
    (r"\+ (\d+)\b", lambda m: f"+ {int(m.group(1)) + 1}"),
    (r"\(true\)", "(false)"),
    (r"'(" + "|".join(_ROLES) + r")'", lambda m: "'auditor'" if m.group(1) != "auditor" else "'operator'"),
)


@dataclass(frozen=True)
class Mutant:
    number: int
    line: int
    start: int  # offset of the change in the file
    end: int
    new: str
    old_line: str
    new_line: str


def _sql_spans(source: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the string literals that hold SQL: not the docstring, not a
    refusal's ``why=`` text."""
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    spans: list[tuple[int, int]] = []
    prev, in_why, first = "", False, True
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NEWLINE:
            first = False
        if tok.type in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
            continue
        if tok.type != tokenize.STRING:
            in_why = tok.string == "=" and prev == "why"
            prev = tok.string
            continue
        if not first and not in_why:
            spans.append((starts[tok.start[0] - 1] + tok.start[1], starts[tok.end[0] - 1] + tok.end[1]))
    return spans


def mutants(source: str) -> list[Mutant]:
    found: list[Mutant] = []
    for start, end in _sql_spans(source):
        text = source[start:end]
        for pattern, repl in _OPERATORS:
            for m in re.finditer(pattern, text):
                if "{" in text[:m.start()] and text[:m.start()].count("{") > text[:m.start()].count("}"):
                    continue  # inside an f-string's placeholder: Python, not SQL
                new = repl(m) if callable(repl) else m.expand(repl) if "\\" in str(repl) else repl
                a, b = start + m.start(), start + m.end()
                line = source.count("\n", 0, a) + 1
                line_start = source.rfind("\n", 0, a) + 1
                line_end = source.find("\n", b)
                changed = source[:a] + new + source[b:]
                found.append(Mutant(len(found) + 1, line, a, b, new, source[line_start:line_end].strip(),
                                    changed[line_start:line_end + len(new) - (b - a)].strip()))
    return found


def _run_tests(work: Path, tests: tuple[str, ...], env: dict, timeout: float, keyword: str = "") -> str:
    try:
        rc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests,
                             *(["-k", keyword] if keyword else [])],
                            cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    if rc.returncode == 0:
        return "survived"
    broken = "refused the mutated migration" if "syntax error" in rc.stdout or "SyntaxError" in rc.stdout else ""
    return "broken" if broken else "killed" if rc.returncode == 1 else f"exit {rc.returncode}"


def _copy(work: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "console", work / "console", ignore=ignore)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
    (work / "resources").symlink_to(ROOT / "resources")


def check_sql(name: str, target: SqlTarget, children: int = 2, keep: Path | None = None,
              numbers: list[int] | None = None, known: set[str] = frozenset()) -> dict:
    """Mutate the target's SQL; ``known``: the explained survivors (benchmarks/mutation.py explained())."""
    if not os.environ.get("ORC_TEST_PG_URL"):
        return {"module": target.path, "error": "needs ORC_TEST_PG_URL (bash .ci/start_postgres.sh prints one)"}
    started = time.perf_counter()
    source = (ROOT / target.path).read_text()
    every = mutants(source)
    spans = [(source.index(a), source.index(b)) for a, b in target.superseded]
    superseded = [m for m in every if any(a <= m.start < b for a, b in spans)]
    todo = [m for m in every if m not in superseded and (numbers is None or m.number in numbers)]
    tests = tuple(t for t in target.tests if (ROOT / t).exists())
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1"}
    base = Path(tempfile.mkdtemp(prefix=f"orc-mutation-{name}-", dir=keep))
    try:
        works = []
        for i in range(max(1, children)):
            work = base / f"w{i}"
            work.mkdir()
            _copy(work)
            works.append(work)
        clean = _run_tests(works[0], tests, env, 600)
        if clean != "survived":
            return {"module": target.path, "error": f"the tests fail without a mutant ({clean})"}
        free = list(works)

        def one(m: Mutant) -> tuple[Mutant, str]:
            work = free.pop()
            try:
                (work / target.path).write_text(source[:m.start] + m.new + source[m.end:])
                keyword = dict(target.focus).get(_constant_at(source, m.start), "")
                status = _run_tests(work, tests, env, 300, keyword) if keyword else "survived"
                if status in ("survived", "exit 5"):  # exit 5: the focus selected no test
                    status = _run_tests(work, tests, env, 300)
                return m, status
            finally:
                (work / target.path).write_text(source)
                free.append(work)

        with ThreadPoolExecutor(max_workers=len(works)) as pool:
            results = list(pool.map(one, todo))
    finally:
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)
    survivors = []
    for m, status in results:
        if status == "survived":
            change = f"{m.old_line}  =>  {m.new_line}"
            function = _constant_at(source, m.start)
            key = f"{name}:{function}: {' '.join(m.old_line.split())} => {' '.join(m.new_line.split())}"
            survivors.append({"mutant": m.number, "at": f"{target.path}:{m.line}", "constant": function,
                              "status": "explained" if key in known else "survived", "change": change})
    killed = sum(1 for _, s in results if s in ("killed", "timeout", "broken"))
    return {"module": target.path, "mutants": len(results), "killed": killed,
            "broken": sum(1 for _, s in results if s == "broken"),
            "timeouts": sum(1 for _, s in results if s == "timeout"), "superseded": len(superseded),
            "explained": sum(1 for s in survivors if s["status"] == "explained"),
            "share": round(killed / len(results), 3) if results else None, "case_only": 0,
            "share_without_case_only": round(killed / len(results), 3) if results else None,
            "survivors": survivors, "wall_s": round(time.perf_counter() - started, 1)}


def _constant_at(source: str, offset: int) -> str:
    """The module-level name whose value holds this offset (for the explained list)."""
    name = "?"
    pos = 0
    for line in source.splitlines(keepends=True):
        if pos > offset:
            break
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*) = ", line)
        if m:
            name = m.group(1)
        pos += len(line)
    return name
