//! Request/response (MQTT 5 section 4.10): Response Topic and Correlation Data, the response
//! subscription, matching replies, timeouts through the session's deadline, respond().
#![cfg(not(target_arch = "wasm32"))] // host-only

#[path = "common/session_harness.rs"]
mod harness;

use bytes::Bytes;
use harness::*;
use wasmqtt::codec::{reason, Ack, Packet, Properties, ProtocolVersion, Publish, QoS};
use wasmqtt::session::{CommandError, Event, Overflow, PublishRequest, RequestError, RequestSpec};

fn spec(topic: &str, payload: &str) -> RequestSpec {
    RequestSpec {
        topic: topic.into(),
        payload: Bytes::copy_from_slice(payload.as_bytes()),
        qos: QoS::AtLeastOnce,
        timeout_ms: Some(5_000),
        ..Default::default()
    }
}

/// The reply a responder would send to `request`.
fn reply_to(request: &Publish, payload: &str) -> Packet {
    let mut reply = inbound(
        request.properties.response_topic.as_deref().unwrap(),
        payload,
        QoS::AtMostOnce,
        None,
    );
    reply.properties.correlation_data = request.properties.correlation_data.clone();
    Packet::Publish(reply)
}

/// A connected v5 session whose first request has subscribed to the response topic (granted)
/// and gone out; returns its token and PUBLISH.
fn first_request(h: &mut Harness) -> (u32, Publish) {
    h.connect();
    let token = h.session.request(h.now, spec("svc/time", "now?")).unwrap();
    let sent = h.commit_then_sent();
    assert!(
        publishes(&sent).is_empty(),
        "the request waits for its subscription"
    );
    let Some(Packet::Subscribe(subscribe)) = sent.first() else {
        panic!("{sent:?}")
    };
    assert_eq!(subscribe.filters[0].0, "wasmqtt/response/tester");
    h.grant(&sent, |_| 2);
    let sent = h.commit_then_sent();
    let request = publishes(&sent).remove(0);
    (token, request)
}

#[test]
fn a_request_carries_a_response_topic_and_fresh_correlation_data_after_one_subscription() {
    let mut h = Harness::v5();
    let (_, first) = first_request(&mut h);
    assert_eq!(first.topic, "svc/time");
    assert_eq!(
        first.properties.response_topic.as_deref(),
        Some("wasmqtt/response/tester")
    );
    let c1 = first
        .properties
        .correlation_data
        .clone()
        .expect("correlation data");
    h.session
        .request(h.now, spec("svc/time", "again?"))
        .unwrap();
    let sent = h.commit_then_sent();
    assert!(
        !sent.iter().any(|p| matches!(p, Packet::Subscribe(_))),
        "subscribed once"
    );
    let second = publishes(&sent).remove(0);
    assert_ne!(second.properties.correlation_data, Some(c1));
}

#[test]
fn the_reply_with_the_requests_correlation_data_settles_it_and_nothing_else_does() {
    let mut h = Harness::v5();
    let (token, request) = first_request(&mut h);
    h.events();
    // The request's PUBACK concerns the request only: the application hears nothing of it.
    h.receive(Packet::PubAck(Ack::new(request.packet_id.unwrap())));
    assert!(h.events().is_empty());
    // A message on the response topic with other correlation data is an ordinary message.
    let mut stranger = inbound("wasmqtt/response/tester", "other", QoS::AtMostOnce, None);
    stranger.properties.correlation_data = Some(Bytes::from_static(b"not-ours"));
    h.receive(Packet::Publish(stranger));
    h.receive(reply_to(&request, "12:00"));
    h.commit();
    let events = h.events();
    assert_eq!(delivered(&events), ["other"]);
    let responses: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Response { token, publish } => Some((*token, publish.payload.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(responses, [(token, Bytes::from_static(b"12:00"))]);
    // A second reply to a settled request is an ordinary message.
    h.receive(reply_to(&request, "12:00 again"));
    h.commit();
    assert_eq!(delivered(&h.events()), ["12:00 again"]);
}

#[test]
fn a_request_without_a_reply_fails_at_its_deadline() {
    let mut h = Harness::v5();
    let (token, request) = first_request(&mut h);
    h.events();
    assert_eq!(h.session.poll_timeout(), Some(h.now + 5_000));
    h.advance(4_999);
    assert!(h.events().is_empty());
    h.advance(1);
    assert_eq!(
        h.events(),
        [Event::RequestFailed {
            token,
            error: RequestError::TimedOut
        }]
    );
    h.receive(reply_to(&request, "late"));
    h.commit();
    assert_eq!(
        delivered(&h.events()),
        ["late"],
        "a late reply is a message"
    );
}

#[test]
fn the_servers_response_information_is_the_default_response_topic_when_asked_for() {
    // 3.1.2.11.7 Request Response Information, 3.2.2.3.15 Response Information.
    let mut config = config(ProtocolVersion::V5);
    config.connect_properties.request_response_information = Some(1);
    let mut h = Harness::new(config);
    h.connect_with(
        false,
        Properties {
            response_information: Some("replies/tester-7f/".into()),
            ..Default::default()
        },
    );
    h.session.request(h.now, spec("svc/a", "?")).unwrap();
    let sent = h.commit_then_sent();
    assert!(matches!(&sent[0], Packet::Subscribe(s) if s.filters[0].0 == "replies/tester-7f"));
    // Given without having been asked for, it is ignored.
    let mut h = Harness::v5();
    h.connect_with(
        false,
        Properties {
            response_information: Some("replies/x".into()),
            ..Default::default()
        },
    );
    h.session.request(h.now, spec("svc/a", "?")).unwrap();
    let sent = h.commit_then_sent();
    assert!(
        matches!(&sent[0], Packet::Subscribe(s) if s.filters[0].0 == "wasmqtt/response/tester")
    );
}

#[test]
fn a_refused_subscription_or_publish_fails_the_request() {
    let mut h = Harness::v5();
    h.connect();
    let token = h.session.request(h.now, spec("svc/a", "?")).unwrap();
    let sent = h.commit_then_sent();
    h.grant(&sent, |_| reason::NOT_AUTHORIZED);
    h.commit();
    assert_eq!(
        h.events(),
        [Event::RequestFailed {
            token,
            error: RequestError::SubscribeRefused {
                reason_code: reason::NOT_AUTHORIZED
            }
        }]
    );
    assert!(
        publishes(&h.sent()).is_empty(),
        "no request without a way back"
    );
    let mut h = Harness::v5();
    let (token, request) = first_request(&mut h);
    h.events();
    let mut refusal = Ack::new(request.packet_id.unwrap());
    refusal.reason_code = reason::NOT_AUTHORIZED;
    h.receive(Packet::PubAck(refusal));
    assert_eq!(
        h.events(),
        [Event::RequestFailed {
            token,
            error: RequestError::PublishFailed {
                reason_code: reason::NOT_AUTHORIZED
            }
        }]
    );
}

#[test]
fn a_request_the_queue_drops_fails_as_the_clients_own_drop() {
    // Not the broker's 0x97: the client's queue made room ('drop-oldest-qos0').
    let mut config = config(ProtocolVersion::V5);
    // Room for two: the first request, in flight, counts too (one budget, issue #15.2).
    config.queue_max_messages = 2;
    config.overflow = Overflow::DropOldestQos0;
    let mut h = Harness::new(config);
    first_request(&mut h);
    h.session.handle_transport_closed(h.now);
    h.events();
    let qos0 = RequestSpec {
        qos: QoS::AtMostOnce,
        ..spec("svc/time", "now?")
    };
    let token = h.session.request(h.now, qos0).unwrap();
    h.publish("other", "x", QoS::AtMostOnce);
    let error = h
        .events()
        .into_iter()
        .find_map(|e| match e {
            Event::RequestFailed { token: t, error } if t == token => Some(error),
            _ => None,
        })
        .expect("the request failed");
    assert_eq!(error, RequestError::PublishDropped);
    assert_eq!(error.code(), "QUEUE_OVERFLOW");
    assert_eq!(error.reason_code(), None);
}

#[test]
fn a_request_made_offline_goes_out_once_the_subscription_is_granted() {
    let mut h = Harness::v5();
    let token = h.session.request(h.now, spec("svc/a", "?")).unwrap();
    h.connect_with(true, Properties::default());
    let sent = h.commit_then_sent();
    assert!(publishes(&sent).is_empty());
    h.grant(&sent, |_| 1);
    let request = publishes(&h.commit_then_sent()).remove(0);
    h.receive(reply_to(&request, "ok"));
    h.commit();
    assert!(h
        .events()
        .iter()
        .any(|e| matches!(e, Event::Response { token: t, .. } if *t == token)));
}

#[test]
fn respond_answers_on_the_response_topic_with_the_correlation_data() {
    // 4.10.2: the responder publishes to the Response Topic with the Correlation Data.
    let mut h = Harness::v5();
    h.connect();
    let mut request = inbound("svc/time", "now?", QoS::AtLeastOnce, Some(3));
    request.properties.response_topic = Some("replies/abc".into());
    request.properties.correlation_data = Some(Bytes::from_static(b"c-17"));
    h.session
        .respond(
            h.now,
            &request,
            PublishRequest {
                payload: Bytes::from_static(b"12:00"),
                qos: QoS::AtLeastOnce,
                ..Default::default()
            },
        )
        .unwrap();
    let reply = publishes(&h.sent()).remove(0);
    assert_eq!(reply.topic, "replies/abc");
    assert_eq!(
        reply.properties.correlation_data,
        Some(Bytes::from_static(b"c-17"))
    );
    assert_eq!(&reply.payload[..], b"12:00");
    request.properties.response_topic = None;
    assert_eq!(
        h.session
            .respond(h.now, &request, PublishRequest::default())
            .unwrap_err(),
        CommandError::NoResponseTopic
    );
}

#[test]
fn requests_need_mqtt_5_and_own_their_response_topic_and_correlation_data() {
    let mut v3 = Harness::new(config(ProtocolVersion::V3_1_1));
    v3.connect();
    assert_eq!(
        v3.session.request(v3.now, spec("a", "?")).unwrap_err(),
        CommandError::RequiresMqtt5
    );
    let mut h = Harness::v5();
    h.connect();
    let mut own = spec("a", "?");
    own.properties.correlation_data = Some(Bytes::from_static(b"x"));
    assert!(matches!(
        h.session.request(h.now, own),
        Err(CommandError::PropertyNotAllowed(_))
    ));
    let mut wild = spec("a", "?");
    wild.response_topic = Some("replies/+".into());
    assert!(matches!(
        h.session.request(h.now, wild),
        Err(CommandError::InvalidTopic(_))
    ));
    assert!(h.sent().is_empty() && h.session.poll_timeout() == Some(h.now + 10_000));
}
