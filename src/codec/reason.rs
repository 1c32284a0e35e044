//! MQTT 5 reason codes (section 2.4) and the MQTT 3.1.1 CONNACK return codes.
//!
//! Kept as plain `u8` constants: they travel on the wire as bytes, several share a value across
//! packets (0x00 is "success", "normal disconnection" and "granted QoS 0"), and a broker may send
//! one this client does not know, which must still be carried through.

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
