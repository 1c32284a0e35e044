//! Helpers for the validation tests: what must be refused, with which error and reason code.

use bytes::Bytes;
use wasmqtt::codec::{
    decode_packet, encode, DecodeError, EncodeError, Packet, ProtocolVersion, StreamDecoder,
};

use ProtocolVersion::{V3_1, V3_1_1, V5};

/// `bytes` is one whole packet that both `decode_packet` and the stream decoder refuse with
/// `error`, whose reason code is `reason`.
#[track_caller]
pub fn rejects(bytes: &[u8], version: ProtocolVersion, error: DecodeError, reason: u8) {
    assert_eq!(
        decode_packet(Bytes::copy_from_slice(bytes), version),
        Err(error),
        "{version:?}"
    );
    let mut stream = StreamDecoder::new(version, 0);
    stream.feed(bytes);
    assert_eq!(stream.next_packet(), Err(error), "stream, {version:?}");
    assert_eq!(error.reason_code(), reason, "reason code of {error:?}");
    assert!(!error.to_string().is_empty());
}

#[track_caller]
pub fn accepts(bytes: &[u8], version: ProtocolVersion) -> Packet {
    match decode_packet(Bytes::copy_from_slice(bytes), version) {
        Ok(packet) => packet,
        Err(e) => panic!("{bytes:02X?} must decode for {version:?}: {e}"),
    }
}

/// Encoding `packet` fails with `error` (reason code `reason`) and leaves the buffer as it was.
#[track_caller]
pub fn refuses(packet: &Packet, version: ProtocolVersion, error: EncodeError, reason: u8) {
    let mut out = vec![1, 2, 3];
    assert_eq!(encode(packet, version, &mut out), Err(error), "{version:?}");
    assert_eq!(out, [1, 2, 3], "a failed encode must not write");
    assert_eq!(error.reason_code(), reason, "reason code of {error:?}");
    assert!(!error.to_string().is_empty());
}

#[track_caller]
pub fn encodes(packet: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let mut out = Vec::new();
    encode(packet, version, &mut out).unwrap_or_else(|e| panic!("{packet:?}: {e}"));
    out
}

/// A CONNECT with client identifier "c" and the given flags, nothing else in its payload.
pub fn connect_bytes(version: ProtocolVersion, flags: u8) -> Vec<u8> {
    let mut body = match version {
        V3_1 => vec![0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 3],
        V3_1_1 => vec![0x00, 0x04, b'M', b'Q', b'T', b'T', 4],
        V5 => vec![0x00, 0x04, b'M', b'Q', b'T', b'T', 5],
    };
    body.extend_from_slice(&[flags, 0x00, 0x3C]);
    if version == V5 {
        body.push(0x00); // no properties
    }
    body.extend_from_slice(&[0x00, 0x01, b'c']);
    packet(0x10, &body)
}

/// A fixed header for `body`, which is shorter than 128 bytes.
pub fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    assert!(body.len() < 128);
    [&[first, body.len() as u8][..], body].concat()
}
