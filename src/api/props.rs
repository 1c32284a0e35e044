//! MQTT 5 properties to and from plain JavaScript objects, one table for both directions.
//! Names are the camelCase of the specification's (`messageExpiryInterval`, ...); user
//! properties are `[key, value]` pairs so that order and repeats survive (an object
//! `{ key: value | value[] }` is accepted on input too). `subscriptionIdentifier` is a number, or
//! an array when a PUBLISH carries several (MQTT-3.3.4-4), as in MQTT.js.

use bytes::Bytes;

use super::fields::{Checked, Fields, InvalidArgument};
use super::value::{Value, Writer};
use crate::codec::Properties;

macro_rules! properties_table {
    ($($field:ident : $kind:ident = $name:literal),* $(,)?) => {
        /// Writes the properties as a plain object (absent ones omitted).
        pub fn write(w: &mut Writer, properties: &Properties) {
            w.object();
            $( if let Some(value) = &properties.$field { w.key($name); properties_table!(@out w $kind value); } )*
            write_subscription_ids(w, &properties.subscription_identifiers);
            if !properties.user_properties.is_empty() {
                w.key("userProperties").array();
                for (k, v) in &properties.user_properties {
                    w.array().str(k).str(v).end_array();
                }
                w.end_array();
            }
            w.end_object();
        }

        /// Reads a properties object; `path` names it in errors (e.g. "will.properties").
        pub fn read(value: &Value, path: &str) -> Checked<Properties> {
            let mut fields = Fields::of(value, path)?;
            let mut properties = Properties::default();
            $( properties.$field = properties_table!(@in $kind fields $name)?; )*
            if let Some(ids) = fields.get(SUBSCRIPTION_IDENTIFIER) {
                properties.subscription_identifiers = read_subscription_ids(ids, path)?;
            }
            if let Some(user) = fields.get("userProperties") {
                properties.user_properties = read_user_properties(user, path)?;
            }
            fields.finish()?;
            Ok(properties)
        }
    };
    (@out $w:ident byte $v:ident) => { $w.uint(u64::from(*$v)) };
    (@out $w:ident u16 $v:ident) => { $w.uint(u64::from(*$v)) };
    (@out $w:ident u32 $v:ident) => { $w.uint(u64::from(*$v)) };
    (@out $w:ident string $v:ident) => { $w.str($v) };
    (@out $w:ident bytes $v:ident) => { $w.bytes($v) };
    (@in byte $f:ident $name:literal) => { $f.integer($name, 0.0, 255.0).map(|v| v.map(|n| n as u8)) };
    (@in u16 $f:ident $name:literal) => { $f.integer($name, 0.0, 65535.0).map(|v| v.map(|n| n as u16)) };
    (@in u32 $f:ident $name:literal) => { $f.integer($name, 0.0, 4294967295.0).map(|v| v.map(|n| n as u32)) };
    (@in string $f:ident $name:literal) => { $f.string($name) };
    (@in bytes $f:ident $name:literal) => { $f.bytes($name).map(|v| v.map(Bytes::from)) };
}

properties_table! {
    payload_format_indicator: byte = "payloadFormatIndicator",
    message_expiry_interval: u32 = "messageExpiryInterval",
    content_type: string = "contentType",
    response_topic: string = "responseTopic",
    correlation_data: bytes = "correlationData",
    session_expiry_interval: u32 = "sessionExpiryInterval",
    assigned_client_identifier: string = "assignedClientIdentifier",
    server_keep_alive: u16 = "serverKeepAlive",
    authentication_method: string = "authenticationMethod",
    authentication_data: bytes = "authenticationData",
    request_problem_information: byte = "requestProblemInformation",
    will_delay_interval: u32 = "willDelayInterval",
    request_response_information: byte = "requestResponseInformation",
    response_information: string = "responseInformation",
    server_reference: string = "serverReference",
    reason_string: string = "reasonString",
    receive_maximum: u16 = "receiveMaximum",
    topic_alias_maximum: u16 = "topicAliasMaximum",
    topic_alias: u16 = "topicAlias",
    maximum_qos: byte = "maximumQos",
    retain_available: byte = "retainAvailable",
    maximum_packet_size: u32 = "maximumPacketSize",
    wildcard_subscription_available: byte = "wildcardSubscriptionAvailable",
    subscription_identifier_available: byte = "subscriptionIdentifierAvailable",
    shared_subscription_available: byte = "sharedSubscriptionAvailable",
}

fn bad(path: &str, key: &str, what: &str) -> InvalidArgument {
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}.")
    };
    InvalidArgument(format!("{prefix}{key} must be {what}"))
}

const SUBSCRIPTION_IDENTIFIER: &str = "subscriptionIdentifier";

/// One identifier as a number, several as an array, none as nothing.
fn write_subscription_ids(w: &mut Writer, ids: &[u32]) {
    match ids {
        [] => {}
        [id] => {
            w.key(SUBSCRIPTION_IDENTIFIER).uint(u64::from(*id));
        }
        _ => {
            w.key(SUBSCRIPTION_IDENTIFIER).array();
            for id in ids {
                w.uint(u64::from(*id));
            }
            w.end_array();
        }
    }
}

/// A number or an array of numbers, each from 1 to 268435455 (3.3.2.3.8).
fn read_subscription_ids(value: &Value, path: &str) -> Checked<Vec<u32>> {
    let error = || {
        bad(
            path,
            SUBSCRIPTION_IDENTIFIER,
            "a whole number from 1 to 268435455, or an array of them",
        )
    };
    let id = |v: &Value| match v.as_f64() {
        Some(n) if n.fract() == 0.0 && (1.0..=268_435_455.0).contains(&n) => Ok(n as u32),
        _ => Err(error()),
    };
    match value {
        Value::Array(items) => items.iter().map(id).collect(),
        one => Ok(vec![id(one)?]),
    }
}

fn read_user_properties(value: &Value, path: &str) -> Checked<Vec<(String, String)>> {
    let error = || {
        bad(
            path,
            "userProperties",
            "an array of [key, value] string pairs or an object of strings",
        )
    };
    let text = |v: &Value| v.as_str().map(str::to_owned).ok_or_else(error);
    match value {
        Value::Array(pairs) => pairs
            .iter()
            .map(|pair| match pair {
                Value::Array(kv) if kv.len() == 2 => Ok((text(&kv[0])?, text(&kv[1])?)),
                _ => Err(error()),
            })
            .collect(),
        Value::Object(entries) => {
            let mut out = Vec::new();
            for (key, value) in entries {
                match value {
                    Value::Array(values) => {
                        for v in values {
                            out.push((key.clone(), text(v)?));
                        }
                    }
                    one => out.push((key.clone(), text(one)?)),
                }
            }
            Ok(out)
        }
        _ => Err(error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::value::{json, unpack};

    fn written(properties: &Properties) -> Value {
        let mut w = Writer::new();
        write(&mut w, properties);
        unpack(&w.take()).unwrap().remove(0)
    }

    #[test]
    fn properties_round_trip_through_a_plain_object() {
        let properties = Properties {
            message_expiry_interval: Some(60),
            content_type: Some("application/json".into()),
            correlation_data: Some(Bytes::from_static(&[1, 2, 3])),
            topic_alias: Some(4),
            subscription_identifiers: vec![7, 9],
            user_properties: vec![
                ("a".into(), "1".into()),
                ("a".into(), "2".into()),
                ("b".into(), "3".into()),
            ],
            ..Default::default()
        };
        let object = written(&properties);
        let Value::Object(fields) = &object else {
            panic!("an object")
        };
        assert_eq!(fields.len(), 6);
        assert_eq!(read(&object, "properties"), Ok(properties));
    }

    #[test]
    fn one_subscription_identifier_is_a_number_and_several_an_array() {
        let one = Properties {
            subscription_identifiers: vec![7],
            ..Default::default()
        };
        let object = written(&one);
        assert_eq!(object.get("subscriptionIdentifier"), &Value::Number(7.0));
        assert_eq!(read(&object, "properties"), Ok(one));
        let several = written(&Properties {
            subscription_identifiers: vec![7, 9],
            ..Default::default()
        });
        assert!(matches!(
            several.get("subscriptionIdentifier"),
            Value::Array(_)
        ));
        assert_eq!(written(&Properties::default()), Value::Object(vec![]));
    }

    #[test]
    fn user_properties_may_be_an_object_and_bad_input_is_named() {
        let value = json(r#"{"userProperties": {"k": ["x", "y"], "z": "w"}}"#);
        let properties = read(&value, "properties").unwrap();
        assert_eq!(
            properties.user_properties,
            [
                ("k".into(), "x".into()),
                ("k".into(), "y".into()),
                ("z".into(), "w".into())
            ]
        );
        let unknown = json(r#"{"messageExpiry": 5}"#);
        assert!(read(&unknown, "properties")
            .unwrap_err()
            .0
            .contains("unknown option properties.messageExpiry"));
        for wrong in [
            r#"{"subscriptionIdentifier": [0]}"#,
            r#"{"subscriptionIdentifier": 268435456}"#,
            r#"{"subscriptionIdentifier": "7"}"#,
        ] {
            assert!(read(&json(wrong), "properties")
                .unwrap_err()
                .0
                .contains("subscriptionIdentifier must be"));
        }
        for wrong in [
            r#"{"userProperties": [["a"]]}"#,
            r#"{"userProperties": {"a": 1}}"#,
            r#"{"userProperties": "a"}"#,
        ] {
            assert!(read(&json(wrong), "p")
                .unwrap_err()
                .0
                .contains("p.userProperties must be"));
        }
    }
}
