//! The window of application message ids seen recently, for inbound de-duplication: bounded by
//! count, by age, and by the length of each id, oldest evicted first.
//!
//! Ids come from peers: any client that may publish on a subscribed topic chooses them. A key
//! longer than [`MAX_KEY_BYTES`] is not remembered at all (the message is delivered, as one
//! without an id), so the window holds at most `window_size` x 256 bytes in memory and in the
//! store. A cap rather than a fixed-size hash: no two ids can ever be taken for one another (a
//! hash short enough to save room can collide, and then a message would be dropped as a
//! duplicate of another), nothing depends on a hash staying the same across versions of the
//! stored records, and the ids this client generates are about 20 bytes.

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// The longest de-duplication key remembered (the message id and the subscription identifiers
/// it came with). The application's own message ids are limited to half of it when given.
pub(crate) const MAX_KEY_BYTES: usize = 256;

/// The longest message id the application may give a publish.
pub(crate) const MAX_MESSAGE_ID_BYTES: usize = MAX_KEY_BYTES / 2;

#[derive(Debug, Default)]
pub(crate) struct SeenIds {
    order: VecDeque<(Rc<str>, u64)>,
    /// Each id (the same allocation as in `order`), and whether it came from the store at load
    /// and is still unclaimed (see [`SeenIds::claim_loaded`]).
    ids: HashMap<Rc<str>, bool>,
}

impl SeenIds {
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.ids.contains_key(id)
    }

    /// Records `id` seen at `now`; false when it was already there.
    pub(crate) fn insert(&mut self, id: &str, now: u64) -> bool {
        self.record(id, now, false)
    }

    /// Records `id` read from the store when the session was loaded.
    pub(crate) fn insert_loaded(&mut self, id: &str, now: u64) {
        self.record(id, now, true);
    }

    fn record(&mut self, id: &str, now: u64, loaded: bool) -> bool {
        if self.ids.contains_key(id) || id.len() > MAX_KEY_BYTES {
            return false;
        }
        let id: Rc<str> = Rc::from(id);
        self.ids.insert(id.clone(), loaded);
        self.order.push_back((id, now));
        true
    }

    /// Whether `id` came from the store at load and was not claimed before; claims it. An id
    /// this session received itself never counts, however it stands now.
    pub(crate) fn claim_loaded(&mut self, id: &str) -> bool {
        match self.ids.get_mut(id) {
            Some(loaded) if *loaded => {
                *loaded = false;
                true
            }
            _ => false,
        }
    }

    /// The ids, oldest first.
    pub(crate) fn ids(&self) -> impl Iterator<Item = &str> {
        self.order.iter().map(|(id, _)| &**id)
    }

    /// Evicts ids beyond `max_len` or older than `max_age`, calling `evicted` for each.
    pub(crate) fn evict(
        &mut self,
        now: u64,
        max_len: usize,
        max_age: u64,
        mut evicted: impl FnMut(String),
    ) {
        while let Some((id, seen_at)) = self.order.front() {
            let too_many = self.order.len() > max_len;
            let too_old = now.saturating_sub(*seen_at) > max_age;
            if !(too_many || too_old) {
                break;
            }
            self.ids.remove(id);
            let (id, _) = self.order.pop_front().expect("front exists");
            evicted(id.to_string());
        }
    }

    /// The earliest time an id ages out.
    pub(crate) fn next_expiry(&self, max_age: u64) -> Option<u64> {
        self.order.front().map(|(_, seen_at)| seen_at + max_age + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_remembered_until_evicted_by_count_or_age() {
        let mut seen = SeenIds::default();
        assert!(seen.insert("a", 0));
        assert!(!seen.insert("a", 1), "a repeat is reported");
        seen.insert("b", 10);
        seen.insert("c", 20);
        let mut gone = vec![];
        seen.evict(20, 2, 1_000, |id| gone.push(id));
        assert_eq!(gone, ["a"], "count bound");
        seen.evict(1_015, 2, 1_000, |id| gone.push(id));
        assert_eq!(gone, ["a", "b"], "age bound");
        assert!(seen.contains("c") && !seen.contains("b"));
        assert_eq!(seen.next_expiry(1_000), Some(1_021));
    }

    #[test]
    fn only_ids_from_the_store_are_claimed_and_each_once() {
        let mut seen = SeenIds::default();
        seen.insert_loaded("stored", 0);
        seen.insert("received-here", 0);
        assert!(
            !seen.insert("stored", 1),
            "a loaded id is seen like any other"
        );
        assert!(seen.claim_loaded("stored"));
        assert!(!seen.claim_loaded("stored"), "claimed once");
        assert!(!seen.claim_loaded("received-here"));
        assert!(!seen.claim_loaded("never"));
        assert!(seen.contains("stored"), "claiming does not forget the id");
    }

    #[test]
    fn an_id_longer_than_the_cap_is_not_remembered() {
        // Issue #15.2: 10,000 unique 60 KB ids grew memory to 1.4 GB.
        let mut seen = SeenIds::default();
        let long = "x".repeat(MAX_KEY_BYTES + 1);
        assert!(!seen.insert(&long, 0));
        assert!(!seen.contains(&long));
        assert_eq!(seen.ids().count(), 0);
        let longest = "y".repeat(MAX_KEY_BYTES);
        assert!(seen.insert(&longest, 0));
    }
}
