//! CONNECT (section 3.1) and CONNACK (section 3.2).

use super::error::{DecodeError, EncodeError};
use super::packet::{ConnAck, Connect, LastWill, PacketType, ProtocolVersion, QoS};
use super::properties::{Properties, Scope};
use super::reader::Reader;
use super::reason;
use super::writer::{check_bin, check_str, field_len, put_bin, put_str, put_u16};
use crate::topic::validate_topic_name;

const USERNAME: u8 = 0x80;
const PASSWORD: u8 = 0x40;
const WILL_RETAIN: u8 = 0x20;
const WILL_QOS_SHIFT: u8 = 3;
const WILL: u8 = 0x04;
const CLEAN_START: u8 = 0x02;
const RESERVED: u8 = 0x01;

const CONNECT: PacketType = PacketType::Connect;

fn protocol_name(version: ProtocolVersion) -> &'static str {
    match version {
        ProtocolVersion::V3_1 => "MQIsdp",
        ProtocolVersion::V3_1_1 | ProtocolVersion::V5 => "MQTT",
    }
}

/// The high bit of the protocol level that a broker bridging to another sets (mosquitto's
/// `try_private`): 0x83 for 3.1, 0x84 for 3.1.1. It is outside MQTT 3.1.1 and 5.0, which say only
/// that an unsupported level is refused (MQTT-3.1.2-2). No 5.0 level is given one: 0x85 is not
/// defined anywhere, and mosquitto sets the bit only below 5.0, where a 5.0 bridge uses the No
/// Local and Retain As Published subscription options instead; 0x85 is refused as any unknown
/// level is.
pub const BRIDGE_BIT: u8 = 0x80;

/// The protocol level byte of `c`.
fn level(c: &Connect) -> u8 {
    c.protocol.level() | if c.bridge { BRIDGE_BIT } else { 0 }
}

pub(crate) fn check_connect(c: &Connect) -> Result<(), EncodeError> {
    let v5 = c.protocol.is_v5();
    if v5 && c.bridge {
        return Err(EncodeError::UnsupportedProtocolLevel(level(c)));
    }
    if v5 {
        c.properties.check(Scope::of(CONNECT))?;
    }
    check_str(&c.client_id, CONNECT)?;
    if let Some(will) = &c.will {
        if v5 {
            will.properties.check(Scope::WILL)?;
        }
        validate_topic_name(&will.topic).map_err(EncodeError::InvalidTopicName)?;
        check_bin(&will.payload, CONNECT)?;
    }
    if let Some(username) = &c.username {
        check_str(username, CONNECT)?;
    }
    if let Some(password) = &c.password {
        check_bin(password, CONNECT)?;
        if !v5 && c.username.is_none() {
            // 3.1.1: MQTT-3.1.2-22
            return Err(EncodeError::PasswordWithoutUsername);
        }
    }
    Ok(())
}

pub(crate) fn connect_len(c: &Connect) -> usize {
    let v5 = c.protocol.is_v5();
    // protocol name, level, flags, keep alive
    let mut n = field_len(protocol_name(c.protocol).as_bytes()) + 1 + 1 + 2;
    if v5 {
        n += c.properties.wire_len();
    }
    n += field_len(c.client_id.as_bytes());
    if let Some(will) = &c.will {
        if v5 {
            n += will.properties.wire_len();
        }
        n += field_len(will.topic.as_bytes()) + field_len(&will.payload);
    }
    if let Some(username) = &c.username {
        n += field_len(username.as_bytes());
    }
    if let Some(password) = &c.password {
        n += field_len(password);
    }
    n
}

pub(crate) fn write_connect(c: &Connect, out: &mut Vec<u8>) {
    let v5 = c.protocol.is_v5();
    put_str(out, protocol_name(c.protocol));
    out.push(level(c));
    let mut flags = 0;
    if c.username.is_some() {
        flags |= USERNAME;
    }
    if c.password.is_some() {
        flags |= PASSWORD;
    }
    if let Some(will) = &c.will {
        flags |= WILL | ((will.qos as u8) << WILL_QOS_SHIFT);
        if will.retain {
            flags |= WILL_RETAIN;
        }
    }
    if c.clean_start {
        flags |= CLEAN_START;
    }
    out.push(flags);
    put_u16(out, c.keep_alive);
    if v5 {
        c.properties.write(out);
    }
    put_str(out, &c.client_id);
    if let Some(will) = &c.will {
        if v5 {
            will.properties.write(out);
        }
        put_str(out, &will.topic);
        put_bin(out, &will.payload);
    }
    if let Some(username) = &c.username {
        put_str(out, username);
    }
    if let Some(password) = &c.password {
        put_bin(out, password);
    }
}

/// Decodes a CONNECT for the protocol level it names.
pub(crate) fn decode_connect(r: &mut Reader<'_>) -> Result<Connect, DecodeError> {
    let name = r.str()?;
    let level = r.u8()?;
    let bridge = level & BRIDGE_BIT != 0;
    let protocol = match (name, level & !BRIDGE_BIT) {
        ("MQIsdp", 3) => ProtocolVersion::V3_1,
        ("MQTT", 4) => ProtocolVersion::V3_1_1,
        ("MQTT", 5) if !bridge => ProtocolVersion::V5,
        // MQTT-3.1.2-2; 0x85 among them (see BRIDGE_BIT)
        ("MQTT" | "MQIsdp", _) => return Err(DecodeError::UnsupportedProtocolLevel(level)),
        // MQTT-3.1.2-1
        _ => return Err(DecodeError::InvalidProtocolName),
    };
    let v5 = protocol.is_v5();
    let flags = r.u8()?;
    if flags & RESERVED != 0 {
        // MQTT-3.1.2-3
        return Err(DecodeError::InvalidConnectFlags);
    }
    let will_flag = flags & WILL != 0;
    let will_qos = (flags >> WILL_QOS_SHIFT) & 0b11;
    let will_retain = flags & WILL_RETAIN != 0;
    if !will_flag && (will_qos != 0 || will_retain) {
        // MQTT 5: MQTT-3.1.2-11, -13; 3.1.1: MQTT-3.1.2-13, -15
        return Err(DecodeError::InvalidWillFlags);
    }
    let will_qos = QoS::from_u8(will_qos).ok_or(DecodeError::InvalidQoS {
        packet_type: CONNECT,
    })?;
    if !v5 && flags & PASSWORD != 0 && flags & USERNAME == 0 {
        // 3.1.1: MQTT-3.1.2-22
        return Err(DecodeError::PasswordWithoutUsername);
    }
    let keep_alive = r.u16()?;
    let properties = if v5 {
        Properties::read(r, Scope::of(CONNECT))?
    } else {
        Properties::default()
    };
    let client_id = r.string()?;
    let will = if will_flag {
        let properties = if v5 {
            Properties::read(r, Scope::WILL)?
        } else {
            Properties::default()
        };
        let topic = r.str()?;
        validate_topic_name(topic).map_err(DecodeError::InvalidTopicName)?;
        let payload = r.binary()?;
        Some(LastWill {
            topic: topic.into(),
            payload,
            qos: will_qos,
            retain: will_retain,
            properties,
        })
    } else {
        None
    };
    let username = if flags & USERNAME != 0 {
        Some(r.string()?)
    } else {
        None
    };
    let password = if flags & PASSWORD != 0 {
        Some(r.binary()?)
    } else {
        None
    };
    Ok(Connect {
        protocol,
        bridge,
        clean_start: flags & CLEAN_START != 0,
        keep_alive,
        client_id,
        will,
        username,
        password,
        properties,
    })
}

const SESSION_PRESENT: u8 = 0x01;

pub(crate) fn check_connack(c: &ConnAck, version: ProtocolVersion) -> Result<(), EncodeError> {
    if c.session_present && c.code != 0 {
        return Err(EncodeError::SessionPresentOnFailure);
    }
    reason::check(PacketType::ConnAck, version, c.code)?;
    if version.is_v5() {
        c.properties.check(Scope::of(PacketType::ConnAck))?;
    }
    Ok(())
}

pub(crate) fn connack_len(c: &ConnAck, version: ProtocolVersion) -> usize {
    2 + if version.is_v5() {
        c.properties.wire_len()
    } else {
        0
    }
}

pub(crate) fn write_connack(c: &ConnAck, version: ProtocolVersion, out: &mut Vec<u8>) {
    out.push(if c.session_present {
        SESSION_PRESENT
    } else {
        0
    });
    out.push(c.code);
    if version.is_v5() {
        c.properties.write(out);
    }
}

pub(crate) fn decode_connack(
    r: &mut Reader<'_>,
    version: ProtocolVersion,
) -> Result<ConnAck, DecodeError> {
    let flags = r.u8()?;
    if flags & !SESSION_PRESENT != 0 {
        // MQTT-3.2.2-1
        return Err(DecodeError::InvalidConnAckFlags);
    }
    let session_present = flags & SESSION_PRESENT != 0;
    let code = r.u8()?;
    if version.is_v5()
        && r.is_empty()
        && !session_present
        && code == reason::v3::UNACCEPTABLE_PROTOCOL_VERSION
    {
        // A 3.1.1-only server answers a 5.0 CONNECT in 3.1.1 form, 0x01 "unacceptable protocol
        // level" and no properties (3.1.1: MQTT-3.1.2-2); read as what it says (seen with aedes
        // and amqtt).
        return Ok(ConnAck {
            session_present,
            code: reason::UNSUPPORTED_PROTOCOL_VERSION,
            properties: Properties::default(),
        });
    }
    // MQTT-3.2.2-8; 3.1.1: return codes 6-255 are reserved (section 3.2.2.3)
    reason::check(PacketType::ConnAck, version, code)?;
    if session_present && code != 0 {
        // MQTT-3.2.2-6; 3.1.1: MQTT-3.2.2-4
        return Err(DecodeError::SessionPresentOnFailure);
    }
    let properties = if version.is_v5() {
        Properties::read(r, Scope::of(PacketType::ConnAck))?
    } else {
        Properties::default()
    };
    Ok(ConnAck {
        session_present,
        code,
        properties,
    })
}
