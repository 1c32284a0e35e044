# Sourced by scripts that build or test for wasm32: picks the compiler that has the wasm32 target.
# A rustup toolchain with wasm32-unknown-unknown installed wins; otherwise Debian's rustc-web,
# whose binaries are in /usr/bin behind rustup's proxies on PATH.
if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  :
else
  export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
  export PATH="/usr/bin:$HOME/.cargo/bin:$PATH"
  # Debian's rustc-web and rustup's stable are different versions: keep their build outputs apart
  # so that neither rebuilds the other's.
  export CARGO_TARGET_DIR="${WASMQTT_WASM_TARGET_DIR:-$(pwd)/target/wasm}"
fi
# cargo-installed tools (wasm-bindgen, wasm-pack) live here.
case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) export PATH="$PATH:$HOME/.cargo/bin" ;; esac
