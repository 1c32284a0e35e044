//! MQTT 5 reason codes (section 2.4) and the MQTT 3.1.1 CONNACK return codes.
//!
//! Kept as plain `u8` constants: they travel on the wire as bytes, and several share a value across
//! packets (0x00 is "success", "normal disconnection" and "granted QoS 0"). Which codes each packet
//! type may carry is decided here, in [`check`], for the decoder and the encoder alike.

use super::packet::{PacketType, ProtocolVersion};

pub const SUCCESS: u8 = 0x00;
pub const NORMAL_DISCONNECTION: u8 = 0x00;
pub const GRANTED_QOS_0: u8 = 0x00;
pub const GRANTED_QOS_1: u8 = 0x01;
pub const GRANTED_QOS_2: u8 = 0x02;
pub const DISCONNECT_WITH_WILL_MESSAGE: u8 = 0x04;
pub const NO_MATCHING_SUBSCRIBERS: u8 = 0x10;
pub const NO_SUBSCRIPTION_EXISTED: u8 = 0x11;
pub const CONTINUE_AUTHENTICATION: u8 = 0x18;
pub const RE_AUTHENTICATE: u8 = 0x19;
pub const UNSPECIFIED_ERROR: u8 = 0x80;
pub const MALFORMED_PACKET: u8 = 0x81;
pub const PROTOCOL_ERROR: u8 = 0x82;
pub const IMPLEMENTATION_SPECIFIC_ERROR: u8 = 0x83;
pub const UNSUPPORTED_PROTOCOL_VERSION: u8 = 0x84;
pub const CLIENT_IDENTIFIER_NOT_VALID: u8 = 0x85;
pub const BAD_USER_NAME_OR_PASSWORD: u8 = 0x86;
pub const NOT_AUTHORIZED: u8 = 0x87;
pub const SERVER_UNAVAILABLE: u8 = 0x88;
pub const SERVER_BUSY: u8 = 0x89;
pub const BANNED: u8 = 0x8A;
pub const SERVER_SHUTTING_DOWN: u8 = 0x8B;
pub const BAD_AUTHENTICATION_METHOD: u8 = 0x8C;
pub const KEEP_ALIVE_TIMEOUT: u8 = 0x8D;
pub const SESSION_TAKEN_OVER: u8 = 0x8E;
pub const TOPIC_FILTER_INVALID: u8 = 0x8F;
pub const TOPIC_NAME_INVALID: u8 = 0x90;
pub const PACKET_IDENTIFIER_IN_USE: u8 = 0x91;
pub const PACKET_IDENTIFIER_NOT_FOUND: u8 = 0x92;
pub const RECEIVE_MAXIMUM_EXCEEDED: u8 = 0x93;
pub const TOPIC_ALIAS_INVALID: u8 = 0x94;
pub const PACKET_TOO_LARGE: u8 = 0x95;
pub const MESSAGE_RATE_TOO_HIGH: u8 = 0x96;
pub const QUOTA_EXCEEDED: u8 = 0x97;
pub const ADMINISTRATIVE_ACTION: u8 = 0x98;
pub const PAYLOAD_FORMAT_INVALID: u8 = 0x99;
pub const RETAIN_NOT_SUPPORTED: u8 = 0x9A;
pub const QOS_NOT_SUPPORTED: u8 = 0x9B;
pub const USE_ANOTHER_SERVER: u8 = 0x9C;
pub const SERVER_MOVED: u8 = 0x9D;
pub const SHARED_SUBSCRIPTIONS_NOT_SUPPORTED: u8 = 0x9E;
pub const CONNECTION_RATE_EXCEEDED: u8 = 0x9F;
pub const MAXIMUM_CONNECT_TIME: u8 = 0xA0;
pub const SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED: u8 = 0xA1;
pub const WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED: u8 = 0xA2;

/// MQTT 3.1.1 CONNACK return codes (section 3.2.2.3).
pub mod v3 {
    pub const ACCEPTED: u8 = 0;
    pub const UNACCEPTABLE_PROTOCOL_VERSION: u8 = 1;
    pub const IDENTIFIER_REJECTED: u8 = 2;
    pub const SERVER_UNAVAILABLE: u8 = 3;
    pub const BAD_USER_NAME_OR_PASSWORD: u8 = 4;
    pub const NOT_AUTHORIZED: u8 = 5;
}

// The codes each MQTT 5 packet type may carry, one table per packet type as in its section. The
// sender "MUST use one of" them; the "Sent by" column (client, server or both) is not checked: the
// codec decodes both directions and does not know which side sent.

/// CONNACK, section 3.2.2.2 (MQTT-3.2.2-8).
const CONNACK: &[u8] = &[
    SUCCESS,
    UNSPECIFIED_ERROR,
    MALFORMED_PACKET,
    PROTOCOL_ERROR,
    IMPLEMENTATION_SPECIFIC_ERROR,
    UNSUPPORTED_PROTOCOL_VERSION,
    CLIENT_IDENTIFIER_NOT_VALID,
    BAD_USER_NAME_OR_PASSWORD,
    NOT_AUTHORIZED,
    SERVER_UNAVAILABLE,
    SERVER_BUSY,
    BANNED,
    BAD_AUTHENTICATION_METHOD,
    TOPIC_NAME_INVALID,
    PACKET_TOO_LARGE,
    QUOTA_EXCEEDED,
    PAYLOAD_FORMAT_INVALID,
    RETAIN_NOT_SUPPORTED,
    QOS_NOT_SUPPORTED,
    USE_ANOTHER_SERVER,
    SERVER_MOVED,
    CONNECTION_RATE_EXCEEDED,
];

/// PUBACK, section 3.4.2.1 (MQTT-3.4.2-1), and PUBREC, section 3.5.2.1 (MQTT-3.5.2-1): the same
/// table.
const PUBACK_PUBREC: &[u8] = &[
    SUCCESS,
    NO_MATCHING_SUBSCRIBERS,
    UNSPECIFIED_ERROR,
    IMPLEMENTATION_SPECIFIC_ERROR,
    NOT_AUTHORIZED,
    TOPIC_NAME_INVALID,
    PACKET_IDENTIFIER_IN_USE,
    QUOTA_EXCEEDED,
    PAYLOAD_FORMAT_INVALID,
];

/// PUBREL, section 3.6.2.1 (MQTT-3.6.2-1), and PUBCOMP, section 3.7.2.1 (MQTT-3.7.2-1).
const PUBREL_PUBCOMP: &[u8] = &[SUCCESS, PACKET_IDENTIFIER_NOT_FOUND];

/// SUBACK, section 3.9.3 (MQTT-3.9.3-2).
const SUBACK: &[u8] = &[
    GRANTED_QOS_0,
    GRANTED_QOS_1,
    GRANTED_QOS_2,
    UNSPECIFIED_ERROR,
    IMPLEMENTATION_SPECIFIC_ERROR,
    NOT_AUTHORIZED,
    TOPIC_FILTER_INVALID,
    PACKET_IDENTIFIER_IN_USE,
    QUOTA_EXCEEDED,
    SHARED_SUBSCRIPTIONS_NOT_SUPPORTED,
    SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED,
    WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED,
];

/// UNSUBACK, section 3.11.3 (MQTT-3.11.3-2).
const UNSUBACK: &[u8] = &[
    SUCCESS,
    NO_SUBSCRIPTION_EXISTED,
    UNSPECIFIED_ERROR,
    IMPLEMENTATION_SPECIFIC_ERROR,
    NOT_AUTHORIZED,
    TOPIC_FILTER_INVALID,
    PACKET_IDENTIFIER_IN_USE,
];

/// DISCONNECT, section 3.14.2.1 (MQTT-3.14.2-1).
const DISCONNECT: &[u8] = &[
    NORMAL_DISCONNECTION,
    DISCONNECT_WITH_WILL_MESSAGE,
    UNSPECIFIED_ERROR,
    MALFORMED_PACKET,
    PROTOCOL_ERROR,
    IMPLEMENTATION_SPECIFIC_ERROR,
    NOT_AUTHORIZED,
    SERVER_BUSY,
    SERVER_SHUTTING_DOWN,
    KEEP_ALIVE_TIMEOUT,
    SESSION_TAKEN_OVER,
    TOPIC_FILTER_INVALID,
    TOPIC_NAME_INVALID,
    RECEIVE_MAXIMUM_EXCEEDED,
    TOPIC_ALIAS_INVALID,
    PACKET_TOO_LARGE,
    MESSAGE_RATE_TOO_HIGH,
    QUOTA_EXCEEDED,
    ADMINISTRATIVE_ACTION,
    PAYLOAD_FORMAT_INVALID,
    RETAIN_NOT_SUPPORTED,
    QOS_NOT_SUPPORTED,
    USE_ANOTHER_SERVER,
    SERVER_MOVED,
    SHARED_SUBSCRIPTIONS_NOT_SUPPORTED,
    CONNECTION_RATE_EXCEEDED,
    MAXIMUM_CONNECT_TIME,
    SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED,
    WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED,
];

/// AUTH, section 3.15.2.1 (MQTT-3.15.2-1).
const AUTH: &[u8] = &[SUCCESS, CONTINUE_AUTHENTICATION, RE_AUTHENTICATE];

/// 3.1 and 3.1.1 CONNACK return codes: 6-255 are reserved (3.1.1 section 3.2.2.3).
const V3_CONNACK: &[u8] = &[
    v3::ACCEPTED,
    v3::UNACCEPTABLE_PROTOCOL_VERSION,
    v3::IDENTIFIER_REJECTED,
    v3::SERVER_UNAVAILABLE,
    v3::BAD_USER_NAME_OR_PASSWORD,
    v3::NOT_AUTHORIZED,
];

/// 3.1 and 3.1.1 SUBACK return codes (3.1.1: MQTT-3.9.3-2). MQTT 3.1 itself only had granted
/// QoS 0-2; its brokers send 0x80 for a refusal as 3.1.1 ones do.
const V3_SUBACK: &[u8] = &[
    GRANTED_QOS_0,
    GRANTED_QOS_1,
    GRANTED_QOS_2,
    UNSPECIFIED_ERROR,
];

/// The reason (or return) codes a packet type may carry in `version`; `None` for a packet type
/// that carries none there.
pub fn allowed(packet_type: PacketType, version: ProtocolVersion) -> Option<&'static [u8]> {
    use PacketType as T;
    if !version.is_v5() {
        return match packet_type {
            T::ConnAck => Some(V3_CONNACK),
            T::SubAck => Some(V3_SUBACK),
            _ => None,
        };
    }
    match packet_type {
        T::ConnAck => Some(CONNACK),
        T::PubAck | T::PubRec => Some(PUBACK_PUBREC),
        T::PubRel | T::PubComp => Some(PUBREL_PUBCOMP),
        T::SubAck => Some(SUBACK),
        T::UnsubAck => Some(UNSUBACK),
        T::Disconnect => Some(DISCONNECT),
        T::Auth => Some(AUTH),
        _ => None,
    }
}

/// A code that `packet_type` may not carry: turned into the decoder's or the encoder's
/// `InvalidReasonCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotAllowed {
    pub packet_type: PacketType,
    pub code: u8,
}

/// Checks `code` against the table of `packet_type` in `version`. A packet type without one
/// carries no code there, and its model's field is not written; it passes.
pub(crate) fn check(
    packet_type: PacketType,
    version: ProtocolVersion,
    code: u8,
) -> Result<(), NotAllowed> {
    match allowed(packet_type, version) {
        Some(codes) if !codes.contains(&code) => Err(NotAllowed { packet_type, code }),
        _ => Ok(()),
    }
}

/// Codes of 0x80 and above are failures (MQTT-2.4: "a Reason Code of 0x80 or greater indicates
/// failure").
pub fn is_failure(code: u8) -> bool {
    code >= 0x80
}

/// Maps a 3.1.1 CONNACK return code to the MQTT 5 reason code of the same meaning, so that the
/// session core reports one kind of refusal for both versions.
pub fn from_v3_connack(code: u8) -> u8 {
    match code {
        v3::ACCEPTED => SUCCESS,
        v3::UNACCEPTABLE_PROTOCOL_VERSION => UNSUPPORTED_PROTOCOL_VERSION,
        v3::IDENTIFIER_REJECTED => CLIENT_IDENTIFIER_NOT_VALID,
        v3::SERVER_UNAVAILABLE => SERVER_UNAVAILABLE,
        v3::BAD_USER_NAME_OR_PASSWORD => BAD_USER_NAME_OR_PASSWORD,
        v3::NOT_AUTHORIZED => NOT_AUTHORIZED,
        _ => UNSPECIFIED_ERROR,
    }
}

/// A short English name for logs and error messages.
pub fn name(code: u8) -> &'static str {
    match code {
        SUCCESS => "success",
        GRANTED_QOS_1 => "granted QoS 1",
        GRANTED_QOS_2 => "granted QoS 2",
        DISCONNECT_WITH_WILL_MESSAGE => "disconnect with will message",
        NO_MATCHING_SUBSCRIBERS => "no matching subscribers",
        NO_SUBSCRIPTION_EXISTED => "no subscription existed",
        CONTINUE_AUTHENTICATION => "continue authentication",
        RE_AUTHENTICATE => "re-authenticate",
        UNSPECIFIED_ERROR => "unspecified error",
        MALFORMED_PACKET => "malformed packet",
        PROTOCOL_ERROR => "protocol error",
        IMPLEMENTATION_SPECIFIC_ERROR => "implementation specific error",
        UNSUPPORTED_PROTOCOL_VERSION => "unsupported protocol version",
        CLIENT_IDENTIFIER_NOT_VALID => "client identifier not valid",
        BAD_USER_NAME_OR_PASSWORD => "bad user name or password",
        NOT_AUTHORIZED => "not authorized",
        SERVER_UNAVAILABLE => "server unavailable",
        SERVER_BUSY => "server busy",
        BANNED => "banned",
        SERVER_SHUTTING_DOWN => "server shutting down",
        BAD_AUTHENTICATION_METHOD => "bad authentication method",
        KEEP_ALIVE_TIMEOUT => "keep alive timeout",
        SESSION_TAKEN_OVER => "session taken over",
        TOPIC_FILTER_INVALID => "topic filter invalid",
        TOPIC_NAME_INVALID => "topic name invalid",
        PACKET_IDENTIFIER_IN_USE => "packet identifier in use",
        PACKET_IDENTIFIER_NOT_FOUND => "packet identifier not found",
        RECEIVE_MAXIMUM_EXCEEDED => "receive maximum exceeded",
        TOPIC_ALIAS_INVALID => "topic alias invalid",
        PACKET_TOO_LARGE => "packet too large",
        MESSAGE_RATE_TOO_HIGH => "message rate too high",
        QUOTA_EXCEEDED => "quota exceeded",
        ADMINISTRATIVE_ACTION => "administrative action",
        PAYLOAD_FORMAT_INVALID => "payload format invalid",
        RETAIN_NOT_SUPPORTED => "retain not supported",
        QOS_NOT_SUPPORTED => "QoS not supported",
        USE_ANOTHER_SERVER => "use another server",
        SERVER_MOVED => "server moved",
        SHARED_SUBSCRIPTIONS_NOT_SUPPORTED => "shared subscriptions not supported",
        CONNECTION_RATE_EXCEEDED => "connection rate exceeded",
        MAXIMUM_CONNECT_TIME => "maximum connect time",
        SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED => "subscription identifiers not supported",
        WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED => "wildcard subscriptions not supported",
        _ => "unknown reason code",
    }
}
