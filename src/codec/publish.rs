//! PUBLISH (section 3.3). The payload is never copied when decoding: it is a slice of the
//! packet's buffer.

use super::error::{DecodeError, EncodeError};
use super::packet::{PacketType, ProtocolVersion, Publish, QoS};
use super::properties::{Properties, Scope};
use super::reader::Reader;
use super::writer::{field_len, put_str, put_u16};
use crate::topic::{validate_topic_name, TopicError};

const PUBLISH: PacketType = PacketType::Publish;
const DUP: u8 = 0b1000;
const RETAIN: u8 = 0b0001;

/// The fixed header flags: DUP, QoS, RETAIN.
pub(crate) fn flags(p: &Publish) -> u8 {
    let mut flags = (p.qos as u8) << 1;
    if p.dup {
        flags |= DUP;
    }
    if p.retain {
        flags |= RETAIN;
    }
    flags
}

pub(crate) fn check(p: &Publish, version: ProtocolVersion) -> Result<(), EncodeError> {
    match (p.qos, p.packet_id) {
        (QoS::AtMostOnce, Some(_)) => return Err(EncodeError::UnexpectedPacketId),
        (QoS::AtMostOnce, None) if p.dup => return Err(EncodeError::DupWithQoS0),
        (QoS::AtMostOnce, None) => {}
        (_, None) => return Err(EncodeError::MissingPacketId),
        (_, Some(0)) => {
            return Err(EncodeError::ZeroPacketId {
                packet_type: PUBLISH,
            })
        }
        (_, Some(_)) => {}
    }
    if version.is_v5() {
        p.properties.check(Scope::of(PUBLISH))?;
    }
    // An MQTT 5 Topic Alias may stand for the topic name (section 3.3.2.3.4).
    let aliased = version.is_v5() && p.properties.topic_alias.is_some();
    if !(p.topic.is_empty() && aliased) {
        validate_topic_name(&p.topic).map_err(EncodeError::InvalidTopicName)?;
    }
    Ok(())
}

pub(crate) fn body_len(p: &Publish, version: ProtocolVersion) -> usize {
    let mut n = field_len(p.topic.as_bytes());
    if p.packet_id.is_some() {
        n += 2;
    }
    if version.is_v5() {
        n += p.properties.wire_len();
    }
    n + p.payload.len()
}

pub(crate) fn write(p: &Publish, version: ProtocolVersion, out: &mut Vec<u8>) {
    write_head(p, version, out);
    out.extend_from_slice(&p.payload);
}

/// The variable header: everything between the fixed header and the payload.
pub(crate) fn write_head(p: &Publish, version: ProtocolVersion, out: &mut Vec<u8>) {
    put_str(out, &p.topic);
    if let Some(id) = p.packet_id {
        put_u16(out, id);
    }
    if version.is_v5() {
        p.properties.write(out);
    }
}

/// Decodes the body of a PUBLISH whose fixed header flags (already checked) are `flags`.
pub(crate) fn decode(
    r: &mut Reader<'_>,
    flags: u8,
    version: ProtocolVersion,
) -> Result<Publish, DecodeError> {
    let qos = QoS::from_u8((flags >> 1) & 0b11).ok_or(DecodeError::InvalidQoS {
        packet_type: PUBLISH,
    })?;
    let topic = r.str()?;
    if !topic.is_empty() {
        // MQTT-3.3.2-2: no wildcards in a topic name.
        validate_topic_name(topic).map_err(DecodeError::InvalidTopicName)?;
    } else if !version.is_v5() {
        // MQTT-4.7.3-1
        return Err(DecodeError::InvalidTopicName(TopicError::Empty));
    }
    let packet_id = if qos == QoS::AtMostOnce {
        None
    } else {
        let id = r.u16()?;
        if id == 0 {
            // MQTT-2.2.1-3; 3.1.1: MQTT-2.3.1-1
            return Err(DecodeError::ZeroPacketId {
                packet_type: PUBLISH,
            });
        }
        Some(id)
    };
    let properties = if version.is_v5() {
        let properties = Properties::read(r, Scope::of(PUBLISH))?;
        if topic.is_empty() && properties.topic_alias.is_none() {
            // Section 3.3.2.3.4: a zero-length topic name without a Topic Alias is a Protocol
            // Error.
            return Err(DecodeError::MissingTopicName);
        }
        properties
    } else {
        Properties::default()
    };
    Ok(Publish {
        dup: flags & DUP != 0,
        qos,
        retain: flags & RETAIN != 0,
        topic: topic.into(),
        packet_id,
        properties,
        payload: r.rest(),
    })
}
