#!/bin/sh
# Runs the already-built fuzz targets, each for N seconds (default 30).
#
#   fuzz/run-fuzzers.sh [SECONDS] [BUILD_DIR]
#
# BUILD_DIR (default: build-fuzz next to this folder's parent, or
# $VEZA_FUZZ_BUILD_DIR) must hold fuzz/fuzz-rtmp-chunk, fuzz/fuzz-amf0 and fuzz/fuzz-flv,
# built with CC=clang and -Dfuzzing=true. The seed corpus in fuzz/corpus/ is
# only read; new inputs go to a temporary folder. Exits non-zero if a target
# is missing or finds a crash (the crashing input is kept and its path shown).
set -u

here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-30}
build=${2:-${VEZA_FUZZ_BUILD_DIR:-$here/../build-fuzz}}
targets="fuzz-rtmp-chunk fuzz-amf0 fuzz-flv"
status=0

work=$(mktemp -d "${TMPDIR:-/tmp}/veza-fuzz-XXXXXX") || exit 2

for t in $targets; do
  bin="$build/fuzz/$t"
  if [ ! -x "$bin" ]; then
    echo "run-fuzzers: $bin is not built" >&2
    status=1
    continue
  fi
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  echo "run-fuzzers: $t for ${seconds}s"
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$work/$t/artifacts/" \
       "$work/$t/corpus" "$here/corpus/$t" >"$work/$t/log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|Done)' "$work/$t/log" || tail -n 2 "$work/$t/log"
  else
    echo "run-fuzzers: $t FAILED; log and crashing input in $work/$t" >&2
    tail -n 40 "$work/$t/log" >&2
    status=1
  fi
done

if [ "$status" -eq 0 ]; then
  rm -rf "$work"
fi
exit "$status"
