//! The `connect(url, options)` options: read, validated and turned into the session's
//! [`Config`] and the driver's own settings. Defaults are documented in js/index.d.ts.

use bytes::Bytes;

use super::fields::{Checked, Fields, InvalidArgument};
use super::props;
use super::value::Value;
use crate::client::reconnect::BackoffConfig;
use crate::client::{
    default_alert_rules, websocket_url_problem, AlertMetric, AlertRule, AttemptSetup,
    RedirectConfig,
};
use crate::codec::{LastWill, ProtocolVersion, QoS};
use crate::session::{AckMode, Config, CopyPolicy, DedupConfig, Keepalive, Overflow};

/// Where the session is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    IndexedDb,
    Memory,
}

pub struct ClientOptions {
    pub urls: Vec<String>,
    pub session: Config,
    pub connect_timeout_ms: u32,
    pub reconnect: Option<BackoffConfig>,
    pub redirects: RedirectConfig,
    pub alerts: Vec<AlertRule>,
    pub persistence: Persistence,
}

/// Session expiry for `clean: false` on MQTT 5 when none is given: without one the broker
/// would drop the session at the first disconnect, which defeats asking for it.
const DEFAULT_SESSION_EXPIRY_S: u32 = 3600;

/// Eight hex digits from `seed` and `n` (the random source is the caller's, so that the reading
/// is deterministic on the host).
fn random_suffix(seed: u64, n: u64) -> String {
    format!("{:08x}", crate::client::reconnect::mix(seed ^ n) as u32)
}

fn qos(n: f64) -> QoS {
    QoS::from_u8(n as u8).unwrap_or_default()
}

fn read_urls(url: &Value) -> Checked<Vec<String>> {
    let urls: Vec<String> = if let Some(one) = url.as_str() {
        vec![one.to_owned()]
    } else if let Value::Array(list) = url {
        list.iter()
            .map(|u| {
                u.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| InvalidArgument("url list must hold strings".into()))
            })
            .collect::<Checked<_>>()?
    } else {
        return Err(InvalidArgument(
            "url must be a ws:// or wss:// URL or a list of them".into(),
        ));
    };
    if urls.is_empty() {
        return Err(InvalidArgument("url list is empty".into()));
    }
    for url in &urls {
        if let Some(problem) = websocket_url_problem(url) {
            return Err(InvalidArgument(format!("url \"{url}\" {problem}")));
        }
    }
    Ok(urls)
}

/// The facade's answer for one attempt (see `client::attempt`): `{ url, credentials }`, what
/// `transformWsUrl` returned (a URL, or undefined) and what `credentials` returned (`{ username?,
/// password? }`, or undefined), each checked as the options they stand in for.
pub fn read_attempt_setup(answer: &Value) -> Checked<AttemptSetup> {
    let mut fields = Fields::of(answer, "")?;
    let url = match fields.get("url") {
        None => None,
        Some(url) if url.as_str().is_some() => read_urls(url)
            .map_err(|e| InvalidArgument(format!("transformWsUrl returned a bad {}", e.0)))?
            .pop(),
        Some(_) => {
            return Err(InvalidArgument(
                "transformWsUrl must return a URL string".into(),
            ))
        }
    };
    let credentials = fields.get("credentials").unwrap_or(&Value::Undefined);
    fields.finish()?;
    let mut credentials = Fields::of(credentials, "credentials()")?;
    let setup = AttemptSetup {
        url,
        username: credentials.string("username")?,
        password: credentials.bytes("password")?.map(Bytes::from),
    };
    credentials.finish()?;
    Ok(setup)
}

/// Reads `connect(url, options)`; `seed` makes the random parts (a client id when none is given,
/// the de-duplication and correlation prefixes).
pub fn read(url: &Value, options: &Value, seed: u64) -> Checked<ClientOptions> {
    let urls = read_urls(url)?;
    let mut fields = Fields::of(options, "")?;
    let protocol = match fields.integer("protocolVersion", 3.0, 5.0)? {
        Some(3.0) => ProtocolVersion::V3_1,
        Some(4.0) => ProtocolVersion::V3_1_1,
        _ => ProtocolVersion::V5,
    };
    let client_id = fields
        .string("clientId")?
        .unwrap_or_else(|| format!("wasmqtt-{}", random_suffix(seed, 1)));
    let mut session = Config::new(protocol, client_id);
    session.clean_start = fields.bool("clean")?.unwrap_or(true);
    // 'auto': the adaptive heartbeat, within a Keep Alive of 60 s told to the broker.
    let adaptive = fields.get("keepalive").and_then(|v| v.as_str()).is_some();
    session.keep_alive = if adaptive {
        fields.choice("keepalive", &["auto"])?;
        60
    } else {
        fields
            .integer("keepalive", 0.0, 65535.0)?
            .map_or(60, |n| n as u16)
    };
    session.username = fields.string("username")?;
    session.password = fields.bytes("password")?.map(Bytes::from);
    if let Some(will) = fields.get("will") {
        session.will = Some(read_will(will)?);
    }
    if let Some(properties) = fields.get("properties") {
        session.connect_properties = props::read(properties, "properties")?;
    }
    if protocol.is_v5()
        && !session.clean_start
        && session.connect_properties.session_expiry_interval.is_none()
    {
        session.connect_properties.session_expiry_interval = Some(DEFAULT_SESSION_EXPIRY_S);
    }
    let connect_timeout_ms = fields
        .integer("connectTimeout", 1.0, 600_000.0)?
        .map_or(30_000, |n| n as u32);
    let ping_timeout_ms = fields.integer("pingTimeout", 1.0, 600_000.0)?;
    session.keepalive = match (adaptive, ping_timeout_ms) {
        (true, Some(_)) => {
            return Err(InvalidArgument(
                "pingTimeout goes with a fixed keepalive: keepalive 'auto' judges the link by missed beats".into(),
            ))
        }
        (true, None) => Keepalive::Adaptive,
        (false, timeout) => Keepalive::Fixed {
            ping_timeout_ms: timeout.map_or(10_000, |n| n as u64),
        },
    };
    session.max_inflight = fields
        .integer("maxInflight", 1.0, 65535.0)?
        .map_or(u16::MAX, |n| n as u16);
    session.adaptive_window =
        fields.choice("inflightWindow", &["fixed", "adaptive"])? == Some("adaptive");
    let reconnect = match fields.get("reconnect") {
        Some(Value::Bool(false)) => None,
        Some(v) => Some(read_backoff(v)?),
        None => Some(BackoffConfig::default()),
    };
    let persistence = match fields.choice("persistence", &["indexeddb", "memory"])? {
        Some("memory") => Persistence::Memory,
        _ => Persistence::IndexedDb,
    };
    session.persistent = persistence == Persistence::IndexedDb;
    if let Some(queue) = fields.get("queue") {
        read_queue(queue, &mut session)?;
    }
    match fields.get("dedup") {
        Some(Value::Bool(false)) => session.dedup = None,
        Some(v) => read_dedup(v, &mut session)?,
        None => {}
    }
    if let Some(dedup) = session.dedup.as_mut() {
        dedup.id_prefix = format!("{}-", random_suffix(seed, 2));
    }
    if let Some(n) = fields.integer("topicAliases", 0.0, 65535.0)? {
        session.topic_aliases = n as u16;
    }
    if let Some(on) = fields.bool("subscriptionIdentifiers")? {
        session.subscription_identifiers = on;
    }
    if let Some(choice) = fields.choice("overlapCopies", &["collapse", "deliver"])? {
        session.copies = if choice == "collapse" {
            CopyPolicy::Collapse
        } else {
            CopyPolicy::Deliver
        };
    }
    read_handlers(&mut fields, &mut session)?;
    session.correlation_prefix = format!("{}-", random_suffix(seed, 3));
    let mut redirects = RedirectConfig::default();
    if let Some(on) = fields.bool("followRedirects")? {
        redirects.follow = on;
    }
    if let Some(n) = fields.integer("maxRedirects", 1.0, 16.0)? {
        redirects.max_hops = n as u8;
    }
    let alerts = match fields.get("alerts") {
        Some(Value::Bool(false)) => Vec::new(),
        Some(v) => read_alerts(v)?,
        None => default_alert_rules(),
    };
    refuse_mqttjs_names(&fields)?;
    fields.finish()?;
    // The protocol's limits on every CONNECT field: the core's rule, named by option.
    session
        .validate()
        .map_err(|e| InvalidArgument(e.to_string()))?;
    Ok(ClientOptions {
        urls,
        session,
        connect_timeout_ms,
        reconnect,
        redirects,
        alerts,
        persistence,
    })
}

/// `ack` (also a subscription's option, see `read_ack`) and how handlers run with it.
fn read_handlers(fields: &mut Fields<'_>, session: &mut Config) -> Checked<()> {
    if let Some(mode) = read_ack(fields)? {
        session.ack = mode;
    }
    let handlers = &mut session.handlers;
    if let Some(n) = fields.integer("handlerConcurrency", 1.0, 65535.0)? {
        handlers.concurrency = n as usize;
    }
    if let Some(n) = fields.integer("handlerRetries", 0.0, 100.0)? {
        handlers.retries = n as u32;
    }
    if let Some(n) = fields.integer("handlerRetryDelay", 1.0, 3_600_000.0)? {
        handlers.retry_delay_ms = n as u64;
    }
    if let Some(n) = fields.integer("handlerQueueMaxBytes", 0.0, f64::from(u32::MAX))? {
        handlers.queue_max_bytes = n as usize;
    }
    Ok(())
}

/// The `ack` option: 'on-receipt' or 'after-handler'.
pub fn read_ack(fields: &mut Fields<'_>) -> Checked<Option<AckMode>> {
    Ok(
        match fields.choice("ack", &["on-receipt", "after-handler"])? {
            Some("after-handler") => Some(AckMode::AfterHandler),
            Some(_) => Some(AckMode::OnReceipt),
            None => None,
        },
    )
}

/// MQTT.js option names that mean something else here or nothing, each with what to write
/// instead, so that a ported snippet fails at once with the fix rather than with a bare
/// "unknown option" (README, "Coming from MQTT.js").
const MQTTJS_OPTIONS: &[(&str, &str)] = &[
    (
        "reconnectPeriod",
        "reconnect: { period: ms } for a fixed delay (reconnect: false for 0)",
    ),
    (
        "servers",
        "a list of URLs as connect's first argument: connect([url1, url2], options)",
    ),
    (
        "hosts",
        "a list of URLs as connect's first argument: connect([url1, url2], options)",
    ),
    (
        "incomingStore",
        "nothing: the session is kept in IndexedDB (persistence: 'indexeddb', the default)",
    ),
    (
        "outgoingStore",
        "nothing: the session is kept in IndexedDB (persistence: 'indexeddb', the default)",
    ),
    (
        "queueQoSZero",
        "queue: { overflow: 'reject' | 'drop-oldest-qos0' } (QoS 0 is queued offline)",
    ),
    (
        "resubscribe",
        "nothing: subscriptions are kept in the session and asked again when the broker lost it",
    ),
    ("protocolId", "protocolVersion: 3, 4 or 5"),
    (
        "reschedulePings",
        "nothing: keepalive pings follow the traffic on their own",
    ),
    (
        "manualConnect",
        "new MqttClient(url, options), which connects at once; await client.ready",
    ),
];

fn refuse_mqttjs_names(fields: &Fields<'_>) -> Checked<()> {
    for (name, instead) in MQTTJS_OPTIONS {
        if fields.has(name) {
            return Err(InvalidArgument(format!(
                "{name} is an MQTT.js option; with wasmqtt write {instead}"
            )));
        }
    }
    Ok(())
}

/// `alerts: { metricName: threshold | false }`: the defaults, with these thresholds changed,
/// added, or (false) dropped.
fn read_alerts(value: &Value) -> Checked<Vec<AlertRule>> {
    let mut fields = Fields::of(value, "alerts")?;
    let mut rules = default_alert_rules();
    for metric in AlertMetric::ALL {
        if fields
            .get(metric.name())
            .is_some_and(|v| *v == Value::Bool(false))
        {
            rules.retain(|rule| rule.metric != metric);
        } else if let Some(threshold) = fields.number(metric.name(), 0.0, f64::MAX)? {
            match rules.iter_mut().find(|rule| rule.metric == metric) {
                Some(rule) => rule.threshold = threshold,
                None => rules.push(AlertRule { metric, threshold }),
            }
        }
    }
    fields.finish()?;
    Ok(rules)
}

fn read_will(value: &Value) -> Checked<LastWill> {
    let mut fields = Fields::of(value, "will")?;
    let topic = fields
        .string("topic")?
        .ok_or_else(|| InvalidArgument("will.topic is required".into()))?;
    let payload = fields.bytes("payload")?.unwrap_or_default();
    let qos = fields
        .integer("qos", 0.0, 2.0)?
        .map_or(QoS::AtMostOnce, qos);
    let retain = fields.bool("retain")?.unwrap_or(false);
    let properties = match fields.get("properties") {
        Some(p) => props::read(p, "will.properties")?,
        None => Default::default(),
    };
    fields.finish()?;
    Ok(LastWill {
        topic,
        payload: Bytes::from(payload),
        qos,
        retain,
        properties,
    })
}

fn read_backoff(value: &Value) -> Checked<BackoffConfig> {
    let mut fields = Fields::of(value, "reconnect")?;
    let default = BackoffConfig::default();
    let max_attempts = fields
        .integer("maxAttempts", 0.0, 1_000_000.0)?
        .map_or(default.max_attempts, |n| n as u32);
    if let Some(period) = fields.integer("period", 1.0, 3_600_000.0)? {
        // A fixed delay says everything the other settings would: mixing them is a mistake.
        fields.finish().map_err(|_| {
            InvalidArgument("reconnect.period is a fixed delay: give it alone (with maxAttempts), or minDelay/maxDelay/factor/jitter without it".into())
        })?;
        return Ok(BackoffConfig {
            max_attempts,
            ..BackoffConfig::fixed(period as u32)
        });
    }
    let config = BackoffConfig {
        min_ms: fields
            .integer("minDelay", 1.0, 3_600_000.0)?
            .map_or(default.min_ms, |n| n as u32),
        max_ms: fields
            .integer("maxDelay", 1.0, 3_600_000.0)?
            .map_or(default.max_ms, |n| n as u32),
        factor: fields
            .number("factor", 1.0, 100.0)?
            .unwrap_or(default.factor),
        jitter: fields.number("jitter", 0.0, 1.0)?.unwrap_or(default.jitter),
        stable_after_ms: fields
            .integer("stableAfter", 0.0, 3_600_000.0)?
            .map_or(default.stable_after_ms, |n| n as u32),
        max_attempts,
    };
    fields.finish()?;
    config.validate().map_err(|e| InvalidArgument(e.into()))?;
    Ok(config)
}

fn read_queue(value: &Value, session: &mut Config) -> Checked<()> {
    let mut fields = Fields::of(value, "queue")?;
    if let Some(n) = fields.integer("maxMessages", 1.0, 10_000_000.0)? {
        session.queue_max_messages = n as usize;
    }
    if let Some(n) = fields.integer("maxBytes", 1.0, 4_294_967_295.0)? {
        session.queue_max_bytes = n as usize;
    }
    if let Some(n) = fields.number("highWatermark", 0.0, 1.0)? {
        session.high_watermark = n;
    }
    if let Some(n) = fields.number("lowWatermark", 0.0, 1.0)? {
        session.low_watermark = n;
    }
    if session.low_watermark > session.high_watermark {
        return Err(InvalidArgument(
            "queue.lowWatermark must not be above queue.highWatermark".into(),
        ));
    }
    if let Some(choice) = fields.choice("overflow", &["reject", "drop-oldest-qos0"])? {
        session.overflow = if choice == "reject" {
            Overflow::Reject
        } else {
            Overflow::DropOldestQos0
        };
    }
    fields.finish()
}

fn read_dedup(value: &Value, session: &mut Config) -> Checked<()> {
    let mut fields = Fields::of(value, "dedup")?;
    let mut dedup = session.dedup.clone().unwrap_or(DedupConfig {
        key: "wasmqtt-id".into(),
        window_size: 10_000,
        window_ms: 600_000,
        id_prefix: String::new(),
    });
    let enabled = fields.bool("enabled")?.unwrap_or(true);
    if let Some(key) = fields.string("key")? {
        if key.is_empty() {
            return Err(InvalidArgument("dedup.key must not be empty".into()));
        }
        dedup.key = key;
    }
    if let Some(n) = fields.integer("windowSize", 1.0, 10_000_000.0)? {
        dedup.window_size = n as usize;
    }
    if let Some(n) = fields.integer("windowMs", 1.0, 31_536_000_000.0)? {
        dedup.window_ms = n as u64;
    }
    fields.finish()?;
    session.dedup = enabled.then_some(dedup);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::value::json;

    fn read_json(url: &str, text: &str) -> Checked<ClientOptions> {
        read(&Value::String(url.into()), &json(text), 7)
    }

    #[test]
    fn defaults_and_a_persistent_v5_session_get_an_expiry() {
        let options = read_json(
            "ws://127.0.0.1:1",
            r#"{"clientId": "dash", "clean": false}"#,
        )
        .unwrap();
        assert_eq!(options.session.keep_alive, 60);
        assert_eq!(
            options.session.connect_properties.session_expiry_interval,
            Some(3600)
        );
        assert_eq!(options.persistence, Persistence::IndexedDb);
        assert!(options.reconnect.is_some());
        let clean = read_json("ws://h", r#"{}"#).unwrap();
        assert!(clean.session.client_id.starts_with("wasmqtt-"));
        assert_eq!(clean.session.client_id.len(), "wasmqtt-".len() + 8);
        assert_eq!(
            clean.session.connect_properties.session_expiry_interval,
            None
        );
    }

    #[test]
    fn the_random_parts_come_from_the_seed() {
        let one = read(&Value::String("ws://h".into()), &Value::Undefined, 1).unwrap();
        let again = read(&Value::String("ws://h".into()), &Value::Undefined, 1).unwrap();
        let other = read(&Value::String("ws://h".into()), &Value::Undefined, 2).unwrap();
        assert_eq!(one.session.client_id, again.session.client_id);
        assert_ne!(one.session.client_id, other.session.client_id);
        assert_ne!(
            one.session.correlation_prefix,
            other.session.correlation_prefix
        );
        let dedup = |o: &ClientOptions| o.session.dedup.as_ref().unwrap().id_prefix.clone();
        assert_ne!(dedup(&one), dedup(&other));
        assert_ne!(one.session.correlation_prefix, dedup(&one));
    }

    #[test]
    fn bad_options_are_refused_with_their_name() {
        for (text, needle) in [
            (r#"{"keepalive": 70000}"#, "keepalive"),
            (
                r#"{"keepalive": "sometimes"}"#,
                "keepalive must be one of auto",
            ),
            (
                r#"{"keepalive": "auto", "pingTimeout": 5}"#,
                "pingTimeout goes with a fixed keepalive",
            ),
            (
                r#"{"will": {"topic": "a/+", "payload": "x"}}"#,
                "will.topic",
            ),
            (r#"{"will": {"topic": "a", "qos": 3}}"#, "will.qos"),
            (r#"{"will": {"payload": "x"}}"#, "will.topic is required"),
            (r#"{"keepAlive": 5}"#, "unknown option keepAlive"),
            (
                r#"{"reconnect": {"minDelay": 5000, "maxDelay": 10}}"#,
                "minDelay",
            ),
            (
                r#"{"reconnect": {"period": 5000, "factor": 2}}"#,
                "reconnect.period is a fixed delay",
            ),
            (r#"{"persistence": "disk"}"#, "persistence"),
            (r#"{"queue": {"overflow": "drop-all"}}"#, "queue.overflow"),
            (
                r#"{"queue": {"lowWatermark": 0.9, "highWatermark": 0.5}}"#,
                "lowWatermark",
            ),
            (r#"{"dedup": {"key": ""}}"#, "dedup.key must not be empty"),
            (r#"{"topicAliases": -1}"#, "topicAliases"),
            (
                r#"{"subscriptionIdentifiers": "yes"}"#,
                "subscriptionIdentifiers",
            ),
            (r#"{"overlapCopies": "twice"}"#, "overlapCopies"),
            (r#"{"followRedirects": "no"}"#, "followRedirects"),
            (r#"{"maxRedirects": 0}"#, "maxRedirects"),
            (r#"{"alerts": {"queued": -1}}"#, "alerts.queued"),
            (r#"{"alerts": {"queue": 5}}"#, "queue"),
            (
                r#"{"reconnectPeriod": 1000}"#,
                "reconnectPeriod is an MQTT.js option",
            ),
            (r#"{"ack": "later"}"#, "ack must be one of"),
            (r#"{"handlerConcurrency": 0}"#, "handlerConcurrency"),
            (r#"{"clientId": 5}"#, "clientId must be a string"),
        ] {
            let error = read_json("ws://h", text)
                .err()
                .unwrap_or_else(|| panic!("{text} accepted"));
            assert!(error.0.contains(needle), "{text}: {}", error.0);
        }
        assert!(read_json("http://h", "{}").is_err());
        assert!(read(&Value::Number(3.0), &Value::Undefined, 0).is_err());
        assert!(read(&Value::Array(vec![]), &Value::Undefined, 0).is_err());
        assert!(read(&Value::String("ws://h".into()), &Value::Number(1.0), 0).is_err());
    }

    #[test]
    fn redirects_and_alerts_have_defaults_and_can_be_set() {
        let defaults = read_json("ws://h", "{}").unwrap();
        assert_eq!(defaults.redirects, RedirectConfig::default());
        assert_eq!(defaults.alerts, default_alert_rules());
        let set = read_json(
            "ws://h",
            r#"{"followRedirects": false, "maxRedirects": 5, "alerts": {"queued": 10, "deliveryLagP99Ms": false, "bytesHeld": 1000}}"#,
        )
        .unwrap();
        assert_eq!(
            set.redirects,
            RedirectConfig {
                follow: false,
                max_hops: 5
            }
        );
        let rules: Vec<_> = set
            .alerts
            .iter()
            .map(|r| (r.metric.name(), r.threshold))
            .collect();
        assert_eq!(
            rules,
            [
                ("queued", 10.0),
                ("bytesHeldGrowth", 8.0 * 1024.0 * 1024.0),
                ("bytesHeld", 1000.0)
            ]
        );
        assert!(read_json("ws://h", r#"{"alerts": false}"#)
            .unwrap()
            .alerts
            .is_empty());
    }

    #[test]
    fn aliases_identifiers_and_copies_have_defaults_and_can_be_set() {
        let defaults = read_json("ws://h", "{}").unwrap().session;
        assert_eq!(defaults.topic_aliases, 16);
        assert!(defaults.subscription_identifiers);
        assert_eq!(defaults.copies, CopyPolicy::Collapse);
        assert!(!defaults.correlation_prefix.is_empty());
        let set = read_json(
            "ws://h",
            r#"{"topicAliases": 0, "subscriptionIdentifiers": false, "overlapCopies": "deliver"}"#,
        )
        .unwrap()
        .session;
        assert_eq!(set.topic_aliases, 0);
        assert!(!set.subscription_identifiers);
        assert_eq!(set.copies, CopyPolicy::Deliver);
    }

    #[test]
    fn a_url_list_reconnect_off_memory_and_no_dedup() {
        let list = json(r#"["ws://a", "wss://b"]"#);
        let options = json(r#"{"reconnect": false, "persistence": "memory", "dedup": false}"#);
        let options = read(&list, &options, 0).unwrap();
        assert_eq!(options.urls, ["ws://a", "wss://b"]);
        assert!(
            options.reconnect.is_none()
                && options.session.dedup.is_none()
                && !options.session.persistent
        );
    }

    #[test]
    fn an_attempt_setup_is_checked_as_the_options_it_stands_in_for() {
        let setup = read_attempt_setup(&json(
            r#"{"url": "wss://b/mqtt", "credentials": {"username": "u", "password": "p"}}"#,
        ))
        .unwrap();
        assert_eq!(setup.url.as_deref(), Some("wss://b/mqtt"));
        assert_eq!(setup.username.as_deref(), Some("u"));
        assert_eq!(setup.password.as_deref(), Some(&b"p"[..]));
        assert!(read_attempt_setup(&json(r#"{"url": "http://b"}"#))
            .unwrap_err()
            .0
            .starts_with("transformWsUrl returned a bad url"));
        assert!(read_attempt_setup(&json(r#"{"url": 5}"#)).is_err());
        assert!(
            read_attempt_setup(&json(r#"{"credentials": {"user": "u"}}"#))
                .unwrap_err()
                .0
                .contains("credentials().user")
        );
        assert_eq!(read_attempt_setup(&json("{}")).unwrap().url, None);
    }
}
