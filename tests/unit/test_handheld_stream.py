"""The handheld service on a real HTTPS server (uvicorn, the installation's certificate): the event
stream wakes the phone within a second of a dispatch and says "unpaired" within seconds of a
revocation; `main.py engage` makes the certificate and announces the service in the store."""

from __future__ import annotations

import queue
import ssl
import threading
import time

import httpx
import pytest

from console.handheld import server
from console.handheld.app import COOKIE, make_app
from console.services.accounts.auth import actor_for
from console.services.decisions import adjudication
from console.services.engage import dispatch, pairing, service
from console.services.engage.certificate import ensure_certificate
from console.store import open_store, repo
from tests.browser.server import https_server
from tests.factories import small_deployment, wait_for


@pytest.fixture
def installation(tmp_path):
    store = open_store(tmp_path / "data")
    d = small_deployment(store, operators=("op",))
    repo.create_user(store, "pc1", "PC One", "engagement_officer")
    cert = ensure_certificate(tmp_path / "data", ["localhost"])
    yield {"store": store, "d": d, "cert": cert, "sup": actor_for(store, "sup"), "op": actor_for(store, "op"),
           "data": tmp_path / "data"}
    store.close()


def trusting(cert) -> ssl.SSLContext:
    """Trust exactly the installation's certificate (as a pinned phone does)."""
    context = ssl.create_default_context(cafile=str(cert.cert_path))
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def read_stream(url: str, token: str, context: ssl.SSLContext, lines: queue.Queue, stop: threading.Event) -> None:
    with httpx.Client(verify=context, timeout=httpx.Timeout(10.0)) as c:
        with c.stream("GET", url + "/api/events", headers={"Cookie": f"{COOKIE}={token}"}) as r:
            lines.put(("status", r.status_code, r.headers.get("content-type", ""), r.headers.get("cache-control")))
            for line in r.iter_lines():
                lines.put(("line", line))
                if stop.is_set():
                    return
    lines.put(("end",))


def wait_line(lines: queue.Queue, wanted: str, timeout: float) -> float:
    """Seconds until a line equal to ``wanted`` came; fails after ``timeout``."""
    start = time.monotonic()
    while True:
        left = timeout - (time.monotonic() - start)
        assert left > 0, f"no {wanted!r} within {timeout} s"
        item = lines.get(timeout=left)
        if item[0] == "line" and item[1] == wanted:
            return time.monotonic() - start


def test_the_stream_wakes_the_phone_on_a_dispatch_and_ends_on_revocation(installation):
    store, cert = installation["store"], installation["cert"]
    code = pairing.start_pairing(store, installation["sup"], "pc1", installation["d"].deployment_id)
    token, device = pairing.pair(store, code.code, "phone")
    app = make_app(lambda: open_store(installation["data"], migrate=False), feed_interval_s=0.1)
    lines: queue.Queue = queue.Queue()
    stop = threading.Event()
    with https_server(app, cert) as url:
        reader = threading.Thread(target=read_stream, args=(url, token, trusting(cert), lines, stop), daemon=True)
        reader.start()
        status = lines.get(timeout=10)
        assert status[1:] == (200, "text/event-stream; charset=utf-8", "no-store")
        assert wait_for(app.state.hub.following, 10)  # the feed reads from the log's head once it connects
        alert_id = installation["d"].alert()
        adjudication.open_alert(store, installation["op"], alert_id)
        adjudication.confirm(store, installation["op"], alert_id, "scar")
        dispatch.send(store, installation["op"], alert_id)
        assert wait_line(lines, "event: changed", 5.0) < 1.0
        assert wait_line(lines, ": ping", 5.0) <= 2.5  # a ping every 2 s keeps the line open
        pairing.revoke(store, installation["sup"], device.device_id, "phone lost")
        assert wait_line(lines, "event: unpaired", 5.0) < 2.5
        stop.set()
        reader.join(10)
        assert not reader.is_alive()
        with httpx.Client(verify=trusting(cert)) as c:
            r = c.get(url + "/api/events", headers={"Cookie": f"{COOKIE}={token}"})
            assert r.status_code == 401 and r.headers["cache-control"] == "no-store"
            assert c.get(url + "/").headers["strict-transport-security"].startswith("max-age=")


def test_engage_makes_the_certificate_once_and_announces_the_service(tmp_path):
    data = tmp_path / "data"
    cert, host, port, url = server.prepare(data, data, "127.0.0.1:8443", ["phone-gw.local"])
    assert (host, port, url) == ("127.0.0.1", 8443, "https://phone-gw.local:8443")
    assert "phone-gw.local" in cert.names and "127.0.0.1" in cert.names
    again, *_ = server.prepare(data, data, "0.0.0.0:9443", ["other.local"])
    assert again.sha256_fingerprint == cert.sha256_fingerprint  # kept, never silently remade
    with open_store(data) as store:
        info = service.current(store)
    assert info.url == "https://other.local:9443" and info.fingerprint == cert.sha256_fingerprint
    assert info.pairing_url("ABCDE-12345") == "https://other.local:9443/pair#ABCDE-12345"


@pytest.mark.parametrize("listen", ["8443", "host:port", "0.0.0.0:0", "0.0.0.0:70000", "example.com:8443", ""])
def test_a_bad_listen_address_is_one_sentence(listen):
    from console.errors import ConsoleError

    with pytest.raises(ConsoleError, match="--listen"):
        server.parse_listen(listen)


def test_the_engage_command_is_in_the_one_dispatch_table():
    from console.cli import commands
    from console.cli.engage import cmd_engage

    args = commands.build_parser().parse_args(["engage", "--data-dir", "/tmp/x", "--listen", "127.0.0.1:9443",
                                               "--hostname", "a.local", "--hostname", "b.local"])
    assert commands.handler(args) is cmd_engage
    assert (args.listen, args.hostname) == ("127.0.0.1:9443", ["a.local", "b.local"])
    assert server.parse_listen("[::1]:8443") == ("::1", 8443)
