"""A throwaway PostgreSQL cluster of the fault tests' own: made in a temporary folder, on a free port,
restarted and stopped at will (the shared server at ORC_TEST_PG_URL is never touched)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


class NoPostgres(RuntimeError):
    """No PostgreSQL binaries on this machine (.ci/start_postgres.sh installs Debian's package)."""


def pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: [int(x) for x in p.split("/")[4].split(".")
                                                                                  if x.isdigit()])
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise NoPostgres("no PostgreSQL binaries (initdb) found: install the postgresql package (.ci/start_postgres.sh)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """initdb into a temporary folder; ``listen`` addresses besides 127.0.0.1 (the host sides of the
    workers' network namespaces). Runs as the ``postgres`` user when this process is root."""

    def __init__(self, listen: list[str] | None = None, seat_net: str = "10.231.0.0/16") -> None:
        self.bin = pg_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="orc-faults-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.listen = ["127.0.0.1", *(listen or [])]
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        with open(self.data / "pg_hba.conf", "a") as fh:  # the namespaces' workers sign in with a password
            fh.write(f"host all all {seat_net} scram-sha-256\n")
        self.start()

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / tool), *args]
        if self.as_postgres:
            cmd = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in cmd)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if check and done.returncode:
            log = (self.data / "server.log").read_text()[-2000:] if (self.data / "server.log").exists() else ""
            raise RuntimeError(f"{tool} failed: {done.stdout}{done.stderr}\n{log}")
        return done

    def _options(self) -> str:
        return f"-p {self.port} -k {self.data} -c listen_addresses={','.join(self.listen)} -c fsync=off"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.data / "server.log"), "-w", "-o", self._options(), "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self, mode: str = "fast", down_s: float = 0.0) -> None:
        """``pg_ctl restart -m fast`` (every session is told and closed), or ``immediate`` (the server
        dies without a word, as on a crash; it recovers at start). ``down_s``: how long it stays away."""
        self.stop(mode)
        time.sleep(down_s)
        self.start()

    def url(self, db: str = "postgres", user: str = "postgres", password: str = "", host: str = "127.0.0.1") -> str:
        who = f"{user}:{password}" if password else user
        return f"postgresql://{who}@{host}:{self.port}/{db}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def close(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
