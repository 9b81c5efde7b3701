#!/bin/sh
# Installs the Debian 12 packages Veza Live needs to build, run and test,
# when they are missing. Uses sudo when not run as root.
set -eu

PACKAGES="
  gcc clang pkg-config meson ninja-build gettext
  libglib2.0-dev libsoup-3.0-dev libjson-glib-dev libpq-dev libsodium-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  postgresql ffmpeg curl
"
# Only for the tests: the nginx-rtmp peer, fuzzing runtime, the browser.
if [ "${1:-}" = "--test" ]; then
  PACKAGES="$PACKAGES nginx libnginx-mod-rtmp libclang-rt-14-dev llvm chromium"
fi

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-deps: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  SUDO=sudo
fi
echo "install-deps: installing$missing"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
