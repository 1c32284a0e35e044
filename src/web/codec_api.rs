//! The low-level codec for JavaScript: the wasm half of `encodePacket`, `decodePackets` and
//! `PacketParser` (js/codec.js). Each call moves a whole chunk of packets, or one whole packet,
//! through memory both sides see (records, codec_record.rs), so crossing the boundary costs a
//! few calls per chunk instead of a few per field.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use super::codec_record::{self, type_name, BadRecord, ToEncode};
use super::error::{invalid_argument, mqtt_error};
use crate::api::{props, unpack, Value, Writer};
use crate::client::reason_code_name;
use crate::codec::{
    self, DecodeError, EncodeError, Packet, Properties, ProtocolVersion, StreamDecoder,
};

fn protocol(version: u8) -> Result<ProtocolVersion, JsValue> {
    match version {
        3 => Ok(ProtocolVersion::V3_1),
        4 => Ok(ProtocolVersion::V3_1_1),
        5 => Ok(ProtocolVersion::V5),
        _ => Err(invalid_argument(
            "version must be 3 (MQTT 3.1), 4 (3.1.1) or 5 (5.0)",
        )),
    }
}

fn decode_error(error: DecodeError) -> JsValue {
    let reason_code = error.reason_code();
    mqtt_error(
        &reason_code_name(reason_code),
        &format!("malformed MQTT input: {error}"),
        Some(reason_code),
        false,
    )
}

/// Record header words: the record's length in words, the number of packets, flags, where the
/// buffered bytes start in wasm memory once the input is appended, and how many of them were
/// buffered before it (so JavaScript can tell where a field lies in the input it gave).
const HEADER: usize = 5;
const COUNT: usize = 1;
const FLAGS: usize = 2;
const START: usize = 3;
const CARRIED: usize = 4;
/// The chunk ended in an error, after the packets before it.
const FAILED: u32 = 1;
/// Some packets have properties: JavaScript fetches them with `properties`.
const PROPERTIES: u32 = 2;

/// The records' constants, which js/codec.js reads once at load rather than keeping copies.
#[wasm_bindgen(js_name = recordLayout)]
pub fn record_layout() -> Object {
    fn object(entries: &[(&str, JsValue)]) -> Object {
        let object = Object::new();
        for (key, value) in entries {
            let _ = Reflect::set(&object, &(*key).into(), value);
        }
        object
    }
    let header = object(&[
        ("HEADER", HEADER.into()),
        ("COUNT", COUNT.into()),
        ("FLAGS", FLAGS.into()),
        ("START", START.into()),
        ("CARRIED", CARRIED.into()),
        ("FAILED", FAILED.into()),
        ("PROPERTIES", PROPERTIES.into()),
    ]);
    let types: Array = codec_record::TYPE_NAMES
        .iter()
        .map(|&name| JsValue::from(name))
        .collect();
    object(&[
        ("header", header.into()),
        ("TYPES", types.into()),
        ("TYPE_MASK", codec_record::TYPE_MASK.into()),
        ("HAS_PROPERTIES", codec_record::HAS_PROPERTIES.into()),
        (
            "HAS_WILL_PROPERTIES",
            codec_record::HAS_WILL_PROPERTIES.into(),
        ),
        ("NO_PACKET_ID", codec_record::NO_PACKET_ID.into()),
        ("REFUSED", REFUSED.into()),
    ])
}

/// Decodes a byte stream fed in chunks of any size into packet records.
#[wasm_bindgen]
pub struct CodecParser {
    decoder: StreamDecoder,
    input: Vec<u8>,
    /// The packets of the last chunk, kept alive while JavaScript reads their fields in place.
    packets: Vec<Packet>,
    record: Vec<u32>,
    error: Option<DecodeError>,
}

#[wasm_bindgen]
impl CodecParser {
    /// `max_packet_size` 0 means no limit but the protocol's own.
    #[wasm_bindgen(constructor)]
    pub fn new(version: u8, max_packet_size: u32) -> Result<CodecParser, JsValue> {
        Ok(CodecParser {
            decoder: StreamDecoder::new(protocol(version)?, max_packet_size),
            input: Vec::new(),
            packets: Vec::new(),
            record: Vec::new(),
            error: None,
        })
    }

    /// Where JavaScript writes the next `len` input bytes.
    pub fn input(&mut self, len: usize) -> *mut u8 {
        self.input.resize(len, 0);
        self.input.as_mut_ptr()
    }

    /// Decodes the `len` bytes written at `input` with whatever was buffered before, and returns
    /// the address of the record: the header, then one packet record per whole packet.
    pub fn push(&mut self, len: usize) -> *const u32 {
        self.packets.clear();
        self.record.clear();
        self.record.extend([0; HEADER]);
        let mut flags = 0;
        let carried = self.decoder.buffered() as u32;
        let mut start = 0;
        if self.error.is_none() {
            self.decoder.feed(&self.input[..len]);
            start = self.decoder.pending().as_ptr() as u32;
            loop {
                match self.decoder.next_packet() {
                    Ok(Some(packet)) => self.packets.push(packet),
                    Ok(None) => break,
                    Err(error) => {
                        self.error = Some(error);
                        break;
                    }
                }
            }
        }
        if self.error.is_some() {
            flags |= FAILED;
        }
        for packet in &self.packets {
            codec_record::write(packet, &mut self.record, &mut |b: &[u8]| b.as_ptr() as u32);
            if codec_record::properties_of(packet)
                .iter()
                .any(Option::is_some)
            {
                flags |= PROPERTIES;
            }
        }
        self.record[0] = self.record.len() as u32;
        self.record[COUNT] = self.packets.len() as u32;
        self.record[FLAGS] = flags;
        self.record[START] = start;
        self.record[CARRIED] = carried;
        self.record.as_ptr()
    }

    /// The properties objects of the last chunk's packets, in the order their records flag them,
    /// packed (src/api/value.rs; js/pack.js reads them).
    pub fn properties(&self) -> Vec<u8> {
        let mut w = Writer::new();
        for p in self
            .packets
            .iter()
            .flat_map(codec_record::properties_of)
            .flatten()
        {
            props::write(&mut w, p);
        }
        w.take()
    }

    /// The error that stopped decoding (an `MqttError` with the MQTT 5 reason code), if any.
    pub fn error(&self) -> JsValue {
        self.error.map_or(JsValue::UNDEFINED, decode_error)
    }

    /// The stream has ended: the error for a packet it cut short, if it did.
    pub fn finish(&self) -> JsValue {
        match self.error.map_or_else(|| self.decoder.finish(), Err) {
            Ok(()) => JsValue::UNDEFINED,
            Err(error) => decode_error(error),
        }
    }

    /// Bytes received and not yet returned as packets.
    #[wasm_bindgen(getter)]
    pub fn buffered(&self) -> usize {
        self.decoder.buffered()
    }
}

/// Encodes one packet at a time from a record JavaScript writes in place.
#[wasm_bindgen]
pub struct CodecEncoder {
    record: Vec<u32>,
    bytes: Vec<u8>,
    out: Vec<u8>,
    error: Option<JsValue>,
}

#[wasm_bindgen]
impl CodecEncoder {
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> CodecEncoder {
        CodecEncoder {
            record: Vec::new(),
            bytes: Vec::new(),
            out: Vec::new(),
            error: None,
        }
    }

    /// Grows the record to `words` words and the byte region to `bytes` bytes, keeping what was
    /// written; their addresses may change (see `record_ptr`, `bytes_ptr`).
    pub fn reserve(&mut self, words: usize, bytes: usize) {
        if self.record.len() < words {
            self.record.resize(words, 0);
        }
        if self.bytes.len() < bytes {
            self.bytes.resize(bytes, 0);
        }
    }

    pub fn record_ptr(&mut self) -> *mut u32 {
        self.record.as_mut_ptr()
    }

    pub fn bytes_ptr(&mut self) -> *mut u8 {
        self.bytes.as_mut_ptr()
    }

    /// Encodes the packet in the record for `version`; returns its length (the bytes are at
    /// `out_ptr`), of a PUBLISH all but the payload, which JavaScript appends. Returns `REFUSED`
    /// when the packet breaks a rule of the protocol: `error` then gives the `MqttError`
    /// (`INVALID_ARGUMENT`, with the MQTT 5 reason code a receiver would answer).
    ///
    /// A number rather than a `Result`: that would cost an array per call.
    pub fn encode(&mut self, version: u8) -> u32 {
        let outcome = self.encode_record(version, Properties::default(), Properties::default());
        self.settle(outcome)
    }

    /// `encode` for a packet with properties (objects read by props.rs).
    pub fn encode_with_properties(&mut self, version: u8, packed: &[u8]) -> u32 {
        // Packed `[properties, willProperties]` (either may be undefined).
        let mut values = unpack(packed).unwrap_or_default();
        values.resize(2, Value::Undefined);
        let (properties, will_properties) = (&values[0], &values[1]);
        let read = |value: &Value, path: &str| {
            props::read(value, path).map_err(|e| invalid_argument(&e.0))
        };
        let outcome = read(properties, "packet.properties").and_then(|properties| {
            let will_properties = read(will_properties, "packet.will.properties")?;
            self.encode_record(version, properties, will_properties)
        });
        self.settle(outcome)
    }

    /// Why the last `encode` returned `REFUSED`.
    pub fn error(&mut self) -> JsValue {
        self.error.take().unwrap_or_default()
    }

    pub fn out_ptr(&self) -> *const u8 {
        self.out.as_ptr()
    }
}

/// What `encode` returns for a refused packet: no packet is that long.
const REFUSED: u32 = u32::MAX;

impl CodecEncoder {
    fn encode_record(
        &mut self,
        version: u8,
        properties: Properties,
        will_properties: Properties,
    ) -> Result<usize, JsValue> {
        let version = protocol(version)?;
        let ToEncode {
            packet,
            payload_len,
        } = codec_record::read(&self.record, &self.bytes, properties, will_properties).map_err(
            |BadRecord(what)| invalid_argument(&format!("internal: bad record ({what})")),
        )?;
        self.out.clear();
        match &packet {
            Packet::Publish(publish) => {
                codec::encode_publish_head(publish, payload_len, version, &mut self.out)
            }
            _ => codec::encode(&packet, version, &mut self.out),
        }
        .map_err(|e| encode_error(type_name(packet.packet_type()), e))?;
        Ok(self.out.len())
    }

    fn settle(&mut self, outcome: Result<usize, JsValue>) -> u32 {
        match outcome {
            Ok(len) => len as u32,
            Err(error) => {
                self.error = Some(error);
                REFUSED
            }
        }
    }
}

fn encode_error(packet: &str, error: EncodeError) -> JsValue {
    mqtt_error(
        "INVALID_ARGUMENT",
        &format!("cannot encode this {packet}: {error}"),
        Some(error.reason_code()),
        false,
    )
}
