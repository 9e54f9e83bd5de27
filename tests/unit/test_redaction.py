"""Security: credentials in camera and database URLs are masked wherever text leaves the console
(console/redaction.py); the host and path stay readable."""

import io
import logging
import sys

import pytest

from console.redaction import (
    MASK,
    RedactingFilter,
    redact,
    redact_url,
    redact_value,
    redacted_excepthook,
    scrub,
    secrets_of,
)

# (url, secrets that must be gone - as written and percent-decoded -, what must stay readable)
URL_FORMS = [
    ("rtsp://alice:s3cr3t@10.0.0.5/live", ["s3cr3t", "alice:"], ["rtsp://", "10.0.0.5/live"]),
    ("rtsp://:s3cr3t@10.0.0.5:554/live", ["s3cr3t"], ["10.0.0.5:554/live"]),
    ("rtsp://admin@10.0.0.5/live", ["admin"], ["10.0.0.5/live"]),  # a user alone goes too: it may be a token
    ("https://ghp_tokenAsTheUserName01@cam.example/live", ["ghp_tokenAsTheUserName01"], ["cam.example/live"]),
    ("rtsp://user%40corp:p%40ss@cam.local/s1", ["p%40ss", "p@ss", "user%40corp", "user@corp"], ["cam.local/s1"]),
    ("rtsp://alice:s3cr%40t@10.0.0.5/live", ["s3cr%40t", "s3cr@t"], ["10.0.0.5/live"]),
    ("rtsp://alice:p@ss@word@10.0.0.5/live", ["p@ss", "ss@word", "word@"], ["10.0.0.5/live"]),
    ("rtsp://alice:pa/ss@10.0.0.5/live", ["pa/ss", "ss@"], ["10.0.0.5/live"]),
    ("rtsp://alice:my pass@10.0.0.5/live", ["my pass", "pass@"], ["10.0.0.5/live"]),
    ("rtsp://u:s3cr3t@[fe80::1]:554/live", ["s3cr3t"], ["[fe80::1]:554/live"]),
    ("mjpeg+http://alice:s3cr3t@cam/video.mjpg", ["s3cr3t"], ["mjpeg+http://", "cam/video.mjpg"]),
    ("rtsp://10.0.0.5/live?password=hunter2&channel=1", ["hunter2"], ["10.0.0.5/live?password=", "channel=1"]),
    ("http://cam/video.cgi?user=bob&pass=hunter2", ["hunter2"], ["user=bob"]),
    ("http://cam/video.cgi?PWD=hunter2", ["hunter2"], ["cam/video.cgi"]),
    ("http://cam/live?Token=hunter2", ["hunter2"], ["cam/live"]),
    ("http://cam/live?key=hunter2", ["hunter2"], ["cam/live"]),
    ("http://cam/live?SECRET=hunter2", ["hunter2"], ["cam/live"]),
    ("http://cam/live?auth=hunter2", ["hunter2"], ["cam/live"]),
    ("http://cam/live?ApiKey=hunter2#access_token=tok3n", ["hunter2", "tok3n"], ["cam/live"]),
    ("http://cam/live?pass%77ord=hunter2", ["hunter2"], ["cam/live"]),
    ("http://cam/live;pwd=hunter2", ["hunter2"], ["cam/live"]),
    ("http://proxy/view?url=rtsp%3A%2F%2Falice%3As3cr3t%40cam%2Flive", ["s3cr3t"], ["proxy/view", "cam"]),
    ("postgresql://orc:pgs3cret@db.local:5432/console", ["pgs3cret"], ["db.local:5432/console"]),
    ("postgres://orc@db.local/console?password=pgs3cret&sslpassword=keyp4ss", ["pgs3cret", "keyp4ss"],
     ["db.local/console"]),
    ("alice:s3cr3t@10.0.0.5:554/live", ["s3cr3t"], ["10.0.0.5:554/live"]),  # a stream typed without its scheme
]


@pytest.mark.parametrize("url, secrets, kept", URL_FORMS, ids=[u for u, _, _ in URL_FORMS])
def test_security_redact_removes_the_secret_and_keeps_host_and_path(url, secrets, kept):
    shown = redact(url)
    for secret in secrets:
        assert secret not in shown, shown
    for part in kept:
        assert part in shown, shown
    assert MASK in shown
    assert redact(shown) == shown  # redacting twice changes nothing more


@pytest.mark.parametrize("url, secrets, kept", URL_FORMS, ids=[u for u, _, _ in URL_FORMS])
def test_security_a_url_inside_a_message_is_redacted_too(url, secrets, kept):
    shown = redact(f"camera 'Door': cannot connect to {url} (Connection refused)")
    assert not any(secret in shown for secret in secrets), shown
    assert shown.startswith("camera 'Door': cannot connect to ") and shown.endswith("(Connection refused)")


@pytest.mark.parametrize("text", [
    "demo:0", "webcam:1", "/srv/video/cam@2.mp4", r"C:\video\cam@2.mp4", "rtsp://10.0.0.5/live?channel=1",
    "http://host/files/a@b.jpg", "audit chain intact: 12 entries verified", "mail ops@example.org",
    "threshold 0.41 -> 0.45 by sup: crowd", "2026-01-01T09:00:00Z",
])
def test_security_text_without_a_credential_is_left_alone(text):
    assert redact(text) == text


def test_security_free_text_settings_and_json_lose_their_values():
    assert redact("host=db port=5432 password='a b c' user=orc") == "host=db port=5432 password=*** user=orc"
    assert redact('{"source": "rtsp://u:p4ss@cam/x", "password": "p4ss2"}') == \
        '{"source": "rtsp://***@cam/x", "password": "***"}'
    assert redact(None) == "" and redact(554) == "554"


def test_security_ambiguous_urls_hide_too_much_rather_than_too_little():
    # A port before the first '/' and an '@' after it: a password with a '/' or a path with an '@';
    # both read the same, so everything up to the last '@' goes.
    assert redact("rtsp://alice:1234/5@cam/live") == "rtsp://***@cam/live"
    assert redact_url("rtsp://alice:s3cr3t@cam/a@b") == "rtsp://***@b"
    # A string known to be one URL is read whole: a raw space in a parameter hides nothing after it.
    assert redact_url("rtsp://cam/live?password=two words&channel=1") == "rtsp://cam/live?password=***&channel=1"


def test_security_values_and_keys_named_like_secrets_are_masked_in_structures():
    details = {"name": "Door", "source": "rtsp://alice:s3cr3t@cam/live", "Password": "x1y2z3",
               "authorised_by": "sup", "nested": [{"token": "t0k3n"}, ("http://u:p4ss@h/",)], "n": 3}
    assert redact_value(details) == {"name": "Door", "source": "rtsp://***@cam/live", "Password": MASK,
                                     "authorised_by": "sup", "nested": [{"token": MASK}, ["http://***@h/"]], "n": 3}


def test_security_scrub_finds_the_urls_secrets_in_a_third_partys_words():
    url = "rtsp://alice:s3cr%40t@cam/live?password=hunter2"
    assert set(secrets_of(url)) >= {"s3cr%40t", "s3cr@t", "hunter2", "alice:s3cr%40t"}
    said = "auth failed for alice with s3cr@t; retried with hunter2"
    assert scrub(said, url) == "auth failed for alice with ***; retried with ***"
    assert secrets_of("postgresql://postgres@127.0.0.1/x") == []  # a short user name alone is no secret to hunt


def test_security_tracebacks_and_log_records_are_redacted():
    try:
        raise RuntimeError("cannot open rtsp://alice:s3cr3t@cam/live")
    except RuntimeError:
        info = sys.exc_info()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error("camera %s failed", "rtsp://bob:hunter2@cam/live", exc_info=info)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert "s3cr3t" not in out.getvalue() and "hunter2" not in out.getvalue()
    assert "rtsp://***@cam/live" in out.getvalue() and "RuntimeError" in out.getvalue()
    err, saved = io.StringIO(), sys.stderr
    sys.stderr = err
    try:
        redacted_excepthook(*info)
    finally:
        sys.stderr = saved
    assert "s3cr3t" not in err.getvalue() and "Traceback" in err.getvalue()
