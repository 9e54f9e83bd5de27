"""The harness itself: real chromium, real uvicorn over HTTPS, the installation's own certificate."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from console.services.engage.certificate import ensure_certificate
from tests.browser.server import https_server

PAGE = (
    "<!doctype html><html><head><meta name='viewport' content='width=device-width, initial-scale=1'>"
    "<title>Handheld harness</title></head><body><p id='greeting'>pinned and served</p></body></html>"
)


def _app() -> Starlette:
    async def home(request):
        return HTMLResponse(PAGE)

    return Starlette(routes=[Route("/", home)])


def test_the_phone_loads_the_page_of_the_pinned_installation(phone, handheld_certificate):
    with https_server(_app(), handheld_certificate) as base_url:
        phone.get(base_url + "/")
        assert phone.title == "Handheld harness"
        assert phone.find_element("id", "greeting").text == "pinned and served"
        size = phone.execute_script("return [window.innerWidth, window.innerHeight, window.devicePixelRatio]")
        assert size == [390, 844, 3]
        assert "Mobile" in phone.execute_script("return navigator.userAgent")


def test_the_tablet_has_its_own_size(tablet, handheld_certificate):
    with https_server(_app(), handheld_certificate) as base_url:
        tablet.get(base_url + "/")
        assert tablet.find_element("id", "greeting").text == "pinned and served"
        assert tablet.execute_script("return [window.innerWidth, window.devicePixelRatio]") == [820, 2]


def test_a_pin_of_another_key_or_none_gets_the_certificate_error_not_the_page(browser_for, handheld_certificate, tmp_path):
    other = ensure_certificate(tmp_path / "another-installation", [])
    assert other.spki_sha256_b64 != handheld_certificate.spki_sha256_b64
    with https_server(_app(), handheld_certificate) as base_url:
        for pin in (other.spki_sha256_b64, None):
            browser = browser_for(pin)
            browser.get(base_url + "/")
            source = browser.page_source
            assert "pinned and served" not in source
            assert browser.title != "Handheld harness"
            assert "ERR_CERT" in source, source[:400]


def test_a_machine_without_chromium_fails_with_the_install_line(monkeypatch):
    from tests.browser import conftest

    monkeypatch.setattr(conftest, "CHROMIUM_CANDIDATES", ("/nonexistent/chromium",))
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium chromium-driver"):
        conftest.chromium_paths()
