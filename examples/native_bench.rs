//! The native reference for `npm run bench`: the same Rust session and codec the browser client
//! runs, driven over plain TCP (std::net) instead of WebSocket + wasm, so the benchmark can say
//! what fraction of the broker's own throughput the browser reaches.
//!
//! `cargo run --release --example native_bench -- <host:port> <qos> <payload bytes> <count> <window> [protocol 4|5]`
//!
//! A subscriber and a publisher connection run on two threads. The publisher keeps at most
//! `window` publishes unacknowledged (as the browser pages do) and the subscriber counts what
//! arrives. Prints one JSON line: the rate from the first publish to the last delivery.
//! The session's store writes are committed at once (in-memory state, as `persistence: 'memory'`).
#![cfg(not(target_arch = "wasm32"))]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use wasmqtt::codec::{
    encode, Properties, ProtocolVersion, QoS, StreamDecoder, SubscriptionOptions,
};
use wasmqtt::session::{Config, Event, PublishRequest, Session};

const TOPIC: &str = "bench/native";

/// One client connection: the session, its socket and its decoder.
struct Conn {
    session: Session,
    socket: TcpStream,
    decoder: StreamDecoder,
    origin: Instant,
    out: Vec<u8>,
    buf: Vec<u8>,
}

impl Conn {
    fn open(addr: &str, protocol: ProtocolVersion, id: &str, origin: Instant) -> Conn {
        let socket = TcpStream::connect(addr).expect("connect to the broker");
        socket.set_nodelay(true).expect("TCP_NODELAY");
        let mut config = Config::new(protocol, id);
        config.persistent = false;
        let mut conn = Conn {
            session: Session::new(config),
            socket,
            decoder: StreamDecoder::new(protocol, 0),
            origin,
            out: Vec::with_capacity(64 * 1024),
            buf: vec![0; 256 * 1024],
        };
        let now = conn.now();
        conn.session.handle_transport_open(now);
        conn.flush();
        loop {
            // The first event is the CONNACK's answer; a read may bring no whole packet yet.
            match conn.read().into_iter().next() {
                Some(Event::Connected { .. }) => return conn,
                Some(other) => panic!("connecting: {other:?}"),
                None => {}
            }
        }
    }

    fn now(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }

    /// Commits store writes at once (in-memory state) and writes every ready packet in one go.
    fn flush(&mut self) {
        let mut last = None;
        while let Some(op) = self.session.poll_store() {
            last = Some(op.seq);
        }
        if let Some(seq) = last {
            let now = self.now();
            self.session.handle_store_committed(now, seq);
        }
        let version = self.session.protocol();
        while let Some(packet) = self.session.poll_packet() {
            encode(&packet, version, &mut self.out).expect("encodable packet");
        }
        if !self.out.is_empty() {
            self.socket
                .write_all(&self.out)
                .expect("write to the broker");
            self.out.clear();
        }
    }

    /// Blocks for some bytes, hands every whole packet to the session, answers, returns events.
    fn read(&mut self) -> Vec<Event> {
        let n = self
            .socket
            .read(&mut self.buf)
            .expect("read from the broker");
        assert!(n > 0, "the broker closed the connection");
        self.decoder.feed(&self.buf[..n]);
        let now = self.now();
        while let Some(packet) = self.decoder.next_packet().expect("a well-formed packet") {
            self.session.handle_packet(now, packet);
        }
        self.flush();
        std::iter::from_fn(|| self.session.poll_event()).collect()
    }
}

fn qos_of(n: u8) -> QoS {
    match n {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 5 {
        eprintln!("usage: native_bench <host:port> <qos> <payload bytes> <count> <window> [4|5]");
        std::process::exit(2);
    }
    let addr = args[0].clone();
    let qos: u8 = args[1].parse().expect("qos");
    let size: usize = args[2].parse().expect("payload bytes");
    let count: u64 = args[3].parse().expect("count");
    let window: u64 = args[4].parse().expect("window");
    let protocol = match args.get(5).map(String::as_str) {
        Some("4") => ProtocolVersion::V3_1_1,
        _ => ProtocolVersion::V5,
    };
    let origin = Instant::now();
    let suffix = std::process::id();

    // The subscriber connects and subscribes first, then signals the publisher to start.
    let (ready_tx, ready_rx) = mpsc::channel();
    let sub_addr = addr.clone();
    let subscriber = std::thread::spawn(move || {
        let mut conn = Conn::open(&sub_addr, protocol, &format!("native-sub-{suffix}"), origin);
        let options = SubscriptionOptions {
            qos: qos_of(qos),
            ..Default::default()
        };
        let now = conn.now();
        conn.session
            .subscribe(now, vec![(TOPIC.into(), options)], Properties::default())
            .expect("subscribe");
        conn.flush();
        'subscribed: loop {
            for event in conn.read() {
                if let Event::Subscribed { reason_codes, .. } = event {
                    assert!(reason_codes[0] < 0x80, "subscription refused");
                    break 'subscribed;
                }
            }
        }
        ready_tx.send(()).unwrap();
        let mut received = 0u64;
        while received < count {
            for event in conn.read() {
                if matches!(event, Event::Message { .. }) {
                    received += 1;
                }
            }
        }
        // Let the last acknowledgements leave before the connection drops.
        let now = conn.now();
        conn.session
            .disconnect(now, wasmqtt::session::Goodbye::Disconnect);
        conn.flush();
        origin.elapsed()
    });

    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("subscriber ready");
    let mut conn = Conn::open(&addr, protocol, &format!("native-pub-{suffix}"), origin);
    let payload = Bytes::from(vec![0x5a; size]);
    let started = origin.elapsed();
    let (mut sent, mut acked) = (0u64, 0u64);
    while acked < count {
        while sent < count && sent - acked < window {
            let now = conn.now();
            conn.session
                .publish(
                    now,
                    PublishRequest {
                        topic: TOPIC.into(),
                        payload: payload.clone(),
                        qos: qos_of(qos),
                        ..Default::default()
                    },
                )
                .expect("publish accepted");
            sent += 1;
        }
        conn.flush();
        // QoS 0 completes when handed to the socket: no read needed for it.
        let events: Vec<Event> = if qos == 0 {
            std::iter::from_fn(|| conn.session.poll_event()).collect()
        } else {
            conn.read()
        };
        acked += events
            .iter()
            .filter(|e| matches!(e, Event::Published { .. }))
            .count() as u64;
    }
    let published = origin.elapsed();
    let finished = subscriber.join().expect("subscriber thread");
    let seconds = (finished - started).as_secs_f64();
    println!(
        "{{\"qos\":{qos},\"size\":{size},\"count\":{count},\"seconds\":{seconds:.4},\"rate\":{:.1},\"publishSeconds\":{:.4}}}",
        count as f64 / seconds,
        (published - started).as_secs_f64()
    );
}
