#!/usr/bin/env bash
# Make sure the real servers the control-room tests start exist: GStreamer's RTSP server (with
# Python bindings and an H.264 encoder) for the RTSP cameras, and mosquitto for MQTT out,
# installing Debian's packages when any is missing. Used by .ci/run; safe to run by hand.
set -euo pipefail
have() {
  command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || return 1
  command -v mosquitto_passwd >/dev/null 2>&1 || return 1
  /usr/bin/python3 -c "
import gi
gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0')
from gi.repository import Gst, GstRtspServer
Gst.init(None)
assert Gst.ElementFactory.find('x264enc') and Gst.ElementFactory.find('rtph264pay')
" >/dev/null 2>&1
}
if have; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install_servers.sh: GStreamer's RTSP server or mosquitto is missing and this is not root: run as root" \
      "'apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good" \
      "gstreamer1.0-plugins-ugly mosquitto'" >&2
    exit 1
  fi
fi
($SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-gi \
  gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly \
  mosquitto) >/dev/null
if ! have; then
  echo "install_servers.sh: apt-get ran but GStreamer's RTSP server, x264enc or mosquitto is still missing" >&2
  exit 1
fi
