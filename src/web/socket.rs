//! The WebSocket transport: subprotocol `mqtt`, binary frames only, `arraybuffer` delivery.
//! Owns its event handlers and releases them (and the socket) on drop.

#[cfg(test)]
use js_sys::Promise;
use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

use crate::client::ProbeAnswer;

/// The WebSocket subprotocol MQTT uses (MQTT-6.0.0-3).
const PROTOCOL: &str = "mqtt";

/// What the socket reports to its owner, in the order the browser reports it.
#[derive(Debug)]
pub(crate) enum SocketEvent {
    /// Open, and the broker agreed to the `mqtt` subprotocol.
    Open,
    /// One binary frame: part of a packet, one packet or several (MQTT-6.0.0-2 allows any split).
    Data(Uint8Array),
    /// The connection is gone. `code` is the WebSocket close code (1006 when the connection
    /// failed or dropped without a closing handshake).
    Closed { code: u16, reason: String },
    /// The broker answered with another subprotocol or none: not an MQTT endpoint (MQTT-6.0.0-4
    /// requires "mqtt"). The socket is closed.
    WrongSubprotocol(String),
    /// A text frame: MQTT over WebSocket must use binary frames (MQTT-6.0.0-1). The socket is
    /// closed.
    TextFrame,
}

pub(crate) struct Socket {
    socket: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Starts connecting to `url`; `on_event` receives every [`SocketEvent`] until the socket is
    /// dropped. Fails at once for a URL the browser refuses (bad scheme, blocked port).
    pub(crate) fn open(
        url: &str,
        on_event: impl FnMut(SocketEvent) + 'static,
    ) -> Result<Socket, JsValue> {
        let socket = WebSocket::new_with_str(url, PROTOCOL)?;
        socket.set_binary_type(BinaryType::Arraybuffer);
        let on_event = std::rc::Rc::new(std::cell::RefCell::new(on_event));

        let on_open = {
            let (socket, on_event) = (socket.clone(), on_event.clone());
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                let protocol = socket.protocol();
                if protocol == PROTOCOL {
                    (on_event.borrow_mut())(SocketEvent::Open);
                } else {
                    let _ = socket.close();
                    (on_event.borrow_mut())(SocketEvent::WrongSubprotocol(protocol));
                }
            })
        };
        let on_message = {
            let (socket, on_event) = (socket.clone(), on_event.clone());
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                match event.data().dyn_into::<ArrayBuffer>() {
                    Ok(buffer) => {
                        (on_event.borrow_mut())(SocketEvent::Data(Uint8Array::new(&buffer)))
                    }
                    Err(_) => {
                        let _ = socket.close();
                        (on_event.borrow_mut())(SocketEvent::TextFrame);
                    }
                }
            })
        };
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            (on_event.borrow_mut())(SocketEvent::Closed {
                code: event.code(),
                reason: event.reason(),
            });
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Socket {
            socket,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Queues one binary frame. Fails when the socket is not open.
    pub(crate) fn send(&self, bytes: &[u8]) -> Result<(), JsValue> {
        self.socket.send_with_u8_array(bytes)
    }

    #[cfg(test)]
    pub(crate) fn is_open(&self) -> bool {
        self.socket.ready_state() == WebSocket::OPEN
    }
}

/// After a handshake with the `mqtt` subprotocol failed (browsers report it as 1006, exactly like
/// a closed port or a TLS failure), asks `url` again for a WebSocket with `mqtt`, and, if that
/// fails too, for one without any subprotocol. Asking with `mqtt` first matters: brokers such as
/// mosquitto also accept a WebSocket without a subprotocol, so that alone would take a passing
/// failure for a wrong endpoint. The answer goes to `on_answer` once; each probe socket is
/// closed as soon as it opens. Dropping the probe cancels it.
pub(crate) struct Probe {
    _with_mqtt: ProbeSocket,
    without_subprotocol: std::rc::Rc<std::cell::RefCell<Option<ProbeSocket>>>,
}

impl Probe {
    pub(crate) fn start(
        url: &str,
        on_answer: impl FnOnce(ProbeAnswer) + 'static,
    ) -> Result<Probe, JsValue> {
        let answer = std::rc::Rc::new(std::cell::Cell::new(Some(on_answer)));
        fn give<F: FnOnce(ProbeAnswer)>(
            answer: &std::rc::Rc<std::cell::Cell<Option<F>>>,
            found: ProbeAnswer,
        ) {
            if let Some(on_answer) = answer.take() {
                on_answer(found);
            }
        }
        let without_subprotocol = std::rc::Rc::new(std::cell::RefCell::new(None));
        let with_mqtt = {
            let (url_again, slot) = (url.to_string(), without_subprotocol.clone());
            ProbeSocket::open(url, Some(PROTOCOL), move |opened| {
                if opened {
                    return give(&answer, ProbeAnswer::Mqtt);
                }
                let second = {
                    let answer = answer.clone();
                    ProbeSocket::open(&url_again, None, move |opened| {
                        let found = if opened {
                            ProbeAnswer::WebSocketOnly
                        } else {
                            ProbeAnswer::Nothing
                        };
                        give(&answer, found);
                    })
                };
                match second {
                    Ok(socket) => *slot.borrow_mut() = Some(socket),
                    Err(_) => give(&answer, ProbeAnswer::Nothing),
                }
            })?
        };
        Ok(Probe {
            _with_mqtt: with_mqtt,
            without_subprotocol,
        })
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.without_subprotocol.borrow_mut().take();
    }
}

/// One probe WebSocket: tells `on_result` once whether it opened, and closes it if it did.
struct ProbeSocket {
    socket: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl ProbeSocket {
    fn open(
        url: &str,
        protocol: Option<&str>,
        on_result: impl FnOnce(bool) + 'static,
    ) -> Result<ProbeSocket, JsValue> {
        let socket = match protocol {
            Some(protocol) => WebSocket::new_with_str(url, protocol)?,
            None => WebSocket::new(url)?,
        };
        let on_result = std::rc::Rc::new(std::cell::Cell::new(Some(on_result)));
        let on_open = {
            let (socket, on_result) = (socket.clone(), on_result.clone());
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                let _ = socket.close();
                if let Some(result) = on_result.take() {
                    result(true);
                }
            })
        };
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |_: CloseEvent| {
            if let Some(result) = on_result.take() {
                result(false);
            }
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(ProbeSocket {
            socket,
            _on_open: on_open,
            _on_close: on_close,
        })
    }
}

impl Drop for ProbeSocket {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // Detach first: no handler may run after its closure is freed.
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        // 1000: a normal closure. Frames already sent (a DISCONNECT) leave before the close.
        let _ = self.socket.close_with_code(1000);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn broker_url() -> &'static str {
        option_env!("WASMQTT_TEST_WS_URL").expect("WASMQTT_TEST_WS_URL is set by scripts/test.mjs")
    }

    /// Resolves after `ms` milliseconds of the browser's event loop.
    async fn sleep(ms: i32) {
        let promise = Promise::new(&mut |resolve: js_sys::Function, _| {
            let window = web_sys::window().unwrap();
            window
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
                .unwrap();
        });
        wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
    }

    async fn wait_for(events: &Rc<RefCell<Vec<String>>>, count: usize) {
        for _ in 0..200 {
            if events.borrow().len() >= count {
                return;
            }
            sleep(10).await;
        }
        panic!("only these events arrived: {:?}", events.borrow());
    }

    fn recorder() -> (Rc<RefCell<Vec<String>>>, impl FnMut(SocketEvent)) {
        let events = Rc::new(RefCell::new(Vec::new()));
        let sink = events.clone();
        (events, move |event: SocketEvent| {
            sink.borrow_mut().push(match event {
                SocketEvent::Open => "open".into(),
                SocketEvent::Data(bytes) => format!("data {:02x?}", bytes.to_vec()),
                SocketEvent::Closed { code, .. } => format!("closed {code}"),
                SocketEvent::WrongSubprotocol(p) => format!("wrong subprotocol {p}"),
                SocketEvent::TextFrame => "text".into(),
            })
        })
    }

    #[wasm_bindgen_test]
    async fn opens_with_the_mqtt_subprotocol_and_delivers_binary_frames() {
        let (events, sink) = recorder();
        let socket = Socket::open(broker_url(), sink).unwrap();
        wait_for(&events, 1).await;
        assert_eq!(events.borrow()[0], "open");
        assert!(socket.is_open());
        // CONNECT, 3.1.1, clean session, keepalive 10 s, client id "s"
        socket
            .send(&[
                0x10, 13, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 10, 0, 1, b's',
            ])
            .unwrap();
        wait_for(&events, 2).await;
        assert_eq!(events.borrow()[1], "data [20, 02, 00, 00]");
    }

    #[wasm_bindgen_test]
    async fn reports_closed_when_nothing_listens() {
        let (events, sink) = recorder();
        let _socket = Socket::open("ws://127.0.0.1:1/", sink).unwrap();
        wait_for(&events, 1).await;
        assert_eq!(events.borrow().as_slice(), ["closed 1006"]);
    }

    #[wasm_bindgen_test]
    fn refuses_a_url_that_is_not_a_websocket_url() {
        assert!(Socket::open("ftp://127.0.0.1/", |_| {}).is_err());
    }

    #[wasm_bindgen_test]
    async fn dropping_the_socket_stops_its_events() {
        let (events, sink) = recorder();
        let socket = Socket::open(broker_url(), sink).unwrap();
        wait_for(&events, 1).await;
        drop(socket);
        sleep(100).await;
        assert_eq!(
            events.borrow().as_slice(),
            ["open"],
            "no close event after drop"
        );
    }
}
