"""The house's rules that are about the code itself: rooms of a readable size, no import circle,
no SQL outside the store (console/store/: the services call its named functions)."""

import ast
import re
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
# SQL in this code is written in capitals; plain English ("Select a camera from the list") is not SQL.
SQL = re.compile(r"\b(SELECT\b.*\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE|DROP\s+)", re.DOTALL)


def _modules(*folders):
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_no_module_of_the_project_is_over_400_lines():
    """The core, the UI, the command line's entry, the tests, the benchmarks, the calibration and the
    packaging alike: a room a newcomer can read."""
    paths = [*_modules("console", "ui", "tests", "benchmarks", "calibration", "packaging"), ROOT / "main.py",
             ROOT / "bootstrap.py"]
    long = {str(p.relative_to(ROOT)): n for p in paths if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


# Where SQL may not be: everything above the store. A statement there is a named function in the
# store's module of its domain (docs/architecture.md, "Where does X go").
NO_SQL = ("ui", "console/cli", "console/services")
# What runs a statement: a connection's execute, a store's query and one.
RUNS_SQL = {"execute", "executemany", "executescript", "query", "one"}


def _sql_in(source: str, name: str) -> list[str]:
    """Each string in the source (f-strings' parts too) that reads as SQL, and each call that runs a
    statement, as "name:line: what"."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            found.append(f"{name}:{node.lineno}: {node.value[:60]!r}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RUNS_SQL:
            found.append(f"{name}:{node.lineno}: .{node.func.attr}(...)")
    return found


def test_no_sql_above_the_store():
    paths = [*_modules(*NO_SQL), ROOT / "main.py"]
    found = [hit for path in paths for hit in _sql_in(path.read_text(), str(path.relative_to(ROOT)))]
    assert found == []


def test_the_places_without_sql_are_there_and_hold_code():
    for folder in NO_SQL:
        assert len(list(_modules(folder))) >= 5, folder


def test_the_command_line_opens_no_transaction():
    """console/cli/ asks the services, which hold their own transactions; it never opens one itself."""
    found = []
    for path in _modules("console/cli"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("transaction", "connect", "execute"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.attr}")
    assert found == []


def test_the_sql_check_finds_sql():
    assert SQL.search("SELECT id FROM alerts") and SQL.search("UPDATE alerts SET status = 'x'")
    assert not SQL.search("Select a camera from the list")
    assert not SQL.search("Update the threshold (supervisor)")


def test_the_scan_finds_sql_in_every_form_a_service_once_wrote_it():
    written = (
        'rows = store.query("SELECT id FROM alerts WHERE incident_id = ?", (i,))\n'
        'conn.execute(f"UPDATE alerts SET {col} = ? WHERE id = ?", (v, i))\n'
        'members = "SELECT id FROM alerts WHERE incident_id = ?"\n'
        'sql = ("INSERT INTO purges(rule, ran_at)" " VALUES (?, ?)")\n'
        'row = store.one(text, args)\n'
    )
    found = _sql_in(written, "svc.py")
    assert sorted(int(hit.split(":")[1]) for hit in found) == [1, 1, 2, 2, 3, 4, 5]
    assert _sql_in('label = "Select a camera from the list"\nparts = name.split(".")\n', "ui.py") == []


def test_no_import_circle():
    graph = grimp.build_graph("console", "ui", "benchmarks")
    circles = set()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(importer=imported, imported=module):
                circles.add(tuple(sorted((module, imported))))
    assert circles == set()
