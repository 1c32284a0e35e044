//! The streaming decoder: WebSocket messages may hold part of a packet, one packet or many
//! (MQTT-6.0.0-2), so bytes are buffered until a whole packet is there.

use bytes::BytesMut;

use super::error::DecodeError;
use super::packet::{Packet, ProtocolVersion};
use super::{check_first_byte, decode_body, parse_remaining_length};

/// Cuts packets out of a byte stream fed in pieces of any size.
///
/// Each whole packet is split off the buffer and frozen, so the payloads and binary fields of
/// the packets it returns share the buffer's memory instead of being copied.
///
/// After [`next_packet`](StreamDecoder::next_packet) returns an error the decoder's state is
/// undefined: the connection must be closed, and the decoder dropped with it.
#[derive(Debug)]
pub struct StreamDecoder {
    buf: BytesMut,
    version: ProtocolVersion,
    max_packet_size: u32,
}

impl StreamDecoder {
    /// A decoder for packets of `version`, refusing any packet larger than `max_packet_size`
    /// bytes, fixed header included (MQTT 5's Maximum Packet Size). 0 means no limit but the
    /// protocol's own.
    pub fn new(version: ProtocolVersion, max_packet_size: u32) -> StreamDecoder {
        StreamDecoder {
            buf: BytesMut::new(),
            version,
            max_packet_size,
        }
    }

    /// Changes the version packets are decoded for, e.g. once a CONNACK settles it.
    pub fn set_version(&mut self, version: ProtocolVersion) {
        self.version = version;
    }

    pub fn set_max_packet_size(&mut self, max_packet_size: u32) {
        self.max_packet_size = max_packet_size;
    }

    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    pub fn max_packet_size(&self) -> u32 {
        self.max_packet_size
    }

    /// Bytes received and not yet returned as packets.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The bytes received and not yet returned as packets. Each packet returned is split off
    /// the front, where its memory stays: the packets of one run of `next_packet` lie, in order,
    /// between where `pending` started before the run and where it starts after.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// Appends received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The stream has ended: `Ok` when it ended between packets, else the error for the packet
    /// it cut short (`Incomplete` within the fixed header, `Truncated` within the body).
    pub fn finish(&self) -> Result<(), DecodeError> {
        let Some(&first) = self.buf.first() else {
            return Ok(());
        };
        let packet_type = check_first_byte(first, self.version)?;
        match parse_remaining_length(&self.buf)? {
            None => Err(DecodeError::Incomplete),
            Some(_) => Err(DecodeError::Truncated { packet_type }),
        }
    }

    /// The next whole packet, or `Ok(None)` until more bytes are fed.
    ///
    /// The remaining length is checked against the maximum packet size as soon as the fixed
    /// header is complete, before the body is waited for.
    pub fn next_packet(&mut self) -> Result<Option<Packet>, DecodeError> {
        let Some(&first) = self.buf.first() else {
            return Ok(None);
        };
        let packet_type = check_first_byte(first, self.version)?;
        let Some((remaining, header_len)) = parse_remaining_length(&self.buf)? else {
            return Ok(None);
        };
        let total = header_len + remaining;
        if self.max_packet_size != 0 && total > self.max_packet_size as usize {
            return Err(DecodeError::PacketTooLarge {
                size: total as u32,
                max: self.max_packet_size,
            });
        }
        if self.buf.len() < total {
            return Ok(None);
        }
        let frame = self.buf.split_to(total).freeze();
        decode_body(&frame, header_len, first, packet_type, self.version).map(Some)
    }
}
