//! The driver: the browser side of the client core (src/client). It opens the sockets, probes,
//! IndexedDB transactions and the timer the core asks for, feeds their events in with `now`, and
//! hands the facade (js/index.js) the core's events and results as packed bytes (src/api): one
//! batch per turn, through one callback, or as the return value of the call that made them. It
//! decides nothing. Every entry point does its work with the state borrowed, then releases the
//! borrow and only then calls into JavaScript, so application code may call back in.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Function, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

use super::clock::now_ms;
use super::idb::{DatabaseName, IdbStore, StoreError};
use super::journal::WebJournal;
use super::page::PageListeners;
use super::socket::{Probe, Socket, SocketEvent};
use super::timer::Timer;
use crate::api::options::{self, Persistence};
use crate::api::{arguments, events, unpack, Value, Writer};
use crate::client::{
    AttemptRequest, Client, ClientConfig, ClientEvent, Output, ProbeRequest, SocketAction,
    StoreFailure, StoreJob,
};

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
    /// The facade's `(batch: Uint8Array) => void`, given the events of a turn.
    emit: Function,
    /// Events for JavaScript (name, detail; packed), emitted once the state is released.
    outbox: Writer,
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
    let (outbox, ended) = take_outbox(state);
    if !outbox.is_empty() {
        let emit = state.borrow().emit.clone();
        let _ = emit.call1(&JsValue::NULL, &Uint8Array::from(&outbox[..]));
    }
    settle_end(ended);
}

/// The events gathered, and the end's waiter once the client has ended.
fn take_outbox(state: &Rc<RefCell<State>>) -> (Vec<u8>, Option<Function>) {
    let mut s = state.borrow_mut();
    let ended = if s.ended { s.end_waiter.take() } else { None };
    (s.outbox.take(), ended)
}

fn settle_end(ended: Option<Function>) {
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
    /// Carries out everything the core asks for, in its order, then arms the flush and the
    /// timer.
    fn drive(&mut self) {
        while let Some(output) = self.client.poll() {
            match output {
                Output::Journal(op) => self.journal_op(op),
                Output::Socket(action) => self.socket_action(action),
                Output::Store(job) => self.start_store_job(job),
                Output::Probe(probe) => self.start_probe(probe),
                Output::Attempt(attempt) => self.start_attempt_setup(attempt),
                Output::Event(event) => self.on_event(event),
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

    /// Asks the facade for an attempt's URL and credentials (an `attempt` event); it answers
    /// with the `attemptSetup` call.
    fn start_attempt_setup(&mut self, request: AttemptRequest) {
        events::attempt(&mut self.outbox, &request);
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
        if !events::event(&mut self.outbox, &event) {
            self.release();
            return;
        }
        if self.client.is_followed() {
            events::shared(&mut self.outbox, &event, self.client.session());
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

/// Reads what the facade packed; a failure is the facade's bug, never the application's.
fn unpacked(args: &[u8]) -> Vec<Value> {
    unpack(args).unwrap_or_default()
}

/// A packed `MqttError` thrown to the facade, which rebuilds it (js/pack.js).
fn thrown(error: impl FnOnce(&mut Writer)) -> JsValue {
    let mut w = Writer::new();
    error(&mut w);
    Uint8Array::from(&w.take()[..]).into()
}

fn invalid(message: &str) -> JsValue {
    thrown(|w| events::error(w, "INVALID_ARGUMENT", message, None, false))
}

fn store_failure(error: StoreError) -> StoreFailure {
    StoreFailure {
        code: error.code(),
        message: error.message(),
    }
}

#[wasm_bindgen]
impl Driver {
    /// `args`: packed `[url, options, prepare]` (`prepare`: the facade answers an `attempt` event
    /// before each attempt, for `transformWsUrl` or `credentials`), validated (throws a packed `INVALID_ARGUMENT` error
    /// naming the bad option). `emit(batch)` is given each turn's events. Nothing connects until
    /// `start`.
    #[wasm_bindgen(constructor)]
    pub fn new(args: &[u8], emit: Function) -> Result<Driver, JsValue> {
        let mut args = unpacked(args);
        args.resize(3, Value::Undefined);
        let seed = (js_sys::Math::random() * 2f64.powi(53)) as u64;
        let options = options::read(&args[0], &args[1], seed).map_err(|e| invalid(&e.0))?;
        let client_id = options.session.client_id.clone();
        let client = Client::new(ClientConfig {
            session: options.session,
            urls: options.urls,
            connect_timeout_ms: options.connect_timeout_ms,
            reconnect: options.reconnect,
            seed: seed.rotate_left(17),
            redirects: options.redirects,
            alerts: options.alerts,
            prepare_attempts: args[2] == Value::Bool(true),
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
                outbox: Writer::new(),
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

    /// A call by name (`src/api/calls.rs`): packed `[op, ...args]` in; packed out: its result
    /// (a value or an `MqttError`), then the events it made, so that the facade holds the
    /// call's Promise before any of them settles it.
    pub fn call(&self, args: &[u8]) -> Vec<u8> {
        let args = unpacked(args);
        let mut out = Writer::new();
        {
            let mut s = self.state.borrow_mut();
            let s = &mut *s;
            crate::api::call(&mut s.client, now_ms(), args, &mut out);
            s.drive();
        }
        let (events, ended) = take_outbox(&self.state);
        settle_end(ended);
        let mut out = out.take();
        out.extend_from_slice(&events);
        out
    }

    #[wasm_bindgen(getter)]
    pub fn connected(&self) -> bool {
        self.state.borrow().client.is_connected()
    }

    /// Throws the packed `INVALID_ARGUMENT` error `end(options)` would reject with, before the
    /// facade starts ending anything.
    #[wasm_bindgen(js_name = checkEnd)]
    pub fn check_end(args: &[u8]) -> Result<(), JsValue> {
        let options = unpacked(args)
            .into_iter()
            .next()
            .unwrap_or(Value::Undefined);
        arguments::read_end(&options)
            .map(|_| ())
            .map_err(|e| invalid(&e.0))
    }

    /// `end({ force?, timeout?, will? })` (packed; see `Client::end`); resolves once the socket
    /// is closed and the last store commit is done.
    pub async fn end(&self, args: &[u8]) -> Result<(), JsValue> {
        let options = unpacked(args)
            .into_iter()
            .next()
            .unwrap_or(Value::Undefined);
        let options = arguments::read_end(&options).map_err(|e| invalid(&e.0))?;
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

impl Drop for Driver {
    /// The page is going (or the client ended): what this task gathered for the journal and
    /// the socket (acks, say) still leaves, then everything is let go; nothing else is started.
    fn drop(&mut self) {
        if let Ok(mut s) = self.state.try_borrow_mut() {
            s.client.flush(now_ms());
            while let Some(op) = s.client.poll_journal() {
                s.journal_op(op);
            }
            while let Some(action) = s.client.poll_socket() {
                if let SocketAction::Send { .. } = action {
                    s.socket_action(action);
                }
            }
            s.release();
        }
    }
}
