//! What the session tells its host and the application.

use core::fmt;

use crate::codec::{reason, Properties, Publish};

/// Names one application request (publish, subscribe, unsubscribe) so that the host can settle
/// the Promise it made for it.
pub type Token = u32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// CONNACK accepted the connection.
    Connected {
        session_present: bool,
        properties: Properties,
    },
    /// CONNACK refused the connection. `permanent`: retrying cannot help (bad credentials, not
    /// authorised, banned, bad client id, bad auth method, unsupported protocol).
    Refused {
        reason_code: u8,
        permanent: bool,
        properties: Properties,
    },
    /// The connection is over; the host closes the transport.
    Lost { reason: LostReason },
    /// An application message, delivered once. `routes`: the routes it reaches (see
    /// [`super::Session::add_route`]). `primary`: false for a further copy the broker sent for
    /// another of our overlapping subscriptions (MQTT-3.3.4-5), which reaches only the routes
    /// of the subscriptions it names; catch-all listeners take the primary copy only.
    Message {
        publish: Publish,
        routes: Vec<u32>,
        primary: bool,
    },
    /// Acknowledging after the handler: run the handlers of delivery `delivery` (attempt
    /// `attempt`, from 1) with this message, then report with
    /// [`super::Session::handle_handler_done`]. Routes and `primary` as for `Message`.
    Handle {
        delivery: u64,
        attempt: u32,
        publish: Publish,
        routes: Vec<u32>,
        primary: bool,
    },
    /// A message whose handlers failed `attempts` times (the last with `error`): it is given up
    /// and acknowledged now, never silently.
    DeadLetter {
        delivery: u64,
        publish: Publish,
        error: String,
        attempts: u32,
    },
    /// The broker acknowledged a publish (QoS 0: it was handed to the transport).
    Published { token: Token, reason_code: u8 },
    /// A publish failed for good (the broker refused it, or it expired while queued).
    PublishFailed { token: Token, reason_code: u8 },
    /// A subscribe or unsubscribe accepted earlier cannot be sent on the connection it would go
    /// on now (an UNSUBSCRIBE over this connection's Maximum Packet Size, MQTT-3.2.2-15): it
    /// fails with `error` and is not sent again.
    CommandFailed { token: Token, error: CommandError },
    /// A queued publish outlived its message expiry interval and was dropped unsent.
    PublishExpired { token: Token },
    /// A queued QoS 0 publish was dropped unsent to make room (`Overflow::DropOldestQos0`).
    PublishDropped { token: Token },
    /// SUBACK: one reason code (granted QoS or failure) per filter, in order.
    Subscribed { token: Token, reason_codes: Vec<u8> },
    /// UNSUBACK: one reason code per filter (all success before MQTT 5).
    Unsubscribed { token: Token, reason_codes: Vec<u8> },
    /// The queue crossed the high (true) or low (false) watermark.
    Backpressure { high: bool },
    /// An inbound message whose id was seen within the window was dropped.
    DuplicateDropped { message_id: String, topic: String },
    /// A stored record could not be read and was skipped.
    CorruptRecord { key: String },
    /// The reply to a request (see [`super::Session::request`]).
    Response { token: Token, publish: Publish },
    /// A request that will get no reply.
    RequestFailed {
        token: Token,
        error: super::RequestError,
    },
    /// Enhanced authentication: the server's challenge (AUTH 0x18). Answer it with
    /// [`super::Session::authenticate`] and this `exchange`, or give up with
    /// [`super::Session::abort_authentication`].
    AuthChallenge {
        exchange: u32,
        method: String,
        data: Option<bytes::Bytes>,
        reason_code: u8,
        properties: Properties,
    },
    /// The server accepted a re-authentication (AUTH 0x00).
    Reauthenticated { properties: Properties },
    /// The server broke the enhanced-authentication rules; the connection ends (Lost follows).
    AuthError { error: super::AuthError },
}

/// How the application ends a connection, which decides whether the broker publishes the will.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goodbye {
    /// DISCONNECT (MQTT 5 reason 0x00): the broker discards the will (MQTT-3.1.2-10 in 5.0,
    /// MQTT-3.14.4-3 in 3.1.1).
    Disconnect,
    /// Ask the broker to publish the will: MQTT 5 DISCONNECT 0x04 (section 3.14.2.1); 3.1.1 has no
    /// such DISCONNECT, so the connection ends without one (MQTT-3.1.2-8).
    DisconnectWithWill,
    /// Close at once, without DISCONNECT (a forced end): the broker publishes the will.
    None,
}

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostReason {
    /// The transport closed.
    TransportClosed,
    /// No PINGRESP (nor anything else) arrived in time after a PINGREQ.
    KeepAliveTimeout,
    /// The broker broke the protocol; we sent DISCONNECT with this reason code.
    ProtocolError(u8),
    /// The broker sent DISCONNECT with this reason code.
    ServerDisconnect(u8),
    /// The application asked for the disconnect.
    Requested,
    /// The application asked for a new connection (`reconnect()`): this one ended with
    /// DISCONNECT, and the next attempt starts at once.
    Reconnect,
    /// The application could not answer an authentication challenge; we sent DISCONNECT 0x80.
    AuthenticationAbandoned,
}

impl LostReason {
    /// The MQTT 5 reason code that goes with it, where one does.
    pub fn reason_code(self) -> Option<u8> {
        match self {
            LostReason::ProtocolError(code) | LostReason::ServerDisconnect(code) => Some(code),
            LostReason::KeepAliveTimeout => Some(reason::KEEP_ALIVE_TIMEOUT),
            LostReason::AuthenticationAbandoned => Some(reason::UNSPECIFIED_ERROR),
            _ => None,
        }
    }
}

/// Refusals that retrying cannot fix: the same CONNECT would get them again (a malformed or
/// unsupported CONNECT, a will the server cannot take, credentials, authorisation).
pub fn is_permanent_refusal(code: u8) -> bool {
    matches!(
        code,
        reason::MALFORMED_PACKET
            | reason::PROTOCOL_ERROR
            | reason::TOPIC_NAME_INVALID
            | reason::PACKET_TOO_LARGE
            | reason::PAYLOAD_FORMAT_INVALID
            | reason::RETAIN_NOT_SUPPORTED
            | reason::QOS_NOT_SUPPORTED
            | reason::UNSUPPORTED_PROTOCOL_VERSION
            | reason::CLIENT_IDENTIFIER_NOT_VALID
            | reason::BAD_USER_NAME_OR_PASSWORD
            | reason::NOT_AUTHORIZED
            | reason::BANNED
            | reason::BAD_AUTHENTICATION_METHOD
    )
}

/// Why a command was refused at once.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandError {
    InvalidTopic(crate::topic::TopicError),
    InvalidFilter(crate::topic::TopicError),
    NoFilters,
    /// The broker said it does not support this QoS (CONNACK Maximum QoS).
    QosNotSupported {
        max: u8,
    },
    /// The broker said it does not support retained messages.
    RetainNotSupported,
    /// The broker said it does not support wildcard / shared subscriptions / identifiers.
    WildcardsNotSupported,
    SharedNotSupported,
    SubscriptionIdsNotSupported,
    /// Larger than the broker's Maximum Packet Size.
    PacketTooLarge {
        size: usize,
        max: u32,
    },
    /// The offline queue is at its limit.
    QueueFull,
    /// The journal that keeps QoS 1 and 2 publishes safe from a reload until the store has
    /// committed them is at its limit (`client::journal::JOURNAL_MAX_BYTES`).
    JournalFull,
    /// A property the client manages itself (topic alias, subscription identifier in PUBLISH).
    PropertyNotAllowed(&'static str),
    /// A field longer than this client accepts (`what`, as the application names it).
    /// A string or binary property over 65,535 bytes (MQTT 5 section 1.5.4, 1.5.6), by its
    /// JavaScript name.
    TooLongProperty {
        field: &'static str,
    },
    TooLong {
        what: &'static str,
        max: usize,
    },
    /// The packet could not be encoded.
    Encode(crate::codec::EncodeError),
    /// The session has ended.
    Ended,
    /// Request/response needs MQTT 5 (Response Topic, Correlation Data).
    RequiresMqtt5,
    /// respond() to a message that carries no Response Topic.
    NoResponseTopic,
    /// An answer to an authentication challenge that is not open (answered, or of an earlier
    /// connection).
    NoAuthChallenge,
    /// Re-authentication without an Authentication Method in CONNECT (MQTT-4.12.0-7).
    NoAuthMethod,
    /// Needs a live connection.
    NotConnected,
    /// A re-authentication is already running.
    AuthInProgress,
}

impl CommandError {
    /// A stable code for the application.
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::InvalidTopic(_)
            | CommandError::InvalidFilter(_)
            | CommandError::NoFilters => "INVALID_ARGUMENT",
            CommandError::QosNotSupported { .. } => "QOS_NOT_SUPPORTED",
            CommandError::RetainNotSupported => "RETAIN_NOT_SUPPORTED",
            CommandError::WildcardsNotSupported => "WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED",
            CommandError::SharedNotSupported => "SHARED_SUBSCRIPTIONS_NOT_SUPPORTED",
            CommandError::SubscriptionIdsNotSupported => "SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED",
            CommandError::PacketTooLarge { .. } => "PACKET_TOO_LARGE",
            CommandError::QueueFull => "QUEUE_FULL",
            CommandError::JournalFull => "JOURNAL_FULL",
            CommandError::Encode(_)
            | CommandError::PropertyNotAllowed(_)
            | CommandError::TooLong { .. }
            | CommandError::TooLongProperty { .. } => "INVALID_ARGUMENT",
            CommandError::Ended => "CLIENT_ENDED",
            CommandError::RequiresMqtt5 => "NOT_SUPPORTED_BEFORE_MQTT5",
            CommandError::NoResponseTopic => "INVALID_ARGUMENT",
            CommandError::NoAuthChallenge => "NO_AUTHENTICATION_CHALLENGE",
            CommandError::NoAuthMethod => "NO_AUTHENTICATION_METHOD",
            CommandError::NotConnected => "NOT_CONNECTED",
            CommandError::AuthInProgress => "AUTHENTICATION_IN_PROGRESS",
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::InvalidTopic(e) => write!(f, "invalid topic name: {e}"),
            CommandError::InvalidFilter(e) => write!(f, "invalid topic filter: {e}"),
            CommandError::NoFilters => f.write_str("at least one topic filter is needed"),
            CommandError::QosNotSupported { max } => {
                write!(f, "the broker supports QoS up to {max}")
            }
            CommandError::RetainNotSupported => {
                f.write_str("the broker does not support retained messages")
            }
            CommandError::WildcardsNotSupported => {
                f.write_str("the broker does not support wildcard subscriptions")
            }
            CommandError::SharedNotSupported => {
                f.write_str("the broker does not support shared subscriptions")
            }
            CommandError::SubscriptionIdsNotSupported => {
                f.write_str("the broker does not support subscription identifiers")
            }
            CommandError::PacketTooLarge { size, max } => {
                write!(
                    f,
                    "packet of {size} bytes exceeds the broker's maximum packet size of {max}"
                )
            }
            CommandError::QueueFull => f.write_str("the offline queue is full"),
            CommandError::JournalFull => f.write_str(
                "the publish journal is full until IndexedDB has stored what it holds; try again",
            ),
            CommandError::PropertyNotAllowed(what) => {
                write!(f, "{what} may not be set by the application")
            }
            CommandError::TooLongProperty { field } => {
                write!(
                    f,
                    "properties.{field}: a string or binary property is at most 65535 bytes"
                )
            }
            CommandError::TooLong { what, max } => {
                write!(f, "{what} is longer than {max} bytes")
            }
            CommandError::Encode(e) => write!(f, "cannot encode: {e}"),
            CommandError::Ended => f.write_str("the session has ended"),
            CommandError::RequiresMqtt5 => f.write_str("this needs MQTT 5 (protocolVersion 5)"),
            CommandError::NoResponseTopic => {
                f.write_str("the message has no response topic to respond to")
            }
            CommandError::NoAuthChallenge => {
                f.write_str("no authentication challenge is waiting for this answer")
            }
            CommandError::NoAuthMethod => f.write_str(
                "re-authentication needs an authentication method in the connect properties",
            ),
            CommandError::NotConnected => f.write_str("not connected"),
            CommandError::AuthInProgress => f.write_str("a re-authentication is already running"),
        }
    }
}

impl std::error::Error for CommandError {}
