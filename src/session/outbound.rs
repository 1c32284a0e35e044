//! Outgoing messages: the queue (offline, or waiting for the in-flight window), the in-flight
//! table indexed by packet id, and the QoS 1 and QoS 2 state machines.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::codec::{reason, Ack, Packet, ProtocolVersion, Publish, QoS};

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
}

impl Entry {
    fn persisted(&self) -> bool {
        self.publish.qos != QoS::AtMostOnce
    }
}

pub(crate) struct Outbound {
    queue: VecDeque<Entry>,
    queued_bytes: usize,
    /// In flight, in publish order.
    inflight: BTreeMap<u64, Entry>,
    by_packet_id: HashMap<u16, u64>,
    window: usize,
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
            queue: VecDeque::new(),
            queued_bytes: 0,
            inflight: BTreeMap::new(),
            by_packet_id: HashMap::new(),
            window: usize::from(config.max_inflight.max(1)),
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

    pub(crate) fn sent(&self) -> u64 {
        self.sent
    }

    pub(crate) fn set_window(&mut self, window: u16) {
        self.window = usize::from(window.max(1));
    }

    /// The store records of the messages kept (QoS 1 and 2), queued and in flight.
    pub(crate) fn records(&self) -> Vec<(String, Vec<u8>)> {
        self.queue
            .iter()
            .chain(self.inflight.values())
            .filter(|entry| entry.persisted())
            .map(|entry| {
                (
                    store::outgoing_key(entry.order),
                    store::outgoing_value(entry.stage, entry.packet_id, &entry.publish),
                )
            })
            .collect()
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
        };
        match stage {
            Stage::Queued => {
                self.queued_bytes += size;
                self.queue.push_back(entry);
            }
            Stage::Sent | Stage::Released
                if packet_id != 0 && !self.by_packet_id.contains_key(&packet_id) =>
            {
                self.by_packet_id.insert(packet_id, order);
                self.inflight.insert(order, entry);
            }
            // An in-flight record without a usable id: send it again as new.
            _ => {
                self.queued_bytes += size;
                self.queue.push_back(Entry {
                    stage: Stage::Queued,
                    packet_id: 0,
                    ..entry
                });
            }
        }
    }

    /// Accepts a message into the queue, making room by the overflow policy.
    pub(crate) fn enqueue(
        &mut self,
        now: u64,
        token: Token,
        publish: Publish,
        log: &mut StoreLog,
    ) -> Result<Vec<Event>, CommandError> {
        let size = publish.payload.len() + publish.topic.len();
        let mut events = Vec::new();
        while self.queue.len() + 1 > self.max_messages || self.queued_bytes + size > self.max_bytes
        {
            let oldest_qos0 = match self.overflow {
                Overflow::Reject => None,
                Overflow::DropOldestQos0 => self
                    .queue
                    .iter()
                    .position(|e| e.publish.qos == QoS::AtMostOnce),
            };
            let Some(index) = oldest_qos0 else {
                return Err(CommandError::QueueFull);
            };
            let dropped = self.queue.remove(index).expect("index is in the queue");
            self.queued_bytes -= dropped.size;
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
        };
        if entry.persisted() {
            log.write(Write::Put(
                store::outgoing_key(order),
                store::outgoing_value(Stage::Queued, 0, &entry.publish),
            ));
        }
        self.queued_bytes += size;
        self.queue.push_back(entry);
        Ok(events)
    }

    /// A packet id free of every in-flight message and pending request.
    pub(crate) fn allocate_packet_id(&mut self, requests: &HashMap<u16, Control>) -> u16 {
        loop {
            let id = self.next_packet_id;
            self.next_packet_id = self.next_packet_id.checked_add(1).unwrap_or(1);
            if !self.by_packet_id.contains_key(&id) && !requests.contains_key(&id) {
                return id;
            }
        }
    }

    /// The next PUBLISH the window allows, in queue order, with the event it settles (QoS 0).
    pub(crate) fn next_to_send(
        &mut self,
        now: u64,
        requests: &HashMap<u16, Control>,
        log: &mut StoreLog,
        protocol: ProtocolVersion,
    ) -> Option<(Packet, Option<Event>)> {
        let front = self.queue.front()?;
        if front.publish.qos != QoS::AtMostOnce && self.inflight.len() >= self.window {
            return None;
        }
        let mut entry = self.queue.pop_front().expect("front exists");
        self.queued_bytes -= entry.size;
        self.sent += 1;
        let mut publish = entry.publish.clone();
        if let (Some(expires_at), true) = (entry.expires_at, protocol.is_v5()) {
            // MQTT-3.3.2-6: forward the remaining lifetime, not the original one.
            publish.properties.message_expiry_interval =
                Some(expires_at.saturating_sub(now).div_ceil(1000) as u32);
        }
        if publish.qos == QoS::AtMostOnce {
            return Some((Packet::Publish(publish), done(entry.token, reason::SUCCESS)));
        }
        let packet_id = self.allocate_packet_id(requests);
        publish.packet_id = Some(packet_id);
        entry.stage = Stage::Sent;
        entry.packet_id = packet_id;
        log.write(Write::Put(
            store::outgoing_key(entry.order),
            store::outgoing_value(Stage::Sent, packet_id, &entry.publish),
        ));
        self.by_packet_id.insert(packet_id, entry.order);
        self.inflight.insert(entry.order, entry);
        Some((Packet::Publish(publish), None))
    }

    fn take(&mut self, packet_id: u16, stage: Stage, qos: QoS) -> Option<Entry> {
        let order = *self.by_packet_id.get(&packet_id)?;
        let entry = self.inflight.get(&order)?;
        if entry.stage != stage || entry.publish.qos != qos {
            return None; // an ack that does not fit the flow: ignored (MQTT-4.3.2/4.3.3)
        }
        self.by_packet_id.remove(&packet_id);
        self.inflight.remove(&order)
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
            self.by_packet_id.remove(&ack.packet_id);
            self.inflight.remove(&order);
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
        PubRec::Release
    }

    pub(crate) fn handle_pubcomp(&mut self, ack: &Ack, log: &mut StoreLog) -> Option<Event> {
        let entry = self.take(ack.packet_id, Stage::Released, QoS::ExactlyOnce)?;
        log.write(Write::Delete(store::outgoing_key(entry.order)));
        done(entry.token, ack.reason_code)
    }

    /// With the session present: everything in flight again, in the original order, PUBLISH
    /// with DUP=1 (MQTT-3.3.1-1) or PUBREL (MQTT-4.4.0-1).
    pub(crate) fn resend(&self, _protocol: ProtocolVersion) -> Vec<Packet> {
        self.inflight
            .values()
            .map(|entry| match entry.stage {
                Stage::Released => Packet::PubRel(Ack::new(entry.packet_id)),
                _ => Packet::Publish(Publish {
                    dup: true,
                    packet_id: Some(entry.packet_id),
                    ..entry.publish.clone()
                }),
            })
            .collect()
    }

    /// The broker lost our session: messages it never acknowledged go out again as new ones
    /// (at least once), ahead of the queue and in order. Those it had PUBREC'd may have gone
    /// with the session (a broker that forwards on PUBREL, killed before saving it, loses them):
    /// with `resend_released` (the message id lets subscribers drop a second copy) they go out
    /// again too; without, they count as the broker's.
    pub(crate) fn session_lost(&mut self, log: &mut StoreLog, resend_released: bool) -> Vec<Event> {
        let mut events = Vec::new();
        let mut again = Vec::new();
        for (_, entry) in std::mem::take(&mut self.inflight) {
            match entry.stage {
                Stage::Released if !resend_released => {
                    log.write(Write::Delete(store::outgoing_key(entry.order)));
                    events.extend(done(entry.token, reason::SUCCESS));
                }
                _ => again.push(entry),
            }
        }
        self.by_packet_id.clear();
        for mut entry in again.into_iter().rev() {
            entry.stage = Stage::Queued;
            entry.packet_id = 0;
            log.write(Write::Put(
                store::outgoing_key(entry.order),
                store::outgoing_value(Stage::Queued, 0, &entry.publish),
            ));
            self.queued_bytes += entry.size;
            self.queue.push_front(entry);
        }
        events
    }

    /// Drops queued messages whose expiry interval has passed (MQTT-3.3.2-5).
    pub(crate) fn expire(&mut self, now: u64, log: &mut StoreLog) -> Vec<Event> {
        let mut events = Vec::new();
        let mut kept = VecDeque::with_capacity(self.queue.len());
        for entry in self.queue.drain(..) {
            if entry.expires_at.is_some_and(|at| at <= now) {
                self.queued_bytes -= entry.size;
                if entry.persisted() {
                    log.write(Write::Delete(store::outgoing_key(entry.order)));
                }
                if let Some(token) = entry.token {
                    events.push(Event::PublishExpired { token });
                }
            } else {
                kept.push_back(entry);
            }
        }
        self.queue = kept;
        events
    }

    pub(crate) fn next_expiry(&self) -> Option<u64> {
        self.queue.iter().filter_map(|e| e.expires_at).min()
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

fn expiry(publish: &Publish, now: u64) -> Option<u64> {
    publish
        .properties
        .message_expiry_interval
        .map(|seconds| now + u64::from(seconds) * 1000)
}
