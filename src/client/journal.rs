//! The journal: a synchronous copy (kept by the host in `localStorage`) of the outgoing
//! messages' records that IndexedDB has not committed yet. A store transaction commits a task
//! or more after `publish()` returns; a page that reloads or crashes in between would lose the
//! message without a word.
//!
//! The journal is written in chunks, one per task: what the task journaled (publishes the
//! application called, messages sent or acknowledged in a socket read, a store commit, a timer)
//! is gathered and written as one chunk when the host flushes at the end of that task
//! (`Client::flush`, in the same microtask checkpoint as the socket's bytes, before anything
//! else can run), so twenty publishes or a read of twenty PUBACKs cost one `localStorage`
//! write, not twenty. A reload or a closed tab comes in a later task, so a publish is safe from
//! them once `publish()` returns; a renderer crash, once the task that called it has ended.
//!
//! A chunk holds the latest writes of its task, each a value, or empty for a deletion (a
//! tombstone: the message was acknowledged or given up, and the store may still hold it). A
//! record's entry leaves once the commit holding its latest write has completed; a chunk
//! leaves once no record's latest uncommitted write is in it. At load the chunks are read in
//! order, a later write of a record over an earlier one, and laid over the store's records
//! (`Session::load_journaled`), so an acknowledged message is never resurrected and an
//! uncommitted one is never lost.
//!
//! When messages are acknowledged after their handlers, the marks written as a handler finishes
//! (an incoming QoS 2 packet id, a de-duplication id) go in too, so that a page that dies before
//! IndexedDB commits them does not run the handler again for the broker's redelivery. A mark has
//! no value; its entry holds one byte while it is set, and is empty once it is deleted.

use std::collections::VecDeque;

use crate::session::{is_mark_key, is_outgoing_key, StoreOp, Write};

use super::error::ClientError;
use super::record_list;

/// The most the journal holds (record keys and values, in bytes; the host stores one character
/// a byte), about a fifth of the ~5 MB `localStorage` gives an origin. While it holds this much,
/// QoS 1 and 2 publishes are refused with `JOURNAL_FULL` (they are accepted again once
/// IndexedDB has committed what it holds, normally within a task or two).
pub const JOURNAL_MAX_BYTES: usize = 1024 * 1024;

/// What the host does to its journal, at once and in order. Keys are the host's journal keys
/// without the session's prefix (`journal_key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalOp {
    /// Store `value` under the key.
    Put(String, Vec<u8>),
    /// Forget the key.
    Remove(String),
}

/// The host's journal key of a journal entry: under the session's storage name, which holds no
/// credential (`session::storage_name`).
pub fn journal_key(storage_name: &str, entry: &str) -> String {
    format!("{storage_name}|journal|{entry}")
}

/// The entry of a host journal key of this session, if it is one.
pub fn record_key<'a>(storage_name: &str, key: &'a str) -> Option<&'a str> {
    key.strip_prefix(storage_name)?.strip_prefix("|journal|")
}

/// The entry name of chunk `n`: fixed width, so that names sort as numbers do.
fn chunk_name(n: u64) -> String {
    format!("c/{n:016x}")
}

fn chunk_number(name: &str) -> Option<u64> {
    u64::from_str_radix(name.strip_prefix("c/")?, 16).ok()
}

/// One record of a chunk: a value, or empty for a deletion (see the module's notes).
fn put_record(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    record_list::put(out, key, Some(value));
}

fn decode_chunk(bytes: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    // A chunk never holds the list's own deletions: one would be damage.
    record_list::read(bytes)?
        .into_iter()
        .map(|(key, value)| Some((key, value?)))
        .collect()
}

/// What the host's journal held at load, as records: every write in order (chunks by number;
/// an entry of an older version's journal, one record under its own key, comes before them
/// all), of which the last of each record counts. Also the host's entries, all to go once what was taken from them is
/// written again, and those that could not be read (reported as damaged).
pub(crate) struct Loaded {
    pub(crate) records: Vec<(String, Vec<u8>)>,
    pub(crate) entries: Vec<String>,
    pub(crate) unreadable: Vec<String>,
    /// The next chunk's number: above every chunk loaded, so a later load reads in order.
    pub(crate) next_chunk: u64,
}

pub(crate) fn read_host_entries(host: Vec<(String, Vec<u8>)>) -> Loaded {
    let mut loaded = Loaded {
        records: Vec::new(),
        entries: Vec::new(),
        unreadable: Vec::new(),
        next_chunk: 0,
    };
    let mut chunks = Vec::new();
    for (name, value) in host {
        loaded.entries.push(name.clone());
        match chunk_number(&name) {
            Some(_) => chunks.push((name, value)),
            None => loaded.records.push((name, value)),
        }
    }
    // Chunk names are fixed-width: in name order is in number order.
    crate::sort::sort_by(&mut chunks, |a, b| a.0.cmp(&b.0));
    for (name, value) in chunks {
        loaded.next_chunk = chunk_number(&name).unwrap_or(0) + 1;
        match decode_chunk(&value) {
            // In order: the session's load takes a record's last write (`merge_journal`).
            Some(mut records) => loaded.records.append(&mut records),
            None => loaded.unreadable.push(name),
        }
    }
    loaded
}

/// The records a host's journal entries hold, as the next load reads them: the last write of
/// each (for tools and tests).
pub fn journal_records(entries: Vec<(String, Vec<u8>)>) -> Vec<(String, Vec<u8>)> {
    let mut records: Vec<(String, Vec<u8>)> = Vec::new();
    for (key, value) in read_host_entries(entries).records {
        match records.iter_mut().find(|(k, _)| *k == key) {
            Some(record) => record.1 = value,
            None => records.push((key, value)),
        }
    }
    records
}

/// The error for a journal entry the host could not write.
pub(crate) fn failed_error(key: &str) -> ClientError {
    ClientError {
        record: Some(key.to_string()),
        ..ClientError::new(
            "JOURNAL_FAILED",
            format!(
                "localStorage refused the journal entry of {key} (quota): the message is safe from \
                 a reload only once IndexedDB has committed it"
            ),
        )
    }
}

#[derive(Debug)]
struct Entry {
    key: String,
    /// The sequence number of the key's latest write, and its value.
    seq: u64,
    value: Vec<u8>,
    /// The chunk that holds it (the next chunk: not written yet).
    chunk: u64,
}

impl Entry {
    fn size(&self) -> usize {
        self.key.len() + self.value.len()
    }
}

#[derive(Debug, Default)]
pub(crate) struct Journal {
    enabled: bool,
    /// The records' latest uncommitted writes, sorted by key: a list, not a map (each map type
    /// instantiated costs wasm size). Keys grow with publish order, so a new one goes at the
    /// end; a commit walks it, and it holds at most [`JOURNAL_MAX_BYTES`].
    entries: Vec<Entry>,
    /// Keys of messages whose entry the host refused, reported once each, until they are done.
    refused: Vec<String>,
    bytes: usize,
    /// The chunk the current task's writes go to.
    next_chunk: u64,
    /// Chunks the host holds, by number, each with how many entries it holds.
    chunks: Vec<(u64, usize)>,
    /// The host's entries from the last page, to go once the records taken from them are
    /// written again (at the next flush).
    stale: Vec<String>,
    /// Something waits for [`Journal::flush`]: writes of this task, or entries to remove.
    unflushed: bool,
    ops: VecDeque<JournalOp>,
}

impl Journal {
    /// A journal for a host that keeps one, which held `loaded`. The records the session took
    /// come back through [`Journal::record`] as its first writes; the host's entries go once
    /// those are written again.
    pub(crate) fn loaded(loaded: Loaded) -> Journal {
        Journal {
            enabled: true,
            unflushed: !loaded.entries.is_empty(),
            stale: loaded.entries,
            next_chunk: loaded.next_chunk,
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

    /// A write of the session is on its way to the store: outgoing records go in (with the
    /// task's chunk), and the processed marks too with `marks` (acknowledging after the
    /// handler).
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
        let entry = Entry {
            key: key.clone(),
            seq: op.seq,
            value,
            chunk: self.next_chunk,
        };
        self.unflushed = true;
        self.bytes += entry.size();
        match self.find(key) {
            Ok(i) => {
                let old = std::mem::replace(&mut self.entries[i], entry);
                self.bytes -= old.size();
                self.leave_chunk(old.chunk);
            }
            Err(i) => self.entries.insert(i, entry),
        }
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|e| e.key.as_str().cmp(key))
    }

    /// An entry of `chunk` was replaced or committed.
    fn leave_chunk(&mut self, chunk: u64) {
        if let Some(held) = self.chunks.iter_mut().find(|(n, _)| *n == chunk) {
            held.1 -= 1;
            self.unflushed |= held.1 == 0;
        }
    }

    /// Whether the task's writes wait for [`Journal::flush`].
    pub(crate) fn has_unflushed(&self) -> bool {
        self.unflushed
    }

    /// The host's task ends: its writes leave as one chunk; then the host's entries that hold
    /// nothing current any more go (after the chunk that replaces them is written).
    pub(crate) fn flush(&mut self) {
        // Called at every task's end that had work: often nothing was journaled.
        if !self.unflushed {
            return;
        }
        self.unflushed = false;
        let chunk = self.next_chunk;
        let mut value = Vec::new();
        let mut count = 0;
        for entry in self.entries.iter().filter(|e| e.chunk == chunk) {
            put_record(&mut value, &entry.key, &entry.value);
            count += 1;
        }
        if count > 0 {
            self.chunks.push((chunk, count));
            self.ops.push_back(JournalOp::Put(chunk_name(chunk), value));
            self.next_chunk += 1;
        }
        for name in std::mem::take(&mut self.stale) {
            self.ops.push_back(JournalOp::Remove(name));
        }
        for &(n, held) in &self.chunks {
            if held == 0 {
                self.ops.push_back(JournalOp::Remove(chunk_name(n)));
            }
        }
        self.chunks.retain(|(_, held)| *held > 0);
    }

    /// The store committed every write up to `seq`: entries whose latest write it holds go.
    pub(crate) fn committed(&mut self, seq: u64) {
        let mut left = Vec::new();
        let bytes = &mut self.bytes;
        self.entries.retain(|entry| {
            if entry.seq > seq {
                return true;
            }
            *bytes -= entry.size();
            left.push(entry.chunk);
            false
        });
        for chunk in left {
            self.leave_chunk(chunk);
        }
    }

    /// The host could not write entry `name` (its quota is used up). The records whose latest
    /// write it held are dropped from the journal, and everything it still holds is written
    /// again as one chunk, the older chunks removed, so that no older value of a dropped record
    /// is left to be read at the next load. Returns the keys of messages the application has
    /// not heard of yet (a refused deletion is not news: the message is done).
    pub(crate) fn failed(&mut self, name: &str) -> Vec<String> {
        let Some(chunk) = chunk_number(name) else {
            return Vec::new();
        };
        let mut news = Vec::new();
        let (bytes, refused) = (&mut self.bytes, &mut self.refused);
        self.entries.retain(|entry| {
            if entry.chunk != chunk {
                return true;
            }
            *bytes -= entry.size();
            let deletion = entry.value.is_empty();
            if !deletion && !refused.contains(&entry.key) {
                refused.push(entry.key.clone());
                news.push(entry.key.clone());
            }
            false
        });
        self.chunks.retain(|(n, _)| *n != chunk);
        // Every chunk goes once the rewrite is written (or refused in turn: then all go).
        for held in &mut self.chunks {
            held.1 = 0;
        }
        for entry in &mut self.entries {
            entry.chunk = self.next_chunk;
        }
        self.unflushed = true;
        self.flush();
        news
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

    fn put(seq: u64, key: &str, value: &[u8]) -> StoreOp {
        op(seq, Write::Put(key.into(), value.to_vec()))
    }

    fn drain(journal: &mut Journal) -> Vec<JournalOp> {
        std::iter::from_fn(|| journal.poll()).collect()
    }

    fn encode_chunk<'a>(records: impl Iterator<Item = (&'a str, &'a [u8])>) -> Vec<u8> {
        let mut out = Vec::new();
        for (key, value) in records {
            put_record(&mut out, key, value);
        }
        out
    }

    fn chunk(n: u64, records: &[(&str, &[u8])]) -> JournalOp {
        JournalOp::Put(chunk_name(n), encode_chunk(records.iter().copied()))
    }

    fn fresh() -> Journal {
        Journal::loaded(read_host_entries(Vec::new()))
    }

    #[test]
    fn a_tasks_writes_leave_as_one_chunk_when_the_host_flushes() {
        let mut j = fresh();
        j.record(&put(1, "o/1", &[1, 2]), false);
        j.record(&put(2, "s/a", &[1]), false);
        j.record(&put(3, "o/2", &[3]), false);
        j.record(&put(4, "o/1", &[4]), false);
        assert_eq!(drain(&mut j), [], "nothing before the task ends");
        assert!(j.has_unflushed());
        j.flush();
        assert!(!j.has_unflushed());
        assert_eq!(
            drain(&mut j),
            [chunk(0, &[("o/1", &[4]), ("o/2", &[3])])],
            "outgoing records only, each at its latest write"
        );
        j.flush();
        assert_eq!(drain(&mut j), [], "an empty task writes nothing");
    }

    #[test]
    fn a_chunk_goes_once_none_of_its_records_is_current_and_uncommitted() {
        let mut j = fresh();
        j.record(&put(1, "o/1", &[1]), false);
        j.record(&put(2, "o/2", &[2]), false);
        j.flush();
        j.record(&op(3, Write::Delete("o/1".into())), false);
        j.flush();
        assert_eq!(
            drain(&mut j),
            [
                chunk(0, &[("o/1", &[1]), ("o/2", &[2])]),
                chunk(1, &[("o/1", &[])])
            ]
        );
        assert_eq!(j.bytes(), 3 + 4, "a tombstone holds its key");
        j.committed(2);
        j.flush();
        assert_eq!(
            drain(&mut j),
            [JournalOp::Remove(chunk_name(0))],
            "o/1 replaced, o/2 committed"
        );
        j.committed(3);
        assert!(j.has_unflushed());
        j.flush();
        assert_eq!(drain(&mut j), [JournalOp::Remove(chunk_name(1))]);
        assert_eq!(j.bytes(), 0);
    }

    #[test]
    fn a_load_reads_chunks_in_order_over_an_older_versions_entries_and_replaces_them() {
        let host = vec![
            (chunk_name(7), encode_chunk([("o/1", &[9][..])].into_iter())),
            ("o/1".to_string(), vec![1]),
            (
                chunk_name(3),
                encode_chunk([("o/1", &[3][..]), ("o/2", &[])].into_iter()),
            ),
            (chunk_name(5), vec![0, 9, b'x']),
        ];
        let loaded = read_host_entries(host);
        let writes = |records: &[(String, Vec<u8>)]| {
            records
                .iter()
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            writes(&loaded.records),
            ["o/1=[1]", "o/1=[3]", "o/2=[]", "o/1=[9]"],
            "the older version's entry, then the chunks in order"
        );
        assert_eq!(loaded.unreadable, [chunk_name(5)]);
        assert_eq!(loaded.next_chunk, 8, "above every chunk loaded");
        let mut j = Journal::loaded(loaded);
        // The session writes what it took again; the old entries go after that chunk.
        j.record(&put(1, "o/1", &[9]), false);
        j.flush();
        let ops = drain(&mut j);
        assert_eq!(ops[0], chunk(8, &[("o/1", &[9])]));
        let mut removed: Vec<_> = ops[1..]
            .iter()
            .map(|op| match op {
                JournalOp::Remove(name) => name.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        removed.sort();
        let mut expected = vec![
            chunk_name(3),
            chunk_name(5),
            chunk_name(7),
            "o/1".to_string(),
        ];
        expected.sort();
        assert_eq!(removed, expected);
    }

    #[test]
    fn a_refused_chunk_is_reported_per_message_once_and_the_rest_is_written_again() {
        let mut j = fresh();
        j.record(&put(1, "o/1", &[1]), false);
        j.flush();
        drain(&mut j);
        j.record(&put(2, "o/2", &[2]), false);
        j.record(&op(3, Write::Delete("o/1".into())), false);
        j.flush();
        assert_eq!(
            drain(&mut j)[1..],
            [JournalOp::Remove(chunk_name(0))],
            "o/1's older value goes after the chunk that replaces it, written or not"
        );
        // Chunk 1 (o/2 and o/1's tombstone) is refused: o/2 is told of, not the tombstone.
        assert_eq!(j.failed(&chunk_name(1)), ["o/2".to_string()]);
        assert_eq!(drain(&mut j), [], "nothing left to write again");
        assert_eq!(j.bytes(), 0);
        j.record(&put(4, "o/2", &[5]), false);
        j.record(&put(5, "o/3", &[6]), false);
        j.flush();
        drain(&mut j);
        assert_eq!(
            j.failed(&chunk_name(2)),
            ["o/3".to_string()],
            "o/2 was told of already"
        );
        j.record(&put(6, "o/4", &[7]), false);
        j.flush();
        j.record(&put(7, "o/5", &[8]), false);
        j.flush();
        drain(&mut j);
        assert_eq!(j.failed(&chunk_name(4)), ["o/5".to_string()]);
        assert_eq!(
            drain(&mut j),
            [chunk(5, &[("o/4", &[7])]), JournalOp::Remove(chunk_name(3))],
            "what is left, written again as one chunk, then the older ones go"
        );
        assert_eq!(j.failed("o/9"), [] as [String; 0], "not a chunk of ours");
    }

    #[test]
    fn chunks_read_back_and_damaged_ones_do_not() {
        let records: Vec<(&str, &[u8])> = vec![("o/1", &[1, 2]), ("d/x", &[])];
        let bytes = encode_chunk(records.iter().copied());
        let back = decode_chunk(&bytes).unwrap();
        assert_eq!(back, [("o/1".into(), vec![1, 2]), ("d/x".into(), vec![])]);
        assert_eq!(decode_chunk(&bytes[..bytes.len() - 1]), None);
        assert_eq!(decode_chunk(&[]), Some(Vec::new()));
    }

    #[test]
    fn it_is_full_at_its_cap_and_never_without_a_host_journal() {
        let mut j = fresh();
        let big = vec![1; JOURNAL_MAX_BYTES];
        j.record(&put(1, "o/1", &big), false);
        assert!(j.is_full());
        j.committed(1);
        assert!(!j.is_full());
        let mut off = Journal::default();
        off.record(&put(1, "o/1", &big), false);
        off.flush();
        assert!(!off.is_full() && off.poll().is_none());
    }

    #[test]
    fn host_keys_carry_the_storage_name_and_read_back() {
        let key = journal_key("wasmqtt:ws://h:80/:c", &chunk_name(1));
        assert_eq!(
            record_key("wasmqtt:ws://h:80/:c", &key),
            Some("c/0000000000000001")
        );
        assert_eq!(record_key("wasmqtt:ws://h:80/:other", &key), None);
    }
}
