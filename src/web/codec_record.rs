//! Packet records: how packets cross the JavaScript/wasm boundary without a call per field.
//!
//! A record is a run of `u32` words that js/codec.js reads (decoded packets) or writes (packets to
//! encode) with typed arrays over wasm memory. Strings and binary fields are two words, offset
//! and length, into a byte region: all of wasm memory for decoded packets (the bytes are in the
//! decoder's buffer), the encoder's byte buffer for packets to encode. Properties do not travel
//! in records: they are plain objects converted by props.rs, and the head word says which
//! packets have them.
//!
//! Layout, after the head word (packet type | HAS_PROPERTIES | HAS_WILL_PROPERTIES):
//!
//! ```text
//! CONNECT      level, bridge, clean, keepalive, clientId:str, will?, username?, password?,
//!              will:     [present, qos, retain, topic:str, payload:bin]
//!              username: [present, str]     password: [present, bin]
//! CONNACK      sessionPresent, reasonCode
//! PUBLISH      qos, retain, dup, packetId (NO_PACKET_ID when absent), topic:str, payload:bin
//! PUBACK, PUBREC, PUBREL, PUBCOMP     packetId, reasonCode
//! SUBSCRIBE    packetId, count, count x [filter:str, qos, noLocal, retainAsPublished, retainHandling]
//! SUBACK, UNSUBACK                    packetId, count, count x reasonCode
//! UNSUBSCRIBE  packetId, count, count x filter:str
//! PINGREQ, PINGRESP                   nothing
//! DISCONNECT, AUTH                    reasonCode
//! ```
//!
//! Absent optional fields are a `present` word of 0 followed by nothing. Booleans are 0 or 1.
//! A PUBLISH to encode is the exception: its payload never enters wasm memory; the record gives
//! only its length (the offset is ignored) and JavaScript puts the bytes after the head that
//! wasm encodes. js/codec.js reads this layout's constants from the wasm at load (`recordLayout`,
//! codec_api.rs); its field order is this table's, so change both together.

use bytes::Bytes;

use crate::codec::{
    Ack, Auth, ConnAck, Connect, Disconnect, LastWill, Packet, PacketType, Properties,
    ProtocolVersion, Publish, QoS, RetainHandling, SubAck, Subscribe, SubscriptionOptions,
    UnsubAck, Unsubscribe,
};

/// The head word's packet type bits (the MQTT packet type number, 1 to 15).
pub(crate) const TYPE_MASK: u32 = 0xFF;
pub(crate) const HAS_PROPERTIES: u32 = 1 << 8;
pub(crate) const HAS_WILL_PROPERTIES: u32 = 1 << 9;
pub(crate) const NO_PACKET_ID: u32 = u32::MAX;

/// The properties of a packet that travel beside its record, in the order the head word's flags
/// announce them: the packet's own, then the will's.
pub(crate) fn properties_of(packet: &Packet) -> [Option<&Properties>; 2] {
    let own = match packet {
        Packet::Connect(c) => Some(&c.properties),
        Packet::ConnAck(c) => Some(&c.properties),
        Packet::Publish(p) => Some(&p.properties),
        Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
            Some(&a.properties)
        }
        Packet::Subscribe(s) => Some(&s.properties),
        Packet::SubAck(s) => Some(&s.properties),
        Packet::Unsubscribe(u) => Some(&u.properties),
        Packet::UnsubAck(u) => Some(&u.properties),
        Packet::PingReq | Packet::PingResp => None,
        Packet::Disconnect(d) => Some(&d.properties),
        Packet::Auth(a) => Some(&a.properties),
    };
    let will = match packet {
        Packet::Connect(c) => c.will.as_ref().map(|w| &w.properties),
        _ => None,
    };
    [own, will].map(|p| p.filter(|p| !p.is_empty()))
}

/// Appends the record of a decoded packet. `place` gives the offset of a string or binary field
/// in the byte region: for JavaScript, its address in wasm memory, so `packet` must stay alive
/// until JavaScript has read it.
pub(crate) fn write(packet: &Packet, out: &mut Vec<u32>, place: &mut impl FnMut(&[u8]) -> u32) {
    let [own, will] = properties_of(packet);
    let mut head = packet.packet_type() as u32;
    if own.is_some() {
        head |= HAS_PROPERTIES;
    }
    if will.is_some() {
        head |= HAS_WILL_PROPERTIES;
    }
    out.push(head);
    let mut bin = |out: &mut Vec<u32>, bytes: &[u8]| {
        out.push(place(bytes));
        out.push(bytes.len() as u32);
    };
    let flag = |b: bool| u32::from(b);
    match packet {
        Packet::Connect(c) => {
            out.extend([
                u32::from(c.protocol.level()),
                flag(c.bridge),
                flag(c.clean_start),
                u32::from(c.keep_alive),
            ]);
            bin(out, c.client_id.as_bytes());
            match &c.will {
                Some(w) => {
                    out.extend([1, w.qos as u32, flag(w.retain)]);
                    bin(out, w.topic.as_bytes());
                    bin(out, &w.payload);
                }
                None => out.push(0),
            }
            match &c.username {
                Some(u) => {
                    out.push(1);
                    bin(out, u.as_bytes());
                }
                None => out.push(0),
            }
            match &c.password {
                Some(p) => {
                    out.push(1);
                    bin(out, p);
                }
                None => out.push(0),
            }
        }
        Packet::ConnAck(c) => out.extend([flag(c.session_present), u32::from(c.code)]),
        Packet::Publish(p) => {
            out.extend([
                p.qos as u32,
                flag(p.retain),
                flag(p.dup),
                p.packet_id.map_or(NO_PACKET_ID, u32::from),
            ]);
            bin(out, p.topic.as_bytes());
            bin(out, &p.payload);
        }
        Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
            out.extend([u32::from(a.packet_id), u32::from(a.reason_code)]);
        }
        Packet::Subscribe(s) => {
            out.extend([u32::from(s.packet_id), s.filters.len() as u32]);
            for (filter, o) in &s.filters {
                bin(out, filter.as_bytes());
                out.extend([
                    o.qos as u32,
                    flag(o.no_local),
                    flag(o.retain_as_published),
                    o.retain_handling as u32,
                ]);
            }
        }
        Packet::SubAck(SubAck {
            packet_id,
            reason_codes,
            ..
        })
        | Packet::UnsubAck(UnsubAck {
            packet_id,
            reason_codes,
            ..
        }) => {
            out.extend([u32::from(*packet_id), reason_codes.len() as u32]);
            out.extend(reason_codes.iter().map(|&c| u32::from(c)));
        }
        Packet::Unsubscribe(u) => {
            out.extend([u32::from(u.packet_id), u.filters.len() as u32]);
            for filter in &u.filters {
                bin(out, filter.as_bytes());
            }
        }
        Packet::PingReq | Packet::PingResp => {}
        Packet::Disconnect(d) => out.push(u32::from(d.reason_code)),
        Packet::Auth(a) => out.push(u32::from(a.reason_code)),
    }
}

/// A record that does not follow the layout: a bug in js/codec.js, never the application's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadRecord(pub(crate) &'static str);

/// A packet to encode, read from its record: a PUBLISH without its payload, which is
/// `payload_len` bytes long.
pub(crate) struct ToEncode {
    pub(crate) packet: Packet,
    pub(crate) payload_len: usize,
}

/// Reads the record of a packet to encode from `words`, with its strings and binary fields in
/// `bytes` and its properties given separately.
pub(crate) fn read(
    words: &[u32],
    bytes: &[u8],
    properties: Properties,
    will_properties: Properties,
) -> Result<ToEncode, BadRecord> {
    let mut r = Reader {
        words,
        pos: 0,
        bytes,
    };
    let head = r.word()?;
    let packet_type = head & TYPE_MASK;
    let mut payload_len = 0;
    let packet = match packet_type {
        1 => {
            let protocol = match r.word()? {
                3 => ProtocolVersion::V3_1,
                4 => ProtocolVersion::V3_1_1,
                5 => ProtocolVersion::V5,
                _ => return Err(BadRecord("protocol level")),
            };
            let bridge = r.flag()?;
            let clean_start = r.flag()?;
            let keep_alive = r.u16()?;
            let client_id = r.string()?;
            let will = if r.flag()? {
                let qos = r.qos()?;
                let retain = r.flag()?;
                Some(LastWill {
                    qos,
                    retain,
                    topic: r.string()?,
                    payload: r.binary()?,
                    properties: will_properties,
                })
            } else {
                None
            };
            let username = if r.flag()? { Some(r.string()?) } else { None };
            let password = if r.flag()? { Some(r.binary()?) } else { None };
            Packet::Connect(Box::new(Connect {
                protocol,
                bridge,
                clean_start,
                keep_alive,
                client_id,
                will,
                username,
                password,
                properties,
            }))
        }
        2 => Packet::ConnAck(ConnAck {
            session_present: r.flag()?,
            code: r.u8()?,
            properties,
        }),
        3 => {
            let qos = r.qos()?;
            let retain = r.flag()?;
            let dup = r.flag()?;
            let packet_id = match r.word()? {
                NO_PACKET_ID => None,
                id => Some(u16::try_from(id).map_err(|_| BadRecord("packet id"))?),
            };
            let topic = r.string()?;
            r.word()?; // the payload's offset: it is not in `bytes`
            payload_len = r.word()? as usize;
            Packet::Publish(Publish {
                dup,
                qos,
                retain,
                topic,
                packet_id,
                properties,
                payload: Bytes::new(),
            })
        }
        4..=7 => {
            let ack = Ack {
                packet_id: r.u16()?,
                reason_code: r.u8()?,
                properties,
            };
            match packet_type {
                4 => Packet::PubAck(ack),
                5 => Packet::PubRec(ack),
                6 => Packet::PubRel(ack),
                _ => Packet::PubComp(ack),
            }
        }
        8 => {
            let packet_id = r.u16()?;
            let count = r.word()?;
            let mut filters = Vec::new();
            for _ in 0..count {
                let filter = r.string()?;
                let options = SubscriptionOptions {
                    qos: r.qos()?,
                    no_local: r.flag()?,
                    retain_as_published: r.flag()?,
                    retain_handling: match r.word()? {
                        0 => RetainHandling::SendAtSubscribe,
                        1 => RetainHandling::SendAtSubscribeIfNew,
                        2 => RetainHandling::DoNotSend,
                        _ => return Err(BadRecord("retain handling")),
                    },
                };
                filters.push((filter, options));
            }
            Packet::Subscribe(Subscribe {
                packet_id,
                properties,
                filters,
            })
        }
        9 | 11 => {
            let packet_id = r.u16()?;
            let count = r.word()?;
            let reason_codes = (0..count).map(|_| r.u8()).collect::<Result<_, _>>()?;
            if packet_type == 9 {
                Packet::SubAck(SubAck {
                    packet_id,
                    properties,
                    reason_codes,
                })
            } else {
                Packet::UnsubAck(UnsubAck {
                    packet_id,
                    properties,
                    reason_codes,
                })
            }
        }
        10 => {
            let packet_id = r.u16()?;
            let count = r.word()?;
            let filters = (0..count).map(|_| r.string()).collect::<Result<_, _>>()?;
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                properties,
                filters,
            })
        }
        12 => Packet::PingReq,
        13 => Packet::PingResp,
        14 => Packet::Disconnect(Disconnect {
            reason_code: r.u8()?,
            properties,
        }),
        15 => Packet::Auth(Auth {
            reason_code: r.u8()?,
            properties,
        }),
        _ => return Err(BadRecord("packet type")),
    };
    Ok(ToEncode {
        packet,
        payload_len,
    })
}

struct Reader<'a> {
    words: &'a [u32],
    pos: usize,
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn word(&mut self) -> Result<u32, BadRecord> {
        let word = *self
            .words
            .get(self.pos)
            .ok_or(BadRecord("record too short"))?;
        self.pos += 1;
        Ok(word)
    }

    fn flag(&mut self) -> Result<bool, BadRecord> {
        match self.word()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(BadRecord("boolean")),
        }
    }

    fn u8(&mut self) -> Result<u8, BadRecord> {
        u8::try_from(self.word()?).map_err(|_| BadRecord("byte"))
    }

    fn u16(&mut self) -> Result<u16, BadRecord> {
        u16::try_from(self.word()?).map_err(|_| BadRecord("two-byte integer"))
    }

    fn qos(&mut self) -> Result<QoS, BadRecord> {
        QoS::from_u8(self.u8()?).ok_or(BadRecord("qos"))
    }

    fn slice(&mut self) -> Result<&[u8], BadRecord> {
        let offset = self.word()? as usize;
        let len = self.word()? as usize;
        self.bytes
            .get(offset..offset.saturating_add(len))
            .ok_or(BadRecord("field outside the byte region"))
    }

    fn string(&mut self) -> Result<String, BadRecord> {
        let bytes = self.slice()?;
        String::from_utf8(bytes.to_vec()).map_err(|_| BadRecord("string is not UTF-8"))
    }

    fn binary(&mut self) -> Result<Bytes, BadRecord> {
        Ok(Bytes::copy_from_slice(self.slice()?))
    }
}

/// The names JavaScript uses for packet types, as in `{ type: 'puback' }`, by type number.
pub(crate) const TYPE_NAMES: [&str; 16] = [
    "",
    "connect",
    "connack",
    "publish",
    "puback",
    "pubrec",
    "pubrel",
    "pubcomp",
    "subscribe",
    "suback",
    "unsubscribe",
    "unsuback",
    "pingreq",
    "pingresp",
    "disconnect",
    "auth",
];

pub(crate) fn type_name(packet_type: PacketType) -> &'static str {
    TYPE_NAMES[packet_type as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn props(reason: &str) -> Properties {
        Properties {
            reason_string: Some(reason.into()),
            user_properties: vec![("k".into(), "v".into())],
            ..Default::default()
        }
    }

    fn samples() -> Vec<Packet> {
        let ack = |packet_id, reason_code| Ack {
            packet_id,
            reason_code,
            properties: Properties::default(),
        };
        let options = SubscriptionOptions {
            qos: QoS::ExactlyOnce,
            no_local: true,
            retain_as_published: false,
            retain_handling: RetainHandling::DoNotSend,
        };
        vec![
            Packet::Connect(Box::new(Connect {
                protocol: ProtocolVersion::V5,
                bridge: false,
                clean_start: false,
                keep_alive: 30,
                client_id: "dash".into(),
                will: Some(LastWill {
                    topic: "w/é".into(),
                    payload: Bytes::from_static(b"bye"),
                    qos: QoS::AtLeastOnce,
                    retain: true,
                    properties: Properties {
                        will_delay_interval: Some(5),
                        ..Default::default()
                    },
                }),
                username: Some("u".into()),
                password: Some(Bytes::from_static(&[0, 255])),
                properties: Properties {
                    session_expiry_interval: Some(60),
                    ..Default::default()
                },
            })),
            Packet::ConnAck(ConnAck {
                session_present: true,
                code: 0,
                properties: props("hi"),
            }),
            Packet::Publish(Publish {
                dup: true,
                qos: QoS::AtLeastOnce,
                retain: true,
                topic: "a/b".into(),
                packet_id: Some(9),
                properties: props("p"),
                payload: Bytes::from_static(b"payload"),
            }),
            Packet::PubAck(ack(1, 0x10)),
            Packet::PubRec(ack(2, 0)),
            Packet::PubRel(ack(3, 0x92)),
            Packet::PubComp(ack(65535, 0)),
            Packet::Subscribe(Subscribe {
                packet_id: 4,
                properties: props("s"),
                filters: vec![
                    ("a/#".into(), options),
                    ("+".into(), SubscriptionOptions::default()),
                ],
            }),
            Packet::SubAck(SubAck {
                packet_id: 4,
                properties: Properties::default(),
                reason_codes: vec![2, 0x80],
            }),
            Packet::Unsubscribe(Unsubscribe {
                packet_id: 5,
                properties: Properties::default(),
                filters: vec!["a/#".into(), "b".into()],
            }),
            Packet::UnsubAck(UnsubAck {
                packet_id: 5,
                properties: props("u"),
                reason_codes: vec![],
            }),
            Packet::PingReq,
            Packet::PingResp,
            Packet::Disconnect(Disconnect {
                reason_code: 0x8E,
                properties: props("d"),
            }),
            Packet::Auth(Auth {
                reason_code: 0x18,
                properties: Properties::default(),
            }),
            Packet::Connect(Box::new(Connect {
                protocol: ProtocolVersion::V3_1_1,
                bridge: true,
                clean_start: true,
                keep_alive: 60,
                client_id: "bridge".into(),
                will: None,
                username: None,
                password: None,
                properties: Properties::default(),
            })),
        ]
    }

    /// Writes `packet`'s record with its fields copied into a byte region, as js/codec.js hands
    /// records to the encoder, and reads it back.
    fn through_record(packet: &Packet) -> ToEncode {
        let mut words = Vec::new();
        let mut region = Vec::new();
        write(packet, &mut words, &mut |b: &[u8]| {
            region.extend_from_slice(b);
            (region.len() - b.len()) as u32
        });
        let [own, will] = properties_of(packet).map(|p| p.cloned().unwrap_or_default());
        read(&words, &region, own, will).unwrap()
    }

    #[wasm_bindgen_test]
    fn every_packet_type_reads_back_from_the_record_it_writes() {
        for packet in samples() {
            let ToEncode {
                packet: back,
                payload_len,
            } = through_record(&packet);
            match (&packet, back) {
                // The payload of a PUBLISH to encode stays in JavaScript: only its length is read.
                (Packet::Publish(p), Packet::Publish(b)) => {
                    assert_eq!(payload_len, p.payload.len());
                    let without = Publish {
                        payload: Bytes::new(),
                        ..p.clone()
                    };
                    assert_eq!(b, without);
                }
                (p, b) => {
                    assert_eq!(payload_len, 0);
                    assert_eq!(&b, p);
                }
            }
        }
    }

    #[wasm_bindgen_test]
    fn properties_are_flagged_in_the_head_in_the_order_they_travel() {
        let mut words = Vec::new();
        let samples = samples();
        let [connect, puback] = [&samples[0], &samples[3]];
        write(connect, &mut words, &mut |_| 0);
        assert_eq!(words[0], 1 | HAS_PROPERTIES | HAS_WILL_PROPERTIES);
        words.clear();
        // A PUBACK without properties flags none.
        write(puback, &mut words, &mut |_| 0);
        assert_eq!(words[0], 4);
        let [own, will] = properties_of(connect);
        assert_eq!(own.unwrap().session_expiry_interval, Some(60));
        assert_eq!(will.unwrap().will_delay_interval, Some(5));
    }

    #[wasm_bindgen_test]
    fn a_record_that_breaks_the_layout_is_refused_not_trusted() {
        let read = |words: &[u32], bytes: &[u8]| {
            super::read(words, bytes, Properties::default(), Properties::default())
                .map(|r| r.packet)
        };
        assert_eq!(read(&[99], &[]), Err(BadRecord("packet type")));
        assert_eq!(read(&[3, 3], &[]), Err(BadRecord("qos")));
        assert_eq!(read(&[4, 7], &[]), Err(BadRecord("record too short")));
        assert_eq!(
            read(&[4, 70_000, 0], &[]),
            Err(BadRecord("two-byte integer"))
        );
        assert_eq!(read(&[2, 2, 0], &[]), Err(BadRecord("boolean")));
        // UNSUBSCRIBE with one filter of 4 bytes at offset 2, in a region of 5 bytes.
        assert_eq!(
            read(&[10, 1, 1, 2, 4], b"abcde"),
            Err(BadRecord("field outside the byte region"))
        );
        assert_eq!(
            read(&[10, 1, 1, 0, 2], &[0xC3, 0x28]),
            Err(BadRecord("string is not UTF-8"))
        );
        assert_eq!(
            read(&[10, 1, 1, 1, 3], b"abcde"),
            Ok(Packet::Unsubscribe(Unsubscribe {
                packet_id: 1,
                properties: Properties::default(),
                filters: vec!["bcd".into()],
            }))
        );
    }
}
