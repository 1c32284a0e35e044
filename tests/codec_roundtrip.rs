//! Round trips of valid packets through the encoder and decoder, and the streaming decoder fed
//! the same bytes cut at every boundary (MQTT-6.0.0-2: a WebSocket message may hold part of a
//! packet, one packet or many).
#![cfg(not(target_arch = "wasm32"))] // host-only: proptest and friends

mod common;

use bytes::Bytes;
use common::{encode_all, packet, packets, version};
use proptest::prelude::*;
use wasmqtt::codec::{
    decode_packet, encode, encode_publish_head, encoded_len, DecodeError, EncodeError, Packet,
    ProtocolVersion, Publish, StreamDecoder,
};

/// Feeds `chunks` one after the other, taking every packet available after each.
fn decode_chunks<'a>(
    version: ProtocolVersion,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<Packet>, DecodeError> {
    let mut decoder = StreamDecoder::new(version, 0);
    let mut packets = Vec::new();
    for chunk in chunks {
        decoder.feed(chunk);
        while let Some(p) = decoder.next_packet()? {
            packets.push(p);
        }
    }
    assert_eq!(
        decoder.buffered(),
        0,
        "a whole stream leaves nothing behind"
    );
    Ok(packets)
}

/// `bytes` cut at the given sorted offsets.
fn cut(bytes: &[u8], mut offsets: Vec<usize>) -> Vec<&[u8]> {
    offsets.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for offset in offsets.into_iter().chain([bytes.len()]) {
        let offset = offset.min(bytes.len());
        chunks.push(&bytes[start.min(offset)..offset]);
        start = start.max(offset);
    }
    chunks
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn every_valid_packet_decodes_to_itself_and_encodes_to_the_same_bytes(
        (version, packet) in version().prop_flat_map(|v| (Just(v), packet(v)))
    ) {
        let mut bytes = Vec::new();
        encode(&packet, version, &mut bytes).unwrap();
        prop_assert_eq!(encoded_len(&packet, version), bytes.len());
        let decoded = decode_packet(Bytes::from(bytes.clone()), version).unwrap();
        prop_assert_eq!(&decoded, &packet);
        let mut again = Vec::new();
        encode(&decoded, version, &mut again).unwrap();
        prop_assert_eq!(again, bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn a_publish_head_then_its_payload_are_the_bytes_of_the_whole_publish(
        (version, packet) in version().prop_flat_map(|v| (Just(v), packet(v)))
    ) {
        let Packet::Publish(publish) = packet else { return Ok(()) };
        let mut whole = Vec::new();
        encode(&Packet::Publish(publish.clone()), version, &mut whole).unwrap();
        // The head ignores whatever payload the Publish holds.
        let payload = publish.payload.clone();
        let without = Publish { payload: Bytes::from_static(b"ignored"), ..publish };
        let mut pieces = Vec::new();
        encode_publish_head(&without, payload.len(), version, &mut pieces).unwrap();
        pieces.extend_from_slice(&payload);
        prop_assert_eq!(pieces, whole);
    }
}

#[test]
fn a_publish_head_is_checked_like_the_whole_publish() {
    let publish = Publish {
        dup: false,
        qos: wasmqtt::codec::QoS::AtMostOnce,
        retain: false,
        topic: "a/+".into(),
        packet_id: None,
        properties: Default::default(),
        payload: Bytes::new(),
    };
    let mut out = vec![1];
    let error = EncodeError::InvalidTopicName(wasmqtt::topic::TopicError::WildcardInName);
    assert_eq!(
        encode_publish_head(&publish, 10, ProtocolVersion::V5, &mut out),
        Err(error)
    );
    let ok = Publish {
        topic: "a".into(),
        ..publish
    };
    // A remaining length over 268 435 455 bytes cannot be written (section 1.5.5).
    assert_eq!(
        encode_publish_head(&ok, 268_435_455, ProtocolVersion::V5, &mut out),
        Err(EncodeError::PacketTooLarge)
    );
    assert_eq!(out, [1], "nothing is written on error");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_stream_cut_anywhere_into_any_number_of_pieces_yields_the_same_packets(
        (version, packets) in packets(),
        offsets in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let bytes = encode_all(&packets, version);
        let offsets = offsets.iter().map(|i| i.index(bytes.len() + 1)).collect();
        prop_assert_eq!(decode_chunks(version, cut(&bytes, offsets)).unwrap(), packets);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_stream_cut_at_every_single_boundary_yields_the_same_packets(
        (version, packets) in packets()
    ) {
        let bytes = encode_all(&packets, version);
        for i in 0..=bytes.len() {
            let decoded = decode_chunks(version, [&bytes[..i], &bytes[i..]]).unwrap();
            prop_assert_eq!(&decoded, &packets, "cut at {}", i);
        }
        let one_byte_at_a_time = decode_chunks(version, bytes.chunks(1)).unwrap();
        prop_assert_eq!(one_byte_at_a_time, packets);
    }
}

#[test]
fn several_packets_in_one_message_come_out_one_by_one_and_then_none() {
    let mut decoder = StreamDecoder::new(ProtocolVersion::V3_1_1, 0);
    decoder.feed(&[0xD0, 0x00, 0xD0, 0x00, 0x40, 0x02, 0x00]);
    assert_eq!(decoder.next_packet(), Ok(Some(Packet::PingResp)));
    assert_eq!(decoder.next_packet(), Ok(Some(Packet::PingResp)));
    assert_eq!(decoder.next_packet(), Ok(None));
    assert_eq!(decoder.buffered(), 3);
    decoder.feed(&[0x01]);
    assert!(matches!(decoder.next_packet(), Ok(Some(Packet::PubAck(a))) if a.packet_id == 1));
    assert_eq!(decoder.next_packet(), Ok(None));
}

#[test]
fn payloads_from_the_stream_are_slices_of_one_buffer_not_copies() {
    let mut decoder = StreamDecoder::new(ProtocolVersion::V3_1_1, 0);
    // two QoS 0 PUBLISH packets to topic "t": payloads "ab" and "cd"
    decoder.feed(&[
        0x30, 0x05, 0x00, 0x01, b't', b'a', b'b', 0x30, 0x05, 0x00, 0x01, b't', b'c', b'd',
    ]);
    let Ok(Some(Packet::Publish(first))) = decoder.next_packet() else {
        panic!()
    };
    let Ok(Some(Packet::Publish(second))) = decoder.next_packet() else {
        panic!()
    };
    assert_eq!(
        (&first.payload[..], &second.payload[..]),
        (&b"ab"[..], &b"cd"[..])
    );
    // 7 bytes apart: where they were in the fed buffer.
    assert_eq!(
        second.payload.as_ptr() as usize - first.payload.as_ptr() as usize,
        7
    );
}

#[test]
fn the_version_can_change_between_packets() {
    let mut decoder = StreamDecoder::new(ProtocolVersion::V3_1_1, 0);
    // a 3.1.1 PUBACK, then the same bytes read as 5.0 with a reason code
    decoder.feed(&[0x40, 0x02, 0x00, 0x01]);
    assert!(decoder.next_packet().unwrap().is_some());
    decoder.set_version(ProtocolVersion::V5);
    assert_eq!(decoder.version(), ProtocolVersion::V5);
    decoder.feed(&[0x40, 0x03, 0x00, 0x01, 0x10]);
    let Ok(Some(Packet::PubAck(a))) = decoder.next_packet() else {
        panic!()
    };
    assert_eq!(a.reason_code, 0x10);
}
