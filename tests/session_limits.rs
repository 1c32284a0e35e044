//! Negotiated limits apply to everything sent on a connection (issue #15.1): whatever was queued,
//! is resent or comes back from the store leaves under the limits of the CONNACK of the
//! connection it leaves on, or fails with the reason and leaves the store. Scripted broker,
//! manual clock.
#![cfg(not(target_arch = "wasm32"))] // host-only

#[path = "common/session_harness.rs"]
mod harness;

use bytes::Bytes;
use harness::*;
use wasmqtt::codec::{reason, Packet, Properties, QoS, SubscriptionOptions};
use wasmqtt::session::{Event, PublishRequest};

fn publishes(packets: &[Packet]) -> Vec<&wasmqtt::codec::Publish> {
    packets
        .iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn failed(events: &[Event]) -> Vec<(u32, u8)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::PublishFailed { token, reason_code } => Some((*token, *reason_code)),
            _ => None,
        })
        .collect()
}

fn outgoing_records(h: &Harness) -> usize {
    h.durable.keys().filter(|k| k.starts_with("o/")).count()
}

/// Opens the transport, answers CONNACK with `properties`, returns the events and what was
/// sent once every write is durable.
fn reconnect(
    h: &mut Harness,
    session_present: bool,
    properties: Properties,
) -> (Vec<Event>, Vec<Packet>) {
    h.session.handle_transport_closed(h.now);
    h.events();
    let mut events = h.connect_with(session_present, properties);
    let sent = h.commit_then_sent();
    events.extend(h.events());
    (events, sent)
}

#[test]
fn a_qos1_message_queued_before_connack_with_maximum_qos_0_fails_and_is_never_sent() {
    // MQTT-3.2.2-11: the Client MUST NOT send PUBLISH packets at a QoS above the Maximum QoS.
    let mut h = Harness::v5();
    let token = h.publish("a", "queued offline", QoS::AtLeastOnce);
    h.commit();
    assert_eq!(outgoing_records(&h), 1);
    let limit = Properties {
        maximum_qos: Some(0),
        ..Properties::default()
    };
    let (events, sent) = reconnect(&mut h, false, limit.clone());
    assert!(publishes(&sent).is_empty(), "{sent:?}");
    assert_eq!(failed(&events), [(token, reason::QOS_NOT_SUPPORTED)]);
    h.commit();
    assert_eq!(outgoing_records(&h), 0, "it leaves the store");
    // No loop: the next connection, and a reload, have nothing to send.
    let (_, sent) = reconnect(&mut h, true, limit.clone());
    assert!(publishes(&sent).is_empty());
    h.restart();
    let (_, sent) = reconnect(&mut h, true, limit);
    assert!(publishes(&sent).is_empty());
}

#[test]
fn a_retained_message_queued_offline_fails_when_retain_is_not_available() {
    // MQTT-3.2.2-14: Retain Available 0 forbids a PUBLISH with RETAIN set.
    let mut h = Harness::v5();
    let retained = h
        .session
        .publish(
            h.now,
            PublishRequest {
                topic: "a".into(),
                payload: Bytes::from_static(b"r"),
                qos: QoS::AtLeastOnce,
                retain: true,
                ..Default::default()
            },
        )
        .unwrap();
    let plain = h.publish("a", "plain", QoS::AtLeastOnce);
    let (events, sent) = reconnect(
        &mut h,
        false,
        Properties {
            retain_available: Some(0),
            ..Properties::default()
        },
    );
    assert_eq!(failed(&events), [(retained, reason::RETAIN_NOT_SUPPORTED)]);
    let sent = publishes(&sent);
    assert_eq!(sent.len(), 1);
    assert!(!sent[0].retain && &sent[0].payload[..] == b"plain");
    assert!(!failed(&events).iter().any(|(t, _)| *t == plain));
}

#[test]
fn a_message_larger_than_the_new_maximum_packet_size_fails_and_smaller_ones_go() {
    // MQTT-3.2.2-15: the Client MUST NOT send packets exceeding Maximum Packet Size; the
    // 1,038-byte PUBLISH of the issue, to a 100-byte limit.
    let mut h = Harness::v5();
    let big = h.publish("a", &"x".repeat(1000), QoS::AtMostOnce);
    let small = h.publish("a", "small", QoS::AtMostOnce);
    let (events, sent) = reconnect(
        &mut h,
        false,
        Properties {
            maximum_packet_size: Some(100),
            ..Properties::default()
        },
    );
    assert_eq!(failed(&events), [(big, reason::PACKET_TOO_LARGE)]);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Published { token, .. } if *token == big)),
        "not resolved with success"
    );
    assert!(events.contains(&Event::Published {
        token: small,
        reason_code: 0
    }));
    let sent = publishes(&sent);
    assert_eq!(sent.len(), 1);
    for p in sent {
        let len = wasmqtt::codec::encoded_len(&Packet::Publish(p.clone()), h.config.protocol);
        assert!(len <= 100, "{len} bytes sent to a 100-byte limit");
    }
}

#[test]
fn a_message_restored_from_the_store_is_held_to_the_limits_of_the_new_connection() {
    // A QoS 1 message in flight when the page went away, resumed with the session present, to a
    // broker that now allows QoS 0 only (MQTT-3.2.2-11): it is not resent (no DUP either),
    // leaves the store, and the next connection sends nothing.
    let mut h = Harness::v5();
    h.connect();
    h.publish("a", "in flight", QoS::AtLeastOnce);
    assert_eq!(publishes(&h.commit_then_sent()).len(), 1);
    h.restart();
    let limit = Properties {
        maximum_qos: Some(0),
        ..Properties::default()
    };
    let (_, sent) = reconnect(&mut h, true, limit.clone());
    assert!(publishes(&sent).is_empty(), "{sent:?}");
    h.commit();
    assert_eq!(outgoing_records(&h), 0);
    let (_, sent) = reconnect(&mut h, true, limit);
    assert!(sent.is_empty(), "{sent:?}");
}

#[test]
fn a_qos2_message_past_pubrec_only_needs_its_pubrel_whatever_the_new_maximum_qos() {
    // The broker has the message (PUBREC): only PUBREL is resent (MQTT-4.4.0-1), which no
    // PUBLISH limit concerns; the publish completes with PUBCOMP.
    let mut h = Harness::v5();
    h.connect();
    let token = h.publish("a", "two", QoS::ExactlyOnce);
    let id = publish_ids(&h.commit_then_sent())[0];
    h.receive(Packet::PubRec(ack(id)));
    h.commit();
    h.sent();
    let (events, sent) = reconnect(
        &mut h,
        true,
        Properties {
            maximum_qos: Some(0),
            ..Properties::default()
        },
    );
    assert!(failed(&events).is_empty());
    assert_eq!(sent, [Packet::PubRel(ack(id))]);
    h.receive(Packet::PubComp(ack(id)));
    h.commit();
    assert!(h.events().contains(&Event::Published {
        token,
        reason_code: 0
    }));
}

#[test]
fn a_qos2_message_given_up_before_pubrec_keeps_its_packet_id_from_reuse() {
    // The broker may hold the id of a QoS 2 PUBLISH whose PUBREC was lost (MQTT-4.3.3-9 on its
    // side: until PUBREL, a PUBLISH with that id is the same message). Given up under a Maximum
    // QoS of 1, the message fails, and no later message takes its id in that session.
    let mut h = Harness::v5();
    h.connect();
    let token = h.publish("a", "two", QoS::ExactlyOnce);
    let held = publish_ids(&h.commit_then_sent())[0];
    let (events, sent) = reconnect(
        &mut h,
        true,
        Properties {
            maximum_qos: Some(1),
            ..Properties::default()
        },
    );
    assert!(publishes(&sent).is_empty());
    assert_eq!(failed(&events), [(token, reason::QOS_NOT_SUPPORTED)]);
    // Once round every packet id, one message at a time (each acknowledged at once).
    for _ in 0..=u16::MAX {
        h.publish("a", "one", QoS::AtLeastOnce);
        let ids = publish_ids(&h.commit_then_sent());
        assert_eq!(ids.len(), 1);
        assert_ne!(ids[0], held, "the held id reused");
        h.receive(Packet::PubAck(ack(ids[0])));
    }
}

#[test]
fn resent_messages_keep_to_a_receive_maximum_that_shrank() {
    // MQTT-3.3.4-7: no more than Receive Maximum QoS 1/2 PUBLISH unacknowledged, resent ones
    // included (the send quota starts again on each connection, 4.9).
    let mut h = Harness::v5();
    h.connect();
    for i in 0..5 {
        h.publish("a", &i.to_string(), QoS::AtLeastOnce);
    }
    let ids = publish_ids(&h.commit_then_sent());
    assert_eq!(ids.len(), 5);
    let (_, sent) = reconnect(
        &mut h,
        true,
        Properties {
            receive_maximum: Some(2),
            ..Properties::default()
        },
    );
    let resent = publishes(&sent);
    assert_eq!(resent.len(), 2, "{sent:?}");
    assert!(resent.iter().all(|p| p.dup));
    assert_eq!(publish_ids(&sent), ids[..2]);
    h.receive(Packet::PubAck(ack(ids[0])));
    assert_eq!(
        publish_ids(&h.commit_then_sent()),
        [ids[2]],
        "one slot, the next in order"
    );
}

#[test]
fn a_subscription_asked_offline_is_answered_by_the_limits_of_the_connection() {
    // Wildcard Subscription Available 0 (3.2.2.3.13): the wildcard filter is answered 0xA2
    // without being sent; the plain one goes to the broker; the answer gathers both in order.
    let mut h = Harness::v5();
    let options = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        ..Default::default()
    };
    let token = h
        .session
        .subscribe(
            h.now,
            vec![("a/+".into(), options), ("a/b".into(), options)],
            Properties::default(),
        )
        .unwrap();
    let (_, sent) = reconnect(
        &mut h,
        false,
        Properties {
            wildcard_subscription_available: Some(0),
            ..Properties::default()
        },
    );
    let filters: Vec<String> = sent
        .iter()
        .filter_map(|p| match p {
            Packet::Subscribe(s) => Some(s.filters.iter().map(|(f, _)| f.clone())),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(filters, ["a/b"]);
    h.grant(&sent, |_| 1);
    h.commit();
    assert!(h.events().contains(&Event::Subscribed {
        token,
        reason_codes: vec![reason::WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED, 1]
    }));
    // Forgotten: not asked again on the next connection.
    let (_, sent) = reconnect(&mut h, false, Properties::default());
    assert!(!sent
        .iter()
        .any(|p| matches!(p, Packet::Subscribe(s) if s.filters.iter().any(|(f, _)| f == "a/+"))));
}

#[test]
fn a_topic_alias_never_takes_a_packet_over_the_maximum_packet_size() {
    // MQTT-3.2.2-15 with MQTT-3.2.2-17: an alias costs 3 bytes; on a one-byte topic its empty
    // topic saves only 1, so a PUBLISH that fits unaliased may not fit aliased.
    let mut h = Harness::v5();
    h.connect_with(
        false,
        Properties {
            topic_alias_maximum: Some(5),
            maximum_packet_size: Some(20),
            ..Properties::default()
        },
    );
    h.publish("a", "12345", QoS::AtMostOnce);
    h.publish("a", "1234567890123", QoS::AtMostOnce);
    let sent = h.sent();
    let sent = publishes(&sent);
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0].properties.topic_alias,
        Some(1),
        "the first sets the alias up"
    );
    for p in sent {
        let len = wasmqtt::codec::encoded_len(&Packet::Publish(p.clone()), h.config.protocol);
        assert!(len <= 20, "{len} bytes to a 20-byte limit: {p:?}");
    }
}

/// xorshift64*: small, seeded, enough for a test.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The limits of one connection, as its CONNACK states them.
#[derive(Clone, Copy, Debug)]
struct Limits {
    maximum_qos: u8,
    retain: bool,
    maximum_packet_size: Option<u32>,
    receive_maximum: u16,
}

impl Limits {
    fn random(rng: &mut Rng) -> Limits {
        Limits {
            maximum_qos: rng.below(3) as u8,
            retain: rng.below(2) == 0,
            maximum_packet_size: [None, Some(80), Some(200)][rng.below(3) as usize],
            receive_maximum: 1 + rng.below(4) as u16,
        }
    }

    fn properties(self) -> Properties {
        Properties {
            maximum_qos: (self.maximum_qos < 2).then_some(self.maximum_qos),
            retain_available: (!self.retain).then_some(0),
            maximum_packet_size: self.maximum_packet_size,
            receive_maximum: Some(self.receive_maximum),
            ..Properties::default()
        }
    }
}

#[test]
fn whatever_the_limits_of_each_connection_nothing_breaks_them_and_every_publish_settles_once() {
    // Connections whose CONNACK limits change every time, publishes of every QoS, retain flag
    // and size made online and offline, cuts at random: a strict broker sees no PUBLISH over
    // its Maximum QoS (MQTT-3.2.2-11), with RETAIN when not available (MQTT-3.2.2-14), over its
    // Maximum Packet Size (MQTT-3.2.2-15) or beyond its Receive Maximum (MQTT-3.3.4-7); every
    // publish settles exactly once, a failure only with the reason of a limit the message
    // breaks, and a failed message never reaches the broker afterwards.
    let mut failures_seen = 0;
    for seed in 0..300u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut config = config(wasmqtt::codec::ProtocolVersion::V5);
        config.clean_start = false;
        config.keep_alive = 0;
        let mut h = Harness::new(config);
        let mut limits = Limits::random(&mut rng);
        let mut requests: std::collections::HashMap<u32, PublishRequest> = Default::default();
        let mut settled: std::collections::HashMap<u32, Event> = Default::default();
        let mut unacknowledged: std::collections::HashSet<u16> = Default::default();
        let mut failed: std::collections::HashSet<String> = Default::default();
        let mut up = false;
        let mut early = Vec::new();
        for step in 0..400 {
            // The last steps: one more connection, with no limits, on which all is answered.
            let last_steps = step >= 300;
            if step == 300 && up {
                h.session.handle_transport_closed(h.now);
                h.events();
                up = false;
            }
            if !up && (rng.below(4) == 0 || last_steps) {
                limits = if last_steps {
                    Limits {
                        maximum_qos: 2,
                        retain: true,
                        maximum_packet_size: None,
                        receive_maximum: 10,
                    }
                } else {
                    Limits::random(&mut rng)
                };
                unacknowledged.clear();
                early = h.connect_with(true, limits.properties());
                up = true;
            }
            if step < 250 && rng.below(3) == 0 {
                let request = PublishRequest {
                    topic: format!("t/{step}"),
                    payload: Bytes::from(vec![b'x'; rng.below(150) as usize]),
                    qos: QoS::from_u8(rng.below(3) as u8).unwrap(),
                    retain: rng.below(4) == 0,
                    ..Default::default()
                };
                if let Ok(token) = h.session.publish(h.now, request.clone()) {
                    requests.insert(token, request);
                }
            }
            h.commit();
            for packet in h.sent() {
                let Packet::Publish(p) = packet else { continue };
                assert!(
                    p.qos as u8 <= limits.maximum_qos,
                    "seed {seed}: MQTT-3.2.2-11"
                );
                assert!(!p.retain || limits.retain, "seed {seed}: MQTT-3.2.2-14");
                if let Some(max) = limits.maximum_packet_size {
                    let size =
                        wasmqtt::codec::encoded_len(&Packet::Publish(p.clone()), h.config.protocol);
                    assert!(size <= max as usize, "seed {seed}: MQTT-3.2.2-15");
                }
                assert!(
                    !failed.contains(&p.topic),
                    "seed {seed}: {} sent after it failed",
                    p.topic
                );
                if let Some(id) = p.packet_id {
                    unacknowledged.insert(id);
                    assert!(
                        unacknowledged.len() <= usize::from(limits.receive_maximum),
                        "seed {seed}: MQTT-3.3.4-7"
                    );
                    if last_steps || rng.below(3) > 0 {
                        unacknowledged.remove(&id);
                        match p.qos {
                            QoS::AtLeastOnce => h.receive(Packet::PubAck(ack(id))),
                            _ => {
                                h.receive(Packet::PubRec(ack(id)));
                                h.commit();
                                h.sent();
                                h.receive(Packet::PubComp(ack(id)));
                            }
                        }
                    }
                }
            }
            h.commit();
            for event in std::mem::take(&mut early).into_iter().chain(h.events()) {
                let token = match &event {
                    Event::Published { token, .. } | Event::PublishFailed { token, .. } => *token,
                    _ => continue,
                };
                if let Event::PublishFailed { reason_code, .. } = event {
                    let request = &requests[&token];
                    let breaks = match reason_code {
                        reason::QOS_NOT_SUPPORTED => request.qos != QoS::AtMostOnce,
                        reason::RETAIN_NOT_SUPPORTED => request.retain,
                        reason::PACKET_TOO_LARGE => request.payload.len() > 30,
                        _ => false,
                    };
                    assert!(breaks, "seed {seed}: {reason_code:#x} for {request:?}");
                    failed.insert(request.topic.clone());
                    failures_seen += 1;
                }
                assert!(
                    settled.insert(token, event).is_none(),
                    "seed {seed}: token {token} settled twice"
                );
            }
            if up && !last_steps && rng.below(8) == 0 {
                h.session.handle_transport_closed(h.now);
                h.events();
                up = false;
            }
        }
        let unsettled: Vec<_> = requests
            .keys()
            .filter(|t| !settled.contains_key(t))
            .collect();
        assert!(
            unsettled.is_empty(),
            "seed {seed}: never settled: {unsettled:?}, {:?}",
            h.session.metrics()
        );
    }
    assert!(
        failures_seen > 100,
        "the limits refused messages: {failures_seen}"
    );
}

/// A filter of `len` bytes: a packet carrying it is over a 100-byte Maximum Packet Size.
fn long_filter(len: usize) -> String {
    format!("a/{}", "f".repeat(len - 2))
}

fn unsubscribes(sent: &[Packet]) -> usize {
    sent.iter()
        .filter(|p| matches!(p, Packet::Unsubscribe(_)))
        .count()
}

#[test]
fn an_unsubscribe_resent_on_a_connection_with_a_smaller_maximum_packet_size_fails_and_is_never_sent(
) {
    // MQTT-3.2.2-15: the Client MUST NOT send packets exceeding the Maximum Packet Size. The
    // UNSUBSCRIBE left on a connection without a limit; unanswered, it is asked again on the
    // next one, whose CONNACK allows 100 bytes.
    let mut h = Harness::v5();
    h.connect();
    let filter = long_filter(200);
    let sent = {
        h.subscribe(&[&filter], QoS::AtLeastOnce);
        h.commit_then_sent()
    };
    h.grant(&sent, |_| 1);
    h.commit();
    h.events();
    let token = h
        .session
        .unsubscribe(h.now, vec![filter.clone()], Properties::default())
        .expect("fits the first connection");
    assert_eq!(unsubscribes(&h.commit_then_sent()), 1);
    let small = Properties {
        maximum_packet_size: Some(100),
        ..Properties::default()
    };
    let (events, sent) = reconnect(&mut h, true, small.clone());
    assert_eq!(
        unsubscribes(&sent),
        0,
        "never sent over the limit: {sent:?}"
    );
    let failures: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::CommandFailed { token, error } => Some((*token, error.code())),
            _ => None,
        })
        .collect();
    assert_eq!(failures, [(token, "PACKET_TOO_LARGE")]);
    // Not asked again, on this connection or any later one: no loop; the filter stays.
    for _ in 0..3 {
        let (events, sent) = reconnect(&mut h, true, small.clone());
        assert_eq!(unsubscribes(&sent), 0);
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, Event::CommandFailed { .. } | Event::Unsubscribed { .. })),
            "{events:?}"
        );
    }
    // After a reload too: the stored record no longer says it is leaving.
    h.restart();
    let (_, sent) = reconnect(&mut h, true, small);
    assert_eq!(unsubscribes(&sent), 0);
}

#[test]
fn a_subscribe_resent_on_a_connection_with_a_smaller_maximum_packet_size_is_refused_and_never_sent()
{
    let mut h = Harness::v5();
    h.connect();
    let filter = long_filter(200);
    let token = h.subscribe(&[&filter], QoS::AtLeastOnce);
    let first = h.commit_then_sent();
    assert!(first.iter().any(|p| matches!(p, Packet::Subscribe(_))));
    let small = Properties {
        maximum_packet_size: Some(100),
        ..Properties::default()
    };
    let (mut events, sent) = reconnect(&mut h, false, small.clone());
    h.commit();
    events.extend(h.events());
    assert!(
        !sent.iter().any(|p| matches!(p, Packet::Subscribe(_))),
        "{sent:?}"
    );
    assert!(
        events.contains(&Event::Subscribed {
            token,
            reason_codes: vec![reason::PACKET_TOO_LARGE]
        }),
        "{events:?}"
    );
    let (_, sent) = reconnect(&mut h, false, small);
    assert!(!sent.iter().any(|p| matches!(p, Packet::Subscribe(_))));
}

#[test]
fn packet_ids_the_broker_may_hold_stay_reserved_across_a_reload() {
    // As above, and the page reloads afterwards: the held QoS 2 id, and the id of a QoS 1
    // message still in flight, come back from the store and are not given to a new message
    // while the broker's session lasts (MQTT-2.2.1-3: an id is reusable only once its exchange
    // is complete).
    let mut h = Harness::v5();
    h.connect();
    let token = h.publish("a", "two", QoS::ExactlyOnce);
    let held = publish_ids(&h.commit_then_sent())[0];
    h.publish("b", "one", QoS::AtLeastOnce);
    let inflight = publish_ids(&h.commit_then_sent())[0];
    let (events, _) = reconnect(
        &mut h,
        true,
        Properties {
            maximum_qos: Some(1),
            ..Properties::default()
        },
    );
    assert_eq!(failed(&events), [(token, reason::QOS_NOT_SUPPORTED)]);
    h.commit();
    h.restart();
    assert_eq!(
        h.session.snapshot(),
        h.durable.clone().into_iter().collect::<Vec<_>>()
    );
    let (_, sent) = reconnect(&mut h, true, Properties::default());
    assert_eq!(publish_ids(&sent), [inflight], "resent with its id");
    for _ in 0..=u16::MAX {
        h.publish("a", "one", QoS::AtLeastOnce);
        let ids = publish_ids(&h.commit_then_sent());
        assert_eq!(ids.len(), 1);
        assert!(
            ids[0] != held && ids[0] != inflight,
            "id {} reused after the reload",
            ids[0]
        );
        h.receive(Packet::PubAck(ack(ids[0])));
    }
    // A broker that lost the session holds nothing: the reservation ends, in the store too.
    reconnect(&mut h, false, Properties::default());
    h.commit();
    assert!(
        !h.durable.keys().any(|k| k.starts_with("r/")),
        "{:?}",
        h.durable.keys().collect::<Vec<_>>()
    );
}
