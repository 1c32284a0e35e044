//! Randomized faults against a simulated broker: the link cuts at random moments (whatever is
//! in transit is lost, both ways), the client restarts at random and is rebuilt from its
//! durable store only, store commits lag behind. For many seeds: every QoS 2 message, and every
//! QoS 1 message after de-duplication, reaches the application exactly once and in order.
#![cfg(not(target_arch = "wasm32"))] // host-only

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use bytes::Bytes;
use wasmqtt::codec::{
    Ack, ConnAck, Packet, Properties, ProtocolVersion, Publish, QoS, SubAck, SubscriptionOptions,
};
use wasmqtt::session::{Config, Event, PublishRequest, Session, StoreOp, Write};
use wasmqtt::topic;

/// xorshift64*: small, seeded, enough for a test.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// The server side of one persistent client session (MQTT 5, clean start false).
#[derive(Default)]
struct Broker {
    subscriptions: Vec<(String, QoS)>,
    /// Inbound QoS 2 ids awaiting PUBREL (method A: delivered on receipt).
    inbound_qos2: HashSet<u16>,
    /// Outbound to the client, by the broker's packet id: (message, released).
    inflight: BTreeMap<u64, (u16, Publish, bool)>,
    pending: VecDeque<Publish>,
    next_id: u16,
    next_order: u64,
    connected: bool,
    has_session: bool,
    window: usize,
}

impl Broker {
    fn route(&mut self, publish: &Publish, to_client: &mut VecDeque<Packet>) {
        for (filter, granted) in self.subscriptions.clone() {
            if topic::matches(&filter, &publish.topic) {
                let qos = publish.qos.min(granted);
                let message = Publish {
                    dup: false,
                    retain: false,
                    qos,
                    packet_id: None,
                    ..publish.clone()
                };
                self.pending.push_back(message);
            }
        }
        self.flush(to_client);
    }

    fn flush(&mut self, to_client: &mut VecDeque<Packet>) {
        while self.connected && self.inflight.len() < self.window {
            let Some(mut message) = self.pending.pop_front() else {
                break;
            };
            if message.qos == QoS::AtMostOnce {
                to_client.push_back(Packet::Publish(message));
                continue;
            }
            self.next_id = self.next_id % 60_000 + 1;
            message.packet_id = Some(self.next_id);
            self.next_order += 1;
            self.inflight
                .insert(self.next_order, (self.next_id, message.clone(), false));
            to_client.push_back(Packet::Publish(message));
        }
    }

    fn take(&mut self, id: u16) -> Option<u64> {
        self.inflight
            .iter()
            .find(|(_, (pid, ..))| *pid == id)
            .map(|(order, _)| *order)
    }

    fn handle(&mut self, packet: Packet, to_client: &mut VecDeque<Packet>) {
        match packet {
            Packet::Connect(connect) => {
                assert!(!connect.clean_start);
                self.connected = true;
                let session_present = self.has_session;
                self.has_session = true;
                let properties = Properties {
                    receive_maximum: Some(5),
                    ..Default::default()
                };
                to_client.push_back(Packet::ConnAck(ConnAck {
                    session_present,
                    code: 0,
                    properties,
                }));
                // MQTT-4.4.0-1: resend unacknowledged PUBLISH (DUP) and PUBREL in order.
                for (id, message, released) in self.inflight.values() {
                    to_client.push_back(if *released {
                        Packet::PubRel(Ack::new(*id))
                    } else {
                        Packet::Publish(Publish {
                            dup: true,
                            ..message.clone()
                        })
                    });
                }
                self.flush(to_client);
            }
            Packet::Subscribe(subscribe) => {
                let codes = subscribe.filters.iter().map(|(_, o)| o.qos as u8).collect();
                for (filter, options) in subscribe.filters {
                    self.subscriptions.retain(|(f, _)| *f != filter);
                    self.subscriptions.push((filter, options.qos));
                }
                to_client.push_back(Packet::SubAck(SubAck {
                    packet_id: subscribe.packet_id,
                    properties: Properties::default(),
                    reason_codes: codes,
                }));
            }
            Packet::Publish(publish) => match (publish.qos, publish.packet_id) {
                (QoS::AtMostOnce, _) => self.route(&publish, to_client),
                (QoS::AtLeastOnce, Some(id)) => {
                    self.route(&publish, to_client);
                    to_client.push_back(Packet::PubAck(Ack::new(id)));
                }
                (QoS::ExactlyOnce, Some(id)) => {
                    if self.inbound_qos2.insert(id) {
                        self.route(&publish, to_client);
                    }
                    to_client.push_back(Packet::PubRec(Ack::new(id)));
                }
                _ => panic!("bad publish"),
            },
            Packet::PubRel(ack) => {
                self.inbound_qos2.remove(&ack.packet_id);
                to_client.push_back(Packet::PubComp(Ack::new(ack.packet_id)));
            }
            Packet::PubAck(ack) | Packet::PubComp(ack) => {
                if let Some(order) = self.take(ack.packet_id) {
                    self.inflight.remove(&order);
                }
                self.flush(to_client);
            }
            Packet::PubRec(ack) => {
                if let Some(order) = self.take(ack.packet_id) {
                    self.inflight.get_mut(&order).expect("present").2 = true;
                }
                to_client.push_back(Packet::PubRel(Ack::new(ack.packet_id)));
            }
            Packet::PingReq => to_client.push_back(Packet::PingResp),
            Packet::Disconnect(_) => self.connected = false,
            other => panic!("unexpected {other:?}"),
        }
    }
}

struct Client {
    session: Session,
    durable: BTreeMap<String, Vec<u8>>,
    pending_writes: Vec<StoreOp>,
}

impl Client {
    fn commit(&mut self, now: u64) {
        while let Some(op) = self.session.poll_store() {
            self.pending_writes.push(op);
        }
        let Some(last) = self.pending_writes.last().map(|op| op.seq) else {
            return;
        };
        for op in self.pending_writes.drain(..) {
            match op.write {
                Write::Put(k, v) => {
                    self.durable.insert(k, v);
                }
                Write::Delete(k) => {
                    self.durable.remove(&k);
                }
            }
        }
        self.session.handle_store_committed(now, last);
        // With every write applied, the store holds exactly the session's state: what a store
        // that lost writes is rewritten with (Session::snapshot) is the same thing.
        let durable: Vec<_> = self.durable.clone().into_iter().collect();
        assert_eq!(
            self.session.snapshot(),
            durable,
            "snapshot = applied writes"
        );
    }
}

/// The host makes the message id prefix unique per page load (the driver uses a random one);
/// `generation` stands for that here.
fn config(generation: u32) -> Config {
    let mut config = Config::new(ProtocolVersion::V5, "faulty");
    config.clean_start = false;
    config.keep_alive = 0;
    config.connect_properties.session_expiry_interval = Some(u32::MAX);
    config
        .dedup
        .as_mut()
        .expect("dedup on by default")
        .id_prefix = format!("g{generation}-");
    config
}

/// Runs one seed; returns the number of link cuts and restarts it saw.
fn run(seed: u64, messages: usize) -> (u32, u32) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut broker = Broker {
        window: 3,
        ..Default::default()
    };
    let mut client = Client {
        session: Session::new(config(0)),
        durable: BTreeMap::new(),
        pending_writes: Vec::new(),
    };
    let (mut to_broker, mut to_client) = (VecDeque::<Packet>::new(), VecDeque::<Packet>::new());
    let mut link_up = false;
    let mut now = 0u64;
    let mut published = 0usize;
    let mut delivered: HashMap<QoS, Vec<usize>> = HashMap::new();
    let (mut cuts, mut restarts) = (0, 0);
    let mut subscribed = false;
    let mut confirmed = false;

    for _step in 0..200_000 {
        now += 1;
        if !link_up && rng.chance(30) {
            link_up = true;
            client.session.handle_transport_open(now);
        }
        if link_up && client.session.is_connected() && !subscribed {
            let options = SubscriptionOptions {
                qos: QoS::ExactlyOnce,
                ..Default::default()
            };
            client
                .session
                .subscribe(now, vec![("t/#".into(), options)], Properties::default())
                .expect("subscribe");
            subscribed = true;
        }
        // Publish only once the broker confirmed the subscription, so every message has a route.
        if confirmed && published < messages && rng.chance(20) {
            let qos = if rng.chance(50) {
                QoS::AtLeastOnce
            } else {
                QoS::ExactlyOnce
            };
            let topic = format!("t/{}", qos as u8);
            let payload = Bytes::from(published.to_string());
            client
                .session
                .publish(
                    now,
                    PublishRequest {
                        topic,
                        payload,
                        qos,
                        ..Default::default()
                    },
                )
                .expect("publish");
            // The application's publish is durable before it counts as published.
            client.commit(now);
            published += 1;
        }
        if rng.chance(40) {
            client.commit(now);
        }
        while let Some(packet) = client.session.poll_packet() {
            if link_up {
                to_broker.push_back(packet);
            }
        }
        // Deliver some of what is in transit, in order, each way.
        for _ in 0..(rng.next() % 4) {
            if let Some(packet) = to_broker.pop_front() {
                broker.handle(packet, &mut to_client);
            }
        }
        for _ in 0..(rng.next() % 4) {
            if let Some(packet) = to_client.pop_front() {
                client.session.handle_packet(now, packet);
            }
        }
        while let Some(event) = client.session.poll_event() {
            if let Event::Subscribed { .. } = event {
                confirmed = true;
            }
            if let Event::Message { publish } = event {
                let n: usize = std::str::from_utf8(&publish.payload)
                    .unwrap()
                    .parse()
                    .unwrap();
                let qos = if publish.topic == "t/1" {
                    QoS::AtLeastOnce
                } else {
                    QoS::ExactlyOnce
                };
                delivered.entry(qos).or_default().push(n);
            }
        }
        // Faults.
        if link_up && rng.chance(2) {
            cuts += 1;
            link_up = false;
            to_broker.clear();
            to_client.clear();
            broker.connected = false;
            client.session.handle_transport_closed(now);
        }
        if rng.chance(1) {
            restarts += 1;
            link_up = false;
            to_broker.clear();
            to_client.clear();
            broker.connected = false;
            client.pending_writes.clear(); // not yet durable: lost with the page
                                           // A page subscribes again on every load until the broker has confirmed it.
            subscribed = confirmed;
            let records: Vec<_> = client.durable.clone().into_iter().collect();
            client.session = Session::restore(config(restarts), records, now);
        }
        let total: usize = delivered.values().map(Vec::len).sum();
        if published == messages && total >= messages && client.session.metrics().inflight == 0 {
            break;
        }
    }

    if std::env::var("FAULT_DEBUG").is_ok() {
        eprintln!(
            "published {published}; broker inflight {:?}; pending {}; inbound {:?}; client {:?}; link {link_up}",
            broker.inflight.values().map(|(id, p, rel)| (id, String::from_utf8_lossy(&p.payload).into_owned(), rel)).collect::<Vec<_>>(),
            broker.pending.len(),
            broker.inbound_qos2,
            client.session.metrics()
        );
    }
    let mut all: Vec<usize> = delivered.values().flatten().copied().collect();
    all.sort_unstable();
    let expected: Vec<usize> = (0..messages).collect();
    assert_eq!(
        all, expected,
        "seed {seed}: every message exactly once (lost or duplicated otherwise)"
    );
    for (qos, order) in &delivered {
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(
            order, &sorted,
            "seed {seed}: {qos:?} messages in publish order"
        );
    }
    (cuts, restarts)
}

#[test]
fn qos1_with_dedup_and_qos2_arrive_exactly_once_in_order_through_cuts_and_restarts() {
    let (mut cuts, mut restarts) = (0, 0);
    let seeds = 2_000;
    let only: Option<u64> = std::env::var("FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok());
    for seed in (0..seeds).filter(|s| only.is_none_or(|o| o == *s)) {
        let (c, r) = run(seed, 60);
        cuts += c;
        restarts += r;
    }
    // The faults really happened.
    assert!(cuts > seeds as u32 * 5, "cuts: {cuts}");
    assert!(restarts > seeds as u32, "restarts: {restarts}");
    println!("{seeds} seeds x 60 messages: {cuts} link cuts, {restarts} client restarts, no loss, no duplicate");
}
