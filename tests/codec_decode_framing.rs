//! Decoder validation, framing: fixed header, lengths, strings, topics and packet identifiers.
//! Each rule with its typed error and the MQTT 5 reason code a client would disconnect with.
//! Normative statement ids are MQTT 5.0's unless marked 3.1.1.
#![cfg(not(target_arch = "wasm32"))] // host-only: proptest and friends

mod common;

use bytes::Bytes;
use common::checks::*;
use wasmqtt::codec::{
    decode_packet, reason, Auth, DecodeError, Packet, PacketType, ProtocolVersion, StreamDecoder,
};
use wasmqtt::topic::TopicError;

use PacketType as T;
use ProtocolVersion::{V3_1, V3_1_1, V5};

const ALL: [ProtocolVersion; 3] = [V3_1, V3_1_1, V5];
const MALFORMED: u8 = reason::MALFORMED_PACKET;
const PROTOCOL: u8 = reason::PROTOCOL_ERROR;

// ---------------------------------------------------------------------------------------------
// Fixed header

#[test]
fn packet_type_0_is_reserved_in_every_version() {
    for version in ALL {
        rejects(
            &[0x00, 0x00],
            version,
            DecodeError::ReservedPacketType(0),
            MALFORMED,
        );
    }
}

#[test]
fn packet_type_15_is_auth_in_5_0_and_reserved_before() {
    rejects(
        &[0xF0, 0x00],
        V3_1_1,
        DecodeError::ReservedPacketType(15),
        MALFORMED,
    );
    rejects(
        &[0xF0, 0x00],
        V3_1,
        DecodeError::ReservedPacketType(15),
        MALFORMED,
    );
    assert_eq!(accepts(&[0xF0, 0x00], V5), Packet::Auth(Auth::default()));
}

#[test]
fn reserved_fixed_header_flags_must_be_zero() {
    // MQTT-2.1.3-1; 3.1.1: MQTT-2.2.2-1, MQTT-2.2.2-2
    for version in ALL {
        let e = |packet_type, flags| DecodeError::InvalidFlags { packet_type, flags };
        rejects(
            &[0x41, 0x02, 0x00, 0x01],
            version,
            e(T::PubAck, 1),
            MALFORMED,
        );
        rejects(
            &[0x58, 0x02, 0x00, 0x01],
            version,
            e(T::PubRec, 8),
            MALFORMED,
        );
        rejects(
            &[0x74, 0x02, 0x00, 0x01],
            version,
            e(T::PubComp, 4),
            MALFORMED,
        );
        rejects(
            &[0x21, 0x02, 0x00, 0x00],
            version,
            e(T::ConnAck, 1),
            MALFORMED,
        );
        rejects(
            &[0x92, 0x03, 0x00, 0x01, 0x00],
            version,
            e(T::SubAck, 2),
            MALFORMED,
        );
        rejects(
            &[0xB1, 0x02, 0x00, 0x01],
            version,
            e(T::UnsubAck, 1),
            MALFORMED,
        );
        rejects(&[0xC8, 0x00], version, e(T::PingReq, 8), MALFORMED);
        rejects(&[0xDF, 0x00], version, e(T::PingResp, 15), MALFORMED);
        rejects(&[0xE2, 0x00], version, e(T::Disconnect, 2), MALFORMED);
        rejects(&[0x12, 0x00], version, e(T::Connect, 2), MALFORMED);
    }
    rejects(
        &[0xF1, 0x00],
        V5,
        DecodeError::InvalidFlags {
            packet_type: T::Auth,
            flags: 1,
        },
        MALFORMED,
    );
}

#[test]
fn pubrel_subscribe_and_unsubscribe_flags_must_be_0010() {
    for version in ALL {
        // MQTT-3.6.1-1
        let e = DecodeError::InvalidFlags {
            packet_type: T::PubRel,
            flags: 0,
        };
        rejects(&[0x60, 0x02, 0x00, 0x01], version, e, MALFORMED);
        // MQTT-3.8.1-1
        let e = DecodeError::InvalidFlags {
            packet_type: T::Subscribe,
            flags: 0,
        };
        rejects(
            &[0x80, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x00],
            version,
            e,
            MALFORMED,
        );
        let e = DecodeError::InvalidFlags {
            packet_type: T::Subscribe,
            flags: 3,
        };
        rejects(
            &[0x83, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x00],
            version,
            e,
            MALFORMED,
        );
        // MQTT-3.10.1-1
        let e = DecodeError::InvalidFlags {
            packet_type: T::Unsubscribe,
            flags: 0,
        };
        rejects(
            &[0xA0, 0x05, 0x00, 0x01, 0x00, 0x01, b'a'],
            version,
            e,
            MALFORMED,
        );
    }
}

#[test]
fn a_publish_with_both_qos_bits_set_is_malformed() {
    // MQTT-3.3.1-4
    for version in ALL {
        let e = DecodeError::InvalidQoS {
            packet_type: T::Publish,
        };
        rejects(
            &[0x36, 0x05, 0x00, 0x01, b't', 0x00, 0x01],
            version,
            e,
            MALFORMED,
        );
    }
}

#[test]
fn a_qos_0_publish_with_dup_set_is_malformed() {
    // MQTT-3.3.1-2
    for version in ALL {
        rejects(
            &[0x38, 0x03, 0x00, 0x01, b't'],
            version,
            DecodeError::DupWithQoS0,
            MALFORMED,
        );
    }
}

#[test]
fn a_remaining_length_of_more_than_four_bytes_is_malformed() {
    // Section 1.5.5: at most four bytes.
    for version in ALL {
        let bytes = [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
        rejects(
            &bytes,
            version,
            DecodeError::MalformedVariableInteger,
            MALFORMED,
        );
    }
}

#[test]
fn a_property_length_of_more_than_four_bytes_is_malformed() {
    let bytes = [0x30, 0x08, 0x00, 0x01, b't', 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
    rejects(&bytes, V5, DecodeError::MalformedVariableInteger, MALFORMED);
}

// ---------------------------------------------------------------------------------------------
// Lengths

#[test]
fn a_packet_cut_short_is_truncated_for_decode_packet_and_pending_for_the_stream() {
    let bytes = [0x30, 0x05, 0x00, 0x01, b't'];
    let e = DecodeError::Truncated {
        packet_type: T::Publish,
    };
    assert_eq!(
        decode_packet(Bytes::copy_from_slice(&bytes), V3_1_1),
        Err(e)
    );
    let mut stream = StreamDecoder::new(V3_1_1, 0);
    stream.feed(&bytes);
    assert_eq!(stream.next_packet(), Ok(None));
    assert_eq!(
        decode_packet(Bytes::new(), V3_1_1),
        Err(DecodeError::Incomplete)
    );
    assert_eq!(
        decode_packet(Bytes::from_static(&[0x30, 0x80]), V5),
        Err(DecodeError::Incomplete)
    );
}

#[test]
fn a_stream_that_ends_inside_a_packet_is_malformed() {
    let mut stream = StreamDecoder::new(V3_1_1, 0);
    assert_eq!(stream.finish(), Ok(()));
    // A whole PINGRESP, then the first byte of a PUBLISH: cut inside its fixed header.
    stream.feed(&[0xD0, 0x00, 0x30]);
    assert_eq!(stream.next_packet(), Ok(Some(Packet::PingResp)));
    assert_eq!(stream.next_packet(), Ok(None));
    assert_eq!(stream.finish(), Err(DecodeError::Incomplete));
    // The fixed header is complete, the body is not.
    stream.feed(&[0x05, 0x00, 0x01]);
    assert_eq!(stream.next_packet(), Ok(None));
    let e = DecodeError::Truncated {
        packet_type: T::Publish,
    };
    assert_eq!(stream.finish(), Err(e));
    assert_eq!(e.reason_code(), MALFORMED);
    stream.feed(&[b't', 0, 0]);
    assert!(matches!(stream.next_packet(), Ok(Some(Packet::Publish(_)))));
    assert_eq!(stream.finish(), Ok(()));
}

#[test]
fn a_field_running_past_the_end_of_its_packet_is_truncated() {
    for version in ALL {
        let e = |packet_type| DecodeError::Truncated { packet_type };
        // topic length 5, one byte left
        rejects(
            &[0x30, 0x03, 0x00, 0x05, b't'],
            version,
            e(T::Publish),
            MALFORMED,
        );
        rejects(&[0x40, 0x01, 0x00], version, e(T::PubAck), MALFORMED);
        rejects(&[0x20, 0x01, 0x00], version, e(T::ConnAck), MALFORMED);
        // a topic filter without its options byte
        rejects(
            &[0x82, 0x05, 0x00, 0x01, 0x00, 0x01, b'a'],
            version,
            e(T::Subscribe),
            MALFORMED,
        );
        // QoS 1 PUBLISH without room for its packet identifier
        rejects(
            &[0x32, 0x04, 0x00, 0x01, b't', 0x00],
            version,
            e(T::Publish),
            MALFORMED,
        );
    }
}

#[test]
fn a_property_block_longer_than_its_packet_or_a_property_longer_than_its_block_is_truncated() {
    let e = DecodeError::Truncated {
        packet_type: T::Publish,
    };
    // property length 5 with one byte left in the packet
    rejects(
        &[0x30, 0x05, 0x00, 0x01, b't', 0x05, 0x23],
        V5,
        e,
        MALFORMED,
    );
    // property length 1 holds the topic alias identifier but not its value
    rejects(
        &[0x30, 0x07, 0x00, 0x01, b't', 0x01, 0x23, 0x00, 0x01],
        V5,
        e,
        MALFORMED,
    );
}

#[test]
fn bytes_after_the_last_field_are_malformed() {
    let e = |packet_type| DecodeError::TrailingBytes { packet_type };
    for version in ALL {
        rejects(&[0xC0, 0x01, 0x00], version, e(T::PingReq), MALFORMED);
        rejects(&[0xD0, 0x01, 0x00], version, e(T::PingResp), MALFORMED);
    }
    for version in [V3_1, V3_1_1] {
        rejects(
            &[0x40, 0x03, 0x00, 0x01, 0x00],
            version,
            e(T::PubAck),
            MALFORMED,
        );
        rejects(
            &[0x20, 0x03, 0x00, 0x00, 0x00],
            version,
            e(T::ConnAck),
            MALFORMED,
        );
        rejects(&[0xE0, 0x01, 0x00], version, e(T::Disconnect), MALFORMED);
        rejects(
            &[0xB0, 0x03, 0x00, 0x01, 0x00],
            version,
            e(T::UnsubAck),
            MALFORMED,
        );
    }
    // a CONNECT with a byte after its last field
    let mut connect = connect_bytes(V3_1_1, 0x02);
    connect[1] += 1;
    connect.push(0);
    rejects(&connect, V3_1_1, e(T::Connect), MALFORMED);
}

#[test]
fn decode_packet_refuses_bytes_beyond_the_packet() {
    let e = DecodeError::TrailingBytes {
        packet_type: T::PingReq,
    };
    assert_eq!(
        decode_packet(Bytes::from_static(&[0xC0, 0x00, 0xC0]), V3_1_1),
        Err(e)
    );
}

#[test]
fn the_stream_refuses_a_packet_over_the_maximum_size_from_its_fixed_header_alone() {
    let mut stream = StreamDecoder::new(V5, 1024);
    // A hostile remaining length of 268 435 455: refused before any body byte arrives.
    stream.feed(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F]);
    let e = DecodeError::PacketTooLarge {
        size: 268_435_460,
        max: 1024,
    };
    assert_eq!(stream.next_packet(), Err(e));
    assert_eq!(e.reason_code(), reason::PACKET_TOO_LARGE);

    // The limit counts the fixed header: a 12-byte packet passes a limit of 12, not of 11.
    let packet = [0x30, 0x0A, 0x00, 0x01, b't', 0, 0, 0, 0, 0, 0, 0];
    let mut stream = StreamDecoder::new(V3_1_1, 12);
    stream.feed(&packet);
    assert!(matches!(stream.next_packet(), Ok(Some(Packet::Publish(_)))));
    stream.set_max_packet_size(11);
    stream.feed(&packet[..2]);
    assert_eq!(
        stream.next_packet(),
        Err(DecodeError::PacketTooLarge { size: 12, max: 11 })
    );
}

#[test]
fn the_stream_refuses_a_bad_first_byte_before_the_rest_arrives() {
    let mut stream = StreamDecoder::new(V3_1_1, 0);
    stream.feed(&[0x00]);
    assert_eq!(
        stream.next_packet(),
        Err(DecodeError::ReservedPacketType(0))
    );
}

// ---------------------------------------------------------------------------------------------
// Strings and topics

#[test]
fn strings_must_be_well_formed_utf8() {
    // MQTT-1.5.4-1; 3.1.1: MQTT-1.5.3-1
    for version in ALL {
        rejects(
            &[0x30, 0x04, 0x00, 0x02, 0xC3, 0x28],
            version,
            DecodeError::InvalidUtf8,
            MALFORMED,
        );
        // an encoded surrogate, U+D800
        let bytes = [0x30, 0x05, 0x00, 0x03, 0xED, 0xA0, 0x80];
        rejects(&bytes, version, DecodeError::InvalidUtf8, MALFORMED);
    }
}

#[test]
fn strings_must_not_contain_u0000() {
    // MQTT-1.5.4-2; 3.1.1: MQTT-1.5.3-2
    for version in ALL {
        let bytes = [0x30, 0x05, 0x00, 0x03, b'a', 0x00, b'b'];
        rejects(&bytes, version, DecodeError::NullCharacter, MALFORMED);
        let mut connect = connect_bytes(version, 0x02);
        *connect.last_mut().unwrap() = 0x00; // client identifier "\0"
        rejects(&connect, version, DecodeError::NullCharacter, MALFORMED);
    }
    // in a user property name
    let bytes = [
        0x40, 0x0A, 0x00, 0x01, 0x00, 0x06, 0x26, 0x00, 0x01, 0x00, 0x00, 0x00,
    ];
    rejects(&bytes, V5, DecodeError::NullCharacter, MALFORMED);
}

#[test]
fn topic_names_must_not_contain_wildcards() {
    // MQTT-3.3.2-2
    for version in ALL {
        let e = DecodeError::InvalidTopicName(TopicError::WildcardInName);
        rejects(
            &[0x30, 0x05, 0x00, 0x03, b'a', b'/', b'+'],
            version,
            e,
            MALFORMED,
        );
        rejects(&[0x30, 0x03, 0x00, 0x01, b'#'], version, e, MALFORMED);
    }
}

#[test]
fn an_empty_topic_name_is_malformed_before_5_0_and_needs_a_topic_alias_in_5_0() {
    // MQTT-4.7.3-1
    let e = DecodeError::InvalidTopicName(TopicError::Empty);
    rejects(&[0x30, 0x02, 0x00, 0x00], V3_1_1, e, MALFORMED);
    // Section 3.3.2.3.4: a Protocol Error in 5.0 without a Topic Alias.
    rejects(
        &[0x30, 0x03, 0x00, 0x00, 0x00],
        V5,
        DecodeError::MissingTopicName,
        PROTOCOL,
    );
}

#[test]
fn a_will_topic_must_be_a_valid_topic_name() {
    let mut bytes = connect_bytes(V3_1_1, 0x06); // will, clean session
    bytes.extend_from_slice(&[0x00, 0x01, b'+', 0x00, 0x00]); // will topic "+", empty message
    bytes[1] += 5;
    let e = DecodeError::InvalidTopicName(TopicError::WildcardInName);
    rejects(&bytes, V3_1_1, e, MALFORMED);
}

#[test]
fn topic_filters_must_be_well_formed() {
    // MQTT-4.7.1-1, MQTT-4.7.1-2
    let e = DecodeError::InvalidTopicFilter(TopicError::MisplacedWildcard);
    for version in ALL {
        let props: &[u8] = if version == V5 { &[0x00] } else { &[] };
        let subscribe = [
            &[0x00, 0x01][..],
            props,
            &[0x00, 0x05, b'a', b'/', b'#', b'/', b'b', 0x00],
        ]
        .concat();
        rejects(&packet(0x82, &subscribe), version, e, MALFORMED);
        let unsubscribe = [&[0x00, 0x01][..], props, &[0x00, 0x02, b'a', b'+']].concat();
        rejects(&packet(0xA2, &unsubscribe), version, e, MALFORMED);
        // MQTT-4.8.2-1: a shared subscription needs a share name and a filter.
        let shared = [
            &[0x00, 0x01][..],
            props,
            &[0x00, 0x08],
            b"$share/g",
            &[0x00],
        ]
        .concat();
        let e = DecodeError::InvalidTopicFilter(TopicError::MalformedSharedSubscription);
        rejects(&packet(0x82, &shared), version, e, MALFORMED);
        let empty = [&[0x00, 0x01][..], props, &[0x00, 0x00]].concat();
        let e = DecodeError::InvalidTopicFilter(TopicError::Empty);
        rejects(&packet(0xA2, &empty), version, e, MALFORMED);
    }
}

// ---------------------------------------------------------------------------------------------
// Packet identifiers

#[test]
fn packet_identifier_0_is_refused_wherever_one_is_required() {
    // MQTT-2.2.1-3; 3.1.1: MQTT-2.3.1-1
    let e = |packet_type| DecodeError::ZeroPacketId { packet_type };
    for version in ALL {
        let props: &[u8] = if version == V5 { &[0x00] } else { &[] };
        rejects(
            &[0x32, 0x05, 0x00, 0x01, b't', 0x00, 0x00],
            version,
            e(T::Publish),
            PROTOCOL,
        );
        rejects(
            &[0x34, 0x05, 0x00, 0x01, b't', 0x00, 0x00],
            version,
            e(T::Publish),
            PROTOCOL,
        );
        rejects(&[0x40, 0x02, 0x00, 0x00], version, e(T::PubAck), PROTOCOL);
        rejects(&[0x50, 0x02, 0x00, 0x00], version, e(T::PubRec), PROTOCOL);
        rejects(&[0x62, 0x02, 0x00, 0x00], version, e(T::PubRel), PROTOCOL);
        rejects(&[0x70, 0x02, 0x00, 0x00], version, e(T::PubComp), PROTOCOL);
        let body = [&[0x00, 0x00][..], props, &[0x00, 0x01, b'a', 0x00]].concat();
        rejects(&packet(0x82, &body), version, e(T::Subscribe), PROTOCOL);
        let body = [&[0x00, 0x00][..], props, &[0x00]].concat();
        rejects(&packet(0x90, &body), version, e(T::SubAck), PROTOCOL);
        let body = [&[0x00, 0x00][..], props, &[0x00, 0x01, b'a']].concat();
        rejects(&packet(0xA2, &body), version, e(T::Unsubscribe), PROTOCOL);
        rejects(&[0xB0, 0x02, 0x00, 0x00], version, e(T::UnsubAck), PROTOCOL);
    }
}
