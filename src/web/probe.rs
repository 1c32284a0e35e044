//! A connectivity probe: opens a WebSocket with subprotocol `mqtt`, sends a hand-built MQTT 3.1.1
//! CONNECT and reports the CONNACK return code. It proves the chain browser -> WebSocket ->
//! broker without the rest of the client, and shows set-up problems with a plain message.

use js_sys::{Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

/// CONNECT, MQTT 3.1.1, clean session, keepalive 60 s, client id "wasmqtt-probe".
#[rustfmt::skip]
const CONNECT: [u8; 27] = [
    0x10, 25,                                   // CONNECT, remaining length 25
    0x00, 0x04, b'M', b'Q', b'T', b'T',         // protocol name
    0x04,                                       // protocol level 4 (3.1.1)
    0x02,                                       // flags: clean session
    0x00, 0x3C,                                 // keepalive 60 s
    0x00, 13,                                   // client id length
    b'w', b'a', b's', b'm', b'q', b't', b't', b'-', b'p', b'r', b'o', b'b', b'e',
];
const DISCONNECT: [u8; 2] = [0xE0, 0x00];

/// Connects to `url`, sends CONNECT and resolves with the CONNACK return code (0 = accepted).
/// Rejects with an `Error` when the socket cannot open or the first packet is not a CONNACK.
/// Not a wasm export: the in-browser tests call it from Rust, and the public API never offered
/// it, so the client bundle does not carry it.
pub async fn probe_connack(url: String) -> Result<u8, JsValue> {
    let socket = WebSocket::new_with_str(&url, "mqtt")?;
    socket.set_binary_type(BinaryType::Arraybuffer);

    // The handlers live in `handlers` until the socket is closed below, then are dropped.
    let mut handlers = None;
    let first_message = Promise::new(&mut |resolve: Function, reject: Function| {
        let on_open = {
            let socket = socket.clone();
            Closure::<dyn FnMut()>::new(move || {
                let _ = socket.send_with_u8_array(&CONNECT);
            })
        };
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let _ = resolve.call1(&JsValue::NULL, &Uint8Array::new(&event.data()));
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            let reason = format!("WebSocket closed before CONNACK (code {})", event.code());
            let _ = reject.call1(&JsValue::NULL, &JsError::new(&reason).into());
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        handlers = Some((on_open, on_message, on_close));
    });
    let outcome = JsFuture::from(first_message).await;

    socket.set_onopen(None);
    socket.set_onmessage(None);
    socket.set_onclose(None);
    if socket.ready_state() == WebSocket::OPEN {
        let _ = socket.send_with_u8_array(&DISCONNECT);
    }
    let _ = socket.close();
    drop(handlers);

    let bytes = Uint8Array::new(&outcome?).to_vec();
    match bytes.as_slice() {
        [0x20, 0x02, _flags, code] => Ok(*code),
        other => Err(JsError::new(&format!("expected a CONNACK, got {other:02x?}")).into()),
    }
}
