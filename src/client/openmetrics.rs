//! `metricsText()`: the client's metrics in the OpenMetrics text format (the Prometheus
//! exposition format's successor), for pushing to a Prometheus-style collector. Each family
//! has `# TYPE`, `# HELP` and, where it has one, `# UNIT` (the name ends with it); counters'
//! samples end in `_total`; durations are in seconds, sizes in bytes; the text ends with
//! `# EOF`. A percentile with no sample in its window is left out rather than written as 0.
//! Values are written from integers of thousandths: float formatting would add kilobytes of
//! wasm for three decimals.

use std::fmt::{self, Write};

use super::alerts::AlertRule;
use super::ClientMetrics;

/// A value in thousandths, written as a decimal.
#[derive(Clone, Copy)]
struct Milli(u64);

impl Milli {
    fn count(n: impl TryInto<u64>) -> Milli {
        Milli(n.try_into().unwrap_or(u64::MAX).saturating_mul(1_000))
    }

    /// A non-negative `value`, to the thousandth.
    fn of(value: f64) -> Milli {
        Milli((value.max(0.0) * 1_000.0).round() as u64)
    }
}

impl fmt::Display for Milli {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.0 / 1_000, self.0 % 1_000);
        if frac == 0 {
            write!(f, "{whole}")
        } else {
            write!(f, "{whole}.{frac:03}")
        }
    }
}

/// (name, type, unit or "", help).
type Family = (&'static str, &'static str, &'static str, &'static str);

fn family(out: &mut String, (name, kind, unit, help): Family, samples: &[(String, Milli)]) {
    let _ = writeln!(out, "# TYPE {name} {kind}");
    if !unit.is_empty() {
        let _ = writeln!(out, "# UNIT {name} {unit}");
    }
    let _ = writeln!(out, "# HELP {name} {help}");
    let suffix = if kind == "counter" { "_total" } else { "" };
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{suffix}{labels} {value}");
    }
}

const LAG_HELP: &str = "Publish-to-handler lag of stamped messages, last minute.";

/// The text for `m`, with each alert rule's threshold and state.
pub fn render<'a>(
    m: &ClientMetrics,
    alerts: impl Iterator<Item = (&'a AlertRule, bool)>,
) -> String {
    let s = &m.session;
    let lag = |ms: Option<u64>| ms.map(Milli);
    let families: [(Family, Option<Milli>); 15] = [
        (
            ("wasmqtt_connected", "gauge", "", "1 while connected."),
            Some(Milli::count(u8::from(s.connected))),
        ),
        (
            (
                "wasmqtt_queued_messages",
                "gauge",
                "",
                "Outgoing messages queued, not yet sent.",
            ),
            Some(Milli::count(s.queued)),
        ),
        (
            (
                "wasmqtt_inflight_messages",
                "gauge",
                "",
                "Outgoing messages in flight.",
            ),
            Some(Milli::count(s.inflight)),
        ),
        (
            (
                "wasmqtt_oldest_queued_age_seconds",
                "gauge",
                "seconds",
                "Age of the oldest unacknowledged outgoing message.",
            ),
            Some(Milli(m.oldest_queued_age_ms)),
        ),
        (
            (
                "wasmqtt_held_bytes",
                "gauge",
                "bytes",
                "Bytes of messages held.",
            ),
            Some(Milli::count(m.bytes_held)),
        ),
        (
            (
                "wasmqtt_held_growth_bytes",
                "gauge",
                "bytes",
                "Bytes held above the last minute's least.",
            ),
            Some(Milli::count(m.bytes_held_growth)),
        ),
        (
            (
                "wasmqtt_delivery_lag_p50_seconds",
                "gauge",
                "seconds",
                LAG_HELP,
            ),
            lag(m.delivery_lag_p50_ms),
        ),
        (
            (
                "wasmqtt_delivery_lag_p99_seconds",
                "gauge",
                "seconds",
                LAG_HELP,
            ),
            lag(m.delivery_lag_p99_ms),
        ),
        (
            (
                "wasmqtt_handlers_running",
                "gauge",
                "",
                "Messages whose handlers run or wait to retry (ack after the handler).",
            ),
            Some(Milli::count(s.handlers_running)),
        ),
        (
            (
                "wasmqtt_handlers_waiting",
                "gauge",
                "",
                "Messages waiting for a handler slot (ack after the handler).",
            ),
            Some(Milli::count(s.handlers_waiting)),
        ),
        (
            (
                "wasmqtt_handler_latency_p99_seconds",
                "gauge",
                "seconds",
                "Handler duration, 99th percentile of the latest ones (ack after the handler).",
            ),
            lag(s.handler_latency_p99_ms),
        ),
        (
            (
                "wasmqtt_messages_per_second",
                "gauge",
                "",
                "Messages delivered a second.",
            ),
            Some(Milli::of(m.messages_per_second)),
        ),
        (
            ("wasmqtt_sent_messages", "counter", "", "Messages sent."),
            Some(Milli::count(s.sent)),
        ),
        (
            (
                "wasmqtt_received_messages",
                "counter",
                "",
                "Messages received.",
            ),
            Some(Milli::count(s.received)),
        ),
        (
            (
                "wasmqtt_reconnects",
                "counter",
                "",
                "Connections made after the first.",
            ),
            Some(Milli::count(s.reconnects)),
        ),
    ];
    let mut out = String::new();
    for (descriptor, value) in families {
        if let Some(value) = value {
            family(&mut out, descriptor, &[(String::new(), value)]);
        }
    }
    let (raised, thresholds): (Vec<_>, Vec<_>) = alerts
        .map(|(rule, up)| {
            let labels = format!("{{metric=\"{}\"}}", rule.metric.name());
            let state = (labels.clone(), Milli::count(u8::from(up)));
            (state, (labels, Milli::of(rule.threshold)))
        })
        .unzip();
    if !raised.is_empty() {
        let help = "1 while the alert on a metric is raised.";
        family(&mut out, ("wasmqtt_alert", "gauge", "", help), &raised);
        let help = "The alert threshold, in the metric's unit.";
        family(
            &mut out,
            ("wasmqtt_alert_threshold", "gauge", "", help),
            &thresholds,
        );
    }
    out.push_str("# EOF\n");
    out
}
