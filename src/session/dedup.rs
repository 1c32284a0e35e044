//! The window of application message ids seen recently, for inbound de-duplication: bounded by
//! count and by age, oldest evicted first.

use std::collections::{HashMap, VecDeque};

#[derive(Debug, Default)]
pub(crate) struct SeenIds {
    order: VecDeque<(String, u64)>,
    /// Each id, and whether it came from the store at load and is still unclaimed (see
    /// [`SeenIds::claim_loaded`]).
    ids: HashMap<String, bool>,
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
        if self.ids.contains_key(id) {
            return false;
        }
        self.ids.insert(id.to_string(), loaded);
        self.order.push_back((id.to_string(), now));
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
        self.order.iter().map(|(id, _)| id.as_str())
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
            evicted(id);
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
}
