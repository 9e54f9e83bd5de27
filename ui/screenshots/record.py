"""Screenshots of the record's sign-off (main.py screenshot): the confirmation step refusing a
live deployment, the confirmation of an ended one with its figures, the frozen record, and the
first page of the exported PDF as a PNG.

They are taken on a copy of the demo's data directory, made after the live window has closed: the
demo itself is left as it was (running, its alerts undecided, unsigned).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from types import SimpleNamespace

from console.services.accounts import session
from console.services.decisions import adjudication
from console.services.record import stats
from console.services.setup import deployments


def pdf_page_png(pdf: Path, png: Path) -> str:
    """Page 1 of ``pdf`` as ``png``: with QtPdf where PySide6 has it, else poppler's pdftoppm; "" on
    success, else why not."""
    try:
        from PySide6.QtCore import QSize
        from PySide6.QtPdf import QPdfDocument

        doc = QPdfDocument()
        doc.load(str(pdf))
        size = doc.pagePointSize(0)
        image = doc.render(0, QSize(int(size.width() * 1.5), int(size.height() * 1.5)))
        return "" if image.save(str(png)) else "QtPdf could not render it"
    except ImportError:
        pass
    if shutil.which("pdftoppm") is None:
        return "neither PySide6.QtPdf nor pdftoppm (poppler-utils) is installed"
    stem = png.with_suffix("")
    subprocess.run(["pdftoppm", "-r", "90", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
                   check=True, timeout=60)
    return ""


def shoot(data_dir: Path, out_dir: Path, wait) -> bool:
    from ui.jobs import JobRunner
    from ui.record_pdf import render_record_pdf
    from ui.review import ReviewWindow
    from ui.review.sign_off_dialog import SignOffDialog

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "data"
        shutil.copytree(data_dir, copy)
        store = session.open_store(copy)
        jobs = JobRunner(threads=1)
        try:
            sup = session.login(copy, "demo.supervisor", "demo")
            dep = deployments.latest_id(store)
            live = SimpleNamespace(store=store, deployment_id=dep, deployment=deployments.get(store, dep), operator=sup)
            win = ReviewWindow(live, jobs)
            win.resize(1500, 900)
            win.show()
            win.tabs.setCurrentIndex(2)

            def confirm(name: str) -> SignOffDialog | None:
                win.record.confirm = None
                win.record.sign_off()
                wait(lambda: isinstance(win.record.confirm, SignOffDialog), 20)
                dialog = win.record.confirm
                if dialog is None:
                    return None
                wait(lambda: False, 0.5)
                dialog.grab().save(str(out_dir / name))
                print(f"wrote {out_dir / name}")
                return dialog

            refused = confirm("sign_off_refused.png")
            if refused is not None:
                refused.reject()
            undecided = stats.LogFilter(deployment_id=dep, decision="undecided")
            op = session.login(copy, "demo.operator", "demo")  # who opened the demo's alert in the screenshots
            for _ in range(10_000):  # one incident at a time: deciding a sighting decides its incident
                rows = stats.log_page(store, sup, undecided, 0, 1)
                if not rows:
                    break
                who = sup if rows[0]["escalated_at"] else op  # an escalated one is the supervisor's
                adjudication.open_alert(store, who, rows[0]["id"])  # the demo's alerts, decided as what they are
                adjudication.reject(store, who, rows[0]["id"], "test", "demo alert")
            deployments.end(store, sup, dep, "demo over")
            dialog = confirm("sign_off_confirm.png")
            if dialog is None:
                return False
            dialog.note.setText("figures checked against the log")
            dialog.password.setText("demo")  # it opens the demo supervisor's sign-off key
            dialog.sign.click()
            wait(lambda: "Signed" in win.record.record.text(), 30)
            wait(lambda: False, 0.5)
            win.grab().save(str(out_dir / "record_frozen.png"))
            print(f"wrote {out_dir / 'record_frozen.png'}")
            win.close()
            from console.services.record import reports

            (out_dir / "record.pdf").unlink(missing_ok=True)
            pdf = reports.export_record(store, sup, dep, out_dir / "record.pdf", render_record_pdf)
            why = pdf_page_png(pdf, out_dir / "record_pdf_page1.png")
            print(f"wrote {pdf}" + (f" (no PNG of it: {why})" if why else f" and {out_dir / 'record_pdf_page1.png'}"))
            return True
        finally:
            jobs.wait(5000)
            store.close()
