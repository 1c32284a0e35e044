//! The cost of one call as the queue grows (issue #15.4): `npm run bench:queue`, or
//! `cargo run --release --example queue_cost -- [max queued, default 1000000]`.
//!
//! What a page does for each `publish()` while offline: the call, then draining the store
//! writes and asking for the next deadline (the driver's pump). QoS 1 messages with a message
//! expiry interval, so the expiry index is exercised too. Then, connected with a window of 100,
//! the cost of each PUBACK (which sends the next queued message) with the queue full. Prints the
//! mean per call over a batch of 10,000 ending at each size: flat means constant cost per call.
//! Figures, not assertions: timing targets live in benchmarks.
#![cfg(not(target_arch = "wasm32"))]

use std::time::Instant;

use bytes::Bytes;
use wasmqtt::codec::{Ack, ConnAck, Packet, Properties, ProtocolVersion, QoS};
use wasmqtt::session::{Config, PublishRequest, Session};

const BATCH: usize = 10_000;

/// The host's part of each call: store writes committed at once, the deadline asked for.
fn pump(session: &mut Session, now: u64) {
    let mut last = None;
    while let Some(op) = session.poll_store() {
        last = Some(op.seq);
    }
    if let Some(seq) = last {
        session.handle_store_committed(now, seq);
    }
    while session.poll_packet().is_some() {}
    while session.poll_event().is_some() {}
    std::hint::black_box(session.poll_timeout());
}

fn main() {
    let max: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let mut config = Config::new(ProtocolVersion::V5, "queue-cost");
    config.queue_max_messages = max + BATCH;
    config.queue_max_bytes = usize::MAX;
    config.max_inflight = 100;
    let mut session = Session::new(config);
    let request = PublishRequest {
        topic: "bench/queue".into(),
        payload: Bytes::from_static(b"0123456789abcdef"),
        qos: QoS::AtLeastOnce,
        properties: Properties {
            message_expiry_interval: Some(86_400),
            ..Properties::default()
        },
        ..PublishRequest::default()
    };
    let report_at: Vec<usize> = [10_000, 100_000, 1_000_000]
        .into_iter()
        .filter(|n| *n <= max)
        .collect();
    println!("publish() while offline, mean per call over the last {BATCH}:");
    let mut now = 1_000;
    let mut queued = 0;
    for &target in &report_at {
        while queued + BATCH < target {
            session.publish(now, request.clone()).expect("room");
            pump(&mut session, now);
            queued += 1;
        }
        let start = Instant::now();
        for _ in 0..BATCH {
            session.publish(now, request.clone()).expect("room");
            pump(&mut session, now);
        }
        queued += BATCH;
        let per_call = start.elapsed().as_nanos() as f64 / BATCH as f64;
        println!("  {queued:>9} queued: {:>8.2} µs/call", per_call / 1000.0);
        now += 1;
    }

    // Connected: each PUBACK frees a slot of the window and the next message goes out.
    session.handle_transport_open(now);
    session.handle_packet(
        now,
        Packet::ConnAck(ConnAck {
            session_present: false,
            code: 0,
            properties: Properties::default(),
        }),
    );
    let mut in_flight: std::collections::VecDeque<u16> = Default::default();
    let drain = |session: &mut Session, in_flight: &mut std::collections::VecDeque<u16>| {
        while let Some(op) = session.poll_store() {
            session.handle_store_committed(now, op.seq);
        }
        while let Some(packet) = session.poll_packet() {
            if let Packet::Publish(p) = packet {
                in_flight.extend(p.packet_id);
            }
        }
        while session.poll_event().is_some() {}
        std::hint::black_box(session.poll_timeout());
    };
    drain(&mut session, &mut in_flight);
    let start = Instant::now();
    for _ in 0..BATCH {
        let id = in_flight.pop_front().expect("a message in flight");
        session.handle_packet(now, Packet::PubAck(Ack::new(id)));
        drain(&mut session, &mut in_flight);
    }
    let per_ack = start.elapsed().as_nanos() as f64 / BATCH as f64;
    println!(
        "PUBACK, next sent, with {} queued: {:>8.2} µs/packet",
        session.metrics().queued,
        per_ack / 1000.0
    );
}
