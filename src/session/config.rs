//! What the application chooses for a session. Defaults match js/index.d.ts.

use bytes::Bytes;

use super::copies::CopyPolicy;
use crate::codec::{LastWill, Properties, ProtocolVersion};

/// What to do when the offline queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Refuse the new publish with [`super::CommandError::QueueFull`].
    #[default]
    Reject,
    /// Drop the oldest queued QoS 0 message to make room; refuse if there is none. QoS 1/2
    /// messages are never dropped.
    DropOldestQos0,
}

/// Application-level de-duplication by a message id carried in a user property (MQTT 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DedupConfig {
    /// The user property that carries the id.
    pub key: String,
    /// How many ids are remembered.
    pub window_size: usize,
    /// How long an id is remembered, ms.
    pub window_ms: u64,
    /// Prefix of the ids this client generates; the host makes it unique per page load.
    pub id_prefix: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub protocol: ProtocolVersion,
    pub client_id: String,
    pub clean_start: bool,
    /// Seconds; 0 turns keepalive off.
    pub keep_alive: u16,
    pub username: Option<String>,
    /// Sent in CONNECT, never written to a store record.
    pub password: Option<Bytes>,
    pub will: Option<LastWill>,
    /// MQTT 5 CONNECT properties (session expiry, receive maximum, maximum packet size, topic
    /// alias maximum, request response/problem information, user properties, auth method/data).
    pub connect_properties: Properties,
    /// Most outgoing QoS 1/2 messages in flight; the broker's Receive Maximum caps it further.
    pub max_inflight: u16,
    /// ms to wait for PINGRESP (or anything) after a PINGREQ before the link counts as lost.
    pub ping_timeout_ms: u64,
    pub queue_max_messages: usize,
    pub queue_max_bytes: usize,
    /// Backpressure turns on above this share of either queue limit, off below the low one.
    pub high_watermark: f64,
    pub low_watermark: f64,
    pub overflow: Overflow,
    /// None turns de-duplication off (it is always off before MQTT 5: no user properties).
    pub dedup: Option<DedupConfig>,
    /// Emit store operations (false: nothing is persisted).
    pub persistent: bool,
    /// Most topic aliases this client uses for its own publishes (MQTT 5); the server's Topic
    /// Alias Maximum caps it further. 0 turns outbound aliases off.
    pub topic_aliases: u16,
    /// Give every subscription its own subscription identifier when the server supports them
    /// (MQTT 5), so that each message reaches exactly the handlers of the subscriptions it
    /// matched. The application may then set none itself.
    pub subscription_identifiers: bool,
    /// Copies a broker sends for overlapping subscriptions without saying which is which
    /// (MQTT 3.1.1; MQTT 5 without identifiers): see [`CopyPolicy`].
    pub copies: CopyPolicy,
    /// Prefix of the Correlation Data of this client's requests; the host makes it unique per
    /// page load, so that a late reply to an earlier page's request cannot match a new one.
    pub correlation_prefix: String,
}

impl Config {
    pub fn new(protocol: ProtocolVersion, client_id: impl Into<String>) -> Config {
        Config {
            protocol,
            client_id: client_id.into(),
            clean_start: true,
            keep_alive: 60,
            username: None,
            password: None,
            will: None,
            connect_properties: Properties::default(),
            max_inflight: u16::MAX,
            ping_timeout_ms: 10_000,
            queue_max_messages: 10_000,
            queue_max_bytes: 16 * 1024 * 1024,
            high_watermark: 0.8,
            low_watermark: 0.5,
            overflow: Overflow::Reject,
            dedup: Some(DedupConfig {
                key: "wasmqtt-id".into(),
                window_size: 10_000,
                window_ms: 600_000,
                id_prefix: String::new(),
            }),
            persistent: true,
            topic_aliases: 16,
            subscription_identifiers: true,
            copies: CopyPolicy::Collapse,
            correlation_prefix: String::new(),
        }
    }

    /// De-duplication in force: configured and MQTT 5.
    pub(crate) fn dedup(&self) -> Option<&DedupConfig> {
        self.dedup.as_ref().filter(|_| self.protocol.is_v5())
    }
}
