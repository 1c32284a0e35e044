//! DISCONNECT (section 3.14) and AUTH (section 3.15, MQTT 5 only). Both may be just a fixed
//! header, meaning reason code 0x00 without properties.

use super::error::{DecodeError, EncodeError};
use super::packet::{Auth, Disconnect, PacketType, ProtocolVersion};
use super::properties::{Properties, Scope};
use super::reader::Reader;
use super::reason;

const DISCONNECT: PacketType = PacketType::Disconnect;
const AUTH: PacketType = PacketType::Auth;

pub(crate) fn check_disconnect(
    d: &Disconnect,
    version: ProtocolVersion,
) -> Result<(), EncodeError> {
    if version.is_v5() {
        reason::check(DISCONNECT, version, d.reason_code)?;
        d.properties.check(Scope::of(DISCONNECT))?;
    }
    Ok(())
}

pub(crate) fn disconnect_len(d: &Disconnect, version: ProtocolVersion) -> usize {
    if !version.is_v5() {
        0
    } else if !d.properties.is_empty() {
        1 + d.properties.wire_len()
    } else if d.reason_code != 0 {
        // Section 3.14.2.2.1: no Property Length when the Remaining Length is under 2.
        1
    } else {
        0
    }
}

pub(crate) fn write_disconnect(d: &Disconnect, version: ProtocolVersion, out: &mut Vec<u8>) {
    match disconnect_len(d, version) {
        0 => {}
        1 => out.push(d.reason_code),
        _ => {
            out.push(d.reason_code);
            d.properties.write(out);
        }
    }
}

/// Reads an optional reason code, checked against the packet type's table, and optional
/// properties (MQTT 5).
fn code_and_properties(r: &mut Reader<'_>) -> Result<(u8, Properties), DecodeError> {
    if r.is_empty() {
        return Ok((0, Properties::default()));
    }
    let code = r.u8()?;
    reason::check(r.packet_type(), ProtocolVersion::V5, code)?;
    if r.is_empty() {
        return Ok((code, Properties::default()));
    }
    let properties = Properties::read(r, Scope::of(r.packet_type()))?;
    Ok((code, properties))
}

pub(crate) fn decode_disconnect(
    r: &mut Reader<'_>,
    version: ProtocolVersion,
) -> Result<Disconnect, DecodeError> {
    if !version.is_v5() {
        // A 3.1.1 DISCONNECT is the fixed header alone; trailing bytes are refused by the caller.
        return Ok(Disconnect::default());
    }
    let (reason_code, properties) = code_and_properties(r)?;
    Ok(Disconnect {
        reason_code,
        properties,
    })
}

pub(crate) fn check_auth(a: &Auth, version: ProtocolVersion) -> Result<(), EncodeError> {
    if !version.is_v5() {
        return Err(EncodeError::NotInVersion { packet_type: AUTH });
    }
    reason::check(AUTH, version, a.reason_code)?;
    a.properties.check(Scope::of(AUTH))
}

pub(crate) fn auth_len(a: &Auth) -> usize {
    if a.reason_code == 0 && a.properties.is_empty() {
        // Section 3.15.2.1: Remaining Length 0 means success without properties.
        0
    } else {
        1 + a.properties.wire_len()
    }
}

pub(crate) fn write_auth(a: &Auth, out: &mut Vec<u8>) {
    if auth_len(a) != 0 {
        out.push(a.reason_code);
        a.properties.write(out);
    }
}

pub(crate) fn decode_auth(r: &mut Reader<'_>) -> Result<Auth, DecodeError> {
    let (reason_code, properties) = code_and_properties(r)?;
    Ok(Auth {
        reason_code,
        properties,
    })
}
