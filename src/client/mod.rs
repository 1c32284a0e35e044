//! The client above the session: one deterministic machine that owns the session, the link
//! supervisor, the store sync, the stream decoder, the handshake diagnosis and the socket
//! bookkeeping, driven the quinn-proto way. The host (the browser layer, or a test) passes
//! `now` and each input to a `handle_*` method or a command, then drains the `poll_*` outputs:
//! [`Client::poll_socket`] (open, send, close, in order), [`Client::poll_store`] (one store job
//! at a time), [`Client::poll_probe`], [`Client::poll_event`], and arms one timer for
//! [`Client::poll_timeout`]. At the end of each of its tasks the host calls [`Client::flush`]
//! (see `transport`). Nothing here reads a clock, touches a socket or a database.

mod alerts;
mod attempt;
mod batches;
mod commands;
mod diagnosis;
mod error;
mod event;
mod forwarded;
mod handover;
mod joiner;
mod journal;
pub mod link;
mod openmetrics;
mod percentiles;
pub mod rate;
mod reactions;
pub mod reconnect;
mod record_list;
mod redirect;
mod stamp;
mod storage;
pub mod store_sync;
mod transport;

use std::collections::VecDeque;

use crate::client::link::Supervisor;
use crate::client::rate::RateWindow;
use crate::client::reconnect::BackoffConfig;
use crate::client::store_sync::{Step, StoreSync};
use crate::codec::StreamDecoder;
use crate::session::{is_outgoing_key, Config, Goodbye, Metrics, Session};

pub use alerts::{default_alert_rules, Alert, AlertMetric, AlertRule, CLEAR_RATIO};
pub use attempt::{AttemptRequest, AttemptSetup};
pub use batches::store_records;
pub use commands::EndOptions;
pub use diagnosis::{ProbeAnswer, ProbeRequest};
pub use error::{reason_code_name, ClientError, ErrorCode};
pub use event::{lost_reason_text, ClientEvent, Completion};
pub use forwarded::Orphaned;
pub use handover::HandedFrom;
pub use joiner::JoinerState;
pub use journal::{journal_key, journal_records, record_key, JournalOp, JOURNAL_MAX_BYTES};
pub use redirect::{websocket_url_problem, Redirect, RedirectConfig};
pub use stamp::STAMP_PROPERTY;
pub use storage::{StoreFailure, StoreJob};
pub use transport::{SocketAction, FLUSH_AT_BYTES};

use alerts::Alerts;
use attempt::Preparation;
use diagnosis::Diagnosis;
use forwarded::Forwarded;
use handover::{Handed, Handover};
use journal::Journal;
use percentiles::{Growth, Samples};
use redirect::Redirects;
use transport::Transport;

/// What the client is made from.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub session: Config,
    /// Broker URLs, tried in turn.
    pub urls: Vec<String>,
    /// How long one attempt (and the first connection) may take.
    pub connect_timeout_ms: u32,
    /// None: never reconnect.
    pub reconnect: Option<BackoffConfig>,
    /// Seeds the backoff's jitter.
    pub seed: u64,
    /// Whether and how far to follow a server's redirect (see `redirect`).
    pub redirects: RedirectConfig,
    /// The metrics alerted on (see `alerts`).
    pub alerts: Vec<AlertRule>,
    /// Each attempt's URL and credentials are computed by the host first (see `attempt`).
    pub prepare_attempts: bool,
}

/// Counters for the application: the session's and the client's own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClientMetrics {
    pub session: Metrics,
    /// Delivered messages a second, averaged over the last few seconds.
    pub messages_per_second: f64,
    /// Whether the session is kept in the store (false: in memory only).
    pub durable: bool,
    /// Age of the oldest outgoing message queued or in flight (0: none).
    pub oldest_queued_age_ms: u64,
    /// Publish-to-handler lag of stamped messages in the last minute (see `stamp`).
    pub delivery_lag_p50_ms: Option<u64>,
    pub delivery_lag_p99_ms: Option<u64>,
    /// Bytes of messages held (`Session::bytes_held`).
    pub bytes_held: usize,
    /// Bytes held above the least held in the last minute, as of the last alert check.
    pub bytes_held_growth: u64,
    /// Bytes in the journal: outgoing records the store has not committed yet.
    pub journal_bytes: usize,
}

/// What the host must carry out ([`Client::poll`]).
// Each output is moved once, from `poll` to the host: boxing the large ones would allocate for
// every output instead.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Output {
    /// Write to (or remove from) the journal before returning to the page.
    Journal(JournalOp),
    Socket(SocketAction),
    /// Start this store job (one at a time; its outcome goes to `handle_store_done`).
    Store(StoreJob),
    /// Probe the endpoint (see `diagnosis`); the answer goes to `handle_probe_answer`.
    Probe(ProbeRequest),
    /// Ask the application for this attempt's URL and credentials (`handle_attempt_setup`).
    Attempt(AttemptRequest),
    Event(ClientEvent),
}

/// Where `end()` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Running,
    /// Waiting (until `deadline`) for in-flight and queued messages to be acknowledged.
    Draining {
        deadline: u64,
    },
    /// Disconnected; waiting (until `deadline`) for the last store job.
    Closing {
        deadline: u64,
    },
    Ended,
}

/// How long `end()` waits for the last store job after its own timeout.
const END_STORE_GRACE_MS: u64 = 5_000;

pub struct Client {
    session: Session,
    supervisor: Supervisor,
    /// As configured: redirects never change it (see `redirect`).
    urls: Vec<String>,
    redirects: Redirects,
    transport: Transport,
    diagnosis: Diagnosis,
    /// The probe to start (one runs at a time).
    probe: Option<ProbeRequest>,
    sync: StoreSync,
    /// Whether the host has a store (the session was loaded from it).
    store: bool,
    /// The highest sequence number reported to the session as committed.
    committed_seq: u64,
    /// Why the last store job failed, for the report of the change it caused.
    store_error: Option<StoreFailure>,
    /// The store job to start (the store sync runs one at a time).
    job: Option<StoreJob>,
    /// The host's synchronous copy of outgoing records not yet committed (see `journal`).
    journal: Journal,
    /// Entries of the host's journal, until the store's records are loaded with them.
    journal_loaded: Option<Vec<(String, Vec<u8>)>>,
    /// Why the last attempt failed, for the error if the first connection is overdue or the
    /// client gives up.
    last_failure: Option<ClientError>,
    connect_timeout_ms: u32,
    ever_connected: bool,
    /// A packet from the broker did not decode, and the error saying so is out.
    decode_error_reported: bool,
    events: VecDeque<ClientEvent>,
    message_rate: RateWindow,
    ending: Ending,
    /// How `end()` says goodbye.
    goodbye: Goodbye,
    /// The host's wall clock (ms since the Unix epoch) minus `now`, for publish stamps.
    wall_offset: i64,
    delivery_lag: Samples,
    growth: Growth,
    bytes_held_growth: u64,
    alerts: Alerts,
    prepare_attempts: bool,
    preparation: Preparation,
    /// The configured user name and password, for the attempts whose setup leaves them out.
    configured_credentials: (Option<String>, Option<bytes::Bytes>),
    /// Messages handed over by the page that held the session before this one (`handover`).
    handover: Handover,
    /// A follower tab's calls in flight with the leader tab (`forwarded`).
    forwarded: Forwarded,
    /// Other tabs follow this one: the host gives them the events (`api::events::shared`).
    followed: bool,
    /// What a tab that joins later is told (`joiner`).
    joiner: JoinerState,
}

impl Client {
    pub fn new(config: ClientConfig) -> Client {
        assert!(!config.urls.is_empty(), "at least one broker URL");
        let session = Session::new(config.session);
        let configured_credentials = session.credentials();
        let transport = Transport::new(session.protocol(), session.max_incoming_packet_size());
        Client {
            supervisor: Supervisor::new(
                config.urls.len(),
                config.connect_timeout_ms,
                config.reconnect,
                config.seed,
            ),
            diagnosis: Diagnosis::new(config.urls.len()),
            redirects: Redirects::new(config.redirects, config.urls.len()),
            urls: config.urls,
            session,
            transport,
            probe: None,
            sync: StoreSync::new(false),
            store: false,
            committed_seq: 0,
            store_error: None,
            job: None,
            journal: Journal::default(),
            journal_loaded: None,
            last_failure: None,
            connect_timeout_ms: config.connect_timeout_ms,
            ever_connected: false,
            decode_error_reported: false,
            events: VecDeque::new(),
            message_rate: RateWindow::default(),
            ending: Ending::Running,
            goodbye: Goodbye::Disconnect,
            wall_offset: 0,
            delivery_lag: Samples::default(),
            growth: Growth::default(),
            bytes_held_growth: 0,
            alerts: Alerts::new(config.alerts),
            prepare_attempts: config.prepare_attempts,
            handover: Handover::default(),
            forwarded: Forwarded::default(),
            followed: false,
            joiner: JoinerState::default(),
            preparation: Preparation::default(),
            configured_credentials,
        }
    }

    // --- start-up -----------------------------------------------------------------------------

    /// The host keeps a journal (see `journal`) and it holds these entries (name under the
    /// session's prefix, value). Call before [`Client::handle_store_loaded`]; from then on
    /// the host carries out [`Client::poll_journal`] before it returns to the page.
    pub fn handle_journal_loaded(&mut self, entries: Vec<(String, Vec<u8>)>) {
        self.journal_loaded = Some(entries);
    }

    /// The host's store opened and returned these records (`unreadable`: keys of entries that
    /// are not records). Call before [`Client::start`]; from now on the session's writes become
    /// store jobs. Out of line: it runs once, and inlined into the host's start it would be
    /// compiled there again (wasm size).
    #[inline(never)]
    pub fn handle_store_loaded(
        &mut self,
        now: u64,
        records: Vec<(String, Vec<u8>)>,
        mut unreadable: Vec<String>,
    ) {
        let mut unpacked = batches::unpack(records);
        unreadable.append(&mut unpacked.unreadable);
        self.sync = StoreSync::loaded(&unpacked);
        let records = std::mem::take(&mut unpacked.records);
        match self.journal_loaded.take() {
            Some(entries) => {
                let mut loaded = journal::read_host_entries(entries);
                let journaled = std::mem::take(&mut loaded.records);
                let dropped = self.session.load_journaled(records, journaled, now);
                let outgoing = dropped.iter().filter(|key| is_outgoing_key(key));
                unreadable.extend(outgoing.cloned());
                unreadable.append(&mut loaded.unreadable);
                self.journal = Journal::loaded(loaded);
            }
            None => self.session.load(records, now),
        }
        self.store = true;
        self.storage(true, None);
        for key in &unreadable {
            self.corrupt_record(key);
        }
    }

    /// The host's store could not be opened or read: the session runs in memory.
    pub fn handle_store_unavailable(&mut self, _now: u64, failure: StoreFailure) {
        self.store = false;
        self.journal_loaded = None;
        self.journal.disable();
        self.sync = StoreSync::new(false);
        let error = failure.error();
        self.events.push_back(ClientEvent::Error(error.clone()));
        self.storage(false, Some(error));
    }

    /// The host's wall clock reads `wall_ms` (ms since the Unix epoch) at `now`: publish stamps
    /// and delivery lags use it (call at start and whenever the wall clock may have jumped).
    pub fn handle_wall_clock(&mut self, now: u64, wall_ms: u64) {
        self.wall_offset = wall_ms as i64 - now as i64;
    }

    fn wall(&self, now: u64) -> u64 {
        (now as i64 + self.wall_offset).max(0) as u64
    }

    /// Starts connecting (unless offline).
    pub fn start(&mut self, now: u64) {
        self.handover.start();
        self.judge_handed_over();
        self.supervisor.start(now);
        self.pump(now);
    }

    // --- the reload and tab hand-over (see `handover`) ---------------------------------------

    /// This page is going and the session resumes elsewhere (its next load, another tab): the
    /// received messages not delivered yet, as bytes for the host to carry to the page that
    /// resumes it ([`Client::take_handed_over`]); None when there is none. The host stops this
    /// client at once after (no DISCONNECT), so that nothing more is received here.
    pub fn hand_over(&mut self) -> Option<Vec<u8>> {
        let session = &self.session;
        let pending = session
            .pending_deliveries()
            .into_iter()
            .map(|(publish, key)| {
                let carried = &publish.properties.subscription_identifiers;
                let (primary, named) = session.named_routes(&publish.topic, carried);
                Handed {
                    publish,
                    key,
                    primary,
                    named,
                    confirmed: false,
                }
            })
            .collect();
        let items = self.handover.hand_over(pending);
        (!items.is_empty()).then(|| handover::encode(&items))
    }

    /// What the page that held the session before handed over ([`Client::hand_over`]): those
    /// whose receipt this session loaded from the store are delivered, once (as
    /// [`ClientEvent::HandedOver`]), when `from` says. Taken before [`Client::start`], they wait
    /// for it. False when the bytes are not readable: nothing is taken.
    pub fn take_handed_over(&mut self, now: u64, bytes: &[u8], from: HandedFrom) -> bool {
        let Some(items) = handover::decode(bytes) else {
            return false;
        };
        self.handover.take(items, from);
        if self.handover.is_started() {
            self.judge_handed_over();
            self.pump(now);
        }
        true
    }

    /// Another tab took the lead: what this tab was handed while it followed is that tab's.
    pub fn forget_handed_over(&mut self) {
        self.handover.forget();
    }

    /// Other tabs follow this one (they joined, or sent a call): from now on the host gives
    /// them this client's events.
    pub fn set_followed(&mut self) {
        self.followed = true;
    }

    pub fn is_followed(&self) -> bool {
        self.followed
    }

    /// A follower tab sends a call to the leader tab: its id there (see `forwarded`).
    pub fn forward_call(&mut self) -> u32 {
        self.forwarded.send()
    }

    /// The leader tab's session took the forwarded call `id`.
    pub fn forwarded_accepted(&mut self, id: u32) {
        self.forwarded.accepted(id);
    }

    /// The leader tab settled the forwarded call `id`.
    pub fn forwarded_settled(&mut self, id: u32) {
        self.forwarded.settled(id);
    }

    /// The leader tab went: what becomes of each forwarded call in flight.
    pub fn leader_changed(&mut self) -> Vec<Orphaned> {
        self.forwarded.leader_changed()
    }

    fn judge_handed_over(&mut self) {
        let session = &mut self.session;
        self.handover.judge(|item| {
            let publish = &item.publish;
            session.claim_handed_over(publish.qos, publish.packet_id, item.key.as_deref())
        });
    }

    fn deliver_handed_over(&mut self, now: u64) {
        for item in self.handover.due(now, self.session.is_connected()) {
            let carried = &item.publish.properties.subscription_identifiers;
            let routes =
                self.session
                    .route_remote(&item.publish.topic, carried, item.primary, &item.named);
            self.events.push_back(ClientEvent::HandedOver {
                publish: item.publish,
                routes,
                primary: item.primary,
                named: item.named,
            });
        }
    }

    // --- inputs -------------------------------------------------------------------------------

    /// The browser's `online` / `offline` events (and its state before `start`).
    pub fn handle_online(&mut self, now: u64, online: bool) {
        self.supervisor.handle_online(now, online);
        self.pump(now);
    }

    /// The deadline from [`Client::poll_timeout`] passed (an early call does no harm).
    pub fn handle_timeout(&mut self, now: u64) {
        self.session.handle_timeout(now);
        self.supervisor.handle_timeout(now);
        self.pump(now);
    }

    /// The page is visible again or resumed: a hidden tab's timers may have fired late, and a
    /// frozen page's not at all, so every deadline is checked now.
    pub fn handle_page_visible(&mut self, now: u64) {
        self.handle_timeout(now);
    }

    /// The host could not write the journal entry `key` (of a [`JournalOp::Put`]): its quota is
    /// used up. The messages it held stay in the session and reach the store with the next
    /// commit; until then a reload loses them, which a `JOURNAL_FAILED` error says (once a
    /// message, naming its record).
    pub fn handle_journal_failed(&mut self, _now: u64, key: &str) {
        for record in self.journal.failed(key) {
            self.events
                .push_back(ClientEvent::Error(journal::failed_error(&record)));
        }
    }

    /// The store job last polled finished.
    pub fn handle_store_done(&mut self, now: u64, outcome: Result<(), StoreFailure>) {
        let ok = outcome.is_ok();
        if let Err(failure) = outcome {
            self.store_error = Some(failure);
        }
        let step = self.sync.finished(now, ok);
        self.apply_store_step(now, step);
        self.pump(now);
    }

    // --- outputs ------------------------------------------------------------------------------

    /// The next thing the host must carry out, in the order it must; call until None after every
    /// input (and after carrying each out: an output can make more). The journal comes first, so
    /// that what it must hold is written before the host returns to the page; events come last.
    /// The one way a host drives the outputs; the `poll_*` below are its parts.
    pub fn poll(&mut self) -> Option<Output> {
        if let Some(op) = self.poll_journal() {
            return Some(Output::Journal(op));
        }
        if let Some(action) = self.poll_socket() {
            return Some(Output::Socket(action));
        }
        if let Some(job) = self.poll_store() {
            return Some(Output::Store(job));
        }
        if let Some(probe) = self.poll_probe() {
            return Some(Output::Probe(probe));
        }
        if let Some(attempt) = self.poll_attempt() {
            return Some(Output::Attempt(attempt));
        }
        self.poll_event().map(Output::Event)
    }

    /// The next socket action; call until None after every input.
    pub fn poll_socket(&mut self) -> Option<SocketAction> {
        self.transport.poll_action()
    }

    /// The store job to start, if any; call after every input.
    pub fn poll_store(&mut self) -> Option<StoreJob> {
        self.job.take()
    }

    /// The next journal operation; call until None after every input and after
    /// [`Client::flush`], and carry each out at once (see `journal`).
    pub fn poll_journal(&mut self) -> Option<JournalOp> {
        self.journal.poll()
    }

    /// The probe to start, if any; call after every input.
    pub fn poll_probe(&mut self) -> Option<ProbeRequest> {
        self.probe.take()
    }

    /// The next event for the application; call until None after every input.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        let event = self.events.pop_front()?;
        self.joiner.observe(&event);
        Some(event)
    }

    /// What a tab that joins the session later is told of the connection (see `joiner`).
    pub fn joiner_state(&self) -> &JoinerState {
        &self.joiner
    }

    /// The earliest time [`Client::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        let end = match self.ending {
            Ending::Draining { deadline } | Ending::Closing { deadline } => Some(deadline),
            _ => None,
        };
        [
            self.session.poll_timeout(),
            self.supervisor.poll_timeout(),
            self.sync.poll_timeout(),
            end,
            self.alerts
                .poll_timeout(self.session.oldest_outgoing_since().is_some()),
            self.handover.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The host's task is done: what it gathered for the socket leaves as one message, now.
    pub fn flush(&mut self, now: u64) {
        self.journal.flush();
        self.transport.flush();
        self.session.handle_flushed(now);
    }

    /// Whether bytes wait for [`Client::flush`].
    pub fn has_unflushed(&self) -> bool {
        self.transport.has_unflushed() || self.journal.has_unflushed()
    }

    // --- state --------------------------------------------------------------------------------

    pub fn is_connected(&self) -> bool {
        self.session.is_connected()
    }

    /// The URL the store is named after (`session::storage_name`): the first configured one,
    /// never a redirect's target, so that the persistent session moves with the client id.
    pub fn store_url(&self) -> &str {
        &self.urls[0]
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    #[inline(never)]
    pub fn metrics(&self, now: u64) -> ClientMetrics {
        let [p50, p99] = self.delivery_lag.quantiles(now, [0.5, 0.99]);
        ClientMetrics {
            session: self.session.metrics(),
            messages_per_second: self.message_rate.per_second(now),
            durable: self.sync.is_durable(),
            oldest_queued_age_ms: self
                .session
                .oldest_outgoing_since()
                .map_or(0, |since| now.saturating_sub(since)),
            delivery_lag_p50_ms: p50,
            delivery_lag_p99_ms: p99,
            bytes_held: self.session.bytes_held(),
            bytes_held_growth: self.bytes_held_growth,
            journal_bytes: self.journal.bytes(),
        }
    }

    /// The metrics in the OpenMetrics text format (see `openmetrics`).
    pub fn metrics_text(&self, now: u64) -> String {
        openmetrics::render(&self.metrics(now), self.alerts.states())
    }

    /// Checks the metrics against the alert rules, at most every `alerts::CHECK_EVERY_MS`.
    /// Out of line: `pump` is inlined into every input.
    #[inline(never)]
    fn check_alerts(&mut self, now: u64) {
        if !self.alerts.due(now) {
            return;
        }
        let held = self.session.bytes_held() as u64;
        self.bytes_held_growth = self.growth.read(now, held);
        let metrics = self.metrics(now);
        for alert in self.alerts.check(now, &metrics) {
            self.events.push_back(ClientEvent::Alert(alert));
        }
    }

    // --- the machinery ------------------------------------------------------------------------

    /// Moves everything that is ready, until nothing moves: packets to the socket, link
    /// actions, events, store writes, the end.
    fn pump(&mut self, now: u64) {
        loop {
            self.encode_packets(now);
            let mut progressed = false;
            while let Some(action) = self.supervisor.poll_action() {
                progressed = true;
                self.on_link_action(now, action);
            }
            while let Some(event) = self.session.poll_event() {
                progressed = true;
                self.on_session_event(now, event);
            }
            while let Some(event) = self.supervisor.poll_event() {
                progressed = true;
                self.on_link_event(event);
            }
            let marks = self.session.acks_after_handler();
            while let Some(op) = self.session.poll_store() {
                if self.sync.is_durable() {
                    // While the store is behind, the session runs in memory: nothing to journal.
                    self.journal.record(&op, marks);
                }
                self.sync.push(op);
            }
            let step = self.sync.poll(now);
            // A commit can release acks and deliveries: another round sends them.
            progressed |= self.apply_store_step(now, step);
            progressed |= self.check_end(now);
            if !progressed {
                break;
            }
        }
        self.encode_packets(now);
        self.deliver_handed_over(now);
        self.check_alerts(now);
    }

    /// Packets are encoded as soon as the session makes them, for the socket current then.
    /// Everything was checked when given; should a packet still not encode, the session fails
    /// what it belongs to rather than it vanishing.
    fn encode_packets(&mut self, now: u64) {
        let protocol = self.session.protocol();
        while let Some(packet) = self.session.poll_packet() {
            if let Err(error) = self.transport.encode(&packet, protocol) {
                self.session.handle_encode_error(now, &packet, error);
            }
        }
    }

    /// A fresh decoder for a new socket.
    fn decoder(&self) -> StreamDecoder {
        StreamDecoder::new(
            self.session.protocol(),
            self.session.max_incoming_packet_size(),
        )
    }

    /// Carries out what the store sync asks for; true when the session got a new commit.
    fn apply_store_step(&mut self, now: u64, step: Step) -> bool {
        let mut released = false;
        if let Some(seq) = step.committed.filter(|seq| *seq > self.committed_seq) {
            self.committed_seq = seq;
            self.journal.committed(seq);
            self.session.handle_store_committed(now, seq);
            released = true;
        }
        if let Some(change) = step.change {
            let cause = self
                .store_error
                .take()
                .unwrap_or_else(StoreFailure::unknown);
            match storage::change_error(change, &cause) {
                None => self.storage(true, None),
                Some(error) => {
                    self.events.push_back(ClientEvent::Error(error.clone()));
                    self.storage(false, Some(error));
                }
            }
        }
        if let Some(job) = step.job {
            self.start_store_job(job);
        }
        released
    }

    fn start_store_job(&mut self, job: crate::client::store_sync::Job) {
        use crate::client::store_sync::Job;
        if !self.store {
            return; // only a sync made with a store has jobs
        }
        self.job = Some(match job {
            Job::Commit(writes) => StoreJob::Commit(writes),
            Job::Clear => StoreJob::Replace(Vec::new()),
            // The snapshot is taken now, so that the writes made while it is stored follow it.
            Job::Rewrite => StoreJob::Replace(self.sync.rewrite(&self.session.durable_records())),
        });
    }

    fn storage(&mut self, durable: bool, error: Option<ClientError>) {
        self.events
            .push_back(ClientEvent::Storage { durable, error });
    }

    fn corrupt_record(&mut self, key: &str) {
        let error = storage::corrupt_record(key);
        self.events.push_back(ClientEvent::Error(error.clone()));
        self.storage(true, Some(error));
    }
}
