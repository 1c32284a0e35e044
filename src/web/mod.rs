//! The browser layer: the only code that touches JavaScript.

mod arguments;
mod client_options;
mod clock;
mod codec_api;
mod codec_record;
mod convert;
mod driver;
mod error;
mod idb;
mod options;
mod page;
mod probe;
mod props;
mod socket;
mod tabs;
mod timer;

pub use codec_api::{CodecEncoder, CodecParser};
pub use driver::Driver;
pub use probe::probe_connack;
pub use tabs::topic_matches;
