"""Cameras: added with their credential kept apart, and tested by grabbing one frame.

A source such as ``rtsp://viewer:secret@10.0.0.5/live`` is stored as ``rtsp://10.0.0.5/live`` in
``cameras.source`` (what screens, the audit log and the governed state see, redacted again for
tokens in a query string), and its ``viewer:secret`` in ``camera_credentials``, read back only to
connect (``connect_string``). A test opens the source, waits for one frame and closes it: the
frame comes back for a preview, or a MediaError says why there is none.
"""

from __future__ import annotations

import time
import urllib.parse

import numpy as np

from console.errors import ConsoleError, MediaError
from console.redaction import redact, redact_url
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.store import Store, audit, ledger, repo
from console.store import deployments as db

TEST_TIMEOUT_S = 8.0


def split_credential(source: str, username: str = "", password: str = "") -> tuple[str, str]:
    """(the source with no user or password in it, the ``user:password`` kept apart: "" for none).
    A user and password given separately are used for a stream URL that carries none."""
    s = source.strip()
    if "://" not in s:
        if username or password:
            raise ConsoleError("a user name or password goes with a stream URL (rtsp://, http://), not a file "
                               "or webcam")
        return s, ""
    parts = urllib.parse.urlsplit(s)
    userinfo, _, host = parts.netloc.rpartition("@")
    if username or password:
        if userinfo:
            raise ConsoleError("the URL already carries a user name; give it either in the URL or apart, not both")
        userinfo = urllib.parse.quote(username, safe="") + (":" + urllib.parse.quote(password, safe="")
                                                            if password else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=host)), userinfo


def join_credential(source: str, userinfo: str) -> str:
    if not userinfo:
        return source
    parts = urllib.parse.urlsplit(source)
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))


def add(store: Store, actor: Actor, deployment_id: int, name: str, source: str, username: str = "",
        password: str = "") -> int:
    """A camera for the deployment (administrator or supervisor); its credential stored apart."""
    actor.require(Permission.MANAGE_CAMERAS, store)
    dep = db.name_and_state(store, deployment_id)
    if dep is None or dep["state"] == "ended":
        raise ConsoleError(f"deployment {deployment_id} " + ("does not exist" if dep is None else
                                                             f"{dep['name']!r} has ended and is read-only"))
    if not name.strip() or not source.strip():
        raise ConsoleError("a camera needs a name and a source (a file, rtsp:// or http:// URL, or webcam:N)")
    clean, userinfo = split_credential(source, username, password)
    with store.transaction() as conn:
        camera_id = repo.add_camera(store, deployment_id, name.strip(), clean, actor.username)
        if userinfo:
            db.insert_camera_credential(conn, camera_id, userinfo)
            audit.append(store, actor.username, "camera.credential_stored", "camera", camera_id,
                         {"rows": ledger.of(conn, "camera_credentials", camera_id=camera_id)})
    return camera_id


def connect_string(store: Store, camera) -> str:
    """What a seat or worker opens: the stored source with its credential put back."""
    row = db.camera_credential(store, int(camera["id"]))
    return join_credential(camera["source"], row["userinfo"] if row else "")


def shown(store: Store, actor: Actor, deployment_id: int) -> list[dict]:
    """The cameras as a set-up screen lists them: name, redacted source, whether a credential is held,
    and, in a pool of workers, which host runs it now and since when (its lease, on the store's clock)."""
    from console.store import leases

    actor.require(Permission.MANAGE_CAMERAS, store)
    held = db.cameras_with_credentials(store, deployment_id)
    running = {int(r["camera_id"]): r for r in leases.holders(store, deployment_id)}
    return [{"id": int(r["id"]), "name": redact(r["name"]), "source": redact_url(r["source"]),
             "credential": "held apart (hidden)" if int(r["id"]) in held else "none",
             "running_on": _running_on(running.get(int(r["id"])))}
            for r in repo.cameras(store, deployment_id)]


def _running_on(lease) -> str:
    if lease is None:
        return "not in a pool"
    if not lease["live"]:
        return "no worker: waiting for one" + (f" (last {redact(lease['host'])})" if lease["host"] else "")
    return f"{redact(lease['host'])} since {lease['acquired_at'][:19].replace('T', ' ')} UTC"


def grab_frame(source: str, timeout_s: float = TEST_TIMEOUT_S) -> np.ndarray:
    """One frame from a source (file, stream or webcam), or MediaError saying why there is none;
    the credential of a URL never appears in the message. Blocks up to ``timeout_s``: run it in
    a background job."""
    from console.feeds.capture import open_source
    from console.feeds.source import SourceState

    try:
        src = open_source(source, loop=False, realtime=False)
    except (MediaError, ValueError, OSError) as exc:
        raise MediaError(f"no picture from {redact_url(source)}: {redact(str(exc))}") from None
    src.start()
    try:
        deadline = time.monotonic() + timeout_s
        seen = 0
        while time.monotonic() < deadline:
            seen, frame = src.slot.get_newer(seen, 0.2)
            if frame is not None:
                return frame.image
            if src.state in (SourceState.FAILED, SourceState.ENDED, SourceState.LOST, SourceState.UNAUTHORISED):
                break
        why = src.error or ("no frame within " f"{timeout_s:.0f} s")
        raise MediaError(f"no picture from {redact_url(source)}: {redact(why)}")
    finally:
        src.stop(timeout=1.0)


def test_camera(store: Store, actor: Actor, camera_id: int, timeout_s: float = TEST_TIMEOUT_S) -> np.ndarray:
    """Test a stored camera as a seat would open it (credential included)."""
    actor.require(Permission.MANAGE_CAMERAS, store)
    row = db.camera(store, camera_id)

    if row is None:
        raise ConsoleError(f"camera {camera_id} does not exist")
    return grab_frame(connect_string(store, row), timeout_s)
