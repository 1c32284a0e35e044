//! The packed form of the JavaScript values that cross between the facade (js/pack.js) and the
//! wasm: arguments and options in, results and events out, as bytes. One crossing carries a
//! whole batch, and no JavaScript object is built or read field by field from the wasm (each
//! such call costs code size and time; bench/SIZE.md).
//!
//! A value is a tag byte and what the tag says:
//!
//! | tag | value | then |
//! | --- | --- | --- |
//! | 0 | undefined | |
//! | 1 | null | |
//! | 2, 3 | false, true | |
//! | 4 | a whole number from 0 to 2^53 | varint |
//! | 5 | any other number | 8 bytes, f64 little-endian |
//! | 6 | string | varint length, UTF-8 |
//! | 7 | bytes (a Uint8Array) | varint length, the bytes |
//! | 8 | array | values, then tag 11 |
//! | 9 | object | (key: varint length + 1, UTF-8; value) pairs, then a varint 0 |
//! | 10 | something without a packed form (a function, a symbol, ...) | string: its `typeof` |
//! | 12 | a value of a kind the facade builds ([`Kind`]) | varint kind, value |
//!
//! Varints are LEB128, 7 bits a byte, low first; a longer form than needed is accepted (the
//! facade pads a string's length it does not know yet).

/// A value from JavaScript.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
    /// A value with no packed form, by its `typeof`.
    Other(String),
}

const UNDEFINED: u8 = 0;
const NULL: u8 = 1;
const FALSE: u8 = 2;
const TRUE: u8 = 3;
const UINT: u8 = 4;
const FLOAT: u8 = 5;
const STRING: u8 = 6;
const BYTES: u8 = 7;
const ARRAY: u8 = 8;
const OBJECT: u8 = 9;
const OTHER: u8 = 10;
const END: u8 = 11;
const KIND: u8 = 12;

/// How deep values may nest; the facade packs deeper ones as "other".
const MAX_DEPTH: usize = 40;

/// The values the facade gives a class of its own (js/pack.js builds them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An `MqttError`: an object with `code`, `message` and maybe `reasonCode`, `fatal`, `record`.
    Error = 0,
    /// A delivered message: `{ topic, payload, qos, retain, dup, properties }`.
    Message = 1,
}

impl Value {
    /// Absent: undefined (a field given as undefined counts as not given, as in JavaScript).
    pub fn is_undefined(&self) -> bool {
        matches!(self, Value::Undefined)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An object's field (undefined when absent or not an object).
    pub fn get(&self, key: &str) -> &Value {
        match self {
            Value::Object(fields) => fields
                .iter()
                .find(|(k, _)| k == key)
                .map_or(&Value::Undefined, |(_, v)| v),
            _ => &Value::Undefined,
        }
    }

    /// Takes an array's items or an object's field out, leaving undefined.
    pub fn take(&mut self) -> Value {
        std::mem::replace(self, Value::Undefined)
    }
}

/// Packed bytes the facade did not make (a bug on one side, never the application's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed;

/// Reads every value of `bytes`, in order.
pub fn unpack(bytes: &[u8]) -> Result<Vec<Value>, Malformed> {
    let mut reader = Reader { bytes, at: 0 };
    let mut values = Vec::new();
    while reader.at < bytes.len() {
        values.push(reader.value(0)?);
    }
    Ok(values)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, Malformed> {
        let byte = *self.bytes.get(self.at).ok_or(Malformed)?;
        self.at += 1;
        Ok(byte)
    }

    fn varint(&mut self) -> Result<u64, Malformed> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Malformed)
    }

    fn slice(&mut self, len: u64) -> Result<&[u8], Malformed> {
        let len = usize::try_from(len).map_err(|_| Malformed)?;
        let end = self.at.checked_add(len).ok_or(Malformed)?;
        let slice = self.bytes.get(self.at..end).ok_or(Malformed)?;
        self.at = end;
        Ok(slice)
    }

    fn string(&mut self, len: u64) -> Result<String, Malformed> {
        let bytes = self.slice(len)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| Malformed)
    }

    fn value(&mut self, depth: usize) -> Result<Value, Malformed> {
        if depth > MAX_DEPTH {
            return Err(Malformed);
        }
        Ok(match self.byte()? {
            UNDEFINED => Value::Undefined,
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            UINT => Value::Number(self.varint()? as f64),
            FLOAT => {
                let bytes: [u8; 8] = self.slice(8)?.try_into().map_err(|_| Malformed)?;
                Value::Number(f64::from_le_bytes(bytes))
            }
            STRING => {
                let len = self.varint()?;
                Value::String(self.string(len)?)
            }
            BYTES => {
                let len = self.varint()?;
                Value::Bytes(self.slice(len)?.to_vec())
            }
            ARRAY => {
                let mut items = Vec::new();
                while self.bytes.get(self.at) != Some(&END) {
                    items.push(self.value(depth + 1)?);
                }
                self.at += 1;
                Value::Array(items)
            }
            OBJECT => {
                let mut fields = Vec::new();
                loop {
                    let len = self.varint()?;
                    if len == 0 {
                        break;
                    }
                    let key = self.string(len - 1)?;
                    fields.push((key, self.value(depth + 1)?));
                }
                Value::Object(fields)
            }
            OTHER => {
                let len = self.varint()?;
                Value::Other(self.string(len)?)
            }
            // The facade sends none; read as the value it marks (for tests of what is written).
            KIND => {
                self.varint()?;
                return self.value(depth + 1);
            }
            _ => return Err(Malformed),
        })
    }
}

/// Packs values for the facade, one after another.
#[derive(Debug, Default)]
pub struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    /// The packed bytes, leaving the writer empty.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn varint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.bytes.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        self.bytes.push(n as u8);
    }

    pub fn undefined(&mut self) -> &mut Self {
        self.bytes.push(UNDEFINED);
        self
    }

    pub fn null(&mut self) -> &mut Self {
        self.bytes.push(NULL);
        self
    }

    pub fn bool(&mut self, b: bool) -> &mut Self {
        self.bytes.push(if b { TRUE } else { FALSE });
        self
    }

    /// A whole number (JavaScript numbers hold whole numbers exactly to 2^53).
    pub fn uint(&mut self, n: u64) -> &mut Self {
        if n < 1 << 53 {
            self.bytes.push(UINT);
            self.varint(n);
            self
        } else {
            self.number(n as f64)
        }
    }

    pub fn number(&mut self, n: f64) -> &mut Self {
        self.bytes.push(FLOAT);
        self.bytes.extend_from_slice(&n.to_le_bytes());
        self
    }

    pub fn str(&mut self, s: &str) -> &mut Self {
        self.bytes.push(STRING);
        self.varint(s.len() as u64);
        self.bytes.extend_from_slice(s.as_bytes());
        self
    }

    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.bytes.push(BYTES);
        self.varint(b.len() as u64);
        self.bytes.extend_from_slice(b);
        self
    }

    pub fn array(&mut self) -> &mut Self {
        self.bytes.push(ARRAY);
        self
    }

    pub fn end_array(&mut self) -> &mut Self {
        self.bytes.push(END);
        self
    }

    pub fn object(&mut self) -> &mut Self {
        self.bytes.push(OBJECT);
        self
    }

    /// The next field's name; its value follows.
    pub fn key(&mut self, key: &str) -> &mut Self {
        self.varint(key.len() as u64 + 1);
        self.bytes.extend_from_slice(key.as_bytes());
        self
    }

    pub fn end_object(&mut self) -> &mut Self {
        self.bytes.push(0);
        self
    }

    /// The next value is of `kind` (an object the facade builds as that class).
    pub fn kind(&mut self, kind: Kind) -> &mut Self {
        self.bytes.push(KIND);
        self.varint(kind as u64);
        self
    }

    /// Writes a value read from the facade back as it was.
    pub fn value(&mut self, value: &Value) -> &mut Self {
        match value {
            Value::Undefined => self.undefined(),
            Value::Null => self.null(),
            Value::Bool(b) => self.bool(*b),
            Value::Number(n) if n.fract() == 0.0 && (0.0..9.007e15).contains(n) => {
                self.uint(*n as u64)
            }
            Value::Number(n) => self.number(*n),
            Value::String(s) => self.str(s),
            Value::Bytes(b) => self.bytes(b),
            Value::Array(items) => {
                self.array();
                for item in items {
                    self.value(item);
                }
                self.end_array()
            }
            Value::Object(fields) => {
                self.object();
                for (k, v) in fields {
                    self.key(k).value(v);
                }
                self.end_object()
            }
            Value::Other(kind) => {
                self.bytes.push(OTHER);
                self.varint(kind.len() as u64);
                self.bytes.extend_from_slice(kind.as_bytes());
                self
            }
        }
    }
}

/// For tests: a value from JSON-like text (objects, arrays, strings without escapes, numbers,
/// true, false, null, and `undefined`).
#[cfg(test)]
pub(crate) fn json(text: &str) -> Value {
    fn skip(s: &mut &str) {
        *s = s.trim_start();
    }
    fn parse(s: &mut &str) -> Value {
        skip(s);
        let c = s.chars().next().expect("a value");
        if c == '{' {
            *s = &s[1..];
            let mut fields = Vec::new();
            loop {
                skip(s);
                if let Some(rest) = s.strip_prefix('}') {
                    *s = rest;
                    return Value::Object(fields);
                }
                let Value::String(key) = parse(s) else {
                    panic!("a key")
                };
                skip(s);
                *s = s.strip_prefix(':').expect(":");
                fields.push((key, parse(s)));
                skip(s);
                if let Some(rest) = s.strip_prefix(',') {
                    *s = rest;
                }
            }
        } else if c == '[' {
            *s = &s[1..];
            let mut items = Vec::new();
            loop {
                skip(s);
                if let Some(rest) = s.strip_prefix(']') {
                    *s = rest;
                    return Value::Array(items);
                }
                items.push(parse(s));
                skip(s);
                if let Some(rest) = s.strip_prefix(',') {
                    *s = rest;
                }
            }
        } else if c == '"' {
            let end = s[1..].find('"').expect("a closing quote") + 1;
            let text = s[1..end].to_string();
            *s = &s[end + 1..];
            Value::String(text)
        } else {
            let end = s
                .find(|c: char| matches!(c, ',' | '}' | ']') || c.is_whitespace())
                .unwrap_or(s.len());
            let word = &s[..end];
            *s = &s[end..];
            match word {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                "undefined" => Value::Undefined,
                n => Value::Number(n.parse().expect("a number")),
            }
        }
    }
    let mut s = text;
    parse(&mut s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_back_as_written() {
        let value = json(
            r#"{"a": [1, 2.5, -3, "é", true, false, null, undefined], "b": {}, "": 9007199254740993}"#,
        );
        let mut writer = Writer::new();
        writer.value(&value).value(&Value::Bytes(vec![0, 255]));
        writer.value(&Value::Other("function".into()));
        let values = unpack(&writer.take()).unwrap();
        assert_eq!(
            values,
            [
                value,
                Value::Bytes(vec![0, 255]),
                Value::Other("function".into())
            ]
        );
    }

    #[test]
    fn a_padded_varint_is_read_and_truncated_input_is_malformed() {
        // "ab" with its length in three bytes, as the facade writes a string of unknown length.
        assert_eq!(
            unpack(&[STRING, 0x82, 0x80, 0x00, b'a', b'b']),
            Ok(vec![Value::String("ab".into())])
        );
        for bad in [
            &[STRING, 5, b'a'][..],
            &[ARRAY, UINT, 1][..],
            &[OBJECT, 3, b'a'][..],
            &[FLOAT, 0, 0][..],
            &[200][..],
            &[STRING, 1, 0xff][..],
        ] {
            assert_eq!(unpack(bad), Err(Malformed), "{bad:?}");
        }
        let deep = [ARRAY; 100];
        assert_eq!(unpack(&deep), Err(Malformed));
    }

    #[test]
    fn large_numbers_and_negatives_keep_their_value() {
        let mut writer = Writer::new();
        writer.uint(1 << 60).number(-0.5).uint(300);
        assert_eq!(
            unpack(&writer.take()).unwrap(),
            [
                Value::Number((1u64 << 60) as f64),
                Value::Number(-0.5),
                Value::Number(300.0)
            ]
        );
    }
}
