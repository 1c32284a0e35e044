//! Keeps a host's durable store in step with the session (sans-I/O, like the link supervisor):
//! group commit of the session's writes, and what to do when a commit fails.
//!
//! Normally every write the session made since the last commit goes into the next transaction,
//! and the session hears that a sequence number is committed only once its transaction has
//! completed. When a commit fails (the storage quota is used up, the database went away), the
//! store no longer matches the session. Left as it is, a reload would resume from that stale copy
//! and could re-use QoS 2 packet ids the broker has released, or resend finished messages. So the
//! store is emptied at once, the session carries on in memory (writes count as committed
//! immediately), and from time to time the whole state is written again from
//! [`Session::durable_records`](crate::session::Session::durable_records) in one transaction;
//! once that succeeds the store is durable again.
//!
//! A transaction's writes go to the store as one entry (see `batches`). Once the batches
//! written since the store last held the state alone outweigh that state (and
//! [`REWRITE_AFTER_BYTES`]), the next commit writes the whole state instead, and the store
//! keeps nothing else: it never holds much more than twice what the session needs.

use crate::session::{StoreOp, Write};

use super::batches::{self, as_entry, batch_key};

/// The least time from the start of one commit to the start of the next, ms. A transaction
/// costs the page about half a millisecond whatever it holds: under a steady stream this
/// groups the writes of this long into one, and a write after a quiet spell still commits at
/// once.
pub const COMMIT_INTERVAL_MS: u64 = 16;

/// Bytes of batches written before the whole state is written again in their place, at the
/// least (a store whose state is larger waits for as many bytes as that state has).
pub const REWRITE_AFTER_BYTES: usize = 256 * 1024;

/// First wait before the store is rewritten after a failure, ms; doubled after each failed
/// rewrite up to [`MAX_RETRY_MS`].
pub const FIRST_RETRY_MS: u64 = 1_000;
pub const MAX_RETRY_MS: u64 = 30_000;

/// Work for the host's store. Run one at a time; report the outcome with [`StoreSync::finished`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Apply these writes in one transaction (a batch: see `batches`).
    Commit(Vec<Write>),
    /// Empty the store (it no longer matches the session).
    Clear,
    /// Replace everything in the store with the session's snapshot, taken now, in one
    /// transaction ([`StoreSync::rewrite`] gives the entries).
    Rewrite,
}

/// A change of the store's standing, for the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A commit failed: the session carries on in memory until a rewrite succeeds.
    Behind,
    /// A rewrite succeeded: the store is durable again.
    CaughtUp,
    /// Emptying the stale store failed: a reload may resume from it.
    ClearFailed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// No store: everything counts as committed at once.
    Memory,
    Durable,
    Behind {
        clear_due: bool,
        retry_at: u64,
    },
}

#[derive(Debug)]
pub struct StoreSync {
    mode: Mode,
    writes: Vec<Write>,
    /// Where each key's write is in `writes`, sorted by key: a later write of a key takes the
    /// place of the earlier one, since only the last can matter to the store once the
    /// transaction has committed (a message queued, sent and acknowledged between two commits
    /// costs one deletion instead of two puts and a deletion).
    index: Vec<(String, usize)>,
    last_seq: u64,
    /// The job running and the sequence number it makes durable.
    running: Option<(Kind, u64)>,
    retry_delay: u64,
    next_batch: u64,
    /// When the last commit started.
    last_commit: Option<u64>,
    /// Bytes the store holds beside the state, at most: batches written since the last
    /// rewrite (and what was replaced at load).
    replaced: usize,
    /// Bytes of the state when last written whole (or loaded).
    state: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Commit,
    Clear,
    Rewrite,
}

/// What the host does after a call: report `committed` to the session (when Some), start `job`
/// (when Some), and tell the application about `change` (when Some).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Step {
    pub committed: Option<u64>,
    pub job: Option<Job>,
    pub change: Option<Change>,
}

impl StoreSync {
    /// `durable`: a store is open; otherwise writes are only counted.
    pub fn new(durable: bool) -> StoreSync {
        StoreSync {
            mode: if durable { Mode::Durable } else { Mode::Memory },
            writes: Vec::new(),
            index: Vec::new(),
            last_seq: 0,
            running: None,
            retry_delay: FIRST_RETRY_MS,
            next_batch: 0,
            last_commit: None,
            replaced: 0,
            state: 0,
        }
    }

    /// A sync for a store that was loaded: its batches go on from `unpacked`'s numbers.
    pub(crate) fn loaded(unpacked: &batches::Unpacked) -> StoreSync {
        let state = unpacked.records.iter().map(|(k, v)| k.len() + v.len());
        StoreSync {
            next_batch: unpacked.next_batch,
            replaced: unpacked.replaced_bytes,
            state: state.sum(),
            ..StoreSync::new(true)
        }
    }

    /// The entries that replace everything in the store with `records` (the session's
    /// snapshot, taken when a [`Job::Rewrite`] is started): one batch.
    pub fn rewrite(&mut self, records: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
        let batch = batches::encode(records.iter().map(|(k, v)| (k.as_str(), Some(&v[..]))));
        self.state = batch.len();
        self.replaced = 0;
        vec![(self.take_batch_key(), batch)]
    }

    fn take_batch_key(&mut self) -> String {
        self.next_batch += 1;
        batch_key(self.next_batch - 1)
    }

    /// The commit of `writes`: one batch, or the whole state written again in its place.
    fn commit(&mut self, writes: Vec<Write>) -> Job {
        if self.replaced > self.state.max(REWRITE_AFTER_BYTES) {
            return Job::Rewrite; // the snapshot holds these writes too
        }
        let batch = batches::encode(writes.iter().map(as_entry));
        self.replaced += batch.len();
        Job::Commit(vec![Write::Put(self.take_batch_key(), batch)])
    }

    /// Whether writes are being made durable now.
    pub fn is_durable(&self) -> bool {
        self.mode == Mode::Durable
    }

    /// Whether a job is running.
    pub fn is_busy(&self) -> bool {
        self.running.is_some()
    }

    /// Takes one of the session's writes.
    pub fn push(&mut self, op: StoreOp) {
        self.last_seq = op.seq;
        if self.mode == Mode::Memory {
            return;
        }
        let (Write::Put(key, _) | Write::Delete(key)) = &op.write;
        match self.index.binary_search_by(|(k, _)| k.as_str().cmp(key)) {
            Ok(i) => self.writes[self.index[i].1] = op.write,
            Err(i) => {
                self.index.insert(i, (key.clone(), self.writes.len()));
                self.writes.push(op.write);
            }
        }
    }

    fn take_writes(&mut self) -> Vec<Write> {
        self.index.clear();
        std::mem::take(&mut self.writes)
    }

    /// What is due now.
    pub fn poll(&mut self, now: u64) -> Step {
        let mut step = Step::default();
        match self.mode {
            Mode::Memory => step.committed = Some(self.last_seq),
            Mode::Durable => {
                let due = self.next_commit_at().is_none_or(|at| now >= at);
                if self.running.is_none() && !self.writes.is_empty() && due {
                    self.last_commit = Some(now);
                    self.running = Some((Kind::Commit, self.last_seq));
                    let writes = self.take_writes();
                    step.job = Some(self.commit(writes));
                }
            }
            Mode::Behind {
                clear_due,
                retry_at,
            } => {
                // In memory until caught up: nothing waits for the store.
                step.committed = Some(self.last_seq);
                if self.running.is_some() {
                    return step; // writes made during a rewrite are applied after it
                }
                self.take_writes();
                if clear_due {
                    self.mode = Mode::Behind {
                        clear_due: false,
                        retry_at,
                    };
                    self.running = Some((Kind::Clear, self.last_seq));
                    step.job = Some(Job::Clear);
                } else if now >= retry_at {
                    self.running = Some((Kind::Rewrite, self.last_seq));
                    step.job = Some(Job::Rewrite);
                }
            }
        }
        step
    }

    /// The running job finished, successfully or not.
    pub fn finished(&mut self, now: u64, ok: bool) -> Step {
        let Some((kind, seq)) = self.running.take() else {
            return Step::default();
        };
        let mut step = Step::default();
        match (kind, ok) {
            (Kind::Commit, true) => step.committed = Some(seq),
            (Kind::Commit, false) => {
                self.retry_delay = FIRST_RETRY_MS;
                self.mode = Mode::Behind {
                    clear_due: true,
                    retry_at: now + self.retry_delay,
                };
                step.change = Some(Change::Behind);
            }
            (Kind::Clear, true) => {}
            (Kind::Clear, false) => step.change = Some(Change::ClearFailed),
            (Kind::Rewrite, true) => {
                self.mode = Mode::Durable;
                self.retry_delay = FIRST_RETRY_MS;
                step.committed = Some(seq);
                step.change = Some(Change::CaughtUp);
            }
            (Kind::Rewrite, false) => {
                self.retry_delay = (self.retry_delay * 2).min(MAX_RETRY_MS);
                self.mode = Mode::Behind {
                    clear_due: false,
                    retry_at: now + self.retry_delay,
                };
            }
        }
        let next = self.poll(now);
        Step {
            committed: next.committed.or(step.committed),
            job: next.job,
            change: step.change,
        }
    }

    /// When [`StoreSync::poll`] has work again without any other input.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.mode {
            _ if self.running.is_some() => None,
            Mode::Behind { retry_at, .. } => Some(retry_at),
            Mode::Durable if !self.writes.is_empty() => self.next_commit_at(),
            _ => None,
        }
    }

    fn next_commit_at(&self) -> Option<u64> {
        self.last_commit.map(|at| at + COMMIT_INTERVAL_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GAP: u64 = COMMIT_INTERVAL_MS;

    fn put(sync: &mut StoreSync, seq: u64) {
        sync.push(StoreOp {
            seq,
            write: Write::Put(format!("k{seq}"), vec![seq as u8]),
        });
    }

    /// A commit job as the writes its batch holds.
    fn logical(job: Option<Job>) -> Option<Job> {
        let Some(Job::Commit(entries)) = job else {
            return job;
        };
        let [Write::Put(key, batch)] = &entries[..] else {
            panic!("a commit is one batch: {entries:?}");
        };
        assert!(key.starts_with("t/"), "{key}");
        let writes = batches::decode(batch).expect("a batch");
        Some(Job::Commit(
            writes
                .into_iter()
                .map(|(key, value)| match value {
                    Some(value) => Write::Put(key, value),
                    None => Write::Delete(key),
                })
                .collect(),
        ))
    }

    fn commit_of(seqs: &[u64]) -> Option<Job> {
        Some(Job::Commit(
            seqs.iter()
                .map(|s| Write::Put(format!("k{s}"), vec![*s as u8]))
                .collect(),
        ))
    }

    #[test]
    fn of_several_writes_of_a_key_between_two_commits_only_the_last_goes() {
        let mut sync = StoreSync::new(true);
        let put = |seq, key: &str, value: u8| StoreOp {
            seq,
            write: Write::Put(key.into(), vec![value]),
        };
        sync.push(put(1, "o/1", 1));
        let step = sync.poll(0);
        assert!(step.job.is_some(), "the first commit starts");
        sync.push(put(2, "o/2", 1));
        sync.push(put(3, "o/1", 2));
        sync.push(put(4, "o/2", 2));
        sync.push(StoreOp {
            seq: 5,
            write: Write::Delete("o/2".into()),
        });
        sync.push(put(6, "s/a", 1));
        let step = sync.finished(GAP, true);
        assert_eq!(step.committed, Some(1));
        assert_eq!(
            logical(step.job),
            Some(Job::Commit(vec![
                Write::Delete("o/2".into()),
                Write::Put("o/1".into(), vec![2]),
                Write::Put("s/a".into(), vec![1]),
            ])),
            "each key once, at its first place, with its last write"
        );
        sync.push(put(7, "o/2", 3));
        assert_eq!(
            logical(sync.finished(2 * GAP, true).job),
            Some(Job::Commit(vec![Write::Put("o/2".into(), vec![3])])),
            "a new transaction starts a new list"
        );
    }

    #[test]
    fn once_the_batches_outweigh_the_state_the_next_commit_writes_the_state_alone() {
        let mut sync = StoreSync::new(true);
        let big = |seq: u64| StoreOp {
            seq,
            write: Write::Put(format!("o/{seq}"), vec![0; 100 * 1024]),
        };
        let mut batches = Vec::new();
        for seq in 1..=3 {
            sync.push(big(seq));
            let job = sync.poll(seq * GAP).job;
            let Some(Job::Commit(entries)) = job else {
                panic!("a batch: {job:?}");
            };
            batches.push(entries[0].clone());
            sync.finished(seq * GAP, true);
        }
        let keys: Vec<_> = batches.iter().map(|w| as_entry(w).0.to_string()).collect();
        assert_eq!(
            keys,
            [
                "t/0000000000000000",
                "t/0000000000000001",
                "t/0000000000000002"
            ]
        );
        // 300 KiB of batches: past REWRITE_AFTER_BYTES, the next commit is the whole state.
        sync.push(big(4));
        assert_eq!(sync.poll(4 * GAP).job, Some(Job::Rewrite));
        let snapshot = vec![("o/4".to_string(), vec![4; 10])];
        let entries = sync.rewrite(&snapshot);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].0, "t/0000000000000003", "numbers go on");
        assert_eq!(batches::store_records(entries), snapshot);
        let step = sync.finished(4 * GAP, true);
        assert_eq!(
            step.committed,
            Some(4),
            "the snapshot held every write made"
        );
        assert!(sync.is_durable());
        // From the rewrite on, batches again, until they outweigh a state this small.
        sync.push(big(5));
        assert!(matches!(sync.poll(5 * GAP).job, Some(Job::Commit(_))));
    }

    #[test]
    fn a_state_larger_than_the_threshold_is_rewritten_only_after_as_many_bytes() {
        let mut sync = StoreSync::new(true);
        let state = vec![("o/1".to_string(), vec![0; 400 * 1024])];
        sync.rewrite(&state);
        // Past REWRITE_AFTER_BYTES, but not past the state: still batches.
        for seq in 1..=4 {
            sync.push(StoreOp {
                seq,
                write: Write::Put(format!("o/{seq}"), vec![0; 130 * 1024]),
            });
            let now = seq * GAP;
            assert!(matches!(sync.poll(now).job, Some(Job::Commit(_))), "{seq}");
            sync.finished(now, true);
        }
        sync.push(StoreOp {
            seq: 5,
            write: Write::Delete("o/1".into()),
        });
        assert_eq!(
            sync.poll(5 * GAP).job,
            Some(Job::Rewrite),
            "520 KiB of batches past 400 KiB of state"
        );
    }

    #[test]
    fn writes_made_during_a_commit_go_together_into_the_next_one() {
        let mut sync = StoreSync::new(true);
        put(&mut sync, 1);
        let step = sync.poll(0);
        assert_eq!((step.committed, logical(step.job)), (None, commit_of(&[1])));
        put(&mut sync, 2);
        put(&mut sync, 3);
        assert_eq!(sync.poll(0), Step::default(), "one transaction at a time");
        let step = sync.finished(5, true);
        assert_eq!(
            step.committed,
            Some(1),
            "only what the finished commit held"
        );
        assert_eq!(
            step.job, None,
            "not before COMMIT_INTERVAL_MS from the last start"
        );
        assert_eq!(sync.poll_timeout(), Some(GAP));
        let step = sync.poll(GAP);
        assert_eq!(logical(step.job), commit_of(&[2, 3]));
        let step = sync.finished(GAP + 6, true);
        assert_eq!((step.committed, step.job), (Some(3), None));
        assert!(sync.is_durable() && !sync.is_busy());
    }

    #[test]
    fn commits_start_at_least_an_interval_apart_and_at_once_after_a_quiet_spell() {
        let mut sync = StoreSync::new(true);
        put(&mut sync, 1);
        assert!(sync.poll(100).job.is_some(), "the first at once");
        sync.finished(101, true);
        put(&mut sync, 2);
        assert_eq!(sync.poll(102).job, None);
        assert_eq!(sync.poll_timeout(), Some(100 + GAP), "from the last start");
        put(&mut sync, 3);
        assert_eq!(logical(sync.poll(100 + GAP).job), commit_of(&[2, 3]));
        sync.finished(100 + GAP + 1, true);
        assert_eq!(sync.poll_timeout(), None, "nothing waits: no timer");
        put(&mut sync, 4);
        assert!(
            sync.poll(1_000).job.is_some(),
            "after a quiet spell, at once"
        );
    }

    #[test]
    fn without_a_store_every_write_counts_as_committed_at_once() {
        let mut sync = StoreSync::new(false);
        put(&mut sync, 1);
        put(&mut sync, 2);
        assert_eq!(
            sync.poll(0),
            Step {
                committed: Some(2),
                ..Step::default()
            }
        );
        assert!(!sync.is_durable());
    }

    #[test]
    fn a_failed_commit_empties_the_store_then_rewrites_it_with_growing_waits() {
        let mut sync = StoreSync::new(true);
        put(&mut sync, 1);
        sync.poll(0);
        put(&mut sync, 2);
        let step = sync.finished(100, false);
        assert_eq!(step.change, Some(Change::Behind));
        assert_eq!(step.committed, Some(2), "the session carries on in memory");
        assert_eq!(
            step.job,
            Some(Job::Clear),
            "the stale store is emptied at once"
        );
        assert!(!sync.is_durable());
        put(&mut sync, 3);
        assert_eq!(
            sync.poll(150).committed,
            Some(3),
            "nothing waits while behind"
        );
        let step = sync.finished(200, true);
        assert_eq!((step.job, step.change), (None, None));
        assert_eq!(sync.poll_timeout(), Some(100 + FIRST_RETRY_MS));
        assert_eq!(sync.poll(1_099).job, None);
        assert_eq!(sync.poll(1_100).job, Some(Job::Rewrite));
        assert_eq!(sync.poll_timeout(), None, "no timer while the rewrite runs");
        let step = sync.finished(1_200, false);
        assert_eq!(step.change, None, "still behind: no news");
        assert_eq!(sync.poll_timeout(), Some(1_200 + 2 * FIRST_RETRY_MS));
        let mut at = 1_200;
        for _ in 0..10 {
            at = sync.poll_timeout().unwrap();
            assert_eq!(sync.poll(at).job, Some(Job::Rewrite));
            sync.finished(at, false);
        }
        assert_eq!(sync.poll_timeout(), Some(at + MAX_RETRY_MS), "capped");
    }

    #[test]
    fn a_successful_rewrite_makes_the_store_durable_again_and_writes_made_meanwhile_follow() {
        let mut sync = StoreSync::new(true);
        put(&mut sync, 1);
        sync.poll(0);
        sync.finished(0, false);
        sync.finished(0, true); // the clear
        assert_eq!(sync.poll(FIRST_RETRY_MS).job, Some(Job::Rewrite));
        put(&mut sync, 2);
        assert_eq!(
            sync.poll(FIRST_RETRY_MS).committed,
            Some(2),
            "still in memory until the rewrite is done"
        );
        let step = sync.finished(FIRST_RETRY_MS + 10, true);
        assert_eq!(step.change, Some(Change::CaughtUp));
        assert_eq!(
            logical(step.job),
            commit_of(&[2]),
            "the write after the snapshot"
        );
        assert!(sync.is_durable());
        put(&mut sync, 3);
        assert_eq!(
            sync.poll(0),
            Step::default(),
            "waits for the commit running"
        );
        let step = sync.finished(FIRST_RETRY_MS + 10 + GAP, true);
        assert_eq!(
            (step.committed, logical(step.job)),
            (Some(2), commit_of(&[3]))
        );
        // A later failure starts the waits from the first one again.
        sync.finished(50_000, false);
        sync.finished(50_000, true);
        assert_eq!(sync.poll_timeout(), Some(50_000 + FIRST_RETRY_MS));
    }

    #[test]
    fn a_clear_that_fails_is_reported_and_the_rewrites_still_come() {
        let mut sync = StoreSync::new(true);
        put(&mut sync, 1);
        sync.poll(0);
        sync.finished(0, false);
        let step = sync.finished(0, false);
        assert_eq!(step.change, Some(Change::ClearFailed));
        assert_eq!(sync.poll(FIRST_RETRY_MS).job, Some(Job::Rewrite));
    }
}
