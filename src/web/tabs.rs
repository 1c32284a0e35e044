//! What the tabs that share one connection need from the core besides the driver: a follower
//! tab routes the messages the leader tab fans out to it by the same topic matching.

use wasm_bindgen::prelude::*;

/// Whether `filter` matches `topic` (MQTT-4.7: wildcards, and `$` topics only by filters that
/// name their first level).
#[wasm_bindgen(js_name = topicMatches)]
pub fn topic_matches(filter: &str, topic: &str) -> bool {
    crate::topic::matches(filter, topic)
}
