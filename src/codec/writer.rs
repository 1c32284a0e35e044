//! Writing primitive fields straight into the caller's buffer, and the sizes and checks that go
//! with them. Every `put_*` assumes its value was checked first: encoding validates a packet
//! completely before it writes a byte.

use super::error::EncodeError;
use super::packet::PacketType;

/// The largest value a variable byte integer holds, so the largest remaining length.
pub(crate) const MAX_VAR_INT: usize = 268_435_455;

pub(crate) fn var_int_len(value: usize) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

pub(crate) fn put_var_int(out: &mut Vec<u8>, mut value: usize) {
    debug_assert!(value <= MAX_VAR_INT);
    loop {
        let byte = (value & 0x7F) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

pub(crate) fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

pub(crate) fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// A two-byte length, then the bytes: UTF-8 strings and binary data alike.
pub(crate) fn put_bin(out: &mut Vec<u8>, value: &[u8]) {
    debug_assert!(value.len() <= usize::from(u16::MAX));
    put_u16(out, value.len() as u16);
    out.extend_from_slice(value);
}

pub(crate) fn put_str(out: &mut Vec<u8>, value: &str) {
    put_bin(out, value.as_bytes());
}

/// Bytes on the wire of a string or binary field.
pub(crate) fn field_len(value: &[u8]) -> usize {
    2 + value.len()
}

pub(crate) fn check_bin(value: &[u8], packet_type: PacketType) -> Result<(), EncodeError> {
    if value.len() > usize::from(u16::MAX) {
        return Err(EncodeError::FieldTooLong { packet_type });
    }
    Ok(())
}

/// A UTF-8 string field: at most 65 535 bytes, without U+0000 (MQTT-1.5.4-2).
pub(crate) fn check_str(value: &str, packet_type: PacketType) -> Result<(), EncodeError> {
    check_bin(value.as_bytes(), packet_type)?;
    if value.as_bytes().contains(&0) {
        return Err(EncodeError::NullCharacter { packet_type });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_byte_integers_use_the_fewest_bytes() {
        // MQTT-1.5.5-1
        for (value, bytes) in [
            (0usize, &[0x00][..]),
            (127, &[0x7F]),
            (128, &[0x80, 0x01]),
            (16_383, &[0xFF, 0x7F]),
            (16_384, &[0x80, 0x80, 0x01]),
            (2_097_151, &[0xFF, 0xFF, 0x7F]),
            (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
            (268_435_455, &[0xFF, 0xFF, 0xFF, 0x7F]),
        ] {
            let mut out = Vec::new();
            put_var_int(&mut out, value);
            assert_eq!(out, bytes, "{value}");
            assert_eq!(var_int_len(value), bytes.len());
        }
    }

    #[test]
    fn strings_are_length_prefixed_big_endian() {
        let mut out = Vec::new();
        put_str(&mut out, "ab");
        put_u16(&mut out, 0x0102);
        put_u32(&mut out, 0x0304_0506);
        assert_eq!(out, [0, 2, b'a', b'b', 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn strings_over_65535_bytes_or_with_nul_are_refused() {
        let t = PacketType::Publish;
        assert_eq!(check_str(&"x".repeat(65_535), t), Ok(()));
        assert_eq!(
            check_str(&"x".repeat(65_536), t),
            Err(EncodeError::FieldTooLong { packet_type: t })
        );
        assert_eq!(
            check_str("a\0", t),
            Err(EncodeError::NullCharacter { packet_type: t })
        );
    }
}
