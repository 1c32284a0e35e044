//! Routes: the application's handlers, each registered for one topic filter. A message reaches
//! every route whose filter matches its topic, each once, however many broker subscriptions
//! overlap.

use crate::topic;

#[derive(Debug, Default)]
pub(crate) struct Router {
    routes: Vec<(u32, String)>,
    next_id: u32,
}

impl Router {
    pub(crate) fn add(&mut self, filter: &str) -> u32 {
        self.next_id += 1;
        self.routes.push((self.next_id, filter.to_string()));
        self.next_id
    }

    pub(crate) fn remove(&mut self, id: u32) -> bool {
        let before = self.routes.len();
        self.routes.retain(|(route, _)| *route != id);
        self.routes.len() != before
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
        let all = router.add("#");
        let kitchen = router.add("sensors/kitchen/+/+");
        let shared = router.add("$share/g/sensors/#");
        let other = router.add("lights/#");
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
}
