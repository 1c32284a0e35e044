//! Everything the spec limits is checked when it is given (issue #15.5), every byte a peer
//! controls is bounded (#15.2), and silence from the broker is noticed while we send (#15.6).
//! Scripted broker, manual clock.
#![cfg(not(target_arch = "wasm32"))] // host-only

#[path = "common/session_harness.rs"]
mod harness;

use bytes::Bytes;
use harness::*;
use wasmqtt::codec::{
    reason, Disconnect, LastWill, Packet, Properties, ProtocolVersion, QoS, SubscriptionOptions,
};
use wasmqtt::session::{
    is_permanent_refusal, CommandError, Config, Event, LostReason, PublishRequest, Session,
    DEFAULT_MAXIMUM_PACKET_SIZE,
};

fn long(n: usize) -> String {
    "x".repeat(n)
}

// --- #15.5: checked when given -----------------------------------------------------------------

#[test]
fn every_connect_field_over_its_limit_is_refused_by_name() {
    // 1.5.4: a UTF-8 string field holds at most 65,535 bytes, and no U+0000 (MQTT-1.5.4-2);
    // 1.5.6: binary data at most 65,535 bytes; MQTT-3.3.2-2 (will topic without wildcards).
    let base = || config(ProtocolVersion::V5);
    let cases: Vec<(&str, Config)> = vec![
        (
            "clientId",
            Config {
                client_id: long(70_000),
                ..base()
            },
        ),
        (
            "clientId",
            Config {
                client_id: "a\0b".into(),
                ..base()
            },
        ),
        (
            "username",
            Config {
                username: Some(long(70_000)),
                ..base()
            },
        ),
        (
            "password",
            Config {
                password: Some(Bytes::from(vec![0; 70_000])),
                ..base()
            },
        ),
        (
            "will.topic",
            Config {
                will: Some(LastWill {
                    topic: "a/+".into(),
                    payload: Bytes::new(),
                    qos: QoS::AtMostOnce,
                    retain: false,
                    properties: Properties::default(),
                }),
                ..base()
            },
        ),
        (
            "properties",
            Config {
                connect_properties: Properties {
                    receive_maximum: Some(0), // 3.1.2.11.3: 0 is a Protocol Error
                    ..Properties::default()
                },
                ..base()
            },
        ),
        (
            "password",
            Config {
                // 3.1.1: MQTT-3.1.2-22, a password needs a user name.
                password: Some(Bytes::from_static(b"pw")),
                ..config(ProtocolVersion::V3_1_1)
            },
        ),
    ];
    for (field, config) in cases {
        let error = config.validate().expect_err(field);
        assert_eq!(error.field, field, "{error}");
    }
    assert_eq!(base().validate(), Ok(()));
}

#[test]
fn a_connect_that_cannot_be_encoded_is_a_permanent_refusal_not_a_silent_retry() {
    // The 70,000-character client id: the socket opened, CONNECT was dropped, and the
    // client retried for ever with no error. Unvalidated, the session still never sends it.
    let mut h = Harness::new(Config {
        client_id: long(70_000),
        ..config(ProtocolVersion::V5)
    });
    for _ in 0..2 {
        h.session.handle_transport_open(h.now);
        assert!(h.sent().is_empty());
        let events = h.events();
        assert!(
            matches!(
                events.as_slice(),
                [Event::Refused {
                    permanent: true,
                    reason_code: reason::MALFORMED_PACKET,
                    ..
                }]
            ),
            "{events:?}"
        );
        assert!(!h.session.is_connected());
    }
}

#[test]
fn refusals_the_same_connect_gets_again_are_permanent() {
    // CONNACK codes of 3.2.2.2 that depend only on what CONNECT carries.
    for code in [
        reason::MALFORMED_PACKET,
        reason::PROTOCOL_ERROR,
        reason::PACKET_TOO_LARGE,
        reason::QOS_NOT_SUPPORTED,    // will QoS, MQTT-3.2.2-12
        reason::RETAIN_NOT_SUPPORTED, // will retain, MQTT-3.2.2-13
        reason::TOPIC_NAME_INVALID,
        reason::BAD_USER_NAME_OR_PASSWORD,
    ] {
        assert!(is_permanent_refusal(code), "{code:#04x}");
    }
    for code in [
        reason::SERVER_UNAVAILABLE,
        reason::SERVER_BUSY,
        reason::QUOTA_EXCEEDED,
    ] {
        assert!(!is_permanent_refusal(code), "{code:#04x}");
    }
}

#[test]
fn publish_subscribe_and_auth_fields_over_their_limits_are_refused_when_given() {
    let mut h = Harness::v5();
    let too_long_id = PublishRequest {
        topic: "a".into(),
        qos: QoS::AtLeastOnce,
        message_id: Some(long(129)),
        ..Default::default()
    };
    let error = h.session.publish(h.now, too_long_id).unwrap_err();
    assert_eq!(error.code(), "INVALID_ARGUMENT");
    assert!(error.to_string().contains("messageId"), "{error}");
    let mut properties = Properties::default();
    properties.user_properties.push(("k".into(), long(70_000)));
    let error = h
        .session
        .subscribe(
            h.now,
            vec![("a".into(), SubscriptionOptions::default())],
            properties.clone(),
        )
        .unwrap_err();
    assert!(matches!(error, CommandError::Encode(_)), "{error:?}");
    assert_eq!(error.code(), "INVALID_ARGUMENT");
    let error = h
        .session
        .unsubscribe(h.now, vec!["a".into()], properties)
        .unwrap_err();
    assert_eq!(error.code(), "INVALID_ARGUMENT");
    let topic = PublishRequest {
        topic: long(70_000),
        ..Default::default()
    };
    assert_eq!(
        h.session.publish(h.now, topic).unwrap_err().code(),
        "INVALID_ARGUMENT"
    );
    // A property over the two-byte length is refused naming it (MQTT 5 section 1.5.4).
    for (field, properties) in [
        ("properties.userProperties", {
            let mut p = Properties::default();
            p.user_properties.push((long(70_000), "v".into()));
            p
        }),
        (
            "properties.contentType",
            Properties {
                content_type: Some(long(70_000)),
                ..Default::default()
            },
        ),
    ] {
        let request = PublishRequest {
            topic: "a".into(),
            properties,
            ..Default::default()
        };
        let error = h.session.publish(h.now, request).unwrap_err();
        assert_eq!(error.code(), "INVALID_ARGUMENT");
        assert!(error.to_string().starts_with(field), "{error}");
    }
    h.connect();
    assert!(h.sent().is_empty(), "nothing refused was queued to be sent");
}

// --- #15.2: bounded ----------------------------------------------------------------------------

#[test]
fn long_message_ids_from_peers_are_not_remembered_and_short_ones_still_are() {
    // The issue: 10,000 QoS 0 messages each with a unique 60 KB id grew memory to 1.4 GB and
    // the store to 1.18 GB. Over the cap, an id is delivered and forgotten.
    let mut h = Harness::v5();
    h.connect();
    for i in 0..50 {
        let id = format!("{i}{}", long(60_000));
        h.receive(Packet::Publish(with_message_id(
            inbound("t", "big", QoS::AtMostOnce, None),
            &id,
        )));
    }
    h.commit();
    assert_eq!(delivered(&h.events()).len(), 50);
    assert!(
        h.durable.keys().all(|k| !k.starts_with("d/")),
        "no long id stored"
    );
    assert!(h.session.snapshot().iter().all(|(k, _)| k.len() < 300));
    for _ in 0..2 {
        h.receive(Packet::Publish(with_message_id(
            inbound("t", "short", QoS::AtMostOnce, None),
            "abc",
        )));
    }
    h.commit();
    assert_eq!(
        delivered(&h.events()),
        ["short"],
        "a short id is still de-duplicated"
    );
}

#[test]
fn messages_in_flight_count_in_the_queue_budget() {
    // The issue: 30,000 x 1 KB unacknowledged with a 10,000-message queue, no QUEUE_FULL.
    let mut config = config(ProtocolVersion::V5);
    config.queue_max_messages = 10;
    let mut h = Harness::new(config);
    h.connect();
    for _ in 0..10 {
        h.publish("a", "x", QoS::AtLeastOnce);
    }
    assert_eq!(
        h.session.metrics().inflight,
        10,
        "all sent, none acknowledged"
    );
    let eleventh = PublishRequest {
        topic: "a".into(),
        qos: QoS::AtLeastOnce,
        ..Default::default()
    };
    assert_eq!(
        h.session.publish(h.now, eleventh.clone()),
        Err(CommandError::QueueFull)
    );
    assert!(h.events().contains(&Event::Backpressure { high: true }));
    let ids = publish_ids(&h.commit_then_sent());
    h.receive(Packet::PubAck(ack(ids[0])));
    assert!(h.session.publish(h.now, eleventh).is_ok(), "room again");
}

#[test]
fn connect_carries_a_default_maximum_packet_size_the_application_can_change() {
    // 3.1.2.11.4: without it, a broker may send packets of any size (two 100 MB PUBLISH were
    // accepted); the decoder enforces the same limit.
    let connect_of = |config: Config| {
        let mut session = Session::new(config);
        session.handle_transport_open(0);
        match session.poll_packet() {
            Some(Packet::Connect(connect)) => (
                connect.properties.maximum_packet_size,
                session.max_incoming_packet_size(),
            ),
            other => panic!("{other:?}"),
        }
    };
    let default = Some(DEFAULT_MAXIMUM_PACKET_SIZE);
    assert_eq!(
        connect_of(config(ProtocolVersion::V5)),
        (default, DEFAULT_MAXIMUM_PACKET_SIZE)
    );
    let mut chosen = config(ProtocolVersion::V5);
    chosen.connect_properties.maximum_packet_size = Some(10_000_000);
    assert_eq!(connect_of(chosen), (Some(10_000_000), 10_000_000));
    // Before MQTT 5 there is no property, but the decoder still refuses what is larger.
    assert_eq!(
        connect_of(config(ProtocolVersion::V3_1_1)),
        (None, DEFAULT_MAXIMUM_PACKET_SIZE)
    );
}

#[test]
fn more_unacknowledged_qos1_than_our_receive_maximum_is_a_protocol_error() {
    // MQTT-3.3.4-9: the server sends no more than Receive Maximum QoS 1 and QoS 2 PUBLISH
    // unacknowledged; more is a protocol error: DISCONNECT 0x93 (4.9, 4.13).
    let mut config = config(ProtocolVersion::V5);
    config.connect_properties.receive_maximum = Some(2);
    let mut h = Harness::new(config);
    h.connect();
    // Acknowledged as they come: any number.
    for id in 1..=5 {
        h.receive(Packet::Publish(inbound(
            "t",
            "ok",
            QoS::AtLeastOnce,
            Some(id),
        )));
        h.commit();
        assert!(matches!(h.sent().as_slice(), [Packet::PubAck(_)]));
    }
    // Two waiting for their PUBACK / PUBCOMP (the store has not committed the message ids),
    // a third, QoS 1 or 2: over.
    let unacked = |payload: &str, qos, id| {
        Packet::Publish(with_message_id(
            inbound("t", payload, qos, Some(id)),
            payload,
        ))
    };
    h.receive(unacked("m1", QoS::AtLeastOnce, 10));
    h.receive(unacked("m2", QoS::ExactlyOnce, 11));
    assert!(h.session.is_connected());
    assert!(h.sent().is_empty(), "nothing acknowledged yet");
    h.receive(unacked("m3", QoS::AtLeastOnce, 12));
    assert_eq!(
        h.sent(),
        [Packet::Disconnect(Disconnect {
            reason_code: reason::RECEIVE_MAXIMUM_EXCEEDED,
            properties: Properties::default(),
        })]
    );
    assert!(h.events().contains(&Event::Lost {
        reason: LostReason::ProtocolError(reason::RECEIVE_MAXIMUM_EXCEEDED)
    }));
}

// --- #15.6: silence from the broker ------------------------------------------------------------

#[test]
fn a_silent_broker_is_noticed_while_we_publish_steadily() {
    // The issue: 24 PUBLISH and 0 PINGREQ in 12 s to a silent broker, because every send
    // refreshed the keepalive clock. 3.1.2.10: PINGREQ when the link has been quiet for the
    // keepalive, and no answer within the ping timeout ends it.
    let mut h = Harness::v5(); // keepalive 10 s, ping timeout 10 s
    h.connect();
    let mut pings = 0;
    let mut lost = false;
    for _ in 0..40 {
        h.advance(1_000);
        if !h.session.is_connected() {
            lost = true;
            break;
        }
        h.publish("a", "tick", QoS::AtMostOnce);
        pings += h
            .sent()
            .iter()
            .filter(|p| matches!(p, Packet::PingReq))
            .count();
    }
    assert_eq!(
        pings, 1,
        "one PINGREQ after 10 s of silence from the broker"
    );
    assert!(lost, "declared lost after the ping timeout");
    assert!(h.events().contains(&Event::Lost {
        reason: LostReason::KeepAliveTimeout
    }));
}
