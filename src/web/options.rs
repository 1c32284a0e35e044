//! Reading the application's options object: every name checked, every value typed and ranged,
//! with an error that names the option. Defaults are documented in js/index.d.ts.

use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// A bad option or argument from the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidArgument(pub(crate) String);

pub(crate) type Checked<T> = Result<T, InvalidArgument>;

fn invalid(message: impl Into<String>) -> InvalidArgument {
    InvalidArgument(message.into())
}

/// A plain object's fields, read one by one; `finish` rejects any name not read.
pub(crate) struct Fields<'a> {
    object: Option<&'a Object>,
    path: &'a str,
    known: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    /// `value` must be an object, or undefined (then every field reads as absent).
    pub(crate) fn of(value: &'a JsValue, path: &'a str) -> Checked<Fields<'a>> {
        if value.is_undefined() || value.is_null() {
            return Ok(Fields {
                object: None,
                path,
                known: Vec::new(),
            });
        }
        if !value.is_object() || value.is_function() || js_sys::Array::is_array(value) {
            return Err(invalid(format!("{path} must be an object")));
        }
        Ok(Fields {
            object: Some(value.unchecked_ref()),
            path,
            known: Vec::new(),
        })
    }

    fn name(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Whether `key` is given, without counting it as a known name.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.object.is_some_and(|object| {
            Reflect::get(object, &JsValue::from_str(key)).is_ok_and(|v| !v.is_undefined())
        })
    }

    /// The raw value of `key`, or None when absent or undefined.
    pub(crate) fn get(&mut self, key: &'static str) -> Option<JsValue> {
        self.known.push(key);
        let value = Reflect::get(self.object?, &JsValue::from_str(key)).ok()?;
        (!value.is_undefined()).then_some(value)
    }

    pub(crate) fn bool(&mut self, key: &'static str) -> Checked<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| invalid(format!("{} must be a boolean", self.name(key)))),
        }
    }

    pub(crate) fn string(&mut self, key: &'static str) -> Checked<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_string()
                .map(Some)
                .ok_or_else(|| invalid(format!("{} must be a string", self.name(key)))),
        }
    }

    /// A whole number in `min..=max`.
    pub(crate) fn integer(
        &mut self,
        key: &'static str,
        min: f64,
        max: f64,
    ) -> Checked<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(n) if n.fract() == 0.0 && (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(invalid(format!(
                    "{} must be a whole number from {} to {}",
                    self.name(key),
                    whole(min),
                    whole(max)
                ))),
            },
        }
    }

    /// A number in `min..=max`.
    pub(crate) fn number(&mut self, key: &'static str, min: f64, max: f64) -> Checked<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(invalid(format!(
                    "{} must be a number from {} to {}",
                    self.name(key),
                    whole(min),
                    whole(max)
                ))),
            },
        }
    }

    /// One of `choices`.
    pub(crate) fn choice(
        &mut self,
        key: &'static str,
        choices: &[&'static str],
    ) -> Checked<Option<&'static str>> {
        match self.string(key)? {
            None => Ok(None),
            Some(s) => choices
                .iter()
                .find(|c| **c == s)
                .copied()
                .map(Some)
                .ok_or_else(|| {
                    invalid(format!(
                        "{} must be one of {}",
                        self.name(key),
                        choices.join(", ")
                    ))
                }),
        }
    }

    /// Payload-like: a Uint8Array, or a string taken as UTF-8.
    pub(crate) fn bytes(&mut self, key: &'static str) -> Checked<Option<Vec<u8>>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => payload_bytes(&v).map(Some).map_err(|_| {
                invalid(format!(
                    "{} must be a Uint8Array or a string",
                    self.name(key)
                ))
            }),
        }
    }

    /// Fails on any own enumerable name that was never read: a typo must not be ignored.
    pub(crate) fn finish(self) -> Checked<()> {
        let Some(object) = self.object else {
            return Ok(());
        };
        for key in Object::keys(object).iter() {
            let key = key.as_string().unwrap_or_default();
            if !self.known.contains(&key.as_str()) {
                let mut known = self.known.clone();
                crate::sort::sort_by(&mut known, |a, b| a.cmp(b));
                return Err(invalid(format!(
                    "unknown option {} (known: {})",
                    self.name(&key),
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }
}

/// A payload given by the application: a Uint8Array (copied into wasm memory) or a string
/// (encoded as UTF-8).
pub(crate) fn payload_bytes(value: &JsValue) -> Checked<Vec<u8>> {
    if let Some(text) = value.as_string() {
        return Ok(text.into_bytes());
    }
    match value.dyn_ref::<Uint8Array>() {
        Some(array) => Ok(array.to_vec()),
        None => Err(invalid("payload must be a Uint8Array or a string")),
    }
}

/// Bounds are whole numbers; printing them as integers keeps float formatting (some 15 KB of
/// code) out of the wasm.
fn whole(bound: f64) -> i64 {
    debug_assert_eq!(bound.fract(), 0.0, "option bounds are whole numbers");
    bound as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn object(source: &str) -> JsValue {
        js_sys::JSON::parse(source).unwrap()
    }

    #[wasm_bindgen_test]
    fn reads_typed_fields_and_rejects_an_unknown_name() {
        let value = object(r#"{"keepalive": 30, "clean": false, "clientId": "a", "keepAlive": 5}"#);
        let mut fields = Fields::of(&value, "").unwrap();
        assert_eq!(fields.integer("keepalive", 0.0, 65535.0), Ok(Some(30.0)));
        assert_eq!(fields.bool("clean"), Ok(Some(false)));
        assert_eq!(fields.string("clientId"), Ok(Some("a".into())));
        assert_eq!(fields.string("username"), Ok(None));
        let error = fields.finish().unwrap_err();
        assert!(
            error.0.starts_with("unknown option keepAlive"),
            "{}",
            error.0
        );
    }

    #[wasm_bindgen_test]
    fn out_of_range_and_mistyped_values_name_the_option() {
        let value = object(r#"{"keepalive": 70000, "qos": 3, "clean": "yes", "jitter": 2}"#);
        let mut fields = Fields::of(&value, "reconnect").unwrap();
        let keepalive = fields.integer("keepalive", 0.0, 65535.0).unwrap_err();
        assert!(keepalive
            .0
            .contains("reconnect.keepalive must be a whole number from 0 to 65535"));
        assert!(fields
            .integer("qos", 0.0, 2.0)
            .unwrap_err()
            .0
            .contains("qos"));
        assert!(fields
            .bool("clean")
            .unwrap_err()
            .0
            .contains("must be a boolean"));
        assert!(fields.number("jitter", 0.0, 1.0).is_err());
    }

    #[wasm_bindgen_test]
    fn choices_and_payloads() {
        let value = object(r#"{"persistence": "disk", "payload": "hé"}"#);
        let mut fields = Fields::of(&value, "").unwrap();
        let error = fields
            .choice("persistence", &["indexeddb", "memory"])
            .unwrap_err();
        assert_eq!(error.0, "persistence must be one of indexeddb, memory");
        assert_eq!(fields.bytes("payload"), Ok(Some("hé".as_bytes().to_vec())));
        assert!(payload_bytes(&JsValue::from(5)).is_err());
        assert_eq!(
            payload_bytes(&Uint8Array::from(&[1u8, 2][..]).into()),
            Ok(vec![1, 2])
        );
    }

    #[wasm_bindgen_test]
    fn a_non_object_is_refused_and_undefined_reads_as_empty() {
        assert!(Fields::of(&JsValue::from(3), "will").is_err());
        assert!(Fields::of(&js_sys::Array::new().into(), "will").is_err());
        let undefined = JsValue::UNDEFINED;
        let mut fields = Fields::of(&undefined, "will").unwrap();
        assert_eq!(fields.string("topic"), Ok(None));
        assert_eq!(fields.finish(), Ok(()));
    }
}
