#!/usr/bin/env bash
# Builds the wasm package into pkg/ (ES module + .wasm + .d.ts) for browsers without a bundler.
# Usage: scripts/build-wasm.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/wasm-env.sh
profile=--release
[ "${1:-}" = "--dev" ] && profile=--dev
if [ "$profile" = --release ]; then
  # Size: optimise for size only here (native release builds, e.g. the benchmarks' driver, keep
  # opt-level s), and build std with the immediate-abort panic strategy, which drops the panic
  # formatting machinery (about 8% of the wasm). Debian's rustc-web ships the std sources
  # (rust-web-src); RUSTC_BOOTSTRAP unlocks -Z build-std on this stable compiler.
  CARGO_PROFILE_RELEASE_OPT_LEVEL=z RUSTC_BOOTSTRAP=1 \
    RUSTFLAGS="${RUSTFLAGS:-} -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" \
    wasm-pack --log-level error build --quiet --no-pack "$profile" --target web --out-dir pkg \
    --out-name wasmqtt -- -Z build-std=std,panic_abort
else
  wasm-pack --log-level error build --quiet --no-pack "$profile" --target web --out-dir pkg --out-name wasmqtt
fi
# Size: wasm-opt from the npm binaryen package (Debian's 108 corrupts the reference-types table
# that rustc and wasm-bindgen use). Without node_modules yet, the build stays unoptimised.
wasm_opt=node_modules/.bin/wasm-opt
if [ "$profile" = --release ] && [ -x "$wasm_opt" ]; then
  "$wasm_opt" -Oz --converge --enable-bulk-memory --enable-mutable-globals --enable-sign-ext \
    --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
    pkg/wasmqtt_bg.wasm -o pkg/wasmqtt_bg.wasm
fi
# The JavaScript facade and its types sit beside the generated bindings.
cp js/index.js js/codec.js js/errors.js js/tabs.js js/index.d.ts pkg/
