"""The handheld service's own TLS certificate: made once per installation, then kept.

Phones pair with the installation by its certificate (its fingerprint is shown beside the pairing
code), so a silent new certificate would look exactly like a man in the middle. The pair of files
is therefore made on the first start only; a later start that finds them broken stops with a
sentence saying which file and what to do, and never writes over them.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from console.errors import ConsoleError

FOLDER = "handheld"
CERT_NAME = "cert.pem"
KEY_NAME = "key.pem"
VALIDITY = dt.timedelta(days=730)
# Phones whose clock runs a little behind still accept a certificate made a moment ago.
BACKDATE = dt.timedelta(hours=1)
ALWAYS = ("127.0.0.1", "localhost")
COMMON_NAME = "Operator Review Console handheld service"


@dataclass(frozen=True)
class Certificate:
    cert_path: Path
    key_path: Path
    sha256_fingerprint: str  # "AB:CD:...", as browsers show it
    spki_sha256_b64: str  # what chromium's --ignore-certificate-errors-spki-list takes
    not_after: dt.datetime  # UTC
    names: tuple[str, ...]  # the subject alternative names, so a caller can tell a hostname it lacks


def ensure_certificate(data_dir: Path, hostnames: list[str]) -> Certificate:
    """The installation's certificate under data_dir/handheld/, made on the first start only."""
    folder = Path(data_dir) / FOLDER
    cert_path, key_path = folder / CERT_NAME, folder / KEY_NAME
    if cert_path.exists() or key_path.exists():
        return load_certificate(cert_path, key_path)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        folder.chmod(0o700)
    except OSError:
        pass
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _self_signed(key, _names(hostnames))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write_new(key_path, key_pem, 0o600)
    _write_new(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return _describe(cert, cert_path, key_path)


def load_certificate(cert_path: Path, key_path: Path) -> Certificate:
    """Read the kept pair; anything wrong with it is a ConsoleError naming the file, and nothing is written."""
    redo = f"delete {cert_path} and {key_path} to make a new certificate (every paired phone must then pair again)"
    for path in (cert_path, key_path):
        if not path.exists():
            other = key_path if path == cert_path else cert_path
            raise ConsoleError(f"the handheld service's {path.name} is missing but {other} exists: restore it, or {redo}")
    cert_bytes, key_bytes = _read(cert_path, redo), _read(key_path, redo)
    try:
        cert = x509.load_pem_x509_certificate(cert_bytes)
    except ValueError as exc:
        raise ConsoleError(f"{cert_path} is not a readable PEM certificate ({exc}): restore it, or {redo}") from exc
    try:
        key = serialization.load_pem_private_key(key_bytes, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConsoleError(f"{key_path} is not a readable unencrypted PEM private key ({exc}): restore it, or {redo}") from exc
    if _spki(key.public_key()) != _spki(cert.public_key()):
        raise ConsoleError(f"{key_path} is not the private key of {cert_path}: restore the matching pair, or {redo}")
    if cert.not_valid_after_utc <= dt.datetime.now(dt.UTC):
        raise ConsoleError(f"{cert_path} expired on {cert.not_valid_after_utc:%Y-%m-%d}: {redo}")
    return _describe(cert, cert_path, key_path)


def _names(hostnames: list[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    seen: set[str] = set()
    for raw in [*hostnames, *ALWAYS]:
        name = raw.strip().lower()
        if not name or name in seen:
            continue
        seen.add(name)
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            names.append(x509.DNSName(name))
    return names


def _self_signed(key: ec.EllipticCurvePrivateKey, names: list[x509.GeneralName]) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAME)])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _describe(cert: x509.Certificate, cert_path: Path, key_path: Path) -> Certificate:
    fingerprint = cert.fingerprint(hashes.SHA256()).hex().upper()
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple(str(n.value) for n in sans)
    except x509.ExtensionNotFound:
        names = ()
    return Certificate(
        cert_path=cert_path,
        key_path=key_path,
        sha256_fingerprint=":".join(fingerprint[i : i + 2] for i in range(0, len(fingerprint), 2)),
        spki_sha256_b64=base64.b64encode(hashlib.sha256(_spki(cert.public_key())).digest()).decode("ascii"),
        not_after=cert.not_valid_after_utc,
        names=names,
    )


def _spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _read(path: Path, redo: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConsoleError(f"{path} cannot be read ({exc.strerror or exc}): fix its permissions, or {redo}") from exc


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Write a file that must not exist yet, with its mode from the start (a key is never readable by others)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, mode)  # exactly the mode asked, whatever the umask
