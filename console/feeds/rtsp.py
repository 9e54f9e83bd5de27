"""RTSP cameras: H.264 (or H.265, MJPEG) over RTSP through OpenCV's FFmpeg, with bounded waits and
a plain reason when a camera gives no picture.

OpenCV says only "not opened" whatever went wrong. When it does, ``diagnose`` asks the camera
itself with one RTSP DESCRIBE (standard library, the same bounded wait) and says which it is:
nothing listens, it connects but never answers, it refuses the user name or password, it has no
stream at that path, or it answers and the video still cannot be decoded. A refused credential is
its own state (``unauthorised``), retried slowly, since someone may fix it on the camera.

Transport: RTSP over TCP (``rtsp_transport;tcp``) unless OPENCV_FFMPEG_CAPTURE_OPTIONS says otherwise
before the first camera opens (``rtsp_transport;udp``): TCP passes firewalls and NAT and loses no
packets; UDP has a little less latency on a clean network.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import urllib.parse

import cv2
import numpy as np

from console.feeds.source import FrameSource, SourceLost, SourceUnauthorised
from console.redaction import redact_url

OPEN_TIMEOUT_MS = 5000  # connect, DESCRIBE, SETUP, PLAY and the first frames
READ_TIMEOUT_MS = 5000  # a live stream that delivers nothing this long is lost
PROBE_TIMEOUT_S = 3.0
DEFAULT_PORT = 554


class RtspSource(FrameSource):
    """An RTSP camera; lost streams reconnect with the base class's backoff (1 s doubling to 30 s)."""

    def __init__(self, url: str, *, fps_hint: float = 25.0, open_timeout_ms: int = OPEN_TIMEOUT_MS,
                 read_timeout_ms: int = READ_TIMEOUT_MS) -> None:
        super().__init__(realtime=False, fps_hint=fps_hint)
        self.url = self.secret_in = url
        self.shown_url = redact_url(url)
        self.name = f"rtsp-{urllib.parse.urlsplit(url).hostname or 'camera'}"
        self.open_timeout_ms, self.read_timeout_ms = open_timeout_ms, read_timeout_ms
        self._cap: cv2.VideoCapture | None = None

    def _open(self) -> None:
        os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")
        cap = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, self.open_timeout_ms,
                                                          cv2.CAP_PROP_READ_TIMEOUT_MSEC, self.read_timeout_ms])
        if not cap.isOpened():
            cap.release()
            unauthorised, why = diagnose(self.url, min(PROBE_TIMEOUT_S, self.open_timeout_ms / 1000))
            raise (SourceUnauthorised if unauthorised else SourceLost)(f"{self.shown_url}: {why}")
        self._cap = cap

    def _read(self) -> np.ndarray | None:
        ok, frame = self._cap.read()
        if not ok:
            raise SourceLost(f"{self.shown_url} stopped sending video (cut, or nothing for "
                             f"{self.read_timeout_ms / 1000:g} s)")
        return frame

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def diagnose(url: str, timeout_s: float = PROBE_TIMEOUT_S) -> tuple[bool, str]:
    """(the credential was refused, why the camera at ``url`` gives no video), from one RTSP
    DESCRIBE (two when it asks for a login). Never repeats the credential."""
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname or "", parts.port or DEFAULT_PORT
    user, password = urllib.parse.unquote(parts.username or ""), urllib.parse.unquote(parts.password or "")
    bare = urllib.parse.urlunsplit(parts._replace(netloc=f"{host}:{port}" if parts.port else host))
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as conn:
            conn.settimeout(timeout_s)
            status, headers = _describe(conn, bare, 1, "")
            if status == 401 and user:
                status, headers = _describe(conn, bare, 2, _authorization(headers, user, password, bare))
                if status == 401:
                    return True, "the camera refused the user name or password (401 Unauthorized)"
            elif status == 401:
                return True, "the camera asks for a user name and password and none is configured (401 Unauthorized)"
    except ConnectionRefusedError:
        return False, f"nothing answers on port {port}: connection refused (camera off, or RTSP on another port)"
    except TimeoutError:
        return False, f"the camera connects but does not answer within {timeout_s:g} s (hung, or not an RTSP service)"
    except OSError as exc:
        return False, f"cannot reach the camera: {exc.strerror or type(exc).__name__}"
    except ValueError:
        return False, "the camera's answer is not RTSP"
    if status == 404:
        return False, f"the camera has no stream at {parts.path or '/'} (404 Not Found)"
    if status == 200:
        return False, "the camera answers, but its video could not be opened (codec or transport)"
    return False, f"the camera answered RTSP {status}"


def _describe(conn: socket.socket, url: str, cseq: int, authorization: str) -> tuple[int, dict[str, str]]:
    request = f"DESCRIBE {url} RTSP/1.0\r\nCSeq: {cseq}\r\nAccept: application/sdp\r\n"
    if authorization:
        request += f"Authorization: {authorization}\r\n"
    conn.sendall((request + "\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise ValueError("closed")
        data += chunk
        if len(data) > 65536:
            raise ValueError("too long")
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = lines[0].split(" ", 2)
    if len(fields) < 2 or not fields[0].startswith("RTSP/") or not fields[1].isdigit():
        raise ValueError("not RTSP")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers.setdefault(key.strip().lower(), value.strip())
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:  # read the body out, so that a second request on this connection is clean
        chunk = conn.recv(4096)
        if not chunk:
            break
        rest += chunk
    return int(fields[1]), headers


def _authorization(headers: dict[str, str], user: str, password: str, uri: str) -> str:
    challenge = headers.get("www-authenticate", "")
    scheme, _, params = challenge.partition(" ")
    if scheme.lower() != "digest":
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    fields = dict(_param(p) for p in _split_params(params))
    realm, nonce = fields.get("realm", ""), fields.get("nonce", "")

    def md5(text: str) -> str:
        return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

    response = md5(f"{md5(f'{user}:{realm}:{password}')}:{nonce}:{md5(f'DESCRIBE:{uri}')}")
    return f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", response="{response}"'


def _split_params(params: str) -> list[str]:
    out, current, quoted = [], "", False
    for ch in params:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append(current)
            current = ""
        else:
            current += ch
    return [p for p in out + [current] if p.strip()]


def _param(text: str) -> tuple[str, str]:
    key, _, value = text.strip().partition("=")
    return key.strip().lower(), value.strip().strip('"')
