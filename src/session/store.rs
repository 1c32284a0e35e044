//! The session's durable state as plain records (string key -> bytes), so that any key-value
//! store can hold it. Outgoing messages are stored as encoded MQTT 5 PUBLISH packets: the codec
//! is the serialisation. Passwords are never part of any record.

use bytes::Bytes;

use crate::codec::{
    self, Packet, ProtocolVersion, Publish, QoS, RetainHandling, SubscriptionOptions,
};

use super::subscriptions::Subscription;

/// One write for the host's store. Writes are applied in `seq` order; the host reports the
/// highest `seq` it has made durable through `Session::handle_store_committed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Put(String, Vec<u8>),
    Delete(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOp {
    pub seq: u64,
    pub write: Write,
}

/// The writes waiting for the host, numbered in order. With persistence off nothing is logged
/// and everything counts as durable at once.
#[derive(Debug)]
pub(crate) struct StoreLog {
    ops: std::collections::VecDeque<StoreOp>,
    last_seq: u64,
    persistent: bool,
}

impl StoreLog {
    pub(crate) fn new(persistent: bool) -> StoreLog {
        StoreLog {
            ops: Default::default(),
            last_seq: 0,
            persistent,
        }
    }

    pub(crate) fn write(&mut self, write: Write) {
        if self.persistent {
            self.last_seq += 1;
            self.ops.push_back(StoreOp {
                seq: self.last_seq,
                write,
            });
        }
    }

    /// The sequence number of the latest write (0 before any).
    pub(crate) fn last_seq(&self) -> u64 {
        self.last_seq
    }

    pub(crate) fn pop(&mut self) -> Option<StoreOp> {
        self.ops.pop_front()
    }
}

/// Lays the journal's entries (the host's synchronous copy of outgoing records not yet known to
/// be committed, see `client::journal`) over the records the store returned. An entry is the
/// latest write of its key, so it wins over the store's copy: a value replaces the record, an
/// empty value (the record was deleted: the message was acknowledged or given up) removes it.
pub(crate) fn merge_journal(
    records: Vec<(String, Vec<u8>)>,
    journal: Vec<(String, Vec<u8>)>,
) -> Merged {
    let (mut taken, mut dropped) = (Vec::new(), Vec::new());
    for (key, value) in journal {
        let readable = value.is_empty() || parse(&key, &value).is_some();
        if (is_outgoing_key(&key) && readable) || is_mark_key(&key) {
            // An empty entry is a deletion; a mark's entry is non-empty while it is set (see
            // `client::journal`).
            taken.push((key, (!value.is_empty()).then_some(value)));
        } else {
            dropped.push(key);
        }
    }
    let taken = last_writes(taken);
    let in_journal = |key: &str| taken.binary_search_by(|e| e.0.as_str().cmp(key)).is_ok();
    let mut merged: Vec<(String, Vec<u8>)> = records
        .into_iter()
        .filter(|(key, _)| !in_journal(key))
        .collect();
    let mut drain = Vec::new();
    for (key, value) in taken {
        match value {
            None => drain.push(Write::Delete(key)),
            Some(mut value) => {
                if is_mark_key(&key) {
                    value.clear();
                }
                merged.push((key.clone(), value.clone()));
                drain.push(Write::Put(key, value));
            }
        }
    }
    Merged {
        records: merged,
        drain,
        dropped,
    }
}

/// The last of each key's writes (None: a deletion), in key order, of `writes` given in the
/// order made. A sorted list, not a map: each map type instantiated costs wasm size.
pub(crate) fn last_writes(
    mut writes: Vec<(String, Option<Vec<u8>>)>,
) -> Vec<(String, Option<Vec<u8>>)> {
    // A stable sort keeps each key's writes in the order made: the last counts.
    crate::sort::sort_by(&mut writes, |a, b| a.0.cmp(&b.0));
    let mut last: Vec<(String, Option<Vec<u8>>)> = Vec::with_capacity(writes.len());
    for write in writes {
        match last.last_mut() {
            Some(previous) if previous.0 == write.0 => *previous = write,
            _ => last.push(write),
        }
    }
    last
}

/// The store's records with the journal laid over them.
pub(crate) struct Merged {
    pub(crate) records: Vec<(String, Vec<u8>)>,
    /// The writes that bring the store up to date with `records`.
    pub(crate) drain: Vec<Write>,
    /// Keys of the entries not taken (not an outgoing record, or unreadable: the store's copy,
    /// if any, stands).
    pub(crate) dropped: Vec<String>,
}

/// Whether `key` is an outgoing message's record: what the journal keeps.
pub fn is_outgoing_key(key: &str) -> bool {
    key.starts_with("o/")
}

/// A record that marks an incoming message as processed: its QoS 2 packet id (`i/`) or its
/// de-duplication id (`d/`). Both hold no value.
pub fn is_mark_key(key: &str) -> bool {
    key.starts_with("i/") || key.starts_with("d/")
}

const FORMAT: u8 = 1;

/// Where an outgoing message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Waiting for the in-flight window (or a connection).
    Queued = 0,
    /// QoS 1 sent, awaiting PUBACK; QoS 2 sent, awaiting PUBREC.
    Sent = 1,
    /// QoS 2 PUBREC received, PUBREL sent, awaiting PUBCOMP.
    Released = 2,
}

/// A record as read back at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Record {
    Outgoing {
        order: u64,
        stage: Stage,
        packet_id: u16,
        publish: Box<Publish>,
    },
    InboundQos2 {
        packet_id: u16,
    },
    /// The id of an outgoing QoS 2 message given up while the broker may hold it.
    ReservedId {
        packet_id: u16,
    },
    Subscription {
        filter: String,
        subscription: Subscription,
    },
    SeenId {
        id: String,
    },
}

pub(crate) fn outgoing_key(order: u64) -> String {
    format!("o/{order:016x}")
}

pub(crate) fn inbound_key(packet_id: u16) -> String {
    format!("i/{packet_id:04x}")
}

pub(crate) fn reserved_key(packet_id: u16) -> String {
    format!("r/{packet_id:04x}")
}

pub(crate) fn subscription_key(filter: &str) -> String {
    format!("s/{filter}")
}

pub(crate) fn seen_id_key(id: &str) -> String {
    format!("d/{id}")
}

pub(crate) fn outgoing_value(stage: Stage, packet_id: u16, publish: &Publish) -> Vec<u8> {
    let mut value = vec![FORMAT, stage as u8];
    value.extend_from_slice(&packet_id.to_be_bytes());
    // A message that was accepted for sending encodes; if it did not, storing nothing would be
    // a silent loss, so the record keeps the header and fails to load with a report instead.
    put_message(publish, &mut value);
    value
}

/// Appends `publish` as kept outside a connection (in the store, or handed from a page to the
/// next): its MQTT 5 PUBLISH without its packet id and DUP, which belong to a connection, not
/// to the message. False (and nothing appended) when it does not encode.
pub(crate) fn put_message(publish: &Publish, out: &mut Vec<u8>) -> bool {
    let stored = Publish {
        dup: false,
        packet_id: (publish.qos != QoS::AtMostOnce).then_some(1),
        ..publish.clone()
    };
    codec::encode(&Packet::Publish(stored), ProtocolVersion::V5, out).is_ok()
}

/// The message `put_message` wrote (with no packet id), or None.
pub(crate) fn read_message(bytes: &[u8]) -> Option<Publish> {
    let Ok(Packet::Publish(mut publish)) =
        codec::decode_packet(Bytes::copy_from_slice(bytes), ProtocolVersion::V5)
    else {
        return None;
    };
    publish.packet_id = None;
    Some(publish)
}

/// Options in one byte (bit 6: confirmed by a SUBACK, bit 7: being unsubscribed), then the
/// subscription identifier as four bytes when there is one.
pub(crate) fn subscription_value(subscription: &Subscription) -> Vec<u8> {
    let options = subscription.options;
    let mut value = vec![
        FORMAT,
        options.qos as u8
            | u8::from(options.no_local) << 2
            | u8::from(options.retain_as_published) << 3
            | (options.retain_handling as u8) << 4
            | u8::from(subscription.confirmed) << 6
            | u8::from(subscription.leaving) << 7,
    ];
    if let Some(id) = subscription.id {
        value.extend_from_slice(&id.to_be_bytes());
    }
    value
}

/// Reads one record; None when it is not one of ours or is damaged (the caller reports it).
/// Out of line: loading and the journal's merge share one copy (wasm size).
#[inline(never)]
pub(crate) fn parse(key: &str, value: &[u8]) -> Option<Record> {
    let (kind, rest) = key.split_once('/')?;
    match kind {
        "o" => {
            let order = u64::from_str_radix(rest, 16).ok()?;
            let [FORMAT, stage, id_hi, id_lo, packet @ ..] = value else {
                return None;
            };
            let stage = match stage {
                0 => Stage::Queued,
                1 => Stage::Sent,
                2 => Stage::Released,
                _ => return None,
            };
            let publish = read_message(packet)?;
            Some(Record::Outgoing {
                order,
                stage,
                packet_id: u16::from_be_bytes([*id_hi, *id_lo]),
                publish: Box::new(publish),
            })
        }
        "i" => Some(Record::InboundQos2 {
            packet_id: u16::from_str_radix(rest, 16).ok().filter(|id| *id != 0)?,
        }),
        "r" => Some(Record::ReservedId {
            packet_id: u16::from_str_radix(rest, 16).ok().filter(|id| *id != 0)?,
        }),
        "s" => {
            let (bits, id) = match value {
                [FORMAT, bits] => (*bits, None),
                [FORMAT, bits, id @ ..] => (*bits, Some(u32::from_be_bytes(id.try_into().ok()?))),
                _ => return None,
            };
            if id == Some(0) {
                return None;
            }
            let options = SubscriptionOptions {
                qos: QoS::from_u8(bits & 0b11)?,
                no_local: bits & 0b100 != 0,
                retain_as_published: bits & 0b1000 != 0,
                retain_handling: match (bits >> 4) & 0b11 {
                    0 => RetainHandling::SendAtSubscribe,
                    1 => RetainHandling::SendAtSubscribeIfNew,
                    2 => RetainHandling::DoNotSend,
                    _ => return None,
                },
            };
            (!rest.is_empty()).then(|| Record::Subscription {
                filter: rest.to_string(),
                subscription: {
                    let confirmed = bits & 0b100_0000 != 0;
                    let leaving = bits & 0b1000_0000 != 0;
                    Subscription {
                        id,
                        confirmed,
                        leaving,
                        // See Subscription::held.
                        held: !leaving && (confirmed || id.is_some()),
                        ..Subscription::new(options)
                    }
                },
            })
        }
        "d" => (!rest.is_empty()).then(|| Record::SeenId {
            id: rest.to_string(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Properties;

    fn publish(qos: QoS) -> Publish {
        let mut properties = Properties::default();
        properties
            .user_properties
            .push(("wasmqtt-id".into(), "abc".into()));
        Publish {
            dup: true,
            qos,
            retain: true,
            topic: "a/b".into(),
            packet_id: Some(7),
            properties,
            payload: Bytes::from_static(b"hello"),
        }
    }

    #[test]
    fn an_outgoing_message_survives_its_record_without_dup_or_connection_packet_id() {
        for (stage, qos) in [
            (Stage::Queued, QoS::AtMostOnce),
            (Stage::Sent, QoS::AtLeastOnce),
            (Stage::Released, QoS::ExactlyOnce),
        ] {
            let value = outgoing_value(stage, 7, &publish(qos));
            let Some(Record::Outgoing {
                order,
                stage: read_stage,
                packet_id,
                publish: read,
            }) = parse(&outgoing_key(300), &value)
            else {
                panic!("unreadable")
            };
            assert_eq!((order, read_stage, packet_id), (300, stage, 7));
            assert_eq!(
                *read,
                Publish {
                    dup: false,
                    packet_id: None,
                    ..publish(qos)
                }
            );
        }
    }

    #[test]
    fn outgoing_keys_sort_in_publish_order() {
        let mut keys = [outgoing_key(10), outgoing_key(9), outgoing_key(0x100)];
        keys.sort();
        assert_eq!(
            keys,
            [outgoing_key(9), outgoing_key(10), outgoing_key(0x100)]
        );
    }

    #[test]
    fn subscriptions_inbound_ids_and_seen_ids_round_trip() {
        let options = SubscriptionOptions {
            qos: QoS::ExactlyOnce,
            no_local: true,
            retain_as_published: false,
            retain_handling: RetainHandling::DoNotSend,
        };
        for (id, confirmed, leaving) in [
            (None, false, false),
            (Some(268_435_455), true, false),
            (Some(1), true, true),
        ] {
            let subscription = Subscription {
                id,
                confirmed,
                leaving,
                held: !leaving && (confirmed || id.is_some()),
                ..Subscription::new(options)
            };
            assert_eq!(
                parse(
                    &subscription_key("a/+/#"),
                    &subscription_value(&subscription)
                ),
                Some(Record::Subscription {
                    filter: "a/+/#".into(),
                    subscription
                })
            );
        }
        assert_eq!(
            parse(&inbound_key(65535), &[]),
            Some(Record::InboundQos2 { packet_id: 65535 })
        );
        assert_eq!(
            parse(&reserved_key(7), &[]),
            Some(Record::ReservedId { packet_id: 7 })
        );
        assert_eq!(parse(&reserved_key(0), &[]), None, "packet id 0");
        assert_eq!(
            parse(&seen_id_key("x-1"), &[]),
            Some(Record::SeenId { id: "x-1".into() })
        );
    }

    #[test]
    fn the_journal_wins_over_the_store_and_a_deletion_in_it_removes_the_record() {
        let sent = outgoing_value(Stage::Sent, 3, &publish(QoS::AtLeastOnce));
        let queued = outgoing_value(Stage::Queued, 0, &publish(QoS::AtLeastOnce));
        let records = vec![
            (outgoing_key(1), queued.clone()),
            (outgoing_key(2), queued.clone()),
            (subscription_key("a"), vec![FORMAT, 1]),
        ];
        let journal = vec![
            (outgoing_key(1), sent.clone()),   // a later step of a stored message
            (outgoing_key(2), Vec::new()),     // acknowledged: its stale copy must go
            (outgoing_key(3), queued.clone()), // never committed
            (outgoing_key(4), vec![9]),        // unreadable: dropped
            ("s/b".into(), vec![FORMAT, 1]),   // not journaled by the client: dropped
        ];
        let merged = merge_journal(records, journal);
        assert_eq!(
            merged.records,
            [
                (subscription_key("a"), vec![FORMAT, 1]),
                (outgoing_key(1), sent.clone()),
                (outgoing_key(3), queued.clone()),
            ]
        );
        assert_eq!(
            merged.drain,
            [
                Write::Put(outgoing_key(1), sent),
                Write::Delete(outgoing_key(2)),
                Write::Put(outgoing_key(3), queued),
            ]
        );
        assert_eq!(merged.dropped, [outgoing_key(4), "s/b".to_string()]);
    }

    #[test]
    fn of_several_journaled_writes_of_a_record_the_last_counts() {
        let queued = outgoing_value(Stage::Queued, 0, &publish(QoS::AtLeastOnce));
        let sent = outgoing_value(Stage::Sent, 1, &publish(QoS::AtLeastOnce));
        let journal = vec![
            (outgoing_key(1), queued.clone()),
            (outgoing_key(2), queued.clone()),
            (outgoing_key(1), sent.clone()),
            (outgoing_key(2), Vec::new()),
        ];
        let merged = merge_journal(Vec::new(), journal);
        assert_eq!(merged.records, [(outgoing_key(1), sent.clone())]);
        assert_eq!(
            merged.drain,
            [
                Write::Put(outgoing_key(1), sent),
                Write::Delete(outgoing_key(2))
            ]
        );
    }

    #[test]
    fn damaged_or_foreign_records_are_not_read() {
        let good = outgoing_value(Stage::Sent, 1, &publish(QoS::AtLeastOnce));
        assert_eq!(parse("o/zz", &good), None);
        assert_eq!(
            parse(&outgoing_key(1), &good[..good.len() - 1]),
            None,
            "truncated packet"
        );
        assert_eq!(
            parse(&outgoing_key(1), &[9, 1, 0, 1]),
            None,
            "unknown format"
        );
        assert_eq!(parse(&inbound_key(0), &[]), None, "packet id 0");
        assert_eq!(
            parse("s/a", &[FORMAT, 0b0011_0000]),
            None,
            "retain handling 3"
        );
        assert_eq!(parse("s/a", &[FORMAT, 1, 0, 0, 0]), None, "short id");
        assert_eq!(parse("s/a", &[FORMAT, 1, 0, 0, 0, 0]), None, "id 0");
        assert_eq!(parse("x/1", &[]), None);
        assert_eq!(parse("nokind", &[]), None);
    }
}
