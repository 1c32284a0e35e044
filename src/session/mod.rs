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

mod config;
mod dedup;
mod event;
mod outbound;
mod router;
mod store;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use bytes::Bytes;

use crate::codec::{
    reason, Ack, ConnAck, Connect, Disconnect, Packet, Properties, ProtocolVersion, Publish, QoS,
    Subscribe, SubscriptionOptions, Unsubscribe,
};
use crate::topic;

pub use config::{Config, DedupConfig, Overflow};
pub use event::{is_permanent_refusal, CommandError, Event, LostReason, Token};
pub use store::{StoreOp, Write};

use dedup::SeenIds;
use outbound::{Outbound, PubRec};
use router::Router;
use store::{Record, StoreLog};

/// What the broker allowed in CONNACK (defaults when it said nothing).
#[derive(Debug, Clone, Copy)]
struct ServerLimits {
    receive_maximum: u16,
    maximum_qos: u8,
    retain_available: bool,
    maximum_packet_size: Option<u32>,
    wildcards: bool,
    subscription_ids: bool,
    shared: bool,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            receive_maximum: u16::MAX,
            maximum_qos: 2,
            retain_available: true,
            maximum_packet_size: None,
            wildcards: true,
            subscription_ids: true,
            shared: true,
        }
    }
}

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
}

#[derive(Debug)]
enum Request {
    Subscribe {
        token: Option<Token>,
        filters: Vec<(String, SubscriptionOptions)>,
    },
    Unsubscribe {
        token: Option<Token>,
        filters: Vec<String>,
    },
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
    pub rtt_ms: Option<u64>,
}

pub struct Session {
    config: Config,
    link: Link,
    server: ServerLimits,
    keep_alive_ms: u64,
    last_sent: u64,
    ping_sent_at: Option<u64>,
    rtt_ms: Option<u64>,
    connections: u64,

    out_packets: VecDeque<Packet>,
    events: VecDeque<Event>,
    log: StoreLog,
    committed_seq: u64,
    gated: VecDeque<(u64, Gated)>,

    outbound: Outbound,
    next_token: Token,
    requests: HashMap<u16, Request>,
    /// Requests whose reply was lost with a connection: sent again on the next one.
    unanswered: Vec<Request>,
    subscriptions: BTreeMap<String, SubscriptionOptions>,

    inbound_qos2: HashSet<u16>,
    inbound_aliases: HashMap<u16, String>,
    seen: SeenIds,
    next_message_id: u64,
    router: Router,

    received: u64,
    duplicates_dropped: u64,
}

impl Session {
    pub fn new(config: Config) -> Session {
        let outbound = Outbound::new(&config);
        Session {
            link: Link::Down,
            server: ServerLimits::default(),
            keep_alive_ms: u64::from(config.keep_alive) * 1000,
            last_sent: 0,
            ping_sent_at: None,
            rtt_ms: None,
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
            subscriptions: BTreeMap::new(),
            inbound_qos2: HashSet::new(),
            inbound_aliases: HashMap::new(),
            seen: SeenIds::default(),
            next_message_id: 0,
            router: Router::default(),
            received: 0,
            duplicates_dropped: 0,
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
                }
                Some(Record::Subscription { filter, options }) => {
                    self.subscriptions.insert(filter, options);
                }
                Some(Record::SeenId { id }) => {
                    self.seen.insert(&id, now);
                }
                None => self.events.push_back(Event::CorruptRecord { key }),
            }
        }
        outgoing.sort_by_key(|(order, ..)| *order);
        for (order, stage, packet_id, publish) in outgoing {
            self.outbound.restore(order, stage, packet_id, publish, now);
        }
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

    /// The largest packet this client accepts (0 = no limit), for the host's decoder.
    pub fn max_incoming_packet_size(&self) -> u32 {
        self.config
            .connect_properties
            .maximum_packet_size
            .unwrap_or(0)
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
            rtt_ms: self.rtt_ms,
        }
    }

    // --- host inputs -------------------------------------------------------------------------

    /// The transport is open: CONNECT goes out.
    pub fn handle_transport_open(&mut self, now: u64) {
        self.reset_connection();
        self.link = Link::AwaitingConnAck;
        let connect = Connect {
            protocol: self.config.protocol,
            clean_start: self.config.clean_start,
            keep_alive: self.config.keep_alive,
            client_id: self.config.client_id.clone(),
            will: self.config.will.clone(),
            username: self.config.username.clone(),
            password: self.config.password.clone(),
            properties: if self.config.protocol.is_v5() {
                self.config.connect_properties.clone()
            } else {
                Properties::default()
            },
        };
        self.send(now, Packet::Connect(Box::new(connect)));
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
        let ping_sent_at = self.ping_sent_at.take();
        if self.link == Link::AwaitingConnAck {
            match packet {
                Packet::ConnAck(connack) => self.handle_connack(now, connack),
                _ => self.protocol_error(now, reason::PROTOCOL_ERROR), // MQTT-3.2.0-1
            }
            return;
        }
        match packet {
            Packet::Publish(publish) => self.handle_publish(now, publish),
            Packet::PubAck(ack) => {
                self.events
                    .extend(self.outbound.handle_puback(&ack, &mut self.log));
                self.pump_outbound(now);
            }
            Packet::PubRec(ack) => match self.outbound.handle_pubrec(&ack, &mut self.log) {
                // PUBREL only once the Released stage is durable: see the module docs.
                PubRec::Release => {
                    self.gate(now, Gated::Send(Packet::PubRel(Ack::new(ack.packet_id))))
                }
                PubRec::Refused { token, reason_code } => {
                    self.events.extend(outbound::done(token, reason_code));
                    self.pump_outbound(now);
                }
                PubRec::Ignored => {}
            },
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
            Packet::SubAck(suback) => self.handle_suback(suback.packet_id, suback.reason_codes),
            Packet::UnsubAck(unsuback) => {
                self.handle_unsuback(unsuback.packet_id, unsuback.reason_codes)
            }
            Packet::PingResp => {
                self.rtt_ms = ping_sent_at
                    .map(|at| now.saturating_sub(at))
                    .or(self.rtt_ms)
            }
            Packet::Disconnect(disconnect) => {
                self.connection_over(LostReason::ServerDisconnect(disconnect.reason_code))
            }
            // Enhanced authentication is not supported; nor may a server send these.
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
        if self.link == Link::Up && self.keep_alive_ms > 0 {
            match self.ping_sent_at {
                Some(sent_at) if now >= sent_at + self.config.ping_timeout_ms => {
                    self.connection_over(LostReason::KeepAliveTimeout);
                    return;
                }
                None if now >= self.last_sent + self.keep_alive_ms => {
                    self.send(now, Packet::PingReq);
                    self.ping_sent_at = Some(now);
                }
                _ => {}
            }
        }
        for event in self.outbound.expire(now, &mut self.log) {
            self.events.push_back(event);
        }
        self.evict_seen(now);
        self.check_backpressure();
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
        topic::validate_topic_name(&request.topic).map_err(CommandError::InvalidTopic)?;
        if (request.qos as u8) > self.server.maximum_qos {
            return Err(CommandError::QosNotSupported {
                max: self.server.maximum_qos,
            });
        }
        if request.retain && !self.server.retain_available {
            return Err(CommandError::RetainNotSupported);
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
            let id = request.message_id.unwrap_or_else(|| {
                self.next_message_id += 1;
                format!("{}{:x}", dedup.id_prefix, self.next_message_id)
            });
            publish
                .properties
                .user_properties
                .push((dedup.key.clone(), id));
        }
        // Check it encodes, and fits the broker's limit, before accepting it.
        let probe = Packet::Publish(Publish {
            packet_id: (publish.qos != QoS::AtMostOnce).then_some(1),
            ..publish.clone()
        });
        let mut scratch = Vec::new();
        crate::codec::encode(&probe, self.config.protocol, &mut scratch)
            .map_err(CommandError::Encode)?;
        if let Some(max) = self.server.maximum_packet_size {
            if scratch.len() > max as usize {
                return Err(CommandError::PacketTooLarge {
                    size: scratch.len(),
                    max,
                });
            }
        }
        let token = self.next_token();
        for event in self.outbound.enqueue(now, token, publish, &mut self.log)? {
            self.events.push_back(event);
        }
        self.check_backpressure();
        self.pump_outbound(now);
        Ok(token)
    }

    pub fn subscribe(
        &mut self,
        now: u64,
        filters: Vec<(String, SubscriptionOptions)>,
        properties: Properties,
    ) -> Result<Token, CommandError> {
        if filters.is_empty() {
            return Err(CommandError::NoFilters);
        }
        for (filter, _) in &filters {
            topic::validate_topic_filter(filter).map_err(CommandError::InvalidFilter)?;
            if filter.contains(['+', '#']) && !self.server.wildcards {
                return Err(CommandError::WildcardsNotSupported);
            }
            if topic::split_shared(filter).is_some() && !self.server.shared {
                return Err(CommandError::SharedNotSupported);
            }
        }
        if !properties.subscription_identifiers.is_empty() && !self.server.subscription_ids {
            return Err(CommandError::SubscriptionIdsNotSupported);
        }
        let token = self.next_token();
        self.send_subscribe(now, Some(token), filters, properties);
        Ok(token)
    }

    pub fn unsubscribe(
        &mut self,
        now: u64,
        filters: Vec<String>,
        properties: Properties,
    ) -> Result<Token, CommandError> {
        if filters.is_empty() {
            return Err(CommandError::NoFilters);
        }
        for filter in &filters {
            topic::validate_topic_filter(filter).map_err(CommandError::InvalidFilter)?;
        }
        let token = self.next_token();
        self.send_unsubscribe(now, Some(token), filters, properties);
        Ok(token)
    }

    fn send_unsubscribe(
        &mut self,
        now: u64,
        token: Option<Token>,
        filters: Vec<String>,
        properties: Properties,
    ) {
        if self.link != Link::Up {
            // Forgotten here at once; a broker that kept the session still has them, so the
            // request goes out on the next connection.
            self.forget_subscriptions(&filters);
            if let Some(token) = token {
                self.events.push_back(Event::Unsubscribed {
                    token,
                    reason_codes: vec![reason::SUCCESS; filters.len()],
                });
            }
            self.unanswered.push(Request::Unsubscribe {
                token: None,
                filters,
            });
            return;
        }
        let packet_id = self.outbound.allocate_packet_id(&self.requests);
        let packet = Unsubscribe {
            packet_id,
            properties,
            filters: filters.clone(),
        };
        self.requests
            .insert(packet_id, Request::Unsubscribe { token, filters });
        self.send(now, Packet::Unsubscribe(packet));
    }

    /// Sends DISCONNECT (normal) and ends the connection. What is persisted stays persisted.
    pub fn disconnect(&mut self, now: u64) {
        if self.link == Link::Up {
            self.send(now, Packet::Disconnect(Disconnect::default()));
        }
        if self.link != Link::Down {
            self.connection_over(LostReason::Requested);
        }
    }

    /// Registers a handler route for `filter`; messages report the routes they match.
    pub fn add_route(&mut self, filter: &str) -> Result<u32, CommandError> {
        topic::validate_topic_filter(filter).map_err(CommandError::InvalidFilter)?;
        Ok(self.router.add(filter))
    }

    pub fn remove_route(&mut self, id: u32) -> bool {
        self.router.remove(id)
    }

    /// Appends the ids of the routes that `topic` matches to `out`.
    pub fn matching_routes(&self, topic: &str, out: &mut Vec<u32>) {
        self.router.matching(topic, out);
    }

    // --- host outputs ------------------------------------------------------------------------

    pub fn poll_packet(&mut self) -> Option<Packet> {
        self.out_packets.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    pub fn poll_store(&mut self) -> Option<StoreOp> {
        self.log.pop()
    }

    /// The earliest time [`Session::handle_timeout`] must be called, if any.
    pub fn poll_timeout(&self) -> Option<u64> {
        let keepalive = match (self.link, self.keep_alive_ms, self.ping_sent_at) {
            (Link::Up, 0, _) => None,
            (Link::Up, _, Some(sent_at)) => Some(sent_at + self.config.ping_timeout_ms),
            (Link::Up, ms, None) => Some(self.last_sent + ms),
            _ => None,
        };
        let dedup = self
            .config
            .dedup()
            .and_then(|d| self.seen.next_expiry(d.window_ms));
        [keepalive, self.outbound.next_expiry(), dedup]
            .into_iter()
            .flatten()
            .min()
    }

    // --- internals ---------------------------------------------------------------------------

    fn next_token(&mut self) -> Token {
        self.next_token = self.next_token.wrapping_add(1);
        self.next_token
    }

    fn send(&mut self, now: u64, packet: Packet) {
        self.last_sent = now;
        self.out_packets.push_back(packet);
    }

    fn write(&mut self, write: Write) {
        self.log.write(write);
    }

    /// Releases `item` once everything written so far is durable, keeping the order of earlier
    /// gated items.
    fn gate(&mut self, now: u64, item: Gated) {
        let seq = self.log.last_seq();
        if self.gated.is_empty() && seq <= self.committed_seq {
            self.release(now, item);
        } else {
            self.gated.push_back((seq, item));
        }
    }

    fn release(&mut self, now: u64, item: Gated) {
        match item {
            Gated::Send(packet) => {
                if self.link == Link::Up {
                    self.send(now, packet);
                }
            }
            Gated::Deliver(publish) => {
                self.received += 1;
                self.events.push_back(Event::Message { publish });
            }
        }
    }

    fn reset_connection(&mut self) {
        self.ping_sent_at = None;
        self.inbound_aliases.clear();
        self.out_packets.clear();
        // Acks gated for the old connection are void; deliveries still happen.
        self.gated
            .retain(|(_, item)| matches!(item, Gated::Deliver(_)));
    }

    fn connection_over(&mut self, reason: LostReason) {
        self.link = Link::Down;
        self.ping_sent_at = None;
        // A request without its reply may or may not have reached the broker: ask again on
        // the next connection (both requests are idempotent) and settle it with that reply.
        let mut pending: Vec<(u16, Request)> = self.requests.drain().collect();
        pending.sort_by_key(|(packet_id, _)| *packet_id);
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
            self.events.push_back(Event::Refused {
                reason_code: code,
                permanent: is_permanent_refusal(code),
                properties,
            });
            return;
        }
        self.link = Link::Up;
        self.connections += 1;
        let flag = |value: Option<u8>| value.is_none_or(|v| v != 0);
        self.server = ServerLimits {
            receive_maximum: properties.receive_maximum.unwrap_or(u16::MAX),
            maximum_qos: properties.maximum_qos.unwrap_or(2),
            retain_available: flag(properties.retain_available),
            maximum_packet_size: properties.maximum_packet_size,
            wildcards: flag(properties.wildcard_subscription_available),
            subscription_ids: flag(properties.subscription_identifier_available),
            shared: flag(properties.shared_subscription_available),
        };
        self.keep_alive_ms = u64::from(
            properties
                .server_keep_alive
                .unwrap_or(self.config.keep_alive),
        ) * 1000;
        if let Some(id) = &properties.assigned_client_identifier {
            // Reconnects must resume the session the broker made for us.
            self.config.client_id = id.clone();
        }
        let session_present = connack.session_present;
        self.events.push_back(Event::Connected {
            session_present,
            properties,
        });
        if session_present {
            for packet in self.outbound.resend(self.config.protocol) {
                self.send(now, packet);
            }
        } else {
            for id in std::mem::take(&mut self.inbound_qos2) {
                self.write(Write::Delete(store::inbound_key(id)));
            }
            let resend_released = self.config.dedup().is_some();
            for event in self.outbound.session_lost(&mut self.log, resend_released) {
                self.events.push_back(event);
            }
            let filters: Vec<(String, SubscriptionOptions)> = self
                .subscriptions
                .iter()
                .map(|(f, o)| (f.clone(), *o))
                .collect();
            // Those include the ones subscribed offline.
            self.unanswered.retain(|r| {
                !matches!(
                    r,
                    Request::Subscribe { token: None, .. }
                        | Request::Unsubscribe { token: None, .. }
                )
            });
            if !filters.is_empty() {
                self.send_subscribe(now, None, filters, Properties::default());
            }
        }
        for request in std::mem::take(&mut self.unanswered) {
            match request {
                Request::Subscribe { token, filters } => {
                    self.send_subscribe(now, token, filters, Properties::default())
                }
                Request::Unsubscribe { token, filters } => {
                    self.send_unsubscribe(now, token, filters, Properties::default())
                }
            }
        }
        self.outbound
            .set_window(self.config.max_inflight.min(self.server.receive_maximum));
        self.pump_outbound(now);
    }

    fn send_subscribe(
        &mut self,
        now: u64,
        token: Option<Token>,
        filters: Vec<(String, SubscriptionOptions)>,
        properties: Properties,
    ) {
        if self.link != Link::Up {
            // Offline: remember the filters, and subscribe on the next connection, whether or
            // not the broker kept the session (a CONNECT whose CONNACK was lost makes one).
            let reason_codes = filters.iter().map(|(_, o)| o.qos as u8).collect();
            for (filter, options) in filters.clone() {
                self.remember_subscription(filter, options);
            }
            self.unanswered.push(Request::Subscribe {
                token: None,
                filters,
            });
            if let Some(token) = token {
                self.events.push_back(Event::Subscribed {
                    token,
                    reason_codes,
                });
            }
            return;
        }
        let packet_id = self.outbound.allocate_packet_id(&self.requests);
        let packet = Subscribe {
            packet_id,
            properties,
            filters: filters.clone(),
        };
        self.requests
            .insert(packet_id, Request::Subscribe { token, filters });
        self.send(now, Packet::Subscribe(packet));
    }

    fn remember_subscription(&mut self, filter: String, options: SubscriptionOptions) {
        self.write(Write::Put(
            store::subscription_key(&filter),
            store::subscription_value(options),
        ));
        self.subscriptions.insert(filter, options);
    }

    fn forget_subscriptions(&mut self, filters: &[String]) {
        for filter in filters {
            if self.subscriptions.remove(filter).is_some() {
                self.write(Write::Delete(store::subscription_key(filter)));
            }
        }
    }

    fn handle_suback(&mut self, packet_id: u16, reason_codes: Vec<u8>) {
        let Some(Request::Subscribe { token, filters }) = self.requests.remove(&packet_id) else {
            return;
        };
        for ((filter, options), code) in filters.into_iter().zip(&reason_codes) {
            if reason::is_failure(*code) {
                if self.subscriptions.remove(&filter).is_some() {
                    self.write(Write::Delete(store::subscription_key(&filter)));
                }
            } else {
                self.remember_subscription(filter, options);
            }
        }
        if let Some(token) = token {
            self.events.push_back(Event::Subscribed {
                token,
                reason_codes,
            });
        }
    }

    fn handle_unsuback(&mut self, packet_id: u16, reason_codes: Vec<u8>) {
        let Some(Request::Unsubscribe { token, filters }) = self.requests.remove(&packet_id) else {
            return;
        };
        self.forget_subscriptions(&filters);
        let reason_codes = if reason_codes.is_empty() {
            vec![reason::SUCCESS; filters.len()]
        } else {
            reason_codes
        };
        if let Some(token) = token {
            self.events.push_back(Event::Unsubscribed {
                token,
                reason_codes,
            });
        }
    }

    fn handle_publish(&mut self, now: u64, mut publish: Publish) {
        if let Some(alias) = publish.properties.topic_alias {
            let maximum = self
                .config
                .connect_properties
                .topic_alias_maximum
                .unwrap_or(0);
            if alias == 0 || alias > maximum {
                return self.protocol_error(now, reason::TOPIC_ALIAS_INVALID);
            }
            if publish.topic.is_empty() {
                match self.inbound_aliases.get(&alias) {
                    Some(topic) => publish.topic = topic.clone(),
                    None => return self.protocol_error(now, reason::PROTOCOL_ERROR),
                }
            } else {
                self.inbound_aliases.insert(alias, publish.topic.clone());
            }
        }
        let message_id = self
            .config
            .dedup()
            .and_then(|d| publish.properties.user_property(&d.key))
            .map(str::to_owned);
        match (publish.qos, publish.packet_id) {
            (QoS::AtMostOnce, _) => self.deliver_once(now, publish, message_id),
            (QoS::AtLeastOnce, Some(id)) => {
                self.deliver_once(now, publish, message_id);
                self.gate(now, Gated::Send(Packet::PubAck(Ack::new(id))));
            }
            (QoS::ExactlyOnce, Some(id)) => {
                if self.inbound_qos2.insert(id) {
                    let limit = self
                        .config
                        .connect_properties
                        .receive_maximum
                        .unwrap_or(u16::MAX);
                    if self.inbound_qos2.len() > usize::from(limit) {
                        self.inbound_qos2.remove(&id);
                        return self.protocol_error(now, reason::RECEIVE_MAXIMUM_EXCEEDED);
                    }
                    // MQTT-4.3.3-9 method B: the id is stored before PUBREC, the message is
                    // delivered once, re-sent copies are not delivered until PUBREL.
                    self.write(Write::Put(store::inbound_key(id), Vec::new()));
                    self.deliver_once(now, publish, message_id);
                } else if !publish.dup && message_id.is_some() {
                    // An id we hold, on a first send (a re-send has DUP=1, MQTT-3.3.1-1): a
                    // broker restarted from older state is reusing it. Its message id tells a new
                    // message (delivered) from an old one (dropped as a duplicate).
                    self.deliver_once(now, publish, message_id);
                }
                self.gate(now, Gated::Send(Packet::PubRec(Ack::new(id))));
            }
            _ => self.protocol_error(now, reason::MALFORMED_PACKET),
        }
    }

    /// Delivers unless the message id was seen within the window.
    fn deliver_once(&mut self, now: u64, publish: Publish, message_id: Option<String>) {
        if let Some(id) = message_id {
            if self.seen.contains(&id) {
                self.duplicates_dropped += 1;
                self.events.push_back(Event::DuplicateDropped {
                    message_id: id,
                    topic: publish.topic,
                });
                return;
            }
            self.seen.insert(&id, now);
            self.write(Write::Put(store::seen_id_key(&id), Vec::new()));
            self.evict_seen(now);
        }
        self.gate(now, Gated::Deliver(publish));
    }

    fn evict_seen(&mut self, now: u64) {
        let Some(dedup) = self.config.dedup() else {
            return;
        };
        let (size, age) = (dedup.window_size, dedup.window_ms);
        let mut evicted = Vec::new();
        self.seen.evict(now, size, age, |id| evicted.push(id));
        for id in evicted {
            self.write(Write::Delete(store::seen_id_key(&id)));
        }
    }

    fn pump_outbound(&mut self, now: u64) {
        if self.link != Link::Up {
            return;
        }
        let protocol = self.config.protocol;
        while let Some((packet, event)) =
            self.outbound
                .next_to_send(now, &self.requests, &mut self.log, protocol)
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
            if let Some(event) = event {
                self.events.push_back(event);
            }
        }
        self.check_backpressure();
    }

    fn check_backpressure(&mut self) {
        let (max_messages, max_bytes) = (
            self.config.queue_max_messages.max(1),
            self.config.queue_max_bytes.max(1),
        );
        let fill = (self.outbound.queued_len() as f64 / max_messages as f64)
            .max(self.outbound.queued_bytes() as f64 / max_bytes as f64);
        if let Some(high) =
            self.outbound
                .backpressure(fill, self.config.high_watermark, self.config.low_watermark)
        {
            self.events.push_back(Event::Backpressure { high });
        }
    }
}
