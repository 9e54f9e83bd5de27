"""The system's chromium as a phone or a tablet, pinned to one certificate's key - without pytest, so
the benchmarks and the phone screenshots (benchmarks/) drive the same browser the tests do.
tests/browser/conftest.py wraps these in fixtures."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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


class BrowserMissing(RuntimeError):
    pass


def _find(candidates: tuple[str, ...]) -> str | None:
    for name in candidates:
        found = shutil.which(name) if not os.path.isabs(name) else (name if os.access(name, os.X_OK) else None)
        if found:
            return found
    return None


def paths(chromium_candidates=CHROMIUM_CANDIDATES, driver_candidates=CHROMEDRIVER_CANDIDATES) -> tuple[str, str]:
    """(chromium, chromedriver), or BrowserMissing saying how to install them."""
    chromium, driver = _find(chromium_candidates), _find(driver_candidates)
    missing = [name for name, path in (("chromium", chromium), ("chromedriver", driver)) if path is None]
    if missing:
        raise BrowserMissing(f"the browser tests need the system's {' and '.join(missing)}: {INSTALL}")
    return chromium, driver


def options(binary: str, profile: Path, spki: str | None, size: tuple[int, int], scale: float, mobile: bool):
    from selenium import webdriver

    width, height = size
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    opts.add_argument("--headless=new")
    opts.add_argument(f"--user-data-dir={profile}")  # chromium honours the SPKI list only with its own profile
    opts.add_argument(f"--window-size={width},{height}")
    opts.add_argument(f"--force-device-scale-factor={scale}")
    for flag in QUIET_FLAGS:
        opts.add_argument(flag)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        opts.add_argument("--no-sandbox")  # chromium's sandbox refuses to start as root (CI containers)
    if spki:
        # Pin the installation's own key: any other self-signed certificate is still refused.
        opts.add_argument(f"--ignore-certificate-errors-spki-list={spki}")
    if mobile:
        metrics = {"width": width, "height": height, "pixelRatio": scale, "touch": True}
        opts.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics, "userAgent": MOBILE_USER_AGENT})
    return opts


def start(profile: Path, spki: str | None, size: tuple[int, int] = PHONE[:2], scale: float = PHONE[2], mobile: bool = True):
    """A headless chromium (webdriver.Chrome) with a fresh profile in ``profile``; the caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = paths()
    # The driver's path is given, so Selenium Manager never looks for (or downloads) one.
    driver = webdriver.Chrome(options=options(binary, profile, spki, size, scale, mobile),
                              service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(30)
    return driver
