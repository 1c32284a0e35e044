//! Inbound PUBLISH: topic aliases, the QoS 1 and 2 receiver flows, and delivering each
//! application message once.

use super::*;

impl Session {
    pub(super) fn handle_publish(&mut self, now: u64, mut publish: Publish) {
        if let Some(alias) = publish.properties.topic_alias {
            let maximum = self
                .config
                .connect_properties
                .topic_alias_maximum
                .unwrap_or(0);
            if alias == 0 || alias > maximum {
                return self.protocol_error(now, reason::TOPIC_ALIAS_INVALID);
            }
            if publish.topic.is_empty() {
                match self.inbound_aliases.get(&alias) {
                    Some(topic) => publish.topic = topic.clone(),
                    None => return self.protocol_error(now, reason::PROTOCOL_ERROR),
                }
            } else {
                self.inbound_aliases.insert(alias, publish.topic.clone());
            }
        }
        let message_id = self.dedup_key(&publish);
        if let Some(id) = publish.packet_id {
            // MQTT-3.3.4-9: the server sends no more than our Receive Maximum QoS 1 and 2
            // PUBLISH packets that we have not acknowledged (PUBACK, PUBCOMP) on this
            // connection; more is a protocol error (4.9), whatever their QoS.
            let limit = self
                .config
                .connect_properties
                .receive_maximum
                .unwrap_or(u16::MAX);
            if self.inbound_unacknowledged.insert(id)
                && self.inbound_unacknowledged.len() > usize::from(limit)
            {
                return self.protocol_error(now, reason::RECEIVE_MAXIMUM_EXCEEDED);
            }
        }
        if let Some(routing) = self.handler_routing(&publish) {
            return self.receive_for_handler(now, publish, message_id, routing);
        }
        match (publish.qos, publish.packet_id) {
            (QoS::AtMostOnce, _) => self.deliver_once(now, publish, message_id),
            (QoS::AtLeastOnce, Some(id)) => {
                self.deliver_once(now, publish, message_id);
                self.gate(now, Gated::Send(Packet::PubAck(Ack::new(id))));
            }
            (QoS::ExactlyOnce, Some(id)) => {
                if self.inbound_qos2.insert(id) {
                    // MQTT-4.3.3-9 method B: the id is stored before PUBREC, the message is
                    // delivered once, re-sent copies are not delivered until PUBREL.
                    self.write(Write::Put(store::inbound_key(id), Vec::new()));
                    self.deliver_once(now, publish, message_id);
                } else if !publish.dup && message_id.is_some() {
                    // An id we hold, on a first send (a re-send has DUP=1, MQTT-3.3.1-1): a
                    // broker restarted from older state is reusing it. Its message id tells a new
                    // message (delivered) from an old one (dropped as a duplicate).
                    self.deliver_once(now, publish, message_id);
                }
                self.gate(now, Gated::Send(Packet::PubRec(Ack::new(id))));
            }
            _ => self.protocol_error(now, reason::MALFORMED_PACKET),
        }
    }

    /// What de-duplication knows a message by: its application message id, and, when the
    /// broker names subscriptions, those too, for each copy it sends for another overlapping
    /// subscription (MQTT-3.3.4-5) carries the same id and is not a redelivery.
    pub(super) fn dedup_key(&self, publish: &Publish) -> Option<String> {
        let dedup = self.config.dedup()?;
        let id = publish.properties.user_property(&dedup.key)?;
        let ids = &publish.properties.subscription_identifiers;
        let key = if ids.is_empty() {
            id.to_string()
        } else {
            let mut ids = ids.clone();
            crate::sort::sort_by(&mut ids, u32::cmp);
            let ids: Vec<String> = ids.iter().map(u32::to_string).collect();
            format!("{id}#{}", ids.join(","))
        };
        // A peer chooses the id: one over the cap is not de-duplicated (see dedup.rs).
        (key.len() <= dedup::MAX_KEY_BYTES).then_some(key)
    }

    /// A further copy for another overlapping subscription, told apart without identifiers
    /// (see copies.rs). Identifiers, when the broker sends them, say it exactly (router.rs).
    pub(super) fn is_unnamed_copy(&mut self, now: u64, publish: &Publish) -> bool {
        if self.config.copies != CopyPolicy::Collapse
            || !publish.properties.subscription_identifiers.is_empty()
        {
            return false;
        }
        let subscriptions = &self.subscriptions;
        self.expected_copies.is_copy(now, publish, || {
            subscriptions
                .matching(&publish.topic)
                .map(|(_, s)| s.granted)
                .collect()
        })
    }

    /// Delivers unless it is a copy for another overlapping subscription or its
    /// de-duplication key was seen within the window.
    fn deliver_once(&mut self, now: u64, publish: Publish, key: Option<String>) {
        if self.is_unnamed_copy(now, &publish) {
            self.copies_dropped += 1;
            return;
        }
        if let Some(id) = key {
            if self.seen.contains(&id) {
                return self.drop_duplicate(publish);
            }
            self.seen.insert(&id, now);
            self.write(Write::Put(store::seen_id_key(&id), Vec::new()));
            self.evict_seen(now);
        }
        self.gate(now, Gated::Deliver(publish));
    }

    /// Counts and reports a message not delivered because its id was seen.
    pub(super) fn drop_duplicate(&mut self, publish: Publish) {
        self.duplicates_dropped += 1;
        let message_id = self
            .config
            .dedup()
            .and_then(|d| publish.properties.user_property(&d.key))
            .unwrap_or_default()
            .to_string();
        self.events.push_back(Event::DuplicateDropped {
            message_id,
            topic: publish.topic,
        });
    }

    pub(super) fn evict_seen(&mut self, now: u64) {
        let Some(dedup) = self.config.dedup() else {
            return;
        };
        let (size, age) = (dedup.window_size, dedup.window_ms);
        let mut evicted = Vec::new();
        self.seen.evict(now, size, age, |id| evicted.push(id));
        for id in evicted {
            self.write(Write::Delete(store::seen_id_key(&id)));
        }
    }
}
