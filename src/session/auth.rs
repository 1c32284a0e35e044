//! Enhanced authentication (MQTT 5, section 4.12): an Authentication Method (and data) in
//! CONNECT, challenges from the server in AUTH packets (reason 0x18) answered by the
//! application, success in CONNACK; re-authentication on a live connection started by the
//! client (AUTH 0x19) and ended by the server's AUTH 0x00 (4.12.1).
//!
//! The server is held to the rules: no AUTH, and no Authentication Method in CONNACK, unless
//! the CONNECT had one (MQTT-4.12.0-6); the same method in every AUTH and in a successful
//! CONNACK (MQTT-4.12.0-5); only the reason codes it may send at that point (MQTT-3.15.2-1:
//! 0x18 while an exchange runs, 0x00 to end a re-authentication). A breach is reported as an
//! [`AuthError`] and the connection ends with DISCONNECT 0x82 (Protocol Error, 4.13).
//!
//! mosquitto 2.0 has no enhanced-authentication backend without a plugin, so the flows are
//! proven against the scripted broker of tests/session_auth.rs.

use bytes::Bytes;

use super::*;
use crate::codec::Auth;

/// How the server broke the enhanced-authentication rules.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// AUTH from a server the client offered no Authentication Method (MQTT-4.12.0-6).
    NotRequested,
    /// A CONNACK with an Authentication Method the client did not offer (MQTT-4.12.0-6).
    MethodNotRequested { got: String },
    /// An AUTH or successful CONNACK whose Authentication Method is not the CONNECT's
    /// (MQTT-4.12.0-5).
    MethodMismatch {
        expected: String,
        got: Option<String>,
    },
    /// An AUTH reason code the server may not send now (MQTT-3.15.2-1, 4.12, 4.12.1).
    UnexpectedReasonCode(u8),
}

impl AuthError {
    /// A stable code for the application.
    pub fn code(&self) -> &'static str {
        "AUTHENTICATION_PROTOCOL_ERROR"
    }
}

impl core::fmt::Display for AuthError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AuthError::NotRequested => f.write_str(
                "the broker sent AUTH though the client offered no authentication method",
            ),
            AuthError::MethodNotRequested { got } => write!(
                f,
                "the broker named authentication method \"{got}\" though the client offered none"
            ),
            AuthError::MethodMismatch {
                expected,
                got: Some(got),
            } => write!(
                f,
                "the broker used authentication method \"{got}\", not the client's \"{expected}\""
            ),
            AuthError::MethodMismatch {
                expected,
                got: None,
            } => write!(
                f,
                "the broker named no authentication method, not the client's \"{expected}\""
            ),
            AuthError::UnexpectedReasonCode(code) => write!(
                f,
                "the broker sent AUTH with reason code 0x{code:02X} ({}) where it may not",
                reason::name(*code)
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Phase {
    /// No exchange: none configured, or the last one finished.
    #[default]
    Idle,
    /// CONNECT carried a method; CONNACK ends the exchange.
    Connecting,
    /// AUTH 0x19 sent; the server's AUTH 0x00 ends it.
    Reauthenticating,
}

#[derive(Debug, Default)]
pub(crate) struct AuthState {
    phase: Phase,
    /// The challenge waiting for the application's answer, by number.
    awaiting: Option<u32>,
    last_challenge: u32,
}

impl Session {
    fn auth_method(&self) -> Option<&String> {
        self.config
            .connect_properties
            .authentication_method
            .as_ref()
            .filter(|_| self.config.protocol.is_v5())
    }

    /// A new connection: the CONNECT starts an exchange when it carries a method.
    pub(super) fn auth_connecting(&mut self) {
        self.auth = AuthState {
            phase: if self.auth_method().is_some() {
                Phase::Connecting
            } else {
                Phase::Idle
            },
            awaiting: None,
            last_challenge: self.auth.last_challenge,
        };
    }

    /// The connection is over: no exchange runs, no answer to an old challenge goes out.
    pub(super) fn auth_over(&mut self) {
        self.auth.phase = Phase::Idle;
        self.auth.awaiting = None;
    }

    /// Checks a successful CONNACK's Authentication Method; false after a protocol error.
    pub(super) fn auth_connack_ok(&mut self, now: u64, properties: &Properties) -> bool {
        let got = properties.authentication_method.clone();
        let error = match (self.auth_method(), got) {
            (None, None) => None,
            (None, Some(got)) => Some(AuthError::MethodNotRequested { got }),
            (Some(expected), got) if got.as_ref() != Some(expected) => {
                Some(AuthError::MethodMismatch {
                    expected: expected.clone(),
                    got,
                })
            }
            _ => None,
        };
        self.auth.phase = Phase::Idle;
        self.auth.awaiting = None;
        match error {
            Some(error) => {
                self.auth_violation(now, error);
                false
            }
            None => true,
        }
    }

    /// AUTH from the server.
    pub(super) fn handle_auth(&mut self, now: u64, auth: Auth) {
        let Some(method) = self.auth_method().cloned() else {
            return self.auth_violation(now, AuthError::NotRequested);
        };
        if auth.properties.authentication_method.as_ref() != Some(&method) {
            let got = auth.properties.authentication_method;
            let error = AuthError::MethodMismatch {
                expected: method,
                got,
            };
            return self.auth_violation(now, error);
        }
        match (auth.reason_code, self.auth.phase) {
            // MQTT-4.12.0-2: the server continues an exchange with 0x18.
            (reason::CONTINUE_AUTHENTICATION, Phase::Connecting | Phase::Reauthenticating) => {
                self.auth.last_challenge = self.auth.last_challenge.wrapping_add(1);
                let exchange = self.auth.last_challenge;
                self.auth.awaiting = Some(exchange);
                self.events.push_back(Event::AuthChallenge {
                    exchange,
                    method,
                    data: auth.properties.authentication_data.clone(),
                    reason_code: auth.reason_code,
                    properties: auth.properties,
                });
            }
            // 4.12.1: AUTH 0x00 ends a re-authentication; a first one ends with CONNACK.
            (reason::SUCCESS, Phase::Reauthenticating) => {
                self.auth.phase = Phase::Idle;
                self.auth.awaiting = None;
                self.events.push_back(Event::Reauthenticated {
                    properties: auth.properties,
                });
            }
            (code, _) => self.auth_violation(now, AuthError::UnexpectedReasonCode(code)),
        }
    }

    fn auth_violation(&mut self, now: u64, error: AuthError) {
        self.events.push_back(Event::AuthError { error });
        self.protocol_error(now, reason::PROTOCOL_ERROR);
    }

    /// Answers the server's challenge number `exchange` (from [`Event::AuthChallenge`]) with
    /// AUTH 0x18 (MQTT-4.12.0-3), the same method (MQTT-4.12.0-5) and `data`. An answer to a
    /// challenge that is no longer open (answered, or of an earlier connection) is refused.
    pub fn authenticate(
        &mut self,
        now: u64,
        exchange: u32,
        data: Option<Bytes>,
    ) -> Result<(), CommandError> {
        if self.auth.awaiting != Some(exchange) || self.link == Link::Down {
            return Err(CommandError::NoAuthChallenge);
        }
        check_auth_data(&data)?;
        self.check_auth_size(&data)?;
        self.auth.awaiting = None;
        self.send_auth(now, reason::CONTINUE_AUTHENTICATION, data);
        Ok(())
    }

    /// Starts a re-authentication (4.12.1): AUTH 0x19 with the CONNECT's method
    /// (MQTT-4.12.1-1) and `data`. Settled by [`Event::Reauthenticated`], or by the server's
    /// DISCONNECT when it fails (MQTT-4.12.1-2).
    pub fn reauthenticate(&mut self, now: u64, data: Option<Bytes>) -> Result<(), CommandError> {
        if self.auth_method().is_none() {
            // MQTT-4.12.0-7: no AUTH without a method in CONNECT.
            return Err(CommandError::NoAuthMethod);
        }
        if self.link != Link::Up {
            return Err(CommandError::NotConnected);
        }
        if self.auth.phase != Phase::Idle {
            return Err(CommandError::AuthInProgress);
        }
        check_auth_data(&data)?;
        self.check_auth_size(&data)?;
        self.auth.phase = Phase::Reauthenticating;
        self.send_auth(now, reason::RE_AUTHENTICATE, data);
        Ok(())
    }

    /// The application cannot answer a challenge: the connection ends with DISCONNECT 0x80
    /// (unspecified error; a client may send DISCONNECT before CONNACK, MQTT-3.1.2-30).
    pub fn abort_authentication(&mut self, now: u64) {
        if self.link == Link::Down || self.auth.phase == Phase::Idle {
            return;
        }
        self.send(
            now,
            Packet::Disconnect(Disconnect {
                reason_code: reason::UNSPECIFIED_ERROR,
                properties: Properties::default(),
            }),
        );
        self.connection_over(LostReason::AuthenticationAbandoned);
    }

    fn send_auth(&mut self, now: u64, reason_code: u8, data: Option<Bytes>) {
        let properties = Properties {
            authentication_method: self.auth_method().cloned(),
            authentication_data: data,
            ..Default::default()
        };
        self.send(
            now,
            Packet::Auth(Auth {
                reason_code,
                properties,
            }),
        );
    }
}

/// Authentication Data is binary data (3.15.2.2.3): refused when given if it cannot be encoded.
fn check_auth_data(data: &Option<Bytes>) -> Result<(), CommandError> {
    match data {
        Some(data) => crate::codec::check_binary(data).map_err(CommandError::Encode),
        None => Ok(()),
    }
}

impl Session {
    /// The AUTH that would carry `data`, refused when the connection's Maximum Packet Size
    /// does not allow it (MQTT-3.2.2-15).
    fn check_auth_size(&self, data: &Option<Bytes>) -> Result<(), CommandError> {
        let packet = Packet::Auth(Auth {
            reason_code: reason::CONTINUE_AUTHENTICATION,
            properties: Properties {
                authentication_method: self.auth_method().cloned(),
                authentication_data: data.clone(),
                ..Default::default()
            },
        });
        match self.server.size_refusal(&packet, self.config.protocol) {
            Some(_) => Err(CommandError::PacketTooLarge {
                size: crate::codec::encoded_len(&packet, self.config.protocol),
                max: self.server.maximum_packet_size.unwrap_or(0),
            }),
            None => Ok(()),
        }
    }
}
