//! MQTT 5 properties (section 2.2.2.2): one struct for every packet, with the rule of which
//! property each packet may carry kept in the codec's validation, not in the type.

use bytes::Bytes;

/// Every MQTT 5 property. `None` / empty means absent. Encoding writes them in identifier order,
/// user properties last and in their original order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Properties {
    /// 0x01, byte: 0 unspecified bytes, 1 UTF-8.
    pub payload_format_indicator: Option<u8>,
    /// 0x02, four-byte integer, seconds.
    pub message_expiry_interval: Option<u32>,
    /// 0x03, UTF-8 string.
    pub content_type: Option<String>,
    /// 0x08, UTF-8 string (a topic name).
    pub response_topic: Option<String>,
    /// 0x09, binary data.
    pub correlation_data: Option<Bytes>,
    /// 0x0B, variable byte integer 1..=268_435_455. Repeatable in PUBLISH only.
    pub subscription_identifiers: Vec<u32>,
    /// 0x11, four-byte integer, seconds.
    pub session_expiry_interval: Option<u32>,
    /// 0x12, UTF-8 string.
    pub assigned_client_identifier: Option<String>,
    /// 0x13, two-byte integer, seconds.
    pub server_keep_alive: Option<u16>,
    /// 0x15, UTF-8 string.
    pub authentication_method: Option<String>,
    /// 0x16, binary data.
    pub authentication_data: Option<Bytes>,
    /// 0x17, byte 0/1.
    pub request_problem_information: Option<u8>,
    /// 0x18, four-byte integer, seconds.
    pub will_delay_interval: Option<u32>,
    /// 0x19, byte 0/1.
    pub request_response_information: Option<u8>,
    /// 0x1A, UTF-8 string.
    pub response_information: Option<String>,
    /// 0x1C, UTF-8 string.
    pub server_reference: Option<String>,
    /// 0x1F, UTF-8 string.
    pub reason_string: Option<String>,
    /// 0x21, two-byte integer, non-zero.
    pub receive_maximum: Option<u16>,
    /// 0x22, two-byte integer.
    pub topic_alias_maximum: Option<u16>,
    /// 0x23, two-byte integer, non-zero.
    pub topic_alias: Option<u16>,
    /// 0x24, byte 0/1.
    pub maximum_qos: Option<u8>,
    /// 0x25, byte 0/1.
    pub retain_available: Option<u8>,
    /// 0x26, UTF-8 string pair; repeatable, order kept.
    pub user_properties: Vec<(String, String)>,
    /// 0x27, four-byte integer, non-zero.
    pub maximum_packet_size: Option<u32>,
    /// 0x28, byte 0/1.
    pub wildcard_subscription_available: Option<u8>,
    /// 0x29, byte 0/1.
    pub subscription_identifier_available: Option<u8>,
    /// 0x2A, byte 0/1.
    pub shared_subscription_available: Option<u8>,
}

impl Properties {
    /// The first string or binary property longer than a two-byte length can say (65,535
    /// bytes), by its JavaScript name, so that the error for it names it.
    pub fn oversized_field(&self) -> Option<&'static str> {
        let too_long = |len: usize| len > usize::from(u16::MAX);
        let strings: [(&'static str, Option<usize>); 8] = [
            ("contentType", self.content_type.as_ref().map(String::len)),
            (
                "responseTopic",
                self.response_topic.as_ref().map(String::len),
            ),
            (
                "correlationData",
                self.correlation_data.as_ref().map(Bytes::len),
            ),
            (
                "authenticationMethod",
                self.authentication_method.as_ref().map(String::len),
            ),
            (
                "authenticationData",
                self.authentication_data.as_ref().map(Bytes::len),
            ),
            ("reasonString", self.reason_string.as_ref().map(String::len)),
            (
                "responseInformation",
                self.response_information.as_ref().map(String::len),
            ),
            (
                "serverReference",
                self.server_reference.as_ref().map(String::len),
            ),
        ];
        if let Some((name, _)) = strings.iter().find(|(_, len)| len.is_some_and(too_long)) {
            return Some(name);
        }
        self.user_properties
            .iter()
            .any(|(key, value)| too_long(key.len()) || too_long(value.len()))
            .then_some("userProperties")
    }

    pub fn is_empty(&self) -> bool {
        // Every property present takes bytes; no field-by-field comparison (wasm size).
        self.body_len() == 0
    }

    /// The value of the first user property named `key`.
    pub fn user_property(&self, key: &str) -> Option<&str> {
        self.user_properties
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Property identifiers (MQTT 5 section 2.2.2.2, table 2-4).
pub mod id {
    pub const PAYLOAD_FORMAT_INDICATOR: u8 = 0x01;
    pub const MESSAGE_EXPIRY_INTERVAL: u8 = 0x02;
    pub const CONTENT_TYPE: u8 = 0x03;
    pub const RESPONSE_TOPIC: u8 = 0x08;
    pub const CORRELATION_DATA: u8 = 0x09;
    pub const SUBSCRIPTION_IDENTIFIER: u8 = 0x0B;
    pub const SESSION_EXPIRY_INTERVAL: u8 = 0x11;
    pub const ASSIGNED_CLIENT_IDENTIFIER: u8 = 0x12;
    pub const SERVER_KEEP_ALIVE: u8 = 0x13;
    pub const AUTHENTICATION_METHOD: u8 = 0x15;
    pub const AUTHENTICATION_DATA: u8 = 0x16;
    pub const REQUEST_PROBLEM_INFORMATION: u8 = 0x17;
    pub const WILL_DELAY_INTERVAL: u8 = 0x18;
    pub const REQUEST_RESPONSE_INFORMATION: u8 = 0x19;
    pub const RESPONSE_INFORMATION: u8 = 0x1A;
    pub const SERVER_REFERENCE: u8 = 0x1C;
    pub const REASON_STRING: u8 = 0x1F;
    pub const RECEIVE_MAXIMUM: u8 = 0x21;
    pub const TOPIC_ALIAS_MAXIMUM: u8 = 0x22;
    pub const TOPIC_ALIAS: u8 = 0x23;
    pub const MAXIMUM_QOS: u8 = 0x24;
    pub const RETAIN_AVAILABLE: u8 = 0x25;
    pub const USER_PROPERTY: u8 = 0x26;
    pub const MAXIMUM_PACKET_SIZE: u8 = 0x27;
    pub const WILDCARD_SUBSCRIPTION_AVAILABLE: u8 = 0x28;
    pub const SUBSCRIPTION_IDENTIFIER_AVAILABLE: u8 = 0x29;
    pub const SHARED_SUBSCRIPTION_AVAILABLE: u8 = 0x2A;
}

pub(crate) use codec::Scope;

/// Encoding and decoding of property blocks, and the table of which packet may carry which
/// property.
mod codec {
    use bytes::Bytes;

    use super::id::*;
    use super::Properties;
    use crate::codec::error::{DecodeError, EncodeError};
    use crate::codec::packet::PacketType;
    use crate::codec::reader::Reader;
    use crate::codec::writer::{
        check_bin, check_str, field_len, put_bin, put_str, put_u16, put_u32, put_var_int,
        var_int_len, MAX_VAR_INT,
    };
    use crate::topic::validate_topic_name;

    const fn bits(ids: &[u8]) -> u64 {
        let mut mask = 0;
        let mut i = 0;
        while i < ids.len() {
            mask |= 1 << ids[i];
            i += 1;
        }
        mask
    }

    const fn has(mask: u64, id: u8) -> bool {
        id < 64 && mask & (1 << id) != 0
    }

    /// Where a property block is: a packet's, or the will properties of a CONNECT.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Scope {
        pub(crate) packet_type: PacketType,
        allowed: u64,
    }

    impl Scope {
        /// The will properties in a CONNECT payload (MQTT 5 section 3.1.3.2).
        pub(crate) const WILL: Scope = Scope {
            packet_type: PacketType::Connect,
            allowed: bits(&[
                PAYLOAD_FORMAT_INDICATOR,
                MESSAGE_EXPIRY_INTERVAL,
                CONTENT_TYPE,
                RESPONSE_TOPIC,
                CORRELATION_DATA,
                WILL_DELAY_INTERVAL,
                USER_PROPERTY,
            ]),
        };

        /// The properties of a packet's variable header, as table 2-4 allows them.
        pub(crate) const fn of(packet_type: PacketType) -> Scope {
            use PacketType::*;
            let allowed = match packet_type {
                Connect => bits(&[
                    SESSION_EXPIRY_INTERVAL,
                    AUTHENTICATION_METHOD,
                    AUTHENTICATION_DATA,
                    REQUEST_PROBLEM_INFORMATION,
                    REQUEST_RESPONSE_INFORMATION,
                    RECEIVE_MAXIMUM,
                    TOPIC_ALIAS_MAXIMUM,
                    USER_PROPERTY,
                    MAXIMUM_PACKET_SIZE,
                ]),
                ConnAck => bits(&[
                    SESSION_EXPIRY_INTERVAL,
                    ASSIGNED_CLIENT_IDENTIFIER,
                    SERVER_KEEP_ALIVE,
                    AUTHENTICATION_METHOD,
                    AUTHENTICATION_DATA,
                    RESPONSE_INFORMATION,
                    SERVER_REFERENCE,
                    REASON_STRING,
                    RECEIVE_MAXIMUM,
                    TOPIC_ALIAS_MAXIMUM,
                    MAXIMUM_QOS,
                    RETAIN_AVAILABLE,
                    USER_PROPERTY,
                    MAXIMUM_PACKET_SIZE,
                    WILDCARD_SUBSCRIPTION_AVAILABLE,
                    SUBSCRIPTION_IDENTIFIER_AVAILABLE,
                    SHARED_SUBSCRIPTION_AVAILABLE,
                ]),
                Publish => bits(&[
                    PAYLOAD_FORMAT_INDICATOR,
                    MESSAGE_EXPIRY_INTERVAL,
                    CONTENT_TYPE,
                    RESPONSE_TOPIC,
                    CORRELATION_DATA,
                    SUBSCRIPTION_IDENTIFIER,
                    TOPIC_ALIAS,
                    USER_PROPERTY,
                ]),
                PubAck | PubRec | PubRel | PubComp | SubAck | UnsubAck => {
                    bits(&[REASON_STRING, USER_PROPERTY])
                }
                Subscribe => bits(&[SUBSCRIPTION_IDENTIFIER, USER_PROPERTY]),
                Unsubscribe => bits(&[USER_PROPERTY]),
                Disconnect => bits(&[
                    SESSION_EXPIRY_INTERVAL,
                    SERVER_REFERENCE,
                    REASON_STRING,
                    USER_PROPERTY,
                ]),
                Auth => bits(&[
                    AUTHENTICATION_METHOD,
                    AUTHENTICATION_DATA,
                    REASON_STRING,
                    USER_PROPERTY,
                ]),
                PingReq | PingResp => 0,
            };
            Scope {
                packet_type,
                allowed,
            }
        }

        pub(crate) fn allows(self, id: u8) -> bool {
            has(self.allowed, id)
        }
    }

    /// Properties whose value is 0 or 1.
    const FLAGS: u64 = bits(&[
        PAYLOAD_FORMAT_INDICATOR,
        REQUEST_PROBLEM_INFORMATION,
        REQUEST_RESPONSE_INFORMATION,
        MAXIMUM_QOS,
        RETAIN_AVAILABLE,
        WILDCARD_SUBSCRIPTION_AVAILABLE,
        SUBSCRIPTION_IDENTIFIER_AVAILABLE,
        SHARED_SUBSCRIPTION_AVAILABLE,
    ]);

    /// Properties for which 0 is a Protocol Error (Receive Maximum, Maximum Packet Size) or an
    /// invalid Topic Alias.
    const NON_ZERO: u64 = bits(&[RECEIVE_MAXIMUM, TOPIC_ALIAS, MAXIMUM_PACKET_SIZE]);

    fn number_ok(id: u8, n: u32) -> bool {
        if has(FLAGS, id) {
            n <= 1
        } else if has(NON_ZERO, id) {
            n != 0
        } else {
            true
        }
    }

    /// The value types of single-valued properties.
    trait Value: Sized {
        fn wire_len(&self) -> usize;
        fn put(&self, out: &mut Vec<u8>);
        fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
        /// The value's own rules, checked both ways.
        fn valid(&self, id: u8) -> bool;
        /// What the wire format itself requires of it before encoding.
        fn encodable(&self, _packet_type: PacketType) -> Result<(), EncodeError> {
            Ok(())
        }
    }

    impl Value for u8 {
        fn wire_len(&self) -> usize {
            1
        }
        fn put(&self, out: &mut Vec<u8>) {
            out.push(*self);
        }
        fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            r.u8()
        }
        fn valid(&self, id: u8) -> bool {
            number_ok(id, u32::from(*self))
        }
    }

    impl Value for u16 {
        fn wire_len(&self) -> usize {
            2
        }
        fn put(&self, out: &mut Vec<u8>) {
            put_u16(out, *self);
        }
        fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            r.u16()
        }
        fn valid(&self, id: u8) -> bool {
            number_ok(id, u32::from(*self))
        }
    }

    impl Value for u32 {
        fn wire_len(&self) -> usize {
            4
        }
        fn put(&self, out: &mut Vec<u8>) {
            put_u32(out, *self);
        }
        fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            r.u32()
        }
        fn valid(&self, id: u8) -> bool {
            number_ok(id, *self)
        }
    }

    impl Value for String {
        fn wire_len(&self) -> usize {
            field_len(self.as_bytes())
        }
        fn put(&self, out: &mut Vec<u8>) {
            put_str(out, self);
        }
        fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            r.string()
        }
        fn valid(&self, id: u8) -> bool {
            // The Response Topic is a topic name, without wildcards (sections 3.1.3.2.5, 3.3.2.3.5).
            id != RESPONSE_TOPIC || validate_topic_name(self).is_ok()
        }
        fn encodable(&self, packet_type: PacketType) -> Result<(), EncodeError> {
            check_str(self, packet_type)
        }
    }

    impl Value for Bytes {
        fn wire_len(&self) -> usize {
            field_len(self)
        }
        fn put(&self, out: &mut Vec<u8>) {
            put_bin(out, self);
        }
        fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            r.binary()
        }
        fn valid(&self, _id: u8) -> bool {
            true
        }
        fn encodable(&self, packet_type: PacketType) -> Result<(), EncodeError> {
            check_bin(self, packet_type)
        }
    }

    /// Generates the code for the single-valued properties, listed in identifier order around
    /// the Subscription Identifier (0x0B), so that encoding writes every property in identifier
    /// order with the user properties last.
    macro_rules! single_valued {
        (
            before: [$($a_id:ident $a_field:ident),* $(,)?],
            after: [$($b_id:ident $b_field:ident),* $(,)?] $(,)?
        ) => {
            impl Properties {
                fn singles_len(&self) -> usize {
                    let mut n = 0;
                    $(if let Some(v) = &self.$a_field { n += 1 + v.wire_len(); })*
                    $(if let Some(v) = &self.$b_field { n += 1 + v.wire_len(); })*
                    n
                }

                fn put_singles_before(&self, out: &mut Vec<u8>) {
                    $(if let Some(v) = &self.$a_field { out.push($a_id); v.put(out); })*
                }

                fn put_singles_after(&self, out: &mut Vec<u8>) {
                    $(if let Some(v) = &self.$b_field { out.push($b_id); v.put(out); })*
                }

                fn check_singles(&self, scope: Scope) -> Result<(), EncodeError> {
                    $(if let Some(v) = &self.$a_field { check_single($a_id, v, scope)?; })*
                    $(if let Some(v) = &self.$b_field { check_single($b_id, v, scope)?; })*
                    Ok(())
                }

                /// Reads the value of single-valued property `id`; false if `id` is not one.
                fn get_single(
                    &mut self,
                    id: u8,
                    r: &mut Reader<'_>,
                    scope: Scope,
                ) -> Result<bool, DecodeError> {
                    match id {
                        $($a_id => get_single(&mut self.$a_field, $a_id, r, scope)?,)*
                        $($b_id => get_single(&mut self.$b_field, $b_id, r, scope)?,)*
                        _ => return Ok(false),
                    }
                    Ok(true)
                }
            }
        };
    }

    single_valued! {
        before: [
            PAYLOAD_FORMAT_INDICATOR payload_format_indicator,
            MESSAGE_EXPIRY_INTERVAL message_expiry_interval,
            CONTENT_TYPE content_type,
            RESPONSE_TOPIC response_topic,
            CORRELATION_DATA correlation_data,
        ],
        after: [
            SESSION_EXPIRY_INTERVAL session_expiry_interval,
            ASSIGNED_CLIENT_IDENTIFIER assigned_client_identifier,
            SERVER_KEEP_ALIVE server_keep_alive,
            AUTHENTICATION_METHOD authentication_method,
            AUTHENTICATION_DATA authentication_data,
            REQUEST_PROBLEM_INFORMATION request_problem_information,
            WILL_DELAY_INTERVAL will_delay_interval,
            REQUEST_RESPONSE_INFORMATION request_response_information,
            RESPONSE_INFORMATION response_information,
            SERVER_REFERENCE server_reference,
            REASON_STRING reason_string,
            RECEIVE_MAXIMUM receive_maximum,
            TOPIC_ALIAS_MAXIMUM topic_alias_maximum,
            TOPIC_ALIAS topic_alias,
            MAXIMUM_QOS maximum_qos,
            RETAIN_AVAILABLE retain_available,
            MAXIMUM_PACKET_SIZE maximum_packet_size,
            WILDCARD_SUBSCRIPTION_AVAILABLE wildcard_subscription_available,
            SUBSCRIPTION_IDENTIFIER_AVAILABLE subscription_identifier_available,
            SHARED_SUBSCRIPTION_AVAILABLE shared_subscription_available,
        ],
    }

    fn check_single<T: Value>(id: u8, value: &T, scope: Scope) -> Result<(), EncodeError> {
        if !scope.allows(id) {
            return Err(EncodeError::PropertyNotAllowed {
                packet_type: scope.packet_type,
                property: id,
            });
        }
        value.encodable(scope.packet_type)?;
        if !value.valid(id) {
            return Err(EncodeError::InvalidPropertyValue { property: id });
        }
        Ok(())
    }

    fn get_single<T: Value>(
        slot: &mut Option<T>,
        id: u8,
        r: &mut Reader<'_>,
        scope: Scope,
    ) -> Result<(), DecodeError> {
        if slot.is_some() {
            return Err(DecodeError::DuplicateProperty {
                packet_type: scope.packet_type,
                property: id,
            });
        }
        let value = T::get(r)?;
        if !value.valid(id) {
            return Err(DecodeError::InvalidPropertyValue { property: id });
        }
        *slot = Some(value);
        Ok(())
    }

    fn subscription_identifier_ok(value: u32) -> bool {
        (1..=MAX_VAR_INT as u32).contains(&value)
    }

    impl Properties {
        /// Bytes of the property block after its length prefix.
        pub(crate) fn body_len(&self) -> usize {
            let mut n = self.singles_len();
            for &s in &self.subscription_identifiers {
                n += 1 + var_int_len(s as usize);
            }
            for (k, v) in &self.user_properties {
                n += 1 + field_len(k.as_bytes()) + field_len(v.as_bytes());
            }
            n
        }

        /// Bytes of the property block, length prefix included.
        pub(crate) fn wire_len(&self) -> usize {
            let n = self.body_len();
            var_int_len(n) + n
        }

        /// Checks that every property present may be encoded in `scope`.
        pub(crate) fn check(&self, scope: Scope) -> Result<(), EncodeError> {
            self.check_singles(scope)?;
            if !self.subscription_identifiers.is_empty() {
                let id = SUBSCRIPTION_IDENTIFIER;
                if !scope.allows(id) {
                    let packet_type = scope.packet_type;
                    return Err(EncodeError::PropertyNotAllowed {
                        packet_type,
                        property: id,
                    });
                }
                if scope.packet_type != PacketType::Publish
                    && self.subscription_identifiers.len() > 1
                {
                    let packet_type = scope.packet_type;
                    return Err(EncodeError::DuplicateProperty {
                        packet_type,
                        property: id,
                    });
                }
                if !self
                    .subscription_identifiers
                    .iter()
                    .all(|&s| subscription_identifier_ok(s))
                {
                    return Err(EncodeError::InvalidPropertyValue { property: id });
                }
            }
            for (k, v) in &self.user_properties {
                // Every packet with properties allows user properties.
                check_str(k, scope.packet_type)?;
                check_str(v, scope.packet_type)?;
            }
            if self.authentication_data.is_some() && self.authentication_method.is_none() {
                return Err(EncodeError::InvalidPropertyValue {
                    property: AUTHENTICATION_DATA,
                });
            }
            Ok(())
        }

        /// Writes the property block, length prefix included.
        pub(crate) fn write(&self, out: &mut Vec<u8>) {
            put_var_int(out, self.body_len());
            self.put_singles_before(out);
            for &s in &self.subscription_identifiers {
                out.push(SUBSCRIPTION_IDENTIFIER);
                put_var_int(out, s as usize);
            }
            self.put_singles_after(out);
            for (k, v) in &self.user_properties {
                out.push(USER_PROPERTY);
                put_str(out, k);
                put_str(out, v);
            }
        }

        /// Reads a property block, length prefix included.
        pub(crate) fn read(r: &mut Reader<'_>, scope: Scope) -> Result<Properties, DecodeError> {
            let len = r.var_int()? as usize;
            let mut props = Properties::default();
            if len == 0 {
                return Ok(props);
            }
            let mut r = r.sub(len)?;
            let packet_type = scope.packet_type;
            while !r.is_empty() {
                let raw = r.var_int()?;
                let id = match u8::try_from(raw) {
                    Ok(id) if id <= SHARED_SUBSCRIPTION_AVAILABLE => id,
                    _ => return Err(DecodeError::UnknownProperty(raw)),
                };
                if !scope.allows(id) {
                    if !is_known(id) {
                        return Err(DecodeError::UnknownProperty(raw));
                    }
                    return Err(DecodeError::PropertyNotAllowed {
                        packet_type,
                        property: id,
                    });
                }
                match id {
                    SUBSCRIPTION_IDENTIFIER => {
                        let value = r.var_int()?;
                        if !subscription_identifier_ok(value) {
                            return Err(DecodeError::InvalidPropertyValue { property: id });
                        }
                        if packet_type != PacketType::Publish
                            && !props.subscription_identifiers.is_empty()
                        {
                            return Err(DecodeError::DuplicateProperty {
                                packet_type,
                                property: id,
                            });
                        }
                        props.subscription_identifiers.push(value);
                    }
                    USER_PROPERTY => {
                        let k = r.string()?;
                        let v = r.string()?;
                        props.user_properties.push((k, v));
                    }
                    _ => {
                        // Every identifier a scope allows is a known one.
                        let known = props.get_single(id, &mut r, scope)?;
                        debug_assert!(known);
                    }
                }
            }
            if props.authentication_data.is_some() && props.authentication_method.is_none() {
                return Err(DecodeError::InvalidPropertyValue {
                    property: AUTHENTICATION_DATA,
                });
            }
            Ok(props)
        }
    }

    fn is_known(id: u8) -> bool {
        has(Scope::of(PacketType::ConnAck).allowed | ALL_OTHERS, id)
    }

    /// Identifiers not allowed in CONNACK; with CONNACK's, every identifier MQTT 5 defines.
    const ALL_OTHERS: u64 = bits(&[
        PAYLOAD_FORMAT_INDICATOR,
        MESSAGE_EXPIRY_INTERVAL,
        CONTENT_TYPE,
        RESPONSE_TOPIC,
        CORRELATION_DATA,
        SUBSCRIPTION_IDENTIFIER,
        REQUEST_PROBLEM_INFORMATION,
        WILL_DELAY_INTERVAL,
        REQUEST_RESPONSE_INFORMATION,
        TOPIC_ALIAS,
    ]);
}

#[cfg(test)]
mod tests {
    use super::id::*;
    use super::Scope;
    use crate::codec::packet::PacketType::{self, *};

    /// Table 2-4 of MQTT 5.0, transcribed by property rather than by packet as `Scope::of` is,
    /// so that each checks the other. `None` stands for the will properties.
    const TABLE: [(u8, &[Option<PacketType>]); 27] = [
        (PAYLOAD_FORMAT_INDICATOR, &[Some(Publish), None]),
        (MESSAGE_EXPIRY_INTERVAL, &[Some(Publish), None]),
        (CONTENT_TYPE, &[Some(Publish), None]),
        (RESPONSE_TOPIC, &[Some(Publish), None]),
        (CORRELATION_DATA, &[Some(Publish), None]),
        (SUBSCRIPTION_IDENTIFIER, &[Some(Publish), Some(Subscribe)]),
        (
            SESSION_EXPIRY_INTERVAL,
            &[Some(Connect), Some(ConnAck), Some(Disconnect)],
        ),
        (ASSIGNED_CLIENT_IDENTIFIER, &[Some(ConnAck)]),
        (SERVER_KEEP_ALIVE, &[Some(ConnAck)]),
        (
            AUTHENTICATION_METHOD,
            &[Some(Connect), Some(ConnAck), Some(Auth)],
        ),
        (
            AUTHENTICATION_DATA,
            &[Some(Connect), Some(ConnAck), Some(Auth)],
        ),
        (REQUEST_PROBLEM_INFORMATION, &[Some(Connect)]),
        (WILL_DELAY_INTERVAL, &[None]),
        (REQUEST_RESPONSE_INFORMATION, &[Some(Connect)]),
        (RESPONSE_INFORMATION, &[Some(ConnAck)]),
        (SERVER_REFERENCE, &[Some(ConnAck), Some(Disconnect)]),
        (
            REASON_STRING,
            &[
                Some(ConnAck),
                Some(PubAck),
                Some(PubRec),
                Some(PubRel),
                Some(PubComp),
                Some(SubAck),
                Some(UnsubAck),
                Some(Disconnect),
                Some(Auth),
            ],
        ),
        (RECEIVE_MAXIMUM, &[Some(Connect), Some(ConnAck)]),
        (TOPIC_ALIAS_MAXIMUM, &[Some(Connect), Some(ConnAck)]),
        (TOPIC_ALIAS, &[Some(Publish)]),
        (MAXIMUM_QOS, &[Some(ConnAck)]),
        (RETAIN_AVAILABLE, &[Some(ConnAck)]),
        (
            USER_PROPERTY,
            &[
                Some(Connect),
                Some(ConnAck),
                Some(Publish),
                None,
                Some(PubAck),
                Some(PubRec),
                Some(PubRel),
                Some(PubComp),
                Some(Subscribe),
                Some(SubAck),
                Some(Unsubscribe),
                Some(UnsubAck),
                Some(Disconnect),
                Some(Auth),
            ],
        ),
        (MAXIMUM_PACKET_SIZE, &[Some(Connect), Some(ConnAck)]),
        (WILDCARD_SUBSCRIPTION_AVAILABLE, &[Some(ConnAck)]),
        (SUBSCRIPTION_IDENTIFIER_AVAILABLE, &[Some(ConnAck)]),
        (SHARED_SUBSCRIPTION_AVAILABLE, &[Some(ConnAck)]),
    ];

    const PACKETS: [PacketType; 15] = [
        Connect,
        ConnAck,
        Publish,
        PubAck,
        PubRec,
        PubRel,
        PubComp,
        Subscribe,
        SubAck,
        Unsubscribe,
        UnsubAck,
        PingReq,
        PingResp,
        Disconnect,
        Auth,
    ];

    #[test]
    fn each_packet_allows_exactly_the_properties_of_table_2_4() {
        for scope in PACKETS.map(Some).into_iter().chain([None]) {
            let allows = match scope {
                Some(t) => Scope::of(t),
                None => Scope::WILL,
            };
            for id in 0..=0x7F {
                let expected = TABLE
                    .iter()
                    .any(|(i, scopes)| *i == id && scopes.contains(&scope));
                assert_eq!(
                    allows.allows(id),
                    expected,
                    "property {id:#04x} in {scope:?}"
                );
            }
        }
    }

    #[test]
    fn properties_are_empty_only_with_no_property_at_all() {
        use super::Properties;
        assert!(Properties::default().is_empty());
        // Zero values and empty strings are properties all the same.
        let present = [
            Properties {
                payload_format_indicator: Some(0),
                ..Properties::default()
            },
            Properties {
                content_type: Some(String::new()),
                ..Properties::default()
            },
            Properties {
                correlation_data: Some(bytes::Bytes::new()),
                ..Properties::default()
            },
            Properties {
                subscription_identifiers: vec![1],
                ..Properties::default()
            },
            Properties {
                shared_subscription_available: Some(0),
                ..Properties::default()
            },
            Properties {
                user_properties: vec![(String::new(), String::new())],
                ..Properties::default()
            },
        ];
        for properties in present {
            assert!(!properties.is_empty(), "{properties:?}");
        }
    }
}
