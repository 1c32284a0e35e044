//! How the client reacts to its socket, its link supervisor and its session: the rules that
//! tie the three together (which failure is reported how, when the supervisor hears of it).

use crate::client::link::{LinkAction, LinkEvent, StopReason};
use crate::codec::{self, reason, Packet};
use crate::session::{Event, LostReason};

use super::diagnosis::{self, ProbeAnswer, ProbeRequest, Verdict};
use super::error::ClientError;
use super::event::{ClientEvent, Completion};
use super::Client;

impl Client {
    /// The socket `socket` opened with the `mqtt` subprotocol: CONNECT goes out.
    pub fn handle_socket_open(&mut self, now: u64, socket: u32) {
        let Some(current) = self.transport.current(socket) else {
            return;
        };
        current.opened = true;
        self.session.handle_transport_open(now);
        self.pump(now);
    }

    /// One binary message from `socket`: part of a packet, one packet or several
    /// (MQTT-6.0.0-2 allows any split).
    pub fn handle_socket_data(&mut self, now: u64, socket: u32, bytes: &[u8]) {
        if self.transport.current(socket).is_none() {
            return;
        }
        self.transport.decoder.feed(bytes);
        loop {
            match self.transport.decoder.next_packet() {
                Ok(Some(packet)) => {
                    if let Packet::Disconnect(disconnect) = &packet {
                        // For the redirect its `Lost` event may ask for (see `redirect`).
                        self.redirects.disconnect_reference =
                            disconnect.properties.server_reference.clone();
                    }
                    self.session.handle_packet(now, packet)
                }
                Ok(None) => break,
                Err(error) => {
                    let code = error.reason_code();
                    let message = format!("malformed packet from the broker: {error}");
                    self.error(ClientError::reason(code, message));
                    self.decode_error_reported = true;
                    self.session.handle_decode_error(now, code);
                    break;
                }
            }
        }
        self.pump(now);
        self.decode_error_reported = false;
    }

    /// `socket` closed by itself, with the WebSocket close `code` (1006: it failed or dropped
    /// without a closing handshake) and `reason`.
    pub fn handle_socket_closed(&mut self, now: u64, socket: u32, code: u16, reason: &str) {
        let Some(current) = self.transport.current(socket) else {
            return;
        };
        let (opened, url_index) = (current.opened, current.url_index);
        let opened_url = current.url.clone();
        if !self.supervisor.is_up() && code != 1000 {
            if code == 1006 && !opened {
                self.handshake_failed(url_index, socket, opened_url);
            } else {
                let message = format!(
                    "the WebSocket to {} closed before the broker accepted the connection (code {code}{}{reason})",
                    self.opened_url(url_index),
                    if reason.is_empty() { "" } else { ": " }
                );
                self.attempt_failed(ClientError::new("CONNECTION_FAILED", message));
            }
        }
        self.socket_gone(now, socket);
        self.pump(now);
    }

    /// The host could not even create `socket` (the browser refused the URL: bad scheme,
    /// blocked port); `detail` says why.
    pub fn handle_socket_error(&mut self, now: u64, socket: u32, detail: &str) {
        let Some(url_index) = self.transport.current(socket).map(|c| c.url_index) else {
            return;
        };
        let message = format!("cannot open {}: {detail}", self.opened_url(url_index));
        self.attempt_failed(ClientError::new("CONNECTION_FAILED", message));
        self.transport.detach();
        self.supervisor.handle_closed(now);
        self.pump(now);
    }

    /// The server answered `socket`'s handshake with another subprotocol (`protocol`) or none:
    /// not an MQTT endpoint (MQTT-6.0.0-4). The host closed it.
    pub fn handle_wrong_subprotocol(&mut self, now: u64, socket: u32, protocol: &str) {
        if self.transport.current(socket).is_none() {
            return;
        }
        self.socket_gone(now, socket);
        let message = format!("the server did not agree to the mqtt subprotocol (it chose \"{protocol}\"): not an MQTT WebSocket endpoint");
        self.attempt_failed(ClientError::new("WRONG_SUBPROTOCOL", message));
        self.pump(now);
    }

    /// A text frame on `socket`: MQTT over WebSocket is binary only (MQTT-6.0.0-1). The host
    /// closed it.
    pub fn handle_text_frame(&mut self, now: u64, socket: u32) {
        if self.transport.current(socket).is_none() {
            return;
        }
        self.socket_gone(now, socket);
        self.error(ClientError::new(
            "PROTOCOL_ERROR",
            "the server sent a text frame; MQTT over WebSocket is binary only",
        ));
        self.pump(now);
    }

    /// The probe `id` answered (None: it could not even start).
    pub fn handle_probe_answer(&mut self, now: u64, id: u32, answer: Option<ProbeAnswer>) {
        if self.ending == super::Ending::Ended {
            return;
        }
        let Some((probe, verdict)) = self.diagnosis.learn(id, answer) else {
            return;
        };
        self.report_handshake(probe.url_index, verdict);
        // Unless the connect timeout already moved the supervisor on to another socket.
        let unchanged =
            self.transport.last_id() == probe.socket && self.transport.url_index().is_none();
        if unchanged {
            self.supervisor.handle_closed(now);
        }
        self.pump(now);
    }

    /// The socket closed by itself. Once it was open the session reports the loss (its `Lost`
    /// event tells the supervisor); one that never opened is a failed attempt, which only the
    /// supervisor hears of, so that the next attempt follows the backoff rather than waiting
    /// out the connect timeout. While a probe explains its failure, the supervisor hears of it
    /// once the verdict is out, so that the error saying why comes first.
    fn socket_gone(&mut self, now: u64, socket: u32) {
        let opened = self.transport.current(socket).is_some_and(|c| c.opened);
        self.transport.detach();
        self.session.handle_transport_closed(now);
        if !opened && !self.diagnosis.holds(socket) {
            self.supervisor.handle_closed(now);
        }
    }

    /// Reports a failed handshake with `urls[url_index]`, now or once a probe (of the URL the
    /// socket opened, which an attempt's setup may have computed) has a verdict.
    fn handshake_failed(&mut self, url_index: usize, socket: u32, opened_url: String) {
        match self.diagnosis.failed(url_index, socket) {
            Ok(verdict) => self.report_handshake(url_index, verdict),
            Err(probe) => {
                self.probe = Some(ProbeRequest {
                    id: probe.id,
                    url: opened_url,
                })
            }
        }
    }

    fn report_handshake(&mut self, url_index: usize, verdict: Verdict) {
        // Connected by the time the probe answered: that failure was a passing one.
        let verdict = if self.supervisor.is_up() {
            Verdict::Unknown
        } else {
            verdict
        };
        let report = diagnosis::report(verdict, self.opened_url(url_index));
        self.attempt_failed(report);
    }

    /// The URL of the socket opened last for `urls[url_index]` (a redirect's target, maybe).
    fn opened_url(&self, url_index: usize) -> &str {
        self.redirects.current().unwrap_or(&self.urls[url_index])
    }

    /// The broker answered with `code` (and `reference`): true when it is a redirect the
    /// client follows (see `redirect`); one it does not follow is reported, and the answer
    /// is then handled as any other.
    fn redirected(&mut self, now: u64, code: u8, reference: Option<&str>) -> bool {
        let index = self.supervisor.url_index();
        match self.redirects.decide(index, code, reference) {
            None => false,
            Some(Err(why)) => {
                let error = ClientError::new("REDIRECT_NOT_FOLLOWED", why);
                self.error(error.with_reason_code(Some(code)));
                false
            }
            Some(Ok(redirect)) => {
                self.events.push_back(ClientEvent::Redirect(redirect));
                self.close_socket(now);
                self.supervisor.handle_redirect(now);
                true
            }
        }
    }

    /// An attempt to connect failed: reported now, and kept for the final error if the client
    /// gives up.
    pub(super) fn attempt_failed(&mut self, error: ClientError) {
        self.last_failure = Some(error.clone());
        self.error(error);
    }

    /// The error for an application that gave up waiting for the first connection: the last
    /// failure's code and detail, or CONNECT_TIMEOUT when no attempt failed yet.
    fn first_connect_error(&mut self, what: &str) -> ClientError {
        match self.last_failure.take() {
            Some(why) => ClientError {
                message: format!("{what}: {}", why.message),
                reason_code: None,
                fatal: false,
                ..why
            },
            None => ClientError::new(
                "CONNECT_TIMEOUT",
                format!("{what}: no attempt got an answer yet"),
            ),
        }
    }

    pub(super) fn error(&mut self, error: ClientError) {
        self.events.push_back(ClientEvent::Error(error));
    }

    /// Drops the transport (its handlers go with it, so no close event follows).
    fn close_socket(&mut self, now: u64) {
        if self.transport.detach() {
            self.session.handle_transport_closed(now);
        }
    }

    pub(super) fn on_link_action(&mut self, now: u64, action: LinkAction) {
        match action {
            LinkAction::Open { url_index } => {
                self.close_socket(now);
                self.start_attempt(url_index);
            }
            LinkAction::Close => {
                self.close_socket(now);
                self.preparation.cancel();
            }
        }
    }

    pub(super) fn on_link_event(&mut self, event: LinkEvent) {
        match event {
            LinkEvent::Reconnecting {
                attempt,
                delay_ms,
                url_index,
            } => self.events.push_back(ClientEvent::Reconnecting {
                attempt,
                delay_ms,
                url: (self.redirects.url(url_index, &self.urls[url_index])).to_string(),
            }),
            LinkEvent::Offline => self.events.push_back(ClientEvent::Offline),
            LinkEvent::AttemptTimedOut { url_index } => {
                let message = format!(
                    "no answer from {} within the connect timeout ({} ms)",
                    self.opened_url(url_index),
                    self.connect_timeout_ms
                );
                self.attempt_failed(ClientError::new("CONNECT_TIMEOUT", message));
            }
            LinkEvent::ConnectOverdue => {
                let what = if self.supervisor.is_offline() {
                    "not connected within the connect timeout, and the browser is offline"
                } else {
                    "not connected within the connect timeout"
                };
                let what = format!("{what} ({} ms)", self.connect_timeout_ms);
                let error = self.first_connect_error(&what);
                self.events.push_back(ClientEvent::ConnectOverdue(error));
            }
            LinkEvent::Stopped {
                reason: StopReason::ReconnectDisabled,
            } => {
                let error = if self.ever_connected {
                    let message = "the connection was lost and reconnect is off";
                    ClientError::new("CONNECTION_LOST", message)
                } else {
                    self.first_connect_error("could not connect, and reconnect is off")
                };
                self.error(error.fatal());
            }
            LinkEvent::Stopped {
                reason: StopReason::GaveUp,
            } => {
                let attempts = self.supervisor.attempts();
                let why = match self.last_failure.take() {
                    Some(failure) => {
                        format!("; the last failure: {}: {}", failure.code, failure.message)
                    }
                    None => String::new(),
                };
                let message = format!("gave up after {attempts} reconnect attempts in a row failed (reconnect.maxAttempts){why}; what is stored stays for the next connect()");
                self.error(ClientError::new("RECONNECT_GAVE_UP", message).fatal());
            }
            LinkEvent::Stopped { .. } => {}
        }
    }

    pub(super) fn on_session_event(&mut self, now: u64, event: Event) {
        match event {
            Event::Connected {
                session_present,
                properties,
            } => {
                self.supervisor.handle_connected(now);
                if let Some(index) = self.transport.url_index() {
                    self.diagnosis.connected(index);
                }
                self.ever_connected = true;
                self.last_failure = None;
                self.redirects.connected();
                self.events.push_back(ClientEvent::Connected {
                    session_present,
                    properties,
                });
            }
            Event::Refused {
                reason_code,
                permanent,
                properties,
            } => {
                let reference = properties.server_reference.as_deref();
                if self.redirected(now, reason_code, reference) {
                    return;
                }
                self.close_socket(now);
                self.supervisor.handle_refused(now, permanent);
                let message = format!(
                    "the broker refused the connection: {}",
                    reason::name(reason_code)
                );
                let mut error = ClientError::reason(reason_code, message);
                error.fatal = permanent;
                self.attempt_failed(error);
            }
            Event::Lost { reason } => {
                // The session already knows; this only drops the transport and its buffer.
                self.close_socket(now);
                let reference = self.redirects.disconnect_reference.take();
                let redirected = match reason {
                    LostReason::ServerDisconnect(code) => {
                        self.redirected(now, code, reference.as_deref())
                    }
                    _ => false,
                };
                if reason == LostReason::ServerDisconnect(reason::SESSION_TAKEN_OVER) {
                    self.taken_over();
                } else if !matches!(reason, LostReason::Requested | LostReason::Reconnect)
                    && !redirected
                {
                    self.supervisor.handle_closed(now);
                }
                if let LostReason::ProtocolError(code) = reason {
                    // The broker broke the protocol: the application hears why, not only close
                    // (once: a packet that did not decode was reported with its detail).
                    if !self.decode_error_reported {
                        let message = format!("protocol error: {}", reason::name(code));
                        self.error(ClientError::reason(code, message));
                    }
                }
                self.events.push_back(ClientEvent::Closed { reason });
            }
            Event::Message {
                publish,
                routes,
                primary,
            } => {
                if primary {
                    self.message_rate.record(now);
                    if let Some(sent) = super::stamp::stamped_at(&publish.properties) {
                        let lag = self.wall(now).saturating_sub(sent);
                        self.delivery_lag.record(now, lag);
                    }
                }
                self.events.push_back(ClientEvent::Message {
                    publish,
                    routes,
                    primary,
                });
            }
            Event::Handle {
                delivery,
                attempt,
                publish,
                routes,
                primary,
            } => {
                if primary && attempt == 1 {
                    self.message_rate.record(now);
                }
                self.events.push_back(ClientEvent::Handle {
                    delivery,
                    attempt,
                    publish,
                    routes,
                    primary,
                });
            }
            Event::DeadLetter {
                delivery,
                publish,
                error,
                attempts,
            } => self.events.push_back(ClientEvent::DeadLetter {
                delivery,
                publish,
                error,
                attempts,
            }),
            Event::Published { token, reason_code } => {
                self.done(token, Completion::Published { reason_code })
            }
            Event::PublishFailed { token, reason_code } => {
                // The broker's refusal, by its reason name (0x97 is QUOTA_EXCEEDED).
                let message = format!("publish failed: {}", reason::name(reason_code));
                self.failed(token, ClientError::reason(reason_code, message));
            }
            Event::CommandFailed { token, error } => self.failed(token, error.into()),
            Event::PublishDropped { token } => self.failed(
                token,
                ClientError::new(
                    "QUEUE_OVERFLOW",
                    "the queue was full: this QoS 0 message was dropped unsent ('drop-oldest-qos0')",
                ),
            ),
            Event::PublishExpired { token } => self.failed(
                token,
                ClientError::new(
                    "MESSAGE_EXPIRED",
                    "the message expired before it could be sent",
                ),
            ),
            Event::Subscribed {
                token,
                reason_codes,
            } => self.done(token, Completion::Subscribed { reason_codes }),
            Event::Unsubscribed {
                token,
                reason_codes,
            } => self.done(token, Completion::Unsubscribed { reason_codes }),
            Event::Backpressure { high } => {
                let metrics = self.session.metrics();
                self.events.push_back(ClientEvent::Backpressure {
                    high,
                    queued: metrics.queued,
                    queued_bytes: metrics.queued_bytes,
                });
            }
            Event::DuplicateDropped { message_id, topic } => self
                .events
                .push_back(ClientEvent::Duplicate { message_id, topic }),
            Event::CorruptRecord { key } => self.corrupt_record(&key),
            Event::Response { token, publish } => self.done(token, Completion::Response(Box::new(publish))),
            Event::RequestFailed { token, error } => {
                let error = ClientError::new(error.code(), error.to_string())
                    .with_reason_code(error.reason_code());
                self.failed(token, error);
            }
            Event::AuthChallenge {
                exchange,
                method,
                data,
                reason_code,
                properties,
            } => self.events.push_back(ClientEvent::AuthChallenge {
                exchange,
                method,
                data,
                reason_code,
                properties,
            }),
            Event::Reauthenticated { properties } => self
                .events
                .push_back(ClientEvent::Reauthenticated { properties }),
            Event::AuthError { error } => self.error(
                ClientError::new(error.code(), error.to_string())
                    .with_reason_code(Some(codec::reason::PROTOCOL_ERROR)),
            ),
        }
    }

    /// Another client (another browser or device) with our client id took the session over
    /// (DISCONNECT 0x8E, MQTT-3.1.4-3): reconnecting would take it back and start a loop, so the
    /// client stops and says why.
    fn taken_over(&mut self) {
        self.supervisor.stop(StopReason::PermanentRefusal);
        let message = "the broker handed this session to another client with the same client id (Session taken over); the client stopped rather than take it back";
        self.error(ClientError::reason(reason::SESSION_TAKEN_OVER, message).fatal());
    }

    fn done(&mut self, token: u32, result: Completion) {
        self.events.push_back(ClientEvent::Done { token, result });
    }

    fn failed(&mut self, token: u32, error: ClientError) {
        self.events.push_back(ClientEvent::Failed { token, error });
    }
}
