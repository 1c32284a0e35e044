//! Acknowledging after the handler (`ack: 'after-handler'`, src/session/processing.rs): the order
//! of handler completion, store commit and acknowledgement for QoS 1 and 2, retries and the
//! dead letter, the handler slots, and reloads mid-handler and after the mark, with the whole
//! client in the simulated world (store commits take 10 ms unless said).
#![cfg(not(target_arch = "wasm32"))] // host-only

#[path = "common/session_harness.rs"]
mod harness;

#[path = "common/broker_model.rs"]
mod broker_model;

#[path = "common/client_harness.rs"]
mod client_harness;

use client_harness::*;
use harness::{inbound, with_message_id};
use wasmqtt::client::store_sync::COMMIT_INTERVAL_MS;
use wasmqtt::client::{ClientConfig, ClientEvent};
use wasmqtt::codec::{Ack, ConnAck, Packet, Properties, Publish, QoS};
use wasmqtt::session::AckMode;

const A: &str = "ws://a.example/mqtt";

fn after_handler() -> ClientConfig {
    let mut config = client_config(&[A]);
    config.session.ack = AckMode::AfterHandler;
    config
}

/// A connected client acknowledging after the handler, store commits taking 10 ms.
fn world(config: ClientConfig) -> (World, u32) {
    let mut w = World::new(config);
    w.store.as_mut().unwrap().latency = 10;
    w.start();
    let socket = w.connect();
    (w, socket)
}

fn message(payload: &str, qos: QoS, packet_id: u16, id: Option<&str>) -> Publish {
    let publish = inbound("t/a", payload, qos, Some(packet_id));
    match id {
        Some(id) => with_message_id(publish, id),
        None => publish,
    }
}

fn resend(mut publish: Publish) -> Publish {
    publish.dup = true;
    publish
}

fn has_record(w: &World, key: &str) -> bool {
    w.store.as_ref().unwrap().records().contains_key(key)
}

fn acks(packets: &[Packet]) -> Vec<Packet> {
    packets
        .iter()
        .filter(|p| matches!(p, Packet::PubAck(_) | Packet::PubRec(_)))
        .cloned()
        .collect()
}

fn dead_letters(w: &World) -> Vec<(String, String, u32)> {
    w.events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::DeadLetter {
                publish,
                error,
                attempts,
                ..
            } => Some((
                String::from_utf8_lossy(&publish.payload).into_owned(),
                error.clone(),
                *attempts,
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn qos_1_puback_leaves_after_the_handler_settled_and_its_mark_is_durable() {
    let (mut w, socket) = world(after_handler());
    w.deliver(
        socket,
        &[Packet::Publish(message(
            "one",
            QoS::AtLeastOnce,
            1,
            Some("m1"),
        ))],
    );
    w.advance(50);
    assert_eq!(w.handler_runs(), [(1, 1, "one".to_string())]);
    assert!(w.delivered().is_empty(), "no on-receipt delivery");
    assert!(
        acks(&w.take(socket)).is_empty(),
        "no PUBACK while the handler runs"
    );
    assert!(!has_record(&w, "d/m1"), "no mark while the handler runs");
    w.handler_done(1, Ok(()));
    assert!(
        acks(&w.take(socket)).is_empty(),
        "the mark is not durable yet"
    );
    w.advance(10);
    assert!(has_record(&w, "d/m1"), "the mark committed");
    assert_eq!(acks(&w.take(socket)), [Packet::PubAck(Ack::new(1))]);
}

#[test]
fn qos_2_pubrec_waits_for_the_handler_and_one_batch_holding_the_packet_id_and_the_mark() {
    let (mut w, socket) = world(after_handler());
    w.deliver(
        socket,
        &[Packet::Publish(message(
            "two",
            QoS::ExactlyOnce,
            4,
            Some("m2"),
        ))],
    );
    w.advance(50);
    assert_eq!(w.handler_runs().len(), 1);
    assert!(acks(&w.take(socket)).is_empty(), "PUBREC withheld");
    assert!(
        !has_record(&w, "i/0004"),
        "MQTT-4.3.3-9's record waits for the handler too"
    );
    let jobs = w.store.as_ref().unwrap().jobs_done;
    w.handler_done(1, Ok(()));
    w.advance(COMMIT_INTERVAL_MS);
    assert_eq!(
        w.store.as_ref().unwrap().jobs_done,
        jobs + 1,
        "one store batch"
    );
    assert!(has_record(&w, "i/0004") && has_record(&w, "d/m2"));
    assert_eq!(acks(&w.take(socket)), [Packet::PubRec(Ack::new(4))]);
    w.deliver(socket, &[Packet::PubRel(Ack::new(4))]);
    w.advance(COMMIT_INTERVAL_MS);
    assert_eq!(w.take(socket), [Packet::PubComp(Ack::new(4))]);
    assert_eq!(w.handler_runs().len(), 1);
}

#[test]
fn a_copy_arriving_while_the_handler_runs_waits_for_it_and_is_acknowledged_after() {
    let (mut w, socket) = world(after_handler());
    let first = message("x", QoS::AtLeastOnce, 1, Some("same"));
    w.deliver(socket, &[Packet::Publish(first.clone())]);
    // The broker resends it (DUP), and another copy with the same message id comes as id 2.
    w.deliver(socket, &[Packet::Publish(resend(first))]);
    w.deliver(
        socket,
        &[Packet::Publish(message(
            "x",
            QoS::AtLeastOnce,
            2,
            Some("same"),
        ))],
    );
    // And a QoS 2 resend of a message without an id, by its packet id.
    let plain = message("y", QoS::ExactlyOnce, 3, None);
    w.deliver(socket, &[Packet::Publish(plain.clone())]);
    w.deliver(socket, &[Packet::Publish(resend(plain))]);
    w.advance(50);
    assert_eq!(
        w.handler_runs().len(),
        1,
        "one at a time: y waits for a slot"
    );
    assert!(acks(&w.take(socket)).is_empty());
    w.handler_done(1, Ok(()));
    w.advance(COMMIT_INTERVAL_MS);
    assert_eq!(
        acks(&w.take(socket)),
        [Packet::PubAck(Ack::new(1)), Packet::PubAck(Ack::new(2))],
        "both copies, once, after the handler"
    );
    assert_eq!(w.handler_runs()[1], (2, 1, "y".to_string()));
    w.handler_done(2, Ok(()));
    w.advance(COMMIT_INTERVAL_MS);
    assert_eq!(acks(&w.take(socket)), [Packet::PubRec(Ack::new(3))]);
    assert_eq!(w.handler_runs().len(), 2, "never twice");
}

#[test]
fn a_message_already_marked_is_acknowledged_without_running() {
    let (mut w, socket) = world(after_handler());
    w.deliver(
        socket,
        &[Packet::Publish(message(
            "a",
            QoS::AtLeastOnce,
            1,
            Some("k"),
        ))],
    );
    w.handler_done(1, Ok(()));
    w.advance(10);
    w.take(socket);
    w.deliver(
        socket,
        &[Packet::Publish(message(
            "a",
            QoS::AtLeastOnce,
            7,
            Some("k"),
        ))],
    );
    w.advance(10);
    assert_eq!(acks(&w.take(socket)), [Packet::PubAck(Ack::new(7))]);
    assert_eq!(w.handler_runs().len(), 1);
    assert_eq!(w.count(|e| matches!(e, ClientEvent::Duplicate { .. })), 1);
}

#[test]
fn a_failing_handler_is_retried_with_doubling_delays_then_dead_lettered_then_acknowledged() {
    let (mut w, socket) = world(after_handler());
    w.deliver(
        socket,
        &[Packet::Publish(message(
            "bad",
            QoS::AtLeastOnce,
            1,
            Some("b"),
        ))],
    );
    let mut at = vec![];
    for attempt in 1..=4 {
        let runs = w.handler_runs();
        assert_eq!(runs.len(), attempt, "attempt {attempt}");
        assert_eq!(runs[attempt - 1].1, attempt as u32);
        at.push(w.now);
        assert!(
            acks(&w.take(socket)).is_empty(),
            "never acknowledged while retrying"
        );
        w.handler_done(1, Err("boom"));
        if attempt < 4 {
            let delay = 1_000 << (attempt - 1);
            w.advance(delay - 1);
            assert_eq!(w.handler_runs().len(), attempt, "not before its delay");
            w.advance(1);
        }
    }
    let gaps: Vec<u64> = at.windows(2).map(|p| p[1] - p[0]).collect();
    assert_eq!(gaps, [1_000, 2_000, 4_000]);
    assert_eq!(dead_letters(&w), [("bad".into(), "boom".into(), 4)]);
    w.advance(10);
    assert_eq!(
        acks(&w.take(socket)),
        [Packet::PubAck(Ack::new(1))],
        "only after the dead letter"
    );
    assert!(has_record(&w, "d/b"), "and marked: not run again");
    w.advance(60_000);
    assert_eq!(w.handler_runs().len(), 4);
}

#[test]
fn handlers_run_at_most_concurrency_at_once_in_arrival_order() {
    let mut config = after_handler();
    config.session.handlers.concurrency = 2;
    let (mut w, socket) = world(config);
    let packets: Vec<Packet> = (1..=4)
        .map(|n| Packet::Publish(message(&format!("m{n}"), QoS::AtLeastOnce, n, None)))
        .collect();
    w.deliver(socket, &packets);
    let names = |w: &World| -> Vec<String> { w.handler_runs().into_iter().map(|r| r.2).collect() };
    assert_eq!(names(&w), ["m1", "m2"]);
    let metrics = w.client.metrics(w.now).session;
    assert_eq!((metrics.handlers_running, metrics.handlers_waiting), (2, 2));
    w.advance(30);
    w.handler_done(2, Err("later"));
    assert_eq!(names(&w), ["m1", "m2"], "a retry keeps its slot");
    w.handler_done(1, Ok(()));
    assert_eq!(names(&w), ["m1", "m2", "m3"]);
    w.advance(10);
    assert_eq!(acks(&w.take(socket)), [Packet::PubAck(Ack::new(1))]);
    let metrics = w.client.metrics(w.now).session;
    assert_eq!((metrics.handlers_running, metrics.handlers_waiting), (2, 1));
    assert_eq!(metrics.handler_latency_p50_ms, Some(30));
    assert_eq!(metrics.handler_latency_p99_ms, Some(30));
}

#[test]
fn handler_latency_percentiles_come_from_the_hosts_now() {
    let (mut w, socket) = world(after_handler());
    for n in 1..=100u16 {
        w.deliver(
            socket,
            &[Packet::Publish(message("m", QoS::AtLeastOnce, n, None))],
        );
        w.advance(u64::from(n));
        w.handler_done(u64::from(n), Ok(()));
    }
    let metrics = w.client.metrics(w.now).session;
    assert_eq!(metrics.handler_latency_p50_ms, Some(50));
    assert_eq!(metrics.handler_latency_p99_ms, Some(99));
}

#[test]
fn held_acknowledgements_count_against_the_receive_maximum_the_application_chose() {
    // MQTT-3.3.4-9: the broker sends no more unacknowledged QoS 1/2 than our Receive Maximum,
    // and a withheld PUBACK / PUBREC keeps its message unacknowledged: a slow handler holds
    // the broker back. One over it is a protocol error (0x93), as on receipt.
    let mut config = after_handler();
    config.session.connect_properties.receive_maximum = Some(2);
    let (mut w, socket) = world(config);
    w.deliver(
        socket,
        &[
            Packet::Publish(message("a", QoS::AtLeastOnce, 1, None)),
            Packet::Publish(message("b", QoS::ExactlyOnce, 2, None)),
        ],
    );
    assert_eq!(w.client.metrics(w.now).session.handlers_waiting, 1);
    w.handler_done(1, Ok(()));
    w.advance(10);
    assert_eq!(acks(&w.take(socket)), [Packet::PubAck(Ack::new(1))]);
    // The slot PUBACK 1 freed is taken again; PUBREC 2 is still held.
    w.deliver(
        socket,
        &[Packet::Publish(message("c", QoS::AtLeastOnce, 3, None))],
    );
    assert!(w.client.is_connected());
    w.deliver(
        socket,
        &[Packet::Publish(message("d", QoS::AtLeastOnce, 4, None))],
    );
    assert!(
        !w.client.is_connected(),
        "a third unacknowledged one exceeds it"
    );
    assert!(w
        .errors()
        .iter()
        .any(|(code, _)| code == "RECEIVE_MAXIMUM_EXCEEDED"));
}

#[test]
fn qos_0_waiting_for_a_slot_is_bounded_in_bytes_oldest_dropped_first() {
    let mut config = after_handler();
    config.session.handlers.queue_max_bytes = 20; // "t/a" and 7 bytes: two fit
    let (mut w, socket) = world(config);
    let packets: Vec<Packet> = (0..5)
        .map(|n| Packet::Publish(inbound("t/a", &format!("q0-{n}xx"), QoS::AtMostOnce, None)))
        .collect();
    w.deliver(socket, &packets);
    let metrics = w.client.metrics(w.now).session;
    assert_eq!(metrics.handlers_waiting, 2);
    assert_eq!(metrics.handler_qos0_dropped, 2);
    w.handler_done(1, Ok(()));
    w.handler_done(4, Ok(())); // deliveries 2 and 3 were dropped
    let names: Vec<String> = w.handler_runs().into_iter().map(|r| r.2).collect();
    assert_eq!(
        names,
        ["q0-0xx", "q0-3xx", "q0-4xx"],
        "the oldest waiting went"
    );
}

#[test]
fn a_reload_mid_handler_runs_it_again_and_a_reload_after_the_mark_does_not() {
    for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let (mut w, socket) = world(after_handler());
        let m = message("r", qos, 5, Some("r1"));
        w.deliver(socket, &[Packet::Publish(m.clone())]);
        assert_eq!(w.handler_runs().len(), 1);
        // The page dies inside the handler: nothing acknowledged, nothing marked.
        assert!(
            w.client.hand_over().is_none(),
            "nothing to hand over: the broker resends it"
        );
        w.reload(true);
        let socket = w.connect();
        w.deliver(socket, &[Packet::Publish(resend(m.clone()))]);
        assert_eq!(w.handler_runs().len(), 2, "QoS {qos:?}: it runs again");
        w.handler_done(1, Ok(()));
        w.advance(10);
        let ack = acks(&w.take(socket));
        assert_eq!(ack.len(), 1);
        // The acknowledgement is lost with the next page; the mark is not.
        w.reload(true);
        let socket = w.connect();
        w.deliver(socket, &[Packet::Publish(resend(m))]);
        w.advance(10);
        assert_eq!(acks(&w.take(socket)), ack, "acknowledged again");
        assert_eq!(
            w.handler_runs().len(),
            2,
            "QoS {qos:?}: not run a third time"
        );
    }
}

#[test]
fn qos_2_without_an_id_is_marked_by_its_packet_id_across_a_reload() {
    let (mut w, socket) = world(after_handler());
    let m = message("p", QoS::ExactlyOnce, 9, None);
    w.deliver(socket, &[Packet::Publish(m.clone())]);
    w.handler_done(1, Ok(()));
    w.advance(10);
    w.reload(true); // PUBREC lost
    let socket = w.connect();
    w.deliver(socket, &[Packet::Publish(resend(m))]);
    w.advance(10);
    assert_eq!(acks(&w.take(socket)), [Packet::PubRec(Ack::new(9))]);
    assert_eq!(w.handler_runs().len(), 1);
}

#[test]
fn a_reload_after_the_handler_before_the_mark_commits_runs_it_again_only_without_a_journal() {
    // Finished, mark not yet in IndexedDB, page gone: the journal (localStorage, written in the
    // task the handler finished in) has the mark, so the broker's redelivery is acknowledged
    // without running. Without a journal (a Worker) that is the window the README states.
    for journal in [true, false] {
        for (qos, id) in [(QoS::AtLeastOnce, Some("w1")), (QoS::ExactlyOnce, None)] {
            let config = after_handler();
            let mut w = if journal {
                World::new(config)
            } else {
                World::without_journal(config)
            };
            w.store.as_mut().unwrap().latency = 10;
            w.start();
            let socket = w.connect();
            let m = message("w", qos, 2, id);
            w.deliver(socket, &[Packet::Publish(m.clone())]);
            w.handler_done(1, Ok(()));
            w.reload(false);
            let socket = w.connect();
            w.deliver(socket, &[Packet::Publish(resend(m))]);
            w.advance(10);
            let what = format!("journal {journal}, QoS {qos:?}");
            if journal {
                assert_eq!(w.handler_runs().len(), 1, "{what}: not run again");
                let ack = match qos {
                    QoS::AtLeastOnce => Packet::PubAck(Ack::new(2)),
                    _ => Packet::PubRec(Ack::new(2)),
                };
                assert_eq!(acks(&w.take(socket)), [ack], "{what}: acknowledged");
            } else {
                assert_eq!(w.handler_runs().len(), 2, "{what}: runs again");
            }
        }
    }
}

#[test]
fn a_session_lost_mid_handler_acknowledges_nothing_on_the_new_session() {
    let (mut w, socket) = world(after_handler());
    w.deliver(
        socket,
        &[Packet::Publish(message(
            "s",
            QoS::AtLeastOnce,
            3,
            Some("s1"),
        ))],
    );
    w.drop_socket(socket);
    w.advance(100);
    let socket = w.live();
    w.take(socket);
    let connack = ConnAck {
        session_present: false,
        code: 0,
        properties: Properties::default(),
    };
    w.deliver(socket, &[Packet::ConnAck(connack)]);
    w.handler_done(1, Ok(()));
    w.advance(10);
    assert!(
        acks(&w.take(socket)).is_empty(),
        "packet id 3 may name another message on the new session"
    );
    assert!(has_record(&w, "d/s1"), "still marked as processed");
}

#[test]
fn a_subscriptions_own_mode_wins_over_the_clients() {
    let (mut w, socket) = world(client_config(&[A]));
    let route = w
        .client
        .add_route("late/#", Some(AckMode::AfterHandler))
        .unwrap();
    let mut late = message("late", QoS::AtLeastOnce, 1, None);
    late.topic = "late/x".into();
    w.deliver(
        socket,
        &[
            Packet::Publish(late),
            Packet::Publish(message("early", QoS::AtLeastOnce, 2, None)),
        ],
    );
    w.advance(10);
    assert_eq!(w.delivered(), ["early"]);
    assert_eq!(acks(&w.take(socket)), [Packet::PubAck(Ack::new(2))]);
    let handles: Vec<Vec<u32>> = w
        .events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Handle { routes, .. } => Some(routes.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(handles, [vec![route]]);
    w.handler_done(1, Ok(()));
    w.advance(10);
    assert_eq!(acks(&w.take(socket)), [Packet::PubAck(Ack::new(1))]);
}

#[test]
fn a_graceful_end_waits_for_running_handlers_within_its_timeout() {
    let (mut w, socket) = world(after_handler());
    w.deliver(
        socket,
        &[Packet::Publish(message("e", QoS::AtLeastOnce, 1, None))],
    );
    w.end(false, 5_000);
    assert!(!w
        .take(socket)
        .contains(&Packet::Disconnect(Default::default())));
    w.handler_done(1, Ok(()));
    w.advance(10);
    let sent = w.take(socket);
    assert_eq!(acks(&sent), [Packet::PubAck(Ack::new(1))]);
    assert!(
        matches!(sent.last(), Some(Packet::Disconnect(_))),
        "then goodbye: {sent:?}"
    );
}

#[test]
fn a_graceful_end_delivers_and_acknowledges_a_message_still_waiting_for_its_store_commit() {
    // The README's quick start: the broker's copy of the client's own QoS 1 publish (with its
    // message id) arrives just before `end()`. Its receipt is not yet durable, so it is not yet
    // delivered; a graceful end waits for the commit, the delivery and the PUBACK, then says
    // goodbye.
    let (mut w, socket) = world(client_config(&[A]));
    w.deliver(
        socket,
        &[Packet::Publish(message(
            "echo",
            QoS::AtLeastOnce,
            1,
            Some("m-1"),
        ))],
    );
    assert!(w.delivered().is_empty(), "its receipt is not durable yet");
    w.end(false, 5_000);
    assert!(!w.sockets[&socket].closed, "the end waits for the commit");
    w.advance(COMMIT_INTERVAL_MS + 20);
    assert_eq!(w.delivered(), ["echo"]);
    let sent = w.take(socket);
    assert_eq!(
        sent,
        [
            Packet::PubAck(Ack::new(1)),
            Packet::Disconnect(Default::default())
        ],
        "acknowledged, then goodbye"
    );
    assert!(w.sockets[&socket].closed);
}

#[test]
fn a_slow_handler_raises_the_handler_latency_alert_the_application_asked_for() {
    let mut config = after_handler();
    config.alerts = vec![wasmqtt::client::AlertRule {
        metric: wasmqtt::client::AlertMetric::HandlerLatencyP99Ms,
        threshold: 500.0,
    }];
    let (mut w, socket) = world(config);
    w.deliver(
        socket,
        &[Packet::Publish(message("slow", QoS::AtLeastOnce, 1, None))],
    );
    w.advance(2_000);
    w.handler_done(1, Ok(()));
    w.advance(1_000);
    let raised: Vec<_> = w
        .events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Alert(a) => Some((a.metric, a.value, a.raised)),
            _ => None,
        })
        .collect();
    assert_eq!(raised, [("handlerLatencyP99Ms", 2_000.0, true)]);
}
