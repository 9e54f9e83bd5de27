"""A known-answer test made by a console that is then killed (SIGKILL: no clean-up of any kind) is
still a test when the store is opened again, and stays out of the figures; and a console killed in the
middle of making tests leaves no half-made one - every test alert on disk is marked a test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from console.services.accounts.auth import actor_for
from console.services.accuracy import known_answer
from console.services.record import reports
from console.store import ledger, open_store
from tests.factories import small_deployment
from tests.unit.test_known_answer import load_items

CHILD = textwrap.dedent("""
    import random, sys
    from console.services.accuracy import known_answer
    from console.store import open_store
    store = open_store(sys.argv[1])
    dep = int(sys.argv[2])
    n = 0
    while True:  # make tests until killed; say each one once it is committed
        alert_id = known_answer.inject(store, dep, random.Random(n))
        n += 1
        print(alert_id, flush=True)
""")


def test_tests_made_by_a_console_killed_mid_shift_are_still_tests(tmp_path):
    data = tmp_path / "data"
    store = open_store(data)
    d = small_deployment(store, operators=("op",))
    load_items(store, d.supervisor_id)
    sup = actor_for(store, "sup")
    known_answer.configure(store, sup, d.deployment_id, True, every=2, reason="measure the operators")
    before = reports.deployment_record(store, sup, d.deployment_id)
    store.close()
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(data), str(d.deployment_id)], stdout=subprocess.PIPE,
                             text=True, env=env)
    said = [int(child.stdout.readline()) for _ in range(5)]  # five committed, more under way
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    store = open_store(data)
    try:
        made = [int(r["id"]) for r in store.query("SELECT id FROM alerts WHERE deployment_id = ?", (d.deployment_id,))]
        assert set(said) <= set(made) and len(made) >= 5
        assert all(known_answer.is_test(store, a) for a in made)  # none half-made, none turned real
        assert ledger.verify(store) == []
        after = reports.deployment_record(store, sup, d.deployment_id)
        assert after["incidents"] == before["incidents"] == 0 and after["alerts"] == 0
    finally:
        store.close()
