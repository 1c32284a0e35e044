//! The journal: a synchronous copy (kept by the host in `localStorage`) of the outgoing
//! messages' records that IndexedDB has not committed yet. A store transaction commits a task
//! or more after `publish()` returns; a page that reloads or crashes in between would lose the
//! message without a word. The host writes each journal operation before it returns to the
//! page, so a record is in the journal from the moment its write is made until the transaction
//! holding it has committed.
//!
//! Each entry is the latest write of its record key: a value, or empty for a deletion (a
//! tombstone: the message was acknowledged or given up, and the store may still hold it). An
//! entry leaves once the commit holding its latest write has completed. At load the entries are
//! laid over the store's records (`Session::load_journaled`), so an acknowledged message is
//! never resurrected and an uncommitted one is never lost.
//!
//! When messages are acknowledged after their handlers, the marks written as a handler finishes
//! (an incoming QoS 2 packet id, a de-duplication id) go in too, so that a page that dies before
//! IndexedDB commits them does not run the handler again for the broker's redelivery. A mark has
//! no value; its entry holds one byte while it is set, and is empty once it is deleted.

use std::collections::VecDeque;

use crate::session::{is_mark_key, is_outgoing_key, StoreOp, Write};

use super::error::ClientError;

/// The most the journal holds (record keys and values, in bytes; the host stores one character
/// a byte), about a fifth of the ~5 MB `localStorage` gives an origin. While it holds this much,
/// QoS 1 and 2 publishes are refused with `JOURNAL_FULL` (they are accepted again once
/// IndexedDB has committed what it holds, normally within a task or two).
pub const JOURNAL_MAX_BYTES: usize = 1024 * 1024;

/// What the host does to its journal, at once and in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalOp {
    /// Store `value` under the record key (empty: the record is deleted).
    Put(String, Vec<u8>),
    /// Forget the record key.
    Remove(String),
}

/// The host's journal key of a record key: under the session's storage name, which holds no
/// credential (`session::storage_name`).
pub fn journal_key(storage_name: &str, record_key: &str) -> String {
    format!("{storage_name}|journal|{record_key}")
}

/// The record key of a host journal key of this session, if it is one.
pub fn record_key<'a>(storage_name: &str, key: &'a str) -> Option<&'a str> {
    key.strip_prefix(storage_name)?.strip_prefix("|journal|")
}

/// The error for a journal entry the host could not write.
pub(crate) fn failed_error(key: &str) -> ClientError {
    ClientError {
        record: Some(key.to_string()),
        ..ClientError::new(
            "JOURNAL_FAILED",
            format!(
                "localStorage refused the journal entry {key} (quota): the message is safe from a \
                 reload only once IndexedDB has committed it"
            ),
        )
    }
}

#[derive(Debug)]
struct Entry {
    key: String,
    /// The sequence number of the key's latest write.
    seq: u64,
    /// Bytes held: key and value.
    size: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Journal {
    enabled: bool,
    /// The entries, sorted by key: a list, not a map (each map type instantiated costs wasm
    /// size). Keys grow with publish order, so a new one goes at the end; a commit walks it,
    /// and it holds at most [`JOURNAL_MAX_BYTES`].
    entries: Vec<Entry>,
    /// Keys of messages whose entry the host refused, reported once each, until they are done.
    refused: Vec<String>,
    bytes: usize,
    ops: VecDeque<JournalOp>,
}

impl Journal {
    /// A journal for a host that keeps one. `dropped`: keys of entries the last page left that
    /// the session did not take (not ours, or unreadable): they go. The entries it took come
    /// back through [`Journal::record`] as the session's first writes, and stay until the
    /// store has committed them.
    pub(crate) fn loaded(dropped: Vec<String>) -> Journal {
        Journal {
            enabled: true,
            ops: dropped.into_iter().map(JournalOp::Remove).collect(),
            ..Journal::default()
        }
    }

    /// The host has no usable store any more: nothing is journaled; what the host's journal
    /// holds stays there for a later page.
    pub(crate) fn disable(&mut self) {
        *self = Journal::default();
    }

    /// Whether QoS 1 and 2 publishes must wait for the store to catch up.
    pub(crate) fn is_full(&self) -> bool {
        self.enabled && self.bytes >= JOURNAL_MAX_BYTES
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// A write of the session is on its way to the store: outgoing records go in at once, and
    /// the processed marks too with `marks` (acknowledging after the handler).
    pub(crate) fn record(&mut self, op: &StoreOp, marks: bool) {
        let (key, value) = match &op.write {
            Write::Put(key, _) if is_mark_key(key) => (key, vec![1]),
            Write::Put(key, value) => (key, value.clone()),
            Write::Delete(key) => {
                if !self.refused.is_empty() {
                    self.refused.retain(|k| k != key);
                }
                (key, Vec::new())
            }
        };
        if !self.enabled || !(is_outgoing_key(key) || (marks && is_mark_key(key))) {
            return;
        }
        let size = key.len() + value.len();
        self.bytes += size;
        match self.find(key) {
            Ok(i) => {
                let entry = &mut self.entries[i];
                self.bytes -= entry.size;
                (entry.seq, entry.size) = (op.seq, size);
            }
            Err(i) => self.entries.insert(
                i,
                Entry {
                    key: key.clone(),
                    seq: op.seq,
                    size,
                },
            ),
        }
        self.ops.push_back(JournalOp::Put(key.clone(), value));
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|e| e.key.as_str().cmp(key))
    }

    fn untrack(&mut self, key: &str) -> bool {
        let Ok(i) = self.find(key) else {
            return false;
        };
        self.bytes -= self.entries.remove(i).size;
        true
    }

    /// The store committed every write up to `seq`: entries whose latest write it holds go.
    pub(crate) fn committed(&mut self, seq: u64) {
        let (ops, bytes) = (&mut self.ops, &mut self.bytes);
        self.entries.retain(|entry| {
            if entry.seq > seq {
                return true;
            }
            *bytes -= entry.size;
            ops.push_back(JournalOp::Remove(entry.key.clone()));
            false
        });
    }

    /// The host could not write `key` (its quota is used up): the entry is dropped, and the
    /// host forgets any older value it holds for the key. True the first time for a message:
    /// the application hears of it once. A refused deletion is not news: the message is done.
    pub(crate) fn failed(&mut self, key: &str) -> bool {
        let deletion = self
            .find(key)
            .is_ok_and(|i| self.entries[i].size == key.len());
        if self.untrack(key) {
            self.ops.push_back(JournalOp::Remove(key.to_string()));
        }
        if deletion || self.refused.iter().any(|k| k == key) {
            return false;
        }
        self.refused.push(key.to_string());
        true
    }

    pub(crate) fn poll(&mut self) -> Option<JournalOp> {
        self.ops.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(seq: u64, write: Write) -> StoreOp {
        StoreOp { seq, write }
    }

    fn drain(journal: &mut Journal) -> Vec<JournalOp> {
        std::iter::from_fn(|| journal.poll()).collect()
    }

    #[test]
    fn an_entry_stays_until_the_commit_of_its_latest_write() {
        let mut j = Journal::loaded(Vec::new());
        j.record(&op(1, Write::Put("o/1".into(), vec![1, 2])), false);
        j.record(&op(2, Write::Put("s/a".into(), vec![1])), false);
        j.record(&op(3, Write::Put("o/1".into(), vec![3])), false);
        assert_eq!(
            drain(&mut j),
            [
                JournalOp::Put("o/1".into(), vec![1, 2]),
                JournalOp::Put("o/1".into(), vec![3])
            ],
            "outgoing records only"
        );
        j.committed(2);
        assert_eq!(drain(&mut j), [], "its latest write is not committed");
        j.record(&op(4, Write::Delete("o/1".into())), false);
        assert_eq!(drain(&mut j), [JournalOp::Put("o/1".into(), vec![])]);
        assert_eq!(j.bytes(), 3, "a tombstone holds its key");
        j.committed(4);
        assert_eq!(drain(&mut j), [JournalOp::Remove("o/1".into())]);
        assert_eq!(j.bytes(), 0);
    }

    #[test]
    fn entries_not_taken_at_load_go_and_a_failed_write_forgets_the_key() {
        let mut j = Journal::loaded(vec!["x/1".into()]);
        j.record(&op(1, Write::Put("o/3".into(), vec![1])), false);
        assert!(j.failed("o/3"), "reported");
        assert!(!j.failed("o/3"), "once");
        j.record(&op(2, Write::Delete("o/3".into())), false);
        assert!(!j.failed("o/3"), "a deletion is not news");
        j.failed("o/9");
        assert_eq!(
            drain(&mut j),
            [
                JournalOp::Remove("x/1".into()),
                JournalOp::Put("o/3".into(), vec![1]),
                JournalOp::Remove("o/3".into()),
                JournalOp::Put("o/3".into(), vec![]),
                JournalOp::Remove("o/3".into())
            ]
        );
        assert_eq!(j.bytes(), 0);
        j.committed(1);
        assert_eq!(drain(&mut j), [], "nothing left to remove");
    }

    #[test]
    fn it_is_full_at_its_cap_and_never_without_a_host_journal() {
        let mut j = Journal::loaded(Vec::new());
        let big = vec![1; JOURNAL_MAX_BYTES];
        j.record(&op(1, Write::Put("o/1".into(), big.clone())), false);
        assert!(j.is_full());
        j.committed(1);
        assert!(!j.is_full());
        let mut off = Journal::default();
        off.record(&op(1, Write::Put("o/1".into(), big)), false);
        assert!(!off.is_full() && off.poll().is_none());
    }

    #[test]
    fn host_keys_carry_the_storage_name_and_read_back() {
        let key = journal_key("wasmqtt:ws://h:80/:c", "o/0000000000000001");
        assert_eq!(
            record_key("wasmqtt:ws://h:80/:c", &key),
            Some("o/0000000000000001")
        );
        assert_eq!(record_key("wasmqtt:ws://h:80/:other", &key), None);
    }
}
