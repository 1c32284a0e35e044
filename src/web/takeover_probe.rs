//! The browser side of a takeover probe (see `crate::takeover`): a second WebSocket to the
//! broker the client just lost, sending a CONNECT with another client id and running the
//! [`ProbeExchange`]. The answer (whether it held) goes to its callback once; dropping the probe
//! cancels it and closes its socket.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use wasm_bindgen::JsValue;

use super::clock::now_ms;
use super::socket::{Socket, SocketEvent};
use crate::codec::{self, Packet, ProtocolVersion, StreamDecoder};
use crate::takeover::ProbeExchange;

pub(crate) struct TakeoverProbe {
    inner: Rc<RefCell<Inner>>,
}

struct Inner {
    socket: Option<Socket>,
    connect: Option<Packet>,
    version: ProtocolVersion,
    decoder: StreamDecoder,
    exchange: Option<ProbeExchange>,
    timer: Option<Timeout>,
    on_answer: Option<Box<dyn FnOnce(bool)>>,
}

impl TakeoverProbe {
    /// Opens the probe's socket to `url`; `connect` goes out once it is open.
    pub(crate) fn start(
        url: &str,
        connect: Packet,
        version: ProtocolVersion,
        on_answer: impl FnOnce(bool) + 'static,
    ) -> Result<TakeoverProbe, JsValue> {
        let inner = Rc::new(RefCell::new(Inner {
            socket: None,
            connect: Some(connect),
            version,
            decoder: StreamDecoder::new(version, 0),
            exchange: None,
            timer: None,
            on_answer: Some(Box::new(on_answer)),
        }));
        let weak = Rc::downgrade(&inner);
        let socket = Socket::open(url, move |event| {
            if let Some(inner) = weak.upgrade() {
                let answer = inner.borrow_mut().on_socket(event);
                finish(&inner, answer);
            }
        })?;
        inner.borrow_mut().socket = Some(socket);
        Ok(TakeoverProbe { inner })
    }
}

impl Drop for TakeoverProbe {
    fn drop(&mut self) {
        let mut inner = self.inner.borrow_mut();
        inner.on_answer = None;
        inner.timer = None;
        inner.socket = None;
    }
}

impl Inner {
    fn on_socket(&mut self, event: SocketEvent) -> Option<bool> {
        let now = now_ms();
        match event {
            SocketEvent::Open => {
                let connect = self.connect.take()?;
                self.send(&connect).then_some(())?;
                self.exchange = Some(ProbeExchange::started(now));
                None
            }
            SocketEvent::Data(bytes) => {
                self.decoder.feed(&bytes.to_vec());
                loop {
                    let packet = match self.decoder.next_packet() {
                        Ok(Some(packet)) => packet,
                        Ok(None) => return None,
                        Err(_) => return Some(false),
                    };
                    let answer = self.exchange.as_mut()?.handle_packet(now, &packet);
                    if answer.is_some() {
                        return answer;
                    }
                }
            }
            _ => Some(false),
        }
    }

    /// Sends `packet`; false if the socket would not take it.
    fn send(&self, packet: &Packet) -> bool {
        let mut bytes = Vec::new();
        let encoded = codec::encode(packet, self.version, &mut bytes).is_ok();
        encoded && self.socket.as_ref().is_some_and(|s| s.send(&bytes).is_ok())
    }

    fn on_timer(&mut self) -> Option<bool> {
        let (packet, answer) = self.exchange.as_mut()?.handle_timeout(now_ms());
        match packet {
            Some(packet) if !self.send(&packet) => Some(false),
            _ => answer,
        }
    }
}

/// Ends the probe with `answer`, or arms the timer for the exchange's next deadline.
fn finish(inner: &Rc<RefCell<Inner>>, answer: Option<bool>) {
    let Some(held) = answer else {
        arm(inner);
        return;
    };
    let on_answer = {
        let mut state = inner.borrow_mut();
        state.timer = None;
        if held {
            // Polite end of the probe's session (it keeps none: clean start, no expiry).
            state.send(&Packet::Disconnect(Default::default()));
        }
        state.socket = None;
        state.on_answer.take()
    };
    if let Some(on_answer) = on_answer {
        on_answer(held);
    }
}

fn arm(inner: &Rc<RefCell<Inner>>) {
    let mut state = inner.borrow_mut();
    let Some(deadline) = state.exchange.as_ref().map(ProbeExchange::deadline) else {
        return;
    };
    let delay = deadline.saturating_sub(now_ms()).min(u64::from(u32::MAX)) as u32;
    let weak = Rc::downgrade(inner);
    state.timer = Some(Timeout::new(delay, move || {
        if let Some(inner) = weak.upgrade() {
            let answer = inner.borrow_mut().on_timer();
            finish(&inner, answer);
        }
    }));
}
