//! The deterministic, sans-I/O MQTT client session.
//!
//! The host drives it: it passes `now` (milliseconds from any fixed origin) into every call,
//! hands in decoded packets and transport changes, and after every call pulls out everything
//! that is ready:
//! - [`Session::poll_packet`]: packets to send, in order, at once;
//! - [`Session::poll_store`]: writes for the durable store; batch them, commit, then report the
//!   highest committed `seq` with [`Session::handle_store_committed`];
//! - [`Session::poll_event`]: events for the application;
//! - [`Session::poll_timeout`]: the one deadline at which to call [`Session::handle_timeout`].
//!
//! Acknowledgements that promise durability (PUBREC and, with de-duplication, PUBACK for inbound
//! messages; PUBREL and PUBCOMP) and the delivery of inbound messages wait until the writes
//! before them are committed, so a crash can neither lose a message nor deliver it twice.
//! Acknowledging after the handler (processing.rs), the acknowledgement also waits for the
//! application's handlers and the durable mark that they ran.

mod alias;
mod auth;
mod config;
mod copies;
mod dedup;
mod event;
mod heartbeat;
mod inbound;
mod limits;
mod outbound;
mod processing;
mod request;
mod router;
mod store;
mod store_name;
mod subscribing;
mod subscriptions;
mod window;

use std::collections::{HashMap, HashSet, VecDeque};

use bytes::Bytes;

use crate::codec::{
    reason, Ack, ConnAck, Disconnect, EncodeError, Packet, Properties, ProtocolVersion, Publish,
    QoS, Subscribe, SubscriptionOptions, Unsubscribe,
};
use crate::sort;
use crate::topic;

pub use auth::AuthError;
pub use config::{AckMode, Config, ConfigError, DedupConfig, HandlerConfig, Overflow};
pub use copies::CopyPolicy;
pub use event::{is_permanent_refusal, CommandError, Event, Goodbye, LostReason, Token};
pub use heartbeat::{Keepalive, ADAPTIVE_BASE_MS, MISSED_BEATS};
pub use limits::DEFAULT_MAXIMUM_PACKET_SIZE;
pub use request::{RequestError, RequestSpec};
pub use store::{is_mark_key, is_outgoing_key, StoreOp, Write};
pub(crate) use store::{last_writes, put_message, read_message};
pub use store_name::{broker_identity, earlier_storage_names, storage_name};
pub use window::INITIAL_WINDOW;

use alias::{OutboundAliases, Use};
use auth::AuthState;
use copies::ExpectedCopies;
use dedup::SeenIds;
use heartbeat::{Beat, Heartbeat};
use limits::ServerLimits;
use outbound::{Outbound, PubRec};
use processing::Processing;
use request::Requests;
use router::Router;
use store::{Record, StoreLog};
use subscribing::Control;
use subscriptions::Subscriptions;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Down,
    AwaitingConnAck,
    Up,
}

/// Something that must wait until the store has committed up to a sequence number.
#[derive(Debug)]
enum Gated {
    Send(Packet),
    Deliver(Publish),
    /// An application result that promises durable state (a subscription recorded).
    Report(Event),
}

/// A publish the application asks for.
#[derive(Debug, Clone, Default)]
pub struct PublishRequest {
    pub topic: String,
    pub payload: Bytes,
    pub qos: QoS,
    pub retain: bool,
    pub properties: Properties,
    /// The application message id for de-duplication; generated when None.
    pub message_id: Option<String>,
}

/// Counters and gauges for the application.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Metrics {
    pub connected: bool,
    pub inflight: usize,
    pub queued: usize,
    pub queued_bytes: usize,
    pub sent: u64,
    pub received: u64,
    pub duplicates_dropped: u64,
    pub reconnects: u64,
    /// The smoothed PINGREQ / PINGRESP round trip, once measured.
    pub rtt_ms: Option<u64>,
    /// The time between PINGREQs now (adaptive keepalive follows the round trip; 0: off).
    pub keepalive_interval_ms: u64,
    /// PUBLISH packets sent with an empty topic name, standing on a topic alias.
    pub topic_alias_hits: u64,
    /// Inbound copies for overlapping subscriptions taken as such and not delivered again.
    pub copies_dropped: u64,
    /// Most QoS 1/2 messages in flight now: the cap, min(`max_inflight`, Receive Maximum),
    /// or below it what the adaptive window allows.
    pub window: usize,
    /// Acknowledging after the handler: messages whose handlers run or wait to retry, and
    /// those waiting for a slot.
    pub handlers_running: usize,
    pub handlers_waiting: usize,
    /// The median and 99th percentile of the latest handler durations, once measured.
    pub handler_latency_p50_ms: Option<u64>,
    pub handler_latency_p99_ms: Option<u64>,
    /// QoS 0 messages dropped, oldest first, from the handlers' queue over its byte bound.
    pub handler_qos0_dropped: u64,
}

pub struct Session {
    config: Config,
    link: Link,
    server: ServerLimits,
    heartbeat: Heartbeat,
    /// None: the window is the cap (see window.rs).
    adaptive_window: Option<window::AdaptiveWindow>,
    connections: u64,

    out_packets: VecDeque<Packet>,
    events: VecDeque<Event>,
    log: StoreLog,
    committed_seq: u64,
    gated: VecDeque<(u64, Gated)>,

    outbound: Outbound,
    next_token: Token,
    requests: HashMap<u16, Control>,
    /// Requests whose reply was lost with a connection: sent again on the next one.
    unanswered: Vec<Control>,
    /// Reason codes gathered for a subscribe request split into several SUBSCRIBE packets.
    partial_subacks: HashMap<Token, Vec<Option<u8>>>,
    subscriptions: Subscriptions,
    pending_requests: Requests,
    auth: AuthState,
    /// The server's Response Information, when the client asked for it (3.2.2.3.15).
    response_information: Option<String>,

    inbound_qos2: HashSet<u16>,
    /// Packet ids of the QoS 1 and 2 PUBLISH packets received on this connection and not yet
    /// acknowledged (PUBACK, PUBCOMP sent): what our Receive Maximum bounds.
    inbound_unacknowledged: HashSet<u16>,
    /// The inbound QoS 2 ids the store held at load, not yet claimed by a hand-over.
    loaded_qos2: HashSet<u16>,
    inbound_aliases: HashMap<u16, String>,
    outbound_aliases: OutboundAliases,
    expected_copies: ExpectedCopies,
    seen: SeenIds,
    next_message_id: u64,
    router: Router,
    processing: Processing,

    received: u64,
    duplicates_dropped: u64,
    copies_dropped: u64,
}

impl Session {
    pub fn new(config: Config) -> Session {
        let outbound = Outbound::new(&config);
        Session {
            link: Link::Down,
            server: ServerLimits::default(),
            heartbeat: Heartbeat::new(config.keepalive),
            adaptive_window: config.adaptive_window.then(window::AdaptiveWindow::new),
            connections: 0,
            out_packets: VecDeque::new(),
            events: VecDeque::new(),
            log: StoreLog::new(config.persistent),
            committed_seq: 0,
            gated: VecDeque::new(),
            outbound,
            next_token: 0,
            requests: HashMap::new(),
            unanswered: Vec::new(),
            partial_subacks: HashMap::new(),
            subscriptions: Subscriptions::default(),
            pending_requests: Requests::default(),
            auth: AuthState::default(),
            response_information: None,
            inbound_qos2: HashSet::new(),
            inbound_unacknowledged: HashSet::new(),
            loaded_qos2: HashSet::new(),
            inbound_aliases: HashMap::new(),
            outbound_aliases: OutboundAliases::default(),
            expected_copies: ExpectedCopies::default(),
            seen: SeenIds::default(),
            next_message_id: 0,
            router: Router::default(),
            processing: Processing::default(),
            received: 0,
            duplicates_dropped: 0,
            copies_dropped: 0,
            config,
        }
    }

    /// Rebuilds a session from the records a store returned: see [`Session::load`].
    pub fn restore(
        config: Config,
        records: impl IntoIterator<Item = (String, Vec<u8>)>,
        now: u64,
    ) -> Session {
        let mut session = Session::new(config);
        session.load(records, now);
        session
    }

    /// Loads the records a store returned into this (not yet connected) session. Records that
    /// cannot be read are skipped and reported as [`Event::CorruptRecord`]; the rest resumes.
    pub fn load(&mut self, records: impl IntoIterator<Item = (String, Vec<u8>)>, now: u64) {
        let mut outgoing = Vec::new();
        for (key, value) in records {
            match store::parse(&key, &value) {
                Some(Record::Outgoing {
                    order,
                    stage,
                    packet_id,
                    publish,
                }) => outgoing.push((order, stage, packet_id, *publish)),
                Some(Record::InboundQos2 { packet_id }) => {
                    self.inbound_qos2.insert(packet_id);
                    self.loaded_qos2.insert(packet_id);
                }
                Some(Record::ReservedId { packet_id }) => self.outbound.restore_reserved(packet_id),
                Some(Record::Subscription {
                    filter,
                    subscription,
                }) => {
                    self.subscriptions.insert(filter, subscription);
                }
                Some(Record::SeenId { id }) if id.len() > dedup::MAX_KEY_BYTES => {
                    // Written before ids were capped: the room goes back.
                    self.write(Write::Delete(store::seen_id_key(&id)));
                }
                Some(Record::SeenId { id }) => {
                    self.seen.insert_loaded(&id, now);
                }
                None => self.events.push_back(Event::CorruptRecord { key }),
            }
        }
        sort::sort_by(&mut outgoing, |a, b| a.0.cmp(&b.0));
        for (order, stage, packet_id, publish) in outgoing {
            self.outbound.restore(order, stage, packet_id, publish, now);
        }
    }

    /// As [`Session::load`], with the host's journal laid over the store's records (see
    /// `store::merge_journal`); the journaled writes go into the store with the next commit.
    /// Returns the keys of the journal entries not taken.
    pub fn load_journaled(
        &mut self,
        records: Vec<(String, Vec<u8>)>,
        journal: Vec<(String, Vec<u8>)>,
        now: u64,
    ) -> Vec<String> {
        let merged = store::merge_journal(records, journal);
        self.load(merged.records, now);
        for write in merged.drain {
            self.write(write);
        }
        merged.dropped
    }

    /// Every record of the session's durable state as it is now, in no particular order: what
    /// a store is rewritten with to match the session again (a store's load does not depend on
    /// the order; sorting the de-duplication window's 10,000 ids at every rewrite showed in
    /// profiles). `load` of these records restores the same state.
    pub fn durable_records(&self) -> Vec<(String, Vec<u8>)> {
        let mut records = self.outbound.records();
        records.extend(
            self.inbound_qos2
                .iter()
                .map(|id| (store::inbound_key(*id), Vec::new())),
        );
        records.extend(self.subscriptions.iter().map(|(filter, options)| {
            (
                store::subscription_key(filter),
                store::subscription_value(options),
            )
        }));
        records.extend(
            self.seen
                .ids()
                .map(|id| (store::seen_id_key(id), Vec::new())),
        );
        records
    }

    /// [`Session::durable_records`] in key order, for tools and tests that compare them.
    pub fn snapshot(&self) -> Vec<(String, Vec<u8>)> {
        let mut records = self.durable_records();
        sort::sort_by(&mut records, |a, b| a.0.cmp(&b.0));
        records
    }

    /// Whether some message may be acknowledged only after its handlers (the client's mode, or
    /// a subscription's own).
    pub fn acks_after_handler(&self) -> bool {
        self.config.ack == AckMode::AfterHandler || self.router.has_modes()
    }

    pub fn protocol(&self) -> ProtocolVersion {
        self.config.protocol
    }

    pub fn client_id(&self) -> &str {
        &self.config.client_id
    }

    pub fn is_connected(&self) -> bool {
        self.link == Link::Up
    }

    /// The largest packet this client accepts, for the host's decoder (see
    /// [`Config::incoming_packet_limit`]).
    pub fn max_incoming_packet_size(&self) -> u32 {
        self.config.incoming_packet_limit()
    }

    pub fn metrics(&self) -> Metrics {
        Metrics {
            connected: self.is_connected(),
            inflight: self.outbound.inflight_len(),
            queued: self.outbound.queued_len(),
            queued_bytes: self.outbound.queued_bytes(),
            sent: self.outbound.sent(),
            received: self.received,
            duplicates_dropped: self.duplicates_dropped,
            reconnects: self.connections.saturating_sub(1),
            rtt_ms: self.heartbeat.rtt_ms(),
            keepalive_interval_ms: if self.link == Link::Up {
                self.heartbeat.interval_ms()
            } else {
                0
            },
            topic_alias_hits: self.outbound_aliases.hits(),
            copies_dropped: self.copies_dropped,
            window: self.outbound.window(),
            handlers_running: self.processing.running(),
            handlers_waiting: self.processing.waiting(),
            handler_latency_p50_ms: self.processing.latency(50),
            handler_latency_p99_ms: self.processing.latency(99),
            handler_qos0_dropped: self.processing.qos0_dropped(),
        }
    }

    /// Bytes of application messages held (topic and payload): outgoing ones queued or in
    /// flight, and incoming ones waiting for their receipt to be durable before delivery.
    pub fn bytes_held(&self) -> usize {
        let incoming: usize = self
            .gated
            .iter()
            .map(|(_, item)| match item {
                Gated::Deliver(publish) => publish.topic.len() + publish.payload.len(),
                _ => 0,
            })
            .sum();
        self.outbound.held().1 + incoming
    }

    /// Packets, deliveries and reports waiting for their store commit.
    pub fn gated(&self) -> usize {
        self.gated.len()
    }

    /// When the oldest outgoing message queued or in flight was published (or loaded).
    pub fn oldest_outgoing_since(&self) -> Option<u64> {
        self.outbound.oldest_since()
    }

    // --- host inputs -------------------------------------------------------------------------

    /// The transport is open: CONNECT goes out. One that cannot be encoded (a configuration
    /// that skipped [`Config::validate`]) would fail the same way on every attempt: it is a
    /// permanent refusal, never a silent drop and a retry.
    pub fn handle_transport_open(&mut self, now: u64) {
        let connect = Packet::Connect(Box::new(self.config.connect()));
        if let Err(error) = crate::codec::validate(&connect, self.config.protocol) {
            self.link = Link::Down;
            self.events.push_back(Event::Refused {
                reason_code: error.reason_code(),
                permanent: true,
                properties: Properties::default(),
            });
            return;
        }
        self.reset_connection();
        self.auth_connecting();
        self.link = Link::AwaitingConnAck;
        self.send(now, connect);
    }

    /// The transport closed (or the host gave up on it).
    pub fn handle_transport_closed(&mut self, _now: u64) {
        if self.link != Link::Down {
            self.connection_over(LostReason::TransportClosed);
        }
    }

    /// A packet from the broker.
    pub fn handle_packet(&mut self, now: u64, packet: Packet) {
        if self.link == Link::Down {
            return; // late bytes from a connection already given up
        }
        // Any packet proves the link alive; a PINGRESP also gives the round trip.
        self.heartbeat
            .received(now, matches!(packet, Packet::PingResp));
        if self.link == Link::AwaitingConnAck {
            match packet {
                Packet::ConnAck(connack) => self.handle_connack(now, connack),
                Packet::Auth(auth) => self.handle_auth(now, auth),
                _ => self.protocol_error(now, reason::PROTOCOL_ERROR), // MQTT-3.2.0-1
            }
            return;
        }
        match packet {
            Packet::Publish(publish) => self.handle_publish(now, publish),
            Packet::PubAck(ack) => {
                self.sample_ack(now, ack.packet_id);
                self.events
                    .extend(self.outbound.handle_puback(&ack, &mut self.log));
                self.pump_outbound(now);
            }
            Packet::PubRec(ack) => {
                self.sample_ack(now, ack.packet_id);
                match self.outbound.handle_pubrec(&ack, &mut self.log) {
                    // PUBREL only once the Released stage is durable: see the module docs.
                    PubRec::Release => {
                        self.gate(now, Gated::Send(Packet::PubRel(Ack::new(ack.packet_id))))
                    }
                    PubRec::Refused { token, reason_code } => {
                        self.events.extend(outbound::done(token, reason_code));
                        self.pump_outbound(now);
                    }
                    PubRec::Ignored => {}
                }
            }
            Packet::PubComp(ack) => {
                self.events
                    .extend(self.outbound.handle_pubcomp(&ack, &mut self.log));
                self.pump_outbound(now);
            }
            Packet::PubRel(ack) => {
                let known = self.inbound_qos2.remove(&ack.packet_id);
                if known {
                    self.write(Write::Delete(store::inbound_key(ack.packet_id)));
                }
                let mut pubcomp = Ack::new(ack.packet_id);
                if !known && self.config.protocol.is_v5() {
                    pubcomp.reason_code = reason::PACKET_IDENTIFIER_NOT_FOUND;
                }
                // The id may be reused once PUBCOMP is out: its deletion must be durable first.
                self.gate(now, Gated::Send(Packet::PubComp(pubcomp)));
            }
            Packet::SubAck(suback) => {
                self.handle_suback(now, suback.packet_id, suback.reason_codes)
            }
            Packet::UnsubAck(unsuback) => {
                self.handle_unsuback(now, unsuback.packet_id, unsuback.reason_codes)
            }
            Packet::PingResp => {} // the heartbeat took it
            Packet::Disconnect(disconnect) => {
                self.connection_over(LostReason::ServerDisconnect(disconnect.reason_code))
            }
            Packet::Auth(auth) => self.handle_auth(now, auth),
            // A server may not send these.
            _ => self.protocol_error(now, reason::PROTOCOL_ERROR),
        }
    }

    /// The broker's bytes could not be decoded: `reason_code` from the codec's error.
    pub fn handle_decode_error(&mut self, now: u64, reason_code: u8) {
        if self.link != Link::Down {
            self.protocol_error(now, reason_code);
        }
    }

    /// Call at (or after) the deadline from [`Session::poll_timeout`]. Spurious calls are harmless.
    pub fn handle_timeout(&mut self, now: u64) {
        if self.link == Link::Up {
            match self.heartbeat.on_timeout(now) {
                Some(Beat::Dead) => {
                    self.connection_over(LostReason::KeepAliveTimeout);
                    return;
                }
                Some(Beat::Ping) => self.send(now, Packet::PingReq),
                None => {}
            }
        }
        for event in self.outbound.expire(now, &mut self.log) {
            self.events.push_back(event);
        }
        self.expire_requests(now);
        self.evict_seen(now);
        self.retry_handlers(now);
        self.check_backpressure();
    }

    /// The host could not encode `packet` (from [`Session::poll_packet`]). It cannot happen
    /// for what the session checked when it was given ([`Config::validate`], and `publish`,
    /// `subscribe`, `unsubscribe`, `authenticate` refuse what the codec would): this keeps a
    /// packet that still fails from vanishing. A PUBLISH fails its message; the connection ends
    /// as a protocol error of ours; a CONNECT is a permanent refusal.
    pub fn handle_encode_error(&mut self, now: u64, packet: &Packet, error: EncodeError) {
        let code = error.reason_code();
        if let Packet::Publish(Publish {
            packet_id: Some(id),
            ..
        }) = packet
        {
            self.outbound
                .fail_in_flight(*id, code, &mut self.log, &mut self.events);
        }
        match packet {
            Packet::Connect(_) => {
                self.link = Link::Down;
                self.events.push_back(Event::Refused {
                    reason_code: code,
                    permanent: true,
                    properties: Properties::default(),
                });
            }
            _ if self.link != Link::Down => self.protocol_error(now, code),
            _ => {}
        }
    }

    /// What was sent so far has left the host now (see `Outbound::flushed`).
    pub fn handle_flushed(&mut self, now: u64) {
        self.outbound.flushed(now);
    }

    /// The store made every write up to `seq` durable.
    pub fn handle_store_committed(&mut self, now: u64, seq: u64) {
        self.committed_seq = self.committed_seq.max(seq);
        while let Some((gate_seq, _)) = self.gated.front() {
            if *gate_seq > self.committed_seq {
                break;
            }
            let (_, item) = self.gated.pop_front().expect("front exists");
            self.release(now, item);
        }
    }

    // --- application commands --------------------------------------------------------------

    pub fn publish(&mut self, now: u64, request: PublishRequest) -> Result<Token, CommandError> {
        let publish = self.prepare_publish(request)?;
        let token = self.next_token();
        self.enqueue_publish(now, token, publish)?;
        Ok(token)
    }

    /// Checks a publish the application asks for and makes it the message to queue.
    fn prepare_publish(&mut self, request: PublishRequest) -> Result<Publish, CommandError> {
        topic::validate_topic_name(&request.topic).map_err(CommandError::InvalidTopic)?;
        if request.properties.topic_alias.is_some() {
            // The session assigns aliases per connection; one from the application could
            // outlive its connection in the store.
            return Err(CommandError::PropertyNotAllowed("a topic alias"));
        }
        if let Some(field) = request.properties.oversized_field() {
            return Err(CommandError::TooLongProperty { field });
        }
        if !request.properties.subscription_identifiers.is_empty() {
            // MQTT-3.3.4-6: a PUBLISH from a client carries no subscription identifier.
            return Err(CommandError::PropertyNotAllowed(
                "a subscription identifier",
            ));
        }
        let mut publish = Publish {
            dup: false,
            qos: request.qos,
            retain: request.retain,
            topic: request.topic,
            packet_id: None,
            properties: request.properties,
            payload: request.payload,
        };
        if let (Some(dedup), true) = (
            self.config.dedup(),
            publish.qos != QoS::AtMostOnce || request.message_id.is_some(),
        ) {
            if request
                .message_id
                .as_ref()
                .is_some_and(|id| id.len() > dedup::MAX_MESSAGE_ID_BYTES)
            {
                return Err(CommandError::TooLong {
                    what: "messageId",
                    max: dedup::MAX_MESSAGE_ID_BYTES,
                });
            }
            let id = request.message_id.unwrap_or_else(|| {
                self.next_message_id += 1;
                format!("{}{:x}", dedup.id_prefix, self.next_message_id)
            });
            publish
                .properties
                .user_properties
                .push((dedup.key.clone(), id));
        }
        // Check it encodes, so that it can never fail to when it leaves.
        let probe = Packet::Publish(Publish {
            packet_id: (publish.qos != QoS::AtMostOnce).then_some(1),
            ..publish.clone()
        });
        let size =
            crate::codec::validate(&probe, self.config.protocol).map_err(CommandError::Encode)?;
        // The limits of the last connection refuse it at once; those of the connection it
        // leaves on are applied again then (pump_outbound).
        match self.server.publish_refusal(&publish, self.config.protocol) {
            Some(reason::QOS_NOT_SUPPORTED) => Err(CommandError::QosNotSupported {
                max: self.server.maximum_qos,
            }),
            Some(reason::RETAIN_NOT_SUPPORTED) => Err(CommandError::RetainNotSupported),
            Some(_) => Err(CommandError::PacketTooLarge {
                size,
                max: self.server.maximum_packet_size.unwrap_or(0),
            }),
            None => Ok(publish),
        }
    }

    fn enqueue_publish(
        &mut self,
        now: u64,
        token: Token,
        publish: Publish,
    ) -> Result<(), CommandError> {
        for event in self.outbound.enqueue(now, token, publish, &mut self.log)? {
            self.events.push_back(event);
        }
        self.check_backpressure();
        self.pump_outbound(now);
        Ok(())
    }

    /// Ends the connection as the application asked (see [`Goodbye`]). What is persisted stays
    /// persisted.
    pub fn disconnect(&mut self, now: u64, goodbye: Goodbye) {
        self.goodbye(now, goodbye, LostReason::Requested);
    }

    /// The credentials the next CONNECT carries (computed for each attempt by the application):
    /// checked like the configured ones; on a bad one nothing changes. Kept in memory only.
    pub fn set_credentials(
        &mut self,
        username: Option<String>,
        password: Option<Bytes>,
    ) -> Result<(), ConfigError> {
        let old_username = std::mem::replace(&mut self.config.username, username);
        let old_password = std::mem::replace(&mut self.config.password, password);
        let checked = self.config.validate();
        if checked.is_err() {
            self.config.username = old_username;
            self.config.password = old_password;
        }
        checked
    }

    /// The credentials configured, for the attempts whose application answer leaves them out.
    pub fn credentials(&self) -> (Option<String>, Option<Bytes>) {
        (self.config.username.clone(), self.config.password.clone())
    }

    /// Ends the connection for the application's `reconnect()`: DISCONNECT 0x00, so the broker
    /// discards the will (the client is coming back, not lost); the session and its queue stay.
    pub fn disconnect_to_reconnect(&mut self, now: u64) {
        self.goodbye(now, Goodbye::Disconnect, LostReason::Reconnect);
    }

    fn goodbye(&mut self, now: u64, goodbye: Goodbye, reason: LostReason) {
        if self.link == Link::Up {
            let v5 = self.config.protocol.is_v5();
            let reason_code = match goodbye {
                Goodbye::Disconnect => Some(reason::NORMAL_DISCONNECTION),
                Goodbye::DisconnectWithWill if v5 => Some(reason::DISCONNECT_WITH_WILL_MESSAGE),
                Goodbye::DisconnectWithWill | Goodbye::None => None,
            };
            if let Some(reason_code) = reason_code {
                let disconnect = Disconnect {
                    reason_code,
                    ..Disconnect::default()
                };
                self.send(now, Packet::Disconnect(disconnect));
            }
        }
        if self.link != Link::Down {
            self.connection_over(reason);
        }
    }

    /// Registers a handler route for `filter`; messages report the routes they match. `ack`:
    /// the route's own acknowledgement mode (None: the client's).
    pub fn add_route(&mut self, filter: &str, ack: Option<AckMode>) -> Result<u32, CommandError> {
        topic::validate_topic_filter(filter).map_err(CommandError::InvalidFilter)?;
        Ok(self.router.add(filter, ack))
    }

    pub fn remove_route(&mut self, id: u32) -> bool {
        self.router.remove(id)
    }

    /// What routing a message on `topic` carrying the subscription identifiers `carried`
    /// elsewhere (in another tab) needs: see `Router::named`.
    pub fn named_routes(&self, topic: &str, carried: &[u32]) -> (bool, Vec<(String, bool)>) {
        Router::named(topic, carried, &self.subscriptions)
    }

    /// The routes of this session that a message another tab's session routed reaches: what
    /// `named_routes` gave there, applied here by the same rule (`Router::route_named`).
    pub fn route_remote(
        &self,
        topic: &str,
        carried: &[u32],
        primary: bool,
        named: &[(String, bool)],
    ) -> Vec<u32> {
        let mut routes = Vec::new();
        self.router
            .route_named(topic, !carried.is_empty(), primary, named, &mut routes);
        routes
    }

    /// The received messages still waiting for their store commit before delivery, each with
    /// its de-duplication key: what a host that is going away hands to the one that resumes
    /// the session (a tab to the next tab or to its own next load; `client::handover`), which asks `claim_handed_over`.
    pub fn pending_deliveries(&self) -> Vec<(Publish, Option<String>)> {
        self.gated
            .iter()
            .filter_map(|(_, item)| match item {
                Gated::Deliver(publish) => Some((publish.clone(), self.dedup_key(publish))),
                _ => None,
            })
            .collect()
    }

    /// Whether a message that the host before this one received but did not deliver (from its
    /// [`Session::pending_deliveries`]) is this session's to deliver: its receipt was in the store
    /// when this session was loaded (a QoS 2 packet id stored before PUBREC, MQTT-4.3.3-9, or a
    /// de-duplication key), so the broker's redelivery is not delivered here. True once per
    /// message. Only the state loaded counts, never what this session received itself: by the
    /// time the host asks, the broker's redelivery of a message whose receipt the old host did
    /// not store may have been received, and delivered, here.
    pub fn claim_handed_over(
        &mut self,
        qos: QoS,
        packet_id: Option<u16>,
        key: Option<&str>,
    ) -> bool {
        let stored_qos2 =
            qos == QoS::ExactlyOnce && packet_id.is_some_and(|id| self.loaded_qos2.remove(&id));
        let stored_key = key.is_some_and(|key| self.seen.claim_loaded(key));
        stored_qos2 || stored_key
    }

    // --- host outputs ------------------------------------------------------------------------

    pub fn poll_packet(&mut self) -> Option<Packet> {
        self.out_packets.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        loop {
            let event = self.events.pop_front()?;
            if let Some(event) = self.requests_filter(event) {
                return Some(event);
            }
        }
    }

    pub fn poll_store(&mut self) -> Option<StoreOp> {
        self.log.pop()
    }

    /// The earliest time [`Session::handle_timeout`] must be called, if any.
    pub fn poll_timeout(&self) -> Option<u64> {
        let keepalive = match self.link {
            Link::Up => self.heartbeat.poll_timeout(),
            _ => None,
        };
        let dedup = self
            .config
            .dedup()
            .and_then(|d| self.seen.next_expiry(d.window_ms));
        let requests = self.pending_requests.next_deadline();
        let retry = self.processing.next_retry();
        [
            keepalive,
            self.outbound.next_expiry(),
            dedup,
            requests,
            retry,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // --- internals ---------------------------------------------------------------------------

    fn next_token(&mut self) -> Token {
        self.next_token = self.next_token.wrapping_add(1);
        self.next_token
    }

    fn send(&mut self, _now: u64, mut packet: Packet) {
        if let Packet::Publish(publish) = &mut packet {
            if !publish.dup {
                self.alias_outgoing(publish);
            }
        }
        self.out_packets.push_back(packet);
    }

    /// Puts a topic alias on a PUBLISH as it leaves. Only here, on the wire copy: the stored
    /// message keeps its topic, and a resent one (DUP) goes out in full on whatever connection
    /// it is resent on.
    fn alias_outgoing(&mut self, publish: &mut Publish) {
        // The packet fits the broker's Maximum Packet Size without an alias (pump_outbound);
        // one adds 3 bytes, which an empty topic does not always make up for.
        let unaliased = self
            .server
            .maximum_packet_size
            .map(|_| publish.topic.clone());
        let Some(decision) = self.outbound_aliases.apply(publish) else {
            return;
        };
        let limits = self.server;
        let probe = || Packet::Publish(publish.clone());
        if let (Some(topic), Some(_)) = (
            unaliased,
            limits.size_refusal(&probe(), self.config.protocol),
        ) {
            if let Use::Establish(alias) = decision {
                self.outbound_aliases.withdraw(alias);
            }
            publish.topic = topic;
            publish.properties.topic_alias = None;
        }
    }

    fn write(&mut self, write: Write) {
        self.log.write(write);
    }

    /// Releases `item` once everything written so far is durable, keeping the order of earlier
    /// gated items.
    fn gate(&mut self, now: u64, item: Gated) {
        self.gate_at(now, self.log.last_seq(), item);
    }

    /// Releases `item` once the writes up to `seq` (and the gated items before it) are durable.
    fn gate_at(&mut self, now: u64, seq: u64, item: Gated) {
        if self.gated.is_empty() && seq <= self.committed_seq {
            self.release(now, item);
        } else {
            self.gated.push_back((seq, item));
        }
    }

    fn release(&mut self, now: u64, item: Gated) {
        match item {
            Gated::Send(packet) => {
                if let Packet::PubAck(ack) | Packet::PubComp(ack) = &packet {
                    self.inbound_unacknowledged.remove(&ack.packet_id);
                }
                if self.link == Link::Up {
                    self.send(now, packet);
                }
            }
            Gated::Report(event) => self.events.push_back(event),
            Gated::Deliver(publish) => {
                let Some(publish) = self.take_response(publish) else {
                    self.received += 1;
                    return;
                };
                let (routes, primary) = self.routes_of(&publish);
                if primary {
                    self.received += 1;
                }
                self.events.push_back(Event::Message {
                    publish,
                    routes,
                    primary,
                });
            }
        }
    }

    /// The routes a received PUBLISH reaches, and whether it is the primary copy (`Router::route`).
    fn routes_of(&self, publish: &Publish) -> (Vec<u32>, bool) {
        let mut routes = Vec::new();
        let primary = self.router.route(
            &publish.topic,
            &publish.properties.subscription_identifiers,
            &self.subscriptions,
            &mut routes,
        );
        (routes, primary)
    }

    fn reset_connection(&mut self) {
        self.heartbeat.disconnected();
        self.inbound_aliases.clear();
        self.inbound_unacknowledged.clear();
        // MQTT-3.3.2-7: no alias outlives its network connection.
        self.outbound_aliases.reset(0);
        self.expected_copies.clear();
        self.out_packets.clear();
        // Packets gated for the old connection are void; deliveries and reports still happen.
        self.gated
            .retain(|(_, item)| !matches!(item, Gated::Send(_)));
    }

    fn connection_over(&mut self, reason: LostReason) {
        self.link = Link::Down;
        self.heartbeat.disconnected();
        self.auth_over();
        // A request without its reply may or may not have reached the broker: ask again on
        // the next connection (both requests are idempotent) and settle it with that reply.
        let mut pending: Vec<(u16, Control)> = self.requests.drain().collect();
        sort::sort_by(&mut pending, |a, b| a.0.cmp(&b.0));
        self.unanswered
            .extend(pending.into_iter().map(|(_, request)| request));
        self.events.push_back(Event::Lost { reason });
    }

    fn protocol_error(&mut self, now: u64, code: u8) {
        if self.config.protocol.is_v5() {
            self.send(
                now,
                Packet::Disconnect(Disconnect {
                    reason_code: code,
                    properties: Properties::default(),
                }),
            );
        }
        self.connection_over(LostReason::ProtocolError(code));
    }

    /// A first acknowledgement's latency moves the adaptive window.
    fn sample_ack(&mut self, now: u64, packet_id: u16) {
        let Some(window) = &mut self.adaptive_window else {
            return;
        };
        if let Some(latency) = self.outbound.ack_latency(packet_id, now) {
            window.acknowledged(now, latency);
            self.outbound.set_window(window.window());
        }
    }

    fn handle_connack(&mut self, now: u64, connack: ConnAck) {
        let v5 = self.config.protocol.is_v5();
        let code = if v5 {
            connack.code
        } else {
            reason::from_v3_connack(connack.code)
        };
        let properties = connack.properties;
        if reason::is_failure(code) || (!v5 && code != reason::SUCCESS) {
            self.link = Link::Down;
            self.auth_over();
            self.events.push_back(Event::Refused {
                reason_code: code,
                permanent: is_permanent_refusal(code),
                properties,
            });
            return;
        }
        if connack.session_present && self.config.clean_start {
            // We asked for a clean start, so we hold no session state: a broker claiming one
            // broke the protocol (MQTT-3.2.2-4 in 5.0; MQTT-3.2.2-1 and MQTT-4.8.0-1 in 3.1.1).
            self.protocol_error(now, reason::PROTOCOL_ERROR);
            return;
        }
        if v5 && !self.auth_connack_ok(now, &properties) {
            return;
        }
        self.link = Link::Up;
        self.connections += 1;
        // Every limit of this connection is in force before anything is sent on it.
        self.server = ServerLimits::from_connack(&properties);
        if v5 {
            // MQTT-3.3.2-9: never above the server's Topic Alias Maximum (absent: 0, none).
            self.outbound_aliases.reset(
                self.config
                    .topic_aliases
                    .min(self.server.topic_alias_maximum),
            );
        }
        // MQTT-3.2.2-21: the Server Keep Alive replaces ours.
        let keep_alive = properties
            .server_keep_alive
            .unwrap_or(self.config.keep_alive);
        self.heartbeat.connected(now, keep_alive);
        self.response_information = properties
            .response_information
            .clone()
            .filter(|_| self.config.connect_properties.request_response_information == Some(1));
        if let Some(id) = &properties.assigned_client_identifier {
            // Reconnects must resume the session the broker made for us.
            self.config.client_id = id.clone();
        }
        let session_present = connack.session_present;
        self.events.push_back(Event::Connected {
            session_present,
            properties,
        });
        let cap = self.config.max_inflight.min(self.server.receive_maximum);
        match &mut self.adaptive_window {
            Some(window) => {
                window.restart(now, cap);
                self.outbound.set_window(window.window());
            }
            None => self.outbound.set_window(cap),
        }
        if session_present {
            self.outbound.resend();
        } else {
            for id in std::mem::take(&mut self.inbound_qos2) {
                self.write(Write::Delete(store::inbound_key(id)));
            }
            self.processing.forget_acks();
            let resend_released = self.config.dedup().is_some();
            for event in self.outbound.session_lost(&mut self.log, resend_released) {
                self.events.push_back(event);
            }
        }
        self.resubscribe(now, session_present);
        self.pump_outbound(now);
    }

    fn pump_outbound(&mut self, now: u64) {
        if self.link != Link::Up {
            return;
        }
        let limits = (self.server, self.config.protocol);
        while let Some(packet) =
            self.outbound
                .next_to_send(now, &self.requests, &mut self.log, limits, &mut self.events)
        {
            if matches!(&packet, Packet::Publish(p) if p.qos == QoS::ExactlyOnce) {
                // The broker keeps a QoS 2 packet id until PUBREL. If we sent it before its
                // record is durable, a restart could forget the id while the broker still
                // holds it, and a later message reusing the id would be taken for a duplicate
                // and dropped. So it leaves only once the record is durable.
                self.gate(now, Gated::Send(packet));
            } else {
                self.send(now, packet);
            }
        }
        self.check_backpressure();
    }

    fn check_backpressure(&mut self) {
        let (max_messages, max_bytes) = (
            self.config.queue_max_messages.max(1),
            self.config.queue_max_bytes.max(1),
        );
        let (messages, bytes) = self.outbound.held();
        let fill = (messages as f64 / max_messages as f64).max(bytes as f64 / max_bytes as f64);
        if let Some(high) =
            self.outbound
                .backpressure(fill, self.config.high_watermark, self.config.low_watermark)
        {
            self.events.push_back(Event::Backpressure { high });
        }
    }
}
