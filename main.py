"""Entry point: ``python main.py`` opens the console; ``python main.py COMMAND`` runs a
headless command (see ``--help``)."""

from __future__ import annotations

import sys


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

    args = cli.build_parser().parse_args(argv)
    if args.command == "bench":  # the benchmarks sit above console/ and ui/
        if args.bench == "ui":
            from benchmarks.ui import run as run_ui

            return run_ui(args)
        from benchmarks import run as run_bench

        return run_bench(args)
    if args.command in (None, "screenshot"):
        # Qt is imported only here, never from console/.
        from ui.app import run_gui, run_screenshot

        if args.command == "screenshot":
            return run_screenshot(args)
        return run_gui(args)
    if args.command == "report" and str(args.out).lower().endswith(".pdf"):
        # The PDF is drawn with Qt's QPdfWriter (ui/record_pdf.py); console/ itself never imports Qt.
        from ui.record_pdf import render_record_pdf

        args.pdf_renderer = render_record_pdf
    return cli.run(args)


if __name__ == "__main__":
    sys.exit(main())
