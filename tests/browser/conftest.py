"""Real chromium for the handheld service's tests: a phone, a tablet, or any size, pinned to one key.

- `browser_for(spki, size=(390, 844), scale=3)` makes a headless chromium (fresh profile in tmp_path)
  that trusts exactly the certificate whose SPKI hash is `spki` (Certificate.spki_sha256_b64) and no
  other self-signed one; `spki=None` trusts nothing extra. Every driver it made quits at teardown.
- `phone` (390 x 844 at 3x) and `tablet` (820 x 1180 at 2x) are pinned to `handheld_certificate`, the
  certificate of a fresh installation in tmp_path; a test module that serves another installation
  overrides that fixture with its own.

A machine without chromium fails these tests with the line to install it: never a skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import chromium

CHROMIUM_CANDIDATES = chromium.CHROMIUM_CANDIDATES
CHROMEDRIVER_CANDIDATES = chromium.CHROMEDRIVER_CANDIDATES
INSTALL = chromium.INSTALL
PHONE = chromium.PHONE
TABLET = chromium.TABLET


def chromium_paths() -> tuple[str, str]:
    """(chromium, chromedriver), or the test fails saying how to install them."""
    try:
        return chromium.paths(CHROMIUM_CANDIDATES, CHROMEDRIVER_CANDIDATES)
    except chromium.BrowserMissing as exc:
        pytest.fail(str(exc), pytrace=False)


def chrome_options(profile: Path, spki: str | None, size: tuple[int, int], scale: float, mobile: bool):
    return chromium.options(chromium_paths()[0], profile, spki, size, scale, mobile)


@pytest.fixture
def browser_for(tmp_path_factory):
    """Factory: browser_for(spki, size=(390, 844), scale=3.0, mobile=True) -> webdriver.Chrome; all quit at teardown."""
    chromium_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers = []

    def make(spki: str | None, size: tuple[int, int] = PHONE[:2], scale: float = PHONE[2], mobile: bool = True):
        profile = tmp_path_factory.mktemp("chromium-profile")
        options = chrome_options(profile, spki, size, scale, mobile)
        # The driver's path is given, so Selenium Manager never looks for (or downloads) one.
        driver = webdriver.Chrome(options=options, service=Service(executable_path=chromium_paths()[1]))
        driver.set_page_load_timeout(30)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.quit()


@pytest.fixture
def handheld_certificate(tmp_path):
    """The certificate a fresh installation in tmp_path/data makes on its first start."""
    from console.services.engage.certificate import ensure_certificate

    return ensure_certificate(tmp_path / "data", ["localhost"])


@pytest.fixture
def phone(browser_for, handheld_certificate):
    return browser_for(handheld_certificate.spki_sha256_b64, size=PHONE[:2], scale=PHONE[2])


@pytest.fixture
def tablet(browser_for, handheld_certificate):
    return browser_for(handheld_certificate.spki_sha256_b64, size=TABLET[:2], scale=TABLET[2])
