//! Outbound topic aliases (MQTT 5, 3.3.2.3.4): a two-byte number stands for a topic the client
//! publishes to often, so later PUBLISH packets carry an empty topic name.
//!
//! The table belongs to one network connection (MQTT-3.3.2-7): it is reset on every new one, and
//! it is applied only to the packet as it leaves, never to the stored message, so a resent or
//! restored PUBLISH always carries its full topic.
//!
//! Policy: while aliases are free, a topic gets one the first time it is published (3 bytes once,
//! saved on every later publish). When all are taken, a topic replaces the least recently used
//! alias only when it is published a second time within the last few topics that found no alias,
//! so a stream of one-off topics cannot push the frequent ones out.

use std::collections::{HashMap, VecDeque};

use crate::codec::Publish;

#[derive(Debug, Default)]
pub(crate) struct OutboundAliases {
    /// Aliases usable on this connection: min(ours, the server's Topic Alias Maximum).
    maximum: u16,
    by_topic: HashMap<String, u16>,
    /// Index alias - 1: the topic and when it was last used.
    slots: Vec<(String, u64)>,
    clock: u64,
    /// Topics published recently without an alias, oldest first.
    misses: VecDeque<String>,
    hits: u64,
}

/// What [`OutboundAliases::assign`] decided for one PUBLISH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    /// Send the topic and the alias: this sets up (or changes) the mapping.
    Establish(u16),
    /// Send the alias with an empty topic.
    Reuse(u16),
}

impl OutboundAliases {
    /// A new connection: forget every mapping; `maximum` 0 turns aliases off.
    pub(crate) fn reset(&mut self, maximum: u16) {
        self.maximum = maximum;
        self.by_topic.clear();
        self.slots.clear();
        self.misses.clear();
    }

    /// PUBLISH packets that reused an alias, over the session's life.
    pub(crate) fn hits(&self) -> u64 {
        self.hits
    }

    /// Picks the alias for a publish to `topic`, if any, and records the choice.
    pub(crate) fn assign(&mut self, topic: &str) -> Option<Use> {
        if self.maximum == 0 || topic.is_empty() {
            return None;
        }
        self.clock += 1;
        if let Some(&alias) = self.by_topic.get(topic) {
            self.slots[usize::from(alias) - 1].1 = self.clock;
            return Some(Use::Reuse(alias));
        }
        if self.slots.len() < usize::from(self.maximum) {
            self.slots.push((topic.to_string(), self.clock));
            let alias = self.slots.len() as u16;
            self.by_topic.insert(topic.to_string(), alias);
            return Some(Use::Establish(alias));
        }
        let Some(seen) = self.misses.iter().position(|t| t == topic) else {
            if self.misses.len() >= usize::from(self.maximum) {
                self.misses.pop_front();
            }
            self.misses.push_back(topic.to_string());
            return None;
        };
        self.misses.remove(seen);
        let (index, _) = self
            .slots
            .iter()
            .enumerate()
            .min_by_key(|(_, (_, used))| *used)
            .expect("all slots taken, so there is one");
        let alias = index as u16 + 1;
        let old = std::mem::replace(&mut self.slots[index], (topic.to_string(), self.clock));
        self.by_topic.remove(&old.0);
        self.by_topic.insert(topic.to_string(), alias);
        Some(Use::Establish(alias))
    }

    /// Undoes an [`Use::Establish`] that could not be sent (the packet would exceed the
    /// server's Maximum Packet Size): the topic goes out in full, unaliased.
    pub(crate) fn withdraw(&mut self, alias: u16) {
        let index = usize::from(alias) - 1;
        if let Some((topic, _)) = self.slots.get(index) {
            self.by_topic.remove(topic);
            // An empty slot is never reused by topic lookup; it is refilled by replacement.
            self.slots[index] = (String::new(), 0);
        }
    }

    /// Rewrites `publish` for the wire as [`OutboundAliases::assign`] decides.
    pub(crate) fn apply(&mut self, publish: &mut Publish) -> Option<Use> {
        let decision = self.assign(&publish.topic)?;
        match decision {
            Use::Establish(alias) => publish.properties.topic_alias = Some(alias),
            Use::Reuse(alias) => {
                self.hits += 1;
                publish.properties.topic_alias = Some(alias);
                publish.topic.clear();
            }
        }
        Some(decision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_aliases_go_to_new_topics_and_are_reused() {
        let mut aliases = OutboundAliases::default();
        aliases.reset(2);
        assert_eq!(aliases.assign("a"), Some(Use::Establish(1)));
        assert_eq!(aliases.assign("b"), Some(Use::Establish(2)));
        assert_eq!(aliases.assign("a"), Some(Use::Reuse(1)));
        assert_eq!(aliases.assign(""), None);
    }

    #[test]
    fn when_full_a_repeated_topic_replaces_the_least_recently_used_and_one_offs_do_not() {
        let mut aliases = OutboundAliases::default();
        aliases.reset(2);
        aliases.assign("a");
        aliases.assign("b");
        aliases.assign("a"); // b is now the least recently used
        for once in ["x1", "x2", "x3"] {
            assert_eq!(aliases.assign(once), None, "one-off topics find no alias");
        }
        assert_eq!(aliases.assign("a"), Some(Use::Reuse(1)));
        assert_eq!(aliases.assign("c"), None, "first time: remembered");
        assert_eq!(aliases.assign("c"), Some(Use::Establish(2)), "b's alias");
        assert_eq!(aliases.assign("b"), None, "b lost its alias");
        assert_eq!(aliases.assign("c"), Some(Use::Reuse(2)));
    }

    #[test]
    fn reset_forgets_every_mapping_and_zero_turns_aliases_off() {
        // MQTT-3.3.2-7: no mapping is carried from one network connection to the next.
        let mut aliases = OutboundAliases::default();
        aliases.reset(5);
        aliases.assign("a");
        aliases.reset(5);
        assert_eq!(aliases.assign("a"), Some(Use::Establish(1)));
        aliases.reset(0);
        assert_eq!(aliases.assign("a"), None);
    }

    #[test]
    fn a_withdrawn_alias_is_not_reused_for_its_topic() {
        let mut aliases = OutboundAliases::default();
        aliases.reset(1);
        assert_eq!(aliases.assign("a"), Some(Use::Establish(1)));
        aliases.withdraw(1);
        assert_eq!(aliases.assign("a"), None, "full: first miss");
        assert_eq!(aliases.assign("a"), Some(Use::Establish(1)));
    }
}
