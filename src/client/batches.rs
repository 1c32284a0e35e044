//! How the session's records lie in the host's store: the writes of each transaction as one
//! entry, `t/<number>` (a batch), rather than one entry per record.
//!
//! IndexedDB costs per request: each put or delete is a request with its events and a copy
//! across processes, and a QoS 1 message's life writes its records three times or so. A batch
//! makes that one request per transaction. The price is that older batches hold writes later
//! ones replaced; `StoreSync` writes the whole state again as one batch, and the store holds
//! nothing else, once the batches written since the last such rewrite outweigh it.
//!
//! At load, entries an older version stored (one record under its own key) come first, then
//! the batches in number order: a record's last write counts, a deletion removes it.

use crate::session::{last_writes, Write};

use super::record_list;

/// The first byte of a batch: its format.
const FORMAT: u8 = 1;

/// The store key of batch `n`: fixed width, so that keys sort as numbers do.
pub(crate) fn batch_key(n: u64) -> String {
    format!("t/{n:016x}")
}

fn batch_number(key: &str) -> Option<u64> {
    u64::from_str_radix(key.strip_prefix("t/")?, 16).ok()
}

/// A batch of these writes, in order.
pub(crate) fn encode<'a>(writes: impl IntoIterator<Item = (&'a str, Option<&'a [u8]>)>) -> Vec<u8> {
    let mut out = vec![FORMAT];
    for (key, value) in writes {
        record_list::put(&mut out, key, value);
    }
    out
}

/// A write as `encode` takes it.
pub(crate) fn as_entry(write: &Write) -> (&str, Option<&[u8]>) {
    match write {
        Write::Put(key, value) => (key, Some(value)),
        Write::Delete(key) => (key, None),
    }
}

pub(crate) fn decode(bytes: &[u8]) -> Option<Vec<(String, Option<Vec<u8>>)>> {
    match bytes.split_first()? {
        (&FORMAT, list) => record_list::read(list),
        _ => None,
    }
}

/// The store's entries read as records.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Unpacked {
    /// The last write of each record, in key order.
    pub(crate) records: Vec<(String, Vec<u8>)>,
    /// Batches that could not be read (reported as damaged and skipped).
    pub(crate) unreadable: Vec<String>,
    /// The next batch's number: above every batch loaded, so that a later load reads in order.
    pub(crate) next_batch: u64,
    /// Bytes of the entries that are not the records themselves: replaced writes, deletions.
    pub(crate) replaced_bytes: usize,
}

/// Reads the store's entries, given in key order as IndexedDB returns them: an older version's
/// records (`d/`, `i/`, `o/`, `r/`, `s/`) before the batches, and the batches in number order.
pub(crate) fn unpack(entries: Vec<(String, Vec<u8>)>) -> Unpacked {
    let mut unpacked = Unpacked::default();
    let mut stored = 0;
    let mut writes = Vec::new();
    for (key, value) in entries {
        stored += key.len() + value.len();
        let Some(n) = batch_number(&key) else {
            writes.push((key, Some(value)));
            continue;
        };
        unpacked.next_batch = n + 1;
        match decode(&value) {
            Some(mut list) => writes.append(&mut list),
            None => unpacked.unreadable.push(key),
        }
    }
    let mut live = 0;
    for (key, value) in last_writes(writes) {
        if let Some(value) = value {
            live += key.len() + value.len();
            unpacked.records.push((key, value));
        }
    }
    unpacked.replaced_bytes = stored.saturating_sub(live);
    unpacked
}

/// The records the host's store entries hold, as the next load reads them (for tools and
/// tests).
pub fn store_records(entries: Vec<(String, Vec<u8>)>) -> Vec<(String, Vec<u8>)> {
    unpack(entries).records
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(n: u64, writes: &[Write]) -> (String, Vec<u8>) {
        (batch_key(n), encode(writes.iter().map(as_entry)))
    }

    fn put(key: &str, value: &[u8]) -> Write {
        Write::Put(key.into(), value.to_vec())
    }

    #[test]
    fn batches_are_read_in_order_over_an_older_versions_records() {
        // In key order, as the store gives them: batch 0x10 after batch 2.
        let entries = vec![
            ("o/1".to_string(), b"old".to_vec()),
            ("s/a".to_string(), b"sub".to_vec()),
            batch(2, &[put("o/1", b"second"), put("d/x", b"")]),
            batch(0x10, &[put("o/1", b"third"), Write::Delete("d/x".into())]),
            batch(0x11, &[Write::Delete("s/a".into()), put("o/2", b"new")]),
        ];
        let stored: usize = entries.iter().map(|(k, v)| k.len() + v.len()).sum();
        let unpacked = unpack(entries);
        assert_eq!(
            unpacked.records,
            vec![
                ("o/1".to_string(), b"third".to_vec()),
                ("o/2".to_string(), b"new".to_vec()),
            ],
            "the last write of each record counts; deletions remove older versions' records too"
        );
        assert_eq!(unpacked.next_batch, 0x12);
        assert!(unpacked.unreadable.is_empty());
        let live = "o/1third".len() + "o/2new".len();
        assert_eq!(unpacked.replaced_bytes, stored - live);
    }

    #[test]
    fn a_damaged_batch_is_reported_and_the_others_still_load() {
        let mut damaged = batch(1, &[put("o/1", b"lost")]);
        damaged.1.pop();
        let foreign = (batch_key(3), vec![9, 0, 0]);
        let unpacked = unpack(vec![
            damaged,
            batch(2, &[put("o/2", b"kept")]),
            foreign,
            ("t/not-a-number".to_string(), vec![1]),
        ]);
        assert_eq!(unpacked.records.len(), 2, "{unpacked:?}");
        assert_eq!(unpacked.records[0].0, "o/2");
        assert_eq!(
            unpacked.records[1],
            ("t/not-a-number".to_string(), vec![1]),
            "not a batch: left to the session, which reports it"
        );
        assert_eq!(unpacked.unreadable, vec![batch_key(1), batch_key(3)]);
        assert_eq!(unpacked.next_batch, 4);
    }

    #[test]
    fn an_empty_store_starts_at_batch_zero() {
        assert_eq!(unpack(Vec::new()), Unpacked::default());
    }
}
