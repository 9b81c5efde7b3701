#!/bin/sh
# Installs what is missing, builds, and runs every test suite: first under
# AddressSanitizer/UBSan, then the fuzzers for a short while, then the normal
# build (whose meson summary ends the output).
#   ./test.sh            everything
#   ./test.sh --quick    the normal build's suites only
set -eu
cd "$(dirname "$0")"
tools/install-deps.sh --test

# The browser test's packages (playwright-core, hls.js), as locked.
if command -v npm >/dev/null 2>&1; then
  (cd tests/browser && npm ci --no-audit --no-fund)
fi

quick=0
[ "${1:-}" = "--quick" ] && quick=1

if [ $quick = 0 ]; then
  echo "== AddressSanitizer + UBSan build =="
  [ -d build-asan ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
      --buildtype=debug
  ninja -C build-asan
  meson test -C build-asan --print-errorlogs --num-processes 1

  echo "== fuzzers (libFuzzer) =="
  [ -d build-fuzz ] || CC=clang meson setup build-fuzz -Dfuzzing=true --buildtype=debug
  ninja -C build-fuzz fuzz/fuzz-rtmp-chunk fuzz/fuzz-amf0 fuzz/fuzz-flv
  fuzz/run-fuzzers.sh "${FUZZ_SECONDS:-30}" build-fuzz
fi

echo "== tests =="
# Warnings are errors here: the tree builds clean with -Wall -Wextra.
[ -d build ] || meson setup build --buildtype=debugoptimized --werror
ninja -C build
meson test -C build --print-errorlogs --num-processes 1
