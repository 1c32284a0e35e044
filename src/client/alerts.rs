//! Alerts on the client's metrics (issue #18.4; the seed's table: queue depth over 1,000,
//! consumer delay over 5,000 ms, memory growth). Each rule names a metric and a threshold: the
//! alert is raised when the metric goes above its threshold, and cleared once it is back at or
//! below [`CLEAR_RATIO`] of it, so that a value hovering at the threshold does not flap. The
//! rules are a list: a new metric is one more [`AlertMetric`] and its value.
//! Metrics are checked at most every [`CHECK_EVERY_MS`], so an alert may follow its cause by up
//! to that long.

use super::ClientMetrics;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertMetric {
    /// Messages queued, not yet sent (the seed's queue depth).
    Queued,
    /// Age of the oldest outgoing message not yet acknowledged.
    OldestQueuedAgeMs,
    /// Delivery lag (publish to handler) p99 of stamped messages (the seed's consumer delay).
    DeliveryLagP99Ms,
    /// Bytes of messages held.
    BytesHeld,
    /// How much more is held than at the least in the last minute (the seed's memory growth).
    BytesHeldGrowth,
    /// Handler duration p99 with `ack: 'after-handler'` (a consumer slower than its producers).
    HandlerLatencyP99Ms,
}

impl AlertMetric {
    pub const ALL: [AlertMetric; 6] = [
        AlertMetric::Queued,
        AlertMetric::OldestQueuedAgeMs,
        AlertMetric::DeliveryLagP99Ms,
        AlertMetric::BytesHeld,
        AlertMetric::BytesHeldGrowth,
        AlertMetric::HandlerLatencyP99Ms,
    ];

    /// Its name in `metrics()`, in the `alerts` option and in the `alert` event.
    pub fn name(self) -> &'static str {
        match self {
            AlertMetric::Queued => "queued",
            AlertMetric::OldestQueuedAgeMs => "oldestQueuedAgeMs",
            AlertMetric::DeliveryLagP99Ms => "deliveryLagP99Ms",
            AlertMetric::BytesHeld => "bytesHeld",
            AlertMetric::BytesHeldGrowth => "bytesHeldGrowth",
            AlertMetric::HandlerLatencyP99Ms => "handlerLatencyP99Ms",
        }
    }

    pub fn from_name(name: &str) -> Option<AlertMetric> {
        AlertMetric::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Its value now (a percentile with no sample in its window counts as 0).
    pub fn value(self, m: &ClientMetrics) -> f64 {
        match self {
            AlertMetric::Queued => m.session.queued as f64,
            AlertMetric::OldestQueuedAgeMs => m.oldest_queued_age_ms as f64,
            AlertMetric::DeliveryLagP99Ms => m.delivery_lag_p99_ms.unwrap_or(0) as f64,
            AlertMetric::BytesHeld => m.bytes_held as f64,
            AlertMetric::BytesHeldGrowth => m.bytes_held_growth as f64,
            AlertMetric::HandlerLatencyP99Ms => {
                m.session.handler_latency_p99_ms.unwrap_or(0) as f64
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertRule {
    pub metric: AlertMetric,
    pub threshold: f64,
}

/// The seed's values: queue depth over 1,000; consumer delay over 5,000 ms; memory growth,
/// here 8 MiB more held than at the least in the last minute.
pub fn default_alert_rules() -> Vec<AlertRule> {
    vec![
        AlertRule {
            metric: AlertMetric::Queued,
            threshold: 1_000.0,
        },
        AlertRule {
            metric: AlertMetric::DeliveryLagP99Ms,
            threshold: 5_000.0,
        },
        AlertRule {
            metric: AlertMetric::BytesHeldGrowth,
            threshold: 8.0 * 1024.0 * 1024.0,
        },
    ]
}

/// An alert is cleared once its metric is at or below this share of the threshold.
pub const CLEAR_RATIO: f64 = 0.8;
pub const CHECK_EVERY_MS: u64 = 1_000;

/// An alert raised or cleared.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub metric: &'static str,
    pub value: f64,
    pub threshold: f64,
    pub raised: bool,
}

pub(crate) struct Alerts {
    rules: Vec<AlertRule>,
    raised: Vec<bool>,
    next_check: u64,
}

impl Alerts {
    pub(crate) fn new(rules: Vec<AlertRule>) -> Alerts {
        Alerts {
            raised: vec![false; rules.len()],
            rules,
            next_check: 0,
        }
    }

    pub(crate) fn due(&self, now: u64) -> bool {
        now >= self.next_check
    }

    /// When the metrics must be checked again, while a raised alert may clear or something
    /// held may age (`holding`); None when nothing can change without an input.
    pub(crate) fn poll_timeout(&self, holding: bool) -> Option<u64> {
        let watching = !self.rules.is_empty() && (holding || self.raised.contains(&true));
        watching.then_some(self.next_check)
    }

    /// Checks `metrics`; returns the alerts that changed.
    pub(crate) fn check(&mut self, now: u64, metrics: &ClientMetrics) -> Vec<Alert> {
        self.next_check = now + CHECK_EVERY_MS;
        let mut changed = Vec::new();
        for (rule, raised) in self.rules.iter().zip(self.raised.iter_mut()) {
            let value = rule.metric.value(metrics);
            let flip = if *raised {
                value <= rule.threshold * CLEAR_RATIO
            } else {
                value > rule.threshold
            };
            if flip {
                *raised = !*raised;
                changed.push(Alert {
                    metric: rule.metric.name(),
                    value,
                    threshold: rule.threshold,
                    raised: *raised,
                });
            }
        }
        changed
    }

    /// Each rule's metric, threshold and whether its alert is raised.
    pub(crate) fn states(&self) -> impl Iterator<Item = (&AlertRule, bool)> {
        self.rules.iter().zip(self.raised.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(n: usize) -> ClientMetrics {
        let mut m = ClientMetrics {
            session: Default::default(),
            messages_per_second: 0.0,
            durable: false,
            oldest_queued_age_ms: 0,
            delivery_lag_p50_ms: None,
            delivery_lag_p99_ms: None,
            bytes_held: 0,
            bytes_held_growth: 0,
            journal_bytes: 0,
        };
        m.session.queued = n;
        m
    }

    #[test]
    fn a_value_hovering_at_the_threshold_raises_once_and_clears_once() {
        let mut alerts = Alerts::new(vec![AlertRule {
            metric: AlertMetric::Queued,
            threshold: 1_000.0,
        }]);
        let mut flips = vec![];
        let mut now = 0;
        for n in [999, 1_001, 990, 1_010, 950, 1_000, 801, 800, 1_000, 1_001] {
            assert!(alerts.due(now));
            for alert in alerts.check(now, &queued(n)) {
                flips.push((n, alert.raised));
            }
            now += CHECK_EVERY_MS;
        }
        assert_eq!(flips, [(1_001, true), (800, false), (1_001, true)]);
        assert!(!alerts.due(now - 1), "checked at most once a second");
    }
}
