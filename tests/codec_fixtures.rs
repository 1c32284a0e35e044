//! Byte-exact fixtures for every packet type and protocol version, written from the MQTT 3.1.1
//! and 5.0 specifications. Each fixture is encoded (and must give exactly these bytes) and
//! decoded (and must give exactly this packet).
#![cfg(not(target_arch = "wasm32"))] // host-only: proptest and friends

use bytes::Bytes;
use wasmqtt::codec::{
    decode_packet, encode, encoded_len, Ack, Auth, ConnAck, Connect, Disconnect, LastWill, Packet,
    Properties, ProtocolVersion, Publish, QoS, RetainHandling, SubAck, Subscribe,
    SubscriptionOptions, UnsubAck, Unsubscribe,
};

use ProtocolVersion::{V3_1, V3_1_1, V5};

const V3S: [ProtocolVersion; 2] = [V3_1, V3_1_1];
const ALL: [ProtocolVersion; 3] = [V3_1, V3_1_1, V5];

/// Encodes `packet` for `version` and checks the bytes, then decodes the bytes and checks the
/// packet.
#[track_caller]
fn fixture(packet: Packet, version: ProtocolVersion, bytes: &[u8]) {
    let mut out = vec![0xEE]; // encoding appends: what is already there stays
    encode(&packet, version, &mut out).expect("encodes");
    assert_eq!(&out[1..], bytes, "encoding of {packet:?} for {version:?}");
    assert_eq!(
        encoded_len(&packet, version),
        bytes.len(),
        "encoded_len of {packet:?}"
    );
    let decoded = decode_packet(Bytes::copy_from_slice(bytes), version).expect("decodes");
    assert_eq!(decoded, packet, "decoding for {version:?}");
}

/// Decodes `bytes` (a valid but not the shortest form) to `packet`.
#[track_caller]
fn decodes_to(bytes: &[u8], version: ProtocolVersion, packet: Packet) {
    assert_eq!(
        decode_packet(Bytes::copy_from_slice(bytes), version),
        Ok(packet)
    );
}

fn b(s: &'static [u8]) -> Bytes {
    Bytes::from_static(s)
}

fn connect(protocol: ProtocolVersion, client_id: &str) -> Connect {
    Connect {
        protocol,
        bridge: false,
        clean_start: true,
        keep_alive: 60,
        client_id: client_id.into(),
        will: None,
        username: None,
        password: None,
        properties: Properties::default(),
    }
}

#[test]
fn a_minimal_3_1_1_connect_is_name_level_flags_keep_alive_and_client_id() {
    #[rustfmt::skip]
    let bytes = [
        0x10, 13,                           // CONNECT, remaining length 13
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name "MQTT"
        0x04,                               // protocol level 4
        0x02,                               // connect flags: clean session
        0x00, 0x3C,                         // keep alive 60 s
        0x00, 0x01, b'c',                   // client identifier "c"
    ];
    fixture(
        Packet::Connect(Box::new(connect(V3_1_1, "c"))),
        V3_1_1,
        &bytes,
    );
}

#[test]
fn a_3_1_connect_names_the_protocol_mqisdp_at_level_3() {
    #[rustfmt::skip]
    let bytes = [
        0x10, 15,                                             // CONNECT, remaining length 15
        0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p',       // protocol name "MQIsdp"
        0x03,                                                 // protocol level 3
        0x02,                                                 // clean session
        0x00, 0x3C,                                           // keep alive 60 s
        0x00, 0x01, b'c',                                     // client identifier
    ];
    fixture(Packet::Connect(Box::new(connect(V3_1, "c"))), V3_1, &bytes);
}

#[test]
fn a_bridge_3_1_1_connect_sets_the_high_bit_of_level_4() {
    // Not in the specification: mosquitto bridges send 0x84 (codec::BRIDGE_BIT).
    #[rustfmt::skip]
    let bytes = [
        0x10, 13,
        0x00, 0x04, b'M', b'Q', b'T', b'T',
        0x84,                               // protocol level 4 with the bridge bit
        0x02, 0x00, 0x3C, 0x00, 0x01, b'c',
    ];
    let bridge = Connect {
        bridge: true,
        ..connect(V3_1_1, "c")
    };
    // A CONNECT decodes and encodes for its own level, whatever the connection's version.
    for version in ALL {
        fixture(Packet::Connect(Box::new(bridge.clone())), version, &bytes);
    }
}

#[test]
fn a_bridge_3_1_connect_sets_the_high_bit_of_level_3() {
    #[rustfmt::skip]
    let bytes = [
        0x10, 15,
        0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p',
        0x83,                               // protocol level 3 with the bridge bit
        0x02, 0x00, 0x3C, 0x00, 0x01, b'c',
    ];
    let bridge = Connect {
        bridge: true,
        ..connect(V3_1, "c")
    };
    fixture(Packet::Connect(Box::new(bridge)), V3_1, &bytes);
}

#[test]
fn a_3_1_1_connect_with_will_user_name_and_password_sets_every_flag() {
    let packet = Packet::Connect(Box::new(Connect {
        clean_start: false,
        keep_alive: 10,
        will: Some(LastWill {
            topic: "w".into(),
            payload: b(b"bye"),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: Properties::default(),
        }),
        username: Some("u".into()),
        password: Some(b(b"p")),
        ..connect(V3_1_1, "id")
    }));
    #[rustfmt::skip]
    let bytes = [
        0x10, 28,                           // CONNECT, remaining length 28
        0x00, 0x04, b'M', b'Q', b'T', b'T', // "MQTT"
        0x04,                               // level 4
        0xEC,                               // user name, password, will retain, will QoS 1, will
        0x00, 0x0A,                         // keep alive 10 s
        0x00, 0x02, b'i', b'd',             // client identifier "id"
        0x00, 0x01, b'w',                   // will topic "w"
        0x00, 0x03, b'b', b'y', b'e',       // will message "bye"
        0x00, 0x01, b'u',                   // user name "u"
        0x00, 0x01, b'p',                   // password "p"
    ];
    fixture(packet, V3_1_1, &bytes);
}

#[test]
fn a_5_0_connect_carries_properties_and_will_properties() {
    let packet = Packet::Connect(Box::new(Connect {
        keep_alive: 30,
        will: Some(LastWill {
            topic: "w".into(),
            payload: b(b"x"),
            qos: QoS::AtMostOnce,
            retain: false,
            properties: Properties {
                will_delay_interval: Some(5),
                ..Properties::default()
            },
        }),
        username: Some("u".into()),
        password: Some(b(b"p")),
        properties: Properties {
            session_expiry_interval: Some(3600),
            receive_maximum: Some(20),
            user_properties: vec![("k".into(), "v".into())],
            ..Properties::default()
        },
        ..connect(V5, "c")
    }));
    #[rustfmt::skip]
    let bytes = [
        0x10, 47,                           // CONNECT, remaining length 47
        0x00, 0x04, b'M', b'Q', b'T', b'T', // "MQTT"
        0x05,                               // level 5
        0xC6,                               // user name, password, will (QoS 0), clean start
        0x00, 0x1E,                         // keep alive 30 s
        15,                                 // property length
        0x11, 0x00, 0x00, 0x0E, 0x10,       //   session expiry interval 3600
        0x21, 0x00, 0x14,                   //   receive maximum 20
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // user property ("k", "v")
        0x00, 0x01, b'c',                   // client identifier "c"
        5,                                  // will property length
        0x18, 0x00, 0x00, 0x00, 0x05,       //   will delay interval 5
        0x00, 0x01, b'w',                   // will topic
        0x00, 0x01, b'x',                   // will payload
        0x00, 0x01, b'u',                   // user name
        0x00, 0x01, b'p',                   // password
    ];
    fixture(packet, V5, &bytes);
}

#[test]
fn a_5_0_connect_may_carry_a_password_without_a_user_name() {
    let packet = Packet::Connect(Box::new(Connect {
        password: Some(b(b"t")),
        ..connect(V5, "")
    }));
    #[rustfmt::skip]
    let bytes = [
        0x10, 16,
        0x00, 0x04, b'M', b'Q', b'T', b'T',
        0x05,
        0x42,                               // password, clean start
        0x00, 0x3C,
        0x00,                               // no properties
        0x00, 0x00,                         // empty client identifier
        0x00, 0x01, b't',                   // password "t"
    ];
    fixture(packet, V5, &bytes);
}

#[test]
fn a_connect_decodes_at_its_own_level_whatever_the_connection_version() {
    let mut v5 = Vec::new();
    encode(&Packet::Connect(Box::new(connect(V5, "c"))), V5, &mut v5).unwrap();
    for version in ALL {
        let Ok(Packet::Connect(c)) = decode_packet(Bytes::from(v5.clone()), version) else {
            panic!("CONNECT must decode on a {version:?} connection");
        };
        assert_eq!(c.protocol, V5);
    }
}

#[test]
fn a_3_1_1_connack_is_flags_and_return_code() {
    let accepted = ConnAck {
        session_present: true,
        code: 0,
        properties: Properties::default(),
    };
    // CONNACK, length 2, session present, accepted
    fixture(Packet::ConnAck(accepted), V3_1_1, &[0x20, 0x02, 0x01, 0x00]);
    let refused = ConnAck {
        session_present: false,
        code: 5,
        properties: Properties::default(),
    };
    // return code 5: not authorized
    fixture(Packet::ConnAck(refused), V3_1_1, &[0x20, 0x02, 0x00, 0x05]);
}

#[test]
fn a_5_0_connack_carries_properties_in_identifier_order() {
    let packet = Packet::ConnAck(ConnAck {
        session_present: false,
        code: 0,
        properties: Properties {
            assigned_client_identifier: Some("ab".into()),
            receive_maximum: Some(10),
            topic_alias_maximum: Some(5),
            maximum_qos: Some(1),
            ..Properties::default()
        },
    });
    #[rustfmt::skip]
    let bytes = [
        0x20, 16,                           // CONNACK, remaining length 16
        0x00,                               // no session present
        0x00,                               // reason code success
        13,                                 // property length
        0x12, 0x00, 0x02, b'a', b'b',       //   assigned client identifier "ab"
        0x21, 0x00, 0x0A,                   //   receive maximum 10
        0x22, 0x00, 0x05,                   //   topic alias maximum 5
        0x24, 0x01,                         //   maximum QoS 1
    ];
    fixture(packet, V5, &bytes);
    let minimal = ConnAck {
        session_present: false,
        code: 0x87,
        properties: Properties::default(),
    };
    // not authorized, empty property block
    fixture(
        Packet::ConnAck(minimal),
        V5,
        &[0x20, 0x03, 0x00, 0x87, 0x00],
    );
}

#[test]
fn a_5_0_connack_may_carry_every_connack_property() {
    let packet = Packet::ConnAck(ConnAck {
        session_present: true,
        code: 0,
        properties: Properties {
            session_expiry_interval: Some(0x0102_0304),
            assigned_client_identifier: Some("a".into()),
            server_keep_alive: Some(0x0506),
            authentication_method: Some("m".into()),
            authentication_data: Some(b(&[0xAA])),
            response_information: Some("r".into()),
            server_reference: Some("s".into()),
            reason_string: Some("x".into()),
            receive_maximum: Some(7),
            topic_alias_maximum: Some(8),
            maximum_qos: Some(0),
            retain_available: Some(1),
            user_properties: vec![("k".into(), "1".into()), ("k".into(), "2".into())],
            maximum_packet_size: Some(0x0001_0000),
            wildcard_subscription_available: Some(0),
            subscription_identifier_available: Some(1),
            shared_subscription_available: Some(0),
            ..Properties::default()
        },
    });
    #[rustfmt::skip]
    let bytes = [
        0x20, 70,                           // CONNACK, remaining length 70
        0x01, 0x00,                         // session present, success
        67,                                 // property length
        0x11, 0x01, 0x02, 0x03, 0x04,       //   session expiry interval
        0x12, 0x00, 0x01, b'a',             //   assigned client identifier
        0x13, 0x05, 0x06,                   //   server keep alive
        0x15, 0x00, 0x01, b'm',             //   authentication method
        0x16, 0x00, 0x01, 0xAA,             //   authentication data
        0x1A, 0x00, 0x01, b'r',             //   response information
        0x1C, 0x00, 0x01, b's',             //   server reference
        0x1F, 0x00, 0x01, b'x',             //   reason string
        0x21, 0x00, 0x07,                   //   receive maximum
        0x22, 0x00, 0x08,                   //   topic alias maximum
        0x24, 0x00,                         //   maximum QoS
        0x25, 0x01,                         //   retain available
        0x27, 0x00, 0x01, 0x00, 0x00,       //   maximum packet size
        0x28, 0x00,                         //   wildcard subscription available
        0x29, 0x01,                         //   subscription identifiers available
        0x2A, 0x00,                         //   shared subscription available
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'1', // user property, first
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'2', // user property, same name, kept in order
    ];
    fixture(packet, V5, &bytes);
}

fn publish(qos: QoS, topic: &str, packet_id: Option<u16>, payload: &'static [u8]) -> Publish {
    Publish {
        dup: false,
        qos,
        retain: false,
        topic: topic.into(),
        packet_id,
        properties: Properties::default(),
        payload: b(payload),
    }
}

#[test]
fn a_qos_0_publish_is_topic_and_payload_without_packet_identifier() {
    let packet = Packet::Publish(publish(QoS::AtMostOnce, "a/b", None, b"hi"));
    #[rustfmt::skip]
    let bytes = [
        0x30, 7,                            // PUBLISH QoS 0, remaining length 7
        0x00, 0x03, b'a', b'/', b'b',       // topic name "a/b"
        b'h', b'i',                         // payload
    ];
    for version in V3S {
        fixture(packet.clone(), version, &bytes);
    }
    #[rustfmt::skip]
    let bytes = [
        0x30, 8,                            // PUBLISH QoS 0, remaining length 8
        0x00, 0x03, b'a', b'/', b'b',       // topic name "a/b"
        0x00,                               // no properties
        b'h', b'i',                         // payload
    ];
    fixture(packet, V5, &bytes);
}

#[test]
fn publish_flags_carry_dup_qos_and_retain() {
    let p = Publish {
        dup: true,
        retain: true,
        ..publish(QoS::AtLeastOnce, "t", Some(10), b"x")
    };
    #[rustfmt::skip]
    let bytes = [
        0x3B, 6,                            // PUBLISH, DUP | QoS 1 | RETAIN, remaining length 6
        0x00, 0x01, b't',                   // topic name
        0x00, 0x0A,                         // packet identifier 10
        b'x',                               // payload
    ];
    fixture(Packet::Publish(p), V3_1_1, &bytes);
    let p = publish(QoS::ExactlyOnce, "t", Some(0xFFFF), b"");
    #[rustfmt::skip]
    let bytes = [
        0x34, 5,                            // PUBLISH QoS 2, remaining length 5
        0x00, 0x01, b't',                   // topic name
        0xFF, 0xFF,                         // packet identifier 65535
                                            // empty payload
    ];
    fixture(Packet::Publish(p), V3_1_1, &bytes);
}

#[test]
fn a_5_0_publish_carries_every_publish_property() {
    let p = Publish {
        properties: Properties {
            payload_format_indicator: Some(1),
            message_expiry_interval: Some(60),
            content_type: Some("c".into()),
            response_topic: Some("r".into()),
            correlation_data: Some(b(&[1, 2])),
            subscription_identifiers: vec![300, 1],
            topic_alias: Some(3),
            user_properties: vec![("a".into(), "b".into())],
            ..Properties::default()
        },
        ..publish(QoS::AtLeastOnce, "t", Some(1), b"p")
    };
    #[rustfmt::skip]
    let bytes = [
        0x32, 42,                           // PUBLISH QoS 1, remaining length 42
        0x00, 0x01, b't',                   // topic name
        0x00, 0x01,                         // packet identifier 1
        35,                                 // property length
        0x01, 0x01,                         //   payload format indicator: UTF-8
        0x02, 0x00, 0x00, 0x00, 0x3C,       //   message expiry interval 60 s
        0x03, 0x00, 0x01, b'c',             //   content type "c"
        0x08, 0x00, 0x01, b'r',             //   response topic "r"
        0x09, 0x00, 0x02, 0x01, 0x02,       //   correlation data
        0x0B, 0xAC, 0x02,                   //   subscription identifier 300 (variable byte integer)
        0x0B, 0x01,                         //   subscription identifier 1 (repeatable in PUBLISH)
        0x23, 0x00, 0x03,                   //   topic alias 3
        0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'b', // user property
        b'p',                               // payload
    ];
    fixture(Packet::Publish(p), V5, &bytes);
}

#[test]
fn a_5_0_publish_may_replace_its_topic_by_a_topic_alias() {
    let p = Publish {
        properties: Properties {
            topic_alias: Some(1),
            ..Properties::default()
        },
        ..publish(QoS::AtMostOnce, "", None, b"x")
    };
    #[rustfmt::skip]
    let bytes = [
        0x30, 7,                            // PUBLISH QoS 0, remaining length 7
        0x00, 0x00,                         // zero-length topic name
        3, 0x23, 0x00, 0x01,                // properties: topic alias 1
        b'x',                               // payload
    ];
    fixture(Packet::Publish(p), V5, &bytes);
}

#[test]
fn a_remaining_length_over_127_takes_two_bytes() {
    static PAYLOAD: [u8; 200] = [0x5A; 200];
    let p = publish(QoS::AtMostOnce, "t", None, &PAYLOAD);
    let mut bytes = vec![
        0x30, 0xCB, 0x01, // PUBLISH, remaining length 203 = 0x4B + 1 * 128
        0x00, 0x01, b't', // topic name
    ];
    bytes.extend_from_slice(&PAYLOAD);
    fixture(Packet::Publish(p), V3_1_1, &bytes);
}

#[test]
fn publish_acknowledgements_are_the_packet_identifier_before_5_0() {
    let ack = Ack::new(7);
    for version in V3S {
        fixture(
            Packet::PubAck(ack.clone()),
            version,
            &[0x40, 0x02, 0x00, 0x07],
        );
        fixture(
            Packet::PubRec(ack.clone()),
            version,
            &[0x50, 0x02, 0x00, 0x07],
        );
        // PUBREL's fixed header flags are 0b0010 (MQTT-3.6.1-1)
        fixture(
            Packet::PubRel(ack.clone()),
            version,
            &[0x62, 0x02, 0x00, 0x07],
        );
        fixture(
            Packet::PubComp(ack.clone()),
            version,
            &[0x70, 0x02, 0x00, 0x07],
        );
    }
}

#[test]
fn a_5_0_acknowledgement_omits_what_it_can() {
    // Success without properties: the packet identifier alone (section 3.4.2.1).
    fixture(Packet::PubAck(Ack::new(7)), V5, &[0x40, 0x02, 0x00, 0x07]);
    // A reason code without properties: no property length.
    let no_subscribers = Ack {
        reason_code: 0x10,
        ..Ack::new(7)
    };
    fixture(
        Packet::PubAck(no_subscribers),
        V5,
        &[0x40, 0x03, 0x00, 0x07, 0x10],
    );
    let not_found = Ack {
        reason_code: 0x92,
        ..Ack::new(1)
    };
    fixture(
        Packet::PubComp(not_found),
        V5,
        &[0x70, 0x03, 0x00, 0x01, 0x92],
    );
    let with_reason_string = Ack {
        reason_code: 0x80,
        properties: Properties {
            reason_string: Some("no".into()),
            ..Properties::default()
        },
        ..Ack::new(7)
    };
    #[rustfmt::skip]
    let bytes = [
        0x50, 9,                            // PUBREC, remaining length 9
        0x00, 0x07,                         // packet identifier 7
        0x80,                               // unspecified error
        5, 0x1F, 0x00, 0x02, b'n', b'o',    // properties: reason string "no"
    ];
    fixture(Packet::PubRec(with_reason_string), V5, &bytes);
    let with_user_property = Ack {
        properties: Properties {
            user_properties: vec![("a".into(), "".into())],
            ..Properties::default()
        },
        ..Ack::new(2)
    };
    #[rustfmt::skip]
    let bytes = [
        0x62, 10,                           // PUBREL, remaining length 10
        0x00, 0x02, 0x00,                   // packet identifier 2, success
        6, 0x26, 0x00, 0x01, b'a', 0x00, 0x00, // properties: user property ("a", "")
    ];
    fixture(Packet::PubRel(with_user_property), V5, &bytes);
}

#[test]
fn a_5_0_acknowledgement_with_an_empty_property_block_decodes_as_the_short_form() {
    decodes_to(
        &[0x40, 0x04, 0x00, 0x07, 0x00, 0x00],
        V5,
        Packet::PubAck(Ack::new(7)),
    );
}

#[test]
fn a_3_1_1_subscribe_lists_filters_with_a_qos_byte() {
    let packet = Packet::Subscribe(Subscribe {
        packet_id: 1,
        properties: Properties::default(),
        filters: vec![
            (
                "a/+".into(),
                SubscriptionOptions {
                    qos: QoS::AtLeastOnce,
                    ..Default::default()
                },
            ),
            (
                "b/#".into(),
                SubscriptionOptions {
                    qos: QoS::ExactlyOnce,
                    ..Default::default()
                },
            ),
        ],
    });
    #[rustfmt::skip]
    let bytes = [
        0x82, 14,                           // SUBSCRIBE, flags 0b0010 (MQTT-3.8.1-1), length 14
        0x00, 0x01,                         // packet identifier 1
        0x00, 0x03, b'a', b'/', b'+', 0x01, // "a/+", QoS 1
        0x00, 0x03, b'b', b'/', b'#', 0x02, // "b/#", QoS 2
    ];
    for version in V3S {
        fixture(packet.clone(), version, &bytes);
    }
}

#[test]
fn a_5_0_subscribe_carries_subscription_options_and_identifier() {
    let options = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        no_local: true,
        retain_as_published: true,
        retain_handling: RetainHandling::DoNotSend,
    };
    let packet = Packet::Subscribe(Subscribe {
        packet_id: 2,
        properties: Properties {
            subscription_identifiers: vec![5],
            ..Properties::default()
        },
        filters: vec![("x".into(), options)],
    });
    #[rustfmt::skip]
    let bytes = [
        0x82, 9,                            // SUBSCRIBE, remaining length 9
        0x00, 0x02,                         // packet identifier 2
        2, 0x0B, 0x05,                      // properties: subscription identifier 5
        0x00, 0x01, b'x',                   // topic filter "x"
        0x2D,                               // retain handling 2, RAP, no local, QoS 1
    ];
    fixture(packet.clone(), V5, &bytes);
    // Before 5.0 only the QoS is written.
    let mut out = Vec::new();
    encode(&packet, V3_1_1, &mut out).unwrap();
    assert_eq!(out, [0x82, 6, 0x00, 0x02, 0x00, 0x01, b'x', 0x01]);
}

#[test]
fn a_suback_lists_one_code_per_filter() {
    let packet = Packet::SubAck(SubAck {
        packet_id: 1,
        properties: Properties::default(),
        reason_codes: vec![0x01, 0x80],
    });
    // SUBACK, length 4, packet identifier 1, granted QoS 1, failure
    for version in V3S {
        fixture(
            packet.clone(),
            version,
            &[0x90, 0x04, 0x00, 0x01, 0x01, 0x80],
        );
    }
    let packet = Packet::SubAck(SubAck {
        packet_id: 2,
        properties: Properties::default(),
        reason_codes: vec![0x01, 0x87],
    });
    #[rustfmt::skip]
    let bytes = [
        0x90, 5,                            // SUBACK, remaining length 5
        0x00, 0x02,                         // packet identifier 2
        0x00,                               // no properties
        0x01, 0x87,                         // granted QoS 1, not authorized
    ];
    fixture(packet.clone(), V5, &bytes);
    // 3.1.1 has a single failure code, 0x80.
    let mut out = Vec::new();
    encode(&packet, V3_1_1, &mut out).unwrap();
    assert_eq!(out, [0x90, 0x04, 0x00, 0x02, 0x01, 0x80]);
}

#[test]
fn unsubscribe_lists_filters() {
    let packet = Packet::Unsubscribe(Unsubscribe {
        packet_id: 3,
        properties: Properties::default(),
        filters: vec!["a/b".into()],
    });
    // UNSUBSCRIBE (flags 0b0010, MQTT-3.10.1-1), length 7, packet identifier 3, "a/b"
    for version in V3S {
        fixture(
            packet.clone(),
            version,
            &[0xA2, 7, 0x00, 0x03, 0x00, 0x03, b'a', b'/', b'b'],
        );
    }
    // 5.0: an empty property block after the packet identifier.
    fixture(
        packet,
        V5,
        &[0xA2, 8, 0x00, 0x03, 0x00, 0x00, 0x03, b'a', b'/', b'b'],
    );
}

#[test]
fn an_unsuback_has_reason_codes_only_in_5_0() {
    let packet = Packet::UnsubAck(UnsubAck {
        packet_id: 3,
        properties: Properties::default(),
        reason_codes: vec![],
    });
    for version in V3S {
        fixture(packet.clone(), version, &[0xB0, 0x02, 0x00, 0x03]);
    }
    let packet = Packet::UnsubAck(UnsubAck {
        packet_id: 3,
        properties: Properties::default(),
        reason_codes: vec![0x00, 0x11],
    });
    // UNSUBACK, length 5, packet identifier 3, no properties, success, no subscription existed
    fixture(packet, V5, &[0xB0, 0x05, 0x00, 0x03, 0x00, 0x00, 0x11]);
}

#[test]
fn pings_are_a_fixed_header_alone() {
    for version in ALL {
        fixture(Packet::PingReq, version, &[0xC0, 0x00]);
        fixture(Packet::PingResp, version, &[0xD0, 0x00]);
    }
}

#[test]
fn a_disconnect_before_5_0_is_a_fixed_header_alone() {
    for version in V3S {
        fixture(
            Packet::Disconnect(Disconnect::default()),
            version,
            &[0xE0, 0x00],
        );
    }
}

#[test]
fn a_5_0_disconnect_omits_a_normal_reason_and_empty_properties() {
    fixture(Packet::Disconnect(Disconnect::default()), V5, &[0xE0, 0x00]);
    let with_will = Disconnect {
        reason_code: 0x04,
        properties: Properties::default(),
    };
    // Remaining length 1: the reason code alone (section 3.14.2.2.1).
    fixture(Packet::Disconnect(with_will), V5, &[0xE0, 0x01, 0x04]);
    let with_properties = Disconnect {
        reason_code: 0x8B,
        properties: Properties {
            session_expiry_interval: Some(0),
            reason_string: Some("bye".into()),
            ..Properties::default()
        },
    };
    #[rustfmt::skip]
    let bytes = [
        0xE0, 13,                           // DISCONNECT, remaining length 13
        0x8B,                               // server shutting down
        11,                                 // property length
        0x11, 0x00, 0x00, 0x00, 0x00,       //   session expiry interval 0
        0x1F, 0x00, 0x03, b'b', b'y', b'e', //   reason string "bye"
    ];
    fixture(Packet::Disconnect(with_properties), V5, &bytes);
    // A normal disconnection with an empty property block is the same packet.
    decodes_to(
        &[0xE0, 0x02, 0x00, 0x00],
        V5,
        Packet::Disconnect(Disconnect::default()),
    );
}

#[test]
fn a_5_0_auth_is_empty_for_success_and_carries_its_method_otherwise() {
    fixture(Packet::Auth(Auth::default()), V5, &[0xF0, 0x00]);
    let packet = Packet::Auth(Auth {
        reason_code: 0x18,
        properties: Properties {
            authentication_method: Some("SCRAM".into()),
            authentication_data: Some(b(&[1, 2, 3])),
            ..Properties::default()
        },
    });
    #[rustfmt::skip]
    let bytes = [
        0xF0, 16,                           // AUTH, remaining length 16
        0x18,                               // continue authentication
        14,                                 // property length
        0x15, 0x00, 0x05, b'S', b'C', b'R', b'A', b'M', // authentication method "SCRAM"
        0x16, 0x00, 0x03, 0x01, 0x02, 0x03, // authentication data
    ];
    fixture(packet, V5, &bytes);
}

#[test]
fn decoded_payloads_and_binary_fields_share_the_input_buffer() {
    #[rustfmt::skip]
    let bytes = Bytes::from_static(&[
        0x30, 9,
        0x00, 0x01, b't',
        4, 0x09, 0x00, 0x01, 0xCD,          // correlation data
        b'p',
    ]);
    let Ok(Packet::Publish(p)) = decode_packet(bytes.clone(), V5) else {
        panic!()
    };
    assert_eq!(p.payload.as_ptr(), bytes[10..].as_ptr());
    assert_eq!(
        p.properties.correlation_data.unwrap().as_ptr(),
        bytes[9..].as_ptr()
    );
}
