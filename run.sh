#!/bin/sh
# Quick start: installs what is missing, builds, and runs vezad with its
# embedded defaults (a private PostgreSQL, ports on 127.0.0.1). Extra
# arguments go to vezad, e.g. ./run.sh --http-port 9090
set -eu
cd "$(dirname "$0")"
tools/install-deps.sh
[ -d build ] || meson setup build --buildtype=debugoptimized
ninja -C build
# Plugins from the build tree; data in ~/.local/share/veza (or --data-dir).
export VEZA_PLUGIN_PATH="$PWD/build/plugins"
# Pages from the source tree.
export VEZA_WEB_DIR="$PWD/data/web"
exec build/src/vezad "$@"
