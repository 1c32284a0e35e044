#!/usr/bin/env bash
# Builds the wasm package into pkg/ (ES module + .wasm + .d.ts) for browsers without a bundler.
# Usage: scripts/build-wasm.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/wasm-env.sh
profile=--release
[ "${1:-}" = "--dev" ] && profile=--dev
wasm-pack --log-level error build --quiet --no-pack "$profile" --target web --out-dir pkg --out-name wasmqtt
# Size: wasm-opt from the npm binaryen package (Debian's 108 corrupts the reference-types table
# that rustc and wasm-bindgen use). Without node_modules yet, the build stays unoptimised.
wasm_opt=node_modules/.bin/wasm-opt
if [ "$profile" = --release ] && [ -x "$wasm_opt" ]; then
  "$wasm_opt" -Oz --enable-bulk-memory --enable-mutable-globals --enable-sign-ext \
    --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
    pkg/wasmqtt_bg.wasm -o pkg/wasmqtt_bg.wasm
fi
# The JavaScript facade and its types sit beside the generated bindings.
cp js/index.js js/codec.js js/index.d.ts pkg/
