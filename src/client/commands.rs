//! The application's commands, and `end()`. Each command runs on the session, then moves
//! whatever it made ready; a refusal comes back at once, a result later as a `Done` or
//! `Failed` event with the command's token.

use bytes::Bytes;

use crate::client::link::StopReason;
use crate::codec::{Properties, Publish, QoS, SubscriptionOptions};
use crate::session::{AckMode, CommandError, Goodbye, PublishRequest, RequestSpec, Session, Token};

use super::event::ClientEvent;
use super::{Client, Ending, END_STORE_GRACE_MS};

/// How `end()` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndOptions {
    /// Close at once, without DISCONNECT: the broker publishes the will.
    pub force: bool,
    /// How long a graceful end waits for in-flight and queued messages.
    pub timeout_ms: u32,
    /// A graceful end that asks the broker to publish the will all the same (MQTT 5).
    pub publish_will: bool,
}

impl Client {
    fn command<T>(
        &mut self,
        now: u64,
        f: impl FnOnce(&mut Session, u64) -> Result<T, CommandError>,
    ) -> Result<T, CommandError> {
        if self.ending != Ending::Running {
            return Err(CommandError::Ended);
        }
        let outcome = f(&mut self.session, now);
        self.pump(now);
        outcome
    }

    /// The application's `reconnect()`: the current connection, if any, ends with DISCONNECT
    /// (the broker discards the will: the client is coming back), and an attempt starts now,
    /// skipping any backoff wait, even after the client stopped trying (given up, refused). The
    /// session, its queue and subscriptions stay. After `end()`: `Ended`.
    pub fn reconnect(&mut self, now: u64) -> Result<(), CommandError> {
        // The old connection is gone (DISCONNECT out, socket closed) before the new one opens.
        self.command(now, |s, now| {
            s.disconnect_to_reconnect(now);
            Ok(())
        })?;
        self.supervisor.reconnect_now(now);
        self.pump(now);
        Ok(())
    }

    pub fn publish(&mut self, now: u64, request: PublishRequest) -> Result<Token, CommandError> {
        self.check_journal(request.qos)?;
        self.command(now, |s, now| s.publish(now, request))
    }

    /// Publishes with a stamp of the wall clock (see `stamp`), for the receivers' delivery lag.
    /// MQTT 5 only: the stamp is a user property.
    pub fn publish_stamped(
        &mut self,
        now: u64,
        mut request: PublishRequest,
    ) -> Result<Token, CommandError> {
        if !self.session.protocol().is_v5() {
            return Err(CommandError::RequiresMqtt5);
        }
        super::stamp::stamp(&mut request.properties, self.wall(now));
        self.publish(now, request)
    }

    /// A QoS 1/2 message is refused while the journal is full: accepted, it would not be safe
    /// from a reload until the store commits it (see `journal`).
    fn check_journal(&self, qos: QoS) -> Result<(), CommandError> {
        if qos != QoS::AtMostOnce && self.journal.is_full() {
            return Err(CommandError::JournalFull);
        }
        Ok(())
    }

    pub fn subscribe(
        &mut self,
        now: u64,
        filters: Vec<(String, SubscriptionOptions)>,
        properties: Properties,
    ) -> Result<Token, CommandError> {
        self.command(now, |s, now| s.subscribe(now, filters, properties))
    }

    pub fn unsubscribe(
        &mut self,
        now: u64,
        filters: Vec<String>,
        properties: Properties,
    ) -> Result<Token, CommandError> {
        self.command(now, |s, now| s.unsubscribe(now, filters, properties))
    }

    /// Publishes a request (MQTT 5); its reply settles `token` (see `Session::request`).
    pub fn request(&mut self, now: u64, spec: RequestSpec) -> Result<Token, CommandError> {
        self.check_journal(spec.qos)?;
        self.command(now, |s, now| s.request(now, spec))
    }

    /// Publishes `reply` as the response to the delivered message `request`.
    pub fn respond(
        &mut self,
        now: u64,
        request: &Publish,
        reply: PublishRequest,
    ) -> Result<Token, CommandError> {
        self.check_journal(reply.qos)?;
        self.command(now, |s, now| s.respond(now, request, reply))
    }

    /// Answers the authentication challenge `exchange` with `data`.
    pub fn authenticate(
        &mut self,
        now: u64,
        exchange: u32,
        data: Option<Bytes>,
    ) -> Result<(), CommandError> {
        self.command(now, |s, now| s.authenticate(now, exchange, data))
    }

    /// Gives up an authentication exchange the application cannot answer.
    pub fn abort_authentication(&mut self, now: u64) {
        let _ = self.command(now, |s, now| {
            s.abort_authentication(now);
            Ok(())
        });
    }

    /// Starts a re-authentication with `data`; a `Reauthenticated` event settles it.
    pub fn reauthenticate(&mut self, now: u64, data: Option<Bytes>) -> Result<(), CommandError> {
        self.command(now, |s, now| s.reauthenticate(now, data))
    }

    /// Registers a handler route for `filter` (with its own acknowledgement mode, or the
    /// client's); messages report the routes they match.
    pub fn add_route(&mut self, filter: &str, ack: Option<AckMode>) -> Result<u32, CommandError> {
        self.session.add_route(filter, ack)
    }

    /// The handlers of `delivery` (a `Handle` event) settled: Ok, or failed with `error`.
    pub fn handle_handler_done(&mut self, now: u64, delivery: u64, outcome: Result<(), String>) {
        self.session.handle_handler_done(now, delivery, outcome);
        self.pump(now);
    }

    pub fn remove_route(&mut self, id: u32) {
        self.session.remove_route(id);
    }

    /// Ends the client. A graceful end first waits (up to `timeout_ms`) for in-flight and
    /// queued messages to be acknowledged while connected, then says goodbye with DISCONNECT
    /// ahead of closing the socket (see `Goodbye`); `force` closes at once without one. Either
    /// way it then waits for the last store job (up to `timeout_ms` and a grace period).
    /// `Ended` says when all is done.
    pub fn end(&mut self, now: u64, options: EndOptions) {
        if self.ending != Ending::Running {
            return;
        }
        let deadline = now + u64::from(options.timeout_ms);
        self.goodbye = match (options.force, options.publish_will) {
            (true, _) => Goodbye::None,
            (false, true) => Goodbye::DisconnectWithWill,
            (false, false) => Goodbye::Disconnect,
        };
        self.ending = if options.force {
            Ending::Closing {
                deadline: deadline + END_STORE_GRACE_MS,
            }
        } else {
            Ending::Draining { deadline }
        };
        if options.force {
            self.disconnect(now);
        }
        self.pump(now);
    }

    fn disconnect(&mut self, now: u64) {
        // The DISCONNECT is encoded before the supervisor's close is carried out, so that it
        // leaves on the socket ahead of the close (#19.1).
        self.session.disconnect(now, self.goodbye);
        self.encode_packets(now);
        self.supervisor.stop(StopReason::Ended);
        self.diagnosis.stop();
        self.probe = None;
    }

    /// Moves `end()` on when its condition is met; true when it did.
    pub(super) fn check_end(&mut self, now: u64) -> bool {
        match self.ending {
            Ending::Draining { deadline } => {
                let metrics = self.session.metrics();
                // Handlers still running owe their acknowledgements, and messages received but
                // waiting for their store commit owe a delivery: they get the time too.
                let handlers = metrics.handlers_running + metrics.handlers_waiting;
                let owed = handlers + self.session.gated();
                let busy = metrics.inflight + metrics.queued + owed > 0;
                if busy && self.session.is_connected() && now < deadline {
                    return false;
                }
                self.ending = Ending::Closing {
                    deadline: deadline + END_STORE_GRACE_MS,
                };
                self.disconnect(now);
                true
            }
            Ending::Closing { deadline } => {
                if self.sync.is_busy() && now < deadline {
                    return false;
                }
                self.transport.detach();
                self.ending = Ending::Ended;
                self.events.push_back(ClientEvent::Ended);
                true
            }
            Ending::Running | Ending::Ended => false,
        }
    }
}
