//! The whole client against simulated sockets and a manual clock: connecting, attempts that
//! time out or fail, refusals, reconnects with backoff, failover across URLs, the handshake
//! diagnosis and a clean end.
#![cfg(not(target_arch = "wasm32"))] // host-only

#[path = "common/session_harness.rs"]
mod harness;

#[path = "common/broker_model.rs"]
mod broker_model;

#[path = "common/client_harness.rs"]
mod client_harness;

use client_harness::*;
use wasmqtt::client::{
    lost_reason_text, AttemptSetup, ClientEvent, EndOptions, SocketAction, FLUSH_AT_BYTES,
};
use wasmqtt::codec::{self, reason, Disconnect, Packet, Properties, QoS};

const A: &str = "ws://a.example/mqtt";
const B: &str = "ws://b.example/mqtt";

fn is_connected(e: &ClientEvent) -> bool {
    matches!(e, ClientEvent::Connected { .. })
}

#[test]
fn connects_and_sends_connect_first_on_the_socket_it_opened() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    assert_eq!(w.log, ["open 1", "send 1"], "CONNECT leaves at once");
    w.connect();
    assert!(w.client.is_connected());
    assert_eq!(w.count(is_connected), 1);
    assert!(w.errors().is_empty(), "{:?}", w.errors());
}

#[test]
fn an_attempt_that_outlives_the_connect_timeout_is_closed_and_tried_again_after_the_backoff() {
    let mut w = World::new(client_config(&[A]));
    w.endpoints.insert(A.into(), Endpoint::Silent);
    w.start();
    assert_eq!(w.log, ["open 1"]);
    w.advance(2_999);
    assert_eq!(w.log, ["open 1"], "not before the connect timeout");
    w.advance(1);
    assert_eq!(w.log, ["open 1", "close 1"], "the attempt is given up");
    assert_eq!(w.delays(), [100]);
    w.endpoints.insert(A.into(), Endpoint::Broker);
    w.advance(100);
    assert_eq!(w.log[2..], ["open 2", "send 2"]);
    w.connect();
    assert!(w.client.is_connected());
}

#[test]
fn a_socket_that_opens_but_gets_no_connack_is_given_up_at_the_connect_timeout() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    w.advance(3_000);
    assert!(
        w.sockets[&1].closed,
        "CONNECT unanswered for the connect timeout"
    );
    assert_eq!(w.delays(), [100]);
    assert!(
        w.events
            .iter()
            .any(|e| matches!(e, ClientEvent::Closed { .. })),
        "the session says the connection attempt is over"
    );
}

#[test]
fn a_permanent_refusal_stops_the_client_with_a_fatal_error_and_no_retry() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    w.connack(reason::BAD_USER_NAME_OR_PASSWORD, Properties::default());
    assert_eq!(
        w.errors(),
        [("BAD_USER_NAME_OR_PASSWORD".to_string(), true)],
        "MQTT-3.2.2-7: the refusal's reason, and fatal"
    );
    assert!(w.sockets[&1].closed, "the refused socket is closed");
    w.advance(60_000);
    assert_eq!(w.sockets.len(), 1, "never tried again");
    assert!(w.delays().is_empty());
}

#[test]
fn a_transient_refusal_is_reported_and_retried_after_the_backoff() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    w.connack(reason::SERVER_UNAVAILABLE, Properties::default());
    assert_eq!(w.errors(), [("SERVER_UNAVAILABLE".to_string(), false)]);
    assert_eq!(w.delays(), [100]);
    w.advance(100);
    assert_eq!(w.sockets.len(), 2, "tried again");
    w.connect();
    assert!(w.client.is_connected());
}

#[test]
fn reconnect_delays_grow_per_failed_round_and_start_again_after_a_connection() {
    let mut w = World::new(client_config(&[A]));
    w.endpoints.insert(A.into(), Endpoint::Dead);
    w.start();
    w.answer_probes();
    for _ in 0..5 {
        let wait = *w.delays().last().unwrap();
        w.advance(u64::from(wait));
    }
    assert_eq!(w.delays(), [100, 200, 400, 800, 1_600, 1_600], "capped");
    assert_eq!(w.sockets.len(), 6);
    w.endpoints.insert(A.into(), Endpoint::Broker);
    w.advance(1_600);
    w.connect();
    w.advance(6_000); // stayed up long enough to count as stable
    w.drop_socket(w.last_socket());
    assert_eq!(w.delays().last(), Some(&100), "the backoff starts over");
    let closed = w.events.iter().rev().find_map(|e| match e {
        ClientEvent::Closed { reason } => Some(lost_reason_text(*reason)),
        _ => None,
    });
    assert_eq!(closed, Some("connection closed"));
}

#[test]
fn a_failed_url_fails_over_to_the_next_at_once_and_the_next_round_starts_from_the_first() {
    let mut w = World::new(client_config(&[A, B]));
    w.endpoints.insert(A.into(), Endpoint::Dead);
    w.start();
    assert_eq!(w.probes.len(), 1, "the first failure at A is probed");
    w.answer_probes();
    assert_eq!(w.errors(), [("CONNECTION_FAILED".to_string(), false)]);
    let urls: Vec<&str> = w.sockets.values().map(|s| s.url.as_str()).collect();
    assert_eq!(
        urls,
        [A, B],
        "B is tried once A's failure is known, without a wait"
    );
    assert!(w.delays().is_empty());
    w.connect();
    // Losing B starts from A again, after the backoff.
    w.drop_socket(2);
    assert_eq!(w.delays(), [100]);
    w.advance(100);
    assert_eq!(w.sockets[&3].url, A);
    assert!(w.probes.is_empty(), "A's failure is known: no second probe");
    assert_eq!(w.sockets[&4].url, B, "then B at once");
}

#[test]
fn a_websocket_server_that_refuses_mqtt_is_named_before_the_next_attempt() {
    let mut w = World::new(client_config(&[A]));
    w.endpoints.insert(A.into(), Endpoint::NotMqtt);
    w.start();
    assert!(w.errors().is_empty(), "the verdict waits for the probe");
    assert!(w.delays().is_empty(), "and so does the next attempt");
    w.answer_probes();
    assert_eq!(w.errors(), [("WRONG_SUBPROTOCOL".to_string(), false)]);
    let error_at = w
        .events
        .iter()
        .position(|e| matches!(e, ClientEvent::Error(_)));
    let retry_at = w
        .events
        .iter()
        .position(|e| matches!(e, ClientEvent::Reconnecting { .. }));
    assert!(
        error_at < retry_at,
        "the error says why before the retry is announced"
    );
    w.advance(100);
    assert!(w.probes.is_empty(), "the verdict is kept for this URL");
    assert_eq!(w.errors().last().unwrap().0, "WRONG_SUBPROTOCOL");
}

#[test]
fn a_probe_that_finds_an_mqtt_endpoint_reports_a_plain_connection_failure() {
    let mut w = World::new(client_config(&[A]));
    w.endpoints.insert(A.into(), Endpoint::Dead);
    w.start();
    w.endpoints.insert(A.into(), Endpoint::Broker); // the broker came back meanwhile
    w.answer_probes();
    assert_eq!(w.errors(), [("CONNECTION_FAILED".to_string(), false)]);
}

#[test]
fn a_probe_answer_after_the_connect_timeout_moved_on_does_not_count_the_failure_twice() {
    let mut w = World::new(client_config(&[A]));
    w.endpoints.insert(A.into(), Endpoint::Dead);
    w.start();
    w.advance(3_000); // the probe hangs past the connect timeout
    assert_eq!(w.delays(), [100]);
    w.answer_probes();
    assert_eq!(w.delays(), [100], "no second retry for the same failure");
    assert_eq!(
        w.errors(),
        [
            ("CONNECT_TIMEOUT".to_string(), false),
            ("CONNECTION_FAILED".to_string(), false)
        ],
        "the timeout, then the probe's verdict"
    );
}

#[test]
fn without_reconnect_a_lost_connection_ends_with_a_fatal_error() {
    let mut config = client_config(&[A]);
    config.reconnect = None;
    let mut w = World::new(config);
    w.start();
    w.connect();
    w.drop_socket(1);
    assert_eq!(w.errors(), [("CONNECTION_LOST".to_string(), true)]);
    w.advance(60_000);
    assert_eq!(w.sockets.len(), 1);
}

#[test]
fn offline_pauses_attempts_and_online_tries_at_once() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    w.connect();
    w.client.handle_online(w.now, false);
    w.settle();
    w.drop_socket(1);
    assert!(w.events.iter().any(|e| matches!(e, ClientEvent::Offline)));
    w.advance(60_000);
    assert_eq!(w.sockets.len(), 1, "nothing is tried while offline");
    w.client.handle_online(w.now, true);
    w.settle();
    assert_eq!(w.sockets.len(), 2, "back online: at once");
}

#[test]
fn a_text_frame_or_a_wrong_subprotocol_is_reported_and_the_socket_given_up() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    w.client.handle_text_frame(w.now, 1);
    w.settle();
    assert_eq!(w.errors(), [("PROTOCOL_ERROR".to_string(), false)]);
    assert!(w.sockets[&1].closed);
    w.advance(100);
    w.client.handle_wrong_subprotocol(w.now, 2, "");
    w.settle();
    assert_eq!(w.errors().last().unwrap().0, "WRONG_SUBPROTOCOL");
    assert_eq!(w.delays().len(), 2, "each is a failed attempt, retried");
}

#[test]
fn a_malformed_packet_from_the_broker_is_reported_with_its_reason_and_ends_the_connection() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    w.connect();
    // PUBLISH QoS 3 is malformed (MQTT-3.3.1-4).
    w.client
        .handle_socket_data(w.now, 1, &[0x36, 0x03, 0x00, 0x01, b't']);
    w.settle();
    assert_eq!(w.errors(), [("MALFORMED_PACKET".to_string(), false)]);
    let sent = w.take(1);
    assert!(
        matches!(sent.last(), Some(Packet::Disconnect(d)) if d.reason_code == reason::MALFORMED_PACKET),
        "MQTT-4.13.1-1: DISCONNECT with the reason, got {sent:?}"
    );
    assert!(w.sockets[&1].closed);
}

#[test]
fn late_events_of_a_socket_already_given_up_are_ignored() {
    let mut w = World::new(client_config(&[A]));
    w.endpoints.insert(A.into(), Endpoint::Silent);
    w.start();
    w.advance(3_000);
    let events = w.events.len();
    w.client.handle_socket_open(w.now, 1);
    w.client.handle_socket_closed(w.now, 1, 1006, "");
    w.settle();
    assert_eq!(
        w.events.len(),
        events,
        "socket 1 is not the client's any more"
    );
}

#[test]
fn graceful_end_sends_disconnect_on_the_socket_before_closing_it() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    let socket = w.connect();
    let token = w.publish("t", "last words", QoS::AtLeastOnce);
    w.end(false, 5_000);
    assert!(!w.sockets[&socket].closed, "waits for the PUBACK first");
    let sent = w.take(socket);
    let acks = answers(&sent);
    w.deliver(socket, &acks);
    assert_eq!(w.outcome(token), Some(Ok(0)));
    let sent = w.take(socket);
    assert_eq!(
        sent,
        [Packet::Disconnect(Disconnect::default())],
        "MQTT-3.14.4-3: a normal DISCONNECT (0x00), so the broker drops the will"
    );
    let tail: Vec<&str> = w
        .log
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(tail, [format!("send {socket}"), format!("close {socket}")]);
    assert!(w.sockets[&socket].closed);
    assert_eq!(w.events.last(), Some(&ClientEvent::Ended));
}

#[test]
fn a_forced_end_closes_at_once_and_a_busy_end_gives_up_waiting_at_its_timeout() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    let socket = w.connect();
    w.publish("t", "unacked", QoS::AtLeastOnce);
    w.take(socket);
    w.end(false, 2_000);
    w.advance(1_999);
    assert!(!w.sockets[&socket].closed);
    w.advance(1);
    assert_eq!(w.take(socket), [Packet::Disconnect(Disconnect::default())]);
    assert!(w.sockets[&socket].closed);

    let mut w = World::new(client_config(&[A]));
    w.start();
    let socket = w.connect();
    w.publish("t", "unacked", QoS::AtLeastOnce);
    w.take(socket);
    w.end(true, 2_000);
    assert!(
        w.take(socket).is_empty(),
        "forced: no DISCONNECT, so the broker publishes the will (MQTT-3.1.2-8)"
    );
    assert!(w.sockets[&socket].closed);
    assert_eq!(w.events.last(), Some(&ClientEvent::Ended));
    assert!(
        w.client.publish(w.now, Default::default()).is_err(),
        "nothing after the end"
    );
}

#[test]
fn an_end_that_asks_for_the_will_says_so_in_its_disconnect() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    let socket = w.connect();
    let options = EndOptions {
        force: false,
        timeout_ms: 1_000,
        publish_will: true,
    };
    w.client.end(w.now, options);
    w.settle();
    let sent = w.take(socket);
    assert!(
        matches!(&sent[..], [Packet::Disconnect(d)] if d.reason_code == reason::DISCONNECT_WITH_WILL_MESSAGE),
        "MQTT 5 section 3.14.2.1: DISCONNECT 0x04, got {sent:?}"
    );
}

fn overdue(w: &World) -> Vec<(String, String)> {
    w.events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::ConnectOverdue(error) => {
                Some((error.code.to_string(), error.message.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_dead_endpoint_makes_the_first_connection_overdue_at_the_connect_timeout_with_the_last_failure()
{
    let mut w = World::new(client_config(&[A]));
    w.endpoints.insert(A.into(), Endpoint::Dead);
    w.start();
    w.answer_probes();
    w.advance(2_999);
    assert!(overdue(&w).is_empty(), "not before the connect timeout");
    w.advance(1);
    let told = overdue(&w);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].0, "CONNECTION_FAILED", "the last failure's code");
    assert!(
        told[0].1.starts_with("not connected within the connect timeout (3000 ms): could not open the WebSocket to ws://a.example/mqtt"),
        "{}",
        told[0].1
    );
    let attempts = w.sockets.len();
    w.advance(10_000);
    assert!(w.sockets.len() > attempts, "attempts go on");
    assert_eq!(overdue(&w).len(), 1, "told once");
}

#[test]
fn a_silent_endpoint_makes_the_first_connection_overdue_with_connect_timeout() {
    let mut w = World::new(client_config(&[A]));
    w.endpoints.insert(A.into(), Endpoint::Silent);
    w.start();
    w.advance(3_000);
    let told = overdue(&w);
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].0, "CONNECT_TIMEOUT");
    assert!(
        told[0]
            .1
            .contains("no answer from ws://a.example/mqtt within the connect timeout (3000 ms)"),
        "{}",
        told[0].1
    );
}

#[test]
fn a_connection_up_in_time_is_never_overdue() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    w.connect();
    w.advance(60_000);
    assert!(overdue(&w).is_empty());
}

#[test]
fn without_reconnect_a_failed_first_attempt_is_fatal_with_its_own_code() {
    let mut config = client_config(&[A]);
    config.reconnect = None;
    let mut w = World::new(config);
    w.endpoints.insert(A.into(), Endpoint::Dead);
    w.start();
    w.answer_probes();
    assert_eq!(
        w.errors(),
        [
            ("CONNECTION_FAILED".to_string(), false),
            ("CONNECTION_FAILED".to_string(), true)
        ],
        "the attempt's failure, then the same code as the fatal end (not CONNECTION_LOST)"
    );
    w.advance(60_000);
    assert_eq!(w.sockets.len(), 1);
    assert!(overdue(&w).is_empty(), "stopped: nothing is overdue");
}

#[test]
fn a_burst_of_publishes_in_one_task_leaves_as_one_message_and_a_large_one_leaves_at_once() {
    let mut w = World::memory(client_config(&[A]));
    w.start();
    let socket = w.connect();
    let before = w.sockets[&socket].messages;
    for i in 0..50 {
        w.client
            .publish(
                w.now,
                harness::publish_request("t", &format!("m{i}"), QoS::AtMostOnce),
            )
            .expect("publish");
    }
    assert!(w.client.has_unflushed(), "gathered until the task ends");
    w.settle(); // the host's task ends: one flush
    assert_eq!(
        w.sockets[&socket].messages - before,
        1,
        "MQTT-6.0.0-2: one WebSocket message"
    );
    assert_eq!(
        harness::publishes(&w.take(socket)).len(),
        50,
        "every packet, in order"
    );

    let big = "x".repeat(40 * 1024);
    w.client
        .publish(w.now, harness::publish_request("t", &big, QoS::AtMostOnce))
        .expect("publish");
    assert!(w.client.has_unflushed());
    w.client
        .publish(w.now, harness::publish_request("t", &big, QoS::AtMostOnce))
        .expect("publish");
    assert!(
        matches!(w.client.poll_socket(), Some(SocketAction::Send { bytes, .. }) if bytes.len() >= FLUSH_AT_BYTES),
        "past {FLUSH_AT_BYTES} bytes the batch leaves without waiting for the task's end"
    );
}

#[test]
fn a_session_taken_over_by_another_client_stops_this_one_instead_of_taking_it_back() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    let socket = w.connect();
    let taken = Disconnect {
        reason_code: reason::SESSION_TAKEN_OVER,
        properties: Properties::default(),
    };
    w.deliver(socket, &[Packet::Disconnect(taken)]);
    assert_eq!(
        w.errors(),
        [("SESSION_TAKEN_OVER".to_string(), true)],
        "MQTT-3.1.4-3: said once, fatal"
    );
    w.advance(60_000);
    assert_eq!(
        w.sockets.len(),
        1,
        "no reconnect: it would take the session back, in a loop"
    );
    // Another reason from the broker is reconnected.
    let mut w = World::new(client_config(&[A]));
    w.start();
    let socket = w.connect();
    let busy = Disconnect {
        reason_code: reason::SERVER_BUSY,
        properties: Properties::default(),
    };
    w.deliver(socket, &[Packet::Disconnect(busy)]);
    w.advance(100);
    assert_eq!(w.sockets.len(), 2);
}

#[test]
fn an_unanswered_ping_ends_the_connection_and_the_client_reconnects() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    let socket = w.connect();
    w.advance(10_000); // keepalive 10 s with nothing sent
    assert_eq!(w.take(socket), [Packet::PingReq], "MQTT-3.1.2-22");
    w.advance(30_000); // no PINGRESP
    let closed = w.events.iter().find_map(|e| match e {
        ClientEvent::Closed { reason } => Some(lost_reason_text(*reason)),
        _ => None,
    });
    assert_eq!(closed, Some("keepalive timeout"));
    assert!(w.sockets[&socket].closed);
    assert!(w.sockets.len() >= 2, "a new attempt followed");
}

#[test]
fn going_offline_mid_attempt_gives_it_up_and_online_tries_again_at_once() {
    let mut w = World::new(client_config(&[A]));
    w.endpoints.insert(A.into(), Endpoint::Silent);
    w.start();
    w.client.handle_online(w.now, false);
    w.settle();
    assert!(
        w.sockets[&1].closed,
        "an attempt while offline cannot succeed"
    );
    assert!(w.events.contains(&ClientEvent::Offline));
    w.endpoints.insert(A.into(), Endpoint::Broker);
    w.client.handle_online(w.now + 10, true);
    w.settle();
    assert_eq!(w.sockets.len(), 2, "no backoff wait once back online");
    w.connect();
    assert!(w.client.is_connected());
}

#[test]
fn a_permanent_refusal_at_one_url_does_not_go_on_to_the_next() {
    let mut w = World::new(client_config(&[A, B]));
    w.start();
    w.connack(reason::NOT_AUTHORIZED, Properties::default());
    assert_eq!(w.errors(), [("NOT_AUTHORIZED".to_string(), true)]);
    w.advance(60_000);
    assert_eq!(
        w.sockets.len(),
        1,
        "the same login would be refused at B too"
    );
}

#[test]
fn after_max_attempts_failed_reconnects_in_a_row_the_client_gives_up_naming_the_last_failure() {
    let mut config = client_config(&[A]);
    config.reconnect = config
        .reconnect
        .map(|backoff| wasmqtt::client::reconnect::BackoffConfig {
            max_attempts: 3,
            ..backoff
        });
    let mut w = World::new(config);
    w.start();
    w.connect();
    w.endpoints.insert(A.into(), Endpoint::Dead);
    w.drop_socket(1);
    w.answer_probes();
    w.advance(60_000);
    assert_eq!(
        w.sockets.len(),
        4,
        "the connection, then three reconnect attempts"
    );
    let (code, fatal) = w.errors().last().cloned().unwrap();
    assert_eq!((code.as_str(), fatal), ("RECONNECT_GAVE_UP", true));
    let message = w.events.iter().rev().find_map(|e| match e {
        ClientEvent::Error(error) => Some(error.message.clone()),
        _ => None,
    });
    assert!(
        message
            .unwrap()
            .contains("the last failure: CONNECTION_FAILED"),
        "names the last cause"
    );
}

#[test]
fn a_broker_that_breaks_the_protocol_gets_disconnect_with_the_reason_and_the_page_one_error() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    let socket = w.connect();
    let mut publish = harness::inbound("t", "m", QoS::AtMostOnce, None);
    // MQTT-3.2.2-17: above the Topic Alias Maximum the client sent (none: 0).
    publish.properties.topic_alias = Some(5);
    w.deliver(socket, &[Packet::Publish(publish)]);
    let sent = w.take(socket);
    assert!(
        matches!(sent.last(), Some(Packet::Disconnect(d)) if d.reason_code == reason::TOPIC_ALIAS_INVALID),
        "DISCONNECT with the reason, got {sent:?}"
    );
    assert_eq!(
        w.errors(),
        [("TOPIC_ALIAS_INVALID".to_string(), false)],
        "one error"
    );
    assert!(w.sockets[&socket].closed);
}

// --- server redirect (MQTT 5.0 section 4.11) ---------------------------------------------------

const C: &str = "wss://c.example:8884/mqtt";

fn reference(to: &str) -> Properties {
    Properties {
        server_reference: Some(to.into()),
        ..Properties::default()
    }
}

fn redirects(w: &World) -> Vec<(String, String, u8, bool)> {
    w.events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Redirect(r) => {
                Some((r.from.clone(), r.to.clone(), r.reason_code, r.permanent))
            }
            _ => None,
        })
        .collect()
}

fn opened_urls(w: &World) -> Vec<String> {
    w.sockets.values().map(|s| s.url.clone()).collect()
}

fn storage_name(w: &World) -> String {
    wasmqtt::session::storage_name(w.client.store_url(), &w.config.session.client_id)
}

#[test]
fn connack_use_another_server_is_followed_at_once_for_this_connection_only() {
    let mut w = World::new(client_config(&[A]));
    w.endpoints.insert(C.into(), Endpoint::Broker);
    let name = storage_name(&w);
    w.start();
    // 3.2.2.3.16: CONNACK 0x9C with a Server Reference naming a WebSocket URL.
    w.connack(reason::USE_ANOTHER_SERVER, reference(C));
    assert_eq!(
        redirects(&w),
        [(A.into(), C.into(), reason::USE_ANOTHER_SERVER, false)]
    );
    assert_eq!(opened_urls(&w), [A, C], "opened at once, no backoff");
    assert!(
        w.errors().is_empty(),
        "a followed redirect is no failure: {:?}",
        w.errors()
    );
    w.connect();
    assert!(w.client.is_connected());
    assert_eq!(
        storage_name(&w),
        name,
        "the session stays under the configured URL's name"
    );
    assert_eq!(w.client.store_url(), A);
    // 0x9C is temporary: after this connection is lost, the next attempt goes to A again.
    let socket = w.live();
    w.drop_socket(socket);
    w.advance(100);
    assert_eq!(opened_urls(&w), [A, C, A]);
}

#[test]
fn server_moved_replaces_the_configured_url_but_not_the_store_name() {
    let mut w = World::new(client_config(&[A]));
    w.endpoints.insert(C.into(), Endpoint::Broker);
    let name = storage_name(&w);
    w.start();
    w.connack(reason::SERVER_MOVED, reference(C));
    assert_eq!(
        redirects(&w),
        [(A.into(), C.into(), reason::SERVER_MOVED, true)]
    );
    w.connect();
    let socket = w.live();
    w.drop_socket(socket);
    w.advance(100);
    assert_eq!(
        opened_urls(&w),
        [A, C, C],
        "0x9D: the rest of this client's life at C"
    );
    assert!(w
        .events
        .iter()
        .any(|e| matches!(e, ClientEvent::Reconnecting { url, .. } if url == C)));
    assert_eq!(storage_name(&w), name);
}

#[test]
fn disconnect_use_another_server_reconnects_there_at_once() {
    let mut w = World::new(client_config(&[A]));
    w.endpoints.insert(C.into(), Endpoint::Broker);
    w.start();
    let socket = w.connect();
    let moved = Disconnect {
        reason_code: reason::USE_ANOTHER_SERVER,
        properties: reference(C),
    };
    w.deliver(socket, &[Packet::Disconnect(moved)]);
    assert!(w.sockets[&socket].closed);
    assert_eq!(opened_urls(&w), [A, C], "no backoff wait");
    assert_eq!(
        redirects(&w),
        [(A.into(), C.into(), reason::USE_ANOTHER_SERVER, false)]
    );
    assert!(w.delays().is_empty());
    w.connect();
    assert!(w.client.is_connected());
}

#[test]
fn a_redirect_back_to_a_url_of_the_chain_is_not_followed() {
    let mut w = World::new(client_config(&[A]));
    w.endpoints.insert(B.into(), Endpoint::Broker);
    w.start();
    w.connack(reason::USE_ANOTHER_SERVER, reference(B));
    // B sends the client back to A: a loop.
    w.connack(reason::USE_ANOTHER_SERVER, reference(A));
    assert_eq!(redirects(&w).len(), 1);
    assert_eq!(opened_urls(&w), [A, B]);
    assert_eq!(
        w.errors(),
        [
            ("REDIRECT_NOT_FOLLOWED".to_string(), false),
            ("USE_ANOTHER_SERVER".to_string(), false)
        ],
        "reported, then handled as the transient refusal it is"
    );
    assert_eq!(w.delays(), [100], "the next attempt waits out the backoff");
}

#[test]
fn at_most_max_hops_redirects_per_attempt() {
    let hops: Vec<String> = (1..=5)
        .map(|n| format!("ws://hop{n}.example/mqtt"))
        .collect();
    let mut w = World::new(client_config(&[A]));
    for hop in &hops {
        w.endpoints.insert(hop.clone(), Endpoint::Broker);
    }
    w.start();
    // A, then each hop, sends the client on: the fourth redirect is one too many.
    for hop in &hops[..4] {
        w.connack(reason::USE_ANOTHER_SERVER, reference(hop));
    }
    assert_eq!(redirects(&w).len(), 3, "the default cap");
    assert_eq!(opened_urls(&w), [A, &hops[0], &hops[1], &hops[2]]);
    assert_eq!(w.errors()[0].0, "REDIRECT_NOT_FOLLOWED");
}

#[test]
fn only_websocket_urls_are_followed_and_the_rest_reported() {
    // The reference format is not fixed (4.11): host:port forms are skipped for a ws:// one.
    let mut w = World::new(client_config(&[A]));
    w.endpoints.insert(C.into(), Endpoint::Broker);
    w.start();
    w.connack(
        reason::USE_ANOTHER_SERVER,
        reference(&format!("c.example:1883 [fe80::1]:8883 {C}")),
    );
    assert_eq!(redirects(&w)[0].1, C);
    // Nothing a browser can open: not followed, said so.
    let mut w = World::new(client_config(&[A]));
    w.start();
    w.connack(
        reason::SERVER_MOVED,
        reference("c.example:1883 mqtts://c.example"),
    );
    assert!(redirects(&w).is_empty());
    assert_eq!(opened_urls(&w), [A]);
    assert_eq!(w.errors()[0].0, "REDIRECT_NOT_FOLLOWED");
    w.advance(100);
    assert_eq!(opened_urls(&w), [A, A], "A stays the URL: nothing moved");
}

#[test]
fn with_follow_redirects_off_the_reference_is_reported_and_the_refusal_retried_in_place() {
    let mut config = client_config(&[A]);
    config.redirects.follow = false;
    let mut w = World::new(config);
    w.endpoints.insert(C.into(), Endpoint::Broker);
    w.start();
    w.connack(reason::SERVER_MOVED, reference(C));
    assert!(redirects(&w).is_empty());
    let errors = w.errors();
    assert_eq!(errors[0].0, "REDIRECT_NOT_FOLLOWED");
    assert_eq!(errors[1].0, "SERVER_MOVED");
    w.advance(100);
    assert_eq!(opened_urls(&w), [A, A]);
}

// --- a URL and credentials computed for each attempt (MQTT.js transformWsUrl) ---------------

fn signed(sig: u32, token: &str) -> AttemptSetup {
    AttemptSetup {
        url: Some(format!("{A}?X-Amz-Signature={sig}")),
        username: Some("device".into()),
        password: Some(token.as_bytes().to_vec().into()),
    }
}

fn connect_packet(w: &mut World, socket: u32) -> codec::Connect {
    match w.take(socket).into_iter().next() {
        Some(Packet::Connect(connect)) => *connect,
        other => panic!("MQTT-3.1.0-1: CONNECT first, got {other:?}"),
    }
}

fn preparing_config() -> wasmqtt::client::ClientConfig {
    let mut config = client_config(&[A]);
    config.prepare_attempts = true;
    config
}

#[test]
fn each_attempt_opens_the_url_and_sends_the_credentials_computed_for_it_and_stores_neither() {
    let mut w = World::new(preparing_config());
    w.start();
    assert!(w.log.is_empty(), "no socket before the setup is answered");
    let first = w.attempts.remove(0);
    assert_eq!(
        first.url, A,
        "the application is asked with the configured URL"
    );
    w.answer_attempt(&first, Ok(signed(1, "token-one")));
    let socket = w.last_socket();
    assert_eq!(w.sockets[&socket].url, format!("{A}?X-Amz-Signature=1"));
    let connect = connect_packet(&mut w, socket);
    assert_eq!(connect.username.as_deref(), Some("device"));
    assert_eq!(connect.password.as_deref(), Some(&b"token-one"[..]));
    w.publish("t", "kept", QoS::AtLeastOnce);
    w.drop_socket(socket);
    w.advance(100);
    let second = w.attempts.remove(0);
    assert_eq!(
        second.url, A,
        "asked again, with the configured URL, for the next attempt"
    );
    w.answer_attempt(&second, Ok(signed(2, "token-two")));
    let socket = w.last_socket();
    assert_eq!(w.sockets[&socket].url, format!("{A}?X-Amz-Signature=2"));
    assert_eq!(
        connect_packet(&mut w, socket).password.as_deref(),
        Some(&b"token-two"[..])
    );
    let stored = w.store.as_ref().unwrap().records().clone();
    assert!(
        !stored.is_empty(),
        "the session (its queued message) is stored"
    );
    for (key, value) in &stored {
        for secret in ["X-Amz-Signature", "token-one", "token-two"] {
            let value = String::from_utf8_lossy(value);
            assert!(
                !key.contains(secret) && !value.contains(secret),
                "{secret} in the store"
            );
        }
    }
}

#[test]
fn what_the_setup_leaves_out_stays_as_configured() {
    let mut config = preparing_config();
    config.session.username = Some("configured".into());
    config.session.password = Some(b"configured-password".to_vec().into());
    let mut w = World::new(config);
    w.start();
    let request = w.attempts.remove(0);
    w.answer_attempt(&request, Ok(AttemptSetup::default()));
    let socket = w.last_socket();
    assert_eq!(w.sockets[&socket].url, A);
    let connect = connect_packet(&mut w, socket);
    assert_eq!(connect.username.as_deref(), Some("configured"));
    assert_eq!(
        connect.password.as_deref(),
        Some(&b"configured-password"[..])
    );
}

#[test]
fn a_setup_that_failed_fails_its_attempt_with_a_typed_error_and_the_next_follows_the_backoff() {
    let mut w = World::new(preparing_config());
    w.start();
    let request = w.attempts.remove(0);
    w.answer_attempt(&request, Err("transformWsUrl threw: no token".into()));
    assert_eq!(w.errors(), [("ATTEMPT_SETUP_FAILED".to_string(), false)]);
    assert!(w.log.is_empty(), "no socket for that attempt");
    assert_eq!(w.delays(), [100], "the next attempt after the backoff");
    w.advance(99);
    assert!(w.attempts.is_empty());
    w.advance(1);
    let request = w.attempts.remove(0);
    // A bad user name (U+0000 is not allowed in an MQTT string, MQTT-1.5.4-2) fails it too.
    let bad = AttemptSetup {
        username: Some("a\0b".into()),
        ..AttemptSetup::default()
    };
    w.answer_attempt(&request, Ok(bad));
    let last = w.errors().pop().unwrap();
    assert_eq!(last, ("ATTEMPT_SETUP_FAILED".to_string(), false));
    assert_eq!(w.delays(), [100, 200]);
    w.advance(200);
    let request = w.attempts.remove(0);
    w.answer_attempt(&request, Ok(signed(3, "t")));
    w.connect();
    assert!(w.client.is_connected());
}

#[test]
fn a_setup_not_answered_within_the_connect_timeout_times_the_attempt_out_and_a_late_answer_is_ignored(
) {
    let mut w = World::new(preparing_config());
    w.start();
    let late = w.attempts.remove(0);
    w.advance(3_000);
    assert!(
        w.errors().iter().any(|(code, _)| code == "CONNECT_TIMEOUT"),
        "the setup counts against the connect timeout: {:?}",
        w.errors()
    );
    assert_eq!(w.delays(), [100]);
    w.answer_attempt(&late, Ok(signed(1, "late")));
    assert!(
        w.log.is_empty(),
        "the timed-out attempt's answer opens nothing"
    );
    w.advance(100);
    let request = w.attempts.remove(0);
    assert_ne!(request.id, late.id);
    w.answer_attempt(&request, Ok(signed(2, "fresh")));
    assert_eq!(
        connect_packet(&mut w, 1).password.as_deref(),
        Some(&b"fresh"[..])
    );
}

// --- reconnect() ---------------------------------------------------------------------------

#[test]
fn reconnect_ends_the_connection_with_disconnect_and_opens_a_new_one_at_once_keeping_the_session() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    let first = w.connect();
    let token = w.publish("t", "in flight", QoS::AtLeastOnce);
    w.take(first);
    w.client
        .reconnect(w.now)
        .expect("reconnect while connected");
    w.settle();
    let last = w.sockets[&first].received.last().cloned();
    assert!(
        matches!(
            last,
            Some(Packet::Disconnect(Disconnect { reason_code: 0, .. }))
        ),
        "DISCONNECT 0x00 (the will is discarded), then close: {last:?}"
    );
    assert!(w.sockets[&first].closed);
    let second = w.last_socket();
    assert_eq!(second, 2, "a new socket at once, without waiting");
    assert!(w
        .events
        .iter()
        .any(|e| matches!(e, ClientEvent::Reconnecting { delay_ms: 0, .. })));
    assert!(w.events.iter().any(|e| matches!(
        e,
        ClientEvent::Closed { reason } if lost_reason_text(*reason) == "reconnect requested"
    )));
    let connect = connect_packet(&mut w, second);
    assert!(!connect.clean_start, "the session is kept");
    w.deliver(
        second,
        &[Packet::ConnAck(codec::ConnAck {
            session_present: true,
            code: 0,
            properties: Properties::default(),
        })],
    );
    let resent = w.take(second);
    assert!(
        resent
            .iter()
            .any(|p| matches!(p, Packet::Publish(p) if p.dup && p.qos == QoS::AtLeastOnce)),
        "the unacknowledged QoS 1 message is resent (MQTT-4.4.0-1): {resent:?}"
    );
    assert_eq!(w.outcome(token), None, "still waiting for its PUBACK");
    assert!(w.errors().is_empty(), "{:?}", w.errors());
}

#[test]
fn reconnect_skips_the_backoff_wait_and_starts_again_after_the_client_gave_up() {
    let mut config = client_config(&[A]);
    config.reconnect.as_mut().unwrap().max_attempts = 1;
    let mut w = World::new(config);
    w.endpoints.insert(A.into(), Endpoint::Dead);
    w.start();
    w.answer_probes();
    assert_eq!(w.delays(), [100]);
    w.client.reconnect(w.now).unwrap();
    w.settle();
    assert_eq!(w.log, ["open 1", "close 1", "open 2", "close 2"], "no wait");
    w.answer_probes();
    w.advance(10_000);
    assert!(
        w.errors()
            .iter()
            .any(|(code, fatal)| code == "RECONNECT_GAVE_UP" && *fatal),
        "{:?}",
        w.errors()
    );
    let opened = w.log.iter().filter(|l| l.starts_with("open")).count();
    w.endpoints.insert(A.into(), Endpoint::Broker);
    w.client
        .reconnect(w.now)
        .expect("a client that gave up starts again");
    w.settle();
    assert_eq!(
        w.log.iter().filter(|l| l.starts_with("open")).count(),
        opened + 1
    );
    w.connect();
    assert!(w.client.is_connected());
}

#[test]
fn reconnect_after_end_is_refused_as_ended() {
    let mut w = World::new(client_config(&[A]));
    w.start();
    w.connect();
    w.end(false, 1_000);
    assert_eq!(
        w.client.reconnect(w.now),
        Err(wasmqtt::session::CommandError::Ended)
    );
    assert_eq!(w.last_socket(), 1, "no new socket");
}
