//! Hostile input: random bytes and random mutations of valid packets, fed to the decoders of
//! every version. Nothing may panic, and whatever decodes must re-encode to a packet that
//! decodes to itself. (`fuzz/` runs the same check under libFuzzer; see scripts/fuzz.sh.)
#![cfg(not(target_arch = "wasm32"))] // host-only: proptest and friends

mod common;

use bytes::Bytes;
use common::{encode_all, packets, VERSIONS};
use proptest::prelude::*;
use wasmqtt::codec::{decode_packet, encode, Packet, ProtocolVersion, StreamDecoder};

/// A decoded packet is one the encoder accepts, and its encoding decodes to it again.
fn check_consistent(packet: &Packet, version: ProtocolVersion) {
    let mut bytes = Vec::new();
    encode(packet, version, &mut bytes)
        .unwrap_or_else(|e| panic!("decoded {packet:?} does not encode: {e}"));
    let again = decode_packet(Bytes::from(bytes), version)
        .unwrap_or_else(|e| panic!("re-encoded {packet:?} does not decode: {e}"));
    assert_eq!(&again, packet);
}

/// Feeds `bytes` in pieces of the given sizes, decoding as much as possible after each, and
/// stops at the first error; also decodes `bytes` whole with `decode_packet`.
fn feed(version: ProtocolVersion, max: u32, bytes: &[u8], sizes: &[usize]) {
    if let Ok(packet) = decode_packet(Bytes::copy_from_slice(bytes), version) {
        check_consistent(&packet, version);
    }
    let mut decoder = StreamDecoder::new(version, max);
    let mut rest = bytes;
    let mut sizes = sizes.iter().copied().cycle();
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(rest.len()).clamp(1, rest.len());
        decoder.feed(&rest[..n]);
        rest = &rest[n..];
        loop {
            match decoder.next_packet() {
                Ok(Some(packet)) => check_consistent(&packet, version),
                Ok(None) => break,
                Err(_) => return, // the connection would be closed
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(prop::sample::Index, u8),
    Insert(prop::sample::Index, u8),
    Remove(prop::sample::Index),
    Truncate(prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        1 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => any::<prop::sample::Index>().prop_map(Mutation::Remove),
        1 => any::<prop::sample::Index>().prop_map(Mutation::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    match m {
        Mutation::Insert(i, b) => bytes.insert(i.index(bytes.len() + 1), *b),
        _ if bytes.is_empty() => {}
        Mutation::Set(i, b) => {
            let i = i.index(bytes.len());
            bytes[i] = *b;
        }
        Mutation::Remove(i) => {
            bytes.remove(i.index(bytes.len()));
        }
        Mutation::Truncate(i) => bytes.truncate(i.index(bytes.len())),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn random_bytes_never_panic_and_what_decodes_is_consistent(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        sizes in prop::collection::vec(1..64usize, 1..8),
        max in prop_oneof![Just(0u32), 2..512u32],
    ) {
        for version in VERSIONS {
            feed(version, max, &bytes, &sizes);
        }
    }

    #[test]
    fn mutated_valid_packets_never_panic_and_what_decodes_is_consistent(
        (version, packets) in packets(),
        mutations in prop::collection::vec(mutation(), 1..4),
        sizes in prop::collection::vec(1..64usize, 1..8),
    ) {
        let mut bytes = encode_all(&packets, version);
        for m in &mutations {
            apply(&mut bytes, m);
        }
        // Read as the version it was written for, and as the others.
        feed(version, 0, &bytes, &sizes);
        for other in VERSIONS.into_iter().filter(|&v| v != version) {
            feed(other, 0, &bytes, &sizes);
        }
    }
}

#[test]
fn a_stream_of_hostile_lengths_buffers_only_what_was_fed() {
    // A remaining length of 268 435 455 with no limit: the decoder waits, holding the five
    // bytes it was given and reserving nothing on the length field's word.
    let mut decoder = StreamDecoder::new(ProtocolVersion::V5, 0);
    decoder.feed(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F]);
    assert_eq!(decoder.next_packet(), Ok(None));
    assert_eq!(decoder.buffered(), 5);
}
