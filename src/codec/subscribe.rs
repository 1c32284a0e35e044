//! SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK (sections 3.8 to 3.11).

use super::error::{DecodeError, EncodeError};
use super::packet::{
    PacketType, ProtocolVersion, QoS, RetainHandling, SubAck, Subscribe, SubscriptionOptions,
    UnsubAck, Unsubscribe,
};
use super::properties::{Properties, Scope};
use super::reader::Reader;
use super::reason;
use super::writer::{field_len, put_str, put_u16};
use crate::topic::{split_shared, validate_topic_filter};

const SUBSCRIBE: PacketType = PacketType::Subscribe;
const SUBACK: PacketType = PacketType::SubAck;
const UNSUBSCRIBE: PacketType = PacketType::Unsubscribe;
const UNSUBACK: PacketType = PacketType::UnsubAck;

const NO_LOCAL: u8 = 0b0000_0100;
const RETAIN_AS_PUBLISHED: u8 = 0b0000_1000;
const RETAIN_HANDLING_SHIFT: u8 = 4;

fn is_shared(filter: &str) -> bool {
    split_shared(filter).is_some()
}

fn check_id(packet_id: u16, packet_type: PacketType) -> Result<(), EncodeError> {
    if packet_id == 0 {
        return Err(EncodeError::ZeroPacketId { packet_type });
    }
    Ok(())
}

fn read_id(r: &mut Reader<'_>) -> Result<u16, DecodeError> {
    let id = r.u16()?;
    if id == 0 {
        // MQTT-2.2.1-3; 3.1.1: MQTT-2.3.1-1
        return Err(DecodeError::ZeroPacketId {
            packet_type: r.packet_type(),
        });
    }
    Ok(id)
}

fn read_properties(
    r: &mut Reader<'_>,
    version: ProtocolVersion,
) -> Result<Properties, DecodeError> {
    if version.is_v5() {
        Properties::read(r, Scope::of(r.packet_type()))
    } else {
        Ok(Properties::default())
    }
}

fn properties_len(p: &Properties, version: ProtocolVersion) -> usize {
    if version.is_v5() {
        p.wire_len()
    } else {
        0
    }
}

fn write_properties(p: &Properties, version: ProtocolVersion, out: &mut Vec<u8>) {
    if version.is_v5() {
        p.write(out);
    }
}

fn options_byte(o: &SubscriptionOptions, version: ProtocolVersion) -> u8 {
    let mut byte = o.qos as u8;
    if version.is_v5() {
        if o.no_local {
            byte |= NO_LOCAL;
        }
        if o.retain_as_published {
            byte |= RETAIN_AS_PUBLISHED;
        }
        byte |= (o.retain_handling as u8) << RETAIN_HANDLING_SHIFT;
    }
    byte
}

fn parse_options(byte: u8, version: ProtocolVersion) -> Result<SubscriptionOptions, DecodeError> {
    let reserved = if version.is_v5() {
        0b1100_0000
    } else {
        0b1111_1100
    };
    if byte & reserved != 0 {
        // MQTT-3.8.3-5; 3.1.1: MQTT-3-8.3-4
        return Err(DecodeError::InvalidSubscriptionOptions);
    }
    let qos = QoS::from_u8(byte & 0b11).ok_or(DecodeError::InvalidQoS {
        packet_type: SUBSCRIBE,
    })?;
    let retain_handling = match (byte >> RETAIN_HANDLING_SHIFT) & 0b11 {
        0 => RetainHandling::SendAtSubscribe,
        1 => RetainHandling::SendAtSubscribeIfNew,
        2 => RetainHandling::DoNotSend,
        // Section 3.8.3.1: a Protocol Error.
        _ => return Err(DecodeError::InvalidRetainHandling),
    };
    Ok(SubscriptionOptions {
        qos,
        no_local: byte & NO_LOCAL != 0,
        retain_as_published: byte & RETAIN_AS_PUBLISHED != 0,
        retain_handling,
    })
}

pub(crate) fn check_subscribe(s: &Subscribe, version: ProtocolVersion) -> Result<(), EncodeError> {
    check_id(s.packet_id, SUBSCRIBE)?;
    if version.is_v5() {
        s.properties.check(Scope::of(SUBSCRIBE))?;
    }
    if s.filters.is_empty() {
        return Err(EncodeError::NoTopicFilters {
            packet_type: SUBSCRIBE,
        });
    }
    for (filter, options) in &s.filters {
        validate_topic_filter(filter).map_err(EncodeError::InvalidTopicFilter)?;
        if version.is_v5() && options.no_local && is_shared(filter) {
            return Err(EncodeError::NoLocalOnSharedSubscription);
        }
    }
    Ok(())
}

pub(crate) fn subscribe_len(s: &Subscribe, version: ProtocolVersion) -> usize {
    let filters: usize = s
        .filters
        .iter()
        .map(|(f, _)| field_len(f.as_bytes()) + 1)
        .sum();
    2 + properties_len(&s.properties, version) + filters
}

pub(crate) fn write_subscribe(s: &Subscribe, version: ProtocolVersion, out: &mut Vec<u8>) {
    put_u16(out, s.packet_id);
    write_properties(&s.properties, version, out);
    for (filter, options) in &s.filters {
        put_str(out, filter);
        out.push(options_byte(options, version));
    }
}

pub(crate) fn decode_subscribe(
    r: &mut Reader<'_>,
    version: ProtocolVersion,
) -> Result<Subscribe, DecodeError> {
    let packet_id = read_id(r)?;
    let properties = read_properties(r, version)?;
    let mut filters = Vec::new();
    while !r.is_empty() {
        let filter = r.str()?;
        validate_topic_filter(filter).map_err(DecodeError::InvalidTopicFilter)?;
        let options = parse_options(r.u8()?, version)?;
        if options.no_local && is_shared(filter) {
            // MQTT-3.8.3-4
            return Err(DecodeError::NoLocalOnSharedSubscription);
        }
        filters.push((filter.into(), options));
    }
    if filters.is_empty() {
        // MQTT-3.8.3-2; 3.1.1: MQTT-3.8.3-3
        return Err(DecodeError::NoTopicFilters {
            packet_type: SUBSCRIBE,
        });
    }
    Ok(Subscribe {
        packet_id,
        properties,
        filters,
    })
}

/// Checks each code of a SUBACK or UNSUBACK against its packet type's table in `version`.
fn check_codes(
    codes: &[u8],
    packet_type: PacketType,
    version: ProtocolVersion,
) -> Result<(), reason::NotAllowed> {
    codes
        .iter()
        .try_for_each(|&code| reason::check(packet_type, version, code))
}

/// A 3.1.1 SUBACK return code for a 5.0 SUBACK code: granted QoS as is, any failure as 0x80.
fn v3_return_code(code: u8) -> u8 {
    if reason::is_failure(code) {
        reason::UNSPECIFIED_ERROR
    } else {
        code
    }
}

pub(crate) fn check_suback(s: &SubAck, version: ProtocolVersion) -> Result<(), EncodeError> {
    check_id(s.packet_id, SUBACK)?;
    // The model holds 5.0 codes whatever the version (a 3.1.1 one gets its failures as 0x80),
    // so every version is checked against the 5.0 table, whose granted QoS and 0x80 are 3.1.1's.
    check_codes(&s.reason_codes, SUBACK, ProtocolVersion::V5)?;
    if version.is_v5() {
        s.properties.check(Scope::of(SUBACK))?;
    }
    Ok(())
}

pub(crate) fn suback_len(s: &SubAck, version: ProtocolVersion) -> usize {
    2 + properties_len(&s.properties, version) + s.reason_codes.len()
}

pub(crate) fn write_suback(s: &SubAck, version: ProtocolVersion, out: &mut Vec<u8>) {
    put_u16(out, s.packet_id);
    if version.is_v5() {
        s.properties.write(out);
        out.extend_from_slice(&s.reason_codes);
    } else {
        out.extend(s.reason_codes.iter().map(|&c| v3_return_code(c)));
    }
}

pub(crate) fn decode_suback(
    r: &mut Reader<'_>,
    version: ProtocolVersion,
) -> Result<SubAck, DecodeError> {
    let packet_id = read_id(r)?;
    let properties = read_properties(r, version)?;
    let reason_codes = r.rest().to_vec();
    // MQTT-3.9.3-2; 3.1.1: MQTT-3.9.3-2
    check_codes(&reason_codes, SUBACK, version)?;
    Ok(SubAck {
        packet_id,
        properties,
        reason_codes,
    })
}

pub(crate) fn check_unsubscribe(
    u: &Unsubscribe,
    version: ProtocolVersion,
) -> Result<(), EncodeError> {
    check_id(u.packet_id, UNSUBSCRIBE)?;
    if version.is_v5() {
        u.properties.check(Scope::of(UNSUBSCRIBE))?;
    }
    if u.filters.is_empty() {
        return Err(EncodeError::NoTopicFilters {
            packet_type: UNSUBSCRIBE,
        });
    }
    for filter in &u.filters {
        validate_topic_filter(filter).map_err(EncodeError::InvalidTopicFilter)?;
    }
    Ok(())
}

pub(crate) fn unsubscribe_len(u: &Unsubscribe, version: ProtocolVersion) -> usize {
    let filters: usize = u.filters.iter().map(|f| field_len(f.as_bytes())).sum();
    2 + properties_len(&u.properties, version) + filters
}

pub(crate) fn write_unsubscribe(u: &Unsubscribe, version: ProtocolVersion, out: &mut Vec<u8>) {
    put_u16(out, u.packet_id);
    write_properties(&u.properties, version, out);
    for filter in &u.filters {
        put_str(out, filter);
    }
}

pub(crate) fn decode_unsubscribe(
    r: &mut Reader<'_>,
    version: ProtocolVersion,
) -> Result<Unsubscribe, DecodeError> {
    let packet_id = read_id(r)?;
    let properties = read_properties(r, version)?;
    let mut filters = Vec::new();
    while !r.is_empty() {
        let filter = r.str()?;
        validate_topic_filter(filter).map_err(DecodeError::InvalidTopicFilter)?;
        filters.push(filter.into());
    }
    if filters.is_empty() {
        // MQTT-3.10.3-2
        return Err(DecodeError::NoTopicFilters {
            packet_type: UNSUBSCRIBE,
        });
    }
    Ok(Unsubscribe {
        packet_id,
        properties,
        filters,
    })
}

pub(crate) fn check_unsuback(u: &UnsubAck, version: ProtocolVersion) -> Result<(), EncodeError> {
    check_id(u.packet_id, UNSUBACK)?;
    if version.is_v5() {
        check_codes(&u.reason_codes, UNSUBACK, version)?;
        u.properties.check(Scope::of(UNSUBACK))?;
    }
    Ok(())
}

pub(crate) fn unsuback_len(u: &UnsubAck, version: ProtocolVersion) -> usize {
    if version.is_v5() {
        2 + u.properties.wire_len() + u.reason_codes.len()
    } else {
        2
    }
}

pub(crate) fn write_unsuback(u: &UnsubAck, version: ProtocolVersion, out: &mut Vec<u8>) {
    put_u16(out, u.packet_id);
    if version.is_v5() {
        u.properties.write(out);
        out.extend_from_slice(&u.reason_codes);
    }
}

pub(crate) fn decode_unsuback(
    r: &mut Reader<'_>,
    version: ProtocolVersion,
) -> Result<UnsubAck, DecodeError> {
    let packet_id = read_id(r)?;
    let (properties, reason_codes) = if version.is_v5() {
        let properties = read_properties(r, version)?;
        let codes = r.rest().to_vec();
        // MQTT-3.11.3-2
        check_codes(&codes, UNSUBACK, version)?;
        (properties, codes)
    } else {
        // A 3.1.1 UNSUBACK is the packet identifier alone (section 3.11.3).
        (Properties::default(), Vec::new())
    };
    Ok(UnsubAck {
        packet_id,
        properties,
        reason_codes,
    })
}
