//! What the broker allowed in CONNACK, and the one check every packet that leaves on that
//! connection passes: a message queued, resent or restored from the store is held to the limits
//! of the connection it leaves on, not to those in force when the application asked for it.

use crate::codec::{self, reason, Packet, Properties, ProtocolVersion, Publish, QoS};
use crate::topic;

/// The largest packet this client accepts when the application sets no Maximum Packet Size
/// (CONNECT property, MQTT 5; enforced by the decoder before 5 too): 1 MiB. A dashboard lives
/// with it; a broker that forwards more to us discards the message instead (MQTT-3.1.2-25).
pub const DEFAULT_MAXIMUM_PACKET_SIZE: u32 = 1024 * 1024;

/// The CONNACK limits (defaults when it said nothing, MQTT 5 section 3.2.2.3).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServerLimits {
    pub(crate) receive_maximum: u16,
    pub(crate) maximum_qos: u8,
    pub(crate) retain_available: bool,
    pub(crate) maximum_packet_size: Option<u32>,
    pub(crate) wildcards: bool,
    pub(crate) subscription_ids: bool,
    pub(crate) shared: bool,
    pub(crate) topic_alias_maximum: u16,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            receive_maximum: u16::MAX,
            maximum_qos: 2,
            retain_available: true,
            maximum_packet_size: None,
            wildcards: true,
            subscription_ids: true,
            shared: true,
            topic_alias_maximum: 0,
        }
    }
}

impl ServerLimits {
    /// The limits a CONNACK's properties set.
    pub(crate) fn from_connack(properties: &Properties) -> ServerLimits {
        let flag = |value: Option<u8>| value.is_none_or(|v| v != 0);
        ServerLimits {
            receive_maximum: properties.receive_maximum.unwrap_or(u16::MAX),
            maximum_qos: properties.maximum_qos.unwrap_or(2),
            retain_available: flag(properties.retain_available),
            maximum_packet_size: properties.maximum_packet_size,
            wildcards: flag(properties.wildcard_subscription_available),
            subscription_ids: flag(properties.subscription_identifier_available),
            shared: flag(properties.shared_subscription_available),
            topic_alias_maximum: properties.topic_alias_maximum.unwrap_or(0),
        }
    }

    /// Why `publish`, as it would go on the wire, may not be sent on this connection: the reason
    /// code its publish fails with. None: it may.
    pub(crate) fn publish_refusal(
        &self,
        publish: &Publish,
        protocol: ProtocolVersion,
    ) -> Option<u8> {
        if publish.qos as u8 > self.maximum_qos {
            return Some(reason::QOS_NOT_SUPPORTED); // MQTT-3.2.2-11
        }
        if publish.retain && !self.retain_available {
            return Some(reason::RETAIN_NOT_SUPPORTED); // MQTT-3.2.2-14
        }
        // A QoS 0 message measured without a packet id, a QoS 1/2 one with any (same size).
        let probe = Publish {
            packet_id: (publish.qos != QoS::AtMostOnce).then_some(1),
            ..publish.clone()
        };
        self.size_refusal(&Packet::Publish(probe), protocol)
    }

    /// PACKET_TOO_LARGE when `packet` exceeds the server's Maximum Packet Size (MQTT-3.2.2-15).
    pub(crate) fn size_refusal(&self, packet: &Packet, protocol: ProtocolVersion) -> Option<u8> {
        let max = self.maximum_packet_size?;
        (codec::encoded_len(packet, protocol) > max as usize).then_some(reason::PACKET_TOO_LARGE)
    }

    /// Why a subscription to `filter` may not be asked for on this connection (the reason code
    /// its SUBACK would carry, 3.9.3): wildcards or shared subscriptions the server said it does
    /// not support (3.2.2.3.13, 3.2.2.3.15).
    pub(crate) fn filter_refusal(&self, filter: &str) -> Option<u8> {
        if !self.wildcards && filter.contains(['+', '#']) {
            return Some(reason::WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED);
        }
        if !self.shared && topic::split_shared(filter).is_some() {
            return Some(reason::SHARED_SUBSCRIPTIONS_NOT_SUPPORTED);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn publish(qos: QoS, retain: bool, payload: usize) -> Publish {
        Publish {
            dup: false,
            qos,
            retain,
            topic: "t".into(),
            packet_id: None,
            properties: Properties::default(),
            payload: Bytes::from(vec![0; payload]),
        }
    }

    #[test]
    fn each_connack_limit_refuses_with_its_reason_code() {
        let v5 = ProtocolVersion::V5;
        let mut connack = Properties {
            maximum_qos: Some(0),
            retain_available: Some(0),
            maximum_packet_size: Some(100),
            wildcard_subscription_available: Some(0),
            shared_subscription_available: Some(0),
            ..Properties::default()
        };
        let limits = ServerLimits::from_connack(&connack);
        let refusal = |p: Publish| limits.publish_refusal(&p, v5);
        assert_eq!(refusal(publish(QoS::AtLeastOnce, false, 1)), Some(0x9B));
        assert_eq!(refusal(publish(QoS::AtMostOnce, true, 1)), Some(0x9A));
        assert_eq!(refusal(publish(QoS::AtMostOnce, false, 100)), Some(0x95));
        assert_eq!(refusal(publish(QoS::AtMostOnce, false, 10)), None);
        assert_eq!(limits.filter_refusal("a/+"), Some(0xA2));
        assert_eq!(limits.filter_refusal("$share/g/a"), Some(0x9E));
        assert_eq!(limits.filter_refusal("a/b"), None);
        connack = Properties::default();
        let open = ServerLimits::from_connack(&connack);
        assert_eq!(
            open.publish_refusal(&publish(QoS::ExactlyOnce, true, 1 << 20), v5),
            None
        );
    }
}
