//! MQTT 5 properties to and from plain JavaScript objects, one table for both directions.
//! Names are the camelCase of the specification's (`messageExpiryInterval`, ...); user
//! properties are `[key, value]` pairs so that order and repeats survive (an object
//! `{ key: value | value[] }` is accepted on input too). `subscriptionIdentifier` is a number, or
//! an array when a PUBLISH carries several (MQTT-3.3.4-4), as in MQTT.js.

use bytes::Bytes;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::options::{Checked, Fields, InvalidArgument};
use crate::codec::Properties;

fn set(object: &Object, key: &str, value: JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(key), &value);
}

macro_rules! properties_table {
    ($($field:ident : $kind:ident = $name:literal),* $(,)?) => {
        /// The properties as a plain object (absent ones omitted).
        pub(crate) fn to_js(properties: &Properties) -> Object {
            let object = Object::new();
            $( if let Some(value) = &properties.$field { set(&object, $name, properties_table!(@out $kind value)); } )*
            if let Some(ids) = subscription_ids_to_js(&properties.subscription_identifiers) {
                set(&object, SUBSCRIPTION_IDENTIFIER, ids);
            }
            if !properties.user_properties.is_empty() {
                let pairs: Array = properties
                    .user_properties
                    .iter()
                    .map(|(k, v)| JsValue::from(Array::of2(&k.into(), &v.into())))
                    .collect();
                set(&object, "userProperties", pairs.into());
            }
            object
        }

        /// Reads a properties object; `path` names it in errors (e.g. "will.properties").
        pub(crate) fn from_js(value: &JsValue, path: &str) -> Checked<Properties> {
            let mut fields = Fields::of(value, path)?;
            let mut properties = Properties::default();
            $( properties.$field = properties_table!(@in $kind fields $name)?; )*
            if let Some(ids) = fields.get(SUBSCRIPTION_IDENTIFIER) {
                properties.subscription_identifiers = read_subscription_ids(&ids, path)?;
            }
            if let Some(user) = fields.get("userProperties") {
                properties.user_properties = read_user_properties(&user, path)?;
            }
            fields.finish()?;
            Ok(properties)
        }
    };
    (@out byte $v:ident) => { JsValue::from(*$v) };
    (@out u16 $v:ident) => { JsValue::from(*$v) };
    (@out u32 $v:ident) => { JsValue::from(*$v) };
    (@out string $v:ident) => { JsValue::from_str($v) };
    (@out bytes $v:ident) => { Uint8Array::from(&$v[..]).into() };
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
fn subscription_ids_to_js(ids: &[u32]) -> Option<JsValue> {
    match ids {
        [] => None,
        [id] => Some(JsValue::from(*id)),
        _ => Some(
            ids.iter()
                .map(|id| JsValue::from(*id))
                .collect::<Array>()
                .into(),
        ),
    }
}

/// A number or an array of numbers, each from 1 to 268435455 (3.3.2.3.8).
fn read_subscription_ids(value: &JsValue, path: &str) -> Checked<Vec<u32>> {
    let error = || {
        bad(
            path,
            SUBSCRIPTION_IDENTIFIER,
            "a whole number from 1 to 268435455, or an array of them",
        )
    };
    let id = |v: JsValue| match v.as_f64() {
        Some(n) if n.fract() == 0.0 && (1.0..=268_435_455.0).contains(&n) => Ok(n as u32),
        _ => Err(error()),
    };
    match value.dyn_ref::<Array>() {
        Some(array) => array.iter().map(id).collect(),
        None => Ok(vec![id(value.clone())?]),
    }
}

fn read_user_properties(value: &JsValue, path: &str) -> Checked<Vec<(String, String)>> {
    let error = || {
        bad(
            path,
            "userProperties",
            "an array of [key, value] string pairs or an object of strings",
        )
    };
    if let Some(pairs) = value.dyn_ref::<Array>() {
        return pairs
            .iter()
            .map(|pair| {
                let pair = pair.dyn_into::<Array>().map_err(|_| error())?;
                match (
                    pair.length(),
                    pair.get(0).as_string(),
                    pair.get(1).as_string(),
                ) {
                    (2, Some(k), Some(v)) => Ok((k, v)),
                    _ => Err(error()),
                }
            })
            .collect();
    }
    let object = value
        .dyn_ref::<Object>()
        .filter(|_| value.is_object())
        .ok_or_else(error)?;
    let mut out = Vec::new();
    for entry in Object::entries(object).iter() {
        let entry: Array = entry.unchecked_into();
        let key = entry.get(0).as_string().ok_or_else(error)?;
        let value = entry.get(1);
        match value.dyn_ref::<Array>() {
            Some(values) => {
                for v in values.iter() {
                    out.push((key.clone(), v.as_string().ok_or_else(error)?));
                }
            }
            None => out.push((key, value.as_string().ok_or_else(error)?)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn properties_round_trip_through_a_plain_object() {
        let mut properties = Properties {
            message_expiry_interval: Some(60),
            content_type: Some("application/json".into()),
            correlation_data: Some(Bytes::from_static(&[1, 2, 3])),
            topic_alias: Some(4),
            subscription_identifiers: vec![7, 9],
            ..Default::default()
        };
        properties.user_properties = vec![
            ("a".into(), "1".into()),
            ("a".into(), "2".into()),
            ("b".into(), "3".into()),
        ];
        let object = to_js(&properties);
        assert_eq!(Object::keys(&object).length(), 6);
        assert_eq!(from_js(&object.into(), "properties"), Ok(properties));
    }

    #[wasm_bindgen_test]
    fn one_subscription_identifier_is_a_number_and_several_an_array() {
        let one = Properties {
            subscription_identifiers: vec![7],
            ..Default::default()
        };
        let object = to_js(&one);
        let get = |o: &Object| Reflect::get(o, &"subscriptionIdentifier".into()).unwrap();
        assert_eq!(get(&object).as_f64(), Some(7.0));
        assert_eq!(from_js(&object.into(), "properties"), Ok(one));
        let several = to_js(&Properties {
            subscription_identifiers: vec![7, 9],
            ..Default::default()
        });
        assert!(get(&several).is_array());
        assert!(!Reflect::has(
            &to_js(&Properties::default()),
            &"subscriptionIdentifier".into()
        )
        .unwrap());
    }

    #[wasm_bindgen_test]
    fn user_properties_may_be_an_object_and_bad_input_is_named() {
        let value =
            js_sys::JSON::parse(r#"{"userProperties": {"k": ["x", "y"], "z": "w"}}"#).unwrap();
        let properties = from_js(&value, "properties").unwrap();
        assert_eq!(
            properties.user_properties,
            [
                ("k".into(), "x".into()),
                ("k".into(), "y".into()),
                ("z".into(), "w".into())
            ]
        );
        let unknown = js_sys::JSON::parse(r#"{"messageExpiry": 5}"#).unwrap();
        assert!(from_js(&unknown, "properties")
            .unwrap_err()
            .0
            .contains("unknown option properties.messageExpiry"));
        for wrong in [
            r#"{"subscriptionIdentifier": [0]}"#,
            r#"{"subscriptionIdentifier": 268435456}"#,
            r#"{"subscriptionIdentifier": "7"}"#,
        ] {
            let wrong = js_sys::JSON::parse(wrong).unwrap();
            assert!(from_js(&wrong, "properties")
                .unwrap_err()
                .0
                .contains("subscriptionIdentifier must be"));
        }
    }
}
