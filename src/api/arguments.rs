//! Reading the arguments of the client's commands (publish, subscribe, request, ...): every name
//! checked, every value typed, errors naming what is wrong.

use bytes::Bytes;

use super::fields::{invalid, payload_bytes, Checked, Fields};
use super::options::read_ack;
use super::props;
use super::value::Value;
use crate::client::EndOptions;
use crate::codec::{Properties, Publish, QoS, RetainHandling, SubscriptionOptions};
use crate::session::{AckMode, PublishRequest, RequestSpec};

fn qos(fields: &mut Fields<'_>, default: QoS) -> Checked<QoS> {
    Ok(fields
        .integer("qos", 0.0, 2.0)?
        .map_or(default, |n| QoS::from_u8(n as u8).unwrap_or_default()))
}

fn properties(fields: &mut Fields<'_>) -> Checked<Properties> {
    match fields.get("properties") {
        Some(p) => props::read(p, "options.properties"),
        None => Ok(Properties::default()),
    }
}

fn topic(value: &Value) -> Checked<String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| invalid("topic must be a string"))
}

/// `publish(topic, payload, { qos?, retain?, properties?, messageId?, stamp? })`, with whether
/// to stamp it.
pub fn read_publish(
    topic_value: &Value,
    payload: &Value,
    options: &Value,
) -> Checked<(PublishRequest, bool)> {
    let topic = topic(topic_value)?;
    let payload = payload_bytes(payload)?;
    let mut fields = Fields::of(options, "options")?;
    let stamp = fields.bool("stamp")?.unwrap_or(false);
    let request = PublishRequest {
        topic,
        payload: Bytes::from(payload),
        qos: qos(&mut fields, QoS::AtMostOnce)?,
        retain: fields.bool("retain")?.unwrap_or(false),
        properties: properties(&mut fields)?,
        message_id: fields.string("messageId")?,
    };
    fields.finish()?;
    Ok((request, stamp))
}

/// `respond(message, payload, options)`: options as a publish's, less `stamp`.
pub fn read_response(payload: &Value, options: &Value) -> Checked<PublishRequest> {
    let mut fields = Fields::of(options, "options")?;
    let request = PublishRequest {
        topic: String::new(),
        payload: Bytes::from(payload_bytes(payload)?),
        qos: qos(&mut fields, QoS::AtMostOnce)?,
        retain: fields.bool("retain")?.unwrap_or(false),
        properties: properties(&mut fields)?,
        message_id: fields.string("messageId")?,
    };
    fields.finish()?;
    Ok(request)
}

/// `{ qos?, properties?, timeout? (ms), responseTopic? }` for a request to `topic`.
pub fn read_request(topic_value: &Value, payload: &Value, options: &Value) -> Checked<RequestSpec> {
    let topic = topic(topic_value)?;
    let payload = payload_bytes(payload)?;
    let mut fields = Fields::of(options, "options")?;
    let spec = RequestSpec {
        topic,
        payload: Bytes::from(payload),
        qos: qos(&mut fields, QoS::AtMostOnce)?,
        properties: properties(&mut fields)?,
        timeout_ms: fields
            .integer("timeout", 1.0, 2_147_483_647.0)?
            .map(|n| n as u64),
        response_topic: fields.string("responseTopic")?,
    };
    fields.finish()?;
    Ok(spec)
}

/// `[{ topic, qos?, noLocal?, retainAsPublished?, retainHandling? }]` and `{ qos?, properties? }`.
pub fn read_subscriptions(
    subscriptions: &Value,
    options: &Value,
) -> Checked<(Vec<(String, SubscriptionOptions)>, Properties)> {
    let Value::Array(list) = subscriptions else {
        return Err(invalid("subscribe needs a filter or a list of filters"));
    };
    let mut fields = Fields::of(options, "options")?;
    let default_qos = qos(&mut fields, QoS::AtMostOnce)?;
    let properties = properties(&mut fields)?;
    // The subscription's own acknowledgement mode goes to its routes (`read_route`).
    read_ack(&mut fields)?;
    fields.finish()?;
    let mut filters = Vec::new();
    for item in list {
        let mut f = Fields::of(item, "subscription")?;
        let topic = f
            .string("topic")?
            .ok_or_else(|| invalid("subscription.topic is required"))?;
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
        f.finish()?;
        filters.push((topic, options));
    }
    Ok((filters, properties))
}

/// `{ ack? }` for a route: the subscription's own acknowledgement mode.
pub fn read_route(options: &Value) -> Checked<Option<AckMode>> {
    let mut fields = Fields::of(options, "options")?;
    let ack = read_ack(&mut fields)?;
    fields.finish()?;
    Ok(ack)
}

/// A list of filters and `{ properties? }`.
pub fn read_unsubscribe(topics: &Value, options: &Value) -> Checked<(Vec<String>, Properties)> {
    let Value::Array(list) = topics else {
        return Err(invalid("unsubscribe needs a filter or a list of filters"));
    };
    let filters = list
        .iter()
        .map(|t| {
            t.as_str()
                .map(str::to_owned)
                .ok_or_else(|| invalid("topic filters must be strings"))
        })
        .collect::<Checked<Vec<_>>>()?;
    let mut fields = Fields::of(options, "options")?;
    let properties = properties(&mut fields)?;
    fields.finish()?;
    Ok((filters, properties))
}

/// What respond() needs of a delivered message: its response topic and correlation data.
pub fn read_request_message(message: &Value) -> Checked<Publish> {
    let properties = message.get("properties");
    if !matches!(properties, Value::Object(_)) {
        return Err(invalid("respond needs a message received from this client"));
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
    request.properties.response_topic = properties.get("responseTopic").as_str().map(str::to_owned);
    if let Value::Bytes(data) = properties.get("correlationData") {
        request.properties.correlation_data = Some(Bytes::from(data.clone()));
    }
    Ok(request)
}

/// Authentication data: undefined, a Uint8Array or a string.
pub fn read_auth_data(data: &Value) -> Checked<Option<Bytes>> {
    if matches!(data, Value::Undefined | Value::Null) {
        return Ok(None);
    }
    payload_bytes(data)
        .map(|bytes| Some(Bytes::from(bytes)))
        .map_err(|_| invalid("authentication data must be a Uint8Array or a string"))
}

/// `{ force?, timeout?, will? }` for `end()`; the default waits 5 s for what is in flight.
pub fn read_end(options: &Value) -> Checked<EndOptions> {
    let mut fields = Fields::of(options, "options")?;
    let end = EndOptions {
        force: fields.bool("force")?.unwrap_or(false),
        timeout_ms: fields
            .integer("timeout", 0.0, 2_147_483_647.0)?
            .map_or(5_000, |n| n as u32),
        publish_will: fields.bool("will")?.unwrap_or(false),
    };
    fields.finish()?;
    Ok(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::value::json;

    #[test]
    fn a_publish_reads_its_options_and_names_a_bad_one() {
        let (request, stamp) = read_publish(
            &json(r#""a/b""#),
            &Value::Bytes(vec![1]),
            &json(
                r#"{"qos": 1, "retain": true, "stamp": true, "properties": {"contentType": "x"}}"#,
            ),
        )
        .unwrap();
        assert_eq!(
            (request.topic.as_str(), request.qos, request.retain, stamp),
            ("a/b", QoS::AtLeastOnce, true, true)
        );
        assert_eq!(request.properties.content_type.as_deref(), Some("x"));
        let (text, _) = read_publish(&json(r#""t""#), &json(r#""hé""#), &Value::Undefined).unwrap();
        assert_eq!(&text.payload[..], "hé".as_bytes());
        for (topic, payload, options, needle) in [
            (r#"5"#, r#""x""#, "{}", "topic must be a string"),
            (r#""t""#, "5", "{}", "payload must be"),
            (r#""t""#, r#""x""#, r#"{"qos": 3}"#, "options.qos must be"),
            (
                r#""t""#,
                r#""x""#,
                r#"{"retian": true}"#,
                "unknown option options.retian",
            ),
            (
                r#""t""#,
                r#""x""#,
                r#"{"properties": {"topicAlias": "1"}}"#,
                "options.properties.topicAlias",
            ),
        ] {
            let error = read_publish(&json(topic), &json(payload), &json(options)).unwrap_err();
            assert!(error.0.contains(needle), "{}", error.0);
        }
        assert!(read_response(&json(r#""x""#), &json(r#"{"stamp": true}"#)).is_err());
    }

    #[test]
    fn subscriptions_take_the_default_qos_and_their_own_options() {
        let (filters, _) = read_subscriptions(
            &json(r#"[{"topic": "a"}, {"topic": "b", "qos": 0, "noLocal": true, "retainHandling": 2}]"#),
            &json(r#"{"qos": 2, "ack": "after-handler"}"#),
        )
        .unwrap();
        assert_eq!(filters[0].1.qos, QoS::ExactlyOnce);
        assert_eq!(filters[1].1.qos, QoS::AtMostOnce);
        assert!(filters[1].1.no_local);
        assert_eq!(filters[1].1.retain_handling, RetainHandling::DoNotSend);
        assert!(
            read_subscriptions(&json(r#"[{"qos": 1}]"#), &Value::Undefined)
                .unwrap_err()
                .0
                .contains("subscription.topic is required")
        );
        assert!(read_subscriptions(&json(r#""a""#), &Value::Undefined).is_err());
        assert!(read_unsubscribe(&json(r#"["a", 5]"#), &Value::Undefined).is_err());
        assert_eq!(
            read_route(&json(r#"{"ack": "after-handler"}"#)),
            Ok(Some(AckMode::AfterHandler))
        );
    }

    #[test]
    fn end_auth_and_respond_arguments() {
        assert_eq!(read_end(&Value::Undefined).unwrap().timeout_ms, 5_000);
        assert!(read_end(&json(r#"{"force": 1}"#)).is_err());
        assert_eq!(read_auth_data(&Value::Null), Ok(None));
        assert!(read_auth_data(&Value::Number(1.0)).is_err());
        assert!(read_request_message(&json(r#"{"topic": "a"}"#)).is_err());
        let message = Value::Object(vec![(
            "properties".into(),
            Value::Object(vec![
                ("responseTopic".into(), Value::String("r".into())),
                ("correlationData".into(), Value::Bytes(vec![9])),
            ]),
        )]);
        let request = read_request_message(&message).unwrap();
        assert_eq!(request.properties.response_topic.as_deref(), Some("r"));
        assert_eq!(
            request.properties.correlation_data.as_deref(),
            Some(&[9u8][..])
        );
    }
}
