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
    pub fn is_empty(&self) -> bool {
        *self == Properties::default()
    }

    /// The value of the first user property named `key`.
    pub fn user_property(&self, key: &str) -> Option<&str> {
        self.user_properties
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}
