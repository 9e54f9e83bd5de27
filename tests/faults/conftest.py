"""Fixtures of the fault tests: one rig (tests/faults/rig.py) for the whole file - its own PostgreSQL
cluster, three workers (each in a network namespace where the machine allows it) and two seats."""

from __future__ import annotations

import os

import pytest

from tests.faults.pg import NoPostgres, pg_bin


@pytest.fixture(scope="module")
def rig(engine):
    from tests.faults.rig import Rig

    try:
        pg_bin()
    except NoPostgres as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the fault tests on a real PostgreSQL: {exc}")
        pytest.skip(str(exc))
    r = Rig.make(engine, workers=3)
    if r.net == "proxy":  # a proxy's kernel acknowledges every byte: the cut is not silent, and restores hang
        r.close()
        why = "the TCP-proxy fallback (no network namespaces here) does not yet cut silently; run as root"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the fault tests in network namespaces: {why}")
        pytest.skip(why)
    print(f"fault rig: workers cut by {r.net} ({'network namespaces' if r.net == 'netns' else 'TCP proxies'})")
    try:
        r.start_workers()
        r.start_seats(2)
        ready = r.wait_for(lambda: all(r.heartbeats().get(c, {}).get("analysed", 0) > 3 for c in r.cameras), 90)
        assert ready, f"the workers never ran: {[w.err[-5:] for w in r.workers if w is not None]}"
        yield r
    finally:
        r.close()
