//! A scripted-broker harness for session tests: a manual clock, a durable in-memory store that
//! applies the session's writes only when told to commit, and helpers to drain outputs.
#![allow(dead_code)]

use std::collections::BTreeMap;

use bytes::Bytes;
use wasmqtt::codec::{
    Ack, ConnAck, Packet, Properties, ProtocolVersion, Publish, QoS, SubAck, SubscriptionOptions,
};
use wasmqtt::session::{Config, Event, PublishRequest, Session, StoreOp, Write};

pub struct Harness {
    pub session: Session,
    pub now: u64,
    pub config: Config,
    /// What the store has made durable.
    pub durable: BTreeMap<String, Vec<u8>>,
    /// Written by the session, not yet committed.
    pub pending: Vec<StoreOp>,
}

pub fn config(protocol: ProtocolVersion) -> Config {
    let mut config = Config::new(protocol, "tester");
    config.keep_alive = 10;
    // A persistent session, as the tests resume it: a broker may answer Session Present 1 only
    // to a CONNECT without Clean Start (MQTT-3.2.2-4).
    config.clean_start = false;
    if let Some(dedup) = config.dedup.as_mut() {
        dedup.id_prefix = "t-".into();
    }
    config
}

impl Harness {
    pub fn new(config: Config) -> Harness {
        Harness {
            session: Session::new(config.clone()),
            now: 1_000,
            config,
            durable: BTreeMap::new(),
            pending: Vec::new(),
        }
    }

    pub fn v5() -> Harness {
        Harness::new(config(ProtocolVersion::V5))
    }

    /// Rebuilds the session from the durable store only, as after a page reload.
    pub fn restart(&mut self) {
        self.pending.clear();
        let records = self.durable.clone().into_iter();
        self.session = Session::restore(self.config.clone(), records, self.now);
    }

    pub fn advance(&mut self, ms: u64) {
        self.now += ms;
        self.session.handle_timeout(self.now);
    }

    pub fn sent(&mut self) -> Vec<Packet> {
        std::iter::from_fn(|| self.session.poll_packet()).collect()
    }

    pub fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.session.poll_event()).collect()
    }

    /// Collects the session's writes (not yet durable).
    pub fn collect_writes(&mut self) {
        while let Some(op) = self.session.poll_store() {
            self.pending.push(op);
        }
    }

    /// Makes every write so far durable and tells the session.
    pub fn commit(&mut self) {
        self.collect_writes();
        if let Some(seq) = self.commit_silently() {
            self.session.handle_store_committed(self.now, seq);
        }
    }

    /// Makes the collected writes durable without telling the session (a commit whose
    /// confirmation never reaches it, e.g. the page went first); returns the last sequence.
    pub fn commit_silently(&mut self) -> Option<u64> {
        let mut last = None;
        for op in self.pending.drain(..) {
            match op.write {
                Write::Put(key, value) => {
                    self.durable.insert(key, value);
                }
                Write::Delete(key) => {
                    self.durable.remove(&key);
                }
            }
            last = Some(op.seq);
        }
        last
    }

    /// Commits, then returns what was sent: a QoS 2 PUBLISH leaves only once its record is durable.
    pub fn commit_then_sent(&mut self) -> Vec<Packet> {
        self.commit();
        self.sent()
    }

    /// Opens the transport, checks CONNECT goes out, answers CONNACK.
    pub fn connect_with(&mut self, session_present: bool, properties: Properties) -> Vec<Event> {
        self.session.handle_transport_open(self.now);
        let sent = self.sent();
        assert!(
            matches!(sent.first(), Some(Packet::Connect(_))),
            "MQTT-3.1.0-1: CONNECT first, got {sent:?}"
        );
        self.receive(Packet::ConnAck(ConnAck {
            session_present,
            code: 0,
            properties,
        }));
        self.events()
    }

    pub fn connect(&mut self) -> Vec<Event> {
        self.connect_with(false, Properties::default())
    }

    pub fn receive(&mut self, packet: Packet) {
        self.session.handle_packet(self.now, packet);
    }

    /// Subscribes to `filters` at `qos`; returns the token.
    pub fn subscribe(&mut self, filters: &[&str], qos: QoS) -> u32 {
        let options = SubscriptionOptions {
            qos,
            ..Default::default()
        };
        let filters = filters.iter().map(|f| (f.to_string(), options)).collect();
        self.session
            .subscribe(self.now, filters, Properties::default())
            .expect("subscribe accepted")
    }

    /// Answers every SUBSCRIBE in `packets` with SUBACK, `code(filter)` for each filter.
    pub fn grant(&mut self, packets: &[Packet], code: impl Fn(&str) -> u8) {
        for packet in packets {
            if let Packet::Subscribe(subscribe) = packet {
                let reason_codes = subscribe.filters.iter().map(|(f, _)| code(f)).collect();
                self.receive(Packet::SubAck(SubAck {
                    packet_id: subscribe.packet_id,
                    properties: Properties::default(),
                    reason_codes,
                }));
            }
        }
    }

    pub fn publish(&mut self, topic: &str, payload: &str, qos: QoS) -> u32 {
        self.session
            .publish(self.now, publish_request(topic, payload, qos))
            .expect("publish accepted")
    }
}

/// The application's publish of `payload` on `topic`.
pub fn publish_request(topic: &str, payload: &str, qos: QoS) -> PublishRequest {
    PublishRequest {
        topic: topic.into(),
        payload: Bytes::copy_from_slice(payload.as_bytes()),
        qos,
        ..Default::default()
    }
}

/// The PUBLISH packets in `packets`.
pub fn publishes(packets: &[Packet]) -> Vec<Publish> {
    packets
        .iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

pub fn inbound(topic: &str, payload: &str, qos: QoS, packet_id: Option<u16>) -> Publish {
    Publish {
        dup: false,
        qos,
        retain: false,
        topic: topic.into(),
        packet_id,
        properties: Properties::default(),
        payload: Bytes::copy_from_slice(payload.as_bytes()),
    }
}

pub fn with_message_id(mut publish: Publish, id: &str) -> Publish {
    publish
        .properties
        .user_properties
        .push(("wasmqtt-id".into(), id.into()));
    publish
}

pub fn ack(packet_id: u16) -> Ack {
    Ack::new(packet_id)
}

/// The packet ids of the PUBLISH packets in `packets`.
pub fn publish_ids(packets: &[Packet]) -> Vec<u16> {
    packets
        .iter()
        .filter_map(|p| {
            if let Packet::Publish(p) = p {
                p.packet_id
            } else {
                None
            }
        })
        .collect()
}

pub fn delivered(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| {
            if let Event::Message { publish, .. } = e {
                Some(String::from_utf8_lossy(&publish.payload).into_owned())
            } else {
                None
            }
        })
        .collect()
}

/// The payloads each route received, and the payloads of primary deliveries (route 0).
pub fn by_route(events: &[Event]) -> std::collections::BTreeMap<u32, Vec<String>> {
    let mut out: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
    for event in events {
        if let Event::Message {
            publish,
            routes,
            primary,
        } = event
        {
            let payload = String::from_utf8_lossy(&publish.payload).into_owned();
            if *primary {
                out.entry(0).or_default().push(payload.clone());
            }
            for route in routes {
                out.entry(*route).or_default().push(payload.clone());
            }
        }
    }
    out
}
