//! The MQTT 3.1, 3.1.1 and 5.0 packet codec: one packet model for all versions, strict
//! validation with typed errors, and a streaming decoder.
//!
//! - [`encode`] appends one packet to a caller's buffer, after checking everything it writes.
//! - [`decode_packet`] decodes exactly one complete packet.
//! - [`StreamDecoder`] cuts packets out of a byte stream that arrives in pieces of any size.

mod ack;
mod connect;
mod control;
mod error;
pub mod packet;
pub mod properties;
mod publish;
mod reader;
pub mod reason;
mod stream;
mod subscribe;
mod writer;

use bytes::Bytes;

pub use connect::BRIDGE_BIT;
pub use error::{DecodeError, EncodeError};
pub use packet::*;
pub use properties::Properties;
pub use stream::StreamDecoder;

use reader::Reader;
use writer::{put_var_int, var_int_len, MAX_VAR_INT};

/// Appends `packet`, encoded for `version`, to `out`.
///
/// The packet is checked completely before anything is written, so on error `out` is unchanged.
/// For versions before 5 the MQTT 5 fields (reason codes, properties, subscription options
/// other than QoS) are left out. A CONNECT is encoded for its own `protocol`, whatever
/// `version` says.
pub fn encode(
    packet: &Packet,
    version: ProtocolVersion,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    check(packet, version)?;
    let body = body_len(packet, version);
    if body > MAX_VAR_INT {
        return Err(EncodeError::PacketTooLarge);
    }
    out.reserve(1 + var_int_len(body) + body);
    let start = out.len();
    out.push(first_byte(packet));
    put_var_int(out, body);
    write_body(packet, version, out);
    debug_assert_eq!(
        out.len() - start,
        1 + var_int_len(body) + body,
        "{packet:?}"
    );
    Ok(())
}

/// Appends all of a PUBLISH but its payload, for a payload of `payload_len` bytes that the caller
/// writes right after (e.g. copied straight from where it is, without making a [`Publish`] hold
/// it). `publish.payload` is left out whatever it holds. Checks and errors are [`encode`]'s, so
/// on error `out` is unchanged.
pub fn encode_publish_head(
    publish: &Publish,
    payload_len: usize,
    version: ProtocolVersion,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    publish::check(publish, version)?;
    let body = publish::body_len(publish, version) - publish.payload.len() + payload_len;
    if body > MAX_VAR_INT {
        return Err(EncodeError::PacketTooLarge);
    }
    out.push(((PacketType::Publish as u8) << 4) | publish::flags(publish));
    put_var_int(out, body);
    publish::write_head(publish, version, out);
    Ok(())
}

/// Checks that [`encode`] would succeed for `packet`, without writing it: the encoded size, or
/// the error `encode` would return. A caller that validates what it is given with this can
/// never be refused by `encode` later.
pub fn validate(packet: &Packet, version: ProtocolVersion) -> Result<usize, EncodeError> {
    check(packet, version)?;
    let body = body_len(packet, version);
    if body > MAX_VAR_INT {
        return Err(EncodeError::PacketTooLarge);
    }
    Ok(1 + var_int_len(body) + body)
}

/// Checks a UTF-8 string field as [`encode`] would: at most 65,535 bytes (1.5.4), no U+0000
/// (MQTT-1.5.4-2). For validating a field by itself, when it is given.
pub fn check_string(value: &str) -> Result<(), EncodeError> {
    writer::check_str(value, PacketType::Connect)
}

/// Checks a binary data field as [`encode`] would: at most 65,535 bytes (1.5.6).
pub fn check_binary(value: &[u8]) -> Result<(), EncodeError> {
    writer::check_bin(value, PacketType::Connect)
}

/// The number of bytes [`encode`] writes for `packet`, fixed header included: what the MQTT 5
/// Maximum Packet Size limits. Meaningful only for a packet that encodes without error.
pub fn encoded_len(packet: &Packet, version: ProtocolVersion) -> usize {
    let body = body_len(packet, version);
    1 + var_int_len(body) + body
}

/// Decodes exactly one complete packet (fixed header included) received on a connection that
/// speaks `version`; a CONNECT is decoded for the protocol level it carries.
///
/// PUBLISH payloads and binary fields are slices sharing `packet`'s memory.
pub fn decode_packet(packet: Bytes, version: ProtocolVersion) -> Result<Packet, DecodeError> {
    let first = *packet.first().ok_or(DecodeError::Incomplete)?;
    let packet_type = check_first_byte(first, version)?;
    let (remaining, header_len) =
        parse_remaining_length(&packet)?.ok_or(DecodeError::Incomplete)?;
    let total = header_len + remaining;
    if packet.len() < total {
        return Err(DecodeError::Truncated { packet_type });
    }
    if packet.len() > total {
        return Err(DecodeError::TrailingBytes { packet_type });
    }
    decode_body(&packet, header_len, first, packet_type, version)
}

/// Checks the first byte of a fixed header: a packet type that exists in `version` and the
/// flags the specification requires of it (MQTT-2.1.3-1; 3.1.1: MQTT-2.2.2-1, -2).
pub(crate) fn check_first_byte(
    byte: u8,
    version: ProtocolVersion,
) -> Result<PacketType, DecodeError> {
    use PacketType::*;
    let packet_type = match byte >> 4 {
        1 => Connect,
        2 => ConnAck,
        3 => Publish,
        4 => PubAck,
        5 => PubRec,
        6 => PubRel,
        7 => PubComp,
        8 => Subscribe,
        9 => SubAck,
        10 => Unsubscribe,
        11 => UnsubAck,
        12 => PingReq,
        13 => PingResp,
        14 => Disconnect,
        15 if version.is_v5() => Auth,
        t => return Err(DecodeError::ReservedPacketType(t)),
    };
    let flags = byte & 0x0F;
    match packet_type {
        Publish => {
            let qos = (flags >> 1) & 0b11;
            if qos == 3 {
                // MQTT-3.3.1-4
                return Err(DecodeError::InvalidQoS { packet_type });
            }
            if qos == 0 && flags & 0b1000 != 0 {
                // MQTT-3.3.1-2
                return Err(DecodeError::DupWithQoS0);
            }
        }
        // MQTT-3.6.1-1, MQTT-3.8.1-1, MQTT-3.10.1-1
        PubRel | Subscribe | Unsubscribe if flags != 0b0010 => {
            return Err(DecodeError::InvalidFlags { packet_type, flags });
        }
        PubRel | Subscribe | Unsubscribe => {}
        _ if flags != 0 => return Err(DecodeError::InvalidFlags { packet_type, flags }),
        _ => {}
    }
    Ok(packet_type)
}

/// The remaining length and the fixed header's size, or `None` when `buf` ends before the
/// remaining length does.
pub(crate) fn parse_remaining_length(buf: &[u8]) -> Result<Option<(usize, usize)>, DecodeError> {
    let mut value = 0usize;
    for i in 0..4 {
        let Some(&byte) = buf.get(1 + i) else {
            return Ok(None);
        };
        value |= usize::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some((value, 2 + i)));
        }
    }
    Err(DecodeError::MalformedVariableInteger)
}

/// Decodes the packet in `buf`, whose fixed header (`header_len` bytes, first byte `first`, of
/// type `packet_type`) was checked and whose length is exactly the packet's.
pub(crate) fn decode_body(
    buf: &Bytes,
    header_len: usize,
    first: u8,
    packet_type: PacketType,
    version: ProtocolVersion,
) -> Result<Packet, DecodeError> {
    let mut r = Reader::new(buf, header_len, packet_type);
    let packet = match packet_type {
        PacketType::Connect => Packet::Connect(Box::new(connect::decode_connect(&mut r)?)),
        PacketType::ConnAck => Packet::ConnAck(connect::decode_connack(&mut r, version)?),
        PacketType::Publish => Packet::Publish(publish::decode(&mut r, first & 0x0F, version)?),
        PacketType::PubAck => Packet::PubAck(ack::decode(&mut r, version)?),
        PacketType::PubRec => Packet::PubRec(ack::decode(&mut r, version)?),
        PacketType::PubRel => Packet::PubRel(ack::decode(&mut r, version)?),
        PacketType::PubComp => Packet::PubComp(ack::decode(&mut r, version)?),
        PacketType::Subscribe => Packet::Subscribe(subscribe::decode_subscribe(&mut r, version)?),
        PacketType::SubAck => Packet::SubAck(subscribe::decode_suback(&mut r, version)?),
        PacketType::Unsubscribe => {
            Packet::Unsubscribe(subscribe::decode_unsubscribe(&mut r, version)?)
        }
        PacketType::UnsubAck => Packet::UnsubAck(subscribe::decode_unsuback(&mut r, version)?),
        PacketType::PingReq => Packet::PingReq,
        PacketType::PingResp => Packet::PingResp,
        PacketType::Disconnect => Packet::Disconnect(control::decode_disconnect(&mut r, version)?),
        PacketType::Auth => Packet::Auth(control::decode_auth(&mut r)?),
    };
    r.finish()?;
    Ok(packet)
}

fn first_byte(packet: &Packet) -> u8 {
    let flags = match packet {
        Packet::Publish(p) => publish::flags(p),
        Packet::PubRel(_) | Packet::Subscribe(_) | Packet::Unsubscribe(_) => 0b0010,
        _ => 0,
    };
    ((packet.packet_type() as u8) << 4) | flags
}

fn check(packet: &Packet, version: ProtocolVersion) -> Result<(), EncodeError> {
    match packet {
        Packet::Connect(c) => connect::check_connect(c),
        Packet::ConnAck(c) => connect::check_connack(c, version),
        Packet::Publish(p) => publish::check(p, version),
        Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
            ack::check(a, packet.packet_type(), version)
        }
        Packet::Subscribe(s) => subscribe::check_subscribe(s, version),
        Packet::SubAck(s) => subscribe::check_suback(s, version),
        Packet::Unsubscribe(u) => subscribe::check_unsubscribe(u, version),
        Packet::UnsubAck(u) => subscribe::check_unsuback(u, version),
        Packet::PingReq | Packet::PingResp => Ok(()),
        Packet::Disconnect(d) => control::check_disconnect(d, version),
        Packet::Auth(a) => control::check_auth(a, version),
    }
}

fn body_len(packet: &Packet, version: ProtocolVersion) -> usize {
    match packet {
        Packet::Connect(c) => connect::connect_len(c),
        Packet::ConnAck(c) => connect::connack_len(c, version),
        Packet::Publish(p) => publish::body_len(p, version),
        Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
            ack::body_len(a, version)
        }
        Packet::Subscribe(s) => subscribe::subscribe_len(s, version),
        Packet::SubAck(s) => subscribe::suback_len(s, version),
        Packet::Unsubscribe(u) => subscribe::unsubscribe_len(u, version),
        Packet::UnsubAck(u) => subscribe::unsuback_len(u, version),
        Packet::PingReq | Packet::PingResp => 0,
        Packet::Disconnect(d) => control::disconnect_len(d, version),
        Packet::Auth(a) => control::auth_len(a),
    }
}

fn write_body(packet: &Packet, version: ProtocolVersion, out: &mut Vec<u8>) {
    match packet {
        Packet::Connect(c) => connect::write_connect(c, out),
        Packet::ConnAck(c) => connect::write_connack(c, version, out),
        Packet::Publish(p) => publish::write(p, version, out),
        Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
            ack::write(a, version, out)
        }
        Packet::Subscribe(s) => subscribe::write_subscribe(s, version, out),
        Packet::SubAck(s) => subscribe::write_suback(s, version, out),
        Packet::Unsubscribe(u) => subscribe::write_unsubscribe(u, version, out),
        Packet::UnsubAck(u) => subscribe::write_unsuback(u, version, out),
        Packet::PingReq | Packet::PingResp => {}
        Packet::Disconnect(d) => control::write_disconnect(d, version, out),
        Packet::Auth(a) => control::write_auth(a, out),
    }
}
