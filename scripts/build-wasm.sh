#!/usr/bin/env bash
# Builds the wasm package into pkg/ (ES module + .wasm + .d.ts) for browsers without a bundler.
# Usage: scripts/build-wasm.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/wasm-env.sh
profile=--release
[ "${1:-}" = "--dev" ] && profile=--dev
# Two wasm modules from the one crate, each with only its own exports (Cargo features), so that a
# client bundle does not carry the codec API nor the codec's the client:
#   pkg/wasmqtt*        the client (import 'wasmqtt': js/index.js)
#   pkg/wasmqtt_codec*  the low-level codec API (import 'wasmqtt/codec': js/codec.js)
build() { # features, out name
  if [ "$profile" = --release ]; then
    # Size: optimise for size only here (native release builds, e.g. the benchmarks' driver, keep
    # opt-level s), and build std with the immediate-abort panic strategy, which drops the panic
    # formatting machinery (about 8% of the wasm). Debian's rustc-web ships the std sources
    # (rust-web-src); RUSTC_BOOTSTRAP unlocks -Z build-std on this stable compiler. std's
    # optimize_for_size feature picks its smaller sort and integer formatting code (-2 KiB gzipped,
    # bench/SIZE.md).
    CARGO_PROFILE_RELEASE_OPT_LEVEL=z RUSTC_BOOTSTRAP=1 \
      RUSTFLAGS="${RUSTFLAGS:-} -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" \
      wasm-pack --log-level error build --quiet --no-pack "$profile" --target web --out-dir pkg \
      --out-name "$2" -- --no-default-features --features "$1" \
      -Z build-std=std,panic_abort -Z build-std-features=optimize_for_size
  else
    wasm-pack --log-level error build --quiet --no-pack "$profile" --target web --out-dir pkg \
      --out-name "$2" -- --no-default-features --features "$1"
  fi
  # Size: wasm-opt from the npm binaryen package (Debian's 108 corrupts the reference-types table
  # that rustc and wasm-bindgen use). Without node_modules yet, the build stays unoptimised.
  local wasm_opt=node_modules/.bin/wasm-opt wasm="pkg/$2_bg.wasm"
  if [ "$profile" = --release ] && [ -x "$wasm_opt" ]; then
    opt() {
      "$wasm_opt" -Oz --converge --enable-bulk-memory --enable-mutable-globals --enable-sign-ext \
        --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue "$@"
    }
    # WASMQTT_WASM_NAMES=DIR: also a copy that keeps function names, for a size profiler (twiggy).
    if [ -n "${WASMQTT_WASM_NAMES:-}" ]; then
      mkdir -p "$WASMQTT_WASM_NAMES"
      opt -g "$wasm" -o "$WASMQTT_WASM_NAMES/$2_bg.wasm"
    fi
    # The producers and target-features sections are metadata no engine reads.
    opt "$wasm" -o "$wasm" --strip-producers --strip-target-features
  fi
}
build client wasmqtt
build codec-api wasmqtt_codec
# The JavaScript facade and its types sit beside the generated bindings.
cp js/index.js js/codec.js js/errors.js js/load.js js/tabs.js js/pack.js js/index.d.ts js/codec.d.ts pkg/
