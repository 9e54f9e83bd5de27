"""Redaction's edges, with the exact text it gives (mutation check, issue 32): which '@' ends a
user-info, which words are paths rather than credentials, the secrets a URL yields and in what
order, and the last line of defence (the tracebacks and log records it rewrites)."""

from __future__ import annotations

import io
import logging
import sys
import threading
import traceback

import pytest

from console import redaction
from console.redaction import RedactingFilter, redact, redact_url, redact_value, redacted_excepthook, secrets_of

WORDS = [
    ("alice:p@ss@host", "***@host"),  # the last '@' ends the user-info: "ss" is password too
    ("ab:pa/ss@host", "***@host"),  # a slash in the password, not in the user: a credential
    ("ab:c/d:e@host", "***@host"),
    ("ab:pw@host", "***@host"),  # a two-letter user is a user (one letter is a drive: C:\...)
    ("/srv/a:b@c", "/srv/a:b@c"),  # a path, not a credential
]
URLS = [
    ("rtsp://u:p@;pwd=secret1", "rtsp://***@;pwd=***"),  # a parameter right after the '@'
    ("rtsp://u:p@pass=word.example/live", "rtsp://***@pass=word.example/live"),  # the host is no parameter
    ("rtsp://u:p@host", "rtsp://***@host"),  # no path at all
    ("rtsp://a:b/c@h/x", "rtsp://***@h/x"),  # a ':' before the first '/': the '@' after it ends the user-info
    ("rtsp://u@x/p@h/live", "rtsp://***@h/live"),  # an '@' before the first '/': likewise
    ("  alice:s3cr3t@10.0.0.5/live ", "  ***@10.0.0.5/live "),  # no scheme: read as text, spaces kept
]


@pytest.mark.parametrize("text, shown", WORDS)
def test_a_word_with_an_at_sign_is_masked_unless_it_is_a_path(text, shown):
    assert redact(text) == shown


@pytest.mark.parametrize("url, shown", URLS)
def test_a_url_keeps_exactly_its_host_path_and_harmless_parameters(url, shown):
    assert redact_url(url) == shown


def test_an_empty_or_missing_secret_value_is_left_as_it_is():
    assert redact_value({"password": "", "token": None, "key": "x"}) == {"password": "", "token": None, "key": "***"}


@pytest.mark.parametrize("url, found", [
    ("rtsp://alice:pa:ss@h/", ["alice:pa:ss", "pa:ss"]),  # the first ':' splits user from password
    ("https://ghp_tokenAsTheUserName01@cam/", ["ghp_tokenAsTheUserName01"]),  # a long user alone: a token
    ("https://abcdefghijklmnop@cam/", ["abcdefghijklmnop"]),  # exactly TOKEN_LIKE long
    ("https://abcdefghijklmno@cam/", []),
    ("rtsp://aa:zzzzzz@h/", ["aa:zzzzzz", "zzzzzz"]),  # longest first (a shorter one may be part of it)
    ("rtsp://u:abc@h/", ["u:abc", "abc"]),  # three characters are enough
])
def test_the_secrets_of_a_url_longest_first(url, found):
    assert redaction.TOKEN_LIKE == 16
    assert secrets_of(url) == found


def _raised(message: str):
    try:
        raise ValueError(message)
    except ValueError:
        return sys.exc_info()


def test_the_excepthook_writes_the_whole_traceback_redacted(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    info = _raised("cannot open rtsp://alice:s3cr3t@cam/live")
    redacted_excepthook(*info)
    assert err.getvalue() == redact("".join(traceback.format_exception(*info)))
    assert err.getvalue().startswith("Traceback") and "ValueError: cannot open rtsp://***@cam/live" in err.getvalue()


@pytest.mark.parametrize("message", ["token=abc then boom  ", "token=abc then boom X"])
def test_the_log_filter_rewrites_the_message_and_the_traceback_exactly(message):
    info = _raised(message)
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "seen %s", ("rtsp://u:pw@h/x",), info)
    assert RedactingFilter().filter(record) is True
    assert (record.msg, record.args, record.exc_info) == ("seen rtsp://***@h/x", None, None)
    assert record.exc_text == redact("".join(traceback.format_exception(*info))[:-1])


def test_guard_process_output_hooks_both_excepthooks_and_filters_each_handler_once(monkeypatch):
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    monkeypatch.setattr(logging, "lastResort", None)
    monkeypatch.setattr(root, "handlers", [handler])
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    redaction.guard_process_output()
    redaction.guard_process_output()
    assert sys.excepthook is redacted_excepthook
    assert [type(f) for f in handler.filters] == [RedactingFilter]
    info = _raised("rtsp://alice:s3cr3t@cam/live")
    args = threading.ExceptHookArgs((*info, None))
    threading.excepthook(args)
    assert err.getvalue() == redact("".join(traceback.format_exception(*info)))
    gone = threading.ExceptHookArgs((SystemExit, SystemExit(0), None, None))
    threading.excepthook(gone)
    assert err.getvalue() == redact("".join(traceback.format_exception(*info)))  # a thread's exit is no error
