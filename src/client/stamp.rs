//! Publish stamps, for the delivery lag (issue #18.4): a publisher asked to stamp (`stamp:
//! true`) adds its wall-clock time, in milliseconds since the Unix epoch, as the MQTT 5 user
//! property [`STAMP_PROPERTY`]; a receiver takes its own wall clock minus the stamp as the lag
//! from publish to handler. Publisher and receiver on different machines measure their clock
//! skew too: that is the user's to know (or keep small with NTP). A stamp from the future counts
//! as no lag.

use crate::codec::Properties;

pub const STAMP_PROPERTY: &str = "wasmqtt-ts";

/// Adds the stamp `wall_ms` to `properties`.
pub fn stamp(properties: &mut Properties, wall_ms: u64) {
    properties
        .user_properties
        .push((STAMP_PROPERTY.to_string(), wall_ms.to_string()));
}

/// The stamp `properties` carry, if a readable one.
pub fn stamped_at(properties: &Properties) -> Option<u64> {
    properties
        .user_properties
        .iter()
        .find(|(name, _)| name == STAMP_PROPERTY)
        .and_then(|(_, value)| value.parse().ok())
}
