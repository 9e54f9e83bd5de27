"""Where the handheld service can be reached, as the console needs to know it: the web service
(``main.py engage``) announces its address and certificate fingerprint in the store when it starts
(an installation setting, so every seat of a shared PostgreSQL store sees it), and the supervisor's
pairing dialog shows them beside the code and puts the pairing address in the QR code."""

from __future__ import annotations

import io
from dataclasses import dataclass

from console.store import Store
from console.store.settings import get_setting, set_setting

SCOPE, KEY = "installation", "handheld_service"
ACTOR = "handheld-service"


@dataclass(frozen=True)
class ServiceInfo:
    url: str  # https://host:port
    fingerprint: str  # SHA-256 of the certificate, colon-separated hex (as browsers show it)
    started_at: str

    def pairing_url(self, code: str = "") -> str:
        """The page a phone opens to pair; the code rides in the fragment, which browsers never send."""
        return f"{self.url}/pair" + (f"#{code}" if code else "")


def announce(store: Store, url: str, fingerprint: str, started_at: str) -> None:
    if get_setting(store, SCOPE, KEY) == {"url": url, "fingerprint": fingerprint, "started_at": started_at}:
        return
    set_setting(store, SCOPE, KEY, {"url": url, "fingerprint": fingerprint, "started_at": started_at}, None, ACTOR,
                "the handheld service started")


def current(store: Store) -> ServiceInfo | None:
    saved = get_setting(store, SCOPE, KEY)
    if not saved:
        return None
    return ServiceInfo(str(saved.get("url", "")), str(saved.get("fingerprint", "")), str(saved.get("started_at", "")))


def qr_png(text: str, scale: int = 6) -> bytes:
    """A QR code of ``text`` as a PNG (segno: a maintained encoder, no image library needed)."""
    import segno

    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=scale, border=2)
    return out.getvalue()
