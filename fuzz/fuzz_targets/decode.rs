//! Arbitrary bytes, cut into arbitrary pieces, fed to the stream decoder of every protocol
//! version; and whole to `decode_packet`. Nothing may panic or allocate without bound, and every
//! packet that decodes must re-encode to bytes that decode to the same packet.
//!
//! Input layout: byte 0 chooses the maximum packet size, bytes 1..5 are the piece sizes (used
//! in turn, 0 read as 1), the rest is the stream.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wasmqtt::codec::{decode_packet, encode, Packet, ProtocolVersion, StreamDecoder};

const VERSIONS: [ProtocolVersion; 3] = [
    ProtocolVersion::V3_1,
    ProtocolVersion::V3_1_1,
    ProtocolVersion::V5,
];

fn check_consistent(packet: &Packet, version: ProtocolVersion) {
    let mut bytes = Vec::new();
    if let Err(e) = encode(packet, version, &mut bytes) {
        panic!("decoded {packet:?} does not encode for {version:?}: {e}");
    }
    match decode_packet(Bytes::from(bytes), version) {
        Ok(again) => assert_eq!(&again, packet, "{version:?}"),
        Err(e) => panic!("re-encoded {packet:?} does not decode for {version:?}: {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let (head, stream) = data.split_at(5);
    let max = match head[0] {
        0..=127 => 0,
        n => u32::from(n - 126) * 8,
    };
    let sizes = [head[1], head[2], head[3], head[4]].map(|s| usize::from(s).max(1));

    for version in VERSIONS {
        if let Ok(packet) = decode_packet(Bytes::copy_from_slice(stream), version) {
            check_consistent(&packet, version);
        }

        let mut decoder = StreamDecoder::new(version, max);
        let mut rest = stream;
        let mut sizes = sizes.iter().cycle();
        'feed: while !rest.is_empty() {
            let n = (*sizes.next().unwrap()).min(rest.len());
            decoder.feed(&rest[..n]);
            rest = &rest[n..];
            loop {
                match decoder.next_packet() {
                    Ok(Some(packet)) => check_consistent(&packet, version),
                    Ok(None) => break,
                    Err(_) => break 'feed,
                }
            }
        }
    }
});
