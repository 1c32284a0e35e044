//! Reading the application's options object: every name checked, every value typed and ranged,
//! with an error that names the option. Defaults are documented in js/index.d.ts.

use super::value::Value;

/// A bad option or argument from the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidArgument(pub String);

pub type Checked<T> = Result<T, InvalidArgument>;

pub(crate) fn invalid(message: impl Into<String>) -> InvalidArgument {
    InvalidArgument(message.into())
}

/// A plain object's fields, read one by one; `finish` rejects any name not read.
pub struct Fields<'a> {
    fields: &'a [(String, Value)],
    path: &'a str,
    known: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    /// `value` must be an object, or undefined or null (then every field reads as absent).
    pub fn of(value: &'a Value, path: &'a str) -> Checked<Fields<'a>> {
        let fields = match value {
            Value::Undefined | Value::Null => &[][..],
            Value::Object(fields) => &fields[..],
            _ => return Err(invalid(format!("{path} must be an object"))),
        };
        Ok(Fields {
            fields,
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

    fn lookup(&self, key: &str) -> Option<&'a Value> {
        self.fields
            .iter()
            .find(|(k, v)| k == key && !v.is_undefined())
            .map(|(_, v)| v)
    }

    /// Whether `key` is given, without counting it as a known name.
    pub fn has(&self, key: &str) -> bool {
        self.lookup(key).is_some()
    }

    /// The raw value of `key`, or None when absent or undefined.
    pub fn get(&mut self, key: &'static str) -> Option<&'a Value> {
        self.known.push(key);
        self.lookup(key)
    }

    pub fn bool(&mut self, key: &'static str) -> Checked<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| invalid(format!("{} must be a boolean", self.name(key)))),
        }
    }

    pub fn string(&mut self, key: &'static str) -> Checked<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| invalid(format!("{} must be a string", self.name(key)))),
        }
    }

    /// A whole number in `min..=max`.
    pub fn integer(&mut self, key: &'static str, min: f64, max: f64) -> Checked<Option<f64>> {
        self.ranged(key, min, max, true)
    }

    /// A number in `min..=max`.
    pub fn number(&mut self, key: &'static str, min: f64, max: f64) -> Checked<Option<f64>> {
        self.ranged(key, min, max, false)
    }

    fn ranged(
        &mut self,
        key: &'static str,
        min: f64,
        max: f64,
        whole_only: bool,
    ) -> Checked<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(n) if (!whole_only || n.fract() == 0.0) && (min..=max).contains(&n) => {
                    Ok(Some(n))
                }
                _ => Err(invalid(format!(
                    "{} must be a {} from {} to {}",
                    self.name(key),
                    if whole_only { "whole number" } else { "number" },
                    whole(min),
                    whole(max)
                ))),
            },
        }
    }

    /// One of `choices`.
    pub fn choice(
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
    pub fn bytes(&mut self, key: &'static str) -> Checked<Option<Vec<u8>>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => payload_bytes(v).map(Some).map_err(|_| {
                invalid(format!(
                    "{} must be a Uint8Array or a string",
                    self.name(key)
                ))
            }),
        }
    }

    /// Fails on any own enumerable name that was never read: a typo must not be ignored.
    pub fn finish(self) -> Checked<()> {
        for (key, _) in self.fields {
            if !self.known.contains(&key.as_str()) {
                let mut known = self.known.clone();
                crate::sort::sort_by(&mut known, |a, b| a.cmp(b));
                return Err(invalid(format!(
                    "unknown option {} (known: {})",
                    self.name(key),
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }
}

/// A payload given by the application: a Uint8Array or a string (encoded as UTF-8).
pub fn payload_bytes(value: &Value) -> Checked<Vec<u8>> {
    match value {
        Value::String(text) => Ok(text.as_bytes().to_vec()),
        Value::Bytes(bytes) => Ok(bytes.clone()),
        _ => Err(invalid("payload must be a Uint8Array or a string")),
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
    use crate::api::value::json;

    #[test]
    fn reads_typed_fields_and_rejects_an_unknown_name() {
        let value = json(r#"{"keepalive": 30, "clean": false, "clientId": "a", "keepAlive": 5}"#);
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

    #[test]
    fn out_of_range_and_mistyped_values_name_the_option() {
        let value =
            json(r#"{"keepalive": 70000, "qos": 3, "clean": "yes", "jitter": 2, "n": 1.5}"#);
        let mut fields = Fields::of(&value, "reconnect").unwrap();
        let keepalive = fields.integer("keepalive", 0.0, 65535.0).unwrap_err();
        assert_eq!(
            keepalive.0,
            "reconnect.keepalive must be a whole number from 0 to 65535"
        );
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
        assert_eq!(
            fields.number("jitter", 0.0, 1.0).unwrap_err().0,
            "reconnect.jitter must be a number from 0 to 1"
        );
        assert!(fields.integer("n", 0.0, 2.0).is_err());
    }

    #[test]
    fn choices_and_payloads() {
        let value = json(r#"{"persistence": "disk", "payload": "hé"}"#);
        let mut fields = Fields::of(&value, "").unwrap();
        let error = fields
            .choice("persistence", &["indexeddb", "memory"])
            .unwrap_err();
        assert_eq!(error.0, "persistence must be one of indexeddb, memory");
        assert_eq!(fields.bytes("payload"), Ok(Some("hé".as_bytes().to_vec())));
        assert!(payload_bytes(&Value::Number(5.0)).is_err());
        assert_eq!(payload_bytes(&Value::Bytes(vec![1, 2])), Ok(vec![1, 2]));
    }

    #[test]
    fn a_non_object_is_refused_and_undefined_reads_as_empty() {
        assert!(Fields::of(&Value::Number(3.0), "will").is_err());
        assert!(Fields::of(&Value::Array(vec![]), "will").is_err());
        assert!(Fields::of(&Value::Other("function".into()), "will").is_err());
        let undefined = Value::Undefined;
        let mut fields = Fields::of(&undefined, "will").unwrap();
        assert_eq!(fields.string("topic"), Ok(None));
        assert_eq!(fields.finish(), Ok(()));
        // A field given as undefined is not given.
        let value = json(r#"{"qos": undefined}"#);
        let mut fields = Fields::of(&value, "").unwrap();
        assert!(!fields.has("qos"));
        assert_eq!(fields.integer("qos", 0.0, 2.0), Ok(None));
        assert_eq!(fields.finish(), Ok(()));
    }
}
