#!/usr/bin/env bash
# The size floor (bench/SIZE.md): the client core, the API layer and the codec behind a byte
# interface, with no browser layer, built as scripts/build-wasm.sh builds the client.
# Prints raw and gzip -9 bytes. Usage: bash bench/size-floor/build.sh
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
. "$root/scripts/wasm-env.sh"
export CARGO_TARGET_DIR="$root/target/size-floor"
CARGO_PROFILE_RELEASE_OPT_LEVEL=z RUSTC_BOOTSTRAP=1 \
  RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" \
  cargo build --quiet --release --target wasm32-unknown-unknown \
  -Z build-std=std,panic_abort -Z build-std-features=optimize_for_size
out="$CARGO_TARGET_DIR/floor.wasm"
"$root/node_modules/.bin/wasm-opt" -Oz --converge --enable-bulk-memory --enable-mutable-globals \
  --enable-sign-ext --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
  --strip-debug --strip-producers "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/wasmqtt_size_floor.wasm" -o "$out"
echo "floor wasm: $(wc -c < "$out") B raw, $(gzip -9 -c "$out" | wc -c) B gzip -9"
