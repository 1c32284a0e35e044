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
//! CONNECT      level, clean, keepalive, clientId:str, will?, username?, password?,
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
//! wasm encodes. js/codec.js holds the same layout; change both together.

use bytes::Bytes;

use crate::codec::{
    Ack, Auth, ConnAck, Connect, Disconnect, LastWill, Packet, PacketType, Properties,
    ProtocolVersion, Publish, QoS, RetainHandling, SubAck, Subscribe, SubscriptionOptions,
    UnsubAck, Unsubscribe,
};

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
    let packet_type = head & 0xFF;
    let mut payload_len = 0;
    let packet = match packet_type {
        1 => {
            let protocol = match r.word()? {
                3 => ProtocolVersion::V3_1,
                4 => ProtocolVersion::V3_1_1,
                5 => ProtocolVersion::V5,
                _ => return Err(BadRecord("protocol level")),
            };
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

/// The name JavaScript uses for a packet type, as in `{ type: 'puback' }`.
pub(crate) fn type_name(packet_type: PacketType) -> &'static str {
    match packet_type {
        PacketType::Connect => "connect",
        PacketType::ConnAck => "connack",
        PacketType::Publish => "publish",
        PacketType::PubAck => "puback",
        PacketType::PubRec => "pubrec",
        PacketType::PubRel => "pubrel",
        PacketType::PubComp => "pubcomp",
        PacketType::Subscribe => "subscribe",
        PacketType::SubAck => "suback",
        PacketType::Unsubscribe => "unsubscribe",
        PacketType::UnsubAck => "unsuback",
        PacketType::PingReq => "pingreq",
        PacketType::PingResp => "pingresp",
        PacketType::Disconnect => "disconnect",
        PacketType::Auth => "auth",
    }
}
