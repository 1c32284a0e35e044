// Loading a wasm module once, for each entry of the package (index.js: the client; codec.js: the
// codec, a wasm of its own so that a client bundle does not carry it), with the one error that
// says what to do when a bundler moved the module away from its .wasm.
import { MqttError, mqttError } from './errors.js';

/**
 * Makes an entry's `load(wasmUrl)`: runs wasm-bindgen's `init` once (again after a failure),
 * registers MqttError with the wasm (`setErrorClass`, for an entry whose wasm makes errors itself), then `loaded(wasm)`. `defaultUrl()` gives
 * `file` beside the entry (written as `new URL('...', import.meta.url)` in the entry, which
 * bundlers recognise and emit).
 */
export function wasmLoader({ init, setErrorClass, file, defaultUrl, loaded }) {
  let loading = null;
  return (wasmUrl) => {
    const url = wasmUrl ?? defaultUrl();
    loading ??= init({ module_or_path: localBytes(url) ?? url }).then((wasm) => {
      setErrorClass?.(MqttError);
      loaded(wasm);
      return wasm;
    }, (cause) => {
      loading = null;
      throw mqttError(
        'WASM_LOAD_FAILED',
        `could not load the wasm module from ${url}: ${cause?.message ?? cause}. If a bundler moved this ` +
          'module (e.g. Vite pre-bundling: add optimizeDeps: { exclude: ["wasmqtt"] }), serve ' +
          `${file} and pass its URL as the wasmUrl option.`,
        { cause },
      );
    });
    return loading;
  };
}

/**
 * Outside a browser (Node 22 or later) the module beside the entry is a file: URL, which
 * `fetch` does not read; its bytes come from the file system. `getBuiltinModule` rather than an
 * import, so that no bundler sees a Node module in a browser build.
 */
function localBytes(url) {
  const fs = url instanceof URL && url.protocol === 'file:' && globalThis.process?.getBuiltinModule?.('node:fs');
  return fs ? fs.promises.readFile(url) : null;
}
