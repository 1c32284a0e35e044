//! The MQTT 3.1, 3.1.1 and 5.0 packet codec: one packet model for all versions, strict
//! validation with typed errors, and a streaming decoder.

pub mod packet;
pub mod properties;
pub mod reason;

pub use packet::*;
pub use properties::Properties;
