"""Run an ASGI app (Starlette) over HTTPS on a free loopback port in a background thread.

    base_url, stop = serve_https(app, cert)     # cert: console.services.engage.certificate.Certificate
    ...
    stop()

or `with https_server(app, cert) as base_url: ...`. The socket is bound before the thread starts,
so the port is known at once and no other process can take it in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

import uvicorn

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0


class _SignallingServer(uvicorn.Server):
    """uvicorn's server with an event set once it listens, so a caller waits for it, not for a fixed time."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets=None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)
        self.ready.set()

    def stop_from_another_thread(self) -> None:
        """Cut the open connections (a browser keeps them alive, and TLS waits for its goodbye), then exit."""

        def cut() -> None:
            for connection in list(self.server_state.connections):
                transport = getattr(connection, "transport", None)
                if transport is not None:
                    transport.abort()
            self.should_exit = True

        if self.loop is None or self.loop.is_closed():
            self.should_exit = True
        else:
            try:
                self.loop.call_soon_threadsafe(cut)
            except RuntimeError:  # the loop closed in between
                self.should_exit = True


def serve_https(app, cert, host: str = "127.0.0.1", log_level: str = "warning") -> tuple[str, Callable[[], None]]:
    """Start serving; returns the base URL ("https://127.0.0.1:PORT") and a stop function (idempotent)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=str(cert.cert_path),
        ssl_keyfile=str(cert.key_path),
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=2,  # a last resort: stop() cuts the connections first
    )
    server = _SignallingServer(config)
    failure: list[BaseException] = []
    finished = threading.Event()

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below, never swallowed
            failure.append(exc)
        finally:
            finished.set()
            server.ready.set()

    thread = threading.Thread(target=run, name=f"https-{port}", daemon=True)
    thread.start()
    server.ready.wait(START_TIMEOUT_S)  # set when serving, or when the thread gave up
    if not server.started:
        server.should_exit = True
        thread.join(STOP_TIMEOUT_S)
        sock.close()
        reason = repr(failure[0]) if failure else "uvicorn exited without serving" if finished.is_set() else "timed out"
        raise RuntimeError(f"the HTTPS test server on {host}:{port} did not start: {reason}")

    def stop() -> None:
        server.stop_from_another_thread()
        thread.join(STOP_TIMEOUT_S)
        sock.close()
        if thread.is_alive():
            raise RuntimeError(f"the HTTPS test server on {host}:{port} did not stop within {STOP_TIMEOUT_S:.0f} s")
        if failure:
            raise failure[0]

    return f"https://{host}:{port}", stop


@contextlib.contextmanager
def https_server(app, cert, host: str = "127.0.0.1") -> Iterator[str]:
    """serve_https as a context manager: yields the base URL and stops the server on the way out."""
    base_url, stop = serve_https(app, cert, host=host)
    try:
        yield base_url
    finally:
        stop()
