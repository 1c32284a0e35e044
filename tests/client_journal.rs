//! The publish journal (src/client/journal.rs): a QoS 1/2 publish survives a page reload at
//! every step between `publish()`, its store commit and its acknowledgement; it is never sent
//! again after its acknowledgement; and the journal stays bounded. The simulated page keeps the
//! journal as `localStorage` would: written when the task ends (a chunk a task), so it outlives
//! the page whatever the store's transaction did.
#![cfg(not(target_arch = "wasm32"))] // host-only

#[path = "common/session_harness.rs"]
mod harness;

#[path = "common/broker_model.rs"]
mod broker_model;

#[path = "common/client_harness.rs"]
mod client_harness;

use std::collections::HashSet;

use client_harness::*;
use harness::publishes;
use wasmqtt::client::{ClientEvent, JOURNAL_MAX_BYTES};
use wasmqtt::codec::{Ack, Packet, QoS};
use wasmqtt::session::CommandError;

const A: &str = "ws://a.example/mqtt";
const LATENCY: u64 = 10;

/// A broker that keeps its session across the client's reloads: it forwards each QoS 1 PUBLISH
/// it gets (at least once), and a QoS 2 one once per packet id until its PUBREL
/// (MQTT-4.3.3-10, its side of exactly once).
#[derive(Default)]
struct FarEnd {
    forwarded: Vec<String>,
    qos2_held: HashSet<u16>,
    /// Whether a PUBLISH arrived after the client had its acknowledgement.
    sent_after_ack: bool,
    acknowledged: bool,
}

impl FarEnd {
    /// Takes what the client sent on `socket` and answers it; returns what was answered.
    fn serve(&mut self, w: &mut World, socket: u32) -> Vec<Packet> {
        let received = w.take(socket);
        for packet in &received {
            match packet {
                Packet::Publish(p) => {
                    self.sent_after_ack |= self.acknowledged;
                    let payload = String::from_utf8_lossy(&p.payload).into_owned();
                    match p.qos {
                        QoS::ExactlyOnce if !self.qos2_held.insert(p.packet_id.unwrap()) => {}
                        _ => self.forwarded.push(payload),
                    }
                }
                Packet::PubRel(ack) => {
                    self.qos2_held.remove(&ack.packet_id);
                }
                _ => {}
            }
        }
        let answers = answers(&received);
        self.acknowledged |= answers
            .iter()
            .any(|a| matches!(a, Packet::PubAck(_) | Packet::PubComp(_)));
        w.deliver(socket, &answers);
        answers
    }
}

/// Publishes one message at `qos` and walks it to its end, one step at a time (a step: the
/// store's commit finishes, or the broker answers what it got), reloading the page before step
/// `reload_at` (the store transaction then running commits or not: `commits`). After the reload
/// the new page connects to the same broker session and everything runs to the end.
fn walk(mut w: World, qos: QoS, reload_at: usize, commits: bool) -> (FarEnd, World) {
    w.store.as_mut().unwrap().latency = LATENCY;
    w.start();
    let mut socket = w.connect();
    let mut far = FarEnd::default();
    w.publish("t", "m", qos);
    let mut step = 0;
    let mut reloaded = false;
    loop {
        if step == reload_at && !reloaded {
            reloaded = true;
            w.reload(commits);
            socket = w.connect();
        }
        // Even steps: the broker answers; odd steps: the running commit finishes.
        let moved = if step % 2 == 0 {
            !far.serve(&mut w, socket).is_empty()
        } else {
            w.advance(LATENCY);
            true
        };
        step += 1;
        if !moved && step > reload_at + 8 {
            break;
        }
    }
    // The last commits (one every COMMIT_INTERVAL_MS at most) land.
    w.advance(10 * LATENCY);
    (far, w)
}

fn outgoing_left(w: &World) -> usize {
    let stored = w.store.as_ref().unwrap().records();
    let journal = w.journal.as_ref();
    let journaled = journal.map_or(0, |j| j.records().len());
    assert!(
        journaled > 0 || journal.is_none_or(|j| j.entries.is_empty()),
        "no journal entry outlives its records"
    );
    stored.keys().filter(|k| k.starts_with("o/")).count() + journaled
}

#[test]
fn the_acknowledgements_of_one_socket_read_are_one_journal_write() {
    let mut w = World::new(client_config(&[A]));
    w.store.as_mut().unwrap().latency = LATENCY;
    w.start();
    let socket = w.connect();
    for i in 0..20 {
        w.publish("t", &format!("m{i}"), QoS::AtLeastOnce);
    }
    w.advance(5 * LATENCY);
    assert!(
        w.journal.as_ref().unwrap().entries.is_empty(),
        "each publish's entry gone once the store committed it"
    );
    let sent = w.take(socket);
    assert_eq!(publishes(&sent).len(), 20);
    w.deliver(socket, &answers(&sent));
    let journal = w.journal.as_ref().unwrap();
    assert_eq!(journal.entries.len(), 1, "one entry for the read");
    let tombstones = journal.records();
    assert_eq!(tombstones.len(), 20);
    assert!(tombstones.iter().all(|(_, value)| value.is_empty()));
    w.advance(5 * LATENCY);
    assert!(
        w.journal.as_ref().unwrap().entries.is_empty(),
        "gone once the store committed the deletions"
    );
}

#[test]
fn a_publish_survives_a_reload_at_every_step_and_is_never_sent_again_after_its_ack() {
    for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
        for commits in [false, true] {
            for reload_at in 0..10 {
                let case =
                    format!("QoS {qos:?}, reload before step {reload_at}, commits {commits}");
                let (far, w) = walk(World::new(client_config(&[A])), qos, reload_at, commits);
                assert!(!far.forwarded.is_empty(), "{case}: lost");
                if qos == QoS::ExactlyOnce {
                    assert_eq!(far.forwarded.len(), 1, "{case}: MQTT-4.3.3: exactly once");
                }
                assert!(
                    !far.sent_after_ack,
                    "{case}: sent again after its acknowledgement"
                );
                assert_eq!(
                    outgoing_left(&w),
                    0,
                    "{case}: store and journal empty at the end"
                );
            }
        }
    }
}

#[test]
fn without_a_journal_a_reload_before_the_commit_loses_the_publish_and_one_after_the_ack_resends_it()
{
    // What the journal closes (a Worker has none): the message lost when the page goes before
    // its transaction commits, and a QoS 1 message sent again after its PUBACK when the page
    // goes before the deletion commits.
    let (far, _) = walk(
        World::without_journal(client_config(&[A])),
        QoS::AtLeastOnce,
        0,
        false,
    );
    assert!(far.forwarded.is_empty(), "lost with its page");
    let (far, _) = walk(
        World::without_journal(client_config(&[A])),
        QoS::ExactlyOnce,
        0,
        false,
    );
    assert!(far.forwarded.is_empty(), "lost with its page");
    let (far, _) = walk(
        World::without_journal(client_config(&[A])),
        QoS::AtLeastOnce,
        2,
        false,
    );
    assert!(
        far.sent_after_ack,
        "resurrected from the store after its PUBACK"
    );
}

#[test]
fn entries_in_both_the_journal_and_the_store_resume_from_the_journal_in_publish_order() {
    // The page goes after the store committed but before it heard so: each message is in both.
    let mut w = World::new(client_config(&[A]));
    w.store.as_mut().unwrap().latency = LATENCY;
    w.start();
    let socket = w.connect();
    for i in 0..3 {
        w.publish("t", &format!("m{i}"), QoS::AtLeastOnce);
    }
    let first = publishes(&w.take(socket));
    w.deliver(
        socket,
        &[Packet::PubAck(Ack::new(first[1].packet_id.unwrap()))],
    );
    let mut journaled = w.journal.as_ref().unwrap().records();
    journaled.sort();
    let tombstones: Vec<_> = journaled
        .iter()
        .map(|(_, value)| value.is_empty())
        .collect();
    assert_eq!(
        tombstones,
        [false, true, false],
        "two records, one tombstone"
    );
    w.reload(true);
    let socket = w.connect();
    let again = publishes(&w.take(socket));
    let payloads: Vec<_> = again.iter().map(|p| p.payload.clone()).collect();
    assert_eq!(
        payloads,
        ["m0", "m2"],
        "in order; the acknowledged one not again"
    );
    assert!(again.iter().all(|p| p.dup), "MQTT-4.4.0-1: resent with DUP");
    w.deliver(socket, &answers(&w.sockets[&socket].received.clone()));
    w.advance(5 * LATENCY);
    assert_eq!(outgoing_left(&w), 0, "drained into the store, then gone");
}

#[test]
fn a_full_journal_refuses_qos_1_and_2_until_the_store_has_taken_it() {
    let mut w = World::new(client_config(&[A]));
    w.store.as_mut().unwrap().latency = LATENCY;
    w.start();
    let payload = "x".repeat(64 * 1024);
    let mut accepted = 0;
    let refused = loop {
        let request = harness::publish_request("t", &payload, QoS::AtLeastOnce);
        match w.client.publish(w.now, request) {
            Ok(_) => accepted += 1,
            Err(error) => break error,
        }
        w.settle();
    };
    assert_eq!(refused, CommandError::JournalFull);
    assert_eq!(refused.code(), "JOURNAL_FULL");
    let peak = w.journal.as_ref().unwrap().peak;
    assert!(
        peak < JOURNAL_MAX_BYTES + 64 * 1024 + 100,
        "bounded: over the cap by one message at most ({peak})"
    );
    assert!(accepted >= JOURNAL_MAX_BYTES / (64 * 1024), "{accepted}");
    let qos0 = harness::publish_request("t", "q0", QoS::AtMostOnce);
    assert!(
        w.client.publish(w.now, qos0).is_ok(),
        "QoS 0 is never journaled"
    );
    w.advance(LATENCY);
    let request = harness::publish_request("t", "later", QoS::ExactlyOnce);
    assert!(
        w.client.publish(w.now, request).is_ok(),
        "accepted once the store committed"
    );
}

#[test]
fn a_journal_write_the_page_refuses_is_reported_and_the_message_still_reaches_the_store() {
    let mut w = World::new(client_config(&[A]));
    w.store.as_mut().unwrap().latency = LATENCY;
    w.journal.as_mut().unwrap().quota = Some(10);
    w.start();
    let token = w.publish("t", "too big for the journal", QoS::AtLeastOnce);
    let failures: Vec<_> = w
        .events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Error(error) if error.code.to_string() == "JOURNAL_FAILED" => {
                error.record.clone()
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        failures.len(),
        1,
        "one error, naming the record: {failures:?}"
    );
    assert!(w.journal.as_ref().unwrap().entries.is_empty());
    w.advance(LATENCY);
    assert_eq!(outgoing_left(&w), 1, "in the store");
    let socket = w.connect();
    let sent = w.take(socket);
    w.deliver(socket, &answers(&sent));
    assert_eq!(w.outcome(token), Some(Ok(0)));
}

#[test]
fn nothing_is_journaled_in_memory_or_while_the_store_is_behind() {
    let mut w = World::new(client_config(&[A]));
    w.store.as_mut().unwrap().fail_next = 1;
    w.start();
    w.publish("t", "a", QoS::AtLeastOnce);
    w.settle();
    assert!(!w.client.metrics(w.now).durable);
    w.publish("t", "b", QoS::AtLeastOnce);
    assert!(w.journal.as_ref().unwrap().entries.is_empty());
    assert_eq!(w.client.metrics(w.now).journal_bytes, 0);
    let mut w = World::memory(client_config(&[A]));
    w.start();
    w.publish("t", "c", QoS::ExactlyOnce);
    assert_eq!(w.client.metrics(w.now).journal_bytes, 0);
}
