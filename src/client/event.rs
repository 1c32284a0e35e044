//! What the client tells the application: plain Rust, converted by the browser layer.

use crate::codec::{Properties, Publish};
use crate::session::{LostReason, Token};

use super::error::ClientError;

#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// The broker accepted the connection.
    Connected {
        session_present: bool,
        properties: Properties,
    },
    /// The connection is over.
    Closed {
        reason: LostReason,
    },
    /// The next attempt starts after `delay_ms`, at `url`.
    Reconnecting {
        attempt: u32,
        delay_ms: u32,
        url: String,
    },
    /// The broker sent the client to another server, which it opens now.
    Redirect(super::Redirect),
    /// A metric crossed its alert threshold (raised), or came back under it (cleared).
    Alert(super::Alert),
    /// The browser is offline: attempts pause until it is back.
    Offline,
    /// The first connection is not up a connect timeout after start: the application waiting
    /// for it is told why (the last failure, or CONNECT_TIMEOUT), while attempts go on.
    ConnectOverdue(ClientError),
    Error(ClientError),
    /// An application message (see `session::Event::Message`).
    Message {
        publish: Publish,
        routes: Vec<u32>,
        primary: bool,
    },
    /// A message the page that held the session before received but did not deliver (see
    /// `handover`): routed as `Message`; `named` is the routing it was given there, for the
    /// tabs that route it themselves.
    HandedOver {
        publish: Publish,
        routes: Vec<u32>,
        primary: bool,
        named: Vec<(String, bool)>,
    },
    /// Acknowledging after the handler: run the handlers of `delivery` (see
    /// `session::Event::Handle`), then report with `Client::handle_handler_done`.
    Handle {
        delivery: u64,
        attempt: u32,
        publish: Publish,
        routes: Vec<u32>,
        primary: bool,
    },
    /// The handlers of `delivery` failed `attempts` times: given up, and acknowledged.
    DeadLetter {
        delivery: u64,
        publish: Publish,
        error: String,
        attempts: u32,
    },
    /// The call `token` succeeded.
    Done {
        token: Token,
        result: Completion,
    },
    /// The call `token` failed.
    Failed {
        token: Token,
        error: ClientError,
    },
    /// The queue crossed the high (true) or low (false) watermark.
    Backpressure {
        high: bool,
        queued: usize,
        queued_bytes: usize,
    },
    /// An inbound message whose id was seen within the window was dropped.
    Duplicate {
        message_id: String,
        topic: String,
    },
    /// Where the session is kept now (durable: in the store), and why it changed.
    Storage {
        durable: bool,
        error: Option<ClientError>,
    },
    /// Enhanced authentication: the server's challenge.
    AuthChallenge {
        exchange: u32,
        method: String,
        data: Option<bytes::Bytes>,
        reason_code: u8,
        properties: Properties,
    },
    Reauthenticated {
        properties: Properties,
    },
    /// `end()` is complete: the socket is closed and the last store job finished (or its wait
    /// ran out). Nothing follows.
    Ended,
}

/// The result of a call that succeeded.
#[derive(Debug, Clone, PartialEq)]
pub enum Completion {
    /// A publish: the broker's reason code.
    Published { reason_code: u8 },
    /// A subscribe: one reason code per filter (the granted QoS, or a failure).
    Subscribed { reason_codes: Vec<u8> },
    /// An unsubscribe: one reason code per filter.
    Unsubscribed { reason_codes: Vec<u8> },
    /// A request: the reply (boxed: far larger than the other results, and rarer).
    Response(Box<Publish>),
}

/// Why a connection ended, in words.
pub fn lost_reason_text(reason: LostReason) -> &'static str {
    match reason {
        LostReason::TransportClosed => "connection closed",
        LostReason::KeepAliveTimeout => "keepalive timeout",
        LostReason::ProtocolError(_) => "protocol error",
        LostReason::ServerDisconnect(_) => "disconnected by the broker",
        LostReason::Requested => "ended",
        LostReason::Reconnect => "reconnect requested",
        LostReason::AuthenticationAbandoned => "authentication abandoned",
    }
}
