//! The size floor (bench/SIZE.md): the client core (src/client), the API layer (src/api) and the
//! codec behind a byte interface, with no browser layer: no web-sys, no wasm-bindgen, every input
//! and output of the core reachable, so that nothing is left out by dead-code elimination. Not a
//! client: what its wasm would weigh if JavaScript made every browser call.
use wasmqtt::api::{self, Value, Writer};
use wasmqtt::client::*;
use wasmqtt::session::Write;

static mut CLIENT: Option<Client> = None;
static mut OUT: Vec<u8> = Vec::new();
static mut IN: Vec<u8> = Vec::new();

#[allow(static_mut_refs)]
fn client() -> &'static mut Client {
    unsafe { CLIENT.as_mut().unwrap() }
}

#[no_mangle]
#[allow(static_mut_refs)]
pub extern "C" fn input_buffer(len: usize) -> *mut u8 {
    unsafe {
        IN.resize(len, 0);
        IN.as_mut_ptr()
    }
}

#[allow(static_mut_refs)]
fn input() -> Vec<Value> {
    unsafe { api::unpack(&IN).unwrap_or_default() }
}

#[no_mangle]
#[allow(static_mut_refs)]
pub extern "C" fn output_len() -> usize {
    unsafe { OUT.len() }
}
#[no_mangle]
#[allow(static_mut_refs)]
pub extern "C" fn output_ptr() -> *const u8 {
    unsafe { OUT.as_ptr() }
}

#[no_mangle]
#[allow(static_mut_refs)]
pub extern "C" fn create(seed: u64) -> u32 {
    let args = input();
    let mut w = Writer::new();
    match api::options::read(
        args.first().unwrap_or(&Value::Undefined),
        args.get(1).unwrap_or(&Value::Undefined),
        seed,
    ) {
        Ok(o) => unsafe {
            CLIENT = Some(Client::new(ClientConfig {
                session: o.session,
                urls: o.urls,
                connect_timeout_ms: o.connect_timeout_ms,
                reconnect: o.reconnect,
                seed,
                redirects: o.redirects,
                alerts: o.alerts,
                prepare_attempts: true,
            }));
            w.str(client().store_url());
            OUT = w.take();
            1
        },
        Err(e) => unsafe {
            api::events::error(&mut w, "INVALID_ARGUMENT", &e.0, None, false);
            OUT = w.take();
            0
        },
    }
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}
fn num(v: &Value) -> u64 {
    v.as_f64().unwrap_or(0.0) as u64
}
fn bytes(v: &Value) -> &[u8] {
    match v {
        Value::Bytes(b) => b,
        _ => &[],
    }
}
fn records(v: &Value) -> Vec<(String, Vec<u8>)> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| (text(i.get("k")).to_owned(), bytes(i.get("v")).to_vec()))
            .collect(),
        _ => vec![],
    }
}

#[no_mangle]
#[allow(static_mut_refs)]
pub extern "C" fn handle(kind: u32, now: u64, id: u32) {
    let args = input();
    let a = |i: usize| args.get(i).unwrap_or(&Value::Undefined);
    let c = client();
    let mut w = Writer::new();
    match kind {
        0 => c.handle_socket_open(now, id),
        1 => c.handle_socket_data(now, id, bytes(a(0))),
        2 => c.handle_socket_closed(now, id, num(a(0)) as u16, text(a(1))),
        3 => c.handle_socket_error(now, id, text(a(0))),
        4 => c.handle_wrong_subprotocol(now, id, text(a(0))),
        5 => c.handle_text_frame(now, id),
        6 => c.handle_probe_answer(
            now,
            id,
            match num(a(0)) {
                0 => Some(ProbeAnswer::Mqtt),
                1 => Some(ProbeAnswer::WebSocketOnly),
                2 => Some(ProbeAnswer::Nothing),
                _ => None,
            },
        ),
        7 => c.handle_store_done(
            now,
            match a(0) {
                Value::Undefined => Ok(()),
                e => Err(StoreFailure {
                    code: "STORE_FAILED",
                    message: text(e).into(),
                }),
            },
        ),
        8 => c.handle_store_loaded(
            now,
            records(a(0)),
            match a(1) {
                Value::Array(x) => x.iter().map(|s| text(s).to_owned()).collect(),
                _ => vec![],
            },
        ),
        9 => c.handle_store_unavailable(
            now,
            StoreFailure {
                code: "STORE_UNAVAILABLE",
                message: text(a(0)).into(),
            },
        ),
        10 => c.handle_journal_loaded(records(a(0))),
        11 => c.handle_journal_failed(now, text(a(0))),
        12 => c.handle_online(now, a(0) == &Value::Bool(true)),
        13 => c.handle_page_visible(now),
        14 => c.handle_wall_clock(now, num(a(0))),
        15 => c.start(now),
        16 => c.handle_timeout(now),
        17 => c.flush(now),
        18 => c.end(
            now,
            api::arguments::read_end(a(0)).unwrap_or(EndOptions {
                force: true,
                timeout_ms: 0,
                publish_will: false,
            }),
        ),
        _ => api::call(c, now, args, &mut w),
    }
    while let Some(output) = c.poll() {
        match output {
            Output::Journal(JournalOp::Put(k, v)) => {
                w.str("jput").str(&k).bytes(&v);
            }
            Output::Journal(JournalOp::Remove(k)) => {
                w.str("jdel").str(&k);
            }
            Output::Socket(SocketAction::Open { socket, url }) => {
                w.str("open").uint(socket as u64).str(&url);
            }
            Output::Socket(SocketAction::Send { socket, bytes }) => {
                w.str("send").uint(socket as u64).bytes(&bytes);
            }
            Output::Socket(SocketAction::Close { socket }) => {
                w.str("close").uint(socket as u64);
            }
            Output::Store(StoreJob::Commit(writes)) => {
                w.str("commit").array();
                for x in writes {
                    match x {
                        Write::Put(k, v) => w.str(&k).bytes(&v),
                        Write::Delete(k) => w.str(&k).null(),
                    };
                }
                w.end_array();
            }
            Output::Store(StoreJob::Replace(records)) => {
                w.str("replace").array();
                for (k, v) in records {
                    w.str(&k).bytes(&v);
                }
                w.end_array();
            }
            Output::Probe(p) => {
                w.str("probe").uint(p.id as u64).str(&p.url);
            }
            Output::Attempt(p) => api::events::attempt(&mut w, &p),
            Output::Event(e) => {
                api::events::event(&mut w, &e);
            }
        }
    }
    match c.poll_timeout() {
        Some(t) => {
            w.str("timer").uint(t);
        }
        None => {}
    }
    w.bool(c.has_unflushed()).bool(c.is_connected());
    unsafe {
        OUT = w.take();
    }
}
