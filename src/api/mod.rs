//! The JavaScript API's side of the wasm boundary, in plain Rust: the packed values that cross it
//! ([`value`]), the application's options and arguments read and checked from them, the core's
//! events and results written into them, and the calls by name. The browser layer (`web`) only
//! moves the bytes; everything here is tested on the host.

pub mod arguments;
pub mod calls;
pub mod events;
pub mod fields;
pub mod options;
pub mod props;
pub mod value;

pub use calls::call;
pub use fields::{Checked, InvalidArgument};
pub use value::{unpack, Kind, Malformed, Value, Writer};
