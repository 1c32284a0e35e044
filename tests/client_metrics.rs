//! Consumer-lag metrics and their alerts (issue #18.4) on the whole client, with a manual clock:
//! the oldest queued message's age, bytes held and their growth, the delivery lag of stamped
//! messages, alerts raised past a threshold and cleared with hysteresis, the OpenMetrics text.
#![cfg(not(target_arch = "wasm32"))] // host-only

#[path = "common/session_harness.rs"]
mod harness;

#[path = "common/broker_model.rs"]
mod broker_model;

#[path = "common/client_harness.rs"]
mod client_harness;

use client_harness::*;
use wasmqtt::client::{Alert, AlertMetric, AlertRule, ClientEvent, CLEAR_RATIO, STAMP_PROPERTY};
use wasmqtt::codec::{Ack, Packet, Properties, Publish, QoS};

const A: &str = "ws://a.example/mqtt";
/// The wall clock at the world's `now` (ms since the epoch).
const WALL_AT_START: u64 = 1_700_000_000_000;

fn alerts(w: &World) -> Vec<(&'static str, f64, bool)> {
    w.events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Alert(Alert {
                metric,
                value,
                raised,
                ..
            }) => Some((*metric, *value, *raised)),
            _ => None,
        })
        .collect()
}

fn world(rules: Vec<AlertRule>, max_inflight: u16) -> World {
    let mut config = client_config(&[A]);
    config.alerts = rules;
    config.session.max_inflight = max_inflight;
    let mut w = World::new(config);
    w.client.handle_wall_clock(w.now, WALL_AT_START);
    w
}

/// A QoS 0 PUBLISH from the broker.
fn message(payload: &str, properties: Properties) -> Packet {
    Packet::Publish(Publish {
        dup: false,
        qos: QoS::AtMostOnce,
        retain: false,
        topic: "t".into(),
        packet_id: None,
        properties,
        payload: payload.as_bytes().to_vec().into(),
    })
}

fn rule(metric: AlertMetric, threshold: f64) -> AlertRule {
    AlertRule { metric, threshold }
}

#[test]
fn queue_depth_alert_is_raised_over_its_threshold_and_cleared_only_well_under_it() {
    let mut w = world(vec![rule(AlertMetric::Queued, 10.0)], 2);
    w.endpoints.insert(A.into(), Endpoint::Silent);
    w.start();
    for n in 0..13 {
        w.publish("t", &format!("m{n}"), QoS::AtLeastOnce);
    }
    w.advance(1_000);
    assert_eq!(alerts(&w), [("queued", 13.0, true)], "13 queued > 10");
    // Connected with a window of 2: 11 queued, then each PUBACK lets one more out.
    w.endpoints.insert(A.into(), Endpoint::Broker);
    w.advance(3_000);
    let socket = w.connect();
    let mut acked = 0;
    let mut seen = vec![];
    while acked < 13 {
        let ids: Vec<u16> = w
            .take(socket)
            .iter()
            .filter_map(|p| match p {
                Packet::Publish(Publish {
                    packet_id: Some(id),
                    ..
                }) => Some(*id),
                _ => None,
            })
            .collect();
        for id in ids {
            w.deliver(socket, &[Packet::PubAck(Ack::new(id))]);
            acked += 1;
            w.advance(1_000);
            seen.push((w.client.metrics(w.now).session.queued, alerts(&w).len()));
        }
    }
    // Cleared once at or below 80 % of 10 (8 queued), not at 9 or 10 (hysteresis).
    let cleared_at = seen.iter().find(|(_, n)| *n == 2).expect("cleared").0;
    assert_eq!(cleared_at as f64, 10.0 * CLEAR_RATIO);
    assert!(
        seen.iter().any(|(q, n)| *q == 9 && *n == 1),
        "still raised at 9: {seen:?}"
    );
    assert_eq!(alerts(&w)[1], ("queued", 8.0, false));
    assert_eq!(alerts(&w).len(), 2, "no flapping: {:?}", alerts(&w));
}

#[test]
fn the_oldest_queued_message_age_grows_with_the_clock_and_resets_when_it_is_sent() {
    let mut w = world(vec![], 10);
    w.endpoints.insert(A.into(), Endpoint::Silent);
    w.start();
    assert_eq!(w.client.metrics(w.now).oldest_queued_age_ms, 0);
    w.publish("t", "first", QoS::AtLeastOnce);
    w.advance(1_500);
    w.publish("t", "second", QoS::AtLeastOnce);
    w.advance(1_000);
    let m = w.client.metrics(w.now);
    assert_eq!(m.oldest_queued_age_ms, 2_500, "the first one's age");
    assert_eq!(
        m.bytes_held,
        2 + "first".len() + "second".len(),
        "topic and payload"
    );
    w.endpoints.insert(A.into(), Endpoint::Broker);
    w.advance(3_000);
    let socket = w.connect();
    let sent = w.take(socket);
    w.deliver(socket, &answers(&sent));
    let m = w.client.metrics(w.now);
    assert_eq!(
        (m.oldest_queued_age_ms, m.bytes_held),
        (0, 0),
        "acknowledged: none held"
    );
}

#[test]
fn stamped_messages_give_the_delivery_lag_and_its_alert_clears_when_they_stop() {
    let mut w = world(vec![rule(AlertMetric::DeliveryLagP99Ms, 5_000.0)], 10);
    w.start();
    let socket = w.connect();
    let wall = WALL_AT_START + (w.now - 1_000);
    // 99 fast messages and one 6 s late: p50 100 ms, p99 (nearest rank) 100 ms ...
    let stamped = |id: u16, lag: u64| {
        let mut properties = Properties::default();
        properties
            .user_properties
            .push((STAMP_PROPERTY.into(), (wall - lag).to_string()));
        message(&format!("m{id}"), properties)
    };
    let packets: Vec<Packet> = (0..98).map(|n| stamped(n, 100)).collect();
    w.deliver(socket, &packets);
    w.deliver(socket, &[stamped(98, 6_000), stamped(99, 7_000)]);
    let m = w.client.metrics(w.now);
    assert_eq!(m.delivery_lag_p50_ms, Some(100));
    assert_eq!(m.delivery_lag_p99_ms, Some(6_000));
    w.advance(1_000);
    assert_eq!(alerts(&w), [("deliveryLagP99Ms", 6_000.0, true)]);
    // A message without a stamp adds nothing; after a quiet minute the lag is gone.
    w.deliver(socket, &[message("plain", Properties::default())]);
    w.advance(60_000);
    assert_eq!(w.client.metrics(w.now).delivery_lag_p99_ms, None);
    assert_eq!(alerts(&w)[1], ("deliveryLagP99Ms", 0.0, false));
}

#[test]
fn a_stamped_publish_carries_the_wall_clock_as_a_user_property() {
    let mut w = world(vec![], 10);
    w.start();
    let socket = w.connect();
    w.advance(250);
    let request = harness::publish_request("t", "x", QoS::AtLeastOnce);
    w.client.publish_stamped(w.now, request).unwrap();
    w.settle();
    let sent = w.take(socket);
    let Some(Packet::Publish(publish)) = sent.last() else {
        panic!("{sent:?}")
    };
    let expected = (WALL_AT_START + w.now - 1_000).to_string();
    assert!(publish
        .properties
        .user_properties
        .contains(&(STAMP_PROPERTY.to_string(), expected)));
}

#[test]
fn bytes_held_growth_over_a_minute_raises_its_alert() {
    let mut w = world(vec![rule(AlertMetric::BytesHeldGrowth, 10_000.0)], 10);
    w.endpoints.insert(A.into(), Endpoint::Silent);
    w.start();
    w.advance(1_000);
    let kilobyte = "k".repeat(1_000);
    for _ in 0..12 {
        w.publish("t", &kilobyte, QoS::AtLeastOnce);
    }
    w.advance(1_000);
    let raised = alerts(&w);
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(raised[0].0, "bytesHeldGrowth");
    assert!(raised[0].1 > 12_000.0);
    // Held steady for a minute: no more growth, cleared (though still held).
    w.advance(61_000);
    assert_eq!(alerts(&w)[1], ("bytesHeldGrowth", 0.0, false));
    assert!(w.client.metrics(w.now).bytes_held > 12_000);
}

#[test]
fn metrics_text_has_the_values_the_alert_states_and_ends_with_eof() {
    let mut w = world(vec![rule(AlertMetric::Queued, 1.0)], 10);
    w.endpoints.insert(A.into(), Endpoint::Silent);
    w.start();
    w.publish("t", "a", QoS::AtLeastOnce);
    w.publish("t", "b", QoS::AtLeastOnce);
    w.advance(2_000);
    let text = w.client.metrics_text(w.now);
    for line in [
        "# TYPE wasmqtt_queued_messages gauge\n",
        "wasmqtt_queued_messages 2\n",
        "# UNIT wasmqtt_oldest_queued_age_seconds seconds\n",
        "wasmqtt_oldest_queued_age_seconds 2\n",
        "wasmqtt_held_bytes 4\n",
        "wasmqtt_sent_messages_total 0\n",
        "wasmqtt_alert{metric=\"queued\"} 1\n",
        "wasmqtt_alert_threshold{metric=\"queued\"} 1\n",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }
    assert!(text.ends_with("\n# EOF\n"));
    assert!(!text.contains("delivery_lag"), "no sample, no family");
}
