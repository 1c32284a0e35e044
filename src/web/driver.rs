//! The driver: runs the session core and the link supervisor with real browser parts (one
//! WebSocket, one timer, IndexedDB) and reports to the JavaScript facade (js/index.js) through
//! one callback. Every entry point does its work with the state borrowed, then releases the
//! borrow and only then calls into JavaScript, so application code may call back in.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use bytes::Bytes;
use js_sys::{Array, Function, Object, Reflect, Uint32Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

use super::client_options::{self, Persistence};
use super::clock::now_ms;
use super::error::{invalid_argument, mqtt_error, reason_code_name};
use super::idb::{IdbStore, StoreError};
use super::options::{payload_bytes, Fields};
use super::props;
use super::socket::{Socket, SocketEvent};
use super::timer::Timer;
use crate::codec::{self, QoS, RetainHandling, StreamDecoder, SubscriptionOptions};
use crate::link::{LinkAction, LinkEvent, StopReason, Supervisor};
use crate::session::{CommandError, Event, LostReason, PublishRequest, Session, Write};

struct State {
    session: Session,
    supervisor: Supervisor,
    urls: Vec<String>,
    persistence: Persistence,
    store: Option<Rc<IdbStore>>,
    database: String,
    writes: Vec<Write>,
    last_write_seq: u64,
    committing: bool,
    socket: Option<Socket>,
    socket_generation: u32,
    decoder: StreamDecoder,
    out: Vec<u8>,
    /// Reused for each inbound frame, so the hot path allocates nothing per frame.
    frame: Vec<u8>,
    timer: Option<Timer>,
    emit: Function,
    /// Events for JavaScript, emitted once the state is released.
    outbox: Vec<(&'static str, JsValue)>,
    me: Weak<RefCell<State>>,
    routes: Vec<u32>,
    ended: bool,
    window_listeners: Vec<(&'static str, Closure<dyn FnMut()>)>,
    message_times: std::collections::VecDeque<u64>,
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

/// Runs `f` on the state, then makes the JavaScript calls it queued.
fn with_state(state: &Rc<RefCell<State>>, f: impl FnOnce(&mut State)) {
    let outbox = {
        let mut s = state.borrow_mut();
        f(&mut s);
        std::mem::take(&mut s.outbox)
    };
    let emit = state.borrow().emit.clone();
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
        if self.socket.take().is_some() {
            self.session.handle_transport_closed(now_ms());
        }
        self.decoder = StreamDecoder::new(
            self.session.protocol(),
            self.session.max_incoming_packet_size(),
        );
    }

    fn on_socket(&mut self, generation: u32, event: SocketEvent) {
        if generation != self.socket_generation || self.ended {
            return;
        }
        let now = now_ms();
        match event {
            SocketEvent::Open => self.session.handle_transport_open(now),
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
                self.socket = None;
                self.session.handle_transport_closed(now);
                if !self.supervisor.is_up() {
                    // An attempt that never opened (e.g. refused while the broker restarts)
                    // is not a lost session connection, so the session says nothing: the
                    // supervisor must hear of it here, or it waits out the connect timeout.
                    // (When the session does report a loss, the second call is a no-op.)
                    self.supervisor.handle_closed(now);
                }
                if !self.supervisor.is_up() && code != 1000 {
                    // Browsers report every failed handshake as 1006 with no detail.
                    let url = &self.urls[self.supervisor.url_index()];
                    let message = if code == 1006 {
                        format!(
                            "could not open the WebSocket to {url} (code 1006): nothing listens there, or the server refused the upgrade or the mqtt subprotocol (not an MQTT WebSocket endpoint), or TLS failed; the browser does not say which"
                        )
                    } else {
                        format!(
                            "the WebSocket to {url} closed (code {code}{}{reason})",
                            if reason.is_empty() { "" } else { ": " }
                        )
                    };
                    self.error("CONNECTION_FAILED", &message, None, false);
                }
            }
            SocketEvent::WrongSubprotocol(protocol) => {
                self.socket = None;
                self.session.handle_transport_closed(now);
                let message = format!("the server did not agree to the mqtt subprotocol (it chose {protocol:?}): not an MQTT WebSocket endpoint");
                self.error("WRONG_SUBPROTOCOL", &message, None, false);
            }
            SocketEvent::TextFrame => {
                self.socket = None;
                self.session.handle_transport_closed(now);
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
                // A packet that does not encode was refused when it was accepted; one that
                // slips through is dropped rather than sent broken.
                let _ = codec::encode(&packet, self.session.protocol(), &mut self.out);
            }
            if !self.out.is_empty() {
                if let Some(socket) = &self.socket {
                    let _ = socket.send(&self.out);
                }
                self.out.clear();
            }
            while let Some(event) = self.session.poll_event() {
                progressed = true;
                self.on_session_event(event);
            }
            while let Some(event) = self.supervisor.poll_event() {
                progressed = true;
                self.on_link_event(event);
            }
            if !progressed {
                break;
            }
        }
        while let Some(op) = self.session.poll_store() {
            self.last_write_seq = op.seq;
            self.writes.push(op.write);
        }
        self.commit_if_due();
        self.arm_timer();
    }

    fn arm_timer(&mut self) {
        let now = now_ms();
        let deadline = [self.session.poll_timeout(), self.supervisor.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        if let Some(timer) = self.timer.as_mut() {
            match deadline {
                Some(at) => timer.arm(at.saturating_sub(now).min(u64::from(u32::MAX)) as u32),
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
                self.error(
                    &reason_code_name(reason_code),
                    &message,
                    Some(reason_code),
                    permanent,
                );
            }
            Event::Lost { reason } => {
                // The session already knows; this only drops the transport and its buffer.
                self.close_socket();
                if reason != LostReason::Requested {
                    self.supervisor.handle_closed(now);
                }
                let mut entries = vec![("reason", JsValue::from_str(lost_reason_text(reason)))];
                if let Some(code) = reason.reason_code() {
                    entries.push(("reasonCode", code.into()));
                    entries.push(("code", reason_code_name(code).into()));
                }
                self.emit("close", object(&entries));
            }
            Event::Message { publish } => {
                self.routes.clear();
                self.session
                    .matching_routes(&publish.topic, &mut self.routes);
                self.message_times.push_back(now);
                while self.message_times.front().is_some_and(|t| now - t > 5_000) {
                    self.message_times.pop_front();
                }
                let message = object(&[
                    ("topic", JsValue::from_str(&publish.topic)),
                    ("payload", Uint8Array::from(&publish.payload[..]).into()),
                    ("qos", (publish.qos as u8).into()),
                    ("retain", publish.retain.into()),
                    ("dup", publish.dup.into()),
                    ("properties", props::to_js(&publish.properties).into()),
                ]);
                let detail = object(&[
                    ("message", message),
                    ("routes", Uint32Array::from(&self.routes[..]).into()),
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
                let message = format!("publish failed: {}", codec::reason::name(reason_code));
                let code = if reason_code == codec::reason::QUOTA_EXCEEDED {
                    "QUEUE_OVERFLOW".to_string()
                } else {
                    reason_code_name(reason_code)
                };
                let error = mqtt_error(&code, &message, Some(reason_code), false);
                self.emit(
                    "failed",
                    object(&[("token", token.into()), ("error", error)]),
                );
            }
            Event::PublishExpired { token } => {
                let error = mqtt_error(
                    "MESSAGE_EXPIRED",
                    "the message expired before it could be sent",
                    None,
                    false,
                );
                self.emit(
                    "failed",
                    object(&[("token", token.into()), ("error", error)]),
                );
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
            Event::CorruptRecord { key } => {
                self.error(
                    "STORE_CORRUPT_RECORD",
                    &format!("skipped a stored record that could not be read: {key}"),
                    None,
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
            LinkEvent::Stopped {
                reason: StopReason::ReconnectDisabled,
            } => {
                self.error(
                    "CONNECTION_LOST",
                    "the connection was lost and reconnect is off",
                    None,
                    true,
                );
            }
            LinkEvent::Stopped { .. } => {}
        }
    }

    /// Group commit: everything written since the last commit goes in one transaction; acks
    /// that wait for it are released when it completes.
    fn commit_if_due(&mut self) {
        if self.committing || self.writes.is_empty() {
            return;
        }
        let Some(store) = self.store.clone() else {
            // Memory persistence: nothing to wait for.
            self.writes.clear();
            let seq = self.last_write_seq;
            self.session.handle_store_committed(now_ms(), seq);
            return;
        };
        self.committing = true;
        let writes = std::mem::take(&mut self.writes);
        let seq = self.last_write_seq;
        let weak = self.me.clone();
        spawn_local(async move {
            let outcome = store.commit(&writes).await;
            with_weak(&weak, |s| {
                s.committing = false;
                if let Err(error) = outcome {
                    s.store_failed(error);
                }
                s.session.handle_store_committed(now_ms(), seq);
                s.pump();
            });
        });
    }

    /// The store cannot keep up (quota, a closed database): say so, and carry on in memory so
    /// that nothing stalls. What was already committed stays.
    fn store_failed(&mut self, error: StoreError) {
        self.store = None;
        self.persistence = Persistence::Memory;
        let error = mqtt_error(error.code(), &error.message(), None, false);
        self.emit("error", error.clone());
        self.emit(
            "storage",
            object(&[("persistence", "memory".into()), ("error", error)]),
        );
    }

    fn remove_window_listeners(&mut self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        for (name, listener) in self.window_listeners.drain(..) {
            let target: &web_sys::EventTarget = window.as_ref();
            let _ =
                target.remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        }
    }
}

fn install_window_listeners(state: &Rc<RefCell<State>>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let weak = Rc::downgrade(state);
    let mut listeners: Vec<(&'static str, Closure<dyn FnMut()>)> = Vec::new();
    for (name, online) in [("online", true), ("offline", false)] {
        let weak = weak.clone();
        listeners.push((
            name,
            Closure::new(move || {
                with_weak(&weak, |s| {
                    s.supervisor.handle_online(now_ms(), online);
                    s.pump();
                })
            }),
        ));
    }
    // A hidden tab's timers may have fired late: catch up the moment it is visible again.
    listeners.push((
        "visibilitychange",
        Closure::new(move || with_weak(&weak, |s| s.on_timer())),
    ));
    let target: &web_sys::EventTarget = window.as_ref();
    for (name, listener) in &listeners {
        let _ = target.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
    }
    let navigator_online = window.navigator().on_line();
    let mut s = state.borrow_mut();
    s.window_listeners = listeners;
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
        let max_in = options
            .session
            .connect_properties
            .maximum_packet_size
            .unwrap_or(0);
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
                writes: Vec::new(),
                last_write_seq: 0,
                committing: false,
                socket: None,
                socket_generation: 0,
                decoder: StreamDecoder::new(protocol, max_in),
                out: Vec::with_capacity(4096),
                frame: Vec::new(),
                timer: Some(Timer::new(move || with_weak(&weak, |s| s.on_timer()))),
                emit,
                outbox: Vec::new(),
                me: me.clone(),
                routes: Vec::new(),
                ended: false,
                window_listeners: Vec::new(),
                message_times: Default::default(),
            })
        });
        Ok(Driver { state })
    }

    /// Loads the persisted session (falling back to memory, with a `storage` event, when
    /// IndexedDB is unusable), then starts connecting.
    pub async fn start(&self) -> Result<(), JsValue> {
        let (persistence, database) = {
            let s = self.state.borrow();
            (s.persistence, s.database.clone())
        };
        if persistence == Persistence::IndexedDb {
            let loaded = match IdbStore::open(&database).await {
                Ok(store) => store.load().await.map(|records| (store, records)),
                Err(error) => Err(error),
            };
            match loaded {
                Ok((store, records)) => {
                    let mut s = self.state.borrow_mut();
                    s.session.load(records, now_ms());
                    s.store = Some(Rc::new(store));
                }
                Err(error) => with_state(&self.state, |s| s.store_failed(error)),
            }
        }
        install_window_listeners(&self.state);
        with_state(&self.state, |s| {
            if s.persistence == Persistence::IndexedDb {
                s.emit("storage", object(&[("persistence", "indexeddb".into())]));
            }
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
        let payload = payload_bytes(&payload).map_err(|e| invalid_argument(&e.0))?;
        let mut fields = Fields::of(&options, "options").map_err(|e| invalid_argument(&e.0))?;
        let read = (|| {
            let qos = fields
                .integer("qos", 0.0, 2.0)?
                .map_or(QoS::AtMostOnce, |n| {
                    QoS::from_u8(n as u8).unwrap_or_default()
                });
            let retain = fields.bool("retain")?.unwrap_or(false);
            let properties = match fields.get("properties") {
                Some(p) => props::from_js(&p, "options.properties")?,
                None => Default::default(),
            };
            let message_id = fields.string("messageId")?;
            Ok::<_, super::options::InvalidArgument>(PublishRequest {
                topic,
                payload: Bytes::from(payload),
                qos,
                retain,
                properties,
                message_id,
            })
        })();
        let request = read.map_err(|e| invalid_argument(&e.0))?;
        fields.finish().map_err(|e| invalid_argument(&e.0))?;
        let mut outcome = Err(JsValue::UNDEFINED);
        with_state(&self.state, |s| {
            outcome = s.session.publish(now_ms(), request).map_err(command_error);
            s.pump();
        });
        outcome
    }

    /// `subscriptions`: `[{ topic, qos?, noLocal?, retainAsPublished?, retainHandling? }]`.
    pub fn subscribe(&self, subscriptions: JsValue, options: JsValue) -> Result<u32, JsValue> {
        let list = subscriptions
            .dyn_into::<Array>()
            .map_err(|_| invalid_argument("subscribe needs a filter or a list of filters"))?;
        let mut fields = Fields::of(&options, "options").map_err(|e| invalid_argument(&e.0))?;
        let default_qos = fields
            .integer("qos", 0.0, 2.0)
            .map_err(|e| invalid_argument(&e.0))?
            .unwrap_or(0.0);
        let properties = match fields.get("properties") {
            Some(p) => {
                props::from_js(&p, "options.properties").map_err(|e| invalid_argument(&e.0))?
            }
            None => Default::default(),
        };
        fields.finish().map_err(|e| invalid_argument(&e.0))?;
        let mut filters = Vec::new();
        for item in list.iter() {
            let mut f = Fields::of(&item, "subscription").map_err(|e| invalid_argument(&e.0))?;
            let read = (|| {
                let topic = f.string("topic")?.ok_or_else(|| {
                    super::options::InvalidArgument("subscription.topic is required".into())
                })?;
                let qos = f.integer("qos", 0.0, 2.0)?.unwrap_or(default_qos);
                let options = SubscriptionOptions {
                    qos: QoS::from_u8(qos as u8).unwrap_or_default(),
                    no_local: f.bool("noLocal")?.unwrap_or(false),
                    retain_as_published: f.bool("retainAsPublished")?.unwrap_or(false),
                    retain_handling: match f.integer("retainHandling", 0.0, 2.0)? {
                        Some(1.0) => RetainHandling::SendAtSubscribeIfNew,
                        Some(2.0) => RetainHandling::DoNotSend,
                        _ => RetainHandling::SendAtSubscribe,
                    },
                };
                Ok::<_, super::options::InvalidArgument>((topic, options))
            })();
            filters.push(read.map_err(|e| invalid_argument(&e.0))?);
            f.finish().map_err(|e| invalid_argument(&e.0))?;
        }
        let mut outcome = Err(JsValue::UNDEFINED);
        with_state(&self.state, |s| {
            outcome = s
                .session
                .subscribe(now_ms(), filters, properties)
                .map_err(command_error);
            s.pump();
        });
        outcome
    }

    pub fn unsubscribe(&self, topics: JsValue, options: JsValue) -> Result<u32, JsValue> {
        let list = topics
            .dyn_into::<Array>()
            .map_err(|_| invalid_argument("unsubscribe needs a filter or a list of filters"))?;
        let filters = list
            .iter()
            .map(|t| {
                t.as_string()
                    .ok_or_else(|| invalid_argument("topic filters must be strings"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut fields = Fields::of(&options, "options").map_err(|e| invalid_argument(&e.0))?;
        let properties = match fields.get("properties") {
            Some(p) => {
                props::from_js(&p, "options.properties").map_err(|e| invalid_argument(&e.0))?
            }
            None => Default::default(),
        };
        fields.finish().map_err(|e| invalid_argument(&e.0))?;
        let mut outcome = Err(JsValue::UNDEFINED);
        with_state(&self.state, |s| {
            outcome = s
                .session
                .unsubscribe(now_ms(), filters, properties)
                .map_err(command_error);
            s.pump();
        });
        outcome
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

    #[wasm_bindgen(getter)]
    pub fn connected(&self) -> bool {
        self.state.borrow().session.is_connected()
    }

    pub fn metrics(&self) -> JsValue {
        let s = self.state.borrow();
        let m = s.session.metrics();
        let rate = s.message_times.len() as f64 / 5.0;
        let mut entries = vec![
            ("connected", JsValue::from(m.connected)),
            ("inflight", (m.inflight as u32).into()),
            ("queued", (m.queued as u32).into()),
            ("queuedBytes", (m.queued_bytes as u32).into()),
            ("sent", (m.sent as f64).into()),
            ("received", (m.received as f64).into()),
            ("duplicatesDropped", (m.duplicates_dropped as f64).into()),
            ("reconnects", (m.reconnects as f64).into()),
            ("messagesPerSecond", rate.into()),
            (
                "persistence",
                JsValue::from_str(if s.persistence == Persistence::IndexedDb {
                    "indexeddb"
                } else {
                    "memory"
                }),
            ),
        ];
        if let Some(rtt) = m.rtt_ms {
            entries.push(("rttMs", (rtt as f64).into()));
        }
        object(&entries)
    }

    /// Disconnects. Unless `force`, first waits (up to `timeout_ms`) for in-flight and queued
    /// messages to be acknowledged. Waits for the last store commit either way.
    pub async fn end(&self, force: bool, timeout_ms: u32) -> Result<(), JsValue> {
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
            s.ended = true;
            s.session.disconnect(now_ms());
            s.supervisor.stop(StopReason::Ended);
            s.pump();
            s.socket = None;
            s.timer = None;
            s.remove_window_listeners();
        });
        while self.state.borrow().committing && now_ms() < deadline + 5_000 {
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

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(mut s) = self.state.try_borrow_mut() {
            s.ended = true;
            s.socket = None;
            s.timer = None;
            s.remove_window_listeners();
        }
    }
}
