"""The handheld service's certificate: made once, kept, never silently replaced."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import ssl
import stat

import pytest
from cryptography import x509

from console.errors import ConsoleError
from console.services.engage.certificate import ensure_certificate


def _tlv(der: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the DER element at `at`."""
    tag, length = der[at], der[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(der[start : start + count], "big")
        start += count
    return tag, start, start + length


def _spki_der(cert_der: bytes) -> bytes:
    """The SubjectPublicKeyInfo, walked out of the certificate's DER by hand (no cryptography library)."""
    _, cert_start, _ = _tlv(cert_der, 0)
    _, at, _ = _tlv(cert_der, cert_start)  # tbsCertificate's contents
    tag, _, end = _tlv(cert_der, at)
    if tag == 0xA0:  # [0] version
        at = end
    for _ in range(5):  # serial, signature algorithm, issuer, validity, subject
        at = _tlv(cert_der, at)[2]
    tag, _, end = _tlv(cert_der, at)
    assert tag == 0x30
    return cert_der[at:end]


def test_first_start_makes_the_pair_with_an_owner_only_key(tmp_path):
    cert = ensure_certificate(tmp_path, ["console.local"])
    assert cert.cert_path == tmp_path / "handheld" / "cert.pem"
    assert cert.key_path == tmp_path / "handheld" / "key.pem"
    assert stat.S_IMODE(cert.key_path.stat().st_mode) == 0o600
    assert cert.cert_path.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert b"PRIVATE KEY" in cert.key_path.read_bytes()
    lifetime = cert.not_after - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=729) < lifetime <= dt.timedelta(days=730)


def test_a_later_start_reuses_the_same_certificate(tmp_path):
    first = ensure_certificate(tmp_path, ["console.local"])
    pem, key = first.cert_path.read_bytes(), first.key_path.read_bytes()
    again = ensure_certificate(tmp_path, ["another.name"])
    assert again.sha256_fingerprint == first.sha256_fingerprint
    assert again.spki_sha256_b64 == first.spki_sha256_b64
    assert (first.cert_path.read_bytes(), first.key_path.read_bytes()) == (pem, key)


def test_fingerprint_and_spki_match_values_computed_without_the_module(tmp_path):
    cert = ensure_certificate(tmp_path, [])
    der = ssl.PEM_cert_to_DER_cert(cert.cert_path.read_text())
    digest = hashlib.sha256(der).hexdigest().upper()
    assert cert.sha256_fingerprint == ":".join(digest[i : i + 2] for i in range(0, 64, 2))
    assert cert.spki_sha256_b64 == base64.b64encode(hashlib.sha256(_spki_der(der)).digest()).decode()
    assert len(base64.b64decode(cert.spki_sha256_b64)) == 32


def test_every_hostname_and_loopback_is_a_subject_alternative_name(tmp_path):
    cert = ensure_certificate(tmp_path, ["Console.Local", "192.168.1.20", "fe80::1"])
    parsed = x509.load_pem_x509_certificate(cert.cert_path.read_bytes())
    sans = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.DNSName)) == {"console.local", "localhost"}
    assert set(sans.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("192.168.1.20"),
        ipaddress.ip_address("fe80::1"),
        ipaddress.ip_address("127.0.0.1"),
    }
    assert set(cert.names) == {"console.local", "localhost", "192.168.1.20", "fe80::1", "127.0.0.1"}
    assert parsed.public_key().curve.name == "secp256r1"
    assert parsed.issuer == parsed.subject


@pytest.mark.parametrize("broken", ["cert.pem", "key.pem"])
def test_a_corrupt_file_is_a_clear_error_and_is_left_as_it_was(tmp_path, broken):
    ensure_certificate(tmp_path, [])
    path = tmp_path / "handheld" / broken
    path.write_bytes(b"-----BEGIN garbage\n")
    other = tmp_path / "handheld" / ("key.pem" if broken == "cert.pem" else "cert.pem")
    other_bytes = other.read_bytes()
    with pytest.raises(ConsoleError) as caught:
        ensure_certificate(tmp_path, [])
    message = str(caught.value)
    assert str(path) in message and "delete" in message
    assert path.read_bytes() == b"-----BEGIN garbage\n"
    assert other.read_bytes() == other_bytes


def test_a_missing_half_is_an_error_not_a_new_pair(tmp_path):
    cert = ensure_certificate(tmp_path, [])
    key = cert.key_path.read_bytes()
    cert.cert_path.unlink()
    with pytest.raises(ConsoleError, match="cert.pem is missing"):
        ensure_certificate(tmp_path, [])
    assert not cert.cert_path.exists() and cert.key_path.read_bytes() == key


def test_a_key_from_another_installation_is_refused(tmp_path):
    mine = ensure_certificate(tmp_path / "a", [])
    theirs = ensure_certificate(tmp_path / "b", [])
    mine.key_path.write_bytes(theirs.key_path.read_bytes())
    with pytest.raises(ConsoleError, match="not the private key"):
        ensure_certificate(tmp_path / "a", [])
