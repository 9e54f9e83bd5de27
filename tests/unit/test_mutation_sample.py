"""The mutation check's record of explained survivors stays true to the code (issue 32).

CI runs a random sample of mutants after the suite (.ci/run: ``bench mutation --sample 12``) and
fails on any survivor not listed in benchmarks/mutation_explained.txt. A line that no longer
names a module of the table, a function of that module, or a line of its source would hide
nothing and excuse nothing: it is stale, and this says so at once rather than on the day the
sample draws it."""

from __future__ import annotations

import re

from benchmarks.mutation import EXPLAINED, ROOT, TARGETS, _functions, _key, explained
from benchmarks.mutation_sql import SQL_TARGETS


def _lines() -> list[str]:
    return [line.strip() for line in EXPLAINED.read_text().splitlines() if line.strip() and not line.startswith("#")]


def test_every_explained_survivor_names_a_module_a_function_and_a_line_of_it():
    assert _lines(), "no explained survivors: the file was emptied"
    for line in _lines():
        head, _, change = line.partition(": ")
        module, _, function = head.partition(":")
        assert module in TARGETS or module in SQL_TARGETS, line
        if module in SQL_TARGETS:  # the SQL's survivors are named by the constant that holds them
            source = (ROOT / SQL_TARGETS[module].path).read_text()
            assert re.search(rf"^{re.escape(function)} = ", source, re.M), line
        else:
            source = (ROOT / TARGETS[module].path).read_text()
            assert function in _functions(source), line
        old = change.partition("=>")[0].split(" / ")[0].strip()  # " / " joins a change's lines (or divides)
        assert any(text.strip().startswith(old) for text in source.splitlines()), line


def test_a_survivor_is_matched_on_its_change_whatever_the_spacing():
    line = _lines()[0]
    head, _, change = line.partition(": ")
    module, _, function = head.partition(":")
    assert _key(module, function, "  ".join(change.split(" "))) in explained()
    assert _key(module, function, change + " x") not in explained()
