//! Every validation rule of the decoder and the encoder, with its typed error and the MQTT 5
//! reason code a client would disconnect with. Normative statement ids are MQTT 5.0's unless
//! marked 3.1.1.

use bytes::Bytes;
use wasmqtt::codec::{
    decode_packet, encode, reason, Ack, Auth, ConnAck, Connect, DecodeError, EncodeError, LastWill,
    Packet, PacketType, Properties, ProtocolVersion, Publish, QoS, StreamDecoder, SubAck,
    Subscribe, SubscriptionOptions, UnsubAck, Unsubscribe,
};
use wasmqtt::topic::TopicError;

use PacketType as T;
use ProtocolVersion::{V3_1, V3_1_1, V5};

const ALL: [ProtocolVersion; 3] = [V3_1, V3_1_1, V5];
const MALFORMED: u8 = reason::MALFORMED_PACKET;
const PROTOCOL: u8 = reason::PROTOCOL_ERROR;

/// `bytes` is one whole packet that both `decode_packet` and the stream decoder refuse with
/// `error`, whose reason code is `reason`.
#[track_caller]
fn rejects(bytes: &[u8], version: ProtocolVersion, error: DecodeError, reason: u8) {
    assert_eq!(
        decode_packet(Bytes::copy_from_slice(bytes), version),
        Err(error),
        "{version:?}"
    );
    let mut stream = StreamDecoder::new(version, 0);
    stream.feed(bytes);
    assert_eq!(stream.next_packet(), Err(error), "stream, {version:?}");
    assert_eq!(error.reason_code(), reason, "reason code of {error:?}");
    assert!(!error.to_string().is_empty());
}

#[track_caller]
fn accepts(bytes: &[u8], version: ProtocolVersion) -> Packet {
    match decode_packet(Bytes::copy_from_slice(bytes), version) {
        Ok(packet) => packet,
        Err(e) => panic!("{bytes:02X?} must decode for {version:?}: {e}"),
    }
}

/// Encoding `packet` fails with `error` (reason code `reason`) and leaves the buffer as it was.
#[track_caller]
fn refuses(packet: &Packet, version: ProtocolVersion, error: EncodeError, reason: u8) {
    let mut out = vec![1, 2, 3];
    assert_eq!(encode(packet, version, &mut out), Err(error), "{version:?}");
    assert_eq!(out, [1, 2, 3], "a failed encode must not write");
    assert_eq!(error.reason_code(), reason, "reason code of {error:?}");
    assert!(!error.to_string().is_empty());
}

#[track_caller]
fn encodes(packet: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let mut out = Vec::new();
    encode(packet, version, &mut out).unwrap_or_else(|e| panic!("{packet:?}: {e}"));
    out
}

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
    // 5.0 reason codes are carried through, known or not.
    let Packet::SubAck(s) = accepts(&[0x90, 0x04, 0x00, 0x01, 0x00, 0x87], V5) else {
        panic!()
    };
    assert_eq!(s.reason_codes, [0x87]);
}

// ---------------------------------------------------------------------------------------------
// CONNECT and CONNACK

/// A CONNECT with client identifier "c" and the given flags, nothing else in its payload.
fn connect_bytes(version: ProtocolVersion, flags: u8) -> Vec<u8> {
    let mut body = match version {
        V3_1 => vec![0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 3],
        V3_1_1 => vec![0x00, 0x04, b'M', b'Q', b'T', b'T', 4],
        V5 => vec![0x00, 0x04, b'M', b'Q', b'T', b'T', 5],
    };
    body.extend_from_slice(&[flags, 0x00, 0x3C]);
    if version == V5 {
        body.push(0x00); // no properties
    }
    body.extend_from_slice(&[0x00, 0x01, b'c']);
    packet(0x10, &body)
}

/// A fixed header for `body`, which is shorter than 128 bytes.
fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    assert!(body.len() < 128);
    [&[first, body.len() as u8][..], body].concat()
}

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

// ---------------------------------------------------------------------------------------------
// Encoding

fn publish(qos: QoS, topic: &str, packet_id: Option<u16>) -> Publish {
    Publish {
        dup: false,
        qos,
        retain: false,
        topic: topic.into(),
        packet_id,
        properties: Properties::default(),
        payload: Bytes::from_static(b"x"),
    }
}

fn subscribe(filters: &[(&str, SubscriptionOptions)]) -> Subscribe {
    Subscribe {
        packet_id: 1,
        properties: Properties::default(),
        filters: filters.iter().map(|(f, o)| (f.to_string(), *o)).collect(),
    }
}

fn connect(protocol: ProtocolVersion) -> Connect {
    Connect {
        protocol,
        clean_start: true,
        keep_alive: 0,
        client_id: "c".into(),
        will: None,
        username: None,
        password: None,
        properties: Properties::default(),
    }
}

#[test]
fn encoding_a_publish_checks_its_packet_identifier_against_its_qos() {
    for version in ALL {
        let p = |qos, id| Packet::Publish(publish(qos, "t", id));
        // MQTT-2.2.1-3
        refuses(
            &p(QoS::AtLeastOnce, None),
            version,
            EncodeError::MissingPacketId,
            PROTOCOL,
        );
        refuses(
            &p(QoS::ExactlyOnce, None),
            version,
            EncodeError::MissingPacketId,
            PROTOCOL,
        );
        let e = EncodeError::ZeroPacketId {
            packet_type: T::Publish,
        };
        refuses(&p(QoS::AtLeastOnce, Some(0)), version, e, PROTOCOL);
        // MQTT-2.2.1-2
        refuses(
            &p(QoS::AtMostOnce, Some(1)),
            version,
            EncodeError::UnexpectedPacketId,
            PROTOCOL,
        );
        // MQTT-3.3.1-2
        let dup = Packet::Publish(Publish {
            dup: true,
            ..publish(QoS::AtMostOnce, "t", None)
        });
        refuses(&dup, version, EncodeError::DupWithQoS0, MALFORMED);
    }
}

#[test]
fn encoding_a_publish_checks_its_topic_name() {
    for version in ALL {
        let p = |topic| Packet::Publish(publish(QoS::AtMostOnce, topic, None));
        // MQTT-3.3.2-2
        let e = EncodeError::InvalidTopicName(TopicError::WildcardInName);
        refuses(&p("a/+"), version, e, MALFORMED);
        refuses(&p("#"), version, e, MALFORMED);
        let e = EncodeError::InvalidTopicName(TopicError::NullCharacter);
        refuses(&p("a\0"), version, e, MALFORMED);
        refuses(
            &p(""),
            version,
            EncodeError::InvalidTopicName(TopicError::Empty),
            MALFORMED,
        );
    }
    // A topic alias stands for the topic in 5.0 only.
    let aliased = Packet::Publish(Publish {
        properties: Properties {
            topic_alias: Some(1),
            ..Properties::default()
        },
        ..publish(QoS::AtMostOnce, "", None)
    });
    encodes(&aliased, V5);
    refuses(
        &aliased,
        V3_1_1,
        EncodeError::InvalidTopicName(TopicError::Empty),
        MALFORMED,
    );
}

#[test]
fn encoding_refuses_a_property_the_packet_may_not_carry_in_5_0_and_drops_it_before() {
    let p = Packet::Publish(Publish {
        properties: Properties {
            session_expiry_interval: Some(1),
            ..Properties::default()
        },
        ..publish(QoS::AtMostOnce, "t", None)
    });
    let e = EncodeError::PropertyNotAllowed {
        packet_type: T::Publish,
        property: 0x11,
    };
    refuses(&p, V5, e, MALFORMED);
    assert_eq!(encodes(&p, V3_1_1), [0x30, 0x04, 0x00, 0x01, b't', b'x']);

    let will = LastWill {
        topic: "w".into(),
        payload: Bytes::new(),
        qos: QoS::AtMostOnce,
        retain: false,
        properties: Properties {
            session_expiry_interval: Some(1),
            ..Properties::default()
        },
    };
    let c = Packet::Connect(Connect {
        will: Some(will),
        ..connect(V5)
    });
    let e = EncodeError::PropertyNotAllowed {
        packet_type: T::Connect,
        property: 0x11,
    };
    refuses(&c, V5, e, MALFORMED);
    let c = Packet::Connect(Connect {
        properties: Properties {
            topic_alias: Some(1),
            ..Properties::default()
        },
        ..connect(V5)
    });
    let e = EncodeError::PropertyNotAllowed {
        packet_type: T::Connect,
        property: 0x23,
    };
    refuses(&c, V5, e, MALFORMED);
    let ack = Packet::PubAck(Ack {
        properties: Properties {
            content_type: Some("x".into()),
            ..Properties::default()
        },
        ..Ack::new(1)
    });
    let e = EncodeError::PropertyNotAllowed {
        packet_type: T::PubAck,
        property: 0x03,
    };
    refuses(&ack, V5, e, MALFORMED);
}

#[test]
fn encoding_refuses_property_values_out_of_range() {
    let with = |properties| {
        Packet::Publish(Publish {
            properties,
            ..publish(QoS::AtMostOnce, "t", None)
        })
    };
    let e = |property| EncodeError::InvalidPropertyValue { property };
    let alias_0 = with(Properties {
        topic_alias: Some(0),
        ..Properties::default()
    });
    refuses(&alias_0, V5, e(0x23), reason::TOPIC_ALIAS_INVALID);
    let format_2 = with(Properties {
        payload_format_indicator: Some(2),
        ..Properties::default()
    });
    refuses(&format_2, V5, e(0x01), PROTOCOL);
    let sub_id_0 = with(Properties {
        subscription_identifiers: vec![0],
        ..Properties::default()
    });
    refuses(&sub_id_0, V5, e(0x0B), PROTOCOL);
    let sub_id_big = with(Properties {
        subscription_identifiers: vec![268_435_456],
        ..Properties::default()
    });
    refuses(&sub_id_big, V5, e(0x0B), PROTOCOL);
    let wildcard = with(Properties {
        response_topic: Some("a/#".into()),
        ..Properties::default()
    });
    refuses(&wildcard, V5, e(0x08), PROTOCOL);

    let connack = |properties| {
        Packet::ConnAck(ConnAck {
            session_present: false,
            code: 0,
            properties,
        })
    };
    let rm_0 = connack(Properties {
        receive_maximum: Some(0),
        ..Properties::default()
    });
    refuses(&rm_0, V5, e(0x21), PROTOCOL);
    let mps_0 = connack(Properties {
        maximum_packet_size: Some(0),
        ..Properties::default()
    });
    refuses(&mps_0, V5, e(0x27), PROTOCOL);
    let qos_2 = connack(Properties {
        maximum_qos: Some(2),
        ..Properties::default()
    });
    refuses(&qos_2, V5, e(0x24), PROTOCOL);
    let data_only = Packet::Auth(Auth {
        reason_code: 0x18,
        properties: Properties {
            authentication_data: Some(Bytes::from_static(b"d")),
            ..Properties::default()
        },
    });
    refuses(&data_only, V5, e(0x16), PROTOCOL);
}

#[test]
fn encoding_refuses_strings_over_65535_bytes_or_with_u0000() {
    let long = "x".repeat(65_536);
    let c = Packet::Connect(Connect {
        client_id: long.clone(),
        ..connect(V3_1_1)
    });
    refuses(
        &c,
        V3_1_1,
        EncodeError::FieldTooLong {
            packet_type: T::Connect,
        },
        MALFORMED,
    );
    let c = Packet::Connect(Connect {
        username: Some("a\0".into()),
        ..connect(V3_1_1)
    });
    refuses(
        &c,
        V3_1_1,
        EncodeError::NullCharacter {
            packet_type: T::Connect,
        },
        MALFORMED,
    );
    let p = Packet::Publish(Publish {
        properties: Properties {
            correlation_data: Some(Bytes::from(vec![0; 65_536])),
            ..Properties::default()
        },
        ..publish(QoS::AtMostOnce, "t", None)
    });
    refuses(
        &p,
        V5,
        EncodeError::FieldTooLong {
            packet_type: T::Publish,
        },
        MALFORMED,
    );
    let d = Packet::Disconnect(wasmqtt::codec::Disconnect {
        reason_code: 0,
        properties: Properties {
            user_properties: vec![("k".into(), "\0".into())],
            ..Properties::default()
        },
    });
    refuses(
        &d,
        V5,
        EncodeError::NullCharacter {
            packet_type: T::Disconnect,
        },
        MALFORMED,
    );
    let s = Packet::Subscribe(subscribe(&[(&long, SubscriptionOptions::default())]));
    let e = EncodeError::InvalidTopicFilter(TopicError::TooLong);
    refuses(&s, V3_1_1, e, MALFORMED);
}

#[test]
fn encoding_checks_subscribe_and_unsubscribe() {
    let opts = SubscriptionOptions::default();
    for version in ALL {
        let e = |packet_type| EncodeError::NoTopicFilters { packet_type };
        refuses(
            &Packet::Subscribe(subscribe(&[])),
            version,
            e(T::Subscribe),
            PROTOCOL,
        );
        let u = Unsubscribe {
            packet_id: 1,
            properties: Properties::default(),
            filters: vec![],
        };
        refuses(
            &Packet::Unsubscribe(u),
            version,
            e(T::Unsubscribe),
            PROTOCOL,
        );
        let bad = EncodeError::InvalidTopicFilter(TopicError::MisplacedWildcard);
        refuses(
            &Packet::Subscribe(subscribe(&[("a", opts), ("a#", opts)])),
            version,
            bad,
            MALFORMED,
        );
        let u = Unsubscribe {
            packet_id: 1,
            properties: Properties::default(),
            filters: vec!["a/#/b".into()],
        };
        refuses(&Packet::Unsubscribe(u), version, bad, MALFORMED);
        let zero = Packet::Subscribe(Subscribe {
            packet_id: 0,
            ..subscribe(&[("a", opts)])
        });
        refuses(
            &zero,
            version,
            EncodeError::ZeroPacketId {
                packet_type: T::Subscribe,
            },
            PROTOCOL,
        );
    }
    let no_local = SubscriptionOptions {
        no_local: true,
        ..opts
    };
    let shared = Packet::Subscribe(subscribe(&[("$share/g/a", no_local)]));
    refuses(
        &shared,
        V5,
        EncodeError::NoLocalOnSharedSubscription,
        PROTOCOL,
    );
    encodes(&shared, V3_1_1); // no local does not exist before 5.0 and is not written
    let two_ids = Packet::Subscribe(Subscribe {
        properties: Properties {
            subscription_identifiers: vec![1, 2],
            ..Properties::default()
        },
        ..subscribe(&[("a", opts)])
    });
    let e = EncodeError::DuplicateProperty {
        packet_type: T::Subscribe,
        property: 0x0B,
    };
    refuses(&two_ids, V5, e, PROTOCOL);
}

#[test]
fn encoding_refuses_packet_identifier_0_in_acknowledgements() {
    for version in ALL {
        for (packet, packet_type) in [
            (Packet::PubAck(Ack::new(0)), T::PubAck),
            (Packet::PubRec(Ack::new(0)), T::PubRec),
            (Packet::PubRel(Ack::new(0)), T::PubRel),
            (Packet::PubComp(Ack::new(0)), T::PubComp),
            (
                Packet::SubAck(SubAck {
                    packet_id: 0,
                    properties: Properties::default(),
                    reason_codes: vec![0],
                }),
                T::SubAck,
            ),
            (
                Packet::UnsubAck(UnsubAck {
                    packet_id: 0,
                    properties: Properties::default(),
                    reason_codes: vec![],
                }),
                T::UnsubAck,
            ),
        ] {
            refuses(
                &packet,
                version,
                EncodeError::ZeroPacketId { packet_type },
                PROTOCOL,
            );
        }
    }
}

#[test]
fn encoding_a_3_1_1_suback_refuses_5_0_only_codes_below_0x80() {
    let s = Packet::SubAck(SubAck {
        packet_id: 1,
        properties: Properties::default(),
        reason_codes: vec![0x03],
    });
    let e = EncodeError::InvalidReasonCode {
        packet_type: T::SubAck,
        code: 0x03,
    };
    refuses(&s, V3_1_1, e, PROTOCOL);
}

#[test]
fn auth_cannot_be_encoded_before_5_0() {
    for version in [V3_1, V3_1_1] {
        let e = EncodeError::NotInVersion {
            packet_type: T::Auth,
        };
        refuses(&Packet::Auth(Auth::default()), version, e, PROTOCOL);
    }
}

#[test]
fn encoding_a_connect_checks_credentials_and_will() {
    for protocol in [V3_1, V3_1_1] {
        let c = Packet::Connect(Connect {
            password: Some(Bytes::from_static(b"p")),
            ..connect(protocol)
        });
        // 3.1.1: MQTT-3.1.2-22. The CONNECT's own protocol decides, not `version`.
        refuses(&c, V5, EncodeError::PasswordWithoutUsername, MALFORMED);
    }
    let will = LastWill {
        topic: "a/+".into(),
        payload: Bytes::new(),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Properties::default(),
    };
    let c = Packet::Connect(Connect {
        will: Some(will),
        ..connect(V3_1_1)
    });
    let e = EncodeError::InvalidTopicName(TopicError::WildcardInName);
    refuses(&c, V3_1_1, e, MALFORMED);
}

#[test]
fn encoding_a_connack_refuses_a_session_with_a_refusal() {
    let c = Packet::ConnAck(ConnAck {
        session_present: true,
        code: 0x05,
        properties: Properties::default(),
    });
    refuses(&c, V3_1_1, EncodeError::SessionPresentOnFailure, PROTOCOL);
}

#[test]
fn encoding_refuses_a_remaining_length_over_268435455() {
    // calloc'd and never touched: the length check comes before any write.
    let payload = Bytes::from(vec![0u8; 268_435_455 - 3 + 1]);
    let p = Packet::Publish(Publish {
        payload,
        ..publish(QoS::AtMostOnce, "t", None)
    });
    refuses(
        &p,
        V3_1_1,
        EncodeError::PacketTooLarge,
        reason::PACKET_TOO_LARGE,
    );
}

#[test]
fn errors_are_small_copy_values() {
    fn is_copy<T: Copy + std::error::Error + Send + Sync + 'static>() {}
    is_copy::<DecodeError>();
    is_copy::<EncodeError>();
    assert!(std::mem::size_of::<DecodeError>() <= 12);
    assert!(std::mem::size_of::<EncodeError>() <= 4);
}
