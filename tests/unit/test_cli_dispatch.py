"""One dispatch table for the command line (console/cli/commands.py COMMANDS): every command the parser
knows has a row, main.py only sets the process up and registers what sits above console/."""

import argparse
import ast
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import commands as cli

ROOT = Path(__file__).resolve().parents[2]


def _subcommands(parser: argparse.ArgumentParser) -> set[str]:
    return {name for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for name in action.choices}


def test_every_command_the_parser_knows_has_a_row():
    parser = cli.build_parser()
    assert set(cli.COMMANDS) == _subcommands(parser) | {cli.GUI, cli.BENCH_UI}
    bench = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["bench"]
    assert "ui" in _subcommands(bench)


def test_an_upper_layer_command_needs_main_to_register_it(capsys):
    assert cli.main(["screenshot", "out"]) == cli.EXIT_ERROR
    assert "runs from main.py" in capsys.readouterr().err
    assert cli.main([]) == cli.EXIT_ERROR
    ran = []
    assert cli.main(["bench", "ui", "--feeds", "1"], {cli.BENCH_UI: lambda args: ran.append(args.feeds) or 7}) == 7
    assert ran == ["1"]
    assert cli.main(["bench", "log"], {cli.BENCH: lambda args: 5, cli.BENCH_UI: lambda args: 6}) == 5


def test_main_py_dispatches_nothing_itself():
    """main.py never looks at the command: console/cli/commands.py does."""
    tree = ast.parse((ROOT / "main.py").read_text())
    looked = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in ("command", "bench", "out")]
    assert looked == []
    registered = [n for n in ast.walk(tree) if isinstance(n, ast.Dict)]
    keys = {k.attr for d in registered for k in d.keys if isinstance(k, ast.Attribute)}
    assert keys == {"GUI", "SCREENSHOT", "BENCH", "BENCH_UI", "PDF"}


@pytest.mark.parametrize("args", [["--help"], ["report", "--help"]])
def test_main_py_still_answers(args):
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0 and "usage: main.py" in done.stdout
