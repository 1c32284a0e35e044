//! wasmqtt: an MQTT 3.1.1 and 5.0 client for web browsers.
//!
//! The crate has five layers:
//! - [`codec`]: the packet model, encoder and streaming decoder (pure Rust);
//! - [`session`]: the deterministic, sans-I/O client state machine (pure Rust, no clock, no
//!   socket, no database);
//! - [`client`]: the session with its link supervisor, store sync, socket bookkeeping and
//!   error rules, as one deterministic machine the browser layer drives (pure Rust);
//! - [`api`]: the JavaScript API's arguments, options, results and events, packed as bytes for
//!   the wasm boundary and checked here (pure Rust);
//! - `web` (wasm32 only): the browser layer: it opens the WebSockets, IndexedDB transactions
//!   and timer the client asks for, and converts to and from JavaScript; it decides nothing.

pub mod api;
pub mod client;
pub mod codec;
pub mod session;
mod sort;
pub mod topic;

#[cfg(target_arch = "wasm32")]
pub mod web;
