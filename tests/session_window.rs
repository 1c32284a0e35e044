//! The adaptive in-flight window (issue #18.2) over a simulated path: a bottleneck that serves
//! one message per `service_ms` behind a fixed delay, as a slow link or a slow broker would.
//! Fixed: every message is put on the path at once and waits in its buffer; adaptive: the
//! window follows the acknowledgements' latency, so the path's queue stays short and the
//! throughput the same. The rule itself is unit-tested in src/session/window.rs.
#![cfg(not(target_arch = "wasm32"))] // host-only

#[path = "common/session_harness.rs"]
mod harness;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use harness::*;
use wasmqtt::codec::{Packet, ProtocolVersion, QoS};
use wasmqtt::session::Event;

struct Run {
    /// When the last message was acknowledged, from the first publish.
    finished_ms: u64,
    /// Acknowledgement latencies, sorted: what anything sharing the path waits too.
    latencies: Vec<u64>,
    /// The window as the last acknowledgement left it.
    window: usize,
}

impl Run {
    fn p99(&self) -> u64 {
        self.latencies[self.latencies.len() * 99 / 100]
    }
}

fn run(adaptive: bool, count: usize, service_ms: u64, delay_ms: u64) -> Run {
    let mut config = config(ProtocolVersion::V5);
    config.adaptive_window = adaptive;
    config.max_inflight = 1_000;
    config.queue_max_messages = count;
    let mut h = Harness::new(config);
    h.connect();
    let start = h.now;
    for i in 0..count {
        h.publish("w", &i.to_string(), QoS::AtLeastOnce);
    }
    let mut acks = BinaryHeap::new();
    let mut sent_at = HashMap::new();
    let mut path_free = h.now;
    let mut latencies = Vec::new();
    let mut done = 0;
    while done < count {
        h.commit();
        for packet in h.sent() {
            match packet {
                Packet::Publish(p) => {
                    let id = p.packet_id.expect("QoS 1");
                    path_free = path_free.max(h.now) + service_ms;
                    acks.push(Reverse((path_free + delay_ms, id)));
                    sent_at.insert(id, h.now);
                }
                Packet::PingReq => h.receive(Packet::PingResp),
                _ => {}
            }
        }
        let Reverse((at, id)) = acks.pop().expect("something is in flight");
        h.advance(at - h.now);
        latencies.push(h.now - sent_at.remove(&id).unwrap());
        h.receive(Packet::PubAck(ack(id)));
        h.commit();
        done += h
            .events()
            .iter()
            .filter(|e| matches!(e, Event::Published { .. }))
            .count();
    }
    latencies.sort_unstable();
    Run {
        finished_ms: h.now - start,
        latencies,
        window: h.session.metrics().window,
    }
}

#[test]
fn behind_a_bottleneck_the_adaptive_window_keeps_the_path_queue_short_at_the_same_throughput() {
    // 3,000 messages through a path serving one per 2 ms behind 20 ms: 6 s of work.
    let fixed = run(false, 3_000, 2, 20);
    let adaptive = run(true, 3_000, 2, 20);
    eprintln!(
        "fixed: {} ms, p99 ack latency {} ms, window {}; adaptive: {} ms, p99 {} ms, window {}",
        fixed.finished_ms,
        fixed.p99(),
        fixed.window,
        adaptive.finished_ms,
        adaptive.p99(),
        adaptive.window
    );
    assert_eq!(fixed.window, 1_000);
    assert!(fixed.p99() > 1_500, "the fixed window queues on the path");
    assert!(
        // Its p99 is slow start's overshoot, before the first decrease.
        adaptive.p99() * 5 < fixed.p99(),
        "adaptive p99 {} ms vs fixed {} ms",
        adaptive.p99(),
        fixed.p99()
    );
    assert!(
        adaptive.finished_ms * 100 <= fixed.finished_ms * 103,
        "throughput kept: {} ms vs {} ms",
        adaptive.finished_ms,
        fixed.finished_ms
    );
}

#[test]
fn on_a_fast_path_the_adaptive_window_reaches_its_cap() {
    // No bottleneck, 20 ms each way: latency never rises, so nothing holds the window back.
    let fixed = run(false, 5_000, 0, 40);
    let adaptive = run(true, 5_000, 0, 40);
    assert_eq!(adaptive.window, 1_000, "min(maxInflight, Receive Maximum)");
    // Slow start: 16 doubles to 1,000 in 6 rounds, each two latencies long (one to see the
    // messages sent under the new window come back, one to sample them).
    let slow_start_ms = 7 * 2 * 40;
    assert!(
        adaptive.finished_ms <= fixed.finished_ms + slow_start_ms,
        "only slow start's rounds: {} ms vs {} ms",
        adaptive.finished_ms,
        fixed.finished_ms
    );
}

#[test]
fn latency_counts_from_when_the_task_flushed_not_from_the_call() {
    // A page publishes in a long task: its packets leave at the task's end, 500 ms after the
    // calls. Were latency counted from the calls, the first round would put the base at 520 ms
    // and a 300 ms queue later would look fast.
    let mut config = config(ProtocolVersion::V5);
    config.adaptive_window = true;
    let mut h = Harness::new(config);
    h.connect();
    let mut sent_ids = Vec::new();
    for i in 0..400 {
        h.publish("w", &i.to_string(), QoS::AtLeastOnce);
    }
    let mut flushed_at = h.now + 500;
    h.commit();
    sent_ids.extend(publish_ids(&h.sent()));
    h.advance(500);
    h.session.handle_flushed(h.now);
    let mut latency = 20;
    for _ in 0..40 {
        // Every message in flight is acknowledged `latency` after it left.
        h.advance(flushed_at + latency - h.now);
        for id in std::mem::take(&mut sent_ids) {
            h.receive(Packet::PubAck(ack(id)));
        }
        h.commit();
        sent_ids.extend(publish_ids(&h.sent()));
        h.session.handle_flushed(h.now);
        flushed_at = h.now;
        latency = 300; // from the second round on, a queue
    }
    assert!(
        h.session.metrics().window < 16,
        "base 20 ms: a 300 ms queue shrinks the window, to {}",
        h.session.metrics().window
    );
}
