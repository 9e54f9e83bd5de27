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

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
CHROMEDRIVER_CANDIDATES = ("/usr/bin/chromedriver", "chromedriver")
INSTALL = "install them with: sudo apt-get install chromium chromium-driver (or run .ci/install_browser.sh)"
PHONE = (390, 844, 3.0)
TABLET = (820, 1180, 2.0)
MOBILE_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0.0.0 Mobile Safari/537.36"
)
# No network at run time: nothing phones home, updates itself or fetches a component.
QUIET_FLAGS = (
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--metrics-recording-only",
    "--disable-dev-shm-usage",
    "--password-store=basic",
)


def _find(candidates: tuple[str, ...]) -> str | None:
    for name in candidates:
        found = shutil.which(name) if not os.path.isabs(name) else (name if os.access(name, os.X_OK) else None)
        if found:
            return found
    return None


def chromium_paths() -> tuple[str, str]:
    """(chromium, chromedriver), or the test fails saying how to install them."""
    chromium, driver = _find(CHROMIUM_CANDIDATES), _find(CHROMEDRIVER_CANDIDATES)
    missing = [name for name, path in (("chromium", chromium), ("chromedriver", driver)) if path is None]
    if missing:
        pytest.fail(f"the browser tests need the system's {' and '.join(missing)}: {INSTALL}", pytrace=False)
    return chromium, driver


def chrome_options(profile: Path, spki: str | None, size: tuple[int, int], scale: float, mobile: bool):
    from selenium import webdriver

    width, height = size
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_paths()[0]
    options.add_argument("--headless=new")
    options.add_argument(f"--user-data-dir={profile}")  # chromium honours the SPKI list only with its own profile
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument(f"--force-device-scale-factor={scale}")
    for flag in QUIET_FLAGS:
        options.add_argument(flag)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # chromium's sandbox refuses to start as root (CI containers)
    if spki:
        # Pin the installation's own key: any other self-signed certificate is still refused.
        options.add_argument(f"--ignore-certificate-errors-spki-list={spki}")
    if mobile:
        metrics = {"width": width, "height": height, "pixelRatio": scale, "touch": True}
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics, "userAgent": MOBILE_USER_AGENT})
    return options


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
