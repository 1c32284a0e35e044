//! Decoder validation, contents: MQTT 5 properties, SUBSCRIBE payloads, CONNECT and CONNACK.
//! Each rule with its typed error and the MQTT 5 reason code a client would disconnect with.
//! Normative statement ids are MQTT 5.0's unless marked 3.1.1.
#![cfg(not(target_arch = "wasm32"))] // host-only: proptest and friends

mod common;

use common::checks::*;
use wasmqtt::codec::{reason, DecodeError, Packet, PacketType, ProtocolVersion};

use PacketType as T;
use ProtocolVersion::{V3_1, V3_1_1, V5};

const ALL: [ProtocolVersion; 3] = [V3_1, V3_1_1, V5];
const MALFORMED: u8 = reason::MALFORMED_PACKET;
const PROTOCOL: u8 = reason::PROTOCOL_ERROR;

// ---------------------------------------------------------------------------------------------
// Properties (MQTT 5)

#[test]
fn a_single_valued_property_may_not_appear_twice() {
    // Section 2.2.2.2 and each property's "It is a Protocol Error to include ... more than once".
    let e = DecodeError::DuplicateProperty {
        packet_type: T::Publish,
        property: 0x23,
    };
    let bytes = [
        0x30, 0x0A, 0x00, 0x01, b't', 6, 0x23, 0x00, 0x01, 0x23, 0x00, 0x02,
    ];
    rejects(&bytes, V5, e, PROTOCOL);
    let e = DecodeError::DuplicateProperty {
        packet_type: T::ConnAck,
        property: 0x21,
    };
    rejects(
        &[
            0x20, 0x09, 0x00, 0x00, 6, 0x21, 0x00, 0x01, 0x21, 0x00, 0x01,
        ],
        V5,
        e,
        PROTOCOL,
    );
}

#[test]
fn subscription_identifiers_repeat_in_publish_but_not_in_subscribe() {
    let e = DecodeError::DuplicateProperty {
        packet_type: T::Subscribe,
        property: 0x0B,
    };
    let bytes = [
        0x82, 0x0B, 0x00, 0x01, 4, 0x0B, 0x01, 0x0B, 0x02, 0x00, 0x01, b'a', 0x00,
    ];
    rejects(&bytes, V5, e, PROTOCOL);
    let Packet::Publish(p) = accepts(
        &[0x30, 0x08, 0x00, 0x01, b't', 4, 0x0B, 0x01, 0x0B, 0x02],
        V5,
    ) else {
        panic!()
    };
    assert_eq!(p.properties.subscription_identifiers, [1, 2]);
}

#[test]
fn user_properties_repeat_and_keep_their_order() {
    #[rustfmt::skip]
    let bytes = [
        0xE0, 16, 0x00, 14,
        0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'2',
        0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'1',
    ];
    let Packet::Disconnect(d) = accepts(&bytes, V5) else {
        panic!()
    };
    let expected: Vec<(String, String)> = vec![("a".into(), "2".into()), ("a".into(), "1".into())];
    assert_eq!(d.properties.user_properties, expected);
}

#[test]
fn a_property_in_a_packet_that_may_not_carry_it_is_malformed() {
    // Section 2.2.2.2: an identifier not valid for the packet type is a Malformed Packet.
    let e = |packet_type, property| DecodeError::PropertyNotAllowed {
        packet_type,
        property,
    };
    // session expiry interval in PUBLISH
    let bytes = [
        0x30, 0x09, 0x00, 0x01, b't', 5, 0x11, 0x00, 0x00, 0x00, 0x01,
    ];
    rejects(&bytes, V5, e(T::Publish, 0x11), MALFORMED);
    // subscription identifier in SUBACK
    rejects(
        &[0x90, 0x06, 0x00, 0x01, 2, 0x0B, 0x01, 0x00],
        V5,
        e(T::SubAck, 0x0B),
        MALFORMED,
    );
    // payload format indicator in PUBACK
    rejects(
        &[0x40, 0x06, 0x00, 0x01, 0x00, 2, 0x01, 0x01],
        V5,
        e(T::PubAck, 0x01),
        MALFORMED,
    );
    // topic alias among will properties
    let mut connect = connect_bytes(V5, 0x06);
    connect.extend_from_slice(&[3, 0x23, 0x00, 0x01, 0x00, 0x01, b'w', 0x00, 0x00]);
    connect[1] += 9;
    rejects(&connect, V5, e(T::Connect, 0x23), MALFORMED);
    // will delay interval in the CONNECT's own properties
    let bytes = [
        0x10, 18, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, //
        5, 0x18, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    ];
    rejects(&bytes, V5, e(T::Connect, 0x18), MALFORMED);
}

#[test]
fn an_unknown_property_identifier_is_malformed() {
    rejects(
        &[0x30, 0x05, 0x00, 0x01, b't', 1, 0x05],
        V5,
        DecodeError::UnknownProperty(5),
        MALFORMED,
    );
    rejects(
        &[0x30, 0x05, 0x00, 0x01, b't', 1, 0x7F],
        V5,
        DecodeError::UnknownProperty(0x7F),
        MALFORMED,
    );
    // identifiers are variable byte integers: 0x80 0x01 is 128
    let bytes = [0x30, 0x06, 0x00, 0x01, b't', 2, 0x80, 0x01];
    rejects(&bytes, V5, DecodeError::UnknownProperty(128), MALFORMED);
}

#[test]
fn zero_is_refused_where_a_property_must_be_non_zero() {
    let e = |property| DecodeError::InvalidPropertyValue { property };
    // Section 3.8.2.1.2: subscription identifier 0 is a Protocol Error.
    let bytes = [
        0x82, 0x09, 0x00, 0x01, 2, 0x0B, 0x00, 0x00, 0x01, b'a', 0x00,
    ];
    rejects(&bytes, V5, e(0x0B), PROTOCOL);
    // MQTT-3.3.2-8: topic alias 0 is not permitted; the client disconnects with 0x94.
    let bytes = [0x30, 0x07, 0x00, 0x01, b't', 3, 0x23, 0x00, 0x00];
    rejects(&bytes, V5, e(0x23), reason::TOPIC_ALIAS_INVALID);
    // Section 3.2.2.3.3: receive maximum 0 is a Protocol Error.
    rejects(
        &[0x20, 0x06, 0x00, 0x00, 3, 0x21, 0x00, 0x00],
        V5,
        e(0x21),
        PROTOCOL,
    );
    // Section 3.2.2.3.6: maximum packet size 0 is a Protocol Error.
    let bytes = [0x20, 0x08, 0x00, 0x00, 5, 0x27, 0x00, 0x00, 0x00, 0x00];
    rejects(&bytes, V5, e(0x27), PROTOCOL);
}

#[test]
fn flag_properties_must_be_0_or_1() {
    let e = |property| DecodeError::InvalidPropertyValue { property };
    rejects(
        &[0x20, 0x05, 0x00, 0x00, 2, 0x24, 0x02],
        V5,
        e(0x24),
        PROTOCOL,
    );
    rejects(
        &[0x20, 0x05, 0x00, 0x00, 2, 0x25, 0x02],
        V5,
        e(0x25),
        PROTOCOL,
    );
    rejects(
        &[0x20, 0x05, 0x00, 0x00, 2, 0x2A, 0xFF],
        V5,
        e(0x2A),
        PROTOCOL,
    );
    rejects(
        &[0x30, 0x06, 0x00, 0x01, b't', 2, 0x01, 0x02],
        V5,
        e(0x01),
        PROTOCOL,
    );
}

#[test]
fn a_response_topic_must_not_contain_wildcards() {
    let e = DecodeError::InvalidPropertyValue { property: 0x08 };
    let bytes = [
        0x30, 0x09, 0x00, 0x01, b't', 5, 0x08, 0x00, 0x02, b'a', b'#',
    ];
    rejects(&bytes, V5, e, PROTOCOL);
}

#[test]
fn authentication_data_needs_an_authentication_method() {
    let e = DecodeError::InvalidPropertyValue { property: 0x16 };
    rejects(
        &[0xF0, 0x06, 0x18, 4, 0x16, 0x00, 0x01, 0xAA],
        V5,
        e,
        PROTOCOL,
    );
}

// ---------------------------------------------------------------------------------------------
// SUBSCRIBE and UNSUBSCRIBE payloads

#[test]
fn subscription_options_reserved_bits_must_be_zero() {
    // MQTT-3.8.3-5
    let e = DecodeError::InvalidSubscriptionOptions;
    rejects(
        &[0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b'a', 0x40],
        V5,
        e,
        MALFORMED,
    );
    rejects(
        &[0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b'a', 0x80],
        V5,
        e,
        MALFORMED,
    );
    // 3.1.1: MQTT-3-8.3-4, where everything above the QoS bits is reserved.
    for version in [V3_1, V3_1_1] {
        rejects(
            &[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x04],
            version,
            e,
            MALFORMED,
        );
    }
}

#[test]
fn a_requested_qos_of_3_is_malformed() {
    let e = DecodeError::InvalidQoS {
        packet_type: T::Subscribe,
    };
    rejects(
        &[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x03],
        V3_1_1,
        e,
        MALFORMED,
    );
    rejects(
        &[0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b'a', 0x03],
        V5,
        e,
        MALFORMED,
    );
}

#[test]
fn retain_handling_3_is_a_protocol_error() {
    // Section 3.8.3.1
    let bytes = [0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b'a', 0x30];
    rejects(&bytes, V5, DecodeError::InvalidRetainHandling, PROTOCOL);
}

#[test]
fn no_local_on_a_shared_subscription_is_a_protocol_error() {
    // MQTT-3.8.3-4
    let body = [&[0x00, 0x01, 0x00, 0x00, 0x0A][..], b"$share/g/a", &[0x04]].concat();
    rejects(
        &packet(0x82, &body),
        V5,
        DecodeError::NoLocalOnSharedSubscription,
        PROTOCOL,
    );
}

#[test]
fn subscribe_and_unsubscribe_need_at_least_one_topic_filter() {
    // MQTT-3.8.3-2, MQTT-3.10.3-2; 3.1.1: MQTT-3.8.3-3, MQTT-3.10.3-2
    let e = |packet_type| DecodeError::NoTopicFilters { packet_type };
    for version in [V3_1, V3_1_1] {
        rejects(
            &[0x82, 0x02, 0x00, 0x01],
            version,
            e(T::Subscribe),
            PROTOCOL,
        );
        rejects(
            &[0xA2, 0x02, 0x00, 0x01],
            version,
            e(T::Unsubscribe),
            PROTOCOL,
        );
    }
    rejects(
        &[0x82, 0x03, 0x00, 0x01, 0x00],
        V5,
        e(T::Subscribe),
        PROTOCOL,
    );
    rejects(
        &[0xA2, 0x03, 0x00, 0x01, 0x00],
        V5,
        e(T::Unsubscribe),
        PROTOCOL,
    );
}

#[test]
fn a_3_1_1_suback_carries_only_0_1_2_or_0x80() {
    // 3.1.1: MQTT-3.9.3-2
    let e = DecodeError::InvalidReasonCode {
        packet_type: T::SubAck,
        code: 0x03,
    };
    rejects(&[0x90, 0x03, 0x00, 0x01, 0x03], V3_1_1, e, PROTOCOL);
    let e = DecodeError::InvalidReasonCode {
        packet_type: T::SubAck,
        code: 0x87,
    };
    rejects(&[0x90, 0x03, 0x00, 0x01, 0x87], V3_1_1, e, PROTOCOL);
    // A 5.0 SUBACK failure code is carried through as it is (all codes: codec_reason_codes.rs).
    let Packet::SubAck(s) = accepts(&[0x90, 0x04, 0x00, 0x01, 0x00, 0x87], V5) else {
        panic!()
    };
    assert_eq!(s.reason_codes, [0x87]);
}

// ---------------------------------------------------------------------------------------------
// CONNECT and CONNACK

#[test]
fn the_connect_reserved_flag_must_be_zero() {
    // MQTT-3.1.2-3
    for version in ALL {
        rejects(
            &connect_bytes(version, 0x03),
            version,
            DecodeError::InvalidConnectFlags,
            MALFORMED,
        );
    }
}

#[test]
fn will_qos_and_will_retain_must_be_zero_without_a_will() {
    // MQTT-3.1.2-11, MQTT-3.1.2-13; 3.1.1: MQTT-3.1.2-13, MQTT-3.1.2-15
    for version in ALL {
        let e = DecodeError::InvalidWillFlags;
        rejects(&connect_bytes(version, 0x0A), version, e, MALFORMED); // will QoS 1
        rejects(&connect_bytes(version, 0x12), version, e, MALFORMED); // will QoS 2
        rejects(&connect_bytes(version, 0x22), version, e, MALFORMED); // will retain
    }
}

#[test]
fn will_qos_3_is_malformed() {
    // MQTT-3.1.2-12; 3.1.1: MQTT-3.1.2-14
    for version in ALL {
        let e = DecodeError::InvalidQoS {
            packet_type: T::Connect,
        };
        rejects(&connect_bytes(version, 0x1E), version, e, MALFORMED);
    }
}

#[test]
fn a_password_without_a_user_name_is_refused_before_5_0() {
    // 3.1.1: MQTT-3.1.2-22; 5.0 allows it (fixture a_5_0_connect_may_carry_a_password...).
    for version in [V3_1, V3_1_1] {
        let e = DecodeError::PasswordWithoutUsername;
        rejects(&connect_bytes(version, 0x42), version, e, MALFORMED);
    }
}

#[test]
fn the_protocol_name_and_level_must_be_known() {
    // MQTT-3.1.2-1
    let mut bytes = connect_bytes(V3_1_1, 0x02);
    bytes[7] = b'X';
    rejects(&bytes, V3_1_1, DecodeError::InvalidProtocolName, MALFORMED);
    // MQTT-3.1.2-2: the client gets 0x84 Unsupported Protocol Version.
    let mut bytes = connect_bytes(V3_1_1, 0x02);
    bytes[8] = 6;
    rejects(
        &bytes,
        V3_1_1,
        DecodeError::UnsupportedProtocolLevel(6),
        reason::UNSUPPORTED_PROTOCOL_VERSION,
    );
    let mut bytes = connect_bytes(V3_1, 0x02);
    bytes[10] = 4; // "MQIsdp" is level 3 only
    rejects(
        &bytes,
        V3_1,
        DecodeError::UnsupportedProtocolLevel(4),
        reason::UNSUPPORTED_PROTOCOL_VERSION,
    );
}

#[test]
fn the_bridge_bit_goes_only_with_levels_3_and_4_and_their_own_names() {
    // 0x83 and 0x84 are mosquitto's bridge levels (codec::BRIDGE_BIT). 0x85 is defined nowhere:
    // a 5.0 bridge uses No Local and Retain As Published instead. Refused as an unknown level
    // (MQTT-3.1.2-2), as are a bridge bit on a level the name does not have, and 0x80 alone.
    for (version, at, level) in [
        (V5, 8, 0x85),
        (V3_1_1, 8, 0x83),
        (V3_1, 10, 0x84),
        (V3_1_1, 8, 0x80),
        (V3_1_1, 8, 0xFF),
    ] {
        let mut bytes = connect_bytes(version, 0x02);
        bytes[at] = level;
        rejects(
            &bytes,
            version,
            DecodeError::UnsupportedProtocolLevel(level),
            reason::UNSUPPORTED_PROTOCOL_VERSION,
        );
    }
    for (version, at, level) in [(V3_1_1, 8, 0x84), (V3_1, 10, 0x83)] {
        let mut bytes = connect_bytes(version, 0x02);
        bytes[at] = level;
        let Packet::Connect(c) = accepts(&bytes, version) else {
            panic!()
        };
        assert!(c.bridge);
        assert_eq!(c.protocol, version);
    }
}

#[test]
fn connack_reserved_flags_must_be_zero() {
    // MQTT-3.2.2-1
    for version in ALL {
        let bytes: &[u8] = if version == V5 {
            &[0x20, 0x03, 0x02, 0x00, 0x00]
        } else {
            &[0x20, 0x02, 0x02, 0x00]
        };
        rejects(bytes, version, DecodeError::InvalidConnAckFlags, MALFORMED);
    }
}

#[test]
fn a_refusing_connack_must_not_claim_a_session() {
    // MQTT-3.2.2-6; 3.1.1: MQTT-3.2.2-4
    rejects(
        &[0x20, 0x02, 0x01, 0x05],
        V3_1_1,
        DecodeError::SessionPresentOnFailure,
        PROTOCOL,
    );
    rejects(
        &[0x20, 0x03, 0x01, 0x87, 0x00],
        V5,
        DecodeError::SessionPresentOnFailure,
        PROTOCOL,
    );
}

#[test]
fn a_3_1_1_refusal_of_a_5_0_connect_reads_as_unsupported_protocol_version() {
    // A 3.1.1-only server answers a 5.0 CONNECT with a 3.1.1 CONNACK, return code 0x01 and no
    // properties (3.1.1: MQTT-3.1.2-2); aedes 1.2 and amqtt 0.12 do.
    match accepts(&[0x20, 0x02, 0x00, 0x01], V5) {
        Packet::ConnAck(c) => {
            assert_eq!(c.code, reason::UNSUPPORTED_PROTOCOL_VERSION);
            assert!(!c.session_present);
        }
        other => panic!("{other:?}"),
    }
    // Any other 5.0 code without properties is still a truncated 5.0 CONNACK (codes outside the
    // 5.0 table, such as 3.1.1's 0x02-0x05, are refused as such: tests/codec_reason_codes.rs).
    for code in [0x00, 0x80, 0x84, 0x87] {
        rejects(
            &[0x20, 0x02, 0x00, code],
            V5,
            DecodeError::Truncated {
                packet_type: T::ConnAck,
            },
            MALFORMED,
        );
    }
}
