//! What the application chooses for a session. Defaults match js/index.d.ts.

use core::fmt;

use bytes::Bytes;

use super::copies::CopyPolicy;
use super::limits::DEFAULT_MAXIMUM_PACKET_SIZE;
use crate::codec::{self, Connect, EncodeError, LastWill, Packet, Properties, ProtocolVersion};
use crate::topic;

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

/// When an inbound message is acknowledged (see processing.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AckMode {
    /// As soon as its receipt is durable; the handler is called then, and a page that dies
    /// inside it loses the message.
    #[default]
    OnReceipt,
    /// Only once its handlers have settled and the mark that they ran is durable.
    AfterHandler,
}

/// How handlers run in [`AckMode::AfterHandler`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandlerConfig {
    /// Most messages whose handlers run (or wait to retry) at once.
    pub concurrency: usize,
    /// Further attempts after a handler fails, before the message is dead-lettered.
    pub retries: u32,
    /// The delay before the first retry; each next one doubles it.
    pub retry_delay_ms: u64,
    /// Most payload and topic bytes of QoS 0 messages waiting for a handler; the oldest go.
    pub queue_max_bytes: usize,
}

impl Default for HandlerConfig {
    fn default() -> HandlerConfig {
        HandlerConfig {
            // One at a time keeps the order the broker sent them in (4.6).
            concurrency: 1,
            retries: 3,
            retry_delay_ms: 1_000,
            queue_max_bytes: 1024 * 1024,
        }
    }
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
    /// Move the window under that cap with the acknowledgements' latency (see window.rs).
    pub adaptive_window: bool,
    /// How the link is judged dead: a fixed timeout after a PINGREQ (ms to wait for PINGRESP or
    /// anything), or the adaptive heartbeat (see `heartbeat.rs`).
    pub keepalive: super::Keepalive,
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
    /// When inbound messages are acknowledged, unless their route says otherwise.
    pub ack: AckMode,
    pub handlers: HandlerConfig,
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
            adaptive_window: false,
            keepalive: super::Keepalive::Fixed {
                ping_timeout_ms: 10_000,
            },
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
            ack: AckMode::OnReceipt,
            handlers: HandlerConfig::default(),
        }
    }

    /// De-duplication in force: configured and MQTT 5.
    pub(crate) fn dedup(&self) -> Option<&DedupConfig> {
        self.dedup.as_ref().filter(|_| self.protocol.is_v5())
    }
}

/// Why a configuration cannot be used: the option at fault (named as the application names it)
/// and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub field: &'static str,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

impl std::error::Error for ConfigError {}

fn named<E: fmt::Display>(field: &'static str) -> impl Fn(E) -> ConfigError {
    move |error| ConfigError {
        field,
        problem: error.to_string(),
    }
}

impl Config {
    /// The largest packet this client accepts: the Maximum Packet Size it sends in CONNECT
    /// (MQTT 5) and its decoder enforces (every version).
    pub fn incoming_packet_limit(&self) -> u32 {
        self.connect_properties
            .maximum_packet_size
            .unwrap_or(DEFAULT_MAXIMUM_PACKET_SIZE)
    }

    /// The CONNECT this configuration sends.
    pub(crate) fn connect(&self) -> Connect {
        let properties = if self.protocol.is_v5() {
            Properties {
                maximum_packet_size: Some(self.incoming_packet_limit()),
                ..self.connect_properties.clone()
            }
        } else {
            Properties::default()
        };
        Connect {
            protocol: self.protocol,
            bridge: false,
            clean_start: self.clean_start,
            keep_alive: self.keep_alive,
            client_id: self.client_id.clone(),
            will: self.will.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            properties,
        }
    }

    /// Checks every field against the protocol's limits when it is given (a string or binary
    /// field over 65,535 bytes, U+0000 in a string, an invalid will topic, a property out of
    /// range...), naming the one at fault. A configuration that passes always encodes: its
    /// CONNECT cannot be dropped for failing to, and the broker cannot refuse it for it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        codec::check_string(&self.client_id).map_err(named("clientId"))?;
        if let Some(username) = &self.username {
            codec::check_string(username).map_err(named("username"))?;
        }
        if let Some(password) = &self.password {
            codec::check_binary(password).map_err(named("password"))?;
        }
        if let Some(will) = &self.will {
            topic::validate_topic_name(&will.topic).map_err(named("will.topic"))?;
            codec::check_binary(&will.payload).map_err(named("will.payload"))?;
        }
        if let Some(dedup) = &self.dedup {
            codec::check_string(&dedup.key).map_err(named("dedup.key"))?;
        }
        // The rest is the codec's own check of the whole CONNECT: first without the will (its
        // properties, 3.1.1's password without a user name), then with it.
        let connect = self.connect();
        let without_will = Connect {
            will: None,
            ..connect.clone()
        };
        codec::validate(&Packet::Connect(Box::new(without_will)), self.protocol).map_err(
            |error| match error {
                EncodeError::PasswordWithoutUsername => named("password")(error),
                _ => named("properties")(error),
            },
        )?;
        codec::validate(&Packet::Connect(Box::new(connect)), self.protocol)
            .map_err(named("will"))?;
        Ok(())
    }
}
