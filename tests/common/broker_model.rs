//! A model broker for one persistent client session (MQTT 5, clean start false), for the
//! randomized fault tests of the session and of the whole client: it routes what it receives to
//! the subscriptions, keeps its own in-flight QoS 1 and 2 messages and resends them on the next
//! connection (MQTT-4.4.0-1), resolves topic aliases as a receiver must, checks the limits its
//! CONNACK set, and fails the test on a protocol violation.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use wasmqtt::codec::{
    encoded_len, Ack, ConnAck, Packet, Properties, ProtocolVersion, Publish, QoS, SubAck,
};
use wasmqtt::topic;

/// xorshift64*: small, seeded, enough for a test.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// The server side of one persistent client session (MQTT 5, clean start false).
#[derive(Default)]
pub struct Broker {
    /// Filter, granted QoS, subscription identifier.
    pub subscriptions: Vec<(String, QoS, Option<u32>)>,
    /// Inbound QoS 2 ids awaiting PUBREL (method A: delivered on receipt).
    pub inbound_qos2: HashSet<u16>,
    /// Outbound to the client, by the broker's packet id: (message, released).
    pub inflight: BTreeMap<u64, (u16, Publish, bool)>,
    pub pending: VecDeque<Publish>,
    pub next_id: u16,
    pub next_order: u64,
    pub connected: bool,
    pub has_session: bool,
    pub window: usize,
    /// Topic Alias Maximum offered in CONNACK (0: none) and this connection's alias table.
    pub alias_maximum: u16,
    pub aliases: HashMap<u16, String>,
    /// PUBLISH packets that arrived with an empty topic on an alias.
    pub alias_hits: u32,
    /// Subscription identifiers supported (else CONNACK says not, and copies carry none).
    pub ids: bool,
    /// The limits the next CONNACK sets, and those of this connection.
    pub receive_maximum: u16,
    pub maximum_packet_size: Option<u32>,
    /// QoS 2 PUBLISH received on this connection, PUBCOMP not yet sent: what the client's send
    /// quota counts (4.9; QoS 1 is acknowledged at once here).
    pub unacknowledged: HashSet<u16>,
    /// The most of them at once, over the run.
    pub most_unacknowledged: usize,
}

impl Broker {
    fn route(&mut self, publish: &Publish, to_client: &mut VecDeque<Packet>) {
        for (filter, granted, id) in self.subscriptions.clone() {
            if topic::matches(&filter, &publish.topic) {
                let qos = publish.qos.min(granted);
                let mut message = Publish {
                    dup: false,
                    retain: false,
                    qos,
                    packet_id: None,
                    ..publish.clone()
                };
                message.properties.subscription_identifiers =
                    id.filter(|_| self.ids).into_iter().collect();
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

    /// Resolves a topic alias as a receiver must (3.3.2.3.4); a violation fails the test.
    fn resolve_alias(&mut self, publish: &mut Publish) {
        let Some(alias) = publish.properties.topic_alias.take() else {
            return;
        };
        assert!(
            alias > 0 && alias <= self.alias_maximum,
            "MQTT-3.3.2-8/9: alias {alias} with maximum {}",
            self.alias_maximum
        );
        if publish.topic.is_empty() {
            self.alias_hits += 1;
            assert!(!publish.dup, "a resent PUBLISH carries its full topic");
            publish.topic = self
                .aliases
                .get(&alias)
                .unwrap_or_else(|| panic!("alias {alias} not set up on this connection"))
                .clone();
        } else {
            self.aliases.insert(alias, publish.topic.clone());
        }
    }

    fn receive(&mut self, publish: Publish, to_client: &mut VecDeque<Packet>) {
        match (publish.qos, publish.packet_id) {
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
        }
    }

    fn take(&mut self, id: u16) -> Option<u64> {
        self.inflight
            .iter()
            .find(|(_, (pid, ..))| *pid == id)
            .map(|(order, _)| *order)
    }

    pub fn handle(&mut self, packet: Packet, to_client: &mut VecDeque<Packet>) {
        match packet {
            Packet::Connect(connect) => {
                assert!(!connect.clean_start);
                self.connected = true;
                let session_present = self.has_session;
                self.has_session = true;
                self.unacknowledged.clear();
                let properties = Properties {
                    receive_maximum: Some(self.receive_maximum),
                    maximum_packet_size: self.maximum_packet_size,
                    topic_alias_maximum: (self.alias_maximum > 0).then_some(self.alias_maximum),
                    subscription_identifier_available: (!self.ids).then_some(0),
                    ..Default::default()
                };
                // MQTT-3.3.2-7: a new connection starts with no alias.
                self.aliases.clear();
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
                let id = subscribe
                    .properties
                    .subscription_identifiers
                    .first()
                    .copied();
                for (filter, options) in subscribe.filters {
                    self.subscriptions.retain(|(f, ..)| *f != filter);
                    self.subscriptions.push((filter, options.qos, id));
                }
                to_client.push_back(Packet::SubAck(SubAck {
                    packet_id: subscribe.packet_id,
                    properties: Properties::default(),
                    reason_codes: codes,
                }));
            }
            Packet::Publish(mut publish) => {
                if let Some(max) = self.maximum_packet_size {
                    let size = encoded_len(&Packet::Publish(publish.clone()), ProtocolVersion::V5);
                    assert!(
                        size <= max as usize,
                        "MQTT-3.2.2-15: {size} bytes, limit {max}"
                    );
                }
                if let (QoS::ExactlyOnce, Some(id)) = (publish.qos, publish.packet_id) {
                    self.unacknowledged.insert(id);
                    let count = self.unacknowledged.len();
                    assert!(
                        count <= usize::from(self.receive_maximum),
                        "MQTT-3.3.4-7: {count} unacknowledged, Receive Maximum {}",
                        self.receive_maximum
                    );
                    self.most_unacknowledged = self.most_unacknowledged.max(count);
                }
                self.resolve_alias(&mut publish);
                self.receive(publish, to_client)
            }
            Packet::PubRel(ack) => {
                self.inbound_qos2.remove(&ack.packet_id);
                self.unacknowledged.remove(&ack.packet_id);
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
