"""The fault rig: a PostgreSQL cluster of its own, a deployment with demo cameras (generated video: the
cameras need no network), real ``main.py worker`` processes, each in its own network namespace where
the machine allows it (else behind a TCP proxy), and headless seats deciding alerts - to kill, cut and
restart under a running shift. Plain Python, for the tests (tests/faults/conftest.py) and benchmarks.

    rig = Rig.make(workers=3, seats=2)
    rig.cut(0); rig.restore(0); rig.pg.restart(); rig.kill(2); ...; rig.close()
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.faults import net
from tests.faults.pg import PgCluster

ROOT = Path(__file__).resolve().parents[2]
SEAT_ROLE, SEAT_DB_PASSWORD = "orc_fault_seat", "fault-rig-seat-password-0123"
PASSWORD = "fault-rig-operator-pw-1"


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Proc:
    """A child process and every line it printed (read by threads, so it never blocks on a full pipe)."""

    popen: subprocess.Popen
    name: str
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for stream, into in ((self.popen.stdout, self.out), (self.popen.stderr, self.err)):
            threading.Thread(target=self._read, args=(stream, into), daemon=True).start()

    @staticmethod
    def _read(stream, into: list[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))

    def json_lines(self) -> list[dict]:
        out = []
        for line in list(self.out):
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def alive(self) -> bool:
        return self.popen.poll() is None

    def terminate(self, timeout: float = 20) -> int | None:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait(10)


def setup_store(url: str, engine, cameras: int, seats: int, workers: int = 0) -> dict:
    """Schema, accounts, an active deployment with ``cameras`` demo cameras and the demo's watchlist
    subjects enrolled, a seat login role, and one worker credential per camera (or per worker, if more)."""
    from console.feeds.demo_media import demo_subjects, read_image
    from console.services.accounts import auth, session, worker_access
    from console.services.setup import deployments
    from console.services.setup.enrol import enrol_image
    from console.store import open_location, repo

    with open_location(url) as store:
        admin = auth.bootstrap_administrator(store, "admin", "Admin", PASSWORD)
        auth.create_user(store, admin, "sup", "Supervisor", "supervisor", PASSWORD)
        for i in range(seats):
            auth.create_user(store, admin, f"op{i + 1}", f"Operator {i + 1}", "operator", PASSWORD)
        sup = auth.actor_for(store, "sup")
        now = datetime.now(UTC)
        dep = repo.create_deployment(store, repo.DeploymentSpec(
            "Fault drill", "Generated corridor", "fault tests", _iso(now - timedelta(hours=1)),
            _iso(now + timedelta(hours=8)), engine.default_threshold, engine.default_threshold, engine.model_id,
            legal_basis="test", incident_window_s=0), sup.user_id, "sup")
        cams = [repo.add_camera(store, dep, f"Cam {i}", f"demo:{i}", "sup") for i in range(cameras)]
        wl = repo.create_watchlist(store, dep, "Drill", "sup")
        for n, subject in enumerate(demo_subjects()):
            entry = repo.add_entry(store, wl, repo.EntrySpec(f"R-{n}", subject.name, "missing_person", "drill",
                                                             "drill", subject.source, "2020-01-01", "2099-01-01"),
                                   sup.user_id, "sup")
            enrol_image(store, engine, sup, entry, read_image(subject.photo), subject.photo.name)
        deployments.start(store, auth.actor_for(store, "op1"), dep)
        session.grant_seat(store, admin, SEAT_ROLE, SEAT_DB_PASSWORD)
        tokens = [worker_access.issue(store, admin, dep, f"host {i}").token for i in range(max(cameras, workers))]
    return {"deployment": dep, "cameras": cams, "tokens": tokens}


class Rig:
    def __init__(self, pg: PgCluster, links: list, world: dict, db: str, pool: bool = False) -> None:
        self.pg, self.links, self.world, self.db, self.pool = pg, links, world, db, pool
        self.deployment: int = world["deployment"]
        self.cameras: list[int] = world["cameras"]
        self.workers: list[Proc | None] = [None] * len(links)
        self.seats: list[Proc] = []
        self.net = links[0].kind if links else "none"

    @classmethod
    def make(cls, engine, workers: int = 3, cameras: int | None = None, pool: bool = False) -> Rig:
        """The cluster, one link per worker (namespaces if possible, else proxies), the store set up.
        Without ``pool`` worker n runs camera n (``cameras`` = ``workers``); with it every worker joins
        the deployment's pool (``main.py worker --pool``) and they share ``cameras`` cameras.
        Nothing is started yet: ``start_workers`` and ``start_seats``."""
        net.clean_stale()
        # ORC_FAULTS_NET=proxy tries the fallback on a machine that could make namespaces.
        use_netns = os.environ.get("ORC_FAULTS_NET", "") != "proxy" and not net.netns_possible()
        links: list = []
        pg = None
        try:
            if use_netns:
                links = [net.NetnsLink(n) for n in range(workers)]
            pg = PgCluster(listen=[link.host_ip for link in links])
            if not use_netns:
                links = [net.ProxyLink(n, pg.port) for n in range(workers)]
            db = f"orc_faults_{uuid.uuid4().hex[:8]}"
            pg.create_database(db)
            world = setup_store(pg.url(db), engine, cameras or workers, seats=2, workers=workers)
        except BaseException:
            for link in links:
                link.close()
            if pg is not None:
                pg.close()
            raise
        return cls(pg, links, world, db, pool)

    # -- where each process connects ----------------------------------------------------------------
    def owner_url(self) -> str:
        return self.pg.url(self.db)

    def seat_url(self, host: str = "127.0.0.1", port: int | None = None) -> str:
        return f"postgresql://{SEAT_ROLE}:{SEAT_DB_PASSWORD}@{host}:{port or self.pg.port}/{self.db}"

    def worker_url(self, n: int) -> str:
        host, port = self.links[n].target(self.pg.port)
        return self.seat_url(host, port)

    # -- processes ----------------------------------------------------------------------------------
    def _spawn(self, cmd: list[str], name: str, env: dict) -> Proc:
        popen = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env={**os.environ, "PYTHONUNBUFFERED": "1", **env})
        return Proc(popen, name)

    def start_worker(self, n: int) -> Proc:
        cmd = [sys.executable, str(ROOT / "main.py"), "worker", "--db", self.worker_url(n), "--deployment",
               str(self.deployment), *(["--pool"] if self.pool else ["--cameras", str(self.cameras[n])])]
        proc = self._spawn(self.links[n].wrap(cmd), f"worker {n}", {"ORC_WORKER_CREDENTIAL": self.world["tokens"][n]})
        self.workers[n] = proc
        return proc

    def start_workers(self) -> None:
        for n in range(len(self.workers)):
            self.start_worker(n)

    def start_seats(self, count: int = 2) -> None:
        for i in range(count):
            cmd = [sys.executable, "-m", "tests.faults.seat", self.seat_url(), f"op{i + 1}", str(self.deployment)]
            self.seats.append(self._spawn(cmd, f"seat {i + 1}", {"ORC_SEAT_PASSWORD": PASSWORD}))

    def kill(self, n: int) -> None:
        """kill -9: no last heartbeat, no goodbye."""
        proc = self.workers[n]
        assert proc is not None
        proc.popen.send_signal(signal.SIGKILL)
        proc.popen.wait(10)

    def cut(self, n: int) -> None:
        self.links[n].cut()

    def restore(self, n: int) -> None:
        self.links[n].restore()

    # -- reading back (as the owner, on loopback) -----------------------------------------------------
    def query(self, sql: str, params=()) -> list:
        from console.store import open_location

        with open_location(self.owner_url()) as store:
            return store.query(sql, params)

    def heartbeats(self) -> dict[int, dict]:
        """The newest heartbeat of each camera: camera id -> {worker_id, state, updated_at, analysed, ...}."""
        out: dict[int, dict] = {}
        rows = self.query("SELECT worker_id, state, updated_at, cameras_json FROM worker_heartbeats WHERE "
                          "deployment_id = ? ORDER BY updated_at", (self.deployment,))
        for r in rows:
            for cam, info in json.loads(r["cameras_json"]).items():
                out[int(cam)] = {**info, "camera_state": info.get("state"), "worker_id": r["worker_id"],
                                 "state": r["state"], "updated_at": r["updated_at"],
                                 "at": datetime.fromisoformat(r["updated_at"].replace("Z", "+00:00")).timestamp()}
        return out

    def holders(self) -> dict[int, str]:
        """Pool: camera id -> the worker holding its live lease now."""
        from console.store import leases, open_location

        with open_location(self.owner_url()) as store:
            return {int(r["camera_id"]): r["worker_id"] for r in leases.holders(store, self.deployment) if r["live"]}

    def alerts(self) -> list:
        return self.query("SELECT id, camera_id, track_id, entry_id, status FROM alerts WHERE deployment_id = ? "
                          "ORDER BY id", (self.deployment,))

    def decisions(self) -> list:
        return self.query("SELECT d.id, d.alert_id FROM decisions d JOIN alerts a ON a.id = d.alert_id WHERE "
                          "a.deployment_id = ? ORDER BY d.id", (self.deployment,))

    def wait_for(self, predicate, timeout: float, every: float = 0.2) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                if predicate():
                    return True
            except Exception:  # the server may be restarting
                pass
            time.sleep(every)
        return False

    def close(self) -> None:
        for proc in [*self.seats, *(w for w in self.workers if w is not None)]:
            if proc.alive():
                proc.popen.kill()
                proc.popen.wait(10)
        for link in self.links:
            link.close()
        self.pg.close()
