//! The driver: the browser side of the client core (src/client). It opens the sockets, probes,
//! IndexedDB transactions and the timer the core asks for, feeds their events in with `now`, and
//! turns the core's events into the ones the JavaScript facade (js/index.js) listens to, through
//! one callback. It decides nothing. Every entry point does its work with the state borrowed,
//! then releases the borrow and only then calls into JavaScript, so application code may call
//! back in.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use super::arguments;
use super::client_options::{self, Persistence};
use super::clock::now_ms;
use super::convert::{self, command_error, routing_object, store_failure};
use super::error::invalid_argument;
use super::idb::{DatabaseName, IdbStore};
use super::journal::WebJournal;
use super::page::PageListeners;
use super::socket::{Probe, Socket, SocketEvent};
use super::timer::Timer;
use crate::client::{
    AttemptRequest, Client, ClientConfig, ClientEvent, ProbeRequest, SocketAction, StoreJob,
};
use crate::codec;
use crate::session::CommandError;

struct State {
    client: Client,
    persistence: Persistence,
    database: DatabaseName,
    store: Option<Rc<IdbStore>>,
    /// `localStorage`, for the journal of publishes not yet committed (absent in a Worker).
    journal: Option<WebJournal>,
    /// The socket the core opened last, by its number.
    socket: Option<(u32, Socket)>,
    probe: Option<Probe>,
    /// A microtask that flushes the core's gathered bytes is queued.
    flush_queued: bool,
    /// Reused for each inbound frame, so the hot path allocates nothing per frame.
    frame: Vec<u8>,
    timer: Option<Timer>,
    emit: Function,
    /// The facade's `(url) => { url, credentials }` (or a Promise of it) computing each
    /// attempt's URL and credentials, when the application gave `transformWsUrl` or
    /// `credentials`.
    prepare: Option<Function>,
    /// Events for JavaScript, emitted once the state is released.
    outbox: Vec<(&'static str, JsValue)>,
    /// Resolves the Promise of `end()`; called once the core says it has ended.
    end_waiter: Option<Function>,
    ended: bool,
    me: Weak<RefCell<State>>,
    /// The page's online and visibility events, heard until the client ends.
    page: Option<PageListeners>,
}

#[wasm_bindgen]
pub struct Driver {
    state: Rc<RefCell<State>>,
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
    let (outbox, emit, ended) = {
        let mut s = state.borrow_mut();
        let ended = if s.ended { s.end_waiter.take() } else { None };
        (std::mem::take(&mut s.outbox), s.emit.clone(), ended)
    };
    for (event, detail) in outbox {
        let _ = emit.call2(&JsValue::NULL, &JsValue::from_str(event), &detail);
    }
    if let Some(resolve) = ended {
        let _ = resolve.call0(&JsValue::NULL);
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

    /// Carries out everything the core asks for, then arms the flush and the timer.
    fn drive(&mut self) {
        loop {
            let mut moved = false;
            // First, and before this returns to the page: what the journal must hold.
            while let Some(op) = self.client.poll_journal() {
                moved = true;
                self.journal_op(op);
            }
            while let Some(action) = self.client.poll_socket() {
                moved = true;
                self.socket_action(action);
            }
            while let Some(job) = self.client.poll_store() {
                moved = true;
                self.start_store_job(job);
            }
            while let Some(probe) = self.client.poll_probe() {
                moved = true;
                self.start_probe(probe);
            }
            while let Some(attempt) = self.client.poll_attempt() {
                moved = true;
                self.start_attempt_setup(attempt);
            }
            while let Some(event) = self.client.poll_event() {
                self.on_event(event);
            }
            if !moved {
                break;
            }
        }
        self.queue_flush();
        self.arm_timer();
    }

    fn socket_action(&mut self, action: SocketAction) {
        match action {
            SocketAction::Open { socket: id, url } => {
                let weak = self.me.clone();
                match Socket::open(&url, move |event| {
                    with_weak(&weak, |s| s.on_socket(id, event))
                }) {
                    Ok(socket) => self.socket = Some((id, socket)),
                    Err(error) => {
                        let detail = error.as_string().unwrap_or_else(|| format!("{error:?}"));
                        self.client.handle_socket_error(now_ms(), id, &detail);
                    }
                }
            }
            SocketAction::Send { socket: id, bytes } => {
                if let Some((current, socket)) = &self.socket {
                    if *current == id {
                        let _ = socket.send(&bytes);
                    }
                }
            }
            SocketAction::Close { socket: id } => {
                // Dropping the socket closes it after what was sent on it.
                if self
                    .socket
                    .as_ref()
                    .is_some_and(|(current, _)| *current == id)
                {
                    self.socket = None;
                }
            }
        }
    }

    fn on_socket(&mut self, id: u32, event: SocketEvent) {
        if self.ended {
            return;
        }
        let now = now_ms();
        match event {
            SocketEvent::Open => self.client.handle_socket_open(now, id),
            SocketEvent::Data(bytes) => {
                self.frame.resize(bytes.length() as usize, 0);
                bytes.copy_to(&mut self.frame);
                self.client.handle_socket_data(now, id, &self.frame);
            }
            SocketEvent::Closed { code, reason } => {
                self.client.handle_socket_closed(now, id, code, &reason)
            }
            SocketEvent::WrongSubprotocol(protocol) => {
                self.client.handle_wrong_subprotocol(now, id, &protocol)
            }
            SocketEvent::TextFrame => self.client.handle_text_frame(now, id),
        }
        self.drive();
    }

    fn start_probe(&mut self, probe: ProbeRequest) {
        let weak = self.me.clone();
        let id = probe.id;
        match Probe::start(&probe.url, move |answer| {
            with_weak(&weak, |s| {
                s.probe = None;
                s.client.handle_probe_answer(now_ms(), id, Some(answer));
                s.drive();
            })
        }) {
            Ok(running) => self.probe = Some(running),
            Err(_) => self.client.handle_probe_answer(now_ms(), id, None),
        }
    }

    /// Asks the facade for an attempt's URL and credentials and feeds the answer back. The
    /// application's functions run in a task of their own, with the state released.
    fn start_attempt_setup(&mut self, request: AttemptRequest) {
        let Some(prepare) = self.prepare.clone() else {
            return; // only a client made with `prepare` asks
        };
        let weak = self.me.clone();
        spawn_local(async move {
            let answer = match prepare.call1(&JsValue::NULL, &JsValue::from_str(&request.url)) {
                Ok(value) => JsFuture::from(js_sys::Promise::resolve(&value)).await,
                Err(error) => Err(error),
            };
            let setup = answer
                .map_err(|e| error_text(&e))
                .and_then(|value| client_options::read_attempt_setup(&value).map_err(|e| e.0));
            with_weak(&weak, |s| {
                s.client.handle_attempt_setup(now_ms(), request.id, setup);
                s.drive();
            });
        });
    }

    fn journal_op(&mut self, op: crate::client::JournalOp) {
        let Some(journal) = &self.journal else {
            return; // only a client given a journal asks for this
        };
        if !journal.apply(&op) {
            if let crate::client::JournalOp::Put(key, _) = &op {
                self.client.handle_journal_failed(now_ms(), key);
            }
        }
    }

    /// Runs one store job (one transaction) and feeds its outcome back.
    fn start_store_job(&mut self, job: StoreJob) {
        let Some(store) = self.store.clone() else {
            return; // only a client loaded from a store asks for jobs
        };
        let weak = self.me.clone();
        spawn_local(async move {
            let outcome = match job {
                StoreJob::Commit(writes) => store.commit(&writes).await,
                StoreJob::Replace(records) => store.replace_all(&records).await,
            };
            with_weak(&weak, |s| {
                s.client
                    .handle_store_done(now_ms(), outcome.map_err(store_failure));
                s.drive();
            });
        });
    }

    /// Flushes once the current task is done, so that a burst of calls (a loop of `publish()`,
    /// the acks for one frame) leaves as one message. Always queued while bytes wait, so nothing
    /// waits for a later event.
    fn queue_flush(&mut self) {
        if !self.client.has_unflushed() || self.flush_queued {
            return;
        }
        self.flush_queued = true;
        let weak = self.me.clone();
        spawn_local(async move {
            with_weak(&weak, |s| {
                s.flush_queued = false;
                s.client.flush(now_ms());
                s.drive();
            })
        });
    }

    fn arm_timer(&mut self) {
        let deadline = self.client.poll_timeout();
        if let Some(timer) = self.timer.as_mut() {
            match deadline {
                Some(at) => timer.arm_at(at, now_ms()),
                None => timer.cancel(),
            }
        }
    }

    fn on_timer(&mut self) {
        self.client.handle_timeout(now_ms());
        self.drive();
    }

    fn on_event(&mut self, event: ClientEvent) {
        match convert::event(event) {
            Some((name, detail)) => self.emit(name, detail),
            None => self.release(),
        }
    }

    /// Lets go of every browser resource: nothing of this client runs any more.
    fn release(&mut self) {
        self.ended = true;
        self.socket = None;
        self.probe = None;
        self.timer = None;
        self.page = None;
    }
}

fn install_page_listeners(state: &Rc<RefCell<State>>) {
    let weak = Rc::downgrade(state);
    let on_online = move |online| {
        with_weak(&weak, |s| {
            s.client.handle_online(now_ms(), online);
            s.drive();
        })
    };
    let weak = Rc::downgrade(state);
    let on_visible = move || {
        with_weak(&weak, |s| {
            // The wall clock may have been set while the page slept.
            s.client
                .handle_wall_clock(now_ms(), js_sys::Date::now() as u64);
            s.client.handle_page_visible(now_ms());
            s.drive();
        })
    };
    let (page, online) = PageListeners::install(on_online, on_visible);
    let mut s = state.borrow_mut();
    s.page = Some(page);
    s.client.handle_online(now_ms(), online);
}

#[wasm_bindgen]
impl Driver {
    /// Validates the options (throws an `MqttError` with code `INVALID_ARGUMENT` naming the bad
    /// one). Nothing connects until `start`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        url: JsValue,
        options: JsValue,
        emit: Function,
        prepare: Option<Function>,
    ) -> Result<Driver, JsValue> {
        let options = client_options::read(&url, &options).map_err(|e| invalid_argument(&e.0))?;
        let client_id = options.session.client_id.clone();
        let client = Client::new(ClientConfig {
            session: options.session,
            urls: options.urls,
            connect_timeout_ms: options.connect_timeout_ms,
            reconnect: options.reconnect,
            seed: (js_sys::Math::random() * 2f64.powi(53)) as u64,
            redirects: options.redirects,
            alerts: options.alerts,
            prepare_attempts: prepare.is_some(),
        });
        let database = IdbStore::database_name(client.store_url(), &client_id);
        let state = Rc::new_cyclic(|me: &Weak<RefCell<State>>| {
            let weak = me.clone();
            RefCell::new(State {
                client,
                persistence: options.persistence,
                database,
                store: None,
                journal: None,
                socket: None,
                probe: None,
                flush_queued: false,
                frame: Vec::new(),
                timer: Some(Timer::new(move || with_weak(&weak, |s| s.on_timer()))),
                emit,
                prepare,
                outbox: Vec::new(),
                end_waiter: None,
                ended: false,
                me: me.clone(),
                page: None,
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
                    s.store = Some(Rc::new(store));
                    s.journal = WebJournal::open(&s.database.name);
                    if let Some(journal) = &s.journal {
                        s.client.handle_journal_loaded(journal.load());
                    }
                    s.client
                        .handle_store_loaded(now_ms(), loaded.records, loaded.unreadable);
                }
                Err(error) => s
                    .client
                    .handle_store_unavailable(now_ms(), store_failure(error)),
            });
        }
        install_page_listeners(&self.state);
        with_state(&self.state, |s| {
            s.client
                .handle_wall_clock(now_ms(), js_sys::Date::now() as u64);
            s.client.start(now_ms());
            s.drive();
        });
        Ok(())
    }

    /// `reconnect()`: drops the current connection, if any, and starts an attempt now (see
    /// `Client::reconnect`).
    pub fn reconnect(&self) -> Result<(), JsValue> {
        self.command(|client, now| client.reconnect(now))
    }

    /// Queues a publish; returns the token its `done` / `failed` event will carry.
    pub fn publish(
        &self,
        topic: String,
        payload: JsValue,
        options: JsValue,
    ) -> Result<u32, JsValue> {
        let mut stamp = false;
        let request = arguments::read_stamped_publish(topic, &payload, &options, Some(&mut stamp))?;
        self.command(|client, now| match stamp {
            true => client.publish_stamped(now, request),
            false => client.publish(now, request),
        })
    }

    /// `subscriptions`: `[{ topic, qos?, noLocal?, retainAsPublished?, retainHandling? }]`.
    pub fn subscribe(&self, subscriptions: JsValue, options: JsValue) -> Result<u32, JsValue> {
        let (filters, properties) = arguments::read_subscriptions(subscriptions, &options)?;
        self.command(|client, now| client.subscribe(now, filters, properties))
    }

    pub fn unsubscribe(&self, topics: JsValue, options: JsValue) -> Result<u32, JsValue> {
        let (filters, properties) = arguments::read_unsubscribe(topics, &options)?;
        self.command(|client, now| client.unsubscribe(now, filters, properties))
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
        self.command(|client, now| client.request(now, spec))
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
        self.command(|client, now| client.respond(now, &request, reply))
    }

    /// Answers the authentication challenge `exchange` (from an `auth` event) with `data`.
    pub fn authenticate(&self, exchange: u32, data: JsValue) -> Result<(), JsValue> {
        let data = arguments::read_auth_data(&data)?;
        self.command(|client, now| client.authenticate(now, exchange, data))
    }

    /// Gives up an authentication exchange the application cannot answer.
    #[wasm_bindgen(js_name = abortAuthentication)]
    pub fn abort_authentication(&self) {
        let _ = self.command(|client, now| {
            client.abort_authentication(now);
            Ok(())
        });
    }

    /// Starts a re-authentication with `data`; a `reauthenticated` event settles it.
    pub fn reauthenticate(&self, data: JsValue) -> Result<(), JsValue> {
        let data = arguments::read_auth_data(&data)?;
        self.command(|client, now| client.reauthenticate(now, data))
    }

    /// `options`: `{ ack? }`, the subscription's own acknowledgement mode.
    #[wasm_bindgen(js_name = addRoute)]
    pub fn add_route(&self, filter: String, options: JsValue) -> Result<u32, JsValue> {
        let ack = arguments::read_route(&options)?;
        let mut s = self.state.borrow_mut();
        s.client.add_route(&filter, ack).map_err(command_error)
    }

    /// The handlers of `delivery` (a `handle` event) settled: `error` (a description) when
    /// one threw or rejected.
    #[wasm_bindgen(js_name = handlerDone)]
    pub fn handler_done(&self, delivery: f64, error: Option<String>) {
        with_state(&self.state, |s| {
            let outcome = error.map_or(Ok(()), Err);
            s.client
                .handle_handler_done(now_ms(), delivery as u64, outcome);
            s.drive();
        });
    }

    #[wasm_bindgen(js_name = removeRoute)]
    pub fn remove_route(&self, id: u32) {
        self.state.borrow_mut().client.remove_route(id);
    }

    /// For another tab's routes (js/tabs.js fans messages out to the tabs sharing this
    /// connection): `{ primary, named: [[filter, named], ...] }`, see `Session::named_routes`.
    #[wasm_bindgen(js_name = namedRoutes)]
    pub fn named_routes(&self, topic: String, carried: Vec<u32>) -> JsValue {
        let s = self.state.borrow();
        let (primary, named) = s.client.session().named_routes(&topic, &carried);
        routing_object(primary, named)
    }

    /// The received messages still waiting for the store before delivery, for the tab that
    /// resumes the session if this one goes: `[{ message, qos, packetId?, key?, primary, named }]`.
    #[wasm_bindgen(js_name = pendingDeliveries)]
    pub fn pending_deliveries(&self) -> Array {
        let s = self.state.borrow();
        let session = s.client.session();
        let items = session.pending_deliveries().into_iter();
        items
            .map(|(p, key)| convert::pending(session, p, key))
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
        s.client.claim_handed_over(qos, packet_id, key.as_deref())
    }

    #[wasm_bindgen(getter)]
    pub fn connected(&self) -> bool {
        self.state.borrow().client.is_connected()
    }

    pub fn metrics(&self) -> JsValue {
        convert::metrics(self.state.borrow().client.metrics(now_ms()))
    }

    /// `metricsText()`: the metrics in the OpenMetrics text format.
    #[wasm_bindgen(js_name = metricsText)]
    pub fn metrics_text(&self) -> String {
        self.state.borrow().client.metrics_text(now_ms())
    }

    /// Throws the `INVALID_ARGUMENT` error `end(options)` would reject with, before the facade
    /// starts ending anything.
    #[wasm_bindgen(js_name = checkEndOptions)]
    pub fn check_end_options(options: JsValue) -> Result<(), JsValue> {
        arguments::read_end(&options).map(|_| ())
    }

    /// `end({ force?, timeout?, will? })` (see `Client::end`); resolves once the socket is
    /// closed and the last store commit is done.
    pub async fn end(&self, options: JsValue) -> Result<(), JsValue> {
        let options = arguments::read_end(&options)?;
        if self.state.borrow().ended {
            return Ok(());
        }
        let mut waiter = None;
        let ended = js_sys::Promise::new(&mut |resolve, _| waiter = Some(resolve));
        with_state(&self.state, |s| {
            s.end_waiter = waiter;
            s.client.end(now_ms(), options);
            s.drive();
        });
        wasm_bindgen_futures::JsFuture::from(ended).await?;
        Ok(())
    }
}

impl Driver {
    /// Runs a command of the core, then carries out whatever it made ready.
    fn command<T>(
        &self,
        f: impl FnOnce(&mut Client, u64) -> Result<T, CommandError>,
    ) -> Result<T, JsValue> {
        let mut outcome = None;
        with_state(&self.state, |s| {
            outcome = Some(f(&mut s.client, now_ms()).map_err(command_error));
            s.drive();
        });
        outcome.expect("the command ran")
    }
}

/// What a thrown or rejected value says: an Error's message, or the value as text.
fn error_text(error: &JsValue) -> String {
    match error.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.message()),
        None => error.as_string().unwrap_or_else(|| format!("{error:?}")),
    }
}

impl Drop for Driver {
    /// The page is going (or the client ended): what this task gathered for the socket (acks,
    /// say) still leaves, then everything is let go; nothing else is started.
    fn drop(&mut self) {
        if let Ok(mut s) = self.state.try_borrow_mut() {
            s.client.flush(now_ms());
            while let Some(action) = s.client.poll_socket() {
                if let SocketAction::Send { .. } = action {
                    s.socket_action(action);
                }
            }
            s.release();
        }
    }
}
