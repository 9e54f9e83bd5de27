"""An eight-hour shift emits millions of signals: the Qt binding must not leak references doing it.

PySide6 6.12.0 loses a reference to True/False on each Python-side emit and aborts the
process after a few thousand; pyproject.toml keeps it out. This test would catch a return.
"""

import subprocess
import sys
import textwrap

CODE = textwrap.dedent("""
    import threading
    from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

    app = QCoreApplication([])

    class Receiver(QObject):
        number = Signal(int)
        boxed = Signal(object)

        def __init__(self):
            super().__init__()
            self.count = 0
            self.number.connect(self.take)
            self.boxed.connect(self.take)

        @Slot(object)
        def take(self, _value):
            self.count += 1

    r = Receiver()
    for i in range(20000):
        r.number.emit(i)
    def worker():
        for i in range(20000):
            r.boxed.emit((None, i))
    t = threading.Thread(target=worker)
    t.start()
    t.join()
    QTimer.singleShot(200, app.quit)
    app.exec()
    print(r.count)
""")


def test_many_signal_emits_do_not_corrupt_reference_counts():
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120,
                            env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "40000"
