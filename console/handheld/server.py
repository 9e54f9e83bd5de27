"""Running the handheld service: the installation's certificate (made on the first start), the
address and fingerprint announced in the store for the supervisor's pairing dialog, then uvicorn
over HTTPS. The fingerprint is printed so the supervisor can compare it with what a phone shows."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from pathlib import Path

from console import clock
from console.errors import ConsoleError
from console.services.engage import service
from console.services.engage.certificate import Certificate, ensure_certificate
from console.services.engage.pairing import ts
from console.store.location import open_location

DEFAULT_LISTEN = "0.0.0.0:8443"
ANY = ("0.0.0.0", "::", "")


def parse_listen(listen: str) -> tuple[str, int]:
    """'HOST:PORT' (or '[v6]:PORT') -> (host, port)."""
    host, sep, port = listen.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConsoleError(f"--listen {listen!r} must be HOST:PORT, for example 0.0.0.0:8443")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if host not in ANY:
        try:
            ipaddress.ip_address(host)
        except ValueError as exc:
            raise ConsoleError(f"--listen {listen!r}: {host!r} is not an address of this machine's") from exc
    return host, int(port)


def public_url(host: str, port: int, hostnames: list[str]) -> str:
    """The address phones are told: the first hostname named, else the address listened on, else this machine's name."""
    name = next((h.strip() for h in hostnames if h.strip()), "") or (host if host not in ANY else socket.gethostname())
    if ":" in name:  # an IPv6 address
        name = f"[{name}]"
    return f"https://{name}:{port}"


def prepare(location, data_dir: Path | str | None, listen: str, hostnames: list[str]) -> tuple[Certificate, str, int, str]:
    """Make or load the certificate and announce the service; (certificate, host, port, url)."""
    from console.paths import ensure_data_dir

    host, port = parse_listen(listen)
    names = [h for h in hostnames if h.strip()] or [socket.gethostname()]
    if host not in ANY:
        names.append(host)
    cert = ensure_certificate(ensure_data_dir(data_dir), names)
    url = public_url(host, port, hostnames)
    with open_location(location) as store:  # brought up to the latest schema here, once
        service.announce(store, url, cert.sha256_fingerprint, ts(clock.now()))
    return cert, host, port, url


def serve(location, data_dir: Path | str | None, listen: str = DEFAULT_LISTEN, hostnames: list[str] | None = None,
          out: Callable[[str], None] = print) -> None:
    """Serve the handheld pages over HTTPS until interrupted (Ctrl+C)."""
    import uvicorn

    from console.handheld.app import make_app

    cert, host, port, url = prepare(location, data_dir, listen, list(hostnames or []))
    wanted = url.split("//", 1)[1].rsplit(":", 1)[0].strip("[]").lower()
    if wanted not in {n.lower() for n in cert.names}:
        out(f"warning: the certificate (made on the first start) does not name {wanted!r}, only "
            f"{', '.join(cert.names)}: phones must open one of those, or delete {cert.cert_path} and {cert.key_path} "
            "to make a new one (every paired phone must then pair again)")
    out(f"handheld service: {url}")
    out(f"certificate SHA-256 fingerprint: {cert.sha256_fingerprint}")
    out(f"pairing page: {url}/pair (the supervisor's pairing dialog shows the code and its QR code)")
    app = make_app(lambda: open_location(location, migrate=False))
    uvicorn.run(app, host=host or "0.0.0.0", port=port, ssl_certfile=str(cert.cert_path), ssl_keyfile=str(cert.key_path),
                log_level="info", server_header=False, timeout_graceful_shutdown=3)
