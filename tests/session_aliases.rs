//! Outbound topic aliases (MQTT 5, 3.3.2.3.4) against a scripted broker that resolves them the
//! way a receiver must.
#![cfg(not(target_arch = "wasm32"))] // host-only

#[path = "common/session_harness.rs"]
mod harness;

use std::collections::HashMap;

use bytes::Bytes;
use harness::*;
use wasmqtt::codec::{Packet, Properties, ProtocolVersion, Publish, QoS};
use wasmqtt::session::{CommandError, PublishRequest};

fn with_alias_maximum(maximum: u16) -> Properties {
    Properties {
        topic_alias_maximum: Some(maximum),
        ..Default::default()
    }
}

fn publishes(packets: Vec<Packet>) -> Vec<Publish> {
    packets
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p),
            _ => None,
        })
        .collect()
}

/// The receiving side of one connection: resolves aliases as 3.3.2.3.4 says, or names the
/// protocol error a broker would disconnect for.
#[derive(Default)]
struct Receiver {
    maximum: u16,
    table: HashMap<u16, String>,
}

impl Receiver {
    fn resolve(&mut self, publish: &Publish) -> Result<String, String> {
        let Some(alias) = publish.properties.topic_alias else {
            return Ok(publish.topic.clone());
        };
        if alias == 0 || alias > self.maximum {
            // MQTT-3.3.2-8 / MQTT-3.3.2-9
            return Err(format!("alias {alias} outside 1..={}", self.maximum));
        }
        if publish.topic.is_empty() {
            self.table
                .get(&alias)
                .cloned()
                .ok_or_else(|| format!("alias {alias} used before it was set up"))
        } else {
            self.table.insert(alias, publish.topic.clone());
            Ok(publish.topic.clone())
        }
    }
}

#[test]
fn a_repeated_topic_sets_up_an_alias_once_then_goes_out_with_an_empty_topic() {
    let mut h = Harness::v5();
    h.connect_with(false, with_alias_maximum(2));
    h.publish("sensors/kitchen/t1/temperature", "20", QoS::AtMostOnce);
    h.publish("sensors/kitchen/t1/temperature", "21", QoS::AtLeastOnce);
    let sent = publishes(h.sent());
    assert_eq!(sent[0].topic, "sensors/kitchen/t1/temperature");
    assert_eq!(sent[0].properties.topic_alias, Some(1));
    assert_eq!(sent[1].topic, "", "the alias stands for the topic");
    assert_eq!(sent[1].properties.topic_alias, Some(1));
    assert_eq!(h.session.metrics().topic_alias_hits, 1);
    h.commit();
    assert!(
        h.durable
            .values()
            .all(|v| v.windows(11).any(|w| w == b"temperature")),
        "the stored message keeps its full topic"
    );
}

#[test]
fn aliases_never_exceed_the_servers_maximum_and_every_packet_resolves() {
    // MQTT-3.3.2-8, MQTT-3.3.2-9: no alias 0, none above the CONNACK Topic Alias Maximum; a
    // receiver following 3.3.2.3.4 gets back every topic, through replacements too.
    let mut h = Harness::v5();
    h.connect_with(false, with_alias_maximum(3));
    let mut receiver = Receiver {
        maximum: 3,
        ..Default::default()
    };
    // Five hot topics and a stream of one-off ones, in a fixed pseudo-random order.
    let mut state = 7u64;
    let mut intended = Vec::new();
    for i in 0..400 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let topic = if (state >> 33) % 4 == 0 {
            format!("once/{i}")
        } else {
            format!("hot/{}", (state >> 40) % 5)
        };
        h.publish(&topic, "x", QoS::AtMostOnce);
        intended.push(topic);
    }
    let sent = publishes(h.sent());
    let resolved: Vec<String> = sent
        .iter()
        .map(|p| receiver.resolve(p).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    assert_eq!(resolved, intended);
    let hits = h.session.metrics().topic_alias_hits;
    assert!(
        hits > 100,
        "frequent topics kept their aliases: {hits} hits"
    );
    assert_eq!(
        hits,
        sent.iter().filter(|p| p.topic.is_empty()).count() as u64
    );
}

#[test]
fn no_alias_without_a_server_maximum_when_turned_off_or_before_mqtt_5() {
    // MQTT-3.2.2-17 (absent Topic Alias Maximum: the client sends no alias).
    let mut plain = Harness::v5();
    plain.connect();
    let mut off = Harness::new({
        let mut config = config(ProtocolVersion::V5);
        config.topic_aliases = 0;
        config
    });
    off.connect_with(false, with_alias_maximum(10));
    let mut v3 = Harness::new(config(ProtocolVersion::V3_1_1));
    v3.connect();
    for h in [&mut plain, &mut off, &mut v3] {
        for _ in 0..3 {
            h.publish("a/b", "x", QoS::AtLeastOnce);
        }
        for p in publishes(h.sent()) {
            assert_eq!((p.topic.as_str(), p.properties.topic_alias), ("a/b", None));
        }
        assert_eq!(h.session.metrics().topic_alias_hits, 0);
    }
}

#[test]
fn our_own_limit_caps_the_servers() {
    let mut config = config(ProtocolVersion::V5);
    config.topic_aliases = 1;
    let mut h = Harness::new(config);
    h.connect_with(false, with_alias_maximum(100));
    h.publish("a", "x", QoS::AtMostOnce);
    h.publish("b", "x", QoS::AtMostOnce);
    let aliases: Vec<_> = publishes(h.sent())
        .iter()
        .map(|p| p.properties.topic_alias)
        .collect();
    assert_eq!(aliases, [Some(1), None]);
}

#[test]
fn every_new_connection_starts_without_aliases() {
    // MQTT-3.3.2-7: no mapping is carried from one network connection to another.
    let mut h = Harness::v5();
    h.connect_with(false, with_alias_maximum(5));
    h.publish("a/b", "1", QoS::AtMostOnce);
    h.publish("a/b", "2", QoS::AtMostOnce);
    assert_eq!(publishes(h.sent())[1].topic, "");
    h.session.handle_transport_closed(h.now);
    h.connect_with(true, with_alias_maximum(5));
    h.publish("a/b", "3", QoS::AtMostOnce);
    let sent = publishes(h.sent());
    assert_eq!(sent[0].topic, "a/b", "set up again on the new connection");
    assert_eq!(sent[0].properties.topic_alias, Some(1));
    // A server that now allows none gets none.
    h.session.handle_transport_closed(h.now);
    h.connect_with(true, Properties::default());
    h.publish("a/b", "4", QoS::AtMostOnce);
    assert_eq!(publishes(h.sent())[0].properties.topic_alias, None);
}

#[test]
fn a_resent_or_restored_publish_carries_its_full_topic_and_no_old_alias() {
    // MQTT-3.3.2-7 with MQTT-4.4.0-1: the DUP copy goes out on a new connection, where the old
    // alias means nothing.
    let mut h = Harness::v5();
    h.connect_with(false, with_alias_maximum(5));
    h.publish("plant/line1/pressure", "1", QoS::AtLeastOnce);
    h.publish("plant/line1/pressure", "2", QoS::ExactlyOnce);
    let first = publishes(h.commit_then_sent());
    assert_eq!(first[1].topic, "", "aliased on the first connection");
    h.session.handle_transport_closed(h.now);
    h.connect_with(true, with_alias_maximum(5));
    let resent = publishes(h.sent());
    assert_eq!(resent.len(), 2);
    for p in &resent {
        assert!(p.dup);
        assert_eq!(p.topic, "plant/line1/pressure");
        assert_eq!(p.properties.topic_alias, None);
    }
    // From the store after a restart, too.
    h.commit();
    h.restart();
    h.connect_with(true, with_alias_maximum(5));
    let restored = publishes(h.sent());
    assert_eq!(restored.len(), 2);
    assert!(restored
        .iter()
        .all(|p| p.dup && p.topic == "plant/line1/pressure" && p.properties.topic_alias.is_none()));
}

#[test]
fn setting_up_an_alias_never_breaks_the_servers_maximum_packet_size() {
    let mut h = Harness::v5();
    // Room for the publish exactly as the application gave it, not for 3 more bytes.
    let plain = Packet::Publish(inbound("a/b", "xyz", QoS::AtMostOnce, None));
    let size = wasmqtt::codec::encoded_len(&plain, ProtocolVersion::V5) as u32;
    h.connect_with(
        false,
        Properties {
            topic_alias_maximum: Some(5),
            maximum_packet_size: Some(size),
            ..Default::default()
        },
    );
    h.publish("a/b", "xyz", QoS::AtMostOnce);
    h.publish("a/b", "xyz", QoS::AtMostOnce);
    for p in publishes(h.sent()) {
        assert_eq!((p.topic.as_str(), p.properties.topic_alias), ("a/b", None));
    }
}

#[test]
fn the_application_sets_neither_a_topic_alias_nor_a_subscription_identifier() {
    // Aliases belong to the session's connection; MQTT-3.3.4-6: no subscription identifier in
    // a client's PUBLISH.
    let mut h = Harness::v5();
    h.connect_with(false, with_alias_maximum(5));
    for properties in [
        Properties {
            topic_alias: Some(1),
            ..Default::default()
        },
        Properties {
            subscription_identifiers: vec![3],
            ..Default::default()
        },
    ] {
        let request = PublishRequest {
            topic: "a".into(),
            payload: Bytes::from_static(b"x"),
            properties,
            ..Default::default()
        };
        let error = h.session.publish(h.now, request).unwrap_err();
        assert!(matches!(error, CommandError::PropertyNotAllowed(_)));
        assert_eq!(error.code(), "INVALID_ARGUMENT");
    }
    assert!(h.sent().is_empty(), "nothing sent, nothing queued");
    assert_eq!(h.session.metrics().queued, 0);
}
