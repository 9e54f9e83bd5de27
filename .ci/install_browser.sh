#!/usr/bin/env bash
# Make sure the system's chromium and chromedriver exist for the browser tests (tests/browser/),
# installing Debian's packages when either is missing. Used by .ci/run; safe to run by hand.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install_browser.sh: chromium or chromedriver is missing and this is not root: run 'apt-get install chromium chromium-driver' as root" >&2
    exit 1
  fi
fi
($SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver) >/dev/null
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "install_browser.sh: apt-get ran but chromium or chromedriver is still missing" >&2
  exit 1
fi
