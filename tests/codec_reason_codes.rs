//! Reason codes: each packet type carries only the codes of its own table, decoding and encoding.
//!
//! The tables are restated here from the specification, not taken from the codec, so that a
//! wrong table in the codec fails these tests. Every one of the 256 byte values is tried for
//! every packet type that has a reason (or return) code.
//!
//! A code outside the table is refused as `InvalidReasonCode`, a Protocol Error (0x82): the
//! byte parses, and its value is "data that is not allowed by the protocol" (section 1.2). The
//! tables' "Sent by" column is not checked: the codec decodes both directions.
#![cfg(not(target_arch = "wasm32"))] // host-only: proptest and friends

mod common;

use common::checks::*;
use wasmqtt::codec::reason::*;
use wasmqtt::codec::{
    Ack, Auth, ConnAck, DecodeError, Disconnect, EncodeError, Packet, PacketType, Properties,
    ProtocolVersion, SubAck, UnsubAck,
};

use PacketType as T;
use ProtocolVersion::{V3_1, V3_1_1, V5};

// ---------------------------------------------------------------------------------------------
// The tables, as the MQTT 5.0 and 3.1.1 specifications give them

/// Table 3-1, section 3.2.2.2 (MQTT-3.2.2-8).
const CONNACK_5: &[u8] = &[
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

/// Section 3.4.2.1 (MQTT-3.4.2-1); PUBREC's table in section 3.5.2.1 (MQTT-3.5.2-1) is the same.
const PUBACK_5: &[u8] = &[
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

/// Section 3.6.2.1 (MQTT-3.6.2-1); PUBCOMP's in section 3.7.2.1 (MQTT-3.7.2-1) is the same.
const PUBREL_5: &[u8] = &[SUCCESS, PACKET_IDENTIFIER_NOT_FOUND];

/// Section 3.9.3 (MQTT-3.9.3-2).
const SUBACK_5: &[u8] = &[
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

/// Section 3.11.3 (MQTT-3.11.3-2).
const UNSUBACK_5: &[u8] = &[
    SUCCESS,
    NO_SUBSCRIPTION_EXISTED,
    UNSPECIFIED_ERROR,
    IMPLEMENTATION_SPECIFIC_ERROR,
    NOT_AUTHORIZED,
    TOPIC_FILTER_INVALID,
    PACKET_IDENTIFIER_IN_USE,
];

/// Section 3.14.2.1 (MQTT-3.14.2-1).
const DISCONNECT_5: &[u8] = &[
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

/// Section 3.15.2.1 (MQTT-3.15.2-1).
const AUTH_5: &[u8] = &[SUCCESS, CONTINUE_AUTHENTICATION, RE_AUTHENTICATE];

/// 3.1.1 Table 3.1: return codes 0 to 5; 6-255 are reserved.
const CONNACK_3: &[u8] = &[0, 1, 2, 3, 4, 5];

/// 3.1.1 section 3.9.3: "SUBACK return codes other than 0x00, 0x01, 0x02 and 0x80 are reserved
/// and MUST NOT be used" (3.1.1: MQTT-3.9.3-2).
const SUBACK_3: &[u8] = &[0x00, 0x01, 0x02, 0x80];

// ---------------------------------------------------------------------------------------------
// One packet of each type around a code: its bytes, its model, and the code read back

/// A packet type with a code, in one protocol version.
struct Case {
    packet_type: PacketType,
    version: ProtocolVersion,
    allowed: &'static [u8],
}

const CASES_5: [Case; 9] = [
    case(T::ConnAck, V5, CONNACK_5),
    case(T::PubAck, V5, PUBACK_5),
    case(T::PubRec, V5, PUBACK_5),
    case(T::PubRel, V5, PUBREL_5),
    case(T::PubComp, V5, PUBREL_5),
    case(T::SubAck, V5, SUBACK_5),
    case(T::UnsubAck, V5, UNSUBACK_5),
    case(T::Disconnect, V5, DISCONNECT_5),
    case(T::Auth, V5, AUTH_5),
];

const CASES_3: [Case; 4] = [
    case(T::ConnAck, V3_1, CONNACK_3),
    case(T::ConnAck, V3_1_1, CONNACK_3),
    case(T::SubAck, V3_1, SUBACK_3),
    case(T::SubAck, V3_1_1, SUBACK_3),
];

const fn case(packet_type: PacketType, version: ProtocolVersion, allowed: &'static [u8]) -> Case {
    Case {
        packet_type,
        version,
        allowed,
    }
}

impl Case {
    /// The packet on the wire: packet identifier 1 where there is one, then the code, then (in
    /// 5.0) an empty property list, or for SUBACK and UNSUBACK the property list then the code.
    fn bytes(&self, code: u8) -> Vec<u8> {
        let v5 = self.version == V5;
        let body = match self.packet_type {
            T::ConnAck if v5 => vec![0x00, code, 0x00],
            T::ConnAck => vec![0x00, code],
            T::PubAck | T::PubRec | T::PubRel | T::PubComp => vec![0x00, 0x01, code, 0x00],
            T::SubAck | T::UnsubAck if v5 => vec![0x00, 0x01, 0x00, code],
            T::SubAck => vec![0x00, 0x01, code],
            T::Disconnect | T::Auth => vec![code, 0x00],
            t => unreachable!("{t:?} has no code"),
        };
        let flags = if self.packet_type == T::PubRel {
            0b0010
        } else {
            0
        };
        packet(((self.packet_type as u8) << 4) | flags, &body)
    }

    fn model(&self, code: u8) -> Packet {
        let ack = Ack {
            reason_code: code,
            ..Ack::new(1)
        };
        let properties = Properties::default();
        match self.packet_type {
            T::ConnAck => Packet::ConnAck(ConnAck {
                session_present: false,
                code,
                properties,
            }),
            T::PubAck => Packet::PubAck(ack),
            T::PubRec => Packet::PubRec(ack),
            T::PubRel => Packet::PubRel(ack),
            T::PubComp => Packet::PubComp(ack),
            T::SubAck => Packet::SubAck(SubAck {
                packet_id: 1,
                properties,
                reason_codes: vec![code],
            }),
            T::UnsubAck => Packet::UnsubAck(UnsubAck {
                packet_id: 1,
                properties,
                reason_codes: vec![code],
            }),
            T::Disconnect => Packet::Disconnect(Disconnect {
                reason_code: code,
                properties,
            }),
            T::Auth => Packet::Auth(Auth {
                reason_code: code,
                properties,
            }),
            t => unreachable!("{t:?} has no code"),
        }
    }
}

fn code_of(packet: &Packet) -> u8 {
    match packet {
        Packet::ConnAck(c) => c.code,
        Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
            a.reason_code
        }
        Packet::SubAck(SubAck { reason_codes, .. })
        | Packet::UnsubAck(UnsubAck { reason_codes, .. }) => {
            assert_eq!(reason_codes.len(), 1);
            reason_codes[0]
        }
        Packet::Disconnect(d) => d.reason_code,
        Packet::Auth(a) => a.reason_code,
        p => unreachable!("{p:?} has no code"),
    }
}

/// Decodes the packet with each of the 256 codes; returns how many were tried.
fn decode_all_codes(case: &Case) -> usize {
    for code in 0..=255u8 {
        let bytes = case.bytes(code);
        let what = format!("{:?} {:?} code {code:#04x}", case.version, case.packet_type);
        if case.allowed.contains(&code) {
            let packet = accepts(&bytes, case.version);
            assert_eq!(packet.packet_type(), case.packet_type, "{what}");
            assert_eq!(code_of(&packet), code, "{what}");
        } else {
            let e = DecodeError::InvalidReasonCode {
                packet_type: case.packet_type,
                code,
            };
            rejects(&bytes, case.version, e, PROTOCOL_ERROR);
        }
    }
    256
}

/// Encodes the packet with each of the 256 codes; returns how many were tried.
fn encode_all_codes(case: &Case, allowed: &[u8]) -> usize {
    for code in 0..=255u8 {
        let packet = case.model(code);
        if allowed.contains(&code) {
            let bytes = encodes(&packet, case.version);
            let back = accepts(&bytes, case.version);
            assert_eq!(back.packet_type(), case.packet_type);
            let expected = if case.version != V5 && case.packet_type == T::SubAck {
                // A 3.1.1 SUBACK writes any 5.0 failure code as its one failure code.
                code.min(0x80)
            } else {
                code
            };
            assert_eq!(code_of(&back), expected, "{case:?} code {code:#04x}");
        } else {
            let e = EncodeError::InvalidReasonCode {
                packet_type: case.packet_type,
                code,
            };
            refuses(&packet, case.version, e, PROTOCOL_ERROR);
        }
    }
    256
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} {:?}", self.version, self.packet_type)
    }
}

// ---------------------------------------------------------------------------------------------
// All 256 values, every packet type

#[test]
fn every_5_0_packet_type_decodes_exactly_the_reason_codes_of_its_own_table() {
    let tried: usize = CASES_5.iter().map(decode_all_codes).sum();
    assert_eq!(tried, 9 * 256);
}

#[test]
fn every_5_0_packet_type_encodes_exactly_the_reason_codes_of_its_own_table() {
    // The client must not send a code its packet cannot carry, whoever asks it to.
    let tried: usize = CASES_5.iter().map(|c| encode_all_codes(c, c.allowed)).sum();
    assert_eq!(tried, 9 * 256);
}

#[test]
fn a_3_1_and_3_1_1_connack_carries_only_return_codes_0_to_5() {
    for case in &CASES_3[..2] {
        decode_all_codes(case);
        encode_all_codes(case, CONNACK_3);
    }
}

#[test]
fn a_3_1_and_3_1_1_suback_carries_only_0_1_2_and_0x80() {
    for case in &CASES_3[2..] {
        decode_all_codes(case);
        // The model holds 5.0 codes: a 3.1.1 SUBACK encodes every 5.0 SUBACK code, writing the
        // failures as 0x80, and refuses the rest (0x03, or 0x85, which no SUBACK carries).
        encode_all_codes(case, SUBACK_5);
    }
}

#[test]
fn before_5_0_acknowledgements_and_disconnect_carry_no_code_to_check() {
    // Their model's code is not written before 5.0; whatever it holds, nothing is refused.
    for version in [V3_1, V3_1_1] {
        for code in [0x00, 0x11, 0xFF] {
            let ack = Ack {
                reason_code: code,
                ..Ack::new(1)
            };
            assert_eq!(
                encodes(&Packet::PubAck(ack), version),
                [0x40, 0x02, 0x00, 0x01]
            );
            let d = Packet::Disconnect(Disconnect {
                reason_code: code,
                properties: Properties::default(),
            });
            assert_eq!(encodes(&d, version), [0xE0, 0x00]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The eight packets another implementation's fixtures showed decoding (issue #19)

#[track_caller]
fn refused_on_decode(bytes: &[u8], packet_type: PacketType, code: u8) {
    let e = DecodeError::InvalidReasonCode { packet_type, code };
    rejects(bytes, V5, e, PROTOCOL_ERROR);
}

#[test]
fn a_puback_with_0x11_no_subscription_existed_is_refused() {
    // 0x11 belongs to UNSUBACK; MQTT-3.4.2-1
    refused_on_decode(&[0x40, 0x03, 0x00, 0x01, 0x11], T::PubAck, 0x11);
}

#[test]
fn a_pubrel_with_0x10_no_matching_subscribers_is_refused() {
    // 0x10 belongs to PUBACK and PUBREC; MQTT-3.6.2-1
    refused_on_decode(&[0x62, 0x03, 0x00, 0x01, 0x10], T::PubRel, 0x10);
}

#[test]
fn a_pubrel_with_0x11_no_subscription_existed_is_refused() {
    refused_on_decode(&[0x62, 0x03, 0x00, 0x01, 0x11], T::PubRel, 0x11);
}

#[test]
fn a_pubcomp_with_0x10_no_matching_subscribers_is_refused() {
    // MQTT-3.7.2-1
    refused_on_decode(&[0x70, 0x03, 0x00, 0x01, 0x10], T::PubComp, 0x10);
}

#[test]
fn a_suback_with_0x79_an_undefined_code_is_refused() {
    // MQTT-3.9.3-2
    refused_on_decode(&[0x90, 0x04, 0x00, 0x01, 0x00, 0x79], T::SubAck, 0x79);
}

#[test]
fn an_unsuback_with_0x84_unsupported_protocol_version_is_refused() {
    // 0x84 belongs to CONNACK; MQTT-3.11.3-2
    refused_on_decode(&[0xB0, 0x04, 0x00, 0x01, 0x00, 0x84], T::UnsubAck, 0x84);
}

#[test]
fn a_disconnect_with_0x05_an_undefined_code_is_refused() {
    // MQTT-3.14.2-1; also as the reason code alone, without a property length
    refused_on_decode(&[0xE0, 0x01, 0x05], T::Disconnect, 0x05);
    refused_on_decode(&[0xE0, 0x02, 0x05, 0x00], T::Disconnect, 0x05);
}

#[test]
fn an_auth_with_0x17_an_undefined_code_is_refused() {
    // MQTT-3.15.2-1
    refused_on_decode(&[0xF0, 0x02, 0x17, 0x00], T::Auth, 0x17);
}

#[test]
fn a_refused_code_is_found_anywhere_in_a_suback_or_unsuback_list() {
    // Every code is checked, not only the first (MQTT-3.9.3-2, MQTT-3.11.3-2).
    refused_on_decode(
        &[0x90, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 0x11],
        T::SubAck,
        0x11,
    );
    refused_on_decode(
        &[0xB0, 0x06, 0x00, 0x01, 0x00, 0x00, 0x11, 0x10],
        T::UnsubAck,
        0x10,
    );
}
