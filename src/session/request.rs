//! Request/response (MQTT 5, section 4.10): a request is a PUBLISH with a Response Topic and
//! fresh Correlation Data; the reply is the message on that topic carrying the same data.
//!
//! The session subscribes to the response topic once (a subscription like the application's,
//! so it survives reconnects and reloads) and publishes a request only once the broker holds
//! that subscription, so that a quick reply cannot arrive before it. The response topic is the
//! application's choice, else the server's Response Information when the client asked for it
//! (3.1.2.11.7, 3.2.2.3.15), else a topic of this client's own. A reply settles its request
//! with [`Event::Response`] and is not delivered as an ordinary message; a request without a
//! reply in time fails through the session's deadline ([`Session::poll_timeout`]).

use std::collections::HashMap;

use bytes::Bytes;

use super::*;

/// A request the application asks for.
#[derive(Debug, Clone, Default)]
pub struct RequestSpec {
    pub topic: String,
    pub payload: Bytes,
    pub qos: QoS,
    /// MQTT 5 PUBLISH properties; the session sets Response Topic and Correlation Data.
    pub properties: Properties,
    /// Where the reply is to go; None for the default (see the module docs).
    pub response_topic: Option<String>,
    /// ms to wait for the reply; None waits as long as the session lives.
    pub timeout_ms: Option<u64>,
}

/// Why a request got no reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// No reply within the timeout.
    TimedOut,
    /// The broker refused the request's PUBLISH with this reason code.
    PublishFailed { reason_code: u8 },
    /// The request expired (message expiry interval) before it could be sent.
    PublishExpired,
    /// The queue dropped the request's QoS 0 PUBLISH unsent to make room (`Overflow::DropOldestQos0`).
    PublishDropped,
    /// The broker refused the subscription to the response topic with this reason code.
    SubscribeRefused { reason_code: u8 },
    /// The offline queue had no room for the request.
    QueueFull,
}

impl RequestError {
    /// A stable code for the application.
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::TimedOut => "REQUEST_TIMEOUT",
            RequestError::PublishFailed { .. } => "PUBLISH_FAILED",
            RequestError::PublishExpired => "MESSAGE_EXPIRED",
            RequestError::PublishDropped => "QUEUE_OVERFLOW",
            RequestError::SubscribeRefused { .. } => "SUBSCRIBE_FAILED",
            RequestError::QueueFull => "QUEUE_FULL",
        }
    }

    pub fn reason_code(&self) -> Option<u8> {
        match self {
            RequestError::PublishFailed { reason_code }
            | RequestError::SubscribeRefused { reason_code } => Some(*reason_code),
            _ => None,
        }
    }
}

impl core::fmt::Display for RequestError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RequestError::TimedOut => f.write_str("no response within the timeout"),
            RequestError::PublishFailed { reason_code } => write!(
                f,
                "the broker refused the request: {}",
                reason::name(*reason_code)
            ),
            RequestError::PublishExpired => {
                f.write_str("the request expired before it could be sent")
            }
            RequestError::PublishDropped => f.write_str(
                "the queue was full: the request was dropped unsent ('drop-oldest-qos0')",
            ),
            RequestError::SubscribeRefused { reason_code } => write!(
                f,
                "the broker refused the subscription to the response topic: {}",
                reason::name(*reason_code)
            ),
            RequestError::QueueFull => f.write_str("the offline queue is full"),
        }
    }
}

#[derive(Debug)]
struct Pending {
    response_topic: String,
    correlation: Bytes,
    deadline: Option<u64>,
    /// The request's PUBLISH, held until the broker holds the response subscription.
    waiting: Option<Publish>,
}

#[derive(Debug, Default)]
pub(crate) struct Requests {
    pending: HashMap<Token, Pending>,
    /// The token of each request's PUBLISH, to the request's token.
    publishes: HashMap<Token, Token>,
    next: u64,
}

impl Requests {
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.pending.values().filter_map(|p| p.deadline).min()
    }
}

impl Session {
    /// Publishes a request and waits for its reply: settled by [`Event::Response`] or
    /// [`Event::RequestFailed`] with the returned token. MQTT 5 only.
    pub fn request(&mut self, now: u64, spec: RequestSpec) -> Result<Token, CommandError> {
        if !self.config.protocol.is_v5() {
            return Err(CommandError::RequiresMqtt5);
        }
        if spec.properties.response_topic.is_some() || spec.properties.correlation_data.is_some() {
            return Err(CommandError::PropertyNotAllowed(
                "a response topic or correlation data (request() sets them)",
            ));
        }
        let response_topic = match spec.response_topic {
            Some(topic) => topic,
            None => self.default_response_topic(),
        };
        // MQTT-3.3.2-14: a topic name, no wildcards.
        topic::validate_topic_name(&response_topic).map_err(CommandError::InvalidTopic)?;
        self.pending_requests.next += 1;
        let correlation = Bytes::from(format!(
            "{}{:x}",
            self.config.correlation_prefix, self.pending_requests.next
        ));
        let mut properties = spec.properties;
        properties.response_topic = Some(response_topic.clone());
        properties.correlation_data = Some(correlation.clone());
        let publish = self.prepare_publish(PublishRequest {
            topic: spec.topic,
            payload: spec.payload,
            qos: spec.qos,
            retain: false,
            properties,
            message_id: None,
        })?;
        let token = self.next_token();
        let held = self
            .subscriptions
            .get(&response_topic)
            .is_some_and(|s| s.held && !s.leaving);
        self.pending_requests.pending.insert(
            token,
            Pending {
                response_topic: response_topic.clone(),
                correlation,
                deadline: spec.timeout_ms.map(|ms| now + ms),
                waiting: Some(publish),
            },
        );
        if held {
            self.send_request(now, token);
        } else if self
            .subscriptions
            .get(&response_topic)
            .is_none_or(|s| s.leaving)
        {
            // Replies come at the responder's QoS: the subscription caps none of them.
            let options = SubscriptionOptions {
                qos: QoS::ExactlyOnce,
                ..Default::default()
            };
            self.record_subscription(&response_topic, options, false);
            self.send_subscribe(
                now,
                None,
                vec![(response_topic, options)],
                0,
                Properties::default(),
            );
        }
        Ok(token)
    }

    /// Publishes `reply` as the response to `request`: to its Response Topic, with its
    /// Correlation Data (4.10). `reply.topic` is ignored.
    pub fn respond(
        &mut self,
        now: u64,
        request: &Publish,
        mut reply: PublishRequest,
    ) -> Result<Token, CommandError> {
        if !self.config.protocol.is_v5() {
            return Err(CommandError::RequiresMqtt5);
        }
        let Some(topic) = request.properties.response_topic.clone() else {
            return Err(CommandError::NoResponseTopic);
        };
        reply.topic = topic;
        reply.properties.correlation_data = request.properties.correlation_data.clone();
        self.publish(now, reply)
    }

    fn default_response_topic(&self) -> String {
        match &self.response_information {
            Some(base) => base.trim_end_matches('/').to_string(),
            None => format!("wasmqtt/response/{}", self.config.client_id),
        }
    }

    /// The broker now holds `filter`: requests waiting for it as their response topic go out.
    pub(super) fn response_topic_held(&mut self, now: u64, filter: &str) {
        let ready: Vec<Token> = self
            .pending_requests
            .pending
            .iter()
            .filter(|(_, p)| p.waiting.is_some() && p.response_topic == filter)
            .map(|(t, _)| *t)
            .collect();
        for token in ready {
            self.send_request(now, token);
        }
    }

    /// The broker refused `filter`: requests waiting for it as their response topic fail.
    pub(super) fn response_topic_refused(&mut self, filter: &str, reason_code: u8) {
        let failed: Vec<Token> = self
            .pending_requests
            .pending
            .iter()
            .filter(|(_, p)| p.response_topic == filter)
            .map(|(t, _)| *t)
            .collect();
        for token in failed {
            self.pending_requests.pending.remove(&token);
            self.events.push_back(Event::RequestFailed {
                token,
                error: RequestError::SubscribeRefused { reason_code },
            });
        }
    }

    fn send_request(&mut self, now: u64, token: Token) {
        let Some(publish) = self
            .pending_requests
            .pending
            .get_mut(&token)
            .and_then(|p| p.waiting.take())
        else {
            return;
        };
        let publish_token = self.next_token();
        self.pending_requests.publishes.insert(publish_token, token);
        if self.enqueue_publish(now, publish_token, publish).is_err() {
            self.pending_requests.publishes.remove(&publish_token);
            self.pending_requests.pending.remove(&token);
            self.events.push_back(Event::RequestFailed {
                token,
                error: RequestError::QueueFull,
            });
        }
    }

    /// A delivered message that answers a pending request: settles it, and is not delivered
    /// as an ordinary message.
    pub(super) fn take_response(&mut self, publish: Publish) -> Option<Publish> {
        let Some(token) = self.response_token(&publish) else {
            return Some(publish);
        };
        self.pending_requests.pending.remove(&token);
        self.events.push_back(Event::Response { token, publish });
        None
    }

    /// The request `publish` is the reply to, if any.
    pub(super) fn response_token(&self, publish: &Publish) -> Option<Token> {
        let correlation = publish.properties.correlation_data.as_ref()?;
        self.pending_requests
            .pending
            .iter()
            .find(|(_, p)| {
                p.waiting.is_none()
                    && p.correlation == correlation
                    && p.response_topic == publish.topic
            })
            .map(|(t, _)| *t)
    }

    /// Fails the requests whose timeout has passed.
    pub(super) fn expire_requests(&mut self, now: u64) {
        let expired: Vec<Token> = self
            .pending_requests
            .pending
            .iter()
            .filter(|(_, p)| p.deadline.is_some_and(|d| d <= now))
            .map(|(t, _)| *t)
            .collect();
        for token in expired {
            self.pending_requests.pending.remove(&token);
            self.events.push_back(Event::RequestFailed {
                token,
                error: RequestError::TimedOut,
            });
        }
    }

    /// The outcome of a request's PUBLISH concerns its request, not the application: a
    /// success is dropped, a failure fails the request. Other events pass.
    pub(super) fn requests_filter(&mut self, event: Event) -> Option<Event> {
        let (token, error) = match &event {
            Event::Published { token, .. } => (*token, None),
            Event::PublishFailed { token, reason_code } => (
                *token,
                Some(RequestError::PublishFailed {
                    reason_code: *reason_code,
                }),
            ),
            Event::PublishExpired { token } => (*token, Some(RequestError::PublishExpired)),
            Event::PublishDropped { token } => (*token, Some(RequestError::PublishDropped)),
            _ => return Some(event),
        };
        let Some(request) = self.pending_requests.publishes.remove(&token) else {
            return Some(event);
        };
        let error = error?;
        self.pending_requests.pending.remove(&request)?;
        Some(Event::RequestFailed {
            token: request,
            error,
        })
    }
}
