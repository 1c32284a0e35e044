//! The one clock the browser layer reads: `performance.now()`, monotonic, in windows and workers
//! alike. The pure core never reads it; the driver passes its value in.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Milliseconds since the page (or worker) started.
pub(crate) fn now_ms() -> u64 {
    performance_now() as u64
}
