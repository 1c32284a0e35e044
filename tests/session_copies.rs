//! Copies for overlapping subscriptions without subscription identifiers: MQTT 3.1.1 section
//! 3.3.5 ("the Server MAY deliver ... multiple copies") and MQTT 5 section 3.3.4 (MQTT-3.3.4-2)
//! when no identifier names the subscriptions. Scripted after what mosquitto 2.0.11 was seen to
//! send: one copy per subscription (`allow_duplicate_messages true`, and every 5.0 client), or
//! one copy at the QoS of the first subscription it finds (its 3.1.1 default).
#![cfg(not(target_arch = "wasm32"))] // host-only

#[path = "common/session_harness.rs"]
mod harness;

use harness::*;
use wasmqtt::codec::{Ack, Packet, Properties, ProtocolVersion, QoS};
use wasmqtt::session::{Config, CopyPolicy};

/// A connected session with routes on "s/#" (granted QoS 1) and "s/+" (granted QoS 0).
fn overlapping(config: Config) -> (Harness, u32, u32) {
    let mut h = Harness::new(config);
    h.connect_with(
        false,
        Properties {
            subscription_identifier_available: Some(0),
            ..Default::default()
        },
    );
    let hash = h.session.add_route("s/#", None).unwrap();
    let plus = h.session.add_route("s/+", None).unwrap();
    h.subscribe(&["s/#", "s/+"], QoS::AtLeastOnce);
    let sent = h.commit_then_sent();
    h.grant(&sent, |f| if f == "s/#" { 1 } else { 0 });
    h.commit();
    h.events();
    (h, hash, plus)
}

fn v311() -> Config {
    config(ProtocolVersion::V3_1_1)
}

#[test]
fn one_copy_per_subscription_reaches_each_handler_once_and_every_copy_is_acknowledged() {
    for config in [v311(), config(ProtocolVersion::V5)] {
        let (mut h, hash, plus) = overlapping(config);
        // A QoS 1 publish: the QoS 0 subscription's copy, then the QoS 1 one.
        h.receive(Packet::Publish(inbound(
            "s/x",
            "21.5",
            QoS::AtMostOnce,
            None,
        )));
        h.receive(Packet::Publish(inbound(
            "s/x",
            "21.5",
            QoS::AtLeastOnce,
            Some(4),
        )));
        h.commit();
        let got = by_route(&h.events());
        assert_eq!(got[&0], ["21.5"], "one delivery");
        assert_eq!((&got[&hash], &got[&plus]), (&got[&0], &got[&0]));
        assert_eq!(
            h.sent(),
            [Packet::PubAck(Ack::new(4))],
            "the copy is acknowledged"
        );
        let metrics = h.session.metrics();
        assert_eq!((metrics.received, metrics.copies_dropped), (1, 1));
    }
}

#[test]
fn qos2_copies_complete_their_flow_and_deliver_once() {
    let (mut h, _, _) = overlapping(v311());
    h.subscribe(&["s/+"], QoS::ExactlyOnce); // now granted 2 and 1
    let sent = h.commit_then_sent();
    h.grant(&sent, |_| 2);
    h.commit();
    h.events();
    h.receive(Packet::Publish(inbound(
        "s/x",
        "m",
        QoS::ExactlyOnce,
        Some(1),
    )));
    h.receive(Packet::Publish(inbound(
        "s/x",
        "m",
        QoS::AtLeastOnce,
        Some(2),
    )));
    h.commit();
    assert_eq!(delivered(&h.events()), ["m"]);
    assert_eq!(
        h.sent(),
        [Packet::PubRec(Ack::new(1)), Packet::PubAck(Ack::new(2))]
    );
}

#[test]
fn with_a_single_copy_broker_nothing_is_lost_when_time_payload_or_qos_tell_messages_apart() {
    // mosquitto 2.0.11's 3.1.1 default: one copy per message.
    let (mut h, _, _) = overlapping(v311());
    // A sensor every 2 s repeating its value: beyond the window, each is a message.
    for payload in ["21.5", "21.5", "22.0", "21.5"] {
        h.receive(Packet::Publish(inbound(
            "s/x",
            payload,
            QoS::AtMostOnce,
            None,
        )));
        h.advance(2_000);
    }
    // Quick repeats at QoS 1: two QoS 1 copies cannot come from subscriptions granted QoS 0
    // and 1, so the repeat is a message.
    h.receive(Packet::Publish(inbound(
        "s/y",
        "on",
        QoS::AtLeastOnce,
        Some(1),
    )));
    h.receive(Packet::Publish(inbound(
        "s/y",
        "on",
        QoS::AtLeastOnce,
        Some(2),
    )));
    h.commit();
    let got = delivered(&h.events());
    assert_eq!(got, ["21.5", "21.5", "22.0", "21.5", "on", "on"]);
    assert_eq!(h.session.metrics().copies_dropped, 0);
}

#[test]
fn the_trade_off_a_quick_repeat_that_fits_is_taken_for_a_copy_unless_copies_are_delivered() {
    // Both subscriptions granted QoS 1, a broker that sends one copy, the same payload twice
    // within the window: the second is indistinguishable from a copy. CopyPolicy::Deliver gets
    // both (and, from a broker that sends copies, copies too).
    for (policy, expected) in [
        (CopyPolicy::Collapse, vec!["on"]),
        (CopyPolicy::Deliver, vec!["on", "on"]),
    ] {
        let mut config = v311();
        config.copies = policy;
        let mut h = Harness::new(config);
        h.connect();
        h.subscribe(&["s/#", "s/+"], QoS::AtLeastOnce);
        let sent = h.commit_then_sent();
        h.grant(&sent, |_| 1);
        h.commit();
        h.receive(Packet::Publish(inbound(
            "s/x",
            "on",
            QoS::AtLeastOnce,
            Some(1),
        )));
        h.receive(Packet::Publish(inbound(
            "s/x",
            "on",
            QoS::AtLeastOnce,
            Some(2),
        )));
        h.commit();
        assert_eq!(delivered(&h.events()), expected, "{policy:?}");
    }
}

#[test]
fn copies_are_expected_within_one_connection_only_and_retained_messages_are_never_copies() {
    let (mut h, _, _) = overlapping(v311());
    h.receive(Packet::Publish(inbound(
        "s/x",
        "a",
        QoS::AtLeastOnce,
        Some(1),
    )));
    h.commit();
    assert_eq!(delivered(&h.events()), ["a"]);
    h.session.handle_transport_closed(h.now);
    h.connect_with(true, Properties::default());
    // After a new connection a matching PUBLISH is a redelivery or a new message, never a
    // copy of one from the last connection (this QoS 0 one would fit as the copy for "s/+").
    h.receive(Packet::Publish(inbound("s/x", "a", QoS::AtMostOnce, None)));
    let mut retained = inbound("s/x", "a", QoS::AtLeastOnce, Some(2));
    retained.retain = true;
    h.receive(Packet::Publish(retained));
    h.commit();
    assert_eq!(delivered(&h.events()), ["a", "a"]);
}

#[test]
fn a_single_subscription_never_expects_copies() {
    let mut h = Harness::new(v311());
    h.connect();
    h.subscribe(&["s/#"], QoS::AtLeastOnce);
    let sent = h.commit_then_sent();
    h.grant(&sent, |_| 1);
    h.commit();
    h.events();
    for id in 1..=3 {
        h.receive(Packet::Publish(inbound(
            "s/x",
            "same",
            QoS::AtLeastOnce,
            Some(id),
        )));
    }
    h.commit();
    assert_eq!(delivered(&h.events()), ["same", "same", "same"]);
}
