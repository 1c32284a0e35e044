//! Proptest strategies for valid packets of each protocol version, shared by the codec tests.

#![allow(dead_code)]

use bytes::Bytes;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use wasmqtt::codec::{
    encode, reason, Ack, Auth, ConnAck, Connect, Disconnect, LastWill, Packet, PacketType,
    Properties, ProtocolVersion, Publish, QoS, RetainHandling, SubAck, Subscribe,
    SubscriptionOptions, UnsubAck, Unsubscribe,
};

pub const VERSIONS: [ProtocolVersion; 3] = [
    ProtocolVersion::V3_1,
    ProtocolVersion::V3_1_1,
    ProtocolVersion::V5,
];

pub fn version() -> impl Strategy<Value = ProtocolVersion> {
    prop::sample::select(&VERSIONS[..])
}

/// UTF-8 strings without U+0000, some of them multi-byte.
pub fn string() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _./+#$é€😀-]{0,8}"
}

pub fn topic_name() -> impl Strategy<Value = String> {
    "[a-z0-9/ é$_-]{1,12}"
}

pub fn topic_filter() -> impl Strategy<Value = String> {
    let level = prop_oneof![3 => "[a-z0-9 é]{0,4}", 1 => Just("+".to_string())];
    (
        option::weighted(0.2, "[a-z]{1,3}"),
        vec(level, 1..4),
        any::<bool>(),
    )
        .prop_map(|(share, levels, hash)| {
            let mut filter = levels.join("/");
            if filter.is_empty() {
                filter.push('#'); // an empty filter is invalid (MQTT-4.7.3-1)
            } else if hash {
                filter.push_str("/#");
            }
            match share {
                Some(name) => format!("$share/{name}/{filter}"),
                None => filter,
            }
        })
}

pub fn binary() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..12).prop_map(Bytes::from)
}

pub fn packet_id() -> impl Strategy<Value = u16> {
    1..=u16::MAX
}

pub fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

fn flag() -> impl Strategy<Value = Option<u8>> {
    option::of(0..=1u8)
}

/// Every property with a valid value, in whatever packet.
pub fn any_properties() -> impl Strategy<Value = Properties> {
    let publish_like = (
        flag(),
        option::of(any::<u32>()),
        option::of(string()),
        option::of(topic_name()),
        option::of(binary()),
        vec(1..=268_435_455u32, 0..3),
        option::of(1..=u16::MAX),
    );
    let session = (
        option::of(any::<u32>()),
        option::of(string()),
        option::of(any::<u16>()),
        option::of(string()),
        option::of(binary()),
        flag(),
        option::of(any::<u32>()),
        flag(),
        option::of(string()),
        option::of(string()),
        option::of(string()),
    );
    let limits = (
        option::of(1..=u16::MAX),
        option::of(any::<u16>()),
        flag(),
        flag(),
        vec((string(), string()), 0..3),
        option::of(1..=u32::MAX),
        flag(),
        flag(),
        flag(),
    );
    (publish_like, session, limits).prop_map(|(a, b, c)| {
        let mut p = Properties {
            payload_format_indicator: a.0,
            message_expiry_interval: a.1,
            content_type: a.2,
            response_topic: a.3,
            correlation_data: a.4,
            subscription_identifiers: a.5,
            topic_alias: a.6,
            session_expiry_interval: b.0,
            assigned_client_identifier: b.1,
            server_keep_alive: b.2,
            authentication_method: b.3,
            authentication_data: b.4,
            request_problem_information: b.5,
            will_delay_interval: b.6,
            request_response_information: b.7,
            response_information: b.8,
            server_reference: b.9,
            reason_string: b.10,
            receive_maximum: c.0,
            topic_alias_maximum: c.1,
            maximum_qos: c.2,
            retain_available: c.3,
            user_properties: c.4,
            maximum_packet_size: c.5,
            wildcard_subscription_available: c.6,
            subscription_identifier_available: c.7,
            shared_subscription_available: c.8,
        };
        if p.authentication_data.is_some() && p.authentication_method.is_none() {
            p.authentication_method = Some("m".into());
        }
        p
    })
}

/// Table 2-4 of MQTT 5.0, by scope.
pub const CONNECT: &[u8] = &[0x11, 0x15, 0x16, 0x17, 0x19, 0x21, 0x22, 0x26, 0x27];
pub const CONNACK: &[u8] = &[
    0x11, 0x12, 0x13, 0x15, 0x16, 0x1A, 0x1C, 0x1F, 0x21, 0x22, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29,
    0x2A,
];
pub const PUBLISH: &[u8] = &[0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x23, 0x26];
pub const WILL: &[u8] = &[0x01, 0x02, 0x03, 0x08, 0x09, 0x18, 0x26];
pub const ACK: &[u8] = &[0x1F, 0x26];
pub const SUBSCRIBE: &[u8] = &[0x0B, 0x26];
pub const UNSUBSCRIBE: &[u8] = &[0x26];
pub const DISCONNECT: &[u8] = &[0x11, 0x1C, 0x1F, 0x26];
pub const AUTH: &[u8] = &[0x15, 0x16, 0x1F, 0x26];

/// `p` with only the properties whose identifiers are in `ids`.
pub fn keep(p: Properties, ids: &[u8]) -> Properties {
    let mut q = Properties::default();
    for &id in ids {
        match id {
            0x01 => q.payload_format_indicator = p.payload_format_indicator,
            0x02 => q.message_expiry_interval = p.message_expiry_interval,
            0x03 => q.content_type = p.content_type.clone(),
            0x08 => q.response_topic = p.response_topic.clone(),
            0x09 => q.correlation_data = p.correlation_data.clone(),
            0x0B => q.subscription_identifiers = p.subscription_identifiers.clone(),
            0x11 => q.session_expiry_interval = p.session_expiry_interval,
            0x12 => q.assigned_client_identifier = p.assigned_client_identifier.clone(),
            0x13 => q.server_keep_alive = p.server_keep_alive,
            0x15 => q.authentication_method = p.authentication_method.clone(),
            0x16 => q.authentication_data = p.authentication_data.clone(),
            0x17 => q.request_problem_information = p.request_problem_information,
            0x18 => q.will_delay_interval = p.will_delay_interval,
            0x19 => q.request_response_information = p.request_response_information,
            0x1A => q.response_information = p.response_information.clone(),
            0x1C => q.server_reference = p.server_reference.clone(),
            0x1F => q.reason_string = p.reason_string.clone(),
            0x21 => q.receive_maximum = p.receive_maximum,
            0x22 => q.topic_alias_maximum = p.topic_alias_maximum,
            0x23 => q.topic_alias = p.topic_alias,
            0x24 => q.maximum_qos = p.maximum_qos,
            0x25 => q.retain_available = p.retain_available,
            0x26 => q.user_properties = p.user_properties.clone(),
            0x27 => q.maximum_packet_size = p.maximum_packet_size,
            0x28 => q.wildcard_subscription_available = p.wildcard_subscription_available,
            0x29 => q.subscription_identifier_available = p.subscription_identifier_available,
            0x2A => q.shared_subscription_available = p.shared_subscription_available,
            _ => unreachable!("{id:#04x}"),
        }
    }
    q
}

/// Properties valid in `ids` for `version`: none before 5.0.
pub fn properties(version: ProtocolVersion, ids: &'static [u8]) -> BoxedStrategy<Properties> {
    if version.is_v5() {
        any_properties().prop_map(move |p| keep(p, ids)).boxed()
    } else {
        Just(Properties::default()).boxed()
    }
}

fn connect(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let will = option::of((
        topic_name(),
        binary(),
        qos(),
        any::<bool>(),
        properties(version, WILL),
    ));
    (
        any::<bool>(),
        any::<u16>(),
        string(),
        will,
        option::of(string()),
        option::of(binary()),
        properties(version, CONNECT),
        any::<bool>(),
    )
        .prop_map(
            move |(
                clean_start,
                keep_alive,
                client_id,
                will,
                username,
                password,
                properties,
                bridge,
            )| {
                // Before 5.0 a password needs a user name (3.1.1: MQTT-3.1.2-22).
                let password = if version.is_v5() || username.is_some() {
                    password
                } else {
                    None
                };
                Packet::Connect(Box::new(Connect {
                    protocol: version,
                    // The bridge bit exists below 5.0 only (codec::BRIDGE_BIT).
                    bridge: bridge && !version.is_v5(),
                    clean_start,
                    keep_alive,
                    client_id,
                    will: will.map(|(topic, payload, qos, retain, properties)| LastWill {
                        topic,
                        payload,
                        qos,
                        retain,
                        properties,
                    }),
                    username,
                    password,
                    properties,
                }))
            },
        )
}

/// A reason code `packet_type` may carry in `version`; 0 where it carries none.
fn code(packet_type: PacketType, version: ProtocolVersion) -> BoxedStrategy<u8> {
    match reason::allowed(packet_type, version) {
        Some(codes) => prop::sample::select(codes).boxed(),
        None => Just(0).boxed(),
    }
}

fn connack(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let code = code(PacketType::ConnAck, version);
    (any::<bool>(), code, properties(version, CONNACK)).prop_map(
        |(session_present, code, properties)| {
            let session_present = session_present && code == 0;
            Packet::ConnAck(ConnAck {
                session_present,
                code,
                properties,
            })
        },
    )
}

fn publish(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (
        qos(),
        any::<bool>(),
        any::<bool>(),
        topic_name(),
        any::<bool>(),
        packet_id(),
        properties(version, PUBLISH),
        vec(any::<u8>(), 0..64),
    )
        .prop_map(
            move |(qos, dup, retain, topic, drop_topic, id, properties, payload)| {
                let at_most_once = qos == QoS::AtMostOnce;
                // In 5.0 a topic alias may stand for the topic name.
                let aliased = version.is_v5() && properties.topic_alias.is_some() && drop_topic;
                Packet::Publish(Publish {
                    dup: dup && !at_most_once,
                    qos,
                    retain,
                    topic: if aliased { String::new() } else { topic },
                    packet_id: if at_most_once { None } else { Some(id) },
                    properties,
                    payload: Bytes::from(payload),
                })
            },
        )
}

fn ack(version: ProtocolVersion, packet_type: PacketType) -> impl Strategy<Value = Ack> {
    let code = code(packet_type, version);
    (packet_id(), code, properties(version, ACK)).prop_map(move |(id, code, properties)| Ack {
        packet_id: id,
        reason_code: code,
        properties,
    })
}

fn options(version: ProtocolVersion) -> impl Strategy<Value = SubscriptionOptions> {
    let retain_handling = prop_oneof![
        Just(RetainHandling::SendAtSubscribe),
        Just(RetainHandling::SendAtSubscribeIfNew),
        Just(RetainHandling::DoNotSend),
    ];
    (qos(), any::<bool>(), any::<bool>(), retain_handling).prop_map(
        move |(qos, no_local, retain_as_published, retain_handling)| {
            if version.is_v5() {
                SubscriptionOptions {
                    qos,
                    no_local,
                    retain_as_published,
                    retain_handling,
                }
            } else {
                SubscriptionOptions {
                    qos,
                    ..SubscriptionOptions::default()
                }
            }
        },
    )
}

fn subscribe(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (
        packet_id(),
        properties(version, SUBSCRIBE),
        vec((topic_filter(), options(version)), 1..4),
    )
        .prop_map(|(packet_id, mut properties, mut filters)| {
            properties.subscription_identifiers.truncate(1);
            for (filter, options) in &mut filters {
                // MQTT-3.8.3-4
                options.no_local &= !filter.starts_with("$share/");
            }
            Packet::Subscribe(Subscribe {
                packet_id,
                properties,
                filters,
            })
        })
}

fn suback(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let code = code(PacketType::SubAck, version);
    (packet_id(), properties(version, ACK), vec(code, 0..4)).prop_map(
        |(packet_id, properties, reason_codes)| {
            Packet::SubAck(SubAck {
                packet_id,
                properties,
                reason_codes,
            })
        },
    )
}

fn unsubscribe(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (
        packet_id(),
        properties(version, UNSUBSCRIBE),
        vec(topic_filter(), 1..4),
    )
        .prop_map(|(packet_id, properties, filters)| {
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                properties,
                filters,
            })
        })
}

fn unsuback(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (
        packet_id(),
        properties(version, ACK),
        vec(code(PacketType::UnsubAck, version), 0..4),
    )
        .prop_map(move |(packet_id, properties, codes)| {
            let reason_codes = if version.is_v5() { codes } else { Vec::new() };
            Packet::UnsubAck(UnsubAck {
                packet_id,
                properties,
                reason_codes,
            })
        })
}

fn disconnect(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let code = code(PacketType::Disconnect, version);
    (code, properties(version, DISCONNECT)).prop_map(move |(reason_code, properties)| {
        Packet::Disconnect(Disconnect {
            reason_code,
            properties,
        })
    })
}

fn auth() -> impl Strategy<Value = Packet> {
    let code = code(PacketType::Auth, ProtocolVersion::V5);
    (code, properties(ProtocolVersion::V5, AUTH)).prop_map(|(reason_code, properties)| {
        Packet::Auth(Auth {
            reason_code,
            properties,
        })
    })
}

/// Any packet valid for `version`, of every type (AUTH only in 5.0).
pub fn packet(version: ProtocolVersion) -> BoxedStrategy<Packet> {
    let common = prop_oneof![
        1 => connect(version),
        1 => connack(version),
        4 => publish(version),
        1 => ack(version, PacketType::PubAck).prop_map(Packet::PubAck),
        1 => ack(version, PacketType::PubRec).prop_map(Packet::PubRec),
        1 => ack(version, PacketType::PubRel).prop_map(Packet::PubRel),
        1 => ack(version, PacketType::PubComp).prop_map(Packet::PubComp),
        1 => subscribe(version),
        1 => suback(version),
        1 => unsubscribe(version),
        1 => unsuback(version),
        1 => Just(Packet::PingReq),
        1 => Just(Packet::PingResp),
        1 => disconnect(version),
    ];
    if version.is_v5() {
        prop_oneof![14 => common, 1 => auth()].boxed()
    } else {
        common.boxed()
    }
}

/// A version and a few packets valid for it.
pub fn packets() -> impl Strategy<Value = (ProtocolVersion, Vec<Packet>)> {
    version().prop_flat_map(|v| (Just(v), vec(packet(v), 1..6)))
}

pub fn encode_all(packets: &[Packet], version: ProtocolVersion) -> Vec<u8> {
    let mut out = Vec::new();
    for p in packets {
        encode(p, version, &mut out).unwrap_or_else(|e| panic!("{p:?}: {e}"));
    }
    out
}

pub mod checks;
