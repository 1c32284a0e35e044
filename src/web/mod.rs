//! The browser layer: the only code that touches JavaScript.

mod probe;

pub use probe::probe_connack;
