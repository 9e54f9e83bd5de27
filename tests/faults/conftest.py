"""Fixtures of the fault tests: one rig (tests/faults/rig.py) per test file - its own PostgreSQL
cluster, three workers (each in a network namespace where the machine allows it) and two seats;
``rig`` gives each worker one camera, ``pool_rig`` has the three share six cameras as a pool."""

from __future__ import annotations

import os

import pytest

from tests.faults.pg import NoPostgres, pg_bin


def _rig(engine, ready, **kwargs):
    from tests.faults.rig import Rig

    try:
        pg_bin()
    except NoPostgres as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the fault tests on a real PostgreSQL: {exc}")
        pytest.skip(str(exc))
    r = Rig.make(engine, workers=3, **kwargs)
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
        assert r.wait_for(lambda: ready(r), 90), f"the workers never ran: {[w.err[-5:] for w in r.workers if w]}"
        yield r
    finally:
        r.close()


@pytest.fixture(scope="module")
def rig(engine):
    yield from _rig(engine, lambda r: all(r.heartbeats().get(c, {}).get("analysed", 0) > 3 for c in r.cameras))


@pytest.fixture(scope="module")
def pool_rig(engine):
    def shared_out(r) -> bool:
        held = r.holders()
        return (len(held) == len(r.cameras) and len(set(held.values())) == 3
                and all(r.heartbeats().get(c, {}).get("analysed", 0) > 3 for c in r.cameras))

    yield from _rig(engine, shared_out, cameras=6, pool=True)
