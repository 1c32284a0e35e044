#!/usr/bin/env bash
# Fuzzes the packet decoder for SECONDS (default 60) with cargo-fuzz (libFuzzer, nightly).
# Usage: scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...]
# Crashes land in fuzz/artifacts/decode/; reproduce one with
#   cargo +nightly fuzz run decode fuzz/artifacts/decode/<file>
set -euo pipefail

seconds="${1:-60}"
shift || true
cd "$(dirname "$0")/.."

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz.sh: a nightly toolchain is needed (rustup toolchain install nightly)" >&2
  exit 1
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz
fi

mkdir -p fuzz/corpus/decode
# -malloc_limit_mb: any single allocation over 64 MiB is a bug here (inputs are at most 4 KiB),
# which is how a length field that makes the decoder allocate without bound would show.
exec cargo +nightly fuzz run decode fuzz/corpus/decode fuzz/seeds/decode -- \
  -max_total_time="$seconds" -max_len=4096 -malloc_limit_mb=64 -rss_limit_mb=2048 \
  -print_final_stats=1 "$@"
