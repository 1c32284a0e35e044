//! Routes: the application's handlers, each registered for one topic filter. A message reaches
//! every route whose filter matches its topic, each once, however many broker subscriptions
//! overlap.
//!
//! With subscription identifiers (MQTT 5) the broker says which subscriptions a PUBLISH is for:
//! all of them in one copy (MQTT-3.3.4-4), or one copy per subscription, each with its own
//! identifier (MQTT-3.3.4-5; mosquitto 2.0 does this). A route for a subscribed filter then gets
//! exactly the copies that carry its subscription's identifier. Everything else (routes for
//! filters not subscribed as such, the application's catch-all listeners, the message count)
//! takes one copy: the "primary" one, which carries the lowest identifier among the matching
//! subscriptions the broker holds, so that exactly one copy qualifies either way.

use super::config::AckMode;
use super::subscriptions::Subscriptions;
use crate::topic;

#[derive(Debug, Default)]
pub(crate) struct Router {
    routes: Vec<(u32, String)>,
    /// The routes that chose their own acknowledgement mode (a subscription's `ack` option).
    modes: Vec<(u32, AckMode)>,
    next_id: u32,
}

impl Router {
    pub(crate) fn add(&mut self, filter: &str, ack: Option<AckMode>) -> u32 {
        self.next_id += 1;
        self.routes.push((self.next_id, filter.to_string()));
        if let Some(mode) = ack {
            self.modes.push((self.next_id, mode));
        }
        self.next_id
    }

    pub(crate) fn remove(&mut self, id: u32) -> bool {
        let before = self.routes.len();
        self.routes.retain(|(route, _)| *route != id);
        self.modes.retain(|(route, _)| *route != id);
        self.routes.len() != before
    }

    /// Whether any route chose its own acknowledgement mode.
    pub(crate) fn has_modes(&self) -> bool {
        !self.modes.is_empty()
    }

    /// The mode for a message reaching `routes`: a route's own choice wins over `default`, and
    /// among routes that chose, acknowledging after the handler wins (the stronger promise).
    pub(crate) fn ack_mode(&self, routes: &[u32], default: AckMode) -> AckMode {
        let mut chosen = self
            .modes
            .iter()
            .filter(|(id, _)| routes.contains(id))
            .map(|(_, mode)| *mode);
        match chosen.next() {
            None => default,
            Some(first) => chosen.fold(first, |a, b| {
                if a == AckMode::AfterHandler || b == AckMode::AfterHandler {
                    AckMode::AfterHandler
                } else {
                    AckMode::OnReceipt
                }
            }),
        }
    }

    /// Appends the routes a PUBLISH on `topic` carrying the subscription identifiers `carried`
    /// reaches to `out`, in registration order; returns whether it is the primary copy.
    pub(crate) fn route(
        &self,
        topic: &str,
        carried: &[u32],
        subscriptions: &Subscriptions,
        out: &mut Vec<u32>,
    ) -> bool {
        if carried.is_empty() {
            self.matching(topic, out);
            return true;
        }
        let primary = Self::is_primary(topic, carried, subscriptions);
        self.reach(topic, primary, out, |filter| {
            let id = subscriptions.get(filter).and_then(|s| s.routing_id())?;
            Some(carried.contains(&id))
        });
        primary
    }

    /// As [`Router::route`], for a message another tab's session routed ([`Router::named`]
    /// there; `carried`: whether the copy carries identifiers): this tab's routes it reaches.
    pub(crate) fn route_named(
        &self,
        topic: &str,
        carried: bool,
        primary: bool,
        named: &[(String, bool)],
        out: &mut Vec<u32>,
    ) {
        if !carried {
            self.matching(topic, out);
            return;
        }
        self.reach(topic, primary, out, |filter| {
            named.iter().find(|(f, _)| f == filter).map(|(_, n)| *n)
        });
    }

    /// The one rule of both: a route whose filter is a named subscription is reached when this
    /// copy names it (`named_by`), any other matching route by the primary copy only.
    fn reach(
        &self,
        topic: &str,
        primary: bool,
        out: &mut Vec<u32>,
        named_by: impl Fn(&str) -> Option<bool>,
    ) {
        for (route, filter) in &self.routes {
            let reached = match named_by(filter) {
                Some(named) => named,
                None => primary && topic::matches(filter, topic),
            };
            if reached {
                out.push(*route);
            }
        }
    }

    /// For routes kept elsewhere (another tab's, see js/tabs.js): whether a PUBLISH on `topic`
    /// carrying `carried` is the primary copy, and the subscriptions `route` consults: each
    /// subscribed filter with an identifier that matches `topic`, and whether this copy names
    /// it. A route whose filter is listed is reached exactly when it is named; any other
    /// matching route only by the primary copy (by every copy when `carried` is empty).
    pub(crate) fn named(
        topic: &str,
        carried: &[u32],
        subscriptions: &Subscriptions,
    ) -> (bool, Vec<(String, bool)>) {
        let primary = Self::is_primary(topic, carried, subscriptions);
        let named = subscriptions
            .iter()
            .filter_map(|(filter, s)| Some((filter, s.routing_id()?)))
            .filter(|(filter, _)| topic::matches(filter, topic))
            .map(|(filter, id)| (filter.clone(), carried.contains(&id)))
            .collect();
        (primary, named)
    }

    /// Whether the copy of a PUBLISH on `topic` carrying `carried` is the primary one: the copy
    /// for the lowest identifier among the matching subscriptions (any copy without identifiers).
    fn is_primary(topic: &str, carried: &[u32], subscriptions: &Subscriptions) -> bool {
        if carried.is_empty() {
            return true;
        }
        let lowest = subscriptions
            .matching(topic)
            .filter_map(|(_, s)| s.id)
            .min();
        lowest.is_none_or(|id| carried.contains(&id))
    }

    /// Appends the ids of the routes matching `topic` to `out`, in registration order.
    pub(crate) fn matching(&self, topic: &str, out: &mut Vec<u32>) {
        out.extend(
            self.routes
                .iter()
                .filter(|(_, filter)| topic::matches(filter, topic))
                .map(|(id, _)| *id),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_reaches_each_matching_route_once() {
        let mut router = Router::default();
        let all = router.add("#", None);
        let kitchen = router.add("sensors/kitchen/+/+", None);
        let shared = router.add("$share/g/sensors/#", None);
        let other = router.add("lights/#", None);
        let mut out = vec![];
        router.matching("sensors/kitchen/t1/temp", &mut out);
        assert_eq!(out, [all, kitchen, shared]);
        assert!(router.remove(kitchen));
        assert!(!router.remove(kitchen));
        out.clear();
        router.matching("$SYS/uptime", &mut out);
        assert!(out.is_empty(), "MQTT-4.7.2-1: # does not match $ topics");
        out.clear();
        router.matching("lights/a", &mut out);
        assert_eq!(out, [all, other]);
    }

    #[test]
    fn a_routes_own_ack_mode_wins_and_after_handler_wins_among_them() {
        use AckMode::*;
        let mut router = Router::default();
        let plain = router.add("a/#", None);
        let late = router.add("a/b", Some(AfterHandler));
        let early = router.add("a/+", Some(OnReceipt));
        assert_eq!(router.ack_mode(&[plain], AfterHandler), AfterHandler);
        assert_eq!(router.ack_mode(&[plain], OnReceipt), OnReceipt);
        assert_eq!(router.ack_mode(&[plain, early], AfterHandler), OnReceipt);
        assert_eq!(router.ack_mode(&[early, late], OnReceipt), AfterHandler);
        router.remove(late);
        assert_eq!(router.ack_mode(&[late], OnReceipt), OnReceipt);
    }

    #[test]
    fn with_identifiers_each_copy_reaches_its_own_subscriptions_routes() {
        use super::super::subscriptions::Subscription;
        let mut subscriptions = Subscriptions::default();
        for (filter, id) in [("s/#", 7), ("s/+", 9)] {
            subscriptions.insert(
                filter.into(),
                Subscription {
                    id: Some(id),
                    confirmed: true,
                    held: true,
                    ..Subscription::new(Default::default())
                },
            );
        }
        let mut router = Router::default();
        let hash = router.add("s/#", None);
        let plus = router.add("s/+", None);
        let loose = router.add("s/x", None); // not a subscription of its own
        let mut out = vec![];
        // MQTT-3.3.4-5: two copies, one identifier each.
        assert!(!router.route("s/x", &[9], &subscriptions, &mut out));
        assert_eq!(out, [plus]);
        out.clear();
        assert!(router.route("s/x", &[7], &subscriptions, &mut out));
        assert_eq!(out, [hash, loose]);
        // MQTT-3.3.4-4: one copy, every identifier.
        out.clear();
        assert!(router.route("s/x", &[9, 7], &subscriptions, &mut out));
        assert_eq!(out, [hash, plus, loose]);
        // What another tab needs to route the copy the same way.
        let (primary, named) = Router::named("s/x", &[9], &subscriptions);
        assert!(
            !primary,
            "the copy for 9 is not the one with the lowest identifier"
        );
        assert_eq!(
            named,
            [("s/#".to_string(), false), ("s/+".to_string(), true)]
        );
        assert!(Router::named("s/x", &[7], &subscriptions).0);
        assert!(Router::named("t/x", &[9], &subscriptions).1.is_empty());
        // Another tab's routes for the same filters, routed from what `named` says, reach the
        // routes this tab's own routing reaches, copy by copy.
        let mut follower = Router::default();
        for filter in ["s/#", "s/+", "s/x"] {
            follower.add(filter, None);
        }
        for (topic, carried) in [
            ("s/x", &[9][..]),
            ("s/x", &[7]),
            ("s/x", &[9, 7]),
            ("s/x", &[]),
            ("t/x", &[]),
        ] {
            let mut here = vec![];
            let primary = router.route(topic, carried, &subscriptions, &mut here);
            let (named_primary, named) = Router::named(topic, carried, &subscriptions);
            assert_eq!(primary, named_primary);
            let mut there = vec![];
            follower.route_named(topic, !carried.is_empty(), primary, &named, &mut there);
            assert_eq!(here, there, "{topic} carrying {carried:?}");
        }
    }
}
