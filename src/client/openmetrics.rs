//! `metricsText()`: the client's metrics in the OpenMetrics text format (the Prometheus
//! exposition format's successor), for pushing to a Prometheus-style collector. Each family
//! has `# TYPE`, `# HELP` and, where it has one, `# UNIT` (the name ends with it); counters'
//! samples end in `_total`; durations are in seconds, sizes in bytes; the text ends with
//! `# EOF`. A percentile with no sample in its window is left out rather than written as 0.

use std::fmt::Write;

use super::alerts::AlertRule;
use super::ClientMetrics;

#[derive(Clone, Copy)]
enum Kind {
    Gauge,
    Counter,
}

struct Text(String);

impl Text {
    fn family(
        &mut self,
        name: &str,
        kind: Kind,
        unit: &str,
        help: &str,
        samples: &[(String, f64)],
    ) {
        let out = &mut self.0;
        let (kind_name, suffix) = match kind {
            Kind::Gauge => ("gauge", ""),
            Kind::Counter => ("counter", "_total"),
        };
        let _ = writeln!(out, "# TYPE {name} {kind_name}");
        if !unit.is_empty() {
            let _ = writeln!(out, "# UNIT {name} {unit}");
        }
        let _ = writeln!(out, "# HELP {name} {help}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{suffix}{labels} {value}");
        }
    }

    fn one(&mut self, name: &str, kind: Kind, unit: &str, help: &str, value: f64) {
        self.family(name, kind, unit, help, &[(String::new(), value)]);
    }
}

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1_000.0
}

/// The text for `m`, with each alert rule's threshold and state.
pub fn render<'a>(
    m: &ClientMetrics,
    alerts: impl Iterator<Item = (&'a AlertRule, bool)>,
) -> String {
    let s = &m.session;
    let mut t = Text(String::new());
    t.one(
        "wasmqtt_connected",
        Kind::Gauge,
        "",
        "Whether the client is connected (1) or not (0).",
        f64::from(u8::from(s.connected)),
    );
    t.one(
        "wasmqtt_queued_messages",
        Kind::Gauge,
        "",
        "Outgoing messages queued, not yet sent.",
        s.queued as f64,
    );
    t.one(
        "wasmqtt_inflight_messages",
        Kind::Gauge,
        "",
        "Outgoing messages sent and not yet acknowledged.",
        s.inflight as f64,
    );
    t.one(
        "wasmqtt_oldest_queued_age_seconds",
        Kind::Gauge,
        "seconds",
        "Age of the oldest outgoing message queued or in flight.",
        seconds(m.oldest_queued_age_ms),
    );
    t.one("wasmqtt_held_bytes", Kind::Gauge, "bytes", "Bytes of messages held: outgoing queued or in flight, incoming awaiting their durable receipt.", m.bytes_held as f64);
    t.one(
        "wasmqtt_held_growth_bytes",
        Kind::Gauge,
        "bytes",
        "Bytes held above the least held in the last minute.",
        m.bytes_held_growth as f64,
    );
    for (name, value) in [
        ("p50", m.delivery_lag_p50_ms),
        ("p99", m.delivery_lag_p99_ms),
    ] {
        if let Some(ms) = value {
            let family = format!("wasmqtt_delivery_lag_{name}_seconds");
            let help = format!("Delivery lag from publish to handler of stamped messages in the last minute, {name} (includes the clock skew between publisher and receiver).");
            t.one(&family, Kind::Gauge, "seconds", &help, seconds(ms));
        }
    }
    t.one(
        "wasmqtt_messages_per_second",
        Kind::Gauge,
        "",
        "Messages delivered a second, over the last few seconds.",
        m.messages_per_second,
    );
    t.one(
        "wasmqtt_sent_messages",
        Kind::Counter,
        "",
        "Messages sent.",
        s.sent as f64,
    );
    t.one(
        "wasmqtt_received_messages",
        Kind::Counter,
        "",
        "Messages received.",
        s.received as f64,
    );
    t.one(
        "wasmqtt_reconnects",
        Kind::Counter,
        "",
        "Connections made after the first.",
        s.reconnects as f64,
    );
    let (raised, thresholds): (Vec<_>, Vec<_>) = alerts
        .map(|(rule, up)| {
            let labels = format!("{{metric=\"{}\"}}", rule.metric.name());
            (
                (labels.clone(), f64::from(u8::from(up))),
                (labels, rule.threshold),
            )
        })
        .unzip();
    if !raised.is_empty() {
        t.family(
            "wasmqtt_alert",
            Kind::Gauge,
            "",
            "Whether the alert on a metric is raised (1) or not (0).",
            &raised,
        );
        t.family(
            "wasmqtt_alert_threshold",
            Kind::Gauge,
            "",
            "The threshold of the alert on a metric, in that metric's unit.",
            &thresholds,
        );
    }
    t.0.push_str("# EOF\n");
    t.0
}
