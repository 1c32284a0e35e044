//! A simulated world for the whole client: sockets (open, fail with 1006, close, deliver bytes
//! split anywhere), a store (commit latency, failure, quota), probes, a manual clock and the
//! page lifecycle (a reload drops the client and builds a new one from what the store holds).
//! Each socket's far end is played by the test (or by `Broker`'s automatic answers).
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};

use crate::broker_model::Rng;
use wasmqtt::client::reconnect::BackoffConfig;
use wasmqtt::client::{
    AttemptRequest, AttemptSetup, Client, ClientConfig, ClientEvent, Completion, EndOptions,
    HandedFrom, JournalOp, Output, ProbeAnswer, ProbeRequest, SocketAction, StoreFailure, StoreJob,
};
use wasmqtt::codec::{
    self, Ack, ConnAck, Packet, Properties, ProtocolVersion, Publish, QoS, StreamDecoder, SubAck,
    UnsubAck,
};
use wasmqtt::session::Write;

/// Backoff without jitter: 100, 200, 400 ... up to 1 600 ms.
pub fn fixed_backoff() -> BackoffConfig {
    BackoffConfig {
        min_ms: 100,
        max_ms: 1_600,
        factor: 2.0,
        jitter: 0.0,
        stable_after_ms: 5_000,
        max_attempts: 0,
    }
}

/// MQTT 5, persistent session, one URL, connect timeout 3 s, fixed backoff.
pub fn client_config(urls: &[&str]) -> ClientConfig {
    let mut session = crate::harness::config(ProtocolVersion::V5);
    session.clean_start = false;
    session.persistent = true;
    session.connect_properties.session_expiry_interval = Some(3600);
    ClientConfig {
        session,
        urls: urls.iter().map(|u| u.to_string()).collect(),
        connect_timeout_ms: 3_000,
        reconnect: Some(fixed_backoff()),
        seed: 7,
        redirects: Default::default(),
        alerts: wasmqtt::client::default_alert_rules(),
        prepare_attempts: false,
    }
}

/// What a URL does with a socket and with a probe, when the world plays it automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// The handshake succeeds; the test plays the broker.
    Broker,
    /// The handshake fails (1006); nothing answers a probe.
    Dead,
    /// A WebSocket server that refuses `mqtt`: the handshake fails (1006), a probe finds it.
    NotMqtt,
    /// The handshake never completes.
    Silent,
}

pub struct SimSocket {
    pub url: String,
    pub opened: bool,
    pub closed: bool,
    /// Packets the client sent, decoded as the broker reads them.
    pub received: Vec<Packet>,
    /// How many not yet taken by `World::take`.
    taken: usize,
    /// WebSocket messages the client sent.
    pub messages: usize,
    decoder: StreamDecoder,
}

/// The durable store, as IndexedDB would hold it.
#[derive(Default)]
pub struct SimStore {
    /// Its entries (the client's batches, see `client::batches`).
    pub entries: BTreeMap<String, Vec<u8>>,
    /// How long a job takes.
    pub latency: u64,
    /// Fail this many of the next jobs (as a browser error).
    pub fail_next: u32,
    /// Fail any job that would leave more than this many bytes stored.
    pub quota: Option<usize>,
    /// The store cannot even be opened.
    pub unavailable: bool,
    running: Option<(u64, StoreJob)>,
    pub jobs_done: usize,
}

impl SimStore {
    /// The records it holds, as the next page reads them.
    pub fn records(&self) -> BTreeMap<String, Vec<u8>> {
        let entries = self.entries.clone().into_iter().collect();
        wasmqtt::client::store_records(entries)
            .into_iter()
            .collect()
    }

    fn size(records: &BTreeMap<String, Vec<u8>>) -> usize {
        records.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    /// Runs `job` as one transaction: all of it or nothing.
    fn apply(&mut self, job: StoreJob) -> Result<(), StoreFailure> {
        if self.fail_next > 0 {
            self.fail_next -= 1;
            return Err(StoreFailure {
                code: "STORE_FAILED",
                message: "IndexedDB failed: UnknownError: simulated".into(),
            });
        }
        let mut next = self.entries.clone();
        match job {
            StoreJob::Commit(writes) => {
                for write in writes {
                    match write {
                        Write::Put(key, value) => {
                            next.insert(key, value);
                        }
                        Write::Delete(key) => {
                            next.remove(&key);
                        }
                    }
                }
            }
            StoreJob::Replace(records) => next = records.into_iter().collect(),
        }
        if self.quota.is_some_and(|quota| Self::size(&next) > quota) {
            return Err(StoreFailure {
                code: "STORE_QUOTA_EXCEEDED",
                message: "IndexedDB storage quota exceeded".into(),
            });
        }
        self.entries = next;
        Ok(())
    }
}

/// The page's `localStorage` journal (see `client::journal`), by entry name (a chunk a task):
/// written at once, so it survives a reload whatever the store's transaction did.
#[derive(Default)]
pub struct SimJournal {
    pub entries: BTreeMap<String, Vec<u8>>,
    /// Refuse a write that would leave more than this many bytes (as a full `localStorage`).
    pub quota: Option<usize>,
    /// The most bytes it ever held.
    pub peak: usize,
}

impl SimJournal {
    /// The records it holds, as the next page reads them.
    pub fn records(&self) -> Vec<(String, Vec<u8>)> {
        wasmqtt::client::journal_records(self.entries.clone().into_iter().collect())
    }

    fn bytes(&self) -> usize {
        self.entries.iter().map(|(k, v)| k.len() + v.len()).sum()
    }
}

pub struct World {
    pub client: Client,
    pub now: u64,
    pub config: ClientConfig,
    pub endpoints: HashMap<String, Endpoint>,
    pub sockets: BTreeMap<u32, SimSocket>,
    /// None: the client runs in memory.
    pub store: Option<SimStore>,
    /// None: no journal (a Worker, which has no `localStorage`).
    pub journal: Option<SimJournal>,
    /// Every event so far, in order.
    pub events: Vec<ClientEvent>,
    /// Probes asked for and not answered.
    pub probes: Vec<ProbeRequest>,
    /// Attempt setups asked for and not answered (with `prepare_attempts`).
    pub attempts: Vec<AttemptRequest>,
    /// Socket actions in order, as `open N`, `send N`, `close N` (for ordering checks).
    pub log: Vec<String>,
    pub rng: Rng,
    /// How many pages (clients) this world has run.
    pub loads: u32,
    /// The records the last page that resumed the session found (store with the journal laid
    /// over it), as it went to load them.
    pub resumed_from: BTreeMap<String, Vec<u8>>,
}

impl World {
    /// A world where every URL is a `Broker` and the store is durable and instant.
    pub fn new(config: ClientConfig) -> World {
        let endpoints = config
            .urls
            .iter()
            .map(|u| (u.clone(), Endpoint::Broker))
            .collect();
        World {
            client: Client::new(config.clone()),
            now: 1_000,
            config,
            endpoints,
            sockets: BTreeMap::new(),
            store: Some(SimStore::default()),
            journal: Some(SimJournal::default()),
            events: Vec::new(),
            probes: Vec::new(),
            attempts: Vec::new(),
            log: Vec::new(),
            rng: Rng(0x9E37_79B9_7F4A_7C15),
            loads: 0,
            resumed_from: BTreeMap::new(),
        }
    }

    pub fn memory(config: ClientConfig) -> World {
        let mut world = World::new(config);
        world.store = None;
        world.journal = None;
        world
    }

    /// A world whose pages have no journal (as in a Worker).
    pub fn without_journal(config: ClientConfig) -> World {
        let mut world = World::new(config);
        world.journal = None;
        world
    }

    /// Loads the store (if any) and starts, as a page does.
    pub fn start(&mut self) {
        self.loads += 1;
        if let Some(store) = &self.store {
            if store.unavailable {
                let failure = StoreFailure {
                    code: "STORE_UNAVAILABLE",
                    message: "IndexedDB is not available: simulated".into(),
                };
                self.client.handle_store_unavailable(self.now, failure);
            } else {
                if let Some(journal) = &self.journal {
                    let entries = journal.entries.clone().into_iter().collect();
                    self.client.handle_journal_loaded(entries);
                }
                let records = store.entries.clone().into_iter().collect();
                self.client
                    .handle_store_loaded(self.now, records, Vec::new());
            }
        }
        self.client.handle_online(self.now, true);
        self.client.start(self.now);
        self.settle();
    }

    /// A page reload: the client goes without a word (no DISCONNECT, its sockets die with the
    /// page, a store job in flight either committed or not), and a new one starts from the store.
    /// As the browser layer does on `pagehide`, the received messages still waiting for their
    /// commit are handed to the new page (`Client::hand_over`, carried in sessionStorage); the
    /// new page's core delivers those whose receipt it loaded, once connected.
    pub fn reload(&mut self, running_job_commits: bool) {
        self.resume_elsewhere(running_job_commits, HandedFrom::LastLoad);
    }

    /// Another tab takes the session over: as `reload`, but the items cross a BroadcastChannel
    /// and the new leader, its handlers in place, delivers them once its session is loaded.
    pub fn take_over_in_another_tab(&mut self, running_job_commits: bool) {
        self.resume_elsewhere(running_job_commits, HandedFrom::OtherTab);
    }

    fn resume_elsewhere(&mut self, running_job_commits: bool, from: HandedFrom) {
        let handed = self.client.hand_over();
        if let Some(store) = &mut self.store {
            if let Some((_, job)) = store.running.take() {
                if running_job_commits {
                    let _ = store.apply(job);
                }
            }
        }
        let mut found = self
            .store
            .as_ref()
            .map(SimStore::records)
            .unwrap_or_default();
        for (key, value) in self.journal.iter().flat_map(SimJournal::records) {
            found.insert(key, value); // empty: deleted
        }
        found.retain(|_, value| !value.is_empty());
        self.resumed_from = found;
        // The old page's sockets die with it; the new page numbers its own from 1.
        self.sockets.clear();
        // Each page load makes its own message id prefix (the driver draws a random one).
        if let Some(dedup) = self.config.session.dedup.as_mut() {
            dedup.id_prefix = format!("load{}-", self.loads);
        }
        self.client = Client::new(self.config.clone());
        // The bytes reach the new page while its store loads (a channel message), or right
        // after (sessionStorage): the core holds them until its session is loaded.
        if let Some(bytes) = handed {
            assert!(self.client.take_handed_over(self.now, &bytes, from));
        }
        self.start();
    }

    /// Messages handed over by a page that went, delivered by a later one so far.
    pub fn handed_over(&self) -> Vec<&Publish> {
        self.events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::HandedOver { publish, .. } => Some(publish),
                _ => None,
            })
            .collect()
    }

    /// Moves the client's outputs until none is left, ending the task with a flush.
    pub fn settle(&mut self) {
        loop {
            let mut moved = false;
            while let Some(output) = self.client.poll() {
                moved = true;
                match output {
                    Output::Journal(op) => self.journal_op(op),
                    Output::Socket(action) => self.socket_action(action),
                    Output::Store(job) => {
                        let store = self.store.as_mut().expect("store jobs only with a store");
                        assert!(store.running.is_none(), "one store job at a time");
                        store.running = Some((self.now + store.latency, job));
                    }
                    Output::Probe(probe) => self.probes.push(probe),
                    Output::Attempt(attempt) => self.attempts.push(attempt),
                    Output::Event(event) => self.events.push(event),
                }
            }
            if !moved {
                if self.client.has_unflushed() {
                    self.client.flush(self.now);
                    continue;
                }
                if self.finish_store_job_due() {
                    continue;
                }
                break;
            }
        }
    }

    fn journal_op(&mut self, op: JournalOp) {
        let journal = self
            .journal
            .as_mut()
            .expect("journal ops only with a journal");
        match op {
            JournalOp::Put(key, value) => {
                let old = journal.entries.get(&key).map_or(0, |v| key.len() + v.len());
                let next = journal.bytes() - old + key.len() + value.len();
                if journal.quota.is_some_and(|quota| next > quota) {
                    self.client.handle_journal_failed(self.now, &key);
                    return;
                }
                journal.entries.insert(key, value);
                journal.peak = journal.peak.max(next);
            }
            JournalOp::Remove(key) => {
                journal.entries.remove(&key);
            }
        }
    }

    fn finish_store_job_due(&mut self) -> bool {
        let Some(store) = self.store.as_mut() else {
            return false;
        };
        match store.running.take() {
            Some((at, job)) if at <= self.now => {
                let outcome = store.apply(job);
                store.jobs_done += 1;
                self.client.handle_store_done(self.now, outcome);
                true
            }
            other => {
                store.running = other;
                false
            }
        }
    }

    fn socket_action(&mut self, action: SocketAction) {
        match action {
            SocketAction::Open { socket, url } => {
                self.log.push(format!("open {socket}"));
                let protocol = self.config.session.protocol;
                self.sockets.insert(
                    socket,
                    SimSocket {
                        url: url.clone(),
                        opened: false,
                        closed: false,
                        received: Vec::new(),
                        taken: 0,
                        messages: 0,
                        decoder: StreamDecoder::new(protocol, 0),
                    },
                );
                // A URL an attempt's setup computed (a signed query) is the same endpoint.
                let endpoint = url.split('?').next().unwrap_or(&url);
                match self
                    .endpoints
                    .get(endpoint)
                    .copied()
                    .unwrap_or(Endpoint::Dead)
                {
                    Endpoint::Broker => {
                        self.sockets.get_mut(&socket).unwrap().opened = true;
                        self.client.handle_socket_open(self.now, socket);
                    }
                    Endpoint::Dead | Endpoint::NotMqtt => {
                        self.sockets.get_mut(&socket).unwrap().closed = true;
                        self.client.handle_socket_closed(self.now, socket, 1006, "");
                    }
                    Endpoint::Silent => {}
                }
            }
            SocketAction::Send { socket, bytes } => {
                self.log.push(format!("send {socket}"));
                let s = self
                    .sockets
                    .get_mut(&socket)
                    .expect("a socket that was opened");
                if s.closed {
                    return; // a send on a closed socket goes nowhere
                }
                assert!(s.opened, "bytes sent before the socket opened");
                s.messages += 1;
                s.decoder.feed(&bytes);
                while let Some(packet) = s
                    .decoder
                    .next_packet()
                    .expect("the client sends valid packets")
                {
                    s.received.push(packet);
                }
            }
            SocketAction::Close { socket } => {
                self.log.push(format!("close {socket}"));
                if let Some(s) = self.sockets.get_mut(&socket) {
                    s.closed = true;
                }
            }
        }
    }

    // --- the far end ----------------------------------------------------------------------

    /// The newest socket.
    pub fn last_socket(&self) -> u32 {
        *self.sockets.keys().last().expect("a socket was opened")
    }

    /// The newest socket, which must be open.
    pub fn live(&self) -> u32 {
        let id = self.last_socket();
        let s = &self.sockets[&id];
        assert!(s.opened && !s.closed, "socket {id} is not open");
        id
    }

    /// Packets the broker received on `socket` since the last `take`.
    pub fn take(&mut self, socket: u32) -> Vec<Packet> {
        let s = self.sockets.get_mut(&socket).unwrap();
        let new = s.received[s.taken..].to_vec();
        s.taken = s.received.len();
        new
    }

    /// The broker sends `packets` on `socket` as one byte stream, cut into WebSocket messages
    /// at random places.
    pub fn deliver(&mut self, socket: u32, packets: &[Packet]) {
        let protocol = self.config.session.protocol;
        let mut bytes = Vec::new();
        for packet in packets {
            codec::encode(packet, protocol, &mut bytes).expect("the broker's packets encode");
        }
        let mut at = 0;
        while at < bytes.len() {
            let len = 1 + self.rng.below((bytes.len() - at) as u64) as usize;
            let chunk = bytes[at..at + len].to_vec();
            self.client.handle_socket_data(self.now, socket, &chunk);
            at += len;
        }
        self.settle();
    }

    /// The socket drops (1006, as a broker crash or a cut link shows in a browser).
    pub fn drop_socket(&mut self, socket: u32) {
        self.sockets.get_mut(&socket).unwrap().closed = true;
        self.client.handle_socket_closed(self.now, socket, 1006, "");
        self.settle();
    }

    /// The newest socket's CONNECT is answered with `code` (0: accepted).
    pub fn connack(&mut self, code: u8, properties: Properties) -> u32 {
        let socket = self.live();
        let sent = self.take(socket);
        assert!(
            matches!(sent.first(), Some(Packet::Connect(_))),
            "MQTT-3.1.0-1: CONNECT first, got {sent:?}"
        );
        self.deliver(
            socket,
            &[Packet::ConnAck(ConnAck {
                session_present: code == 0,
                code,
                properties,
            })],
        );
        socket
    }

    pub fn connect(&mut self) -> u32 {
        self.connack(0, Properties::default())
    }

    /// Answers a probe as the endpoint it asked would.
    pub fn answer_probes(&mut self) {
        for probe in std::mem::take(&mut self.probes) {
            let answer = match self.endpoints.get(&probe.url) {
                Some(Endpoint::Broker) => ProbeAnswer::Mqtt,
                Some(Endpoint::NotMqtt) => ProbeAnswer::WebSocketOnly,
                _ => ProbeAnswer::Nothing,
            };
            self.client
                .handle_probe_answer(self.now, probe.id, Some(answer));
        }
        self.settle();
    }

    /// Answers the attempt setup `request` asked for, as the application's functions did.
    pub fn answer_attempt(
        &mut self,
        request: &AttemptRequest,
        answer: Result<AttemptSetup, String>,
    ) {
        self.client
            .handle_attempt_setup(self.now, request.id, answer);
        self.settle();
    }

    /// Lets `ms` pass, firing the client's timer and finishing store jobs on the way.
    pub fn advance(&mut self, ms: u64) {
        let until = self.now + ms;
        loop {
            let job = self
                .store
                .as_ref()
                .and_then(|s| s.running.as_ref().map(|(at, _)| *at));
            let next = [self.client.poll_timeout(), job]
                .into_iter()
                .flatten()
                .min()
                .filter(|at| *at <= until);
            let Some(at) = next else { break };
            self.now = self.now.max(at);
            self.client.handle_timeout(self.now);
            self.settle();
        }
        self.now = until;
        self.client.handle_timeout(self.now);
        self.settle();
    }

    // --- the application --------------------------------------------------------------------

    pub fn publish(&mut self, topic: &str, payload: &str, qos: QoS) -> u32 {
        let request = crate::harness::publish_request(topic, payload, qos);
        let token = self
            .client
            .publish(self.now, request)
            .expect("publish accepted");
        self.settle();
        token
    }

    pub fn end(&mut self, force: bool, timeout_ms: u32) {
        let options = EndOptions {
            force,
            timeout_ms,
            publish_will: false,
        };
        self.client.end(self.now, options);
        self.settle();
    }

    // --- what happened ----------------------------------------------------------------------

    /// The events since `from`, leaving the log as it is.
    pub fn errors(&self) -> Vec<(String, bool)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Error(error) => Some((error.code.to_string(), error.fatal)),
                _ => None,
            })
            .collect()
    }

    /// Reconnect delays announced so far.
    pub fn delays(&self) -> Vec<u32> {
        self.events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Reconnecting { delay_ms, .. } => Some(*delay_ms),
                _ => None,
            })
            .collect()
    }

    pub fn count(&self, f: impl Fn(&ClientEvent) -> bool) -> usize {
        self.events.iter().filter(|e| f(e)).count()
    }

    /// Whether `token`'s call was settled, and how: Some(Ok(reason code)) / Some(Err(code)).
    pub fn outcome(&self, token: u32) -> Option<Result<u8, String>> {
        self.events.iter().find_map(|e| match e {
            ClientEvent::Done {
                token: t,
                result: Completion::Published { reason_code },
            } if *t == token => Some(Ok(*reason_code)),
            ClientEvent::Failed { token: t, error } if *t == token => {
                Some(Err(error.code.to_string()))
            }
            _ => None,
        })
    }

    /// Payloads delivered to the application, in order.
    pub fn delivered(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Message { publish, .. } => {
                    Some(String::from_utf8_lossy(&publish.payload).into_owned())
                }
                _ => None,
            })
            .collect()
    }

    /// Handler runs the client asked for so far (every page): (delivery, attempt, payload).
    pub fn handler_runs(&self) -> Vec<(u64, u32, String)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Handle {
                    delivery,
                    attempt,
                    publish,
                    ..
                } => Some((
                    *delivery,
                    *attempt,
                    String::from_utf8_lossy(&publish.payload).into_owned(),
                )),
                _ => None,
            })
            .collect()
    }

    /// The application's handlers for `delivery` settled.
    pub fn handler_done(&mut self, delivery: u64, outcome: Result<(), &str>) {
        let outcome = outcome.map_err(str::to_string);
        self.client.handle_handler_done(self.now, delivery, outcome);
        self.settle();
    }
}

/// Answers what the broker received like a plain broker: PUBACK / PUBREC / PUBCOMP, SUBACK
/// granting what was asked, UNSUBACK, PINGRESP.
pub fn answers(received: &[Packet]) -> Vec<Packet> {
    received
        .iter()
        .filter_map(|packet| match packet {
            Packet::Publish(p) => match p.qos {
                QoS::AtMostOnce => None,
                QoS::AtLeastOnce => Some(Packet::PubAck(Ack::new(p.packet_id.unwrap()))),
                QoS::ExactlyOnce => Some(Packet::PubRec(Ack::new(p.packet_id.unwrap()))),
            },
            Packet::PubRel(ack) => Some(Packet::PubComp(Ack::new(ack.packet_id))),
            Packet::Subscribe(s) => Some(Packet::SubAck(SubAck {
                packet_id: s.packet_id,
                properties: Properties::default(),
                reason_codes: s.filters.iter().map(|(_, o)| o.qos as u8).collect(),
            })),
            Packet::Unsubscribe(u) => Some(Packet::UnsubAck(UnsubAck {
                packet_id: u.packet_id,
                properties: Properties::default(),
                reason_codes: vec![0; u.filters.len()],
            })),
            Packet::PingReq => Some(Packet::PingResp),
            _ => None,
        })
        .collect()
}
