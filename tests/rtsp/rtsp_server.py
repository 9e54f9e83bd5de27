"""An RTSP camera on loopback for the tests: GStreamer's RTSP server streaming H.264.

Run with the SYSTEM python (/usr/bin/python3, which has the `gi` bindings; the project's venv has
not), never imported by the tests. Frames come from a raw BGR file (``--frames``, written by the
fixture from real photos), looped at ``--fps``; each frame carries its push time in its top rows
as 32 black/white blocks (wall-clock milliseconds modulo 2**32, most significant bit first), so a
client can measure the latency from this server to its screen (tests/rtsp/stamp.py reads it).

    rtsp_server.py --port P --path /cam --frames F.bgr --width W --height H [--user U --password S
                   [--auth basic|digest]] [--silent]

``--silent`` listens on the port, accepts every connection and never answers (a hung camera).
It prints ``READY <port>`` on stdout once it listens; SIGTERM or SIGKILL cuts it.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import time

BLOCK = 16  # a stamp bit is a BLOCK x BLOCK square
BITS = 32


def stamp(frame: bytearray, width: int, value: int) -> None:
    """Write ``value`` as BITS blocks over the first BLOCK rows of a BGR frame."""
    white, black = b"\xff" * (3 * BLOCK), b"\x00" * (3 * BLOCK)
    for bit in range(BITS):
        cell = white if (value >> (BITS - 1 - bit)) & 1 else black
        x = bit * BLOCK * 3
        for row in range(BLOCK):
            at = row * width * 3 + x
            frame[at:at + 3 * BLOCK] = cell


def silent(port: int) -> None:
    """Accept and hold every connection, answer nothing."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    print(f"READY {srv.getsockname()[1]}", flush=True)
    held = []
    while True:
        conn, _ = srv.accept()
        held.append(conn)


def serve(args) -> None:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    gi.require_version("GstRtsp", "1.0")
    from gi.repository import GLib, Gst, GstRtsp, GstRtspServer

    Gst.init(None)
    size = args.width * args.height * 3
    blob = open(args.frames, "rb").read()
    frames = [blob[i:i + size] for i in range(0, len(blob) - size + 1, size)]
    if not frames:
        sys.exit(f"rtsp_server: {args.frames} holds no {args.width}x{args.height} BGR frame")
    period_ns = int(Gst.SECOND / args.fps)

    caps = f"video/x-raw,format=BGR,width={args.width},height={args.height},framerate={int(args.fps)}/1"
    launch = (f"( appsrc name=src is-live=true format=time do-timestamp=true caps={caps} ! videoconvert ! "
              "video/x-raw,format=I420 ! x264enc tune=zerolatency speed-preset=ultrafast bitrate=2000 "
              f"key-int-max={int(args.fps)} ! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 "
              "config-interval=1 )")
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(False)  # each client its own pipeline: a reconnect starts clean

    def configure(_factory, media) -> None:
        src = media.get_element().get_by_name("src")
        state = {"n": 0}

        def push() -> bool:
            frame = bytearray(frames[state["n"] % len(frames)])
            stamp(frame, args.width, int(time.time() * 1000) & 0xFFFFFFFF)
            buf = Gst.Buffer.new_wrapped(bytes(frame))
            buf.duration = period_ns
            state["n"] += 1
            return src.emit("push-buffer", buf) == Gst.FlowReturn.OK

        timer = GLib.timeout_add(int(1000 / args.fps), push)
        media.connect("unprepared", lambda *_: GLib.source_remove(timer) if timer else None)

    factory.connect("media-configure", configure)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    if args.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "camera-user")
        if args.auth == "digest":
            auth.add_digest(args.user, args.password, token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        else:
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role("camera-user", "media.factory.access", True)
        permissions.add_permission_for_role("camera-user", "media.factory.construct", True)
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        sys.exit(f"rtsp_server: cannot listen on 127.0.0.1:{args.port}")
    print(f"READY {server.get_bound_port()}", flush=True)
    loop = GLib.MainLoop()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    loop.run()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/cam")
    p.add_argument("--frames")
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=360)
    p.add_argument("--fps", type=float, default=25.0)
    p.add_argument("--user", default="")
    p.add_argument("--password", default="")
    p.add_argument("--auth", choices=("basic", "digest"), default="basic")
    p.add_argument("--silent", action="store_true")
    args = p.parse_args()
    if args.silent:
        silent(args.port)
    else:
        serve(args)


if __name__ == "__main__":
    main()
