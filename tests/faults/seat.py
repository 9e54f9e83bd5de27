"""A headless seat: signs in as an operator and decides the deployment's pending alerts, as a person
at a console would, until SIGTERM. One JSON line per outcome on stdout:
{"decided": id} (the service said it was recorded), {"refused": id, "why": ...} (another seat had it,
or it was already decided), {"unsure": id, "why": ...} (the connection went while deciding).

    ORC_SEAT_PASSWORD=... python -m tests.faults.seat URL USERNAME DEPLOYMENT
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time


def main(url: str, username: str, deployment_id: int) -> int:
    from console.errors import ConsoleError
    from console.services.accounts import session
    from console.services.decisions import adjudication
    from console.store import open_location

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    actor = None
    while actor is None and not stop.is_set():
        try:
            actor = session.login(url, username, os.environ["ORC_SEAT_PASSWORD"])
        except ConsoleError as exc:
            print(json.dumps({"sign_in_failed": str(exc)}), flush=True)
            stop.wait(0.5)
    store = open_location(url)
    print(json.dumps({"signed_in": username}), flush=True)
    while not stop.is_set():
        try:
            # Its own claims too: a decision cut off by a lost connection leaves the alert claimed by this
            # seat (for 60 s), and a person at the console would open it again.
            rows = store.query("SELECT id FROM alerts WHERE deployment_id = ? AND status = 'pending' AND"
                               " (claimed_by IS NULL OR claimed_by = ? OR claim_expires < ?) ORDER BY id LIMIT 4",
                               (deployment_id, actor.user_id, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
        except ConsoleError as exc:
            print(json.dumps({"read_failed": str(exc)}), flush=True)
            stop.wait(0.3)
            continue
        if not rows:
            stop.wait(0.2)
            continue
        alert_id = int(rows[len(rows) // 2 if username.endswith("2") else 0]["id"])
        try:
            adjudication.open_alert(store, actor, alert_id)
            adjudication.reject(store, actor, alert_id, "look_alike")
            print(json.dumps({"decided": alert_id}), flush=True)
        except ConsoleError as exc:
            lost = "connection" in str(exc) or "lost" in str(exc)
            print(json.dumps({"unsure" if lost else "refused": alert_id, "why": str(exc)}), flush=True)
            stop.wait(0.2)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
