//! SUBSCRIBE and UNSUBSCRIBE, and keeping the broker's subscriptions in step with ours.
//!
//! A subscription is recorded when the application asks for it and confirmed by its SUBACK;
//! an unsubscribe marks it "leaving" until its UNSUBACK. Whatever the broker has not confirmed
//! is subscribed again on the next connection (everything, when it lost the session), and
//! whatever is leaving is unsubscribed again, so a change made offline or lost with a
//! connection or a page reaches the broker in the end. SUBSCRIBE and UNSUBSCRIBE leave only
//! once their records are durable, and the application hears of a result only once it is
//! durable too: the identifiers the broker knows are always ones the store knows.
//!
//! The application's result is always the broker's answer (its granted QoS or refusal per
//! filter, 3.9.3): a request made offline waits for the connection, like a publish. Settling it
//! at once would tell the application it is subscribed while the broker still routes nothing
//! to it, and would hide a refusal.
//!
//! With subscription identifiers in force (MQTT 5, the server supports them, the client manages
//! them) every filter gets its own identifier, so that a PUBLISH says exactly which filters it
//! is for (see router.rs). One SUBSCRIBE carries one identifier for all its filters
//! (3.8.2.1.2), so a request with several filters goes out as one SUBSCRIBE per filter and the
//! SUBACKs are gathered into one result.

use std::collections::HashSet;

use super::subscriptions::Subscription;
use super::*;

/// A SUBSCRIBE or UNSUBSCRIBE awaiting its acknowledgement.
#[derive(Debug)]
pub(crate) enum Control {
    Subscribe {
        token: Option<Token>,
        filters: Vec<(String, SubscriptionOptions)>,
        /// Where these filters start in the application's request (when it was split).
        offset: usize,
        /// The request's own properties, for asking again on a later connection.
        properties: Properties,
    },
    Unsubscribe {
        token: Option<Token>,
        filters: Vec<String>,
        properties: Properties,
    },
}

impl Session {
    pub fn subscribe(
        &mut self,
        now: u64,
        filters: Vec<(String, SubscriptionOptions)>,
        properties: Properties,
    ) -> Result<Token, CommandError> {
        if filters.is_empty() {
            return Err(CommandError::NoFilters);
        }
        for (filter, _) in &filters {
            topic::validate_topic_filter(filter).map_err(CommandError::InvalidFilter)?;
            // The last connection's limits refuse it at once; send_subscribe applies those of
            // the connection it leaves on.
            match self.server.filter_refusal(filter) {
                Some(reason::WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED) => {
                    return Err(CommandError::WildcardsNotSupported)
                }
                Some(_) => return Err(CommandError::SharedNotSupported),
                None => {}
            }
        }
        if !properties.subscription_identifiers.is_empty() {
            if self.manages_subscription_ids() {
                return Err(CommandError::PropertyNotAllowed(
                    "a subscription identifier",
                ));
            }
            if !self.server.subscription_ids {
                return Err(CommandError::SubscriptionIdsNotSupported);
            }
        }
        // Whatever else the codec would refuse (options, property sizes) is refused now, so
        // the packet cannot fail to encode when it leaves.
        let probe = Subscribe {
            packet_id: 1,
            properties: properties.clone(),
            filters: filters.clone(),
        };
        crate::codec::validate(&Packet::Subscribe(probe), self.config.protocol)
            .map_err(CommandError::Encode)?;
        let token = self.next_token();
        for (filter, options) in &filters {
            self.record_subscription(filter, *options, false);
        }
        self.send_subscribe(now, Some(token), filters, 0, properties);
        Ok(token)
    }

    pub fn unsubscribe(
        &mut self,
        now: u64,
        filters: Vec<String>,
        properties: Properties,
    ) -> Result<Token, CommandError> {
        if filters.is_empty() {
            return Err(CommandError::NoFilters);
        }
        for filter in &filters {
            topic::validate_topic_filter(filter).map_err(CommandError::InvalidFilter)?;
        }
        let probe = Unsubscribe {
            packet_id: 1,
            properties: properties.clone(),
            filters: filters.clone(),
        };
        let size = crate::codec::validate(&Packet::Unsubscribe(probe), self.config.protocol)
            .map_err(CommandError::Encode)?;
        if let Some(max) = self
            .server
            .maximum_packet_size
            .filter(|max| size > *max as usize)
        {
            return Err(CommandError::PacketTooLarge { size, max }); // MQTT-3.2.2-15
        }
        let token = self.next_token();
        for filter in &filters {
            self.mark_leaving(filter);
        }
        self.send_unsubscribe(now, Some(token), filters, properties);
        Ok(token)
    }

    /// The client gives every subscription its own identifier (MQTT 5, not turned off).
    pub(super) fn manages_subscription_ids(&self) -> bool {
        self.config.subscription_identifiers && self.config.protocol.is_v5()
    }

    fn ids_in_force(&self) -> bool {
        self.manages_subscription_ids() && self.server.subscription_ids
    }

    /// Sends SUBSCRIBE for `filters` (already recorded; they start at `offset` in the
    /// application's request), or, offline, keeps the request for the connection (without a
    /// token there is nobody to answer: the filters are among those `resubscribe` sends anyway).
    pub(super) fn send_subscribe(
        &mut self,
        now: u64,
        token: Option<Token>,
        filters: Vec<(String, SubscriptionOptions)>,
        offset: usize,
        properties: Properties,
    ) {
        if self.link != Link::Up {
            if token.is_some() {
                self.unanswered.push(Control::Subscribe {
                    token,
                    filters,
                    offset,
                    properties,
                });
            }
            return;
        }
        // What this connection does not allow is answered here, as the broker would answer it
        // (3.9.3), and never sent (3.2.2.3.11-13, MQTT-3.2.2-15).
        let foreign_ids =
            !properties.subscription_identifiers.is_empty() && !self.server.subscription_ids;
        let mut refused = Vec::new();
        let mut allowed = Vec::new();
        for (i, (filter, options)) in filters.into_iter().enumerate() {
            let code = match foreign_ids {
                true => Some(reason::SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED),
                false => self.server.filter_refusal(&filter),
            };
            match code {
                Some(code) => refused.push((offset + i, filter, code)),
                None => allowed.push((offset + i, filter, options)),
            }
        }
        let total = allowed.len() + refused.len();
        let whole = Subscribe {
            packet_id: 1,
            properties: properties.clone(),
            filters: allowed.iter().map(|(_, f, o)| (f.clone(), *o)).collect(),
        };
        let too_large = self
            .server
            .size_refusal(&Packet::Subscribe(whole), self.config.protocol)
            .is_some();
        let with_ids = self.ids_in_force();
        // One identifier per SUBSCRIBE (3.8.2.1.2); one filter per packet also when some are
        // answered here (the rest are not contiguous) or when all would be too large.
        let parts: Vec<Vec<(usize, String, SubscriptionOptions)>> =
            if (with_ids || !refused.is_empty() || too_large) && allowed.len() > 1 {
                allowed.into_iter().map(|f| vec![f]).collect()
            } else if allowed.is_empty() {
                Vec::new()
            } else {
                vec![allowed]
            };
        if let (Some(token), true) = (token, parts.len() + refused.len() > 1) {
            // Asked again, a part keeps its place in what was gathered so far.
            self.partial_subacks
                .entry(token)
                .or_insert_with(|| vec![None; offset + total]);
        }
        for part in parts {
            let (start, ..) = part[0];
            let part: Vec<(String, SubscriptionOptions)> =
                part.into_iter().map(|(_, f, o)| (f, o)).collect();
            // The request keeps the application's properties; the identifier is this packet's.
            let mut sent_properties = properties.clone();
            if with_ids {
                let id = self.subscriptions.id_for(&part[0].0);
                sent_properties.subscription_identifiers = vec![id];
                self.set_subscription_id(&part[0].0, Some(id));
            } else if self.manages_subscription_ids() {
                // This server takes none: the subscription will carry none.
                for (filter, _) in &part {
                    self.set_subscription_id(filter, None);
                }
            }
            let mut packet = Subscribe {
                packet_id: 0,
                properties: sent_properties,
                filters: part.clone(),
            };
            let refusal = self
                .server
                .size_refusal(&Packet::Subscribe(packet.clone()), self.config.protocol);
            if let (Some(code), [(filter, _)]) = (refusal, &part[..]) {
                refused.push((start, filter.clone(), code));
                continue;
            }
            let packet_id = self.outbound.allocate_packet_id(&self.requests);
            packet.packet_id = packet_id;
            self.requests.insert(
                packet_id,
                Control::Subscribe {
                    token,
                    filters: part,
                    offset: start,
                    properties: properties.clone(),
                },
            );
            let seq = self.recorded(packet.filters.iter().map(|(f, _)| f));
            self.gate_at(now, seq, Gated::Send(Packet::Subscribe(packet)));
        }
        for (position, filter, code) in refused {
            self.settle_filters(now, token, position, vec![(filter, code)]);
        }
    }

    /// Sends UNSUBSCRIBE for `filters` (already marked leaving), or, offline, keeps the request
    /// for the connection, as `send_subscribe` does.
    pub(super) fn send_unsubscribe(
        &mut self,
        now: u64,
        token: Option<Token>,
        filters: Vec<String>,
        properties: Properties,
    ) {
        if self.link != Link::Up {
            if token.is_some() {
                self.unanswered.push(Control::Unsubscribe {
                    token,
                    filters,
                    properties,
                });
            }
            return;
        }
        // The choke point for every UNSUBSCRIBE, first sent or asked again on a later connection:
        // one over this connection's Maximum Packet Size is never sent (MQTT-3.2.2-15). Its call
        // fails, and the filters stay subscribed, so nothing asks again on every connection.
        let probe = Packet::Unsubscribe(Unsubscribe {
            packet_id: 1,
            properties: properties.clone(),
            filters: filters.clone(),
        });
        if let Some(max) = self.server.maximum_packet_size {
            if self
                .server
                .size_refusal(&probe, self.config.protocol)
                .is_some()
            {
                for filter in &filters {
                    self.keep_subscription(filter);
                }
                if let Some(token) = token {
                    let size = crate::codec::encoded_len(&probe, self.config.protocol);
                    let error = CommandError::PacketTooLarge { size, max };
                    self.gate(now, Gated::Report(Event::CommandFailed { token, error }));
                }
                return;
            }
        }
        let packet_id = self.outbound.allocate_packet_id(&self.requests);
        let packet = Unsubscribe {
            packet_id,
            properties: properties.clone(),
            filters: filters.clone(),
        };
        self.requests.insert(
            packet_id,
            Control::Unsubscribe {
                token,
                filters,
                properties,
            },
        );
        let seq = self.recorded(&packet.filters);
        self.gate_at(now, seq, Gated::Send(Packet::Unsubscribe(packet)));
    }

    /// After CONNACK: subscribes what the broker does not hold (everything, when it lost the
    /// session) and unsubscribes what is leaving, then asks again what went unanswered on the
    /// last connection or was asked offline.
    pub(super) fn resubscribe(&mut self, now: u64, session_present: bool) {
        if !session_present {
            self.subscriptions.unconfirm_all();
            // The broker holds nothing to unsubscribe from.
            let leaving: Vec<String> = self
                .subscriptions
                .iter()
                .filter(|(_, s)| s.leaving)
                .map(|(f, _)| f.clone())
                .collect();
            self.forget_subscriptions(&leaving);
        }
        let mut unanswered = std::mem::take(&mut self.unanswered);
        if !session_present {
            // ... so an unsubscribe is done without asking: gone with the session.
            unanswered.retain(|control| match control {
                Control::Unsubscribe { token, filters, .. } => {
                    if let Some(token) = *token {
                        let report = Event::Unsubscribed {
                            token,
                            reason_codes: vec![reason::SUCCESS; filters.len()],
                        };
                        self.gate(now, Gated::Report(report));
                    }
                    false
                }
                Control::Subscribe { .. } => true,
            });
        }
        let mut asked_again: HashSet<String> = HashSet::new();
        for control in &unanswered {
            match control {
                Control::Subscribe { filters, .. } => {
                    asked_again.extend(filters.iter().map(|(f, _)| f.clone()))
                }
                Control::Unsubscribe { filters, .. } => asked_again.extend(filters.iter().cloned()),
            }
        }
        let (mut subscribe, mut unsubscribe) = (Vec::new(), Vec::new());
        for (filter, s) in self.subscriptions.iter() {
            if asked_again.contains(filter) {
                continue;
            }
            if s.leaving {
                unsubscribe.push(filter.clone());
            } else if !s.confirmed {
                subscribe.push((filter.clone(), s.options));
            }
        }
        if !subscribe.is_empty() {
            self.send_subscribe(now, None, subscribe, 0, Properties::default());
        }
        if !unsubscribe.is_empty() {
            self.send_unsubscribe(now, None, unsubscribe, Properties::default());
        }
        for control in unanswered {
            match control {
                Control::Subscribe {
                    token,
                    filters,
                    offset,
                    properties,
                } => self.send_subscribe(now, token, filters, offset, properties),
                Control::Unsubscribe {
                    token,
                    filters,
                    properties,
                } => self.send_unsubscribe(now, token, filters, properties),
            }
        }
    }

    pub(super) fn handle_suback(&mut self, now: u64, packet_id: u16, reason_codes: Vec<u8>) {
        let Some(Control::Subscribe {
            token,
            filters,
            offset,
            ..
        }) = self.requests.remove(&packet_id)
        else {
            return;
        };
        // A broker that answers fewer codes than filters refused the rest.
        let answered = filters
            .into_iter()
            .enumerate()
            .map(|(i, (filter, options))| {
                let code = reason_codes
                    .get(i)
                    .copied()
                    .unwrap_or(reason::UNSPECIFIED_ERROR);
                ((filter, options), code)
            })
            .collect::<Vec<_>>();
        for ((filter, options), code) in &answered {
            if reason::is_failure(*code)
                || self.subscriptions.get(filter).is_some_and(|s| s.leaving)
            {
                continue;
            }
            self.record_subscription(filter, *options, true);
            let granted = QoS::from_u8(*code).unwrap_or(options.qos);
            self.subscriptions.set_granted(filter, granted);
            self.response_topic_held(now, filter);
        }
        let codes = answered.into_iter().map(|((f, _), c)| (f, c)).collect();
        self.settle_filters(now, token, offset, codes);
    }

    /// Filters answered (from `offset` in the application's request), by the broker or by the
    /// limits of the connection: a refused one is forgotten; once every filter of the request
    /// is answered, the application is told.
    fn settle_filters(
        &mut self,
        now: u64,
        token: Option<Token>,
        offset: usize,
        answered: Vec<(String, u8)>,
    ) {
        for (filter, code) in &answered {
            if self.subscriptions.get(filter).is_some_and(|s| s.leaving) {
                continue; // unsubscribed meanwhile: its UNSUBSCRIBE follows this SUBSCRIBE
            }
            if reason::is_failure(*code) {
                self.forget_subscriptions(std::slice::from_ref(filter));
                self.response_topic_refused(filter, *code);
            }
        }
        let Some(token) = token else {
            return;
        };
        let codes = answered.into_iter().map(|(_, code)| code);
        let reason_codes = match self.partial_subacks.get_mut(&token) {
            None => codes.collect(),
            Some(gathered) => {
                for (i, code) in codes.enumerate() {
                    gathered[offset + i] = Some(code);
                }
                if gathered.iter().any(Option::is_none) {
                    return;
                }
                let gathered = self.partial_subacks.remove(&token).expect("present");
                gathered.into_iter().flatten().collect()
            }
        };
        let report = Event::Subscribed {
            token,
            reason_codes,
        };
        self.gate(now, Gated::Report(report));
    }

    pub(super) fn handle_unsuback(&mut self, now: u64, packet_id: u16, reason_codes: Vec<u8>) {
        let Some(Control::Unsubscribe { token, filters, .. }) = self.requests.remove(&packet_id)
        else {
            return;
        };
        // A filter subscribed again meanwhile stays: its SUBSCRIBE follows this UNSUBSCRIBE.
        let gone: Vec<String> = filters
            .iter()
            .filter(|f| self.subscriptions.get(f).is_some_and(|s| s.leaving))
            .cloned()
            .collect();
        self.forget_subscriptions(&gone);
        let Some(token) = token else {
            return;
        };
        let reason_codes = if reason_codes.is_empty() {
            vec![reason::SUCCESS; filters.len()]
        } else {
            reason_codes
        };
        let report = Event::Unsubscribed {
            token,
            reason_codes,
        };
        self.gate(now, Gated::Report(report));
    }

    /// Records `filter` with `options` (keeping its identifier) and writes it to the store.
    pub(super) fn record_subscription(
        &mut self,
        filter: &str,
        options: SubscriptionOptions,
        confirmed: bool,
    ) {
        let current = self.subscriptions.get(filter).copied();
        let subscription = Subscription {
            id: current.and_then(|s| s.id),
            confirmed,
            // Asking again for a filter the broker holds replaces it: still held.
            held: confirmed || current.is_some_and(|s| s.held && !s.leaving),
            ..Subscription::new(options)
        };
        let persisted = |s: Subscription| (s.options, s.id, s.confirmed, s.leaving);
        match current {
            Some(current) if persisted(current) == persisted(subscription) => {
                let recorded = current.recorded;
                self.subscriptions.insert(
                    filter.to_string(),
                    Subscription {
                        recorded,
                        ..subscription
                    },
                );
            }
            _ => self.put_subscription(filter, subscription),
        }
    }

    /// The application unsubscribed `filter`: durably marked until the broker confirms.
    fn mark_leaving(&mut self, filter: &str) {
        let Some(&current) = self.subscriptions.get(filter) else {
            return;
        };
        if !current.leaving {
            let subscription = Subscription {
                leaving: true,
                held: false,
                ..current
            };
            self.put_subscription(filter, subscription);
        }
    }

    /// Undoes `mark_leaving`: the UNSUBSCRIBE will not be sent, so the broker keeps it.
    fn keep_subscription(&mut self, filter: &str) {
        let Some(&current) = self.subscriptions.get(filter) else {
            return;
        };
        if current.leaving {
            let subscription = Subscription {
                leaving: false,
                held: current.confirmed || current.id.is_some(),
                ..current
            };
            self.put_subscription(filter, subscription);
        }
    }

    fn set_subscription_id(&mut self, filter: &str, id: Option<u32>) {
        let Some(&current) = self.subscriptions.get(filter) else {
            return;
        };
        if current.id != id {
            self.put_subscription(filter, Subscription { id, ..current });
        }
    }

    /// Writes `filter`'s record and keeps it, noting the write's sequence number.
    fn put_subscription(&mut self, filter: &str, subscription: Subscription) {
        self.write(Write::Put(
            store::subscription_key(filter),
            store::subscription_value(&subscription),
        ));
        let recorded = self.log.last_seq();
        self.subscriptions.insert(
            filter.to_string(),
            Subscription {
                recorded,
                ..subscription
            },
        );
    }

    /// The sequence number to wait for before the broker may hear about `filters`: their
    /// records, identifiers and leaving marks are durable by then.
    fn recorded<'a>(&self, filters: impl IntoIterator<Item = &'a String>) -> u64 {
        filters
            .into_iter()
            .filter_map(|f| self.subscriptions.get(f))
            .map(|s| s.recorded)
            .max()
            .unwrap_or(0)
    }

    fn forget_subscriptions(&mut self, filters: &[String]) {
        for filter in filters {
            if self.subscriptions.remove(filter).is_some() {
                self.write(Write::Delete(store::subscription_key(filter)));
            }
        }
    }
}
