//! Subscriptions and routing: subscription identifiers (MQTT 5, 3.8.2.1.2 and 3.3.4), one
//! delivery per handler whatever copies the broker sends, and subscriptions that reach the
//! broker in the end (made offline, lost with a connection or a page).
#![cfg(not(target_arch = "wasm32"))] // host-only

#[path = "common/session_harness.rs"]
mod harness;

use std::collections::BTreeMap;

use harness::*;
use wasmqtt::codec::{
    Packet, Properties, ProtocolVersion, Publish, QoS, Subscribe, SubscriptionOptions,
};
use wasmqtt::session::{CommandError, Event};

fn subscribes(packets: &[Packet]) -> Vec<Subscribe> {
    packets
        .iter()
        .filter_map(|p| match p {
            Packet::Subscribe(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// The identifier each filter was subscribed with.
fn ids(packets: &[Packet]) -> BTreeMap<String, u32> {
    subscribes(packets)
        .into_iter()
        .flat_map(|s| {
            let id = s.properties.subscription_identifiers.first().copied();
            s.filters
                .into_iter()
                .map(move |(f, _)| (f, id.expect("an identifier")))
        })
        .collect()
}

fn copy(topic: &str, payload: &str, qos: QoS, packet_id: Option<u16>, ids: &[u32]) -> Packet {
    let mut publish: Publish = inbound(topic, payload, qos, packet_id);
    publish.properties.subscription_identifiers = ids.to_vec();
    Packet::Publish(publish)
}

/// A connected v5 session subscribed (and granted) to `filters` at QoS 1, with one route per
/// filter plus the `loose` routes; returns the identifiers and the route ids (filters first).
fn subscribed(
    h: &mut Harness,
    filters: &[&str],
    loose: &[&str],
) -> (BTreeMap<String, u32>, Vec<u32>) {
    h.connect();
    let routes = filters
        .iter()
        .chain(loose)
        .map(|f| h.session.add_route(f, None).unwrap())
        .collect();
    let token = h.subscribe(filters, QoS::AtLeastOnce);
    let sent = h.commit_then_sent();
    h.grant(&sent, |_| 1);
    h.commit();
    assert_eq!(
        h.events(),
        [Event::Subscribed {
            token,
            reason_codes: vec![1; filters.len()]
        }]
    );
    (ids(&sent), routes)
}

#[test]
fn every_filter_gets_its_own_identifier_in_a_subscribe_of_its_own() {
    // 3.8.2.1.2: one Subscription Identifier per SUBSCRIBE, for all its filters, never 0; so
    // one SUBSCRIBE per filter, and the application still sees one request with one result.
    let mut h = Harness::v5();
    h.connect();
    h.subscribe(&["a/#", "a/+", "b"], QoS::AtLeastOnce);
    assert!(
        h.sent().is_empty(),
        "each waits until its record and identifier are durable"
    );
    let sent = h.commit_then_sent();
    let packets = subscribes(&sent);
    assert_eq!(packets.len(), 3);
    for p in &packets {
        assert_eq!(p.filters.len(), 1);
        assert_eq!(p.properties.subscription_identifiers.len(), 1);
    }
    let ids = ids(&sent);
    let mut distinct: Vec<_> = ids.values().collect();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "{ids:?}");
    assert!(ids.values().all(|id| *id > 0));
    h.grant(&sent[..2], |_| 1);
    h.commit();
    assert!(h.events().is_empty(), "the result waits for every SUBACK");
    h.grant(&sent[2..], |_| 0);
    h.commit();
    assert!(
        matches!(&h.events()[..], [Event::Subscribed { reason_codes, .. }] if *reason_codes == [1, 1, 0])
    );
}

#[test]
fn copies_sent_per_subscription_reach_exactly_their_own_handlers_once() {
    // MQTT-3.3.4-5 (what mosquitto 2.0 does): one copy per matching subscription, each with
    // its subscription's identifier. Each handler gets the message once; the catch-all
    // (primary) delivery happens once.
    let mut h = Harness::v5();
    let (ids, routes) = subscribed(&mut h, &["s/#", "s/+"], &["s/x"]);
    h.receive(copy("s/x", "m", QoS::AtMostOnce, None, &[ids["s/+"]]));
    h.receive(copy("s/x", "m", QoS::AtLeastOnce, Some(1), &[ids["s/#"]]));
    h.commit();
    let got = by_route(&h.events());
    for route in &routes {
        assert_eq!(got[route], ["m"], "route {route}: {got:?}");
    }
    assert_eq!(got[&0], ["m"], "one primary delivery");
    assert_eq!(h.session.metrics().received, 1);
}

#[test]
fn one_copy_with_every_identifier_reaches_every_handler_once() {
    // MQTT-3.3.4-4: a single copy carries the identifiers of all matching subscriptions.
    let mut h = Harness::v5();
    let (ids, routes) = subscribed(&mut h, &["s/#", "s/+", "t"], &["s/x"]);
    h.receive(copy(
        "s/x",
        "m",
        QoS::AtLeastOnce,
        Some(1),
        &[ids["s/+"], ids["s/#"]],
    ));
    h.commit();
    let got = by_route(&h.events());
    assert_eq!(got[&0], ["m"]);
    assert_eq!(got[&routes[0]], ["m"]);
    assert_eq!(got[&routes[1]], ["m"]);
    assert!(!got.contains_key(&routes[2]), "t was not matched");
    assert_eq!(got[&routes[3]], ["m"]);
}

#[test]
fn copies_with_the_same_message_id_are_not_taken_for_redeliveries() {
    // De-duplication knows a copy by its message id and its subscription identifiers: the
    // second subscription's copy is delivered, a redelivered copy is not.
    let mut h = Harness::v5();
    let (ids, routes) = subscribed(&mut h, &["s/#", "s/+"], &[]);
    for (packet_id, id) in [(1, ids["s/#"]), (2, ids["s/+"]), (3, ids["s/#"])] {
        let Packet::Publish(p) = copy("s/x", "m", QoS::AtLeastOnce, Some(packet_id), &[id]) else {
            unreachable!()
        };
        h.receive(Packet::Publish(with_message_id(p, "x-1")));
    }
    h.commit();
    let events = h.events();
    let got = by_route(&events);
    assert_eq!(got[&routes[0]], ["m"]);
    assert_eq!(got[&routes[1]], ["m"]);
    assert_eq!(
        events
            .iter()
            .filter(
                |e| matches!(e, Event::DuplicateDropped { message_id, .. } if message_id == "x-1")
            )
            .count(),
        1
    );
}

#[test]
fn without_server_support_no_identifier_is_sent_and_topics_route() {
    // CONNACK Subscription Identifiers Available = 0 (3.2.2.3.13).
    let mut h = Harness::v5();
    h.connect_with(
        false,
        Properties {
            subscription_identifier_available: Some(0),
            ..Default::default()
        },
    );
    let hash = h.session.add_route("s/#", None).unwrap();
    let plus = h.session.add_route("s/+", None).unwrap();
    h.subscribe(&["s/#", "s/+"], QoS::AtMostOnce);
    let sent = h.commit_then_sent();
    let packets = subscribes(&sent);
    assert_eq!(packets.len(), 1, "one SUBSCRIBE for both filters");
    assert!(packets[0].properties.subscription_identifiers.is_empty());
    h.grant(&sent, |_| 0);
    h.events();
    h.receive(Packet::Publish(inbound("s/x", "m", QoS::AtMostOnce, None)));
    h.commit();
    let got = by_route(&h.events());
    assert_eq!(
        (&got[&hash], &got[&plus]),
        (&vec!["m".into()], &vec!["m".into()])
    );
}

#[test]
fn the_application_sets_no_identifier_while_the_client_manages_them() {
    let identified = Properties {
        subscription_identifiers: vec![5],
        ..Default::default()
    };
    let options = Default::default();
    let mut h = Harness::v5();
    h.connect();
    assert!(matches!(
        h.session
            .subscribe(h.now, vec![("a".into(), options)], identified.clone()),
        Err(CommandError::PropertyNotAllowed(_))
    ));
    // With management off, the application's identifier goes out as given.
    let mut config = config(ProtocolVersion::V5);
    config.subscription_identifiers = false;
    let mut h = Harness::new(config);
    h.connect();
    h.session
        .subscribe(
            h.now,
            vec![("a".into(), options), ("b".into(), options)],
            identified,
        )
        .unwrap();
    let packets = subscribes(&h.commit_then_sent());
    assert_eq!(packets.len(), 1);
    assert_eq!(packets[0].properties.subscription_identifiers, [5]);
}

#[test]
fn identifiers_survive_a_restart_and_a_lost_session_subscribes_again_with_them() {
    let mut h = Harness::v5();
    let (before, _) = subscribed(&mut h, &["s/#", "s/+"], &[]);
    h.commit();
    h.restart();
    h.connect_with(false, Properties::default());
    let sent = h.sent();
    assert_eq!(
        ids(&sent),
        before,
        "the same filters with the same identifiers"
    );
    // With the session present, what the broker confirmed is not asked again.
    h.grant(&sent, |_| 1);
    h.commit();
    h.restart();
    h.connect_with(true, Properties::default());
    assert!(subscribes(&h.commit_then_sent()).is_empty());
}

#[test]
fn a_subscription_made_offline_reaches_a_broker_that_kept_the_session() {
    // A persistent session: the broker has the old subscriptions, not the one made offline,
    // nor one whose SUBACK was lost with the connection or with the page.
    let mut h = Harness::v5();
    h.subscribe(&["offline"], QoS::AtLeastOnce);
    h.commit();
    h.connect_with(true, Properties::default());
    let sent = h.commit_then_sent();
    assert_eq!(subscribes(&sent)[0].filters[0].0, "offline");
    // SUBACK lost with the connection: asked again on the next one.
    h.session.handle_transport_closed(h.now);
    h.connect_with(true, Properties::default());
    let sent = h.commit_then_sent();
    assert_eq!(subscribes(&sent)[0].filters[0].0, "offline");
    // ... and lost with the page: asked again after the restart.
    h.restart();
    h.connect_with(true, Properties::default());
    let sent = h.commit_then_sent();
    assert_eq!(subscribes(&sent).len(), 1);
    h.grant(&sent, |_| 1);
    h.commit();
    h.restart();
    h.connect_with(true, Properties::default());
    assert!(
        subscribes(&h.commit_then_sent()).is_empty(),
        "confirmed at last"
    );
}

#[test]
fn a_subscribe_made_offline_resolves_with_the_brokers_answer_per_filter() {
    // MQTT-3.9.3-1: the SUBACK has a reason code per filter, in order. Made offline, the
    // request is settled by those, refusals included, not by what was asked for.
    let mut h = Harness::v5();
    let token = h.subscribe(&["ok", "denied"], QoS::AtLeastOnce);
    h.commit();
    assert!(
        h.events().is_empty(),
        "nothing settled before the broker answers"
    );
    h.connect();
    let sent = h.commit_then_sent();
    assert_eq!(
        subscribes(&sent).len(),
        2,
        "one SUBSCRIBE per filter (identifiers)"
    );
    h.grant(&sent, |f| if f == "denied" { 0x87 } else { 1 });
    h.commit();
    assert_eq!(
        h.events(),
        [Event::Subscribed {
            token,
            reason_codes: vec![1, 0x87]
        }]
    );
}

#[test]
fn a_split_subscribe_asked_again_keeps_each_filters_place_in_the_answer() {
    // The SUBACK for "a" came; "b"'s was lost with the connection. Asked again, "b"'s code
    // still goes second.
    let mut h = Harness::v5();
    h.connect();
    let token = h.subscribe(&["a", "b"], QoS::AtLeastOnce);
    let sent = h.commit_then_sent();
    let first = subscribes(&sent)
        .into_iter()
        .find(|s| s.filters[0].0 == "a")
        .map(Packet::Subscribe)
        .unwrap();
    h.grant(&[first], |_| 1);
    h.commit();
    assert!(h.events().is_empty());
    h.session.handle_transport_closed(h.now);
    h.connect_with(true, Properties::default());
    let sent = h.commit_then_sent();
    let again = subscribes(&sent);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].filters[0].0, "b");
    h.grant(&sent, |_| 0);
    h.commit();
    assert!(h.events().contains(&Event::Subscribed {
        token,
        reason_codes: vec![1, 0]
    }));
}

#[test]
fn a_request_asked_again_keeps_its_own_properties() {
    // Lost with the connection before its SUBACK / UNSUBACK, and asked offline: each goes out
    // on the next connection with the properties the application gave it.
    let mut h = Harness::v5();
    h.connect();
    let tagged = Properties {
        user_properties: vec![("origin".into(), "dashboard".into())],
        ..Properties::default()
    };
    let options = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        ..Default::default()
    };
    h.session
        .subscribe(h.now, vec![("a".into(), options)], tagged.clone())
        .unwrap();
    h.commit_then_sent();
    h.session.handle_transport_closed(h.now);
    h.session
        .unsubscribe(h.now, vec!["b".into()], tagged.clone())
        .unwrap();
    h.connect_with(true, Properties::default());
    let sent = h.commit_then_sent();
    let again = subscribes(&sent);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].properties.user_properties, tagged.user_properties);
    let unsubscribe = sent
        .iter()
        .find_map(|p| match p {
            Packet::Unsubscribe(u) => Some(u),
            _ => None,
        })
        .expect("the offline UNSUBSCRIBE");
    assert_eq!(
        unsubscribe.properties.user_properties,
        tagged.user_properties
    );
}

#[test]
fn a_refused_filter_is_forgotten_and_not_asked_again() {
    let mut h = Harness::v5();
    h.connect();
    h.subscribe(&["ok", "denied"], QoS::AtMostOnce);
    let sent = h.commit_then_sent();
    h.grant(&sent, |f| if f == "denied" { 0x87 } else { 0 });
    h.session.handle_transport_closed(h.now);
    h.connect_with(false, Properties::default());
    let again: Vec<_> = subscribes(&h.commit_then_sent())
        .into_iter()
        .flat_map(|s| s.filters)
        .map(|(f, _)| f)
        .collect();
    assert_eq!(again, ["ok"]);
}

fn unsubscribes(packets: &[Packet]) -> Vec<Vec<String>> {
    packets
        .iter()
        .filter_map(|p| match p {
            Packet::Unsubscribe(u) => Some(u.filters.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn an_unsubscribe_made_offline_reaches_a_broker_that_kept_the_session() {
    let mut h = Harness::v5();
    subscribed(&mut h, &["keep", "drop"], &[]);
    h.session.handle_transport_closed(h.now);
    let token = h
        .session
        .unsubscribe(h.now, vec!["drop".into()], Properties::default())
        .unwrap();
    h.commit();
    assert!(
        matches!(&h.events()[..], [Event::Lost { .. }]),
        "offline, the UNSUBACK answers"
    );
    h.connect_with(true, Properties::default());
    let sent = h.commit_then_sent();
    assert_eq!(unsubscribes(&sent), [["drop"]]);
    let Packet::Unsubscribe(u) = &sent[0] else {
        panic!("{sent:?}")
    };
    h.receive(Packet::UnsubAck(wasmqtt::codec::UnsubAck {
        packet_id: u.packet_id,
        properties: Properties::default(),
        reason_codes: vec![0x11],
    }));
    h.commit();
    assert_eq!(
        h.events(),
        [Event::Unsubscribed {
            token,
            reason_codes: vec![0x11]
        }],
        "the broker's own answer"
    );
    // Subscribed again, then unsubscribed offline once more.
    subscribed(&mut h, &["drop"], &[]);
    h.session.handle_transport_closed(h.now);
    h.session
        .unsubscribe(h.now, vec!["drop".into()], Properties::default())
        .unwrap();
    h.commit();
    h.events();
    h.connect_with(true, Properties::default());
    assert_eq!(unsubscribes(&h.commit_then_sent()), [["drop"]]);
    // Its UNSUBACK lost with the page: asked again after the restart.
    h.restart();
    h.connect_with(true, Properties::default());
    let sent = h.commit_then_sent();
    assert_eq!(unsubscribes(&sent), [["drop"]]);
    assert!(subscribes(&sent).is_empty(), "keep stays as it is");
    let Packet::Unsubscribe(u) = &sent[0] else {
        panic!("{sent:?}")
    };
    h.receive(Packet::UnsubAck(wasmqtt::codec::UnsubAck {
        packet_id: u.packet_id,
        properties: Properties::default(),
        reason_codes: vec![0],
    }));
    h.commit();
    assert!(h.durable.keys().any(|k| k == "s/keep"));
    assert!(!h.durable.keys().any(|k| k == "s/drop"));
}

#[test]
fn a_broker_that_lost_the_session_gets_no_unsubscribe_and_no_leaving_filter() {
    let mut h = Harness::v5();
    subscribed(&mut h, &["keep", "drop"], &[]);
    h.session.handle_transport_closed(h.now);
    let token = h
        .session
        .unsubscribe(h.now, vec!["drop".into()], Properties::default())
        .unwrap();
    h.events();
    h.connect_with(false, Properties::default());
    let sent = h.commit_then_sent();
    assert!(unsubscribes(&sent).is_empty());
    assert!(
        h.events().contains(&Event::Unsubscribed {
            token,
            reason_codes: vec![0]
        }),
        "done: the broker holds nothing to unsubscribe from"
    );
    let again: Vec<_> = subscribes(&sent)
        .into_iter()
        .flat_map(|s| s.filters)
        .map(|(f, _)| f)
        .collect();
    assert_eq!(again, ["keep"]);
}

#[test]
fn an_unsubscribed_filter_no_longer_decides_the_primary_copy() {
    // "s/#" (the lower identifier) is being unsubscribed; the broker's copy for "s/+" is now
    // the one the catch-all gets.
    let mut h = Harness::v5();
    let (ids, _) = subscribed(&mut h, &["s/#", "s/+"], &[]);
    h.session
        .unsubscribe(h.now, vec!["s/#".into()], Properties::default())
        .unwrap();
    h.commit();
    h.receive(copy("s/x", "m", QoS::AtMostOnce, None, &[ids["s/+"]]));
    h.commit();
    assert_eq!(by_route(&h.events())[&0], ["m"]);
}
