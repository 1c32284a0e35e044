//! A bounds-checked reader over one packet's bytes. Binary fields and the PUBLISH payload come
//! out as `Bytes` slices of the packet: nothing is copied but strings.

use bytes::Bytes;

use super::error::DecodeError;
use super::packet::PacketType;

pub(crate) struct Reader<'a> {
    buf: &'a Bytes,
    pos: usize,
    end: usize,
    packet_type: PacketType,
}

impl<'a> Reader<'a> {
    /// Reads `buf[start..]` as the body of a packet of type `packet_type`.
    pub(crate) fn new(buf: &'a Bytes, start: usize, packet_type: PacketType) -> Reader<'a> {
        debug_assert!(start <= buf.len());
        Reader {
            buf,
            pos: start,
            end: buf.len(),
            packet_type,
        }
    }

    pub(crate) fn packet_type(&self) -> PacketType {
        self.packet_type
    }

    pub(crate) fn remaining(&self) -> usize {
        self.end - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos == self.end
    }

    pub(crate) fn truncated(&self) -> DecodeError {
        DecodeError::Truncated {
            packet_type: self.packet_type,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(self.truncated());
        }
        let all: &'a [u8] = self.buf.as_ref();
        let s = &all[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A variable byte integer (section 1.5.5); a fifth byte is malformed.
    pub(crate) fn var_int(&mut self) -> Result<u32, DecodeError> {
        let mut value = 0u32;
        for i in 0..4 {
            let byte = self.u8()?;
            value |= u32::from(byte & 0x7F) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::MalformedVariableInteger)
    }

    /// A UTF-8 encoded string: well-formed, without U+0000 (MQTT-1.5.4-1, -2).
    pub(crate) fn str(&mut self) -> Result<&'a str, DecodeError> {
        let len = usize::from(self.u16()?);
        let bytes = self.take(len)?;
        let s = core::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8)?;
        if bytes.contains(&0) {
            return Err(DecodeError::NullCharacter);
        }
        Ok(s)
    }

    pub(crate) fn string(&mut self) -> Result<String, DecodeError> {
        self.str().map(String::from)
    }

    /// Binary data (two-byte length, then bytes), shared with the packet buffer.
    pub(crate) fn binary(&mut self) -> Result<Bytes, DecodeError> {
        let len = usize::from(self.u16()?);
        if len > self.remaining() {
            return Err(self.truncated());
        }
        let b = self.buf.slice(self.pos..self.pos + len);
        self.pos += len;
        Ok(b)
    }

    /// Everything left, shared with the packet buffer (the PUBLISH payload).
    pub(crate) fn rest(&mut self) -> Bytes {
        let b = self.buf.slice(self.pos..self.end);
        self.pos = self.end;
        b
    }

    /// A reader over the next `len` bytes, which this reader skips.
    pub(crate) fn sub(&mut self, len: usize) -> Result<Reader<'a>, DecodeError> {
        if len > self.remaining() {
            return Err(self.truncated());
        }
        let sub = Reader {
            buf: self.buf,
            pos: self.pos,
            end: self.pos + len,
            packet_type: self.packet_type,
        };
        self.pos += len;
        Ok(sub)
    }

    /// Ends reading: every byte must have been consumed.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                packet_type: self.packet_type,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(bytes: &'static [u8]) -> (Bytes, PacketType) {
        (Bytes::from_static(bytes), PacketType::Publish)
    }

    #[test]
    fn variable_byte_integers_decode_the_spec_boundaries() {
        // MQTT 5 section 1.5.5, table 1-1.
        let cases: [(&'static [u8], u32); 8] = [
            (&[0x00], 0),
            (&[0x7F], 127),
            (&[0x80, 0x01], 128),
            (&[0xFF, 0x7F], 16_383),
            (&[0x80, 0x80, 0x01], 16_384),
            (&[0xFF, 0xFF, 0x7F], 2_097_151),
            (&[0x80, 0x80, 0x80, 0x01], 2_097_152),
            (&[0xFF, 0xFF, 0xFF, 0x7F], 268_435_455),
        ];
        for (bytes, value) in cases {
            let (b, t) = reader(bytes);
            let mut r = Reader::new(&b, 0, t);
            assert_eq!(r.var_int(), Ok(value));
            assert!(r.is_empty());
        }
    }

    #[test]
    fn a_variable_byte_integer_with_a_fifth_byte_is_malformed() {
        let (b, t) = reader(&[0xFF, 0xFF, 0xFF, 0xFF, 0x01]);
        assert_eq!(
            Reader::new(&b, 0, t).var_int(),
            Err(DecodeError::MalformedVariableInteger)
        );
    }

    #[test]
    fn a_sub_reader_rejects_what_it_does_not_consume() {
        let (b, t) = reader(&[0x00, 0x01, 0x02]);
        let mut r = Reader::new(&b, 0, t);
        let mut sub = r.sub(2).unwrap();
        assert_eq!(sub.u8(), Ok(0));
        assert_eq!(
            sub.finish(),
            Err(DecodeError::TrailingBytes { packet_type: t })
        );
        assert_eq!(r.u8(), Ok(2));
        assert!(r.sub(1).is_err());
    }

    #[test]
    fn strings_must_be_well_formed_utf8_without_nul() {
        // MQTT-1.5.4-1: a surrogate encoded in UTF-8 (ED A0 80) is not well-formed.
        let (b, t) = reader(&[0x00, 0x03, 0xED, 0xA0, 0x80]);
        assert_eq!(Reader::new(&b, 0, t).str(), Err(DecodeError::InvalidUtf8));
        // MQTT-1.5.4-2
        let (b, t) = reader(&[0x00, 0x02, b'a', 0x00]);
        assert_eq!(Reader::new(&b, 0, t).str(), Err(DecodeError::NullCharacter));
        let (b, t) = reader(&[0x00, 0x03, b'a', b'b']);
        assert_eq!(
            Reader::new(&b, 0, t).str(),
            Err(DecodeError::Truncated { packet_type: t })
        );
    }

    #[test]
    fn binary_fields_share_the_packet_buffer() {
        let (b, t) = reader(&[0x00, 0x02, 0xAA, 0xBB, 0xCC]);
        let mut r = Reader::new(&b, 0, t);
        let bin = r.binary().unwrap();
        assert_eq!(&bin[..], &[0xAA, 0xBB]);
        assert_eq!(bin.as_ptr(), b[2..].as_ptr());
        assert_eq!(&r.rest()[..], &[0xCC]);
    }
}
