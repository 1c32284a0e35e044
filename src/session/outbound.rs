//! Outgoing messages: the queue (offline, or waiting for the in-flight window), the in-flight
//! table indexed by packet id, and the QoS 1 and QoS 2 state machines.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use crate::codec::{reason, Ack, Packet, ProtocolVersion, Publish, QoS};

use super::limits::ServerLimits;
use super::store::{self, Stage, StoreLog, Write};
use super::{CommandError, Config, Control, Event, Overflow, Token};

/// What a PUBREC means for its message.
pub(crate) enum PubRec {
    /// PUBREL is due.
    Release,
    /// The broker refused the message (reason code 0x80 or above): settle this.
    Refused {
        token: Option<Token>,
        reason_code: u8,
    },
    /// Not ours, or not a QoS 2 message in flight: ignored.
    Ignored,
}

#[derive(Debug)]
struct Entry {
    order: u64,
    /// None for messages restored from the store: no Promise waits for them any more.
    token: Option<Token>,
    publish: Publish,
    stage: Stage,
    packet_id: u16,
    expires_at: Option<u64>,
    size: usize,
    /// When it left on this connection, on a first send: an acknowledgement's latency feeds the
    /// adaptive window (a resend's is ambiguous, so it has none).
    sent_at: Option<u64>,
    /// When it was published (restored ones: when loaded), for the oldest message's age.
    since: u64,
}

impl Entry {
    fn persisted(&self) -> bool {
        self.publish.qos != QoS::AtMostOnce
    }
}

/// Every container is indexed so that each call costs O(log n) whatever is queued or in flight:
/// the queue by publish order, its expiries by time, its QoS 0 messages (for dropping the
/// oldest) by order.
pub(crate) struct Outbound {
    queue: BTreeMap<u64, Entry>,
    queued_bytes: usize,
    /// (expires_at, order) of the queued messages that expire.
    expiries: BTreeSet<(u64, u64)>,
    /// Orders of the queued QoS 0 messages.
    queued_qos0: BTreeSet<u64>,
    /// In flight, in publish order.
    inflight: BTreeMap<u64, Entry>,
    inflight_bytes: usize,
    by_packet_id: HashMap<u16, u64>,
    /// In flight since an earlier connection and not yet sent again on this one: they go out
    /// (DUP) as the window allows, first, in order.
    unsent: BTreeSet<u64>,
    /// Packet ids of QoS 2 messages given up while the broker may hold them (PUBLISH sent, no
    /// PUBREC seen, session present): not reused while that session lasts, for the broker
    /// would take a new message under one for its old one (MQTT-4.3.3-9 on its side). Stored,
    /// so that a reload keeps them too.
    reserved: HashSet<u16>,
    window: usize,
    /// Orders of the messages sent since the host last flushed: they leave then (see
    /// `flushed`). Kept to what is in flight, for a host that never flushes.
    unflushed: Vec<u64>,
    /// Whether send times are kept for acknowledgement latencies (only the adaptive window
    /// uses them).
    times_acks: bool,
    next_order: u64,
    next_packet_id: u16,
    max_messages: usize,
    max_bytes: usize,
    overflow: Overflow,
    backpressure_high: bool,
    sent: u64,
}

pub(crate) fn done(token: Option<Token>, reason_code: u8) -> Option<Event> {
    let token = token?;
    Some(if reason::is_failure(reason_code) {
        Event::PublishFailed { token, reason_code }
    } else {
        Event::Published { token, reason_code }
    })
}

impl Outbound {
    pub(crate) fn new(config: &Config) -> Outbound {
        Outbound {
            queue: BTreeMap::new(),
            queued_bytes: 0,
            expiries: BTreeSet::new(),
            queued_qos0: BTreeSet::new(),
            inflight: BTreeMap::new(),
            inflight_bytes: 0,
            by_packet_id: HashMap::new(),
            unsent: BTreeSet::new(),
            reserved: HashSet::new(),
            window: usize::from(config.max_inflight.max(1)),
            unflushed: Vec::new(),
            times_acks: config.adaptive_window,
            next_order: 1,
            next_packet_id: 1,
            max_messages: config.queue_max_messages,
            max_bytes: config.queue_max_bytes,
            overflow: config.overflow,
            backpressure_high: false,
            sent: 0,
        }
    }

    pub(crate) fn inflight_len(&self) -> usize {
        self.inflight.len()
    }

    pub(crate) fn queued_len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    /// Messages and bytes held, queued and in flight: what the queue limits bound.
    pub(crate) fn held(&self) -> (usize, usize) {
        (
            self.queue.len() + self.inflight.len(),
            self.queued_bytes + self.inflight_bytes,
        )
    }

    pub(crate) fn sent(&self) -> u64 {
        self.sent
    }

    pub(crate) fn window(&self) -> usize {
        self.window
    }

    /// When the oldest message queued or in flight was published (or loaded), if any.
    pub(crate) fn oldest_since(&self) -> Option<u64> {
        let first = |map: &BTreeMap<u64, Entry>| map.values().next().map(|e| e.since);
        [first(&self.queue), first(&self.inflight)]
            .into_iter()
            .flatten()
            .min()
    }

    pub(crate) fn set_window(&mut self, window: u16) {
        self.window = usize::from(window.max(1));
    }

    /// QoS 1/2 PUBLISH packets out on this connection and not yet acknowledged, counted as the
    /// send quota of MQTT 5 section 4.9 would be at most.
    fn on_wire(&self) -> usize {
        self.inflight.len() - self.unsent.len()
    }

    fn push_queued(&mut self, entry: Entry) {
        self.queued_bytes += entry.size;
        if let Some(at) = entry.expires_at {
            self.expiries.insert((at, entry.order));
        }
        if entry.publish.qos == QoS::AtMostOnce {
            self.queued_qos0.insert(entry.order);
        }
        self.queue.insert(entry.order, entry);
    }

    fn take_queued(&mut self, order: u64) -> Option<Entry> {
        let entry = self.queue.remove(&order)?;
        self.queued_bytes -= entry.size;
        if let Some(at) = entry.expires_at {
            self.expiries.remove(&(at, order));
        }
        self.queued_qos0.remove(&order);
        Some(entry)
    }

    fn push_inflight(&mut self, entry: Entry) {
        self.inflight_bytes += entry.size;
        self.by_packet_id.insert(entry.packet_id, entry.order);
        self.inflight.insert(entry.order, entry);
    }

    fn take_inflight(&mut self, order: u64) -> Option<Entry> {
        let entry = self.inflight.remove(&order)?;
        self.inflight_bytes -= entry.size;
        self.by_packet_id.remove(&entry.packet_id);
        self.unsent.remove(&order);
        Some(entry)
    }

    /// The store records of the messages kept (QoS 1 and 2), queued and in flight.
    pub(crate) fn records(&self) -> Vec<(String, Vec<u8>)> {
        let messages = self
            .queue
            .values()
            .chain(self.inflight.values())
            .filter(|entry| entry.persisted())
            .map(|entry| {
                (
                    store::outgoing_key(entry.order),
                    store::outgoing_value(entry.stage, entry.packet_id, &entry.publish),
                )
            });
        let reserved = self
            .reserved
            .iter()
            .map(|id| (store::reserved_key(*id), Vec::new()));
        messages.chain(reserved).collect()
    }

    /// Puts back a reserved packet id read from the store.
    pub(crate) fn restore_reserved(&mut self, packet_id: u16) {
        self.reserved.insert(packet_id);
    }

    /// Puts back a message read from the store.
    pub(crate) fn restore(
        &mut self,
        order: u64,
        stage: Stage,
        packet_id: u16,
        publish: Publish,
        now: u64,
    ) {
        self.next_order = self.next_order.max(order + 1);
        let size = publish.payload.len() + publish.topic.len();
        let expires_at = expiry(&publish, now);
        let entry = Entry {
            order,
            token: None,
            publish,
            stage,
            packet_id,
            expires_at,
            size,
            sent_at: None,
            since: now,
        };
        match stage {
            Stage::Queued => self.push_queued(entry),
            Stage::Sent | Stage::Released
                if packet_id != 0 && !self.by_packet_id.contains_key(&packet_id) =>
            {
                self.push_inflight(entry)
            }
            // An in-flight record without a usable id: send it again as new.
            _ => self.push_queued(Entry {
                stage: Stage::Queued,
                packet_id: 0,
                ..entry
            }),
        }
    }

    /// Accepts a message into the queue, making room by the overflow policy. The limits bound
    /// what is queued and in flight together: messages the broker has not acknowledged are held
    /// as much as those not yet sent.
    pub(crate) fn enqueue(
        &mut self,
        now: u64,
        token: Token,
        publish: Publish,
        log: &mut StoreLog,
    ) -> Result<Vec<Event>, CommandError> {
        let size = publish.payload.len() + publish.topic.len();
        let mut events = Vec::new();
        loop {
            let (messages, bytes) = self.held();
            if messages < self.max_messages && bytes + size <= self.max_bytes {
                break;
            }
            let oldest_qos0 = match self.overflow {
                Overflow::Reject => None,
                Overflow::DropOldestQos0 => self.queued_qos0.first().copied(),
            };
            let Some(order) = oldest_qos0 else {
                return Err(CommandError::QueueFull);
            };
            let dropped = self.take_queued(order).expect("indexed entry is queued");
            if let Some(token) = dropped.token {
                events.push(Event::PublishDropped { token });
            }
        }
        let order = self.next_order;
        self.next_order += 1;
        let entry = Entry {
            order,
            token: Some(token),
            expires_at: expiry(&publish, now),
            publish,
            stage: Stage::Queued,
            packet_id: 0,
            size,
            sent_at: None,
            since: now,
        };
        if entry.persisted() {
            log.write(Write::Put(
                store::outgoing_key(order),
                store::outgoing_value(Stage::Queued, 0, &entry.publish),
            ));
        }
        self.push_queued(entry);
        Ok(events)
    }

    /// A packet id free of every in-flight message and pending request.
    pub(crate) fn allocate_packet_id(&mut self, requests: &HashMap<u16, Control>) -> u16 {
        loop {
            let id = self.next_packet_id;
            self.next_packet_id = self.next_packet_id.checked_add(1).unwrap_or(1);
            if !self.by_packet_id.contains_key(&id)
                && !requests.contains_key(&id)
                && !self.reserved.contains(&id)
            {
                return id;
            }
        }
    }

    /// The next PUBLISH to send on this connection: first what was in flight on an earlier one
    /// (DUP), then the queue, in order, as the window allows. This is where every PUBLISH
    /// leaves, so this is where the connection's limits are applied: a message they do not
    /// allow is not sent, leaves the store and settles with the reason (its event goes to
    /// `events`, with the success of a QoS 0 message handed over).
    pub(crate) fn next_to_send(
        &mut self,
        now: u64,
        requests: &HashMap<u16, Control>,
        log: &mut StoreLog,
        (limits, protocol): (ServerLimits, ProtocolVersion),
        events: &mut VecDeque<Event>,
    ) -> Option<Packet> {
        loop {
            let room = self.on_wire() < self.window;
            if let Some(&order) = self.unsent.first() {
                let entry = &self.inflight[&order];
                if entry.stage == Stage::Released {
                    // PUBREL takes nothing from the send quota (4.9).
                    self.unsent.remove(&order);
                    return Some(Packet::PubRel(Ack::new(entry.packet_id)));
                }
            }
            if let (Some(&order), true) = (self.unsent.first(), room) {
                self.unsent.remove(&order);
                let entry = &self.inflight[&order];
                let publish = Publish {
                    dup: true,
                    packet_id: Some(entry.packet_id),
                    ..wire(entry, now, protocol)
                };
                if let Some(code) = limits.publish_refusal(&publish, protocol) {
                    // Bounded, so that ids are always left to allocate.
                    if publish.qos == QoS::ExactlyOnce
                        && self.reserved.len() < 4096
                        && self.reserved.insert(entry.packet_id)
                    {
                        log.write(Write::Put(store::reserved_key(entry.packet_id), Vec::new()));
                    }
                    let entry = self.take_inflight(order);
                    fail(entry, code, log, events);
                    continue;
                }
                return Some(Packet::Publish(publish));
            }
            let (&order, front) = self.queue.first_key_value()?;
            // QoS 1/2 wait for the window, and behind the messages still to be sent again.
            if front.publish.qos != QoS::AtMostOnce && !(room && self.unsent.is_empty()) {
                return None;
            }
            let mut publish = wire(front, now, protocol);
            let refusal = limits.publish_refusal(&publish, protocol);
            let mut entry = self.take_queued(order).expect("front is queued");
            if let Some(code) = refusal {
                fail(Some(entry), code, log, events);
                continue;
            }
            self.sent += 1;
            if publish.qos == QoS::AtMostOnce {
                events.extend(done(entry.token, reason::SUCCESS));
                return Some(Packet::Publish(publish));
            }
            let packet_id = self.allocate_packet_id(requests);
            publish.packet_id = Some(packet_id);
            entry.stage = Stage::Sent;
            entry.packet_id = packet_id;
            if self.times_acks {
                entry.sent_at = Some(now);
                if self.unflushed.len() > self.inflight.len() {
                    let inflight = &self.inflight;
                    self.unflushed.retain(|order| inflight.contains_key(order));
                }
                self.unflushed.push(entry.order);
            }
            log.write(Write::Put(
                store::outgoing_key(entry.order),
                store::outgoing_value(Stage::Sent, packet_id, &entry.publish),
            ));
            self.push_inflight(entry);
            return Some(Packet::Publish(publish));
        }
    }

    /// The message in flight under `packet_id` cannot be sent: it fails with `code`.
    pub(crate) fn fail_in_flight(
        &mut self,
        packet_id: u16,
        code: u8,
        log: &mut StoreLog,
        events: &mut VecDeque<Event>,
    ) {
        if let Some(&order) = self.by_packet_id.get(&packet_id) {
            let entry = self.take_inflight(order);
            fail(entry, code, log, events);
        }
    }

    fn take(&mut self, packet_id: u16, stage: Stage, qos: QoS) -> Option<Entry> {
        let order = *self.by_packet_id.get(&packet_id)?;
        let entry = self.inflight.get(&order)?;
        if entry.stage != stage || entry.publish.qos != qos {
            return None; // an ack that does not fit the flow: ignored (MQTT-4.3.2/4.3.3)
        }
        self.take_inflight(order)
    }

    /// What was sent since the last flush left the host at `now` (a task's packets go out at
    /// its end): an acknowledgement's latency counts from then, not from the call.
    pub(crate) fn flushed(&mut self, now: u64) {
        for order in self.unflushed.drain(..) {
            if let Some(entry) = self.inflight.get_mut(&order) {
                if entry.sent_at.is_some() {
                    entry.sent_at = Some(now);
                }
            }
        }
    }

    /// How long the broker took to acknowledge (PUBACK, PUBREC) the message under `packet_id`,
    /// when it was a first send on this connection.
    pub(crate) fn ack_latency(&self, packet_id: u16, now: u64) -> Option<u64> {
        let entry = self.inflight.get(self.by_packet_id.get(&packet_id)?)?;
        let sent_at = entry.sent_at.filter(|_| entry.stage == Stage::Sent)?;
        Some(now.saturating_sub(sent_at))
    }

    pub(crate) fn handle_puback(&mut self, ack: &Ack, log: &mut StoreLog) -> Option<Event> {
        let entry = self.take(ack.packet_id, Stage::Sent, QoS::AtLeastOnce)?;
        log.write(Write::Delete(store::outgoing_key(entry.order)));
        done(entry.token, ack.reason_code)
    }

    pub(crate) fn handle_pubrec(&mut self, ack: &Ack, log: &mut StoreLog) -> PubRec {
        let Some(&order) = self.by_packet_id.get(&ack.packet_id) else {
            return PubRec::Ignored;
        };
        let Some(entry) = self.inflight.get_mut(&order) else {
            return PubRec::Ignored;
        };
        if entry.publish.qos != QoS::ExactlyOnce {
            return PubRec::Ignored;
        }
        if entry.stage == Stage::Released {
            return PubRec::Release; // a repeated PUBREC: PUBREL again
        }
        if reason::is_failure(ack.reason_code) {
            let token = entry.token;
            self.take_inflight(order);
            log.write(Write::Delete(store::outgoing_key(order)));
            return PubRec::Refused {
                token,
                reason_code: ack.reason_code,
            };
        }
        entry.stage = Stage::Released;
        log.write(Write::Put(
            store::outgoing_key(order),
            store::outgoing_value(Stage::Released, ack.packet_id, &entry.publish),
        ));
        self.unsent.remove(&order);
        PubRec::Release
    }

    pub(crate) fn handle_pubcomp(&mut self, ack: &Ack, log: &mut StoreLog) -> Option<Event> {
        let entry = self.take(ack.packet_id, Stage::Released, QoS::ExactlyOnce)?;
        log.write(Write::Delete(store::outgoing_key(entry.order)));
        done(entry.token, ack.reason_code)
    }

    /// With the session present, everything in flight goes out again, in the original order,
    /// through `next_to_send` (so under this connection's limits and window): PUBREL for what
    /// the broker received (MQTT-4.4.0-1), the PUBLISH packets it did not acknowledge with
    /// DUP=1 (MQTT-3.3.1-1).
    pub(crate) fn resend(&mut self) {
        self.unsent = self.inflight.keys().copied().collect();
        for entry in self.inflight.values_mut() {
            entry.sent_at = None;
        }
    }

    /// The broker lost our session: messages it never acknowledged go out again as new ones
    /// (at least once), ahead of the queue and in order. Those it had PUBREC'd may have gone
    /// with the session (a broker that forwards on PUBREL, killed before saving it, loses them):
    /// with `resend_released` (the message id lets subscribers drop a second copy) they go out
    /// again too; without, they count as the broker's.
    pub(crate) fn session_lost(&mut self, log: &mut StoreLog, resend_released: bool) -> Vec<Event> {
        let mut events = Vec::new();
        let inflight = std::mem::take(&mut self.inflight);
        self.by_packet_id.clear();
        self.unsent.clear();
        for id in std::mem::take(&mut self.reserved) {
            log.write(Write::Delete(store::reserved_key(id)));
        }
        self.inflight_bytes = 0;
        for (_, mut entry) in inflight {
            if entry.stage == Stage::Released && !resend_released {
                log.write(Write::Delete(store::outgoing_key(entry.order)));
                events.extend(done(entry.token, reason::SUCCESS));
                continue;
            }
            entry.stage = Stage::Queued;
            entry.packet_id = 0;
            log.write(Write::Put(
                store::outgoing_key(entry.order),
                store::outgoing_value(Stage::Queued, 0, &entry.publish),
            ));
            // Its order is older than anything queued: it goes ahead of the queue.
            self.push_queued(entry);
        }
        events
    }

    /// Drops queued messages whose expiry interval has passed (MQTT-3.3.2-5).
    pub(crate) fn expire(&mut self, now: u64, log: &mut StoreLog) -> Vec<Event> {
        let mut events = Vec::new();
        while let Some(&(at, order)) = self.expiries.first() {
            if at > now {
                break;
            }
            let entry = self.take_queued(order).expect("indexed entry is queued");
            if entry.persisted() {
                log.write(Write::Delete(store::outgoing_key(entry.order)));
            }
            if let Some(token) = entry.token {
                events.push(Event::PublishExpired { token });
            }
        }
        events
    }

    pub(crate) fn next_expiry(&self) -> Option<u64> {
        self.expiries.first().map(|(at, _)| *at)
    }

    /// Some(new state) when the fill level crossed a watermark.
    pub(crate) fn backpressure(&mut self, fill: f64, high: f64, low: f64) -> Option<bool> {
        let next = if self.backpressure_high {
            fill >= low
        } else {
            fill >= high
        };
        (next != self.backpressure_high).then(|| {
            self.backpressure_high = next;
            next
        })
    }
}

/// Settles a message that may not be sent: out of the store, its publish failed with `code`.
fn fail(entry: Option<Entry>, code: u8, log: &mut StoreLog, events: &mut VecDeque<Event>) {
    let Some(entry) = entry else { return };
    if entry.persisted() {
        log.write(Write::Delete(store::outgoing_key(entry.order)));
    }
    events.extend(done(entry.token, code));
}

/// The PUBLISH as it goes on the wire now (no packet id yet): with the remaining lifetime, not
/// the original one (MQTT-3.3.2-6).
fn wire(entry: &Entry, now: u64, protocol: ProtocolVersion) -> Publish {
    let mut publish = entry.publish.clone();
    if let (Some(expires_at), true) = (entry.expires_at, protocol.is_v5()) {
        publish.properties.message_expiry_interval =
            Some(expires_at.saturating_sub(now).div_ceil(1000) as u32);
    }
    publish
}

fn expiry(publish: &Publish, now: u64) -> Option<u64> {
    publish
        .properties
        .message_expiry_interval
        .map(|seconds| now + u64::from(seconds) * 1000)
}
