//! Copies for overlapping subscriptions, when no subscription identifier says which is which
//! (MQTT 3.1.1; MQTT 5 without identifiers).
//!
//! A broker may send one copy of a message per matching subscription (MQTT 3.1.1 section 3.3.5,
//! MQTT 5 section 3.3.4), or one copy in all. mosquitto 2.0.11, for instance, sends a 3.1.1
//! client a single copy by default (at the QoS of whichever subscription it finds first) and one
//! per subscription with `allow_duplicate_messages true`, which it says will become the only
//! behaviour; a 5.0 client always gets one per subscription. Without identifiers the copies look
//! exactly like the same message published again, so the rule is a judgement:
//!
//! When a message matches k >= 2 of the subscriptions the broker holds, up to k - 1 further
//! copies are expected: same topic, same payload, not retained, with QoS values that fit the
//! granted QoS of those subscriptions for some publish QoS (each copy has min(publish QoS,
//! granted QoS)), arriving within [`WINDOW_MS`] of the first. Such a PUBLISH is taken for a
//! copy: acknowledged, not delivered. The expectation ends when all copies came, when a
//! different message arrives on that topic (a broker queues a message's copies together,
//! before its next message on the topic), when the window closes, and with the connection.
//!
//! The trade-off: with a broker that sends one copy, a message identical to the one before it
//! on the same topic (same payload, nothing else on the topic in between), of a fitting QoS
//! and within the window is taken for a copy and not delivered. Payloads that carry a
//! timestamp or a sequence number never are, nor repeats further apart than the window.
//! `CopyPolicy::Deliver` delivers every PUBLISH instead, copies too: the right choice for a
//! broker known to send one copy (mosquitto's 3.1.1 default).

use std::collections::VecDeque;

use bytes::Bytes;

use crate::codec::{Publish, QoS};

/// What to do with copies a broker may send for overlapping subscriptions when it does not
/// say which subscription each is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CopyPolicy {
    /// Deliver each message once (see the module docs for the rule and its trade-off).
    #[default]
    Collapse,
    /// Deliver every PUBLISH, copies included.
    Deliver,
}

/// At most this many messages wait for their copies; the oldest expectation goes first.
const MAX_EXPECTED: usize = 256;

/// How long after a message its copies may still come, ms. A broker sends them together; this
/// leaves room for its in-flight window to hold the QoS 1/2 ones back for a few round trips.
pub(crate) const WINDOW_MS: u64 = 1_000;

#[derive(Debug)]
struct Expected {
    topic: String,
    payload: Bytes,
    /// Granted QoS of each matching subscription.
    granted: Vec<QoS>,
    /// QoS of each copy seen so far, the first delivery included.
    seen: Vec<QoS>,
    /// When the first arrived.
    at: u64,
}

impl Expected {
    /// Whether `seen` plus one copy of `qos` could be copies for these subscriptions: for some
    /// publish QoS p, a sub-multiset of { min(p, g) | g in granted }.
    fn fits(&self, qos: QoS) -> bool {
        let mut seen = self.seen.clone();
        seen.push(qos);
        let highest = *seen.iter().max().expect("not empty");
        [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
            .into_iter()
            .filter(|p| *p >= highest)
            .any(|p| {
                let mut offered: Vec<QoS> = self.granted.iter().map(|g| p.min(*g)).collect();
                seen.iter().all(|q| {
                    let found = offered.iter().position(|o| o == q);
                    found.map(|i| offered.swap_remove(i)).is_some()
                })
            })
    }
}

#[derive(Debug, Default)]
pub(crate) struct ExpectedCopies {
    expected: VecDeque<Expected>,
}

impl ExpectedCopies {
    /// A new connection: copies of earlier messages, if any, come as redeliveries now.
    pub(crate) fn clear(&mut self) {
        self.expected.clear();
    }

    /// Decides whether `publish` (which carries no subscription identifier) is a further copy
    /// of a message already delivered; `granted` gives the granted QoS of each held
    /// subscription that matches its topic.
    pub(crate) fn is_copy(
        &mut self,
        now: u64,
        publish: &Publish,
        granted: impl FnOnce() -> Vec<QoS>,
    ) -> bool {
        if publish.retain {
            // Retained messages come per subscription, when it is made: never copies.
            return false;
        }
        if let Some(i) = self.expected.iter().position(|e| e.topic == publish.topic) {
            let expected = &mut self.expected[i];
            if expected.payload == publish.payload
                && now <= expected.at + WINDOW_MS
                && expected.fits(publish.qos)
            {
                expected.seen.push(publish.qos);
                if expected.seen.len() >= expected.granted.len() {
                    self.expected.remove(i);
                }
                return true;
            }
            // Another message on the topic: the copies of the last one are not coming.
            self.expected.remove(i);
        }
        let granted = granted();
        if granted.len() >= 2 {
            if self.expected.len() >= MAX_EXPECTED {
                self.expected.pop_front();
            }
            self.expected.push_back(Expected {
                topic: publish.topic.clone(),
                payload: publish.payload.clone(),
                granted,
                seen: vec![publish.qos],
                at: now,
            });
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Properties;

    fn message(topic: &str, payload: &'static str, qos: QoS) -> Publish {
        Publish {
            dup: false,
            qos,
            retain: false,
            topic: topic.into(),
            packet_id: None,
            properties: Properties::default(),
            payload: Bytes::from_static(payload.as_bytes()),
        }
    }

    const Q0: QoS = QoS::AtMostOnce;
    const Q1: QoS = QoS::AtLeastOnce;
    const Q2: QoS = QoS::ExactlyOnce;

    #[test]
    fn up_to_k_minus_one_copies_are_taken_then_the_next_is_a_new_message() {
        let mut copies = ExpectedCopies::default();
        let three = || vec![Q1, Q1, Q1];
        assert!(!copies.is_copy(0, &message("t", "a", Q1), three));
        assert!(copies.is_copy(0, &message("t", "a", Q1), three));
        assert!(copies.is_copy(0, &message("t", "a", Q1), three));
        assert!(
            !copies.is_copy(0, &message("t", "a", Q1), three),
            "a 4th is new"
        );
    }

    #[test]
    fn copies_must_fit_the_granted_qos() {
        // Subscriptions granted QoS 0 and 1: a QoS 1 publish comes as one QoS 0 and one QoS 1
        // copy, a QoS 0 one as two QoS 0 copies; never as two QoS 1 copies, nor at QoS 2.
        let mut copies = ExpectedCopies::default();
        let granted = || vec![Q0, Q1];
        assert!(!copies.is_copy(0, &message("t", "a", Q1), granted));
        assert!(
            !copies.is_copy(0, &message("t", "a", Q1), granted),
            "1 and 1 do not fit"
        );
        assert!(copies.is_copy(0, &message("t", "a", Q0), granted));
        assert!(!copies.is_copy(0, &message("u", "a", Q0), granted));
        assert!(
            copies.is_copy(0, &message("u", "a", Q0), granted),
            "a QoS 0 publish"
        );
        assert!(!copies.is_copy(0, &message("v", "a", Q1), granted));
        assert!(!copies.is_copy(0, &message("v", "a", Q2), granted));
    }

    #[test]
    fn another_message_on_the_topic_ends_the_expectation_and_one_subscription_sets_none() {
        let mut copies = ExpectedCopies::default();
        let two = || vec![Q1, Q1];
        assert!(!copies.is_copy(0, &message("t", "a", Q1), two));
        assert!(!copies.is_copy(0, &message("t", "b", Q1), two));
        assert!(
            !copies.is_copy(0, &message("t", "a", Q1), two),
            "a's copies are over"
        );
        assert!(
            copies.is_copy(0, &message("t", "a", Q1), two),
            "a's new one has one"
        );
        assert!(!copies.is_copy(0, &message("s", "a", Q1), || vec![Q1]));
        assert!(!copies.is_copy(0, &message("s", "a", Q1), || vec![Q1]));
    }

    #[test]
    fn copies_come_within_the_window() {
        let mut copies = ExpectedCopies::default();
        let two = || vec![Q1, Q1];
        assert!(!copies.is_copy(0, &message("t", "a", Q1), two));
        assert!(copies.is_copy(WINDOW_MS, &message("t", "a", Q1), two));
        assert!(!copies.is_copy(WINDOW_MS, &message("t", "a", Q1), two));
        assert!(!copies.is_copy(2 * WINDOW_MS + 1, &message("t", "a", Q1), two));
    }

    #[test]
    fn retained_messages_are_never_copies_and_clear_forgets() {
        let mut copies = ExpectedCopies::default();
        let two = || vec![Q1, Q1];
        assert!(!copies.is_copy(0, &message("t", "a", Q1), two));
        let mut retained = message("t", "a", Q1);
        retained.retain = true;
        assert!(!copies.is_copy(0, &retained, two));
        copies.clear();
        assert!(!copies.is_copy(0, &message("t", "a", Q1), two));
    }
}
