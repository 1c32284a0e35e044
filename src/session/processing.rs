//! Acknowledging after the handler ([`AckMode::AfterHandler`]). The message goes to the
//! application's handlers first. Its acknowledgement and the marks that it was processed are
//! written only once they settled: for QoS 1 the PUBACK; for QoS 2 the PUBREC, the step where
//! the receiver takes the message over (once the broker has it, it resends only PUBREL, never
//! the PUBLISH, 4.3.3), with the packet id record of method B (MQTT-4.3.3-9); with either, the
//! de-duplication id. The marks go in one store batch and the acknowledgement leaves once that
//! batch is durable (the gate). A page that dies before leaves the message unacknowledged, so
//! the broker sends it again (MQTT-4.4.0-1) and the handler runs again; one that dies after
//! finds the mark and acknowledges the resend without running it.
//!
//! Each message is a delivery: it waits for a handler slot (at most `concurrency` run or wait
//! to retry at once, in arrival order), runs, and when it fails is retried after 1, 2, 4 ...
//! times `retry_delay_ms` (deadlines through `poll_timeout`), then dead-lettered and
//! acknowledged. Another copy of a message in progress (a resend with its packet id, or a copy
//! with its de-duplication id) joins it and is acknowledged with it: a handler never runs twice
//! at once for one message.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Waiting,
    Running { since: u64 },
    Retrying { at: u64 },
}

#[derive(Debug)]
struct Delivery {
    id: u64,
    publish: Publish,
    key: Option<String>,
    routes: Vec<u32>,
    primary: bool,
    /// The packet ids (QoS 1 or 2) acknowledged once it is done.
    acks: Vec<(QoS, u16)>,
    attempt: u32,
    stage: Stage,
}

/// How many handler durations the latency percentiles are taken over (the latest).
const LATENCY_SAMPLES: usize = 512;

/// The deliveries in a plain vector in id order (ids only grow), not a map: no further copy of
/// the map code in the wasm, and they are few (the broker's window, QoS 0 within its bound).
#[derive(Debug, Default)]
pub(crate) struct Processing {
    deliveries: Vec<Delivery>,
    /// How many of them wait for a slot.
    waiting: usize,
    /// Topic and payload bytes of the QoS 0 deliveries waiting.
    waiting_qos0_bytes: usize,
    next_id: u64,
    /// The latest handler durations, a ring of LATENCY_SAMPLES.
    latencies: Vec<u64>,
    next_latency: usize,
    qos0_dropped: u64,
}

fn qos0_bytes(publish: &Publish) -> usize {
    publish.topic.len() + publish.payload.len()
}

impl Processing {
    /// Deliveries holding a slot: running, or waiting to retry.
    pub(crate) fn running(&self) -> usize {
        self.deliveries.len() - self.waiting
    }

    pub(crate) fn waiting(&self) -> usize {
        self.waiting
    }

    pub(crate) fn qos0_dropped(&self) -> u64 {
        self.qos0_dropped
    }

    /// The `percent` percentile of the latest handler durations (nearest rank): the smallest
    /// of them that at least that share do not exceed. Counted rather than sorted (512 x 512
    /// comparisons, on demand): no copy of a sort in the wasm for it.
    pub(crate) fn latency(&self, percent: usize) -> Option<u64> {
        let rank = (self.latencies.len() * percent).div_ceil(100).max(1);
        let within = |v: u64| self.latencies.iter().filter(|x| **x <= v).count();
        self.latencies
            .iter()
            .copied()
            .filter(|v| within(*v) >= rank)
            .min()
    }

    pub(crate) fn next_retry(&self) -> Option<u64> {
        self.deliveries
            .iter()
            .filter_map(|d| match d.stage {
                Stage::Retrying { at } => Some(at),
                _ => None,
            })
            .min()
    }

    /// The broker lost the session: it will resend none of these, and may reuse their packet
    /// ids for new messages, so nothing is acknowledged for them (their handlers still finish
    /// and their de-duplication ids are still marked).
    pub(crate) fn forget_acks(&mut self) {
        for delivery in &mut self.deliveries {
            delivery.acks.clear();
        }
    }

    /// The delivery in progress that a copy with `packet` or `key` belongs to.
    fn in_progress(&self, packet: Option<(QoS, u16)>, key: Option<&str>) -> Option<u64> {
        // Scanned, not indexed: they are few, and an index map is another copy of map code.
        let has_packet =
            |d: &&Delivery| packet.is_some_and(|(_, id)| d.acks.iter().any(|(_, a)| *a == id));
        let has_key = |d: &&Delivery| key.is_some() && d.key.as_deref() == key;
        let mut all = self.deliveries.iter();
        all.clone()
            .find(has_packet)
            .or_else(|| all.find(has_key))
            .map(|d| d.id)
    }

    fn index(&self, id: u64) -> Option<usize> {
        self.deliveries.binary_search_by_key(&id, |d| d.id).ok()
    }

    fn get(&mut self, id: u64) -> Option<&mut Delivery> {
        let at = self.index(id)?;
        Some(&mut self.deliveries[at])
    }

    fn add(&mut self, mut delivery: Delivery) {
        self.next_id += 1;
        delivery.id = self.next_id;
        if delivery.publish.qos == QoS::AtMostOnce {
            self.waiting_qos0_bytes += qos0_bytes(&delivery.publish);
        }
        self.waiting += 1;
        self.deliveries.push(delivery);
    }

    /// The oldest delivery waiting for a slot (of QoS 0 only, with `qos0`).
    fn first_waiting(&self, qos0: bool) -> Option<u64> {
        self.deliveries
            .iter()
            .find(|d| d.stage == Stage::Waiting && (!qos0 || d.publish.qos == QoS::AtMostOnce))
            .map(|d| d.id)
    }

    /// Drops the oldest waiting QoS 0 deliveries until they fit in `max_bytes`.
    fn bound_qos0(&mut self, max_bytes: usize) {
        while self.waiting_qos0_bytes > max_bytes {
            let Some(id) = self.first_waiting(true) else {
                break;
            };
            self.remove(id);
            self.qos0_dropped += 1;
        }
    }

    /// Delivery `at` no longer waits for a slot.
    fn leave_waiting(&mut self, at: usize) {
        let d = &self.deliveries[at];
        if d.stage == Stage::Waiting {
            self.waiting -= 1;
            if d.publish.qos == QoS::AtMostOnce {
                self.waiting_qos0_bytes -= qos0_bytes(&d.publish);
            }
        }
    }

    fn remove(&mut self, id: u64) -> Option<Delivery> {
        let at = self.index(id)?;
        self.leave_waiting(at);
        Some(self.deliveries.remove(at))
    }

    fn record_latency(&mut self, ms: u64) {
        if self.latencies.len() < LATENCY_SAMPLES {
            self.latencies.push(ms);
        } else {
            self.latencies[self.next_latency] = ms;
        }
        self.next_latency = (self.next_latency + 1) % LATENCY_SAMPLES;
    }
}

impl Session {
    /// The routes `publish` reaches, whether it is the primary copy, and whether it waits for
    /// its handlers before it is acknowledged (a request's reply never does: no handler).
    pub(super) fn handler_routing(&self, publish: &Publish) -> Option<(Vec<u32>, bool)> {
        if self.config.ack == AckMode::OnReceipt && !self.router.has_modes() {
            return None;
        }
        let (routes, primary) = self.routes_of(publish);
        let mode = self.router.ack_mode(&routes, self.config.ack);
        (mode == AckMode::AfterHandler && self.response_token(publish).is_none())
            .then_some((routes, primary))
    }

    /// An inbound PUBLISH whose handlers run before it is acknowledged (see the module docs).
    /// Out of line, as the others here: inlined, each came again in every host entry point.
    #[inline(never)]
    pub(super) fn receive_for_handler(
        &mut self,
        now: u64,
        publish: Publish,
        key: Option<String>,
        (routes, primary): (Vec<u32>, bool),
    ) {
        let packet = publish.packet_id.map(|id| (publish.qos, id));
        if let Some((QoS::ExactlyOnce, id)) = packet {
            // Its id stored: its handler ran and PUBREC went (or was lost with a connection).
            // A resend (DUP, MQTT-3.3.1-1) or one we cannot tell from one is acknowledged
            // again; a first send with a message id is a broker reusing the id (inbound.rs).
            if self.inbound_qos2.contains(&id) && (publish.dup || key.is_none()) {
                return self.acknowledge(now, packet);
            }
        }
        if self.is_unnamed_copy(now, &publish) {
            self.copies_dropped += 1;
            return self.acknowledge(now, packet);
        }
        if let Some(id) = self.processing.in_progress(packet, key.as_deref()) {
            // A copy of a message whose handler runs or waits: acknowledged with it.
            let processing = &mut self.processing;
            let at = processing.index(id).expect("indexed");
            let delivery = &mut processing.deliveries[at];
            if let Some(packet) = packet.filter(|p| !delivery.acks.contains(p)) {
                delivery.acks.push(packet);
            }
            // Another message with its id, not a resend of the same packet.
            if key.is_some() && publish.packet_id != delivery.publish.packet_id {
                self.drop_duplicate(publish);
            }
            return;
        }
        if key.as_deref().is_some_and(|k| self.seen.contains(k)) {
            // Processed before (its mark is in the window): acknowledged without running.
            self.drop_duplicate(publish);
            return self.acknowledge(now, packet);
        }
        self.processing.add(Delivery {
            id: 0, // given by `add`
            publish,
            key,
            routes,
            primary,
            acks: packet.into_iter().collect(),
            attempt: 0,
            stage: Stage::Waiting,
        });
        self.processing
            .bound_qos0(self.config.handlers.queue_max_bytes);
        self.pump_handlers(now);
    }

    /// The application's handlers for `delivery` settled: Ok, or failed with `error`.
    #[inline(never)]
    pub fn handle_handler_done(&mut self, now: u64, delivery: u64, outcome: Result<(), String>) {
        let Some(d) = self.processing.get(delivery) else {
            return; // a late report for a delivery already given up
        };
        let Stage::Running { since } = d.stage else {
            return;
        };
        let attempts = d.attempt;
        let retries = self.config.handlers.retries;
        let ms = now.saturating_sub(since);
        self.processing.record_latency(ms);
        match outcome {
            Ok(()) => self.finish_delivery(now, delivery),
            Err(_) if attempts <= retries => {
                let d = self.processing.get(delivery).expect("exists");
                let factor = 1u64 << (attempts - 1).min(20);
                let delay = self.config.handlers.retry_delay_ms.saturating_mul(factor);
                d.stage = Stage::Retrying {
                    at: now.saturating_add(delay),
                };
            }
            Err(error) => {
                let publish = self
                    .processing
                    .get(delivery)
                    .expect("exists")
                    .publish
                    .clone();
                self.events.push_back(Event::DeadLetter {
                    delivery,
                    publish,
                    error,
                    attempts,
                });
                self.finish_delivery(now, delivery);
            }
        }
    }

    /// Runs again the deliveries whose retry is due.
    #[inline(never)]
    pub(super) fn retry_handlers(&mut self, now: u64) {
        let due: Vec<u64> = self
            .processing
            .deliveries
            .iter()
            .filter(|d| matches!(d.stage, Stage::Retrying { at } if at <= now))
            .map(|d| d.id)
            .collect();
        for id in due {
            self.run_handler(now, id);
        }
    }

    /// Starts waiting deliveries while slots are free.
    fn pump_handlers(&mut self, now: u64) {
        let slots = self.config.handlers.concurrency.max(1);
        while self.processing.running() < slots {
            let Some(id) = self.processing.first_waiting(false) else {
                break;
            };
            self.run_handler(now, id);
        }
    }

    #[inline(never)]
    fn run_handler(&mut self, now: u64, id: u64) {
        let processing = &mut self.processing;
        let at = processing.index(id).expect("exists");
        processing.leave_waiting(at);
        let d = &mut processing.deliveries[at];
        d.attempt += 1;
        d.stage = Stage::Running { since: now };
        if d.attempt == 1 && d.primary {
            self.received += 1;
        }
        self.events.push_back(Event::Handle {
            delivery: id,
            attempt: d.attempt,
            publish: d.publish.clone(),
            routes: d.routes.clone(),
            primary: d.primary,
        });
    }

    /// Marks the delivery processed and acknowledges it: the marks in one batch, every
    /// acknowledgement gated on it.
    fn finish_delivery(&mut self, now: u64, id: u64) {
        let Some(delivery) = self.processing.remove(id) else {
            return;
        };
        if let Some(key) = &delivery.key {
            if self.seen.insert(key, now) {
                self.write(Write::Put(store::seen_id_key(key), Vec::new()));
            }
        }
        for packet in delivery.acks {
            self.acknowledge(now, Some(packet));
        }
        self.evict_seen(now);
        self.pump_handlers(now);
    }

    /// PUBACK (QoS 1) or PUBREC (QoS 2, its id recorded first) once the store caught up.
    fn acknowledge(&mut self, now: u64, packet: Option<(QoS, u16)>) {
        let ack = match packet {
            Some((QoS::AtLeastOnce, id)) => Packet::PubAck(Ack::new(id)),
            Some((QoS::ExactlyOnce, id)) => {
                if self.inbound_qos2.insert(id) {
                    self.write(Write::Put(store::inbound_key(id), Vec::new()));
                }
                Packet::PubRec(Ack::new(id))
            }
            _ => return,
        };
        self.gate(now, Gated::Send(ack));
    }
}
