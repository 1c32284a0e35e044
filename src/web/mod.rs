//! The browser layer: the only code that touches JavaScript.

mod clock;
mod error;
mod idb;
mod options;
mod probe;
mod socket;
mod timer;

pub use probe::probe_connack;
