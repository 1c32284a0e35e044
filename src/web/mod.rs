//! The browser layer: the only code that touches JavaScript. It makes two wasm modules (Cargo
//! features): the client (`client`) and the low-level codec API (`codec-api`, its own entry,
//! `wasmqtt/codec`). `error`, `options` and `props` serve both; every other module belongs to one.

#[cfg(feature = "client")]
mod arguments;
#[cfg(feature = "client")]
mod client_options;
#[cfg(feature = "client")]
mod clock;
#[cfg(feature = "codec-api")]
mod codec_api;
#[cfg(feature = "codec-api")]
mod codec_record;
#[cfg(feature = "client")]
mod convert;
#[cfg(feature = "client")]
mod driver;
// Shared: an item one entry does not use is dead code in the other's build.
#[cfg_attr(not(all(feature = "client", feature = "codec-api")), allow(dead_code))]
mod error;
#[cfg(feature = "client")]
mod idb;
#[cfg(feature = "client")]
mod journal;
// Shared: an item one entry does not use is dead code in the other's build.
#[cfg_attr(not(all(feature = "client", feature = "codec-api")), allow(dead_code))]
mod options;
#[cfg(feature = "client")]
mod page;
#[cfg(feature = "client")]
mod probe;
// Shared: an item one entry does not use is dead code in the other's build.
#[cfg_attr(not(all(feature = "client", feature = "codec-api")), allow(dead_code))]
mod props;
#[cfg(feature = "client")]
mod socket;
#[cfg(feature = "client")]
mod tabs;
#[cfg(feature = "client")]
mod timer;

#[cfg(feature = "codec-api")]
pub use codec_api::{CodecEncoder, CodecParser};
#[cfg(feature = "client")]
pub use driver::Driver;
#[cfg(feature = "client")]
pub use probe::probe_connack;
#[cfg(feature = "client")]
pub use tabs::topic_matches;
