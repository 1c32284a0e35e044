#!/usr/bin/env bash
# Builds the wasm package into pkg/ (ES module + .wasm + .d.ts) for browsers without a bundler.
# Usage: scripts/build-wasm.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/wasm-env.sh
profile=--release
[ "${1:-}" = "--dev" ] && profile=--dev
wasm-pack --log-level error build --quiet --no-pack "$profile" --target web --out-dir pkg --out-name wasmqtt
# Size: Debian's binaryen (108) is older than rustc's output, so the features rustc uses are named.
if [ "$profile" = --release ] && command -v wasm-opt >/dev/null 2>&1; then
  wasm-opt -Oz --enable-bulk-memory --enable-mutable-globals --enable-sign-ext \
    --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
    pkg/wasmqtt_bg.wasm -o pkg/wasmqtt_bg.wasm
fi
# The JavaScript facade and its types sit beside the generated bindings.
cp js/index.js js/index.d.ts pkg/
