"""Credentials kept out of everything a person, a log or a file gets to read.

A camera's configured source keeps its credential in the database (the workers near the
cameras read it there to connect); everything that shows, logs, prints or exports a source, a
database URL or an error that may echo one passes through ``redact`` first. What it removes:

- the whole user-info of a URL: ``rtsp://alice:pw@host/live`` -> ``rtsp://***@host/live``. The user
  name goes too: alone it is no secret, but the user field often carries an access token
  (``https://TOKEN@host``) and the two cannot be told apart;
- the value of any query, matrix or fragment parameter whose name holds pass, pwd, token, secret,
  key, auth, cred or sig, in any case and percent-encoded or not (``?password=``, ``;pwd=``,
  ``#access_token=``, ``?sslpassword=``);
- a user-info that is not written by the rules: an unencoded ``@``, ``/`` or space in a password. Where
  a URL is ambiguous (a port or an ``@`` before the first ``/``, another ``@`` after it), all of
  it up to the last ``@`` goes: too much hidden is a lesser fault than a password shown;
- the same inside a percent-encoded URL carried by another (``?url=rtsp%3A%2F%2Fu%3Ap%40h``),
  a scheme-less ``user:password@host``, and ``password=...`` settings in free text (libpq's
  keyword form) or in JSON.

It does not find a secret written into a URL's path (``/api/TOKEN/live``).
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
import urllib.parse
from typing import Any

MASK = "***"
TOKEN_LIKE = 16  # a user name this long, with no password beside it, is taken for an access token
# In a URL's parameters: any name holding one of these words hides its value.
SECRET_WORDS = ("pass", "pwd", "token", "secret", "key", "auth", "cred", "sig")
# In free text and as dictionary keys: exactly these names (a word like "authorised_by" is no secret).
SECRET_NAMES = ("password", "passwd", "pass", "pwd", "sslpassword", "token", "access_token", "secret",
                "client_secret", "key", "apikey", "api_key", "auth", "authorization", "credential", "credentials")

_SCHEME = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://")
_TOKEN = re.compile(r"[^\s'\"<>`]+")
# In free text a password with a space splits its URL in two words: "rtsp://u:my pass@host".
_SPACED = re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*://)[^\s/@:]*:[^/@\n]{0,80}?\s[^/@\n]{0,80}?@")
_PARAM = re.compile(r"([/?&;#])([^=/?&;#\s]*)=([^&;#]*)")
_NAMES = "|".join(sorted(SECRET_NAMES, key=len, reverse=True))
_SETTING = re.compile(rf"(?i)(?<![\w.%-])({_NAMES})(\s*=\s*)('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
                      r"|(?:[^\s,;&'\"#]|#(?![\w.%-]+=))+)")
_JSON_PAIR = re.compile(rf"(?i)([\"'])({_NAMES})\1(\s*:\s*)([\"'])((?:(?!\4)[^\\]|\\.)*)\4")


def _secret_param(name: str) -> bool:
    name = urllib.parse.unquote(name).lower()
    return any(word in name for word in SECRET_WORDS)


def _userinfo_end(url: str, start: int) -> int:
    """Where the user-info of ``url`` (its authority beginning at ``start``) ends at its '@', or -1."""
    at = url.rfind("@", start)
    if at < 0:
        return -1
    userinfo = url[start:at]
    cut = re.search(r"[/?#]", url[start:])
    authority = url[start:start + cut.start()] if cut else url[start:]
    if not re.search(r"[/?#]", userinfo) or ":" in authority or "@" in authority:
        return at
    return -1  # host/path@...: an '@' in the path, after a plain host


def _url_once(url: str) -> str:
    """One URL (it starts with its scheme) without its user-info and secret parameters; a URL
    written inside it (``?next=rtsp://...``) is redacted as a URL of its own."""
    inner = _SCHEME.search(url, 1)
    if inner:
        return _url_once(url[:inner.start()]) + _url_once(url[inner.start():])
    start = _SCHEME.match(url).end()
    at = _userinfo_end(url, start)
    if at >= 0:
        url = url[:start] + MASK + url[at:]
        start += len(MASK) + 1
    rest = _PARAM.sub(lambda m: f"{m[1]}{m[2]}={MASK}" if _secret_param(m[2]) and m[3] else m[0], url[start:])
    return url[:start] + rest


def redact_url(url: str) -> str:
    """``url``, taken whole as one URL (a password or a parameter may hold anything, spaces too),
    redacted: for a camera's source or a database's URL, never for a message that merely starts
    with a URL."""
    url = str(url)
    lead = len(url) - len(url.lstrip())
    body = url.strip()
    if not _SCHEME.match(body):
        return redact(url)
    out = _url_once(body)
    for _ in range(3):  # a URL percent-encoded inside another, maybe twice
        decoded = urllib.parse.unquote(out)
        if decoded == out or _text_once(decoded) == decoded:
            break
        out = _text_once(decoded)
    return url[:lead] + out + url[lead + len(body):]


def _token(token: str) -> str:
    found = _SCHEME.search(token)
    if found:
        return token[:found.start()] + redact_url(token[found.start():])
    at = token.rfind("@")
    if at > 0 and ":" in token[:at]:
        user = token[:at].split(":", 1)[0]
        if len(user) > 1 and not re.search(r"[/\\]", user):  # not C:\... nor a path
            return MASK + token[at:]
    return token


def _text_once(text: str) -> str:
    text = _SPACED.sub(lambda m: f"{m[1]}{MASK}@", text)
    text = _TOKEN.sub(lambda m: _token(m[0]), text)
    text = _SETTING.sub(lambda m: f"{m[1]}{m[2]}{MASK}", text)
    return _JSON_PAIR.sub(lambda m: f"{m[1]}{m[2]}{m[1]}{m[3]}{m[4]}{MASK}{m[4]}", text)


def redact(text: Any) -> str:
    """Any text - a camera source, a database URL, an error message, a log line - without credentials.

    It is read word by word (a password with a space is still found); ``redact_url`` reads a
    string known to be one URL whole. Redacting twice changes nothing more."""
    return _text_once("" if text is None else str(text))


def redact_value(value: Any) -> Any:
    """A JSON-like value (dicts, lists, strings) with every string redacted and the value under a
    key named like a secret (``password``, ``token``...) masked."""
    if isinstance(value, dict):
        return {k: MASK if isinstance(k, str) and k.lower() in SECRET_NAMES and v not in (None, "")
                else redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value


def secrets_of(url: str) -> list[str]:
    """The secrets written in ``url``, as written and percent-decoded: its user-info, password and
    secret parameter values (to find them in text a third party wrote, such as a driver's error).
    A user name alone counts only when it is long enough to be a token (a short one like
    "postgres" would mask every word it is part of)."""
    url = str(url).strip()
    found: list[str] = []
    m = _SCHEME.match(url)
    if m:
        at = _userinfo_end(url, m.end())
        if at >= 0:
            userinfo = url[m.end():at]
            user, colon, password = userinfo.partition(":")
            found += [userinfo, password] if colon else [user] if len(user) >= TOKEN_LIKE else []
    found += [p[3] for p in _PARAM.finditer(url) if _secret_param(p[2])]
    found += [urllib.parse.unquote(s) for s in found]
    return sorted({s for s in found if len(s) >= 3}, key=len, reverse=True)


def scrub(text: Any, url: str) -> str:
    """``text`` redacted, and any secret of ``url`` found in it masked wherever it stands."""
    out = redact(text)
    for secret in secrets_of(url):
        out = out.replace(secret, MASK)
    return out


# -- the last line of defence: whatever escapes as a traceback or a log record ------------------
class RedactingFilter(logging.Filter):
    """Rewrites a log record's message and traceback without credentials (it never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
            record.exc_info = None
        return True


def redacted_excepthook(kind, exc, tb) -> None:
    sys.stderr.write(redact("".join(traceback.format_exception(kind, exc, tb))))


def guard_process_output() -> None:
    """Redact uncaught tracebacks (main and other threads) and the records logging prints by
    itself or through the root logger's handlers. Called once by the entry point."""
    import threading

    sys.excepthook = redacted_excepthook
    def thread_hook(args) -> None:
        if args.exc_type is not SystemExit:
            redacted_excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    threading.excepthook = thread_hook
    for handler in [logging.lastResort, *logging.getLogger().handlers]:
        if handler is not None and not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
