//! The browser layer: the only code that touches JavaScript. It makes two wasm modules (Cargo
//! features): the client (`client`) and the low-level codec API (`codec-api`, its own entry,
//! `wasmqtt/codec`). What crosses to JavaScript is packed bytes (src/api), never objects built
//! field by field here.

#[cfg(feature = "client")]
mod clock;
#[cfg(feature = "codec-api")]
mod codec_api;
#[cfg(feature = "codec-api")]
mod codec_record;
#[cfg(feature = "client")]
mod driver;
#[cfg(feature = "codec-api")]
mod error;
#[cfg(feature = "client")]
mod idb;
#[cfg(feature = "client")]
mod journal;
#[cfg(feature = "client")]
mod page;
#[cfg(feature = "client")]
mod probe;
#[cfg(feature = "client")]
mod socket;
#[cfg(feature = "client")]
mod timer;

#[cfg(feature = "codec-api")]
pub use codec_api::{CodecEncoder, CodecParser};
#[cfg(feature = "client")]
pub use driver::Driver;
#[cfg(feature = "client")]
pub use probe::probe_connack;
