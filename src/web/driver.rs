//! The driver: runs the session core and the link supervisor with real browser parts (one
//! WebSocket, one timer, IndexedDB) and reports to the JavaScript facade (js/index.js) through
//! one callback. Every entry point does its work with the state borrowed, then releases the
//! borrow and only then calls into JavaScript, so application code may call back in.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Object, Reflect, Uint32Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

use super::arguments;
use super::client_options::{self, Persistence};
use super::clock::now_ms;
use super::diagnosis::{self, Diagnosis, Verdict};
use super::error::{invalid_argument, mqtt_error, reason_code_name};
use super::idb::{DatabaseName, IdbStore, StoreError};
use super::props;
use super::socket::{Socket, SocketEvent};
use super::timer::Timer;
use crate::codec::{self, Publish, StreamDecoder};
use crate::link::{LinkAction, LinkEvent, StopReason, Supervisor};
use crate::session::{CommandError, Event, Goodbye, LostReason, Session, Token};
use crate::store_sync::{Change, Job, Step, StoreSync};

/// A batch this large is sent at once rather than at the end of the task, so that one message
/// stays a size every server accepts and a long loop of publishes does not buffer without bound.
const FLUSH_AT_BYTES: usize = 64 * 1024;

struct State {
    session: Session,
    supervisor: Supervisor,
    urls: Vec<String>,
    persistence: Persistence,
    store: Option<Rc<IdbStore>>,
    database: DatabaseName,
    sync: StoreSync,
    /// The highest sequence number reported to the session as committed.
    committed_seq: u64,
    /// Why the last store job failed, for the report of the change it caused.
    store_error: Option<StoreError>,
    socket: Option<Socket>,
    socket_generation: u32,
    /// Whether the current socket reached `open`.
    socket_opened: bool,
    diagnosis: Diagnosis,
    /// The socket generation whose failed handshake waits for the diagnosis's verdict.
    held_attempt: Option<u32>,
    /// Why the last attempt failed (code, message), for the error if the first connection is
    /// overdue or the client gives up.
    last_failure: Option<(String, String)>,
    connect_timeout_ms: u32,
    ever_connected: bool,
    decoder: StreamDecoder,
    /// Encoded packets not yet handed to the socket: everything one task produces leaves as one
    /// WebSocket message (MQTT-6.0.0-2 lets a message carry several packets).
    out: Vec<u8>,
    /// A microtask that flushes `out` is queued.
    flush_queued: bool,
    /// Reused for each inbound frame, so the hot path allocates nothing per frame.
    frame: Vec<u8>,
    timer: Option<Timer>,
    emit: Function,
    /// Events for JavaScript, emitted once the state is released.
    outbox: Vec<(&'static str, JsValue)>,
    me: Weak<RefCell<State>>,
    ended: bool,
    /// Listeners on the page's window and document, removed when the client ends.
    page_listeners: Vec<(web_sys::EventTarget, &'static str, Closure<dyn FnMut()>)>,
    /// Delivered messages a second, for `metrics()`.
    message_rate: crate::rate::RateWindow,
}

#[wasm_bindgen]
pub struct Driver {
    state: Rc<RefCell<State>>,
}

fn lost_reason_text(reason: LostReason) -> &'static str {
    match reason {
        LostReason::TransportClosed => "connection closed",
        LostReason::KeepAliveTimeout => "keepalive timeout",
        LostReason::ProtocolError(_) => "protocol error",
        LostReason::ServerDisconnect(_) => "disconnected by the broker",
        LostReason::Requested => "ended",
        LostReason::AuthenticationAbandoned => "authentication abandoned",
    }
}

fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in entries {
        let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object.into()
}

fn command_error(error: CommandError) -> JsValue {
    mqtt_error(error.code(), &error.to_string(), None, false)
}

/// A delivered message as JavaScript sees it (js/index.js gives it its prototype).
fn message_object(publish: &Publish) -> JsValue {
    object(&[
        ("topic", JsValue::from_str(&publish.topic)),
        ("payload", Uint8Array::from(&publish.payload[..]).into()),
        ("qos", (publish.qos as u8).into()),
        ("retain", publish.retain.into()),
        ("dup", publish.dup.into()),
        ("properties", props::to_js(&publish.properties).into()),
    ])
}

fn routing_object(primary: bool, named: Vec<(String, bool)>) -> JsValue {
    let named: Array = named
        .into_iter()
        .map(|(filter, named)| -> JsValue {
            Array::of2(&JsValue::from_str(&filter), &named.into()).into()
        })
        .collect();
    object(&[("primary", primary.into()), ("named", named.into())])
}

/// Runs `f` on the state, then makes the JavaScript calls it queued.
fn with_state(state: &Rc<RefCell<State>>, f: impl FnOnce(&mut State)) {
    f(&mut state.borrow_mut());
    send_outbox(state);
}

/// The JavaScript calls queued while the state was borrowed. Out of line: every entry point
/// (each its own copy of the generic `with_state`) shares this one.
#[inline(never)]
fn send_outbox(state: &Rc<RefCell<State>>) {
    let (outbox, emit) = {
        let mut s = state.borrow_mut();
        (std::mem::take(&mut s.outbox), s.emit.clone())
    };
    for (event, detail) in outbox {
        let _ = emit.call2(&JsValue::NULL, &JsValue::from_str(event), &detail);
    }
}

fn with_weak(weak: &Weak<RefCell<State>>, f: impl FnOnce(&mut State)) {
    if let Some(state) = weak.upgrade() {
        with_state(&state, f);
    }
}

impl State {
    fn emit(&mut self, event: &'static str, detail: JsValue) {
        self.outbox.push((event, detail));
    }

    /// The call `token` stands for (a publish, a request) failed with `error`.
    fn call_failed(&mut self, token: Token, error: JsValue) {
        self.emit(
            "failed",
            object(&[("token", token.into()), ("error", error)]),
        );
    }

    fn error(&mut self, code: &str, message: &str, reason_code: Option<u8>, fatal: bool) {
        let error = mqtt_error(code, message, reason_code, fatal);
        self.emit("error", error);
    }

    fn open_socket(&mut self, url_index: usize) {
        self.close_socket();
        self.socket_generation += 1;
        let generation = self.socket_generation;
        let weak = self.me.clone();
        let url = self.urls[url_index].clone();
        match Socket::open(&url, move |event| {
            with_weak(&weak, |s| s.on_socket(generation, event))
        }) {
            Ok(socket) => self.socket = Some(socket),
            Err(error) => {
                let message = format!(
                    "cannot open {url}: {}",
                    error.as_string().unwrap_or_else(|| format!("{error:?}"))
                );
                self.error("CONNECTION_FAILED", &message, None, false);
                self.supervisor.handle_closed(now_ms());
            }
        }
    }

    /// Drops the transport (its handlers go with it, so no close event follows).
    fn close_socket(&mut self) {
        self.socket_opened = false;
        if self.detach_socket().is_some() {
            self.session.handle_transport_closed(now_ms());
        }
        self.decoder = StreamDecoder::new(
            self.session.protocol(),
            self.session.max_incoming_packet_size(),
        );
    }

    /// The socket closed by itself. Once it was open the session reports the loss (its `Lost`
    /// event tells the supervisor); one that never opened is a failed attempt, which only the
    /// supervisor hears of, so that the next attempt follows the backoff rather than waiting
    /// out the connect timeout.
    fn socket_gone(&mut self, now: u64) {
        self.detach_socket();
        self.session.handle_transport_closed(now);
        let held = self.held_attempt == Some(self.socket_generation);
        if !std::mem::take(&mut self.socket_opened) && !held {
            self.supervisor.handle_closed(now);
        }
    }

    fn on_socket(&mut self, generation: u32, event: SocketEvent) {
        if generation != self.socket_generation || self.ended {
            return;
        }
        let now = now_ms();
        match event {
            SocketEvent::Open => {
                self.socket_opened = true;
                self.session.handle_transport_open(now);
            }
            SocketEvent::Data(bytes) => {
                self.frame.resize(bytes.length() as usize, 0);
                bytes.copy_to(&mut self.frame);
                self.decoder.feed(&self.frame);
                loop {
                    match self.decoder.next_packet() {
                        Ok(Some(packet)) => self.session.handle_packet(now, packet),
                        Ok(None) => break,
                        Err(error) => {
                            let message = format!("malformed packet from the broker: {error}");
                            self.error(
                                &reason_code_name(error.reason_code()),
                                &message,
                                Some(error.reason_code()),
                                false,
                            );
                            self.session.handle_decode_error(now, error.reason_code());
                            break;
                        }
                    }
                }
            }
            SocketEvent::Closed { code, reason } => {
                if !self.supervisor.is_up() && code != 1000 {
                    let index = self.supervisor.url_index();
                    if code == 1006 && !self.socket_opened {
                        self.handshake_failed(index);
                    } else {
                        let message = format!(
                            "the WebSocket to {} closed before the broker accepted the connection (code {code}{}{reason})",
                            self.urls[index],
                            if reason.is_empty() { "" } else { ": " }
                        );
                        self.attempt_failed("CONNECTION_FAILED", message);
                    }
                }
                self.socket_gone(now);
            }
            SocketEvent::WrongSubprotocol(protocol) => {
                self.socket_gone(now);
                let message = format!("the server did not agree to the mqtt subprotocol (it chose \"{protocol}\"): not an MQTT WebSocket endpoint");
                self.error("WRONG_SUBPROTOCOL", &message, None, false);
            }
            SocketEvent::TextFrame => {
                self.socket_gone(now);
                self.error(
                    "PROTOCOL_ERROR",
                    "the server sent a text frame; MQTT over WebSocket is binary only",
                    None,
                    false,
                );
            }
        }
        self.pump();
    }

    /// Another client (another browser or device) with our client id took the session over
    /// (DISCONNECT 0x8E, MQTT-3.1.4-3): reconnecting would take it back and start a loop, so the
    /// client stops and says why.
    fn taken_over(&mut self) {
        self.supervisor.stop(StopReason::PermanentRefusal);
        let message = "the broker handed this session to another client with the same client id (Session taken over); the client stopped rather than take it back";
        let code = codec::reason::SESSION_TAKEN_OVER;
        self.error("SESSION_TAKEN_OVER", message, Some(code), true);
    }

    /// Reports a failed handshake with `urls[index]`, once the diagnosis has a verdict.
    /// While a probe runs, the supervisor hears of the failure only once the verdict is out, so
    /// that the error saying why comes before the next attempt or the client giving up.
    fn handshake_failed(&mut self, index: usize) {
        let weak = self.me.clone();
        let url = self.urls[index].clone();
        let generation = self.socket_generation;
        let verdict = self.diagnosis.failed(index, &url, move |answer| {
            with_weak(&weak, |s| {
                let verdict = s.diagnosis.learn(index, answer);
                s.report_handshake(index, verdict);
                // Unless the connect timeout already moved the supervisor on.
                let unchanged = s.socket_generation == generation && s.socket.is_none();
                if s.held_attempt.take() == Some(generation) && unchanged && !s.ended {
                    s.supervisor.handle_closed(now_ms());
                    s.pump();
                }
            })
        });
        match verdict {
            Some(verdict) => self.report_handshake(index, verdict),
            None => self.held_attempt = Some(generation),
        }
    }

    fn report_handshake(&mut self, index: usize, verdict: Verdict) {
        // Connected by the time the probe answered: that failure was a passing one.
        let verdict = if self.supervisor.is_up() {
            Verdict::Unknown
        } else {
            verdict
        };
        let (code, message) = diagnosis::report(verdict, &self.urls[index]);
        self.attempt_failed(code, message);
    }

    /// An attempt to connect failed: reported now, and kept for the final error if the client
    /// gives up.
    fn attempt_failed(&mut self, code: &str, message: String) {
        self.error(code, &message, None, false);
        self.last_failure = Some((code.to_string(), message));
    }

    /// The error for an application that gave up waiting: the last failure's code and detail,
    /// or CONNECT_TIMEOUT when no attempt failed yet.
    fn first_connect_error(&mut self, what: &str, fatal: bool) -> JsValue {
        match self.last_failure.take() {
            Some((code, why)) => mqtt_error(&code, &format!("{what}: {why}"), None, fatal),
            None => mqtt_error(
                "CONNECT_TIMEOUT",
                &format!("{what}: no attempt got an answer yet"),
                None,
                fatal,
            ),
        }
    }

    fn on_timer(&mut self) {
        let now = now_ms();
        self.session.handle_timeout(now);
        self.supervisor.handle_timeout(now);
        self.pump();
    }

    /// Moves everything that is ready: link actions, packets, events, store writes, the timer.
    fn pump(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(action) = self.supervisor.poll_action() {
                progressed = true;
                match action {
                    LinkAction::Open { url_index } => self.open_socket(url_index),
                    LinkAction::Close => self.close_socket(),
                }
            }
            while let Some(packet) = self.session.poll_packet() {
                // Everything was checked when given; should a packet still not encode, the
                // session fails what it belongs to rather than it vanishing.
                if let Err(error) = codec::encode(&packet, self.session.protocol(), &mut self.out) {
                    self.session.handle_encode_error(now_ms(), &packet, error);
                }
            }
            if self.out.len() >= FLUSH_AT_BYTES {
                self.flush();
            }
            while let Some(event) = self.session.poll_event() {
                progressed = true;
                self.on_session_event(event);
            }
            while let Some(event) = self.supervisor.poll_event() {
                progressed = true;
                self.on_link_event(event);
            }
            while let Some(op) = self.session.poll_store() {
                self.sync.push(op);
            }
            let step = self.sync.poll(now_ms());
            // A commit can release acks and deliveries: another round sends them.
            progressed |= self.apply_store_step(step);
            if !progressed {
                break;
            }
        }
        self.queue_flush();
        self.arm_timer();
    }

    /// Sends the gathered packets, as one WebSocket message, to the socket they were encoded
    /// for. With no socket they are dropped, like a send on a closed socket.
    fn flush(&mut self) {
        if let Some(socket) = &self.socket {
            if !self.out.is_empty() {
                let _ = socket.send(&self.out);
            }
        }
        self.out.clear();
    }

    /// Flushes once the current task is done, so that a burst of calls (a loop of `publish()`,
    /// the acks for one frame) leaves as one message. Always queued while `out` holds bytes,
    /// so nothing waits for a later event.
    fn queue_flush(&mut self) {
        if self.out.is_empty() || self.flush_queued {
            return;
        }
        self.flush_queued = true;
        let weak = self.me.clone();
        spawn_local(async move {
            with_weak(&weak, |s| {
                s.flush_queued = false;
                s.flush();
            })
        });
    }

    /// Takes the socket away, first sending what was gathered for it: bytes never go to a
    /// later socket than the one current when they were encoded.
    fn detach_socket(&mut self) -> Option<Socket> {
        self.flush();
        self.socket.take()
    }

    fn arm_timer(&mut self) {
        let now = now_ms();
        let deadline = [
            self.session.poll_timeout(),
            self.supervisor.poll_timeout(),
            self.sync.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(timer) = self.timer.as_mut() {
            match deadline {
                Some(at) => timer.arm_at(at, now),
                None => timer.cancel(),
            }
        }
    }

    fn on_session_event(&mut self, event: Event) {
        let now = now_ms();
        match event {
            Event::Connected {
                session_present,
                properties,
            } => {
                self.supervisor.handle_connected(now);
                self.diagnosis.connected(self.supervisor.url_index());
                self.ever_connected = true;
                self.last_failure = None;
                let detail = object(&[
                    ("sessionPresent", session_present.into()),
                    ("reasonCode", 0.into()),
                    ("properties", props::to_js(&properties).into()),
                ]);
                self.emit("connect", detail);
            }
            Event::Refused {
                reason_code,
                permanent,
                ..
            } => {
                self.close_socket();
                self.supervisor.handle_refused(now, permanent);
                let message = format!(
                    "the broker refused the connection: {}",
                    codec::reason::name(reason_code)
                );
                let code = reason_code_name(reason_code);
                self.error(&code, &message, Some(reason_code), permanent);
                self.last_failure = Some((code, message));
            }
            Event::Lost { reason } => {
                // The session already knows; this only drops the transport and its buffer.
                self.close_socket();
                if reason == LostReason::ServerDisconnect(codec::reason::SESSION_TAKEN_OVER) {
                    self.taken_over();
                } else if reason != LostReason::Requested {
                    self.supervisor.handle_closed(now);
                }
                if let LostReason::ProtocolError(code) = reason {
                    // The broker broke the protocol: the application hears why, not only close.
                    let message = format!("protocol error: {}", codec::reason::name(code));
                    self.error(&reason_code_name(code), &message, Some(code), false);
                }
                let mut entries = vec![("reason", JsValue::from_str(lost_reason_text(reason)))];
                if let Some(code) = reason.reason_code() {
                    entries.push(("reasonCode", code.into()));
                    entries.push(("code", reason_code_name(code).into()));
                }
                self.emit("close", object(&entries));
            }
            Event::Message {
                publish,
                routes,
                primary,
            } => {
                if primary {
                    self.message_rate.record(now);
                }
                let message = message_object(&publish);
                let detail = object(&[
                    ("message", message),
                    ("routes", Uint32Array::from(&routes[..]).into()),
                    ("primary", primary.into()),
                ]);
                self.emit("message", detail);
            }
            Event::Published { token, reason_code } => {
                self.emit(
                    "done",
                    object(&[
                        ("token", token.into()),
                        ("result", object(&[("reasonCode", reason_code.into())])),
                    ]),
                );
            }
            Event::PublishFailed { token, reason_code } => {
                // The broker's refusal, by its reason name (0x97 is QUOTA_EXCEEDED).
                let message = format!("publish failed: {}", codec::reason::name(reason_code));
                let code = reason_code_name(reason_code);
                let error = mqtt_error(&code, &message, Some(reason_code), false);
                self.call_failed(token, error);
            }
            Event::PublishDropped { token } => {
                let error = mqtt_error(
                    "QUEUE_OVERFLOW",
                    "the queue was full: this QoS 0 message was dropped unsent ('drop-oldest-qos0')",
                    None,
                    false,
                );
                self.call_failed(token, error);
            }
            Event::PublishExpired { token } => {
                let error = mqtt_error(
                    "MESSAGE_EXPIRED",
                    "the message expired before it could be sent",
                    None,
                    false,
                );
                self.call_failed(token, error);
            }
            Event::Subscribed {
                token,
                reason_codes,
            }
            | Event::Unsubscribed {
                token,
                reason_codes,
            } => {
                let codes: Array = reason_codes.iter().map(|c| JsValue::from(*c)).collect();
                self.emit(
                    "done",
                    object(&[("token", token.into()), ("result", codes.into())]),
                );
            }
            Event::Backpressure { high } => {
                let metrics = self.session.metrics();
                let detail = object(&[
                    ("high", high.into()),
                    ("queued", (metrics.queued as u32).into()),
                    ("queuedBytes", (metrics.queued_bytes as u32).into()),
                ]);
                self.emit("backpressure", detail);
            }
            Event::DuplicateDropped { message_id, topic } => {
                self.emit(
                    "duplicate",
                    object(&[("messageId", message_id.into()), ("topic", topic.into())]),
                );
            }
            Event::CorruptRecord { key } => self.corrupt_record(&key),
            Event::Response { token, publish } => {
                let detail = object(&[
                    ("token", token.into()),
                    ("message", message_object(&publish)),
                ]);
                self.emit("response", detail);
            }
            Event::RequestFailed { token, error } => {
                let error =
                    mqtt_error(error.code(), &error.to_string(), error.reason_code(), false);
                self.call_failed(token, error);
            }
            Event::AuthChallenge {
                exchange,
                method,
                data,
                reason_code,
                properties,
            } => {
                let data = data.map_or(JsValue::UNDEFINED, |d| Uint8Array::from(&d[..]).into());
                let detail = object(&[
                    ("exchange", exchange.into()),
                    ("method", method.into()),
                    ("data", data),
                    ("reasonCode", reason_code.into()),
                    ("properties", props::to_js(&properties).into()),
                ]);
                self.emit("auth", detail);
            }
            Event::Reauthenticated { properties } => {
                let detail = object(&[("properties", props::to_js(&properties).into())]);
                self.emit("reauthenticated", detail);
            }
            Event::AuthError { error } => {
                self.error(
                    error.code(),
                    &error.to_string(),
                    Some(codec::reason::PROTOCOL_ERROR),
                    false,
                );
            }
        }
    }

    fn on_link_event(&mut self, event: LinkEvent) {
        match event {
            LinkEvent::Reconnecting {
                attempt,
                delay_ms,
                url_index,
            } => {
                let detail = object(&[
                    ("attempt", attempt.into()),
                    ("delayMs", delay_ms.into()),
                    ("url", JsValue::from_str(&self.urls[url_index])),
                ]);
                self.emit("reconnect", detail);
            }
            LinkEvent::Offline => self.emit("offline", JsValue::UNDEFINED),
            LinkEvent::AttemptTimedOut { url_index } => {
                let message = format!(
                    "no answer from {} within the connect timeout ({} ms)",
                    self.urls[url_index], self.connect_timeout_ms
                );
                self.attempt_failed("CONNECT_TIMEOUT", message);
            }
            LinkEvent::ConnectOverdue => {
                let what = if self.supervisor.is_offline() {
                    "not connected within the connect timeout, and the browser is offline"
                } else {
                    "not connected within the connect timeout"
                };
                let what = format!("{what} ({} ms)", self.connect_timeout_ms);
                let error = self.first_connect_error(&what, false);
                self.emit("overdue", error);
            }
            LinkEvent::Stopped {
                reason: StopReason::ReconnectDisabled,
            } => {
                let error = if self.ever_connected {
                    let message = "the connection was lost and reconnect is off";
                    mqtt_error("CONNECTION_LOST", message, None, true)
                } else {
                    self.first_connect_error("could not connect, and reconnect is off", true)
                };
                self.emit("error", error);
            }
            LinkEvent::Stopped {
                reason: StopReason::GaveUp,
            } => {
                let attempts = self.supervisor.attempts();
                let why = match self.last_failure.take() {
                    Some((code, message)) => format!("; the last failure: {code}: {message}"),
                    None => String::new(),
                };
                let message = format!("gave up after {attempts} reconnect attempts in a row failed (reconnect.maxAttempts){why}; what is stored stays for the next connect()");
                self.error("RECONNECT_GAVE_UP", &message, None, true);
            }
            LinkEvent::Stopped { .. } => {}
        }
    }

    /// Carries out what the store sync asks for; true when the session got a new commit.
    fn apply_store_step(&mut self, step: Step) -> bool {
        let mut released = false;
        if let Some(seq) = step.committed.filter(|seq| *seq > self.committed_seq) {
            self.committed_seq = seq;
            self.session.handle_store_committed(now_ms(), seq);
            released = true;
        }
        if let Some(change) = step.change {
            self.report_store_change(change);
        }
        if let Some(job) = step.job {
            self.start_store_job(job);
        }
        released
    }

    /// Runs one store job (group commit: one transaction per job) and feeds its outcome back.
    fn start_store_job(&mut self, job: Job) {
        let Some(store) = self.store.clone() else {
            return; // only a sync made with a store has jobs
        };
        // The snapshot is taken now, so that the writes made while it is stored follow it.
        let snapshot = matches!(job, Job::Rewrite).then(|| self.session.snapshot());
        let weak = self.me.clone();
        spawn_local(async move {
            let outcome = match (job, snapshot) {
                (Job::Commit(writes), _) => store.commit(&writes).await,
                (Job::Clear, _) => store.replace_all(&[]).await,
                (Job::Rewrite, records) => store.replace_all(&records.unwrap_or_default()).await,
            };
            with_weak(&weak, |s| {
                let ok = outcome.is_ok();
                if let Err(error) = outcome {
                    s.store_error = Some(error);
                }
                let step = s.sync.finished(now_ms(), ok);
                s.apply_store_step(step);
                s.pump();
            });
        });
    }

    fn report_store_change(&mut self, change: Change) {
        let cause = self
            .store_error
            .take()
            .unwrap_or_else(|| StoreError::Failed("unknown error".into()));
        let consequence = match change {
            Change::CaughtUp => {
                self.emit("storage", object(&[("persistence", "indexeddb".into())]));
                return;
            }
            Change::Behind => "the session carries on in memory, and is stored again once IndexedDB accepts it",
            Change::ClearFailed => "could not empty the stored session that no longer matches; a reload may resume from it",
        };
        let message = format!("{}: {consequence}", cause.message());
        let error = mqtt_error(cause.code(), &message, None, false);
        self.emit("error", error.clone());
        self.emit(
            "storage",
            object(&[("persistence", "memory".into()), ("error", error)]),
        );
    }

    /// The store could not be opened or read: the session runs in memory.
    fn store_failed(&mut self, error: StoreError) {
        self.store = None;
        self.sync = StoreSync::new(false);
        let error = mqtt_error(error.code(), &error.message(), None, false);
        self.emit("error", error.clone());
        self.emit(
            "storage",
            object(&[("persistence", "memory".into()), ("error", error)]),
        );
    }

    /// A stored entry that is not a readable record: reported (naming its key) and skipped.
    fn corrupt_record(&mut self, key: &str) {
        let error = mqtt_error(
            "STORE_CORRUPT_RECORD",
            &format!("skipped a stored record that could not be read: {key}"),
            None,
            false,
        );
        let _ = Reflect::set(&error, &"record".into(), &key.into());
        self.emit("error", error.clone());
        self.emit(
            "storage",
            object(&[("persistence", "indexeddb".into()), ("error", error)]),
        );
    }

    fn remove_page_listeners(&mut self) {
        for (target, name, listener) in self.page_listeners.drain(..) {
            let _ =
                target.remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        }
    }
}

fn install_page_listeners(state: &Rc<RefCell<State>>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let weak = Rc::downgrade(state);
    let on_window: &web_sys::EventTarget = window.as_ref();
    let mut listeners: Vec<(web_sys::EventTarget, &'static str, Closure<dyn FnMut()>)> = Vec::new();
    for (name, online) in [("online", true), ("offline", false)] {
        let weak = weak.clone();
        listeners.push((
            on_window.clone(),
            name,
            Closure::new(move || {
                with_weak(&weak, |s| {
                    s.supervisor.handle_online(now_ms(), online);
                    s.pump();
                })
            }),
        ));
    }
    // A hidden tab's timers may have fired late, and a frozen page's (the Worker's too) not at
    // all: check every deadline the moment the page is visible again or resumes.
    let catch_up = |weak: Weak<RefCell<State>>| -> Closure<dyn FnMut()> {
        Closure::new(move || with_weak(&weak, |s| s.on_timer()))
    };
    listeners.push((
        on_window.clone(),
        "visibilitychange",
        catch_up(weak.clone()),
    ));
    if let Some(document) = window.document() {
        // `resume` is fired at the document and does not reach the window.
        listeners.push((document.into(), "resume", catch_up(weak)));
    }
    for (target, name, listener) in &listeners {
        let _ = target.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
    }
    let navigator_online = window.navigator().on_line();
    let mut s = state.borrow_mut();
    s.page_listeners = listeners;
    s.supervisor.handle_online(now_ms(), navigator_online);
}

#[wasm_bindgen]
impl Driver {
    /// Validates the options (throws an `MqttError` with code `INVALID_ARGUMENT` naming the bad
    /// one). Nothing connects until `start`.
    #[wasm_bindgen(constructor)]
    pub fn new(url: JsValue, options: JsValue, emit: Function) -> Result<Driver, JsValue> {
        let options = client_options::read(&url, &options).map_err(|e| invalid_argument(&e.0))?;
        let seed = (js_sys::Math::random() * 2f64.powi(53)) as u64;
        let database = IdbStore::database_name(&options.urls[0], &options.session.client_id);
        let protocol = options.session.protocol;
        let url_count = options.urls.len();
        let max_in = options.session.incoming_packet_limit();
        let state = Rc::new_cyclic(|me: &Weak<RefCell<State>>| {
            let weak = me.clone();
            RefCell::new(State {
                session: Session::new(options.session),
                supervisor: Supervisor::new(
                    options.urls.len(),
                    options.connect_timeout_ms,
                    options.reconnect,
                    seed,
                ),
                urls: options.urls,
                persistence: options.persistence,
                store: None,
                database,
                sync: StoreSync::new(false),
                committed_seq: 0,
                store_error: None,
                socket: None,
                socket_generation: 0,
                socket_opened: false,
                diagnosis: Diagnosis::new(url_count),
                held_attempt: None,
                last_failure: None,
                connect_timeout_ms: options.connect_timeout_ms,
                ever_connected: false,
                decoder: StreamDecoder::new(protocol, max_in),
                out: Vec::with_capacity(4096),
                flush_queued: false,
                frame: Vec::new(),
                timer: Some(Timer::new(move || with_weak(&weak, |s| s.on_timer()))),
                emit,
                outbox: Vec::new(),
                me: me.clone(),
                ended: false,
                page_listeners: Vec::new(),
                message_rate: Default::default(),
            })
        });
        Ok(Driver { state })
    }

    /// The name the session is stored and shared across tabs under: the broker's identity and
    /// the client id, never a credential of the URL (`session::storage_name`).
    #[wasm_bindgen(getter, js_name = sessionName)]
    pub fn session_name(&self) -> String {
        self.state.borrow().database.name.clone()
    }

    /// Loads the persisted session (falling back to memory, with a `storage` event, when
    /// IndexedDB is unusable), then starts connecting.
    pub async fn start(&self) -> Result<(), JsValue> {
        let (persistence, database) = {
            let s = self.state.borrow();
            (s.persistence, s.database.clone())
        };
        if persistence == Persistence::IndexedDb {
            let loaded = match IdbStore::open_session(&database).await {
                Ok(store) => store.load().await.map(|records| (store, records)),
                Err(error) => Err(error),
            };
            with_state(&self.state, |s| match loaded {
                Ok((store, loaded)) => {
                    s.session.load(loaded.records, now_ms());
                    s.store = Some(Rc::new(store));
                    s.sync = StoreSync::new(true);
                    s.emit("storage", object(&[("persistence", "indexeddb".into())]));
                    for key in &loaded.unreadable {
                        s.corrupt_record(key);
                    }
                }
                Err(error) => s.store_failed(error),
            });
        }
        install_page_listeners(&self.state);
        with_state(&self.state, |s| {
            s.supervisor.start(now_ms());
            s.pump();
        });
        Ok(())
    }

    /// Queues a publish; returns the token its `done` / `failed` event will carry.
    pub fn publish(
        &self,
        topic: String,
        payload: JsValue,
        options: JsValue,
    ) -> Result<u32, JsValue> {
        let request = arguments::read_publish(topic, &payload, &options)?;
        self.command(|session, now| session.publish(now, request))
    }

    /// `subscriptions`: `[{ topic, qos?, noLocal?, retainAsPublished?, retainHandling? }]`.
    pub fn subscribe(&self, subscriptions: JsValue, options: JsValue) -> Result<u32, JsValue> {
        let (filters, properties) = arguments::read_subscriptions(subscriptions, &options)?;
        self.command(|session, now| session.subscribe(now, filters, properties))
    }

    pub fn unsubscribe(&self, topics: JsValue, options: JsValue) -> Result<u32, JsValue> {
        let (filters, properties) = arguments::read_unsubscribe(topics, &options)?;
        self.command(|session, now| session.unsubscribe(now, filters, properties))
    }

    /// Publishes a request (MQTT 5); returns the token its `response` / `failed` event will
    /// carry. `options`: `{ qos?, properties?, timeout? (ms), responseTopic? }`.
    pub fn request(
        &self,
        topic: String,
        payload: JsValue,
        options: JsValue,
    ) -> Result<u32, JsValue> {
        let spec = arguments::read_request(topic, &payload, &options)?;
        self.command(|session, now| session.request(now, spec))
    }

    /// Publishes `payload` as the response to `message` (a delivered message): to its
    /// `properties.responseTopic`, with its `properties.correlationData`.
    pub fn respond(
        &self,
        message: JsValue,
        payload: JsValue,
        options: JsValue,
    ) -> Result<u32, JsValue> {
        let reply = arguments::read_publish(String::new(), &payload, &options)?;
        let request = arguments::read_request_message(&message)?;
        self.command(|session, now| session.respond(now, &request, reply))
    }

    /// Answers the authentication challenge `exchange` (from an `auth` event) with `data`.
    pub fn authenticate(&self, exchange: u32, data: JsValue) -> Result<(), JsValue> {
        let data = arguments::read_auth_data(&data)?;
        self.command(|session, now| session.authenticate(now, exchange, data))
    }

    /// Gives up an authentication exchange the application cannot answer.
    #[wasm_bindgen(js_name = abortAuthentication)]
    pub fn abort_authentication(&self) {
        let _ = self.command(|session, now| {
            session.abort_authentication(now);
            Ok(())
        });
    }

    /// Starts a re-authentication with `data`; a `reauthenticated` event settles it.
    pub fn reauthenticate(&self, data: JsValue) -> Result<(), JsValue> {
        let data = arguments::read_auth_data(&data)?;
        self.command(|session, now| session.reauthenticate(now, data))
    }

    #[wasm_bindgen(js_name = addRoute)]
    pub fn add_route(&self, filter: String) -> Result<u32, JsValue> {
        self.state
            .borrow_mut()
            .session
            .add_route(&filter)
            .map_err(command_error)
    }

    #[wasm_bindgen(js_name = removeRoute)]
    pub fn remove_route(&self, id: u32) {
        self.state.borrow_mut().session.remove_route(id);
    }

    /// For another tab's routes (js/tabs.js fans messages out to the tabs sharing this
    /// connection): `{ primary, named: [[filter, named], ...] }`, see `Session::named_routes`.
    #[wasm_bindgen(js_name = namedRoutes)]
    pub fn named_routes(&self, topic: String, carried: Vec<u32>) -> JsValue {
        let s = self.state.borrow();
        let (primary, named) = s.session.named_routes(&topic, &carried);
        routing_object(primary, named)
    }

    /// The received messages still waiting for the store before delivery, for the tab that
    /// resumes the session if this one goes: `[{ message, qos, packetId?, key?, primary, named }]`.
    #[wasm_bindgen(js_name = pendingDeliveries)]
    pub fn pending_deliveries(&self) -> Array {
        let s = self.state.borrow();
        s.session
            .pending_deliveries()
            .into_iter()
            .map(|(publish, key)| -> JsValue {
                let (primary, named) = s
                    .session
                    .named_routes(&publish.topic, &publish.properties.subscription_identifiers);
                let item = routing_object(primary, named);
                let _ = Reflect::set(&item, &"message".into(), &message_object(&publish));
                let _ = Reflect::set(&item, &"qos".into(), &(publish.qos as u8).into());
                if let Some(id) = publish.packet_id {
                    let _ = Reflect::set(&item, &"packetId".into(), &id.into());
                }
                if let Some(key) = key {
                    let _ = Reflect::set(&item, &"key".into(), &key.into());
                }
                item
            })
            .collect()
    }

    /// Whether this message (from `pendingDeliveries` of the page that went) is this page's to
    /// deliver: its receipt was stored when the session was loaded, so the broker's
    /// redelivery will not be delivered here. True once per message.
    #[wasm_bindgen(js_name = claimHandedOver)]
    pub fn claim_handed_over(&self, qos: u8, packet_id: Option<u16>, key: Option<String>) -> bool {
        let Some(qos) = codec::QoS::from_u8(qos) else {
            return false;
        };
        let mut s = self.state.borrow_mut();
        s.session.claim_handed_over(qos, packet_id, key.as_deref())
    }

    #[wasm_bindgen(getter)]
    pub fn connected(&self) -> bool {
        self.state.borrow().session.is_connected()
    }

    pub fn metrics(&self) -> JsValue {
        let s = self.state.borrow();
        let m = s.session.metrics();
        let rate = s.message_rate.per_second(now_ms());
        let mut entries = vec![
            ("connected", JsValue::from(m.connected)),
            ("inflight", (m.inflight as u32).into()),
            ("queued", (m.queued as u32).into()),
            ("queuedBytes", (m.queued_bytes as u32).into()),
            ("sent", (m.sent as f64).into()),
            ("received", (m.received as f64).into()),
            ("duplicatesDropped", (m.duplicates_dropped as f64).into()),
            ("copiesDropped", (m.copies_dropped as f64).into()),
            ("topicAliasHits", (m.topic_alias_hits as f64).into()),
            ("reconnects", (m.reconnects as f64).into()),
            ("messagesPerSecond", rate.into()),
            (
                "persistence",
                JsValue::from_str(if s.sync.is_durable() {
                    "indexeddb"
                } else {
                    "memory"
                }),
            ),
        ];
        if let Some(rtt) = m.rtt_ms {
            entries.push(("rttMs", (rtt as f64).into()));
        }
        entries.push((
            "keepaliveIntervalMs",
            (m.keepalive_interval_ms as f64).into(),
        ));
        object(&entries)
    }

    /// Throws the `INVALID_ARGUMENT` error `end(options)` would reject with, before the facade
    /// starts ending anything.
    #[wasm_bindgen(js_name = checkEndOptions)]
    pub fn check_end_options(options: JsValue) -> Result<(), JsValue> {
        arguments::read_end(&options).map(|_| ())
    }

    /// `end({ force?, timeout?, will? })`. Disconnects. Unless `force`, first waits (up to `timeout_ms`) for in-flight and queued
    /// messages to be acknowledged, then says goodbye with DISCONNECT (asking the broker to
    /// publish the will when `publish_will`); `force` closes without one, so the broker publishes
    /// the will. Waits for the last store commit either way.
    pub async fn end(&self, options: JsValue) -> Result<(), JsValue> {
        let arguments::EndOptions {
            force,
            timeout_ms,
            publish_will,
        } = arguments::read_end(&options)?;
        let deadline = now_ms() + u64::from(timeout_ms);
        if !force {
            loop {
                let (busy, up) = {
                    let s = self.state.borrow();
                    let m = s.session.metrics();
                    (m.inflight + m.queued > 0, s.session.is_connected())
                };
                if !busy || !up || now_ms() >= deadline {
                    break;
                }
                sleep(20).await;
            }
        }
        with_state(&self.state, |s| {
            let goodbye = match (force, publish_will) {
                (true, _) => Goodbye::None,
                (false, true) => Goodbye::DisconnectWithWill,
                (false, false) => Goodbye::Disconnect,
            };
            // The DISCONNECT is encoded and flushed to the socket before the socket goes:
            // stopping the supervisor first would close it with nothing sent.
            s.session.disconnect(now_ms(), goodbye);
            s.pump();
            s.ended = true;
            s.supervisor.stop(StopReason::Ended);
            s.pump();
            s.detach_socket();
            s.timer = None;
            s.remove_page_listeners();
            s.diagnosis.stop();
        });
        while self.state.borrow().sync.is_busy() && now_ms() < deadline + 5_000 {
            sleep(10).await;
        }
        Ok(())
    }
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve: Function, _| {
        let global = js_sys::global();
        let set_timeout: Function = Reflect::get(&global, &"setTimeout".into())
            .unwrap_or_default()
            .unchecked_into();
        let _ = set_timeout.call2(&global, &resolve, &ms.into());
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

impl Driver {
    /// Runs a session command, then moves whatever it made ready.
    fn command<T>(
        &self,
        f: impl FnOnce(&mut Session, u64) -> Result<T, CommandError>,
    ) -> Result<T, JsValue> {
        let mut outcome = None;
        with_state(&self.state, |s| {
            outcome = Some(f(&mut s.session, now_ms()).map_err(command_error));
            s.pump();
        });
        outcome.expect("the command ran")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(mut s) = self.state.try_borrow_mut() {
            s.ended = true;
            s.detach_socket();
            s.timer = None;
            s.remove_page_listeners();
            s.diagnosis.stop();
        }
    }
}
