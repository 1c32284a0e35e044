//! The session's side of the "MUST close the Network Connection" statements of MQTT 5.0 and
//! 3.1.1 that it decides (the codec's decode errors reach it through `handle_decode_error`; the
//! transport's through the driver, see tests/page/client-must-close.test.mjs): the connection
//! ends (`Event::Lost`, the host closes the transport), on 5.0 after a DISCONNECT with the reason
//! (4.13.1), and nothing more is sent on it (MQTT-3.14.4-1; 3.1.1: MQTT-3.14.4-2). Scripted
//! broker, manual clock.
#![cfg(not(target_arch = "wasm32"))] // host-only

#[path = "common/session_harness.rs"]
mod harness;

use harness::*;
use wasmqtt::codec::{reason, ConnAck, Packet, ProtocolVersion, QoS};
use wasmqtt::session::{Event, LostReason};

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V5, ProtocolVersion::V3_1_1];

/// Checks the connection ended for `code` and what went out: on 5.0 a DISCONNECT with `code`
/// as the last packet, on 3.1.1 nothing (it has no DISCONNECT for errors). Then that a publish
/// and a keepalive deadline send nothing more before the transport opens again.
fn closed_for(h: &mut Harness, events: Vec<Event>, code: u8) {
    assert!(
        events.contains(&Event::Lost {
            reason: LostReason::ProtocolError(code)
        }),
        "{events:?}"
    );
    let sent = h.sent();
    if h.config.protocol.is_v5() {
        match sent.last() {
            Some(Packet::Disconnect(d)) => assert_eq!(d.reason_code, code),
            other => panic!("DISCONNECT last, got {other:?} in {sent:?}"),
        }
    } else {
        assert!(sent.is_empty(), "3.1.1: nothing on error, got {sent:?}");
    }
    h.publish("t", "after", QoS::AtLeastOnce);
    h.advance(60_000);
    assert_eq!(h.sent(), vec![], "nothing after DISCONNECT / the close");
}

#[test]
fn mqtt_3_2_2_4_session_present_to_a_clean_start_closes() {
    // MQTT-3.2.2-4 (5.0): "If the Client does not have Session State and receives Session
    // Present set to 1 it MUST close the Network Connection." Clean Start 1 discarded any.
    let mut config = config(ProtocolVersion::V5);
    config.clean_start = true;
    let mut h = Harness::new(config);
    let events = h.connect_with(true, Default::default());
    assert!(
        !events.iter().any(|e| matches!(e, Event::Connected { .. })),
        "not connected: {events:?}"
    );
    closed_for(&mut h, events, reason::PROTOCOL_ERROR);
}

#[test]
fn mqtt_4_8_0_1_a_packet_before_connack_closes() {
    // MQTT-3.2.0-1: CONNACK comes first. A violation: 3.1.1 MQTT-4.8.0-1, 5.0 4.13.1.
    for version in VERSIONS {
        let mut h = Harness::new(config(version));
        h.session.handle_transport_open(h.now);
        assert!(matches!(h.sent().as_slice(), [Packet::Connect(_)]));
        h.receive(Packet::Publish(inbound(
            "t",
            "early",
            QoS::AtMostOnce,
            None,
        )));
        let events = h.events();
        closed_for(&mut h, events, reason::PROTOCOL_ERROR);
    }
}

#[test]
fn mqtt_4_8_0_1_a_packet_only_a_client_sends_closes() {
    // A second CONNACK (a server sends one, MQTT-3.2.0-2 in 5.0) and a PINGREQ (a server never
    // sends one): protocol violations (3.1.1 MQTT-4.8.0-1, 5.0 4.13.1).
    for version in VERSIONS {
        for packet in [
            Packet::ConnAck(ConnAck {
                session_present: false,
                code: 0,
                properties: Default::default(),
            }),
            Packet::PingReq,
        ] {
            let mut h = Harness::new(config(version));
            h.connect();
            h.receive(packet.clone());
            let events = h.events();
            closed_for(&mut h, events, reason::PROTOCOL_ERROR);
        }
    }
}

#[test]
fn a_decode_error_closes_with_its_reason() {
    // The codec's refusals (ill-formed UTF-8 or U+0000: 3.1.1 MQTT-1.5.3-1/-2; invalid flags:
    // MQTT-2.2.2-2; QoS 3: MQTT-3.3.1-4; AUTH reserved bits: MQTT-3.15.1-1) reach the session
    // as a decode error with a reason code (tests/codec_decode_framing.rs has them byte by byte).
    for version in VERSIONS {
        for code in [reason::MALFORMED_PACKET, reason::PACKET_TOO_LARGE] {
            let mut h = Harness::new(config(version));
            h.connect();
            h.session.handle_decode_error(h.now, code);
            let events = h.events();
            closed_for(&mut h, events, code);
        }
    }
}
