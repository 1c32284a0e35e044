//! The client core's values packed as the facade (js/index.js) sees them: events and their
//! details, errors, messages, metrics. Writing only; the names are the facade's API.

use super::props;
use super::value::{Kind, Writer};
use crate::client::{
    lost_reason_text, reason_code_name, AttemptRequest, ClientError, ClientEvent, ClientMetrics,
    Completion, JoinerState,
};
use crate::codec::{reason, Properties, Publish};
use crate::session::{CommandError, Session};

/// An `MqttError`: `{ code, message, reasonCode?, fatal? }`.
pub fn error(w: &mut Writer, code: &str, message: &str, reason_code: Option<u8>, fatal: bool) {
    error_with_record(w, code, message, reason_code, fatal, None);
}

/// The core's error as an `MqttError` (with `record`, the stored record it is about, if any).
pub fn client_error(w: &mut Writer, e: &ClientError) {
    let code = e.code.to_string();
    error_with_record(
        w,
        &code,
        &e.message,
        e.reason_code,
        e.fatal,
        e.record.as_deref(),
    );
}

fn error_with_record(
    w: &mut Writer,
    code: &str,
    message: &str,
    reason_code: Option<u8>,
    fatal: bool,
    record: Option<&str>,
) {
    w.kind(Kind::Error).object();
    w.key("code").str(code).key("message").str(message);
    if let Some(reason_code) = reason_code {
        w.key("reasonCode").uint(u64::from(reason_code));
    }
    if fatal {
        w.key("fatal").bool(true);
    }
    if let Some(record) = record {
        w.key("record").str(record);
    }
    w.end_object();
}

pub fn command_error(w: &mut Writer, e: &CommandError) {
    error(w, e.code(), &e.to_string(), None, false);
}

/// A delivered message (the facade gives it its prototype).
pub fn message(w: &mut Writer, publish: &Publish) {
    w.kind(Kind::Message).object();
    w.key("topic").str(&publish.topic);
    w.key("payload").bytes(&publish.payload);
    w.key("qos").uint(publish.qos as u64);
    w.key("retain").bool(publish.retain);
    w.key("dup").bool(publish.dup);
    w.key("properties");
    props::write(w, &publish.properties);
    w.end_object();
}

/// `{ primary, named: [[filter, named], ...] }`: how another tab routes a message (`Session::named_routes`).
fn routing_fields(w: &mut Writer, primary: bool, named: &[(String, bool)]) {
    w.key("primary").bool(primary).key("named").array();
    for (filter, is_named) in named {
        w.array().str(filter).bool(*is_named).end_array();
    }
    w.end_array();
}

fn persistence(durable: bool) -> &'static str {
    if durable {
        "indexeddb"
    } else {
        "memory"
    }
}

fn routes(w: &mut Writer, routes: &[u32]) {
    w.key("routes").array();
    for id in routes {
        w.uint(u64::from(*id));
    }
    w.end_array();
}

/// The core's event as the facade's event name and detail; false (nothing written) for `Ended`,
/// which is the driver's own business.
pub fn event(w: &mut Writer, event: &ClientEvent) -> bool {
    match event {
        ClientEvent::Connected {
            session_present,
            properties,
        } => {
            w.str("connect");
            connected(w, *session_present, properties);
        }
        ClientEvent::Closed { reason } => {
            w.str("close").object();
            w.key("reason").str(lost_reason_text(*reason));
            if let Some(code) = reason.reason_code() {
                w.key("reasonCode").uint(u64::from(code));
                w.key("code").str(&reason_code_name(code));
            }
            w.end_object();
        }
        ClientEvent::Reconnecting {
            attempt,
            delay_ms,
            url,
        } => {
            w.str("reconnect").object();
            w.key("attempt").uint(u64::from(*attempt));
            w.key("delayMs").uint(u64::from(*delay_ms));
            w.key("url").str(url).end_object();
        }
        ClientEvent::Redirect(redirect) => {
            w.str("redirect").object();
            w.key("from")
                .str(&redirect.from)
                .key("to")
                .str(&redirect.to);
            w.key("reasonCode").uint(u64::from(redirect.reason_code));
            w.key("permanent").bool(redirect.permanent).end_object();
        }
        ClientEvent::Alert(alert) => {
            w.str("alert").object();
            w.key("metric")
                .str(alert.metric)
                .key("value")
                .number(alert.value);
            w.key("threshold").number(alert.threshold);
            w.key("state")
                .str(if alert.raised { "raised" } else { "cleared" });
            w.end_object();
        }
        ClientEvent::Offline => {
            w.str("offline").undefined();
        }
        ClientEvent::ConnectOverdue(e) => {
            w.str("overdue");
            client_error(w, e);
        }
        ClientEvent::Error(e) => {
            w.str("error");
            client_error(w, e);
        }
        ClientEvent::Message {
            publish,
            routes: ids,
            primary,
        } => {
            w.str("message").object().key("message");
            message(w, publish);
            routes(w, ids);
            w.key("primary").bool(*primary).end_object();
        }
        ClientEvent::HandedOver {
            publish,
            routes: ids,
            primary,
            named,
        } => {
            // A 'message' that also carries the routing it was given, for the other tabs.
            w.str("message").object().key("message");
            message(w, publish);
            routes(w, ids);
            routing_fields(w, *primary, named);
            w.end_object();
        }
        ClientEvent::Handle {
            delivery,
            attempt,
            publish,
            routes: ids,
            primary,
        } => {
            w.str("handle").object();
            w.key("delivery").uint(*delivery);
            w.key("attempt").uint(u64::from(*attempt)).key("message");
            message(w, publish);
            routes(w, ids);
            w.key("primary").bool(*primary).end_object();
        }
        ClientEvent::DeadLetter {
            delivery,
            publish,
            error,
            attempts,
        } => {
            w.str("dead-letter").object();
            w.key("delivery").uint(*delivery).key("message");
            message(w, publish);
            w.key("error").str(error);
            w.key("attempts").uint(u64::from(*attempts)).end_object();
        }
        ClientEvent::Done { token, result } => {
            let name = match result {
                Completion::Response(_) => "response",
                _ => "done",
            };
            w.str(name).object().key("token").uint(u64::from(*token));
            match result {
                Completion::Published { reason_code } => {
                    w.key("result").object();
                    w.key("reasonCode").uint(u64::from(*reason_code));
                    w.end_object();
                }
                Completion::Subscribed { reason_codes } => {
                    // One `{ qos, reasonCode }` per filter: qos is the granted QoS, undefined
                    // when the broker refused the filter (a reason code of 0x80 or above).
                    w.key("result").array();
                    for code in reason_codes {
                        w.object().key("qos");
                        match reason::is_failure(*code) {
                            true => w.undefined(),
                            false => w.uint(u64::from(*code)),
                        };
                        w.key("reasonCode").uint(u64::from(*code)).end_object();
                    }
                    w.end_array();
                }
                Completion::Unsubscribed { reason_codes } => {
                    w.key("result").array();
                    for code in reason_codes {
                        w.uint(u64::from(*code));
                    }
                    w.end_array();
                }
                Completion::Response(publish) => {
                    w.key("message");
                    message(w, publish);
                }
            }
            w.end_object();
        }
        ClientEvent::Failed { token, error } => {
            w.str("failed")
                .object()
                .key("token")
                .uint(u64::from(*token));
            w.key("error");
            client_error(w, error);
            w.end_object();
        }
        ClientEvent::Backpressure {
            high,
            queued,
            queued_bytes,
        } => {
            w.str("backpressure").object().key("high").bool(*high);
            w.key("queued").uint(*queued as u64);
            w.key("queuedBytes").uint(*queued_bytes as u64).end_object();
        }
        ClientEvent::Duplicate { message_id, topic } => {
            w.str("duplicate").object().key("messageId").str(message_id);
            w.key("topic").str(topic).end_object();
        }
        ClientEvent::Storage { durable, error } => {
            w.str("storage").object();
            w.key("persistence").str(persistence(*durable));
            if let Some(e) = error {
                w.key("error");
                client_error(w, e);
            }
            w.end_object();
        }
        ClientEvent::AuthChallenge {
            exchange,
            method,
            data,
            reason_code,
            properties,
        } => {
            w.str("auth")
                .object()
                .key("exchange")
                .uint(u64::from(*exchange));
            w.key("method").str(method).key("data");
            match data {
                Some(d) => w.bytes(d),
                None => w.undefined(),
            };
            w.key("reasonCode").uint(u64::from(*reason_code));
            w.key("properties");
            props::write(w, properties);
            w.end_object();
        }
        ClientEvent::Reauthenticated { properties } => {
            w.str("reauthenticated").object().key("properties");
            props::write(w, properties);
            w.end_object();
        }
        ClientEvent::Ended => return false,
    }
    true
}

/// A `connect` event's detail.
fn connected(w: &mut Writer, session_present: bool, properties: &Properties) {
    w.object().key("sessionPresent").bool(session_present);
    w.key("reasonCode").uint(0).key("properties");
    props::write(w, properties);
    w.end_object();
}

/// `{ connect?, overdue?, fatal? }`: what a tab that joins later is told (`JoinerState`).
pub fn joiner_state(w: &mut Writer, state: &JoinerState) {
    w.object();
    if let Some((session_present, properties)) = &state.connected {
        w.key("connect");
        connected(w, *session_present, properties);
    }
    if let Some(error) = &state.overdue {
        w.key("overdue");
        client_error(w, error);
    }
    if let Some(error) = &state.fatal {
        w.key("fatal");
        client_error(w, error);
    }
    w.end_object();
}

/// What the tabs that follow this one get of `event` (js/tabs.js posts it to them): a `tab`
/// event with `[name, detail]`. A message goes with the routing the other tabs apply to it
/// (`Session::named_routes`, applied there by `Router::route_named`) instead of this tab's
/// routes; a delivery acknowledged after the handlers goes as a message, once (the other tabs'
/// handlers do not hold its acknowledgement). The calls' results, authentication and dead
/// letters concern this tab only.
pub fn shared(w: &mut Writer, event: &ClientEvent, session: &Session) {
    let (publish, primary, named) = match event {
        ClientEvent::Message {
            publish, primary, ..
        }
        | ClientEvent::Handle {
            publish,
            primary,
            attempt: 1,
            ..
        } => {
            let carried = &publish.properties.subscription_identifiers;
            let (_, named) = session.named_routes(&publish.topic, carried);
            (publish, *primary, named)
        }
        ClientEvent::HandedOver {
            publish,
            primary,
            named,
            ..
        } => (publish, *primary, named.clone()),
        ClientEvent::Handle { .. }
        | ClientEvent::DeadLetter { .. }
        | ClientEvent::Done { .. }
        | ClientEvent::Failed { .. }
        | ClientEvent::AuthChallenge { .. }
        | ClientEvent::Ended => return,
        other => {
            w.str("tab").array();
            self::event(w, other);
            w.end_array();
            return;
        }
    };
    w.str("tab").array().str("message").object().key("message");
    message(w, publish);
    routing_fields(w, primary, &named);
    w.end_object().end_array();
}

/// `attempt`: the core asks for this attempt's URL and credentials (`transformWsUrl`,
/// `credentials`); the facade answers with the `attemptSetup` call.
pub fn attempt(w: &mut Writer, request: &AttemptRequest) {
    w.str("attempt").object();
    w.key("id").uint(u64::from(request.id));
    w.key("url").str(&request.url).end_object();
}

/// `metrics()`.
pub fn metrics(w: &mut Writer, metrics: &ClientMetrics) {
    let m = &metrics.session;
    w.object();
    w.key("connected").bool(m.connected);
    for (name, value) in [
        ("inflight", m.inflight as u64),
        ("queued", m.queued as u64),
        ("queuedBytes", m.queued_bytes as u64),
        ("sent", m.sent),
        ("received", m.received),
        ("duplicatesDropped", m.duplicates_dropped),
        ("copiesDropped", m.copies_dropped),
        ("topicAliasHits", m.topic_alias_hits),
        ("reconnects", m.reconnects),
        ("window", m.window as u64),
    ] {
        w.key(name).uint(value);
    }
    w.key("messagesPerSecond")
        .number(metrics.messages_per_second);
    w.key("persistence").str(persistence(metrics.durable));
    w.key("journalBytes").uint(metrics.journal_bytes as u64);
    if let Some(rtt) = m.rtt_ms {
        w.key("rttMs").uint(rtt);
    }
    w.key("handlersRunning").uint(m.handlers_running as u64);
    w.key("handlersWaiting").uint(m.handlers_waiting as u64);
    w.key("handlerQos0Dropped").uint(m.handler_qos0_dropped);
    for (name, value) in [
        ("handlerLatencyP50Ms", m.handler_latency_p50_ms),
        ("handlerLatencyP99Ms", m.handler_latency_p99_ms),
    ] {
        w.key(name);
        match value {
            Some(ms) => w.uint(ms),
            None => w.null(),
        };
    }
    w.key("keepaliveIntervalMs").uint(m.keepalive_interval_ms);
    w.key("oldestQueuedAgeMs")
        .uint(metrics.oldest_queued_age_ms);
    for (name, value) in [
        ("deliveryLagP50Ms", metrics.delivery_lag_p50_ms),
        ("deliveryLagP99Ms", metrics.delivery_lag_p99_ms),
    ] {
        if let Some(ms) = value {
            w.key(name).uint(ms);
        }
    }
    w.key("bytesHeld").uint(metrics.bytes_held as u64);
    w.key("bytesHeldGrowth").uint(metrics.bytes_held_growth);
    w.end_object();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::value::{unpack, Value};

    fn written(e: &ClientEvent) -> Vec<Value> {
        let mut w = Writer::new();
        assert!(event(&mut w, e));
        unpack(&w.take()).unwrap()
    }

    #[test]
    fn the_following_tabs_get_messages_with_their_routing_and_not_this_tabs_own_business() {
        let url = Value::String("ws://h".into());
        let o = crate::api::options::read(&url, &crate::api::value::json("{}"), 1).unwrap();
        let session = crate::session::Session::new(o.session);
        let publish = Publish {
            dup: false,
            qos: crate::codec::QoS::AtLeastOnce,
            retain: false,
            topic: "a/b".into(),
            packet_id: Some(1),
            properties: Default::default(),
            payload: bytes::Bytes::from_static(b"x"),
        };
        let shared_of = |e: &ClientEvent| {
            let mut w = Writer::new();
            shared(&mut w, e, &session);
            unpack(&w.take()).unwrap()
        };
        let handle = |attempt| ClientEvent::Handle {
            delivery: 1,
            attempt,
            publish: publish.clone(),
            routes: vec![4],
            primary: true,
        };
        let message = ClientEvent::Message {
            publish: publish.clone(),
            routes: vec![4],
            primary: true,
        };
        for e in [message, handle(1)] {
            let values = shared_of(&e);
            assert_eq!(values[0], Value::String("tab".into()));
            let Value::Array(inner) = &values[1] else {
                panic!("[name, detail]")
            };
            assert_eq!(inner[0], Value::String("message".into()));
            assert_eq!(inner[1].get("primary"), &Value::Bool(true));
            assert_eq!(inner[1].get("named"), &Value::Array(Vec::new()));
            assert_eq!(
                inner[1].get("routes"),
                &Value::Undefined,
                "not this tab's routes"
            );
        }
        assert!(shared_of(&handle(2)).is_empty(), "a retry stays here");
        let done = ClientEvent::Done {
            token: 1,
            result: Completion::Published { reason_code: 0 },
        };
        assert!(shared_of(&done).is_empty(), "a call's result stays here");
        let offline = shared_of(&ClientEvent::Offline);
        assert_eq!(offline[0], Value::String("tab".into()));
        assert_eq!(
            offline[1],
            Value::Array(vec![Value::String("offline".into()), Value::Undefined])
        );
    }

    #[test]
    fn a_subscribe_result_says_the_granted_qos_or_none_for_each_filter() {
        let values = written(&ClientEvent::Done {
            token: 3,
            result: Completion::Subscribed {
                reason_codes: vec![1, 0x80, 0],
            },
        });
        assert_eq!(values[0], Value::String("done".into()));
        let Value::Array(result) = values[1].get("result") else {
            panic!("an array")
        };
        let granted: Vec<_> = result
            .iter()
            .map(|r| (r.get("qos").clone(), r.get("reasonCode").as_f64()))
            .collect();
        assert_eq!(
            granted,
            [
                (Value::Number(1.0), Some(1.0)),
                (Value::Undefined, Some(128.0)),
                (Value::Number(0.0), Some(0.0))
            ]
        );
        let values = written(&ClientEvent::Done {
            token: 4,
            result: Completion::Unsubscribed {
                reason_codes: vec![0, 0x11],
            },
        });
        assert_eq!(
            values[1].get("result"),
            &Value::Array(vec![Value::Number(0.0), Value::Number(17.0)])
        );
    }

    #[test]
    fn an_attempt_asks_with_its_id_and_url() {
        let mut w = Writer::new();
        let request = AttemptRequest {
            id: 7,
            url: "wss://b/mqtt".into(),
        };
        attempt(&mut w, &request);
        let values = unpack(&w.take()).unwrap();
        assert_eq!(values[0], Value::String("attempt".into()));
        assert_eq!(values[1].get("id").as_f64(), Some(7.0));
        assert_eq!(values[1].get("url").as_str(), Some("wss://b/mqtt"));
    }

    #[test]
    fn an_ended_client_writes_nothing_and_errors_keep_their_fields() {
        let mut w = Writer::new();
        assert!(!event(&mut w, &ClientEvent::Ended));
        assert!(w.is_empty());
        let mut error = ClientError::new("NOT_AUTHORIZED", "refused");
        error.reason_code = Some(0x87);
        error.fatal = true;
        let values = written(&ClientEvent::Error(error));
        assert_eq!(values[0], Value::String("error".into()));
        assert_eq!(values[1].get("code").as_str(), Some("NOT_AUTHORIZED"));
        assert_eq!(values[1].get("reasonCode").as_f64(), Some(135.0));
        assert_eq!(values[1].get("fatal"), &Value::Bool(true));
    }
}
