//! Encoder validation: each rule with its typed error, and a failed encode writes nothing.
//! Normative statement ids are MQTT 5.0's unless marked 3.1.1.
#![cfg(not(target_arch = "wasm32"))] // host-only: proptest and friends

mod common;

use bytes::Bytes;
use common::checks::*;
use wasmqtt::codec::{
    reason, Ack, Auth, ConnAck, Connect, DecodeError, EncodeError, LastWill, Packet, PacketType,
    Properties, ProtocolVersion, Publish, QoS, SubAck, Subscribe, SubscriptionOptions, UnsubAck,
    Unsubscribe,
};
use wasmqtt::topic::TopicError;

use PacketType as T;
use ProtocolVersion::{V3_1, V3_1_1, V5};

const ALL: [ProtocolVersion; 3] = [V3_1, V3_1_1, V5];
const MALFORMED: u8 = reason::MALFORMED_PACKET;
const PROTOCOL: u8 = reason::PROTOCOL_ERROR;

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
        bridge: false,
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
    let c = Packet::Connect(Box::new(Connect {
        will: Some(will),
        ..connect(V5)
    }));
    let e = EncodeError::PropertyNotAllowed {
        packet_type: T::Connect,
        property: 0x11,
    };
    refuses(&c, V5, e, MALFORMED);
    let c = Packet::Connect(Box::new(Connect {
        properties: Properties {
            topic_alias: Some(1),
            ..Properties::default()
        },
        ..connect(V5)
    }));
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
    let c = Packet::Connect(Box::new(Connect {
        client_id: long.clone(),
        ..connect(V3_1_1)
    }));
    refuses(
        &c,
        V3_1_1,
        EncodeError::FieldTooLong {
            packet_type: T::Connect,
        },
        MALFORMED,
    );
    let c = Packet::Connect(Box::new(Connect {
        username: Some("a\0".into()),
        ..connect(V3_1_1)
    }));
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
        let c = Packet::Connect(Box::new(Connect {
            password: Some(Bytes::from_static(b"p")),
            ..connect(protocol)
        }));
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
    let c = Packet::Connect(Box::new(Connect {
        will: Some(will),
        ..connect(V3_1_1)
    }));
    let e = EncodeError::InvalidTopicName(TopicError::WildcardInName);
    refuses(&c, V3_1_1, e, MALFORMED);
}

#[test]
fn a_5_0_connect_cannot_be_encoded_with_the_bridge_bit() {
    // Level 0x85 is defined nowhere (codec::BRIDGE_BIT); the CONNECT's own protocol decides.
    let c = Packet::Connect(Box::new(Connect {
        bridge: true,
        ..connect(V5)
    }));
    for version in [V3_1_1, V5] {
        let e = EncodeError::UnsupportedProtocolLevel(0x85);
        refuses(&c, version, e, reason::UNSUPPORTED_PROTOCOL_VERSION);
    }
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
