//! The whole client with a simulated store and page lifecycle: what waits for the store, the
//! fall-back to memory when the store fails and the catch-up after, and reloads at awkward
//! moments (a reload drops the client and builds a new one from what the store holds).
#![cfg(not(target_arch = "wasm32"))] // host-only

#[path = "common/session_harness.rs"]
mod harness;

#[path = "common/broker_model.rs"]
mod broker_model;

#[path = "common/client_harness.rs"]
mod client_harness;

use client_harness::*;
use harness::{inbound, publishes, with_message_id};
use wasmqtt::client::store_sync::{COMMIT_INTERVAL_MS, REWRITE_AFTER_BYTES};
use wasmqtt::client::ClientEvent;
use wasmqtt::codec::{Ack, Packet, Properties, QoS};

const A: &str = "ws://a.example/mqtt";

fn storage_events(w: &World) -> Vec<(bool, Option<String>)> {
    w.events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Storage { durable, error } => {
                Some((*durable, error.as_ref().map(|e| e.code.to_string())))
            }
            _ => None,
        })
        .collect()
}

/// Keys of the outgoing messages the store holds.
fn stored_outgoing(w: &World) -> usize {
    let records = &w.store.as_ref().unwrap().records();
    records.keys().filter(|k| k.starts_with("o/")).count()
}

#[test]
fn publishes_queued_before_connack_leave_after_it_within_the_receive_maximum_it_set() {
    let mut w = World::memory(client_config(&[A]));
    w.start();
    let socket = w.live();
    let tokens: Vec<u32> = (0..3)
        .map(|i| w.publish("t", &format!("m{i}"), QoS::AtLeastOnce))
        .collect();
    let sent = w.take(socket);
    assert!(
        matches!(&sent[..], [Packet::Connect(_)]),
        "nothing but CONNECT before CONNACK: {sent:?}"
    );
    let limits = Properties {
        receive_maximum: Some(1),
        ..Properties::default()
    };
    w.deliver(
        socket,
        &[Packet::ConnAck(wasmqtt::codec::ConnAck {
            session_present: false,
            code: 0,
            properties: limits,
        })],
    );
    for (i, token) in tokens.iter().enumerate() {
        let sent = w.take(socket);
        let published = publishes(&sent);
        assert_eq!(
            published.len(),
            1,
            "MQTT-4.9.0-2: one in flight with Receive Maximum 1, got {sent:?}"
        );
        assert_eq!(published[0].payload, format!("m{i}").as_bytes());
        assert_eq!(w.outcome(*token), None);
        let acks = answers(&sent);
        w.deliver(socket, &acks);
        assert_eq!(w.outcome(*token), Some(Ok(0)));
    }
}

#[test]
fn a_qos_2_publish_leaves_once_its_record_is_durable() {
    let mut w = World::new(client_config(&[A]));
    w.store.as_mut().unwrap().latency = 50;
    w.start();
    let socket = w.connect();
    w.publish("t", "m", QoS::ExactlyOnce);
    assert!(
        publishes(&w.take(socket)).is_empty(),
        "not before the commit"
    );
    w.advance(50);
    assert_eq!(publishes(&w.take(socket)).len(), 1);
    assert_eq!(stored_outgoing(&w), 1);
}

#[test]
fn a_failed_store_falls_back_to_memory_and_catches_up_with_the_session_later() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    let socket = w.connect();
    w.store.as_mut().unwrap().fail_next = 1;
    let first = w.publish("t", "m1", QoS::AtLeastOnce);
    assert_eq!(
        w.errors(),
        [("STORE_FAILED".to_string(), false)],
        "the failure is reported"
    );
    assert_eq!(
        storage_events(&w)[1..],
        [(false, Some("STORE_FAILED".to_string()))]
    );
    // The session carries on in memory: the message goes out and is acknowledged.
    let sent = w.take(socket);
    assert_eq!(publishes(&sent).len(), 1);
    let acks = answers(&sent);
    w.deliver(socket, &acks);
    assert_eq!(w.outcome(first), Some(Ok(0)));
    let second = w.publish("t", "m2", QoS::AtLeastOnce);
    assert_eq!(
        publishes(&w.take(socket)).len(),
        1,
        "nothing waits for the store"
    );
    assert!(!w.client.metrics(w.now).durable);
    w.advance(1_000);
    assert_eq!(
        storage_events(&w).last(),
        Some(&(true, None)),
        "caught up: durable again"
    );
    assert!(w.client.metrics(w.now).durable);
    let store: Vec<(String, Vec<u8>)> = w
        .store
        .as_ref()
        .unwrap()
        .records()
        .clone()
        .into_iter()
        .collect();
    assert_eq!(
        store,
        w.client.session().snapshot(),
        "the store matches the session"
    );
    assert_eq!(stored_outgoing(&w), 1, "m2, still in flight, is stored");
    let _ = second;
}

#[test]
fn a_full_store_is_reported_as_quota_exceeded_and_the_client_carries_on_in_memory() {
    let mut w = World::new(client_config(&[A]));
    w.store.as_mut().unwrap().quota = Some(64);
    w.start();
    let socket = w.connect();
    let token = w.publish("t", &"x".repeat(200), QoS::AtLeastOnce);
    assert_eq!(w.errors(), [("STORE_QUOTA_EXCEEDED".to_string(), false)]);
    let sent = w.take(socket);
    let acks = answers(&sent);
    w.deliver(socket, &acks);
    assert_eq!(w.outcome(token), Some(Ok(0)), "the message still went out");
}

#[test]
fn a_store_that_cannot_open_runs_the_session_in_memory() {
    let mut w = World::new(client_config(&[A]));
    w.store.as_mut().unwrap().unavailable = true;
    w.start();
    assert_eq!(w.errors(), [("STORE_UNAVAILABLE".to_string(), false)]);
    assert_eq!(
        storage_events(&w),
        [(false, Some("STORE_UNAVAILABLE".to_string()))]
    );
    let socket = w.connect();
    let token = w.publish("t", "m", QoS::AtLeastOnce);
    let sent = w.take(socket);
    let acks = answers(&sent);
    w.deliver(socket, &acks);
    assert_eq!(w.outcome(token), Some(Ok(0)));
    assert!(
        w.store.as_ref().unwrap().entries.is_empty(),
        "nothing written"
    );
}

#[test]
fn a_reload_before_the_puback_resends_the_stored_message_once_with_its_packet_id() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    let socket = w.connect();
    w.publish("t", "kept", QoS::AtLeastOnce);
    let first = publishes(&w.take(socket));
    assert_eq!(first.len(), 1);
    w.reload(true);
    let socket = w.connect();
    let again = publishes(&w.take(socket));
    assert_eq!(again.len(), 1, "resent once");
    assert!(again[0].dup, "MQTT-4.4.0-1: resent with DUP");
    assert_eq!(
        again[0].packet_id, first[0].packet_id,
        "with the same packet id"
    );
    assert_eq!(again[0].payload, first[0].payload);
    w.deliver(
        socket,
        &[Packet::PubAck(Ack::new(again[0].packet_id.unwrap()))],
    );
    assert_eq!(stored_outgoing(&w), 0, "acknowledged: gone from the store");
    w.reload(true);
    let socket = w.connect();
    assert!(publishes(&w.take(socket)).is_empty(), "never sent again");
}

#[test]
fn a_reload_during_the_commit_keeps_the_message_through_the_journal_and_without_one_never_sent_it()
{
    for (journal, commits) in [(true, false), (true, true), (false, false), (false, true)] {
        let config = client_config(&[A]);
        let mut w = if journal {
            World::new(config)
        } else {
            World::without_journal(config)
        };
        w.store.as_mut().unwrap().latency = 30;
        w.start();
        let socket = w.connect();
        w.publish("t", "racing", QoS::ExactlyOnce);
        assert!(
            publishes(&w.take(socket)).is_empty(),
            "waits for the commit"
        );
        w.reload(commits);
        let socket = w.connect();
        w.advance(30);
        let sent = publishes(&w.take(socket));
        assert_eq!(
            sent.len(),
            usize::from(journal || commits),
            "journaled or committed: resumed; neither: never left (journal {journal}, commits {commits})"
        );
    }
}

/// A connected client (store commits take 10 ms) that just received the QoS 2 message
/// `payload` with packet id `id`, not yet delivered: its receipt is stored first (MQTT-4.3.3-9).
fn received_qos2(payload: &str, id: u16) -> (World, u32, wasmqtt::codec::Publish) {
    let mut w = World::new(client_config(&[A]));
    w.store.as_mut().unwrap().latency = 10;
    w.start();
    let socket = w.connect();
    let message = harness::inbound("t", payload, QoS::ExactlyOnce, Some(id));
    w.deliver(socket, &[Packet::Publish(message.clone())]);
    assert!(
        w.delivered().is_empty(),
        "MQTT-4.3.3-9: the receipt is stored first"
    );
    (w, socket, message)
}

#[test]
fn an_inbound_qos_2_message_is_delivered_once_across_a_reload_before_pubrel() {
    let (mut w, socket, message) = received_qos2("once", 7);
    w.advance(10);
    assert_eq!(w.delivered(), ["once"]);
    assert!(
        w.take(socket).contains(&Packet::PubRec(Ack::new(7))),
        "PUBREC once the receipt is durable"
    );
    // The PUBREC is lost with the page; the broker sends the message again (DUP).
    w.reload(true);
    let socket = w.connect();
    let mut again = message;
    again.dup = true;
    w.deliver(socket, &[Packet::Publish(again)]);
    w.advance(10);
    assert!(
        w.take(socket).contains(&Packet::PubRec(Ack::new(7))),
        "answered again"
    );
    w.deliver(socket, &[Packet::PubRel(Ack::new(7))]);
    w.advance(10);
    assert_eq!(w.take(socket), [Packet::PubComp(Ack::new(7))]);
    assert_eq!(
        w.delivered(),
        ["once"],
        "MQTT-4.3.3-10: once in all, the new page does not deliver it again"
    );
}

#[test]
fn unreadable_stored_records_are_reported_by_key_and_the_rest_resumes() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    let socket = w.connect();
    w.publish("t", "kept", QoS::AtLeastOnce);
    w.take(socket);
    let store = w.store.as_mut().unwrap();
    store
        .entries
        .insert("o/zz-not-a-number".into(), vec![1, 2, 3]);
    w.reload(true);
    let corrupt: Vec<Option<String>> = w
        .events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Error(error) if error.code.to_string() == "STORE_CORRUPT_RECORD" => {
                Some(error.record.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(corrupt, [Some("o/zz-not-a-number".to_string())]);
    let socket = w.connect();
    assert_eq!(
        publishes(&w.take(socket)).len(),
        1,
        "the good record resumes"
    );
}

#[test]
fn a_message_whose_receipt_landed_as_the_page_went_is_delivered_by_the_next_page_once() {
    let (mut w, _, message) = received_qos2("in the gap", 9);
    // The commit lands, but the page goes before it hears so: neither delivered nor PUBREC'd.
    w.reload(true);
    assert!(
        w.handed_over().is_empty(),
        "not before the connection is up: the application subscribes its handlers after"
    );
    let socket = w.connect();
    assert!(
        w.handed_over().is_empty(),
        "nor in the task that connected, but in a later one"
    );
    let mut again = message;
    again.dup = true;
    w.deliver(socket, &[Packet::Publish(again)]);
    w.advance(10);
    let handed: Vec<_> = w.handed_over().iter().map(|p| p.payload.clone()).collect();
    assert_eq!(
        handed,
        ["in the gap"],
        "handed over: its receipt is in the store the new page loaded"
    );
    assert!(
        w.delivered().is_empty(),
        "MQTT-4.3.3-10: the broker's resend is not delivered again"
    );
    assert!(w.take(socket).contains(&Packet::PubRec(Ack::new(9))));
}

#[test]
fn a_tab_taking_the_session_over_delivers_what_it_was_handed_once_its_session_is_loaded() {
    let (mut w, _, message) = received_qos2("handed", 9);
    w.take_over_in_another_tab(true);
    let handed: Vec<_> = w.handed_over().iter().map(|p| p.payload.clone()).collect();
    assert_eq!(handed, ["handed"], "its handlers are in place: no wait");
    let socket = w.connect();
    let mut again = message;
    again.dup = true;
    w.deliver(socket, &[Packet::Publish(again)]);
    w.advance(10);
    assert!(w.delivered().is_empty(), "MQTT-4.3.3-10: not again");
    assert_eq!(w.handed_over().len(), 1);
}

#[test]
fn a_message_handed_over_and_not_yet_delivered_goes_on_to_the_next_page_as_confirmed() {
    let (mut w, _, _) = received_qos2("twice handed", 9);
    w.reload(true);
    // The second page goes before it connects: the item, judged its, goes on. The third page
    // loaded no receipt for it (the second settled nothing), yet delivers it.
    w.reload(true);
    assert!(w.handed_over().is_empty());
    w.connect();
    w.advance(10);
    let handed: Vec<_> = w.handed_over().iter().map(|p| p.payload.clone()).collect();
    assert_eq!(handed, ["twice handed"]);
}

#[test]
fn a_message_whose_receipt_was_not_stored_is_not_handed_over_but_resent_by_the_broker() {
    let (mut w, _, message) = received_qos2("not stored", 9);
    w.reload(false);
    let socket = w.connect();
    w.advance(10);
    assert!(
        w.handed_over().is_empty(),
        "its receipt never reached the store"
    );
    let mut again = message;
    again.dup = true;
    w.deliver(socket, &[Packet::Publish(again)]);
    w.advance(10);
    assert_eq!(
        w.delivered(),
        ["not stored"],
        "the broker's resend is delivered"
    );
}

#[test]
fn the_message_rate_counts_deliveries_over_the_last_seconds() {
    let mut w = World::memory(client_config(&[A]));
    w.start();
    let socket = w.connect();
    let messages: Vec<Packet> = (0..10)
        .map(|i| {
            Packet::Publish(harness::inbound(
                "t",
                &format!("m{i}"),
                QoS::AtMostOnce,
                None,
            ))
        })
        .collect();
    w.deliver(socket, &messages);
    assert_eq!(w.delivered().len(), 10);
    assert_eq!(
        w.client.metrics(w.now).messages_per_second,
        2.0,
        "10 over 5 s"
    );
    w.advance(10_000);
    assert_eq!(w.client.metrics(w.now).messages_per_second, 0.0);
}

#[test]
fn a_publish_queued_before_connack_that_exceeds_its_maximum_packet_size_fails_unsent() {
    let mut w = World::memory(client_config(&[A]));
    w.start();
    let socket = w.live();
    let token = w.publish("t", &"x".repeat(500), QoS::AtLeastOnce);
    w.take(socket);
    let limits = Properties {
        maximum_packet_size: Some(100),
        ..Properties::default()
    };
    let connack = wasmqtt::codec::ConnAck {
        session_present: false,
        code: 0,
        properties: limits,
    };
    w.deliver(socket, &[Packet::ConnAck(connack)]);
    assert!(
        publishes(&w.take(socket)).is_empty(),
        "MQTT-3.1.2-24: nothing larger than the broker's Maximum Packet Size is sent"
    );
    assert_eq!(w.outcome(token), Some(Err("PACKET_TOO_LARGE".to_string())));
}

#[test]
fn mqtt_4_8_0_2_a_store_failure_while_an_inbound_packet_is_processed_does_not_stop_its_processing()
{
    // 3.1.1 MQTT-4.8.0-2: a Transient Error that keeps an inbound packet from being processed
    // closes the connection it came on. The one failure the client meets on that path, the
    // IndexedDB write the acknowledgement waits for, does not keep it from being processed: the
    // session carries on in memory (a `storage` event says so). So the packet is processed, once:
    // delivered, acknowledged, its copy (DUP) not delivered again, and the connection stays up.
    // Closing instead would only bring the same packet back into the same full store, in a loop.
    let mut config = client_config(&[A]);
    config.session.protocol = wasmqtt::codec::ProtocolVersion::V3_1_1;
    config.session.connect_properties = Properties::default();
    let mut w = World::new(config);
    w.start();
    let socket = w.connect();
    w.store.as_mut().unwrap().fail_next = 1;
    let message = harness::inbound("t", "kept", QoS::ExactlyOnce, Some(3));
    w.deliver(socket, &[Packet::Publish(message.clone())]);
    assert_eq!(w.errors(), [("STORE_FAILED".to_string(), false)]);
    assert_eq!(
        storage_events(&w).last(),
        Some(&(false, Some("STORE_FAILED".to_string())))
    );
    assert_eq!(w.delivered(), ["kept"], "processed in memory");
    assert_eq!(w.take(socket), [Packet::PubRec(Ack::new(3))]);
    let mut again = message;
    again.dup = true;
    w.deliver(socket, &[Packet::Publish(again)]);
    w.deliver(socket, &[Packet::PubRel(Ack::new(3))]);
    w.advance(1_000);
    assert_eq!(
        w.take(socket),
        [Packet::PubRec(Ack::new(3)), Packet::PubComp(Ack::new(3))]
    );
    assert_eq!(w.delivered(), ["kept"], "MQTT-4.3.3-10: once");
    assert!(
        !w.events
            .iter()
            .any(|e| matches!(e, ClientEvent::Closed { .. })),
        "the connection stays up"
    );
    assert!(w.client.is_connected() && !w.sockets[&socket].closed);
    assert_eq!(
        storage_events(&w).last(),
        Some(&(true, None)),
        "stored again once the store accepts writes"
    );
}

fn stored_bytes(w: &World) -> usize {
    let entries = &w.store.as_ref().unwrap().entries;
    entries.iter().map(|(k, v)| k.len() + v.len()).sum()
}

/// Publishes `count` QoS 1 messages of `size` bytes, each acknowledged `ack_after` ms after it
/// was published, then `between` ms before the next; returns the most bytes the store held.
fn publish_acknowledged(
    w: &mut World,
    socket: u32,
    count: usize,
    size: usize,
    (ack_after, between): (u64, u64),
) -> usize {
    let payload = "x".repeat(size);
    let mut most = 0;
    for _ in 0..count {
        w.publish("t", &payload, QoS::AtLeastOnce);
        w.advance(ack_after);
        let sent = w.take(socket);
        w.deliver(socket, &answers(&sent));
        w.advance(between);
        most = most.max(stored_bytes(w));
    }
    w.advance(COMMIT_INTERVAL_MS);
    most
}

#[test]
fn under_a_steady_stream_the_writes_of_a_commit_interval_go_as_one_batch() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    let socket = w.connect();
    let jobs = w.store.as_ref().unwrap().jobs_done;
    // A message a millisecond, each acknowledged at once.
    publish_acknowledged(&mut w, socket, 1_000, 100, (0, 1));
    let store = w.store.as_ref().unwrap();
    let commits = store.jobs_done - jobs;
    assert!(
        (1_000 / 20..=1_000 / 10).contains(&commits),
        "{commits} transactions for 1,000 messages"
    );
    assert!(store.entries.keys().all(|k| k.starts_with("t/")));
    assert_eq!(stored_outgoing(&w), 0);
    // After a quiet spell a write commits at once.
    w.advance(1_000);
    w.publish("t", "alone", QoS::AtLeastOnce);
    assert_eq!(stored_outgoing(&w), 1, "committed without waiting");
}

#[test]
fn the_state_is_written_alone_again_before_batches_pile_up() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    let socket = w.connect();
    // Each message stored, then its deletion: about 1 MiB of batches in all.
    let most = publish_acknowledged(&mut w, socket, 1_000, 1024, (COMMIT_INTERVAL_MS, 0));
    let store = w.store.as_ref().unwrap();
    assert!(
        store.entries.keys().all(|k| k.starts_with("t/")),
        "{:?}",
        store.entries.keys().collect::<Vec<_>>()
    );
    // The store never held much more than the threshold: the state (nothing outstanding) was
    // written alone again each time the batches outweighed it.
    assert!(
        most < REWRITE_AFTER_BYTES + 16 * 1024,
        "held {most} bytes at most"
    );
    assert!(store.entries.len() < 300, "{}", store.entries.len());
    assert_eq!(stored_outgoing(&w), 0);
    w.reload(true);
    let socket = w.connect();
    assert!(publishes(&w.take(socket)).is_empty(), "nothing resent");
}

#[test]
fn a_store_an_older_version_wrote_a_record_per_key_resumes_and_goes_at_the_first_rewrite() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    let socket = w.connect();
    w.publish("t", "before the upgrade", QoS::AtLeastOnce);
    w.take(socket); // sent, not acknowledged

    // As an older version stored it: one entry per record.
    let store = w.store.as_mut().unwrap();
    store.entries = store.records();
    assert_eq!(stored_outgoing(&w), 1);
    w.reload(true);
    let socket = w.connect();
    let sent = w.take(socket);
    let resent = publishes(&sent);
    assert_eq!(resent.len(), 1, "the older record resumes");
    assert!(resent[0].dup, "MQTT-4.4.0-1: sent again with DUP");
    w.deliver(socket, &answers(&sent));
    assert_eq!(
        stored_outgoing(&w),
        0,
        "a batch's deletion hides the older record"
    );
    assert!(
        w.store
            .as_ref()
            .unwrap()
            .entries
            .keys()
            .any(|k| k.starts_with("o/")),
        "the older entry itself stays until the state is written alone"
    );
    w.reload(true);
    let socket = w.connect();
    assert!(
        publishes(&w.take(socket)).is_empty(),
        "not resurrected by a reload"
    );
    publish_acknowledged(&mut w, socket, 300, 1024, (COMMIT_INTERVAL_MS, 0));
    let store = w.store.as_ref().unwrap();
    assert!(store.entries.keys().all(|k| k.starts_with("t/")));
}

#[test]
fn a_rewrite_from_records_out_of_key_order_loads_back_as_the_same_session() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    let socket = w.connect();
    // De-duplication ids arrive out of key order, and a message stays in flight.
    for (packet_id, id) in [(1, "z-3"), (2, "a-1"), (3, "m-2")] {
        let publish = inbound("t/a", "x", QoS::AtLeastOnce, Some(packet_id));
        w.deliver(socket, &[Packet::Publish(with_message_id(publish, id))]);
    }
    w.publish("t", "in flight", QoS::AtLeastOnce);
    w.take(socket);
    let keys: Vec<String> = w
        .client
        .session()
        .durable_records()
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_ne!(keys, sorted, "the records come out of key order");
    // A failed commit: the store catches up later with a rewrite from those records.
    w.store.as_mut().unwrap().fail_next = 1;
    w.publish("t", "after the failure", QoS::AtLeastOnce);
    w.advance(COMMIT_INTERVAL_MS);
    w.take(socket);
    assert_eq!(w.errors(), [("STORE_FAILED".to_string(), false)]);
    assert!(!w.client.metrics(w.now).durable);
    w.advance(1_000);
    assert!(w.client.metrics(w.now).durable, "caught up");
    let before = w.client.session().snapshot();
    assert!(before.len() >= 5, "three ids and two messages: {before:?}");
    w.reload(true);
    assert_eq!(w.client.session().snapshot(), before);
}
