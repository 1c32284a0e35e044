//! Reading the arguments of the client's commands (publish, subscribe, request, ...) from
//! JavaScript: every name checked, every value typed, errors as `INVALID_ARGUMENT` MqttErrors.

use bytes::Bytes;
use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::client_options::read_ack;
use super::error::invalid_argument;
use super::options::{payload_bytes, Checked, Fields, InvalidArgument};
use super::props;
use crate::codec::{Properties, Publish, QoS, RetainHandling, SubscriptionOptions};
use crate::session::{AckMode, PublishRequest, RequestSpec};

fn js(error: InvalidArgument) -> JsValue {
    invalid_argument(&error.0)
}

fn qos(fields: &mut Fields<'_>, default: QoS) -> Checked<QoS> {
    Ok(fields
        .integer("qos", 0.0, 2.0)?
        .map_or(default, |n| QoS::from_u8(n as u8).unwrap_or_default()))
}

fn properties(fields: &mut Fields<'_>) -> Checked<Properties> {
    match fields.get("properties") {
        Some(p) => props::from_js(&p, "options.properties"),
        None => Ok(Properties::default()),
    }
}

/// `{ qos?, retain?, properties?, messageId? }` for a publish (or a response) to `topic`.
pub(crate) fn read_publish(
    topic: String,
    payload: &JsValue,
    options: &JsValue,
) -> Result<PublishRequest, JsValue> {
    read_stamped_publish(topic, payload, options, None)
}

/// As [`read_publish`], and `stamp?` (into `stamp`) when a publish may be stamped.
pub(crate) fn read_stamped_publish(
    topic: String,
    payload: &JsValue,
    options: &JsValue,
    stamp: Option<&mut bool>,
) -> Result<PublishRequest, JsValue> {
    let payload = payload_bytes(payload).map_err(js)?;
    let mut fields = Fields::of(options, "options").map_err(js)?;
    if let Some(stamp) = stamp {
        *stamp = fields.bool("stamp").map_err(js)?.unwrap_or(false);
    }
    let request = PublishRequest {
        topic,
        payload: Bytes::from(payload),
        qos: qos(&mut fields, QoS::AtMostOnce).map_err(js)?,
        retain: fields.bool("retain").map_err(js)?.unwrap_or(false),
        properties: properties(&mut fields).map_err(js)?,
        message_id: fields.string("messageId").map_err(js)?,
    };
    fields.finish().map_err(js)?;
    Ok(request)
}

/// `{ qos?, properties?, timeout? (ms), responseTopic? }` for a request to `topic`.
pub(crate) fn read_request(
    topic: String,
    payload: &JsValue,
    options: &JsValue,
) -> Result<RequestSpec, JsValue> {
    let payload = payload_bytes(payload).map_err(js)?;
    let mut fields = Fields::of(options, "options").map_err(js)?;
    let spec = RequestSpec {
        topic,
        payload: Bytes::from(payload),
        qos: qos(&mut fields, QoS::AtMostOnce).map_err(js)?,
        properties: properties(&mut fields).map_err(js)?,
        timeout_ms: fields
            .integer("timeout", 1.0, 2_147_483_647.0)
            .map_err(js)?
            .map(|n| n as u64),
        response_topic: fields.string("responseTopic").map_err(js)?,
    };
    fields.finish().map_err(js)?;
    Ok(spec)
}

/// `[{ topic, qos?, noLocal?, retainAsPublished?, retainHandling? }]` and `{ qos?, properties? }`.
pub(crate) fn read_subscriptions(
    subscriptions: JsValue,
    options: &JsValue,
) -> Result<(Vec<(String, SubscriptionOptions)>, Properties), JsValue> {
    let list = subscriptions
        .dyn_into::<Array>()
        .map_err(|_| invalid_argument("subscribe needs a filter or a list of filters"))?;
    let mut fields = Fields::of(options, "options").map_err(js)?;
    let default_qos = qos(&mut fields, QoS::AtMostOnce).map_err(js)?;
    let properties = properties(&mut fields).map_err(js)?;
    // The subscription's own acknowledgement mode goes to its routes (`read_route`).
    read_ack(&mut fields).map_err(js)?;
    fields.finish().map_err(js)?;
    let mut filters = Vec::new();
    for item in list.iter() {
        let mut f = Fields::of(&item, "subscription").map_err(js)?;
        let read = (|| {
            let topic = f
                .string("topic")?
                .ok_or_else(|| InvalidArgument("subscription.topic is required".into()))?;
            let options = SubscriptionOptions {
                qos: qos(&mut f, default_qos)?,
                no_local: f.bool("noLocal")?.unwrap_or(false),
                retain_as_published: f.bool("retainAsPublished")?.unwrap_or(false),
                retain_handling: match f.integer("retainHandling", 0.0, 2.0)? {
                    Some(1.0) => RetainHandling::SendAtSubscribeIfNew,
                    Some(2.0) => RetainHandling::DoNotSend,
                    _ => RetainHandling::SendAtSubscribe,
                },
            };
            Ok::<_, InvalidArgument>((topic, options))
        })();
        filters.push(read.map_err(js)?);
        f.finish().map_err(js)?;
    }
    Ok((filters, properties))
}

/// `{ ack? }` for a route: the subscription's own acknowledgement mode.
pub(crate) fn read_route(options: &JsValue) -> Result<Option<AckMode>, JsValue> {
    let mut fields = Fields::of(options, "options").map_err(js)?;
    let ack = read_ack(&mut fields).map_err(js)?;
    fields.finish().map_err(js)?;
    Ok(ack)
}

/// A list of filters and `{ properties? }`.
pub(crate) fn read_unsubscribe(
    topics: JsValue,
    options: &JsValue,
) -> Result<(Vec<String>, Properties), JsValue> {
    let list = topics
        .dyn_into::<Array>()
        .map_err(|_| invalid_argument("unsubscribe needs a filter or a list of filters"))?;
    let filters = list
        .iter()
        .map(|t| {
            t.as_string()
                .ok_or_else(|| invalid_argument("topic filters must be strings"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut fields = Fields::of(options, "options").map_err(js)?;
    let properties = properties(&mut fields).map_err(js)?;
    fields.finish().map_err(js)?;
    Ok((filters, properties))
}

/// What respond() needs of a delivered message: its response topic and correlation data.
pub(crate) fn read_request_message(message: &JsValue) -> Result<Publish, JsValue> {
    let properties = if message.is_object() {
        Reflect::get(message, &"properties".into()).unwrap_or_default()
    } else {
        JsValue::UNDEFINED
    };
    if !properties.is_object() {
        return Err(invalid_argument(
            "respond needs a message received from this client",
        ));
    }
    let mut request = Publish {
        dup: false,
        qos: QoS::AtMostOnce,
        retain: false,
        topic: String::new(),
        packet_id: None,
        properties: Properties::default(),
        payload: Bytes::new(),
    };
    request.properties.response_topic = Reflect::get(&properties, &"responseTopic".into())
        .ok()
        .and_then(|t| t.as_string());
    request.properties.correlation_data = Reflect::get(&properties, &"correlationData".into())
        .ok()
        .and_then(|d| d.dyn_into::<Uint8Array>().ok())
        .map(|d| Bytes::from(d.to_vec()));
    Ok(request)
}

/// Authentication data: undefined, a Uint8Array or a string.
pub(crate) fn read_auth_data(data: &JsValue) -> Result<Option<Bytes>, JsValue> {
    if data.is_undefined() || data.is_null() {
        return Ok(None);
    }
    payload_bytes(data)
        .map(|bytes| Some(Bytes::from(bytes)))
        .map_err(|_| invalid_argument("authentication data must be a Uint8Array or a string"))
}

/// `{ force?, timeout?, will? }` for `end()`; the default waits 5 s for what is in flight.
pub(crate) fn read_end(options: &JsValue) -> Result<crate::client::EndOptions, JsValue> {
    let mut fields = Fields::of(options, "options").map_err(js)?;
    let end = crate::client::EndOptions {
        force: fields.bool("force").map_err(js)?.unwrap_or(false),
        timeout_ms: fields
            .integer("timeout", 0.0, 2_147_483_647.0)
            .map_err(js)?
            .map_or(5_000, |n| n as u32),
        publish_will: fields.bool("will").map_err(js)?.unwrap_or(false),
    };
    fields.finish().map_err(js)?;
    Ok(end)
}
