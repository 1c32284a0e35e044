//! PUBACK, PUBREC, PUBREL and PUBCOMP (sections 3.4 to 3.7): a packet identifier, then in
//! MQTT 5 an optional reason code and optional properties.

use super::error::{DecodeError, EncodeError};
use super::packet::{Ack, PacketType, ProtocolVersion};
use super::properties::{Properties, Scope};
use super::reader::Reader;
use super::reason;
use super::writer::put_u16;

pub(crate) fn check(
    a: &Ack,
    packet_type: PacketType,
    version: ProtocolVersion,
) -> Result<(), EncodeError> {
    if a.packet_id == 0 {
        return Err(EncodeError::ZeroPacketId { packet_type });
    }
    if version.is_v5() {
        reason::check(packet_type, version, a.reason_code)?;
        a.properties.check(Scope::of(packet_type))?;
    }
    Ok(())
}

/// What follows the packet identifier in MQTT 5: nothing for success without properties, the
/// reason code alone without properties, or both (e.g. section 3.4.2.1).
enum Tail {
    None,
    Code,
    CodeAndProperties,
}

fn tail(a: &Ack, version: ProtocolVersion) -> Tail {
    if !version.is_v5() {
        Tail::None
    } else if !a.properties.is_empty() {
        Tail::CodeAndProperties
    } else if a.reason_code != 0 {
        Tail::Code
    } else {
        Tail::None
    }
}

pub(crate) fn body_len(a: &Ack, version: ProtocolVersion) -> usize {
    match tail(a, version) {
        Tail::None => 2,
        Tail::Code => 3,
        Tail::CodeAndProperties => 3 + a.properties.wire_len(),
    }
}

pub(crate) fn write(a: &Ack, version: ProtocolVersion, out: &mut Vec<u8>) {
    put_u16(out, a.packet_id);
    match tail(a, version) {
        Tail::None => {}
        Tail::Code => out.push(a.reason_code),
        Tail::CodeAndProperties => {
            out.push(a.reason_code);
            a.properties.write(out);
        }
    }
}

pub(crate) fn decode(r: &mut Reader<'_>, version: ProtocolVersion) -> Result<Ack, DecodeError> {
    let packet_type = r.packet_type();
    let packet_id = r.u16()?;
    if packet_id == 0 {
        return Err(DecodeError::ZeroPacketId { packet_type });
    }
    let mut ack = Ack::new(packet_id);
    if version.is_v5() && !r.is_empty() {
        ack.reason_code = r.u8()?;
        reason::check(packet_type, version, ack.reason_code)?;
        if !r.is_empty() {
            ack.properties = Properties::read(r, Scope::of(packet_type))?;
        }
    }
    Ok(ack)
}
