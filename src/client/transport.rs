//! The client's side of the socket: which socket is current (each one the host opens gets a new
//! number, so that a late event of an old one is told apart), the bytes gathered for it and the
//! one ordered queue of what the host must do with sockets.
//!
//! Flush rule: everything encoded during one task of the host leaves as one WebSocket message
//! (MQTT-6.0.0-2 lets a message carry several packets). The host calls [`Transport::flush`] at
//! the end of its task; a batch of [`FLUSH_AT_BYTES`] leaves at once, so that one message stays
//! a size every server accepts and a long loop of publishes does not buffer without bound.
//! Bytes never go to a later socket than the one current when they were encoded: closing or
//! replacing a socket first hands over what was gathered for it.

use std::collections::VecDeque;

use crate::codec::{self, EncodeError, Packet, ProtocolVersion, StreamDecoder};

pub const FLUSH_AT_BYTES: usize = 64 * 1024;

/// What the host must do with its sockets, in this order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketAction {
    /// Open a WebSocket (subprotocol `mqtt`) to `url`; its events carry `socket`. When it cannot
    /// even be created, tell `Client::handle_socket_error`.
    Open { socket: u32, url: String },
    /// Send `bytes` as one binary message on `socket` (dropped if that socket is gone).
    Send { socket: u32, bytes: Vec<u8> },
    /// Close `socket` and drop its handlers: no event of it is wanted any more.
    Close { socket: u32 },
}

pub(crate) struct Current {
    pub(crate) id: u32,
    pub(crate) url_index: usize,
    /// The URL it opened (an attempt's setup may have computed it).
    pub(crate) url: String,
    /// Whether it reached `open`.
    pub(crate) opened: bool,
}

pub(crate) struct Transport {
    last_id: u32,
    current: Option<Current>,
    out: Vec<u8>,
    actions: VecDeque<SocketAction>,
    pub(crate) decoder: StreamDecoder,
}

impl Transport {
    pub(crate) fn new(protocol: ProtocolVersion, max_incoming: u32) -> Transport {
        Transport {
            last_id: 0,
            current: None,
            out: Vec::new(),
            actions: VecDeque::new(),
            decoder: StreamDecoder::new(protocol, max_incoming),
        }
    }

    /// The current socket, if `socket` is it.
    pub(crate) fn current(&mut self, socket: u32) -> Option<&mut Current> {
        self.current.as_mut().filter(|c| c.id == socket)
    }

    pub(crate) fn url_index(&self) -> Option<usize> {
        self.current.as_ref().map(|c| c.url_index)
    }

    pub(crate) fn last_id(&self) -> u32 {
        self.last_id
    }

    /// Asks for a new socket to `url` (after closing the current one); returns its number.
    pub(crate) fn open(&mut self, url_index: usize, url: &str, fresh: StreamDecoder) -> u32 {
        self.detach();
        self.last_id += 1;
        self.current = Some(Current {
            id: self.last_id,
            url_index,
            url: url.to_string(),
            opened: false,
        });
        self.decoder = fresh;
        self.actions.push_back(SocketAction::Open {
            socket: self.last_id,
            url: url.to_string(),
        });
        self.last_id
    }

    /// Closes the current socket, first handing over what was gathered for it. Returns whether
    /// there was one.
    pub(crate) fn detach(&mut self) -> bool {
        self.flush();
        let Some(current) = self.current.take() else {
            return false;
        };
        self.actions
            .push_back(SocketAction::Close { socket: current.id });
        true
    }

    /// Encodes `packet` for the current socket; one that does not encode is not sent.
    pub(crate) fn encode(
        &mut self,
        packet: &Packet,
        protocol: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        codec::encode(packet, protocol, &mut self.out)?;
        if self.out.len() >= FLUSH_AT_BYTES {
            self.flush();
        }
        Ok(())
    }

    /// Hands what was gathered to the host as one message. With no socket it is dropped, like
    /// a send on a closed socket.
    pub(crate) fn flush(&mut self) {
        if self.out.is_empty() {
            return;
        }
        match &self.current {
            Some(current) => self.actions.push_back(SocketAction::Send {
                socket: current.id,
                bytes: std::mem::take(&mut self.out),
            }),
            None => self.out.clear(),
        }
    }

    pub(crate) fn has_unflushed(&self) -> bool {
        !self.out.is_empty()
    }

    pub(crate) fn poll_action(&mut self) -> Option<SocketAction> {
        self.actions.pop_front()
    }
}
