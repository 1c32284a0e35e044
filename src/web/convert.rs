//! The client core's values as the JavaScript values the facade (js/index.js) understands:
//! events and their details, errors, messages, metrics. Conversion only.

use js_sys::{Array, Object, Reflect, Uint32Array, Uint8Array};
use wasm_bindgen::prelude::*;

use super::error::mqtt_error;
use super::idb::StoreError;
use super::props;
use crate::client::{
    lost_reason_text, reason_code_name, ClientError, ClientEvent, ClientMetrics, Completion,
    StoreFailure,
};
use crate::codec::Publish;
use crate::session::{CommandError, Session};

pub(crate) fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in entries {
        let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object.into()
}

pub(crate) fn command_error(error: CommandError) -> JsValue {
    mqtt_error(error.code(), &error.to_string(), None, false)
}

/// The core's error as an `MqttError`.
pub(crate) fn client_error(error: &ClientError) -> JsValue {
    let code = error.code.to_string();
    let value = mqtt_error(&code, &error.message, error.reason_code, error.fatal);
    if let Some(record) = &error.record {
        let _ = Reflect::set(&value, &"record".into(), &record.into());
    }
    value
}

pub(crate) fn store_failure(error: StoreError) -> StoreFailure {
    StoreFailure {
        code: error.code(),
        message: error.message(),
    }
}

/// A delivered message as JavaScript sees it (js/index.js gives it its prototype).
pub(crate) fn message_object(publish: &Publish) -> JsValue {
    object(&[
        ("topic", JsValue::from_str(&publish.topic)),
        ("payload", Uint8Array::from(&publish.payload[..]).into()),
        ("qos", (publish.qos as u8).into()),
        ("retain", publish.retain.into()),
        ("dup", publish.dup.into()),
        ("properties", props::to_js(&publish.properties).into()),
    ])
}

pub(crate) fn routing_object(primary: bool, named: Vec<(String, bool)>) -> JsValue {
    let named: Array = named
        .into_iter()
        .map(|(filter, named)| -> JsValue {
            Array::of2(&JsValue::from_str(&filter), &named.into()).into()
        })
        .collect();
    object(&[("primary", primary.into()), ("named", named.into())])
}

/// One of `pendingDeliveries()`: `{ message, qos, packetId?, key?, primary, named }`.
pub(crate) fn pending(session: &Session, publish: Publish, key: Option<String>) -> JsValue {
    let carried = &publish.properties.subscription_identifiers;
    let (primary, named) = session.named_routes(&publish.topic, carried);
    let item = routing_object(primary, named);
    let _ = Reflect::set(&item, &"message".into(), &message_object(&publish));
    let _ = Reflect::set(&item, &"qos".into(), &(publish.qos as u8).into());
    if let Some(id) = publish.packet_id {
        let _ = Reflect::set(&item, &"packetId".into(), &id.into());
    }
    if let Some(key) = key {
        let _ = Reflect::set(&item, &"key".into(), &key.into());
    }
    item
}

fn persistence(durable: bool) -> JsValue {
    JsValue::from_str(if durable { "indexeddb" } else { "memory" })
}

/// The core's event as the facade's event name and detail; None for `Ended`, which is the
/// driver's own business.
pub(crate) fn event(event: ClientEvent) -> Option<(&'static str, JsValue)> {
    Some(match event {
        ClientEvent::Connected {
            session_present,
            properties,
        } => (
            "connect",
            object(&[
                ("sessionPresent", session_present.into()),
                ("reasonCode", 0.into()),
                ("properties", props::to_js(&properties).into()),
            ]),
        ),
        ClientEvent::Closed { reason } => {
            let mut entries = vec![("reason", JsValue::from_str(lost_reason_text(reason)))];
            if let Some(code) = reason.reason_code() {
                entries.push(("reasonCode", code.into()));
                entries.push(("code", reason_code_name(code).into()));
            }
            ("close", object(&entries))
        }
        ClientEvent::Reconnecting {
            attempt,
            delay_ms,
            url,
        } => (
            "reconnect",
            object(&[
                ("attempt", attempt.into()),
                ("delayMs", delay_ms.into()),
                ("url", url.into()),
            ]),
        ),
        ClientEvent::Redirect(redirect) => (
            "redirect",
            object(&[
                ("from", redirect.from.into()),
                ("to", redirect.to.into()),
                ("reasonCode", redirect.reason_code.into()),
                ("permanent", redirect.permanent.into()),
            ]),
        ),
        ClientEvent::Alert(alert) => (
            "alert",
            object(&[
                ("metric", alert.metric.into()),
                ("value", alert.value.into()),
                ("threshold", alert.threshold.into()),
                (
                    "state",
                    (if alert.raised { "raised" } else { "cleared" }).into(),
                ),
            ]),
        ),
        ClientEvent::Offline => ("offline", JsValue::UNDEFINED),
        ClientEvent::ConnectOverdue(error) => ("overdue", client_error(&error)),
        ClientEvent::Error(error) => ("error", client_error(&error)),
        ClientEvent::Message {
            publish,
            routes,
            primary,
        } => (
            "message",
            object(&[
                ("message", message_object(&publish)),
                ("routes", Uint32Array::from(&routes[..]).into()),
                ("primary", primary.into()),
            ]),
        ),
        ClientEvent::Handle {
            delivery,
            attempt,
            publish,
            routes,
            primary,
        } => (
            "handle",
            object(&[
                ("delivery", (delivery as f64).into()),
                ("attempt", attempt.into()),
                ("message", message_object(&publish)),
                ("routes", Uint32Array::from(&routes[..]).into()),
                ("primary", primary.into()),
            ]),
        ),
        ClientEvent::DeadLetter {
            delivery,
            publish,
            error,
            attempts,
        } => (
            "dead-letter",
            object(&[
                ("delivery", (delivery as f64).into()),
                ("message", message_object(&publish)),
                ("error", error.into()),
                ("attempts", attempts.into()),
            ]),
        ),
        ClientEvent::Done { token, result } => {
            let (name, key, value) = match result {
                Completion::Published { reason_code } => (
                    "done",
                    "result",
                    object(&[("reasonCode", reason_code.into())]),
                ),
                Completion::Acknowledged { reason_codes } => {
                    let codes: Array = reason_codes.iter().map(|c| JsValue::from(*c)).collect();
                    ("done", "result", codes.into())
                }
                Completion::Response(publish) => ("response", "message", message_object(&publish)),
            };
            (name, object(&[("token", token.into()), (key, value)]))
        }
        ClientEvent::Failed { token, error } => (
            "failed",
            object(&[("token", token.into()), ("error", client_error(&error))]),
        ),
        ClientEvent::Backpressure {
            high,
            queued,
            queued_bytes,
        } => (
            "backpressure",
            object(&[
                ("high", high.into()),
                ("queued", (queued as u32).into()),
                ("queuedBytes", (queued_bytes as u32).into()),
            ]),
        ),
        ClientEvent::Duplicate { message_id, topic } => (
            "duplicate",
            object(&[("messageId", message_id.into()), ("topic", topic.into())]),
        ),
        ClientEvent::Storage { durable, error } => {
            let mut entries = vec![("persistence", persistence(durable))];
            if let Some(error) = &error {
                entries.push(("error", client_error(error)));
            }
            ("storage", object(&entries))
        }
        ClientEvent::AuthChallenge {
            exchange,
            method,
            data,
            reason_code,
            properties,
        } => {
            let data = data.map_or(JsValue::UNDEFINED, |d| Uint8Array::from(&d[..]).into());
            (
                "auth",
                object(&[
                    ("exchange", exchange.into()),
                    ("method", method.into()),
                    ("data", data),
                    ("reasonCode", reason_code.into()),
                    ("properties", props::to_js(&properties).into()),
                ]),
            )
        }
        ClientEvent::Reauthenticated { properties } => (
            "reauthenticated",
            object(&[("properties", props::to_js(&properties).into())]),
        ),
        ClientEvent::Ended => return None,
    })
}

/// `metrics()`.
pub(crate) fn metrics(metrics: ClientMetrics) -> JsValue {
    let m = metrics.session;
    let mut entries = vec![
        ("connected", JsValue::from(m.connected)),
        ("inflight", (m.inflight as u32).into()),
        ("queued", (m.queued as u32).into()),
        ("queuedBytes", (m.queued_bytes as u32).into()),
        ("sent", (m.sent as f64).into()),
        ("received", (m.received as f64).into()),
        ("duplicatesDropped", (m.duplicates_dropped as f64).into()),
        ("copiesDropped", (m.copies_dropped as f64).into()),
        ("topicAliasHits", (m.topic_alias_hits as f64).into()),
        ("reconnects", (m.reconnects as f64).into()),
        ("window", (m.window as f64).into()),
        ("messagesPerSecond", metrics.messages_per_second.into()),
        ("persistence", persistence(metrics.durable)),
        ("journalBytes", (metrics.journal_bytes as u32).into()),
    ];
    if let Some(rtt) = m.rtt_ms {
        entries.push(("rttMs", (rtt as f64).into()));
    }
    entries.push(("handlersRunning", (m.handlers_running as u32).into()));
    entries.push(("handlersWaiting", (m.handlers_waiting as u32).into()));
    entries.push(("handlerQos0Dropped", (m.handler_qos0_dropped as f64).into()));
    let ms = |v: Option<u64>| v.map_or(JsValue::NULL, |v| (v as f64).into());
    entries.push(("handlerLatencyP50Ms", ms(m.handler_latency_p50_ms)));
    entries.push(("handlerLatencyP99Ms", ms(m.handler_latency_p99_ms)));
    entries.push((
        "keepaliveIntervalMs",
        (m.keepalive_interval_ms as f64).into(),
    ));
    entries.push((
        "oldestQueuedAgeMs",
        (metrics.oldest_queued_age_ms as f64).into(),
    ));
    for (name, value) in [
        ("deliveryLagP50Ms", metrics.delivery_lag_p50_ms),
        ("deliveryLagP99Ms", metrics.delivery_lag_p99_ms),
    ] {
        if let Some(ms) = value {
            entries.push((name, (ms as f64).into()));
        }
    }
    entries.push(("bytesHeld", (metrics.bytes_held as f64).into()));
    entries.push(("bytesHeldGrowth", (metrics.bytes_held_growth as f64).into()));
    object(&entries)
}
