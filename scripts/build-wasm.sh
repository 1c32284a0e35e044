#!/usr/bin/env bash
# Builds the wasm package into pkg/ (ES module + .wasm + .d.ts) for browsers without a bundler.
# Usage: scripts/build-wasm.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/wasm-env.sh
profile=--release
[ "${1:-}" = "--dev" ] && profile=--dev
wasm-pack --log-level error build --quiet --no-pack "$profile" --target web --out-dir pkg --out-name wasmqtt
# The JavaScript facade and its types sit beside the generated bindings.
cp js/index.js js/index.d.ts pkg/
