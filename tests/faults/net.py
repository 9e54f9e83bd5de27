"""A network link per worker process that a test can cut silently and restore.

Where the machine allows it (root, ``ip netns``): a network namespace per worker, joined to the host
by a veth pair with private /30 addresses (10.231.K.1 on the host side, 10.231.K.2 inside); nothing
leaves the machine. ``cut`` takes the host side down: the worker's packets vanish without a reset,
as when a cable is pulled or a switch dies. Elsewhere: a TCP proxy per worker on loopback, whose
``cut`` swallows every byte both ways and answers nothing (no RST either)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading

PREFIX = "orcf"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if check and done.returncode:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale() -> list[str]:
    """Namespaces left by an earlier run that crashed (its process is gone): removed, veths with them."""
    removed = []
    listing = _ip("netns", "list", check=False).stdout.split()
    for name in listing:
        parts = name.split("-")
        if len(parts) == 3 and parts[0] == PREFIX and parts[1].isdigit() and not _alive(int(parts[1])):
            _ip("netns", "del", name, check=False)
            removed.append(name)
    return removed


def netns_possible() -> str:
    """"" when namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "not root"
    if shutil.which("ip") is None:
        return "no ip command"
    probe = f"{PREFIX}-{os.getpid()}-probe"
    done = _ip("netns", "add", probe, check=False)
    if done.returncode:
        return done.stderr.strip() or "ip netns add failed"
    _ip("netns", "del", probe, check=False)
    return ""


class NetnsLink:
    """One worker's namespace. ``host_ip`` is where PostgreSQL listens for it; ``wrap(cmd)`` runs a
    command inside."""

    kind = "netns"

    def __init__(self, n: int) -> None:
        pid = os.getpid()
        k = (pid % 60) * 4 + n  # a /24 per link: runs of different processes do not collide
        self.ns = f"{PREFIX}-{pid}-{n}"
        self.host_if, self.ns_if = f"of{pid % 100000}h{n}", f"of{pid % 100000}n{n}"
        self.host_ip, self.ns_ip = f"10.231.{k}.1", f"10.231.{k}.2"
        _ip("netns", "add", self.ns)
        try:
            _ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
            _ip("link", "set", self.ns_if, "netns", self.ns)
            _ip("addr", "add", f"{self.host_ip}/30", "dev", self.host_if)
            _ip("link", "set", self.host_if, "up")
            inside = ["netns", "exec", self.ns, "ip"]
            _ip(*inside, "addr", "add", f"{self.ns_ip}/30", "dev", self.ns_if)
            _ip(*inside, "link", "set", self.ns_if, "up")
            _ip(*inside, "link", "set", "lo", "up")
        except BaseException:
            self.close()
            raise

    def target(self, port: int) -> tuple[str, int]:
        return self.host_ip, port

    def wrap(self, cmd: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns, *cmd]

    def cut(self) -> None:
        _ip("link", "set", self.host_if, "down")

    def restore(self) -> None:
        _ip("link", "set", self.host_if, "up")

    def close(self) -> None:
        _ip("link", "del", self.host_if, check=False)
        _ip("netns", "del", self.ns, check=False)


class ProxyLink:
    """The fallback: a TCP proxy on loopback in front of PostgreSQL. Cut, it reads and drops every byte
    both ways and closes nothing, so the worker hears nothing at all - like a dead link."""

    kind = "proxy"
    host_ip = "127.0.0.1"

    def __init__(self, n: int, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.cut_now = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name=f"proxy-{n}").start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self.cut_now.is_set():  # a new connection during the cut: never answered
                threading.Thread(target=self._pump, args=(client, None), daemon=True).start()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket | None) -> None:
        try:
            while data := src.recv(65536):
                if dst is not None and not self.cut_now.is_set():
                    dst.sendall(data)
        except OSError:
            pass
        finally:
            if not self.cut_now.is_set():
                src.close()
                if dst is not None:
                    dst.close()

    def target(self, port: int) -> tuple[str, int]:
        return "127.0.0.1", self.port

    def wrap(self, cmd: list[str]) -> list[str]:
        return cmd

    def cut(self) -> None:
        self.cut_now.set()

    def restore(self) -> None:
        self.cut_now.clear()

    def close(self) -> None:
        self._closed = True
        self._server.close()
