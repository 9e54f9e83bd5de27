"""Entry point: ``python main.py`` opens the console; ``python main.py COMMAND`` runs a
headless command (see ``--help``). Every command is dispatched by console/cli/commands.py; this
file only sets the process up and registers the handlers whose code sits above console/ (the
window, the screenshots, the benchmarks, the PDF drawing), which console/ never imports."""

from __future__ import annotations

import sys


# Imported only when called: a headless command never loads Qt.
def _gui(args) -> int:
    from ui.app import run_gui

    return run_gui(args)


def _screenshot(args) -> int:
    from ui.screenshots.window import run_screenshot

    return run_screenshot(args)


def _bench(args) -> int:
    from benchmarks import run as run_bench

    return run_bench(args)


def _bench_ui(args) -> int:
    from benchmarks.ui import run as run_ui

    return run_ui(args)


def _pdf(document) -> bytes:
    # The PDF is drawn with Qt's QPdfWriter (ui/record_pdf.py); console/ itself never imports Qt.
    from ui.record_pdf import render_record_pdf

    return render_record_pdf(document)


def main(argv: list[str] | None = None) -> int:
    if getattr(sys, "frozen", False):  # the bundle: multiprocessing's helper (the shared memory's tracker) starts here
        import multiprocessing

        multiprocessing.freeze_support()
    from console.cli import commands as cli
    from console.redaction import guard_process_output

    guard_process_output()  # no traceback or log line may print a camera's or a database's password
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["seat-recognition"]:  # a seat's own recognition process (console/services/runtime/seat_child.py)
        from console.services.runtime.seat_child import child_main

        return child_main()
    return cli.main(argv, {cli.GUI: _gui, cli.SCREENSHOT: _screenshot, cli.BENCH: _bench, cli.BENCH_UI: _bench_ui,
                           cli.PDF: _pdf})


if __name__ == "__main__":
    sys.exit(main())
