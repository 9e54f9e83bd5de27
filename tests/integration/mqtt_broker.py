"""A real MQTT broker for the tests: Debian's mosquitto on 127.0.0.1, with its own configuration in
a temporary folder (no anonymous clients, a password file, a TLS listener whose certificate is
signed by a CA made here), and a subscriber that records what it receives."""

from __future__ import annotations

import datetime as dt
import getpass
import ipaddress
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
INSTALL = "apt-get install mosquitto  (or run .ci/install_servers.sh)"
PUBLISHER, PUBLISHER_PASSWORD = "console", "quay lamp 7 orchid"
WATCHER, WATCHER_PASSWORD = "watcher", "watch tower 3 heron"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_ca(folder: Path, name: str, server: bool = True) -> Path:
    """A CA (``<name>-ca.pem``) and, with ``server``, a certificate for 127.0.0.1 it signed
    (``<name>-server.pem`` / ``-server.key``). The CA file's path is returned."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
          .not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    ca_path = folder / f"{name}-ca.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    if server:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
                .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                            x509.DNSName("localhost")]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
                .sign(ca_key, hashes.SHA256()))
        (folder / f"{name}-server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (folder / f"{name}-server.key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return ca_path


class Broker:
    """mosquitto with a plain listener (``port``) and a TLS one (``tls_port``), both on 127.0.0.1.
    ``stop`` and ``start`` again keep the ports and the saved sessions (persistence on)."""

    def __init__(self, folder: Path) -> None:
        if not Path(MOSQUITTO).exists() or not shutil.which("mosquitto_passwd"):
            pytest.fail(f"the MQTT tests need Debian's mosquitto broker: {INSTALL}")
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port, self.tls_port = free_port(), free_port()
        self.ca = make_ca(folder, "broker")
        passwd = folder / "passwd"
        for i, (user, password) in enumerate(((PUBLISHER, PUBLISHER_PASSWORD), (WATCHER, WATCHER_PASSWORD))):
            subprocess.run(["mosquitto_passwd", "-b", *(["-c"] if i == 0 else []), str(passwd), user, password],
                           check=True, capture_output=True)
        passwd.chmod(0o600)
        self.log = folder / "mosquitto.log"
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text("\n".join([
            f"user {getpass.getuser()}", "per_listener_settings false", "allow_anonymous false",
            f"password_file {passwd}", "persistence true", f"persistence_location {folder}/",
            f"log_dest file {self.log}", "log_type all",
            f"listener {self.port} 127.0.0.1",
            f"listener {self.tls_port} 127.0.0.1", f"cafile {self.ca}", f"certfile {folder / 'broker-server.pem'}",
            f"keyfile {folder / 'broker-server.key'}", ""]))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"mqtts://127.0.0.1:{self.tls_port}"

    def start(self) -> Broker:
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if self.process.poll() is not None:
                log = self.log.read_text() if self.log.exists() else ""
                pytest.fail(f"mosquitto exited: {self.process.stderr.read().decode()}\n{log}")
            try:
                for port in (self.port, self.tls_port):
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        pytest.fail("mosquitto did not listen within 10 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


class Subscriber:
    """A paho client on the plain listener, subscribed to ``topic`` at QoS 1 with a kept session
    (so what is published while it is away reaches it when it is back)."""

    def __init__(self, broker: Broker, topic: str = "#") -> None:
        import paho.mqtt.client as mqtt

        self.messages: list = []
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="orc-test-watcher", clean_session=False)
        self.client.username_pw_set(WATCHER, WATCHER_PASSWORD)
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.on_connect = lambda c, _u, _f, code, _p: (not code.is_failure) and c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_a: self._subscribed.set()
        self.client.on_message = lambda _c, _u, message: self.messages.append(message)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert self._subscribed.wait(10), "the test subscriber could not subscribe"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
