//! Enhanced authentication (MQTT 5 section 4.12) against a scripted broker: mosquitto 2.0 has no
//! enhanced-authentication backend without a plugin, so these flows are the proof.
#![cfg(not(target_arch = "wasm32"))] // host-only

#[path = "common/session_harness.rs"]
mod harness;

use bytes::Bytes;
use harness::*;
use wasmqtt::codec::{reason, Auth, ConnAck, Disconnect, Packet, Properties, ProtocolVersion, QoS};
use wasmqtt::session::{AuthError, CommandError, Event, LostReason};

const METHOD: &str = "SCRAM-SHA-256";

fn with_method() -> Harness {
    let mut config = config(ProtocolVersion::V5);
    config.connect_properties.authentication_method = Some(METHOD.into());
    config.connect_properties.authentication_data = Some(Bytes::from_static(b"client-first"));
    Harness::new(config)
}

fn auth(reason_code: u8, method: Option<&str>, data: &'static [u8]) -> Packet {
    Packet::Auth(Auth {
        reason_code,
        properties: Properties {
            authentication_method: method.map(str::to_string),
            authentication_data: Some(Bytes::from_static(data)),
            ..Default::default()
        },
    })
}

fn connack(method: Option<&str>) -> Packet {
    Packet::ConnAck(ConnAck {
        session_present: false,
        code: 0,
        properties: Properties {
            authentication_method: method.map(str::to_string),
            ..Default::default()
        },
    })
}

/// The one challenge in `events`: (exchange, data).
fn challenge(events: &[Event]) -> (u32, Option<Bytes>) {
    match events {
        [Event::AuthChallenge {
            exchange,
            method,
            data,
            reason_code,
            ..
        }] => {
            assert_eq!((method.as_str(), *reason_code), (METHOD, 0x18));
            (*exchange, data.clone())
        }
        other => panic!("expected one challenge, got {other:?}"),
    }
}

/// What a protocol violation must look like: a typed error, DISCONNECT 0x82, the link lost.
fn assert_violation(h: &mut Harness, expected: AuthError) {
    assert_eq!(
        h.sent(),
        [Packet::Disconnect(Disconnect {
            reason_code: reason::PROTOCOL_ERROR,
            properties: Properties::default(),
        })]
    );
    assert_eq!(
        h.events(),
        [
            Event::AuthError { error: expected },
            Event::Lost {
                reason: LostReason::ProtocolError(reason::PROTOCOL_ERROR)
            }
        ]
    );
    assert!(!h.session.is_connected());
}

#[test]
fn challenges_are_answered_with_the_same_method_until_the_connack() {
    let mut h = with_method();
    h.publish("queued", "x", QoS::AtLeastOnce);
    h.session.handle_transport_open(h.now);
    let Some(Packet::Connect(connect)) = h.sent().pop() else {
        panic!()
    };
    assert_eq!(
        connect.properties.authentication_method.as_deref(),
        Some(METHOD)
    );
    assert_eq!(
        connect.properties.authentication_data.as_deref(),
        Some(&b"client-first"[..])
    );
    // Two rounds: MQTT-4.12.0-2 (server AUTH 0x18), MQTT-4.12.0-3 and -5 (the answer is AUTH
    // 0x18 with the same method).
    let rounds: [(&'static [u8], &'static [u8]); 2] =
        [(b"server-first", b"client-final"), (b"server-final", b"ok")];
    for (server, client) in rounds {
        h.receive(auth(0x18, Some(METHOD), server));
        let (exchange, data) = challenge(&h.events());
        assert_eq!(data.as_deref(), Some(server));
        h.session
            .authenticate(h.now, exchange, Some(Bytes::copy_from_slice(client)))
            .unwrap();
        assert_eq!(
            h.sent(),
            [Packet::Auth(Auth {
                reason_code: 0x18,
                properties: Properties {
                    authentication_method: Some(METHOD.into()),
                    authentication_data: Some(Bytes::copy_from_slice(client)),
                    ..Default::default()
                },
            })],
            "MQTT-3.1.2-30: nothing but AUTH before CONNACK"
        );
    }
    h.receive(connack(Some(METHOD)));
    assert!(matches!(h.events()[..], [Event::Connected { .. }]));
    assert!(matches!(&h.sent()[..], [Packet::Publish(p)] if p.topic == "queued"));
}

#[test]
fn an_answer_to_a_closed_challenge_is_refused() {
    let mut h = with_method();
    h.session.handle_transport_open(h.now);
    h.sent();
    h.receive(auth(0x18, Some(METHOD), b"c"));
    let (exchange, _) = challenge(&h.events());
    h.session.authenticate(h.now, exchange, None).unwrap();
    assert_eq!(
        h.session.authenticate(h.now, exchange, None),
        Err(CommandError::NoAuthChallenge),
        "answered already"
    );
    h.receive(auth(0x18, Some(METHOD), b"c2"));
    let (late, _) = challenge(&h.events());
    h.session.handle_transport_closed(h.now);
    h.session.handle_transport_open(h.now);
    h.sent();
    assert_eq!(
        h.session
            .authenticate(h.now, late, Some(Bytes::from_static(b"x"))),
        Err(CommandError::NoAuthChallenge),
        "a challenge of the last connection"
    );
    assert!(h.sent().is_empty());
}

#[test]
fn reauthentication_runs_on_the_live_connection() {
    // 4.12.1: the client starts it with AUTH 0x19 and the same method (MQTT-4.12.1-1); other
    // traffic goes on meanwhile; the server's AUTH 0x00 ends it.
    let mut h = with_method();
    h.session.handle_transport_open(h.now);
    h.sent();
    h.receive(connack(Some(METHOD)));
    h.events();
    h.session
        .reauthenticate(h.now, Some(Bytes::from_static(b"token-2")))
        .unwrap();
    assert!(
        matches!(&h.sent()[..], [Packet::Auth(a)] if a.reason_code == 0x19
        && a.properties.authentication_method.as_deref() == Some(METHOD)
        && a.properties.authentication_data.as_deref() == Some(&b"token-2"[..]))
    );
    assert_eq!(
        h.session.reauthenticate(h.now, None),
        Err(CommandError::AuthInProgress)
    );
    h.publish("during", "x", QoS::AtMostOnce);
    assert!(matches!(&h.sent()[..], [Packet::Publish(_)]));
    assert!(matches!(h.events()[..], [Event::Published { .. }]));
    h.receive(auth(0x18, Some(METHOD), b"prove it"));
    let (exchange, _) = challenge(&h.events());
    h.session
        .authenticate(h.now, exchange, Some(Bytes::from_static(b"proof")))
        .unwrap();
    assert!(matches!(&h.sent()[..], [Packet::Auth(a)] if a.reason_code == 0x18));
    h.receive(auth(0x00, Some(METHOD), b"welcome back"));
    assert!(matches!(
        &h.events()[..],
        [Event::Reauthenticated { properties }] if properties.authentication_data.as_deref() == Some(&b"welcome back"[..])
    ));
    assert!(h.session.is_connected());
    h.session
        .reauthenticate(h.now, None)
        .expect("a new one may start");
}

#[test]
fn auth_from_a_server_offered_no_method_is_a_protocol_error() {
    // MQTT-4.12.0-6: no AUTH unless CONNECT carried an Authentication Method.
    let mut h = Harness::v5();
    h.connect();
    h.receive(auth(0x18, Some(METHOD), b"x"));
    assert_violation(&mut h, AuthError::NotRequested);
    // ... nor a method in CONNACK.
    let mut h = Harness::v5();
    h.session.handle_transport_open(h.now);
    h.sent();
    h.receive(connack(Some(METHOD)));
    assert_violation(&mut h, AuthError::MethodNotRequested { got: METHOD.into() });
}

#[test]
fn another_method_in_auth_or_connack_is_a_protocol_error() {
    // MQTT-4.12.0-5: every AUTH and a successful CONNACK carry the CONNECT's method.
    for (packet, got) in [
        (auth(0x18, Some("PLAIN"), b"x"), Some("PLAIN")),
        (auth(0x18, None, b"x"), None),
        (connack(None), None),
        (connack(Some("PLAIN")), Some("PLAIN")),
    ] {
        let mut h = with_method();
        h.session.handle_transport_open(h.now);
        h.sent();
        h.receive(packet);
        assert_violation(
            &mut h,
            AuthError::MethodMismatch {
                expected: METHOD.into(),
                got: got.map(str::to_string),
            },
        );
    }
}

#[test]
fn a_reason_code_the_server_may_not_send_now_is_a_protocol_error() {
    // MQTT-3.15.2-1 and 4.12: success ends a first exchange with CONNACK, not AUTH; 0x19 is
    // the client's; a challenge needs an exchange running.
    let mut connecting = with_method();
    connecting.session.handle_transport_open(connecting.now);
    connecting.sent();
    connecting.receive(auth(0x00, Some(METHOD), b"x"));
    assert_violation(&mut connecting, AuthError::UnexpectedReasonCode(0x00));
    for code in [0x18, 0x19, 0x00, 0x87] {
        let mut h = with_method();
        h.session.handle_transport_open(h.now);
        h.sent();
        h.receive(connack(Some(METHOD)));
        h.events();
        h.receive(auth(code, Some(METHOD), b"x"));
        assert_violation(&mut h, AuthError::UnexpectedReasonCode(code));
    }
}

#[test]
fn reauthentication_needs_a_method_and_a_connection() {
    // MQTT-4.12.0-7: without a method in CONNECT the client sends no AUTH.
    let mut h = Harness::v5();
    h.connect();
    assert_eq!(
        h.session.reauthenticate(h.now, None),
        Err(CommandError::NoAuthMethod)
    );
    let mut h = with_method();
    assert_eq!(
        h.session.reauthenticate(h.now, None),
        Err(CommandError::NotConnected)
    );
    assert!(h.sent().is_empty());
}

#[test]
fn a_refusal_during_the_exchange_is_permanent() {
    // MQTT-4.12.0-1 / MQTT-4.12.0-4: the server may refuse with CONNACK 0x8C or 0x87.
    let mut h = with_method();
    h.session.handle_transport_open(h.now);
    h.sent();
    h.receive(auth(0x18, Some(METHOD), b"x"));
    let (exchange, _) = challenge(&h.events());
    h.session.authenticate(h.now, exchange, None).unwrap();
    h.receive(Packet::ConnAck(ConnAck {
        session_present: false,
        code: reason::BAD_AUTHENTICATION_METHOD,
        properties: Properties::default(),
    }));
    assert!(matches!(
        h.events()[..],
        [Event::Refused {
            reason_code: reason::BAD_AUTHENTICATION_METHOD,
            permanent: true,
            ..
        }]
    ));
}

#[test]
fn an_application_that_cannot_answer_ends_the_connection_with_disconnect() {
    let mut h = with_method();
    h.session.handle_transport_open(h.now);
    h.sent();
    h.receive(auth(0x18, Some(METHOD), b"x"));
    challenge(&h.events());
    h.session.abort_authentication(h.now);
    assert_eq!(
        h.sent(),
        [Packet::Disconnect(Disconnect {
            reason_code: reason::UNSPECIFIED_ERROR,
            properties: Properties::default(),
        })]
    );
    assert_eq!(
        h.events(),
        [Event::Lost {
            reason: LostReason::AuthenticationAbandoned
        }]
    );
}
