"""The house's rules that are about the code itself: rooms of a readable size, no import circle,
no SQL outside the core's services and store."""

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


def test_no_module_in_the_core_or_the_ui_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in _modules("console", "ui")
            if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_no_sql_in_the_ui_or_the_command_line():
    found = []
    for path in [*_modules("ui", "console/cli"), ROOT / "main.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
    assert found == []


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


def test_no_import_circle():
    graph = grimp.build_graph("console", "ui", "benchmarks")
    circles = set()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(importer=imported, imported=module):
                circles.add(tuple(sorted((module, imported))))
    assert circles == set()
