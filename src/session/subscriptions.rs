//! The client's broker subscriptions: options, the subscription identifier each one carries
//! (MQTT 5, 3.8.2.1.2) and whether the broker has confirmed it with a SUBACK.

use std::collections::BTreeMap;

use crate::codec::{QoS, SubscriptionOptions};
use crate::topic;

/// The largest Subscription Identifier (a Variable Byte Integer, 3.8.2.1.2).
const MAX_ID: u32 = 268_435_455;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Subscription {
    pub(crate) options: SubscriptionOptions,
    /// The identifier the broker knows it by; None when it was subscribed without one.
    pub(crate) id: Option<u32>,
    /// A SUBACK granted it in the broker's current session (persisted: what is not confirmed
    /// is subscribed again on the next connection).
    pub(crate) confirmed: bool,
    /// Unsubscribed by the application, UNSUBACK not yet received (persisted, so that the
    /// UNSUBSCRIBE reaches a broker that kept the session even across a reload).
    pub(crate) leaving: bool,
    /// The broker is taken to hold it, so messages for it carry its identifier: once granted,
    /// or restored from the store confirmed or with an identifier (a SUBSCRIBE leaves only once
    /// its record is durable, so a restored identifier may be at the broker), until a CONNACK
    /// says the
    /// broker lost the session or the application unsubscribes. Not persisted. Routing counts
    /// only these (see router.rs).
    pub(crate) held: bool,
    /// The store sequence number of this record's last write (0: restored, durable).
    pub(crate) recorded: u64,
    /// The QoS the broker granted (the requested one until a SUBACK says). Not persisted.
    pub(crate) granted: QoS,
}

impl Subscription {
    pub(crate) fn new(options: SubscriptionOptions) -> Subscription {
        Subscription {
            options,
            id: None,
            confirmed: false,
            leaving: false,
            held: false,
            recorded: 0,
            granted: options.qos,
        }
    }

    /// The identifier routing goes by: none once the application unsubscribed.
    pub(crate) fn routing_id(&self) -> Option<u32> {
        self.id.filter(|_| !self.leaving)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    by_filter: BTreeMap<String, Subscription>,
    last_id: u32,
}

impl Subscriptions {
    pub(crate) fn get(&self, filter: &str) -> Option<&Subscription> {
        self.by_filter.get(filter)
    }

    pub(crate) fn insert(&mut self, filter: String, subscription: Subscription) {
        if let Some(id) = subscription.id {
            self.last_id = self.last_id.max(id);
        }
        self.by_filter.insert(filter, subscription);
    }

    pub(crate) fn remove(&mut self, filter: &str) -> Option<Subscription> {
        self.by_filter.remove(filter)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &Subscription)> {
        self.by_filter.iter()
    }

    pub(crate) fn set_granted(&mut self, filter: &str, granted: QoS) {
        if let Some(subscription) = self.by_filter.get_mut(filter) {
            subscription.granted = granted;
        }
    }

    /// The broker lost our session: it holds nothing, nothing is confirmed any more.
    pub(crate) fn unconfirm_all(&mut self) {
        for subscription in self.by_filter.values_mut() {
            subscription.confirmed = false;
            subscription.held = false;
        }
    }

    /// The identifier for `filter`: the one it has, else a new one, unique among ours.
    pub(crate) fn id_for(&mut self, filter: &str) -> u32 {
        if let Some(id) = self.by_filter.get(filter).and_then(|s| s.id) {
            return id;
        }
        loop {
            self.last_id = if self.last_id >= MAX_ID {
                1
            } else {
                self.last_id + 1
            };
            let id = self.last_id;
            if !self.by_filter.values().any(|s| s.id == Some(id)) {
                return id;
            }
        }
    }

    /// Held, non-shared subscriptions whose filter matches `topic`. A shared one delivers to us
    /// only when the broker picks us, so it says nothing about what else will come.
    pub(crate) fn matching<'a>(
        &'a self,
        topic: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Subscription)> + 'a {
        self.by_filter.iter().filter(move |(filter, s)| {
            s.held
                && !s.leaving
                && topic::split_shared(filter).is_none()
                && topic::matches(filter, topic)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(id: Option<u32>) -> Subscription {
        Subscription {
            id,
            confirmed: true,
            held: true,
            ..Subscription::new(SubscriptionOptions::default())
        }
    }

    #[test]
    fn ids_are_kept_per_filter_and_new_ones_skip_those_in_use() {
        let mut subs = Subscriptions::default();
        let a = subs.id_for("a");
        subs.insert("a".into(), sub(Some(a)));
        assert_eq!(subs.id_for("a"), a, "a filter keeps its id");
        let b = subs.id_for("b");
        assert_ne!(a, b);
        // Restored records raise the counter past their ids.
        subs.insert("c".into(), sub(Some(MAX_ID)));
        let wrapped = subs.id_for("d");
        assert_eq!(wrapped, 2, "wraps to 1, which `a` holds, then takes 2");
    }

    #[test]
    fn matching_skips_shared_and_not_held_subscriptions() {
        let mut subs = Subscriptions::default();
        subs.insert("s/#".into(), sub(Some(1)));
        subs.insert("$share/g/s/#".into(), sub(Some(2)));
        subs.insert(
            "s/+".into(),
            Subscription {
                held: false,
                ..sub(Some(3))
            },
        );
        let ids: Vec<_> = subs.matching("s/x").map(|(_, s)| s.id).collect();
        assert_eq!(ids, [Some(1)]);
        subs.unconfirm_all();
        assert_eq!(subs.matching("s/x").count(), 0);
    }
}
