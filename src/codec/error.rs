//! Typed decode and encode errors, each mapped to the MQTT 5 reason code that a client would put
//! in the DISCONNECT it sends before closing (section 4.13).

use core::fmt;

use super::packet::PacketType;
use super::reason;
use crate::topic::TopicError;

/// Why received bytes are not a valid MQTT packet.
///
/// Every variant means the connection must be closed; [`DecodeError::reason_code`] gives the
/// reason code for the DISCONNECT (MQTT 5) that may precede the close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// [`decode_packet`](super::decode_packet) was given fewer bytes than a fixed header.
    Incomplete,
    /// Packet type 0, or 15 (AUTH) before MQTT 5.
    ReservedPacketType(u8),
    /// Fixed-header flag bits other than the ones the specification fixes for this packet type
    /// (MQTT-2.1.3-1; 3.1.1: MQTT-2.2.2-2).
    InvalidFlags { packet_type: PacketType, flags: u8 },
    /// A variable byte integer continued past its fourth byte (MQTT 5 section 1.5.5).
    MalformedVariableInteger,
    /// The packet (fixed header included) is larger than the maximum packet size in force.
    PacketTooLarge { size: u32, max: u32 },
    /// A field runs past the end of the packet or of its length-prefixed section.
    Truncated { packet_type: PacketType },
    /// Bytes are left after the last field of the packet or of a length-prefixed section.
    TrailingBytes { packet_type: PacketType },
    /// A UTF-8 string field is not well-formed UTF-8 (MQTT-1.5.4-1).
    InvalidUtf8,
    /// A UTF-8 string field contains U+0000 (MQTT-1.5.4-2).
    NullCharacter,
    /// A PUBLISH or will topic that is not a valid topic name, e.g. with a wildcard
    /// (MQTT-3.3.2-2).
    InvalidTopicName(TopicError),
    /// A zero-length PUBLISH topic without a Topic Alias (MQTT 5 section 3.3.2.1).
    MissingTopicName,
    /// A SUBSCRIBE or UNSUBSCRIBE filter that is not a valid topic filter (MQTT-4.7.1-1, -2).
    InvalidTopicFilter(TopicError),
    /// Packet identifier 0 where a non-zero one is required (MQTT-2.2.1-3; 3.1.1: MQTT-2.3.1-1).
    ZeroPacketId { packet_type: PacketType },
    /// QoS 3 in a PUBLISH (MQTT-3.3.1-4), a will QoS or a subscription's options.
    InvalidQoS { packet_type: PacketType },
    /// DUP set on a QoS 0 PUBLISH (MQTT-3.3.1-2).
    DupWithQoS0,
    /// CONNECT protocol name other than "MQTT" (levels 4, 5) or "MQIsdp" (level 3)
    /// (MQTT-3.1.2-1).
    InvalidProtocolName,
    /// CONNECT protocol level other than 3, 4 or 5, or 0x83, 0x84 with the bridge bit
    /// (MQTT-3.1.2-2; see [`BRIDGE_BIT`](super::BRIDGE_BIT)).
    UnsupportedProtocolLevel(u8),
    /// CONNECT flags with the reserved bit set (MQTT-3.1.2-3).
    InvalidConnectFlags,
    /// Will QoS or will retain set without the will flag (MQTT-3.1.2-11, -13; 3.1.1: -13, -15).
    InvalidWillFlags,
    /// Password flag without user name flag before MQTT 5 (3.1.1: MQTT-3.1.2-22).
    PasswordWithoutUsername,
    /// CONNACK acknowledge flags with reserved bits set (MQTT-3.2.2-1).
    InvalidConnAckFlags,
    /// CONNACK with session present set and a failure code (MQTT-3.2.2-6; 3.1.1: MQTT-3.2.2-4).
    SessionPresentOnFailure,
    /// Subscription options with reserved bits set (MQTT-3.8.3-5; 3.1.1: MQTT-3-8.3-4).
    InvalidSubscriptionOptions,
    /// Retain handling 3 (MQTT 5 section 3.8.3.1: a Protocol Error).
    InvalidRetainHandling,
    /// No local on a shared subscription (MQTT-3.8.3-4).
    NoLocalOnSharedSubscription,
    /// SUBSCRIBE or UNSUBSCRIBE without a topic filter (MQTT-3.8.3-2, MQTT-3.10.3-2).
    NoTopicFilters { packet_type: PacketType },
    /// A reason code outside the packet type's table (e.g. MQTT-3.4.2-1; 3.1.1: CONNACK 6-255,
    /// MQTT-3.9.3-2), see [`reason::allowed`]. The byte parses, its value is not allowed: a
    /// Protocol Error by the definitions of section 1.2.
    InvalidReasonCode { packet_type: PacketType, code: u8 },
    /// A property identifier MQTT 5 does not define.
    UnknownProperty(u32),
    /// A property the packet may not carry (MQTT 5 section 2.2.2.2: a Malformed Packet).
    PropertyNotAllowed {
        packet_type: PacketType,
        property: u8,
    },
    /// A property that may appear at most once appears twice (a Protocol Error).
    DuplicateProperty {
        packet_type: PacketType,
        property: u8,
    },
    /// A property value out of its range: 0 where it must be non-zero (Receive Maximum, Maximum
    /// Packet Size, Subscription Identifier, Topic Alias), a flag other than 0 or 1, a Response
    /// Topic with wildcards, Authentication Data without Authentication Method.
    InvalidPropertyValue { property: u8 },
}

impl DecodeError {
    /// The MQTT 5 reason code for the DISCONNECT a client sends on this error.
    pub fn reason_code(&self) -> u8 {
        use DecodeError::*;
        match self {
            PacketTooLarge { .. } => reason::PACKET_TOO_LARGE,
            UnsupportedProtocolLevel(_) => reason::UNSUPPORTED_PROTOCOL_VERSION,
            InvalidPropertyValue { property: 0x23 } => reason::TOPIC_ALIAS_INVALID,
            ZeroPacketId { .. }
            | MissingTopicName
            | SessionPresentOnFailure
            | InvalidRetainHandling
            | NoLocalOnSharedSubscription
            | NoTopicFilters { .. }
            | InvalidReasonCode { .. }
            | DuplicateProperty { .. }
            | InvalidPropertyValue { .. } => reason::PROTOCOL_ERROR,
            _ => reason::MALFORMED_PACKET,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DecodeError::*;
        match self {
            Incomplete => f.write_str("bytes end before the fixed header does"),
            ReservedPacketType(t) => write!(f, "reserved packet type {t}"),
            InvalidFlags { packet_type, flags } => {
                write!(
                    f,
                    "invalid fixed header flags {flags:#06b} for {packet_type:?}"
                )
            }
            MalformedVariableInteger => f.write_str("variable byte integer longer than 4 bytes"),
            PacketTooLarge { size, max } => {
                write!(
                    f,
                    "packet of {size} bytes exceeds the maximum packet size {max}"
                )
            }
            Truncated { packet_type } => write!(f, "{packet_type:?} ends in the middle of a field"),
            TrailingBytes { packet_type } => write!(f, "{packet_type:?} has trailing bytes"),
            InvalidUtf8 => f.write_str("string is not well-formed UTF-8"),
            NullCharacter => f.write_str("string contains U+0000"),
            InvalidTopicName(e) => write!(f, "invalid topic name: {e}"),
            MissingTopicName => f.write_str("empty topic name without a topic alias"),
            InvalidTopicFilter(e) => write!(f, "invalid topic filter: {e}"),
            ZeroPacketId { packet_type } => write!(f, "{packet_type:?} with packet identifier 0"),
            InvalidQoS { packet_type } => write!(f, "QoS 3 in {packet_type:?}"),
            DupWithQoS0 => f.write_str("PUBLISH with DUP set and QoS 0"),
            InvalidProtocolName => f.write_str("CONNECT protocol name is not MQTT or MQIsdp"),
            UnsupportedProtocolLevel(l) => write!(f, "unsupported protocol level {l}"),
            InvalidConnectFlags => f.write_str("CONNECT reserved flag is set"),
            InvalidWillFlags => f.write_str("will QoS or will retain set without the will flag"),
            PasswordWithoutUsername => f.write_str("password flag set without user name flag"),
            InvalidConnAckFlags => f.write_str("CONNACK reserved flags are set"),
            SessionPresentOnFailure => f.write_str("CONNACK refuses but sets session present"),
            InvalidSubscriptionOptions => f.write_str("subscription options reserved bits are set"),
            InvalidRetainHandling => f.write_str("retain handling 3"),
            NoLocalOnSharedSubscription => f.write_str("no local set on a shared subscription"),
            NoTopicFilters { packet_type } => write!(f, "{packet_type:?} without a topic filter"),
            InvalidReasonCode { packet_type, code } => {
                write!(f, "{packet_type:?} cannot carry code {code:#04x}")
            }
            UnknownProperty(id) => write!(f, "unknown property identifier {id:#04x}"),
            PropertyNotAllowed {
                packet_type,
                property,
            } => {
                write!(
                    f,
                    "property {property:#04x} is not allowed in {packet_type:?}"
                )
            }
            DuplicateProperty {
                packet_type,
                property,
            } => {
                write!(
                    f,
                    "property {property:#04x} appears more than once in {packet_type:?}"
                )
            }
            InvalidPropertyValue { property } => {
                write!(f, "property {property:#04x} has an invalid value")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

impl From<reason::NotAllowed> for DecodeError {
    fn from(reason::NotAllowed { packet_type, code }: reason::NotAllowed) -> Self {
        DecodeError::InvalidReasonCode { packet_type, code }
    }
}

/// Why a packet cannot be encoded: it would break a rule of the protocol version it is encoded
/// for. Nothing is appended to the output buffer when encoding fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// Packet identifier 0 where a non-zero one is required (MQTT-2.2.1-3).
    ZeroPacketId { packet_type: PacketType },
    /// A QoS 1 or 2 PUBLISH without a packet identifier (MQTT-2.2.1-3).
    MissingPacketId,
    /// A QoS 0 PUBLISH with a packet identifier (MQTT-2.2.1-2).
    UnexpectedPacketId,
    /// DUP set on a QoS 0 PUBLISH (MQTT-3.3.1-2).
    DupWithQoS0,
    /// A PUBLISH or will topic that is not a valid topic name; `Empty` also for an empty MQTT 5
    /// topic without a Topic Alias.
    InvalidTopicName(TopicError),
    /// A SUBSCRIBE or UNSUBSCRIBE filter that is not a valid topic filter.
    InvalidTopicFilter(TopicError),
    /// SUBSCRIBE or UNSUBSCRIBE without a topic filter.
    NoTopicFilters { packet_type: PacketType },
    /// A string or binary field longer than 65 535 bytes.
    FieldTooLong { packet_type: PacketType },
    /// A string field containing U+0000 (MQTT-1.5.4-2).
    NullCharacter { packet_type: PacketType },
    /// A property the packet may not carry.
    PropertyNotAllowed {
        packet_type: PacketType,
        property: u8,
    },
    /// More than one Subscription Identifier outside PUBLISH.
    DuplicateProperty {
        packet_type: PacketType,
        property: u8,
    },
    /// A property value out of its range (see [`DecodeError::InvalidPropertyValue`]).
    InvalidPropertyValue { property: u8 },
    /// No local on a shared subscription (MQTT-3.8.3-4).
    NoLocalOnSharedSubscription,
    /// Password without user name before MQTT 5 (3.1.1: MQTT-3.1.2-22).
    PasswordWithoutUsername,
    /// CONNACK with session present and a failure code (MQTT-3.2.2-6).
    SessionPresentOnFailure,
    /// A reason code the packet cannot carry in this version (see [`reason::allowed`]; a 3.1.1
    /// SUBACK takes the 5.0 SUBACK codes and writes a failure as 0x80).
    InvalidReasonCode { packet_type: PacketType, code: u8 },
    /// A packet type that does not exist in this version (AUTH before MQTT 5).
    NotInVersion { packet_type: PacketType },
    /// A CONNECT whose protocol level is not defined: 5.0 with the bridge bit, 0x85 (see
    /// [`BRIDGE_BIT`](super::BRIDGE_BIT)).
    UnsupportedProtocolLevel(u8),
    /// The remaining length would exceed 268 435 455 bytes.
    PacketTooLarge,
}

impl EncodeError {
    /// The MQTT 5 reason code a receiver would answer this packet with.
    pub fn reason_code(&self) -> u8 {
        use EncodeError::*;
        match self {
            PacketTooLarge => reason::PACKET_TOO_LARGE,
            UnsupportedProtocolLevel(_) => reason::UNSUPPORTED_PROTOCOL_VERSION,
            InvalidPropertyValue { property: 0x23 } => reason::TOPIC_ALIAS_INVALID,
            ZeroPacketId { .. }
            | MissingPacketId
            | UnexpectedPacketId
            | NoTopicFilters { .. }
            | DuplicateProperty { .. }
            | InvalidPropertyValue { .. }
            | NoLocalOnSharedSubscription
            | SessionPresentOnFailure
            | InvalidReasonCode { .. }
            | NotInVersion { .. } => reason::PROTOCOL_ERROR,
            _ => reason::MALFORMED_PACKET,
        }
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use EncodeError::*;
        match self {
            ZeroPacketId { packet_type } => write!(f, "{packet_type:?} with packet identifier 0"),
            MissingPacketId => f.write_str("QoS 1 or 2 PUBLISH without a packet identifier"),
            UnexpectedPacketId => f.write_str("QoS 0 PUBLISH with a packet identifier"),
            DupWithQoS0 => f.write_str("PUBLISH with DUP set and QoS 0"),
            InvalidTopicName(e) => write!(f, "invalid topic name: {e}"),
            InvalidTopicFilter(e) => write!(f, "invalid topic filter: {e}"),
            NoTopicFilters { packet_type } => write!(f, "{packet_type:?} without a topic filter"),
            FieldTooLong { packet_type } => {
                write!(
                    f,
                    "{packet_type:?} has a string or binary field over 65535 bytes"
                )
            }
            NullCharacter { packet_type } => write!(f, "{packet_type:?} has a string with U+0000"),
            PropertyNotAllowed {
                packet_type,
                property,
            } => {
                write!(
                    f,
                    "property {property:#04x} is not allowed in {packet_type:?}"
                )
            }
            DuplicateProperty {
                packet_type,
                property,
            } => {
                write!(
                    f,
                    "property {property:#04x} may appear only once in {packet_type:?}"
                )
            }
            InvalidPropertyValue { property } => {
                write!(f, "property {property:#04x} has an invalid value")
            }
            NoLocalOnSharedSubscription => f.write_str("no local set on a shared subscription"),
            PasswordWithoutUsername => f.write_str("password without user name before MQTT 5"),
            SessionPresentOnFailure => f.write_str("CONNACK refuses but sets session present"),
            InvalidReasonCode { packet_type, code } => {
                write!(
                    f,
                    "{packet_type:?} cannot carry code {code:#04x} in this version"
                )
            }
            NotInVersion { packet_type } => {
                write!(f, "{packet_type:?} does not exist in this protocol version")
            }
            UnsupportedProtocolLevel(l) => {
                write!(
                    f,
                    "protocol level {l:#04x} is not defined (no bridge bit in 5.0)"
                )
            }
            PacketTooLarge => f.write_str("remaining length over 268435455 bytes"),
        }
    }
}

impl std::error::Error for EncodeError {}

impl From<reason::NotAllowed> for EncodeError {
    fn from(reason::NotAllowed { packet_type, code }: reason::NotAllowed) -> Self {
        EncodeError::InvalidReasonCode { packet_type, code }
    }
}
