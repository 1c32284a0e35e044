//! The facade's calls into the client, by name: `[op, ...arguments]` in, one result out (the
//! value, or an `MqttError`). Reading the arguments, calling the core and writing the result
//! happen here, so that the browser layer only passes bytes (and every call is testable on the
//! host).

use super::arguments::{self, read_auth_data};
use super::events::{self, client_error, command_error, error};
use super::fields::{Checked, InvalidArgument};
use super::options::read_attempt_setup;
use super::value::{Value, Writer};
use crate::client::{Client, HandedFrom, Orphaned};

/// Runs `[op, ...args]` on `client` and writes its result to `out`.
pub fn call(client: &mut Client, now: u64, mut args: Vec<Value>, out: &mut Writer) {
    let op = match args.first_mut() {
        Some(Value::String(op)) => std::mem::take(op),
        _ => String::new(),
    };
    let mut arg = |i: usize| args.get_mut(i).map_or(Value::Undefined, Value::take);
    let token = |w: &mut Writer, result: Result<u32, crate::session::CommandError>| match result {
        Ok(token) => {
            w.uint(u64::from(token));
        }
        Err(e) => command_error(w, &e),
    };
    let done = |w: &mut Writer, result: Result<(), crate::session::CommandError>| match result {
        Ok(()) => {
            w.undefined();
        }
        Err(e) => command_error(w, &e),
    };
    // Each arm reads its arguments (an INVALID_ARGUMENT error when they are wrong), then calls.
    let read: Checked<()> = (|| {
        match op.as_str() {
            "publish" => {
                let (request, stamp) = arguments::read_publish(&arg(1), &arg(2), &arg(3))?;
                let result = match stamp {
                    true => client.publish_stamped(now, request),
                    false => client.publish(now, request),
                };
                token(out, result);
            }
            "subscribe" => {
                let (filters, properties) = arguments::read_subscriptions(&arg(1), &arg(2))?;
                token(out, client.subscribe(now, filters, properties));
            }
            "unsubscribe" => {
                let (filters, properties) = arguments::read_unsubscribe(&arg(1), &arg(2))?;
                token(out, client.unsubscribe(now, filters, properties));
            }
            "request" => {
                let spec = arguments::read_request(&arg(1), &arg(2), &arg(3))?;
                token(out, client.request(now, spec));
            }
            "respond" => {
                let request = arguments::read_request_message(&arg(1))?;
                let reply = arguments::read_response(&arg(2), &arg(3))?;
                token(out, client.respond(now, &request, reply));
            }
            "authenticate" => {
                let exchange = whole(&arg(1))?;
                let data = read_auth_data(&arg(2))?;
                done(out, client.authenticate(now, exchange as u32, data));
            }
            "abortAuthentication" => {
                client.abort_authentication(now);
                out.undefined();
            }
            "reauthenticate" => {
                let data = read_auth_data(&arg(1))?;
                done(out, client.reauthenticate(now, data));
            }
            "reconnect" => done(out, client.reconnect(now)),
            "addRoute" => {
                let filter = arg(1);
                let filter = filter
                    .as_str()
                    .ok_or_else(|| InvalidArgument("a topic filter must be a string".into()))?;
                let ack = arguments::read_route(&arg(2))?;
                token(out, client.add_route(filter, ack));
            }
            "removeRoute" => {
                client.remove_route(whole(&arg(1))? as u32);
                out.undefined();
            }
            "handlerDone" => {
                // The description of a handler's failure, or undefined when all succeeded.
                let delivery = whole(&arg(1))?;
                let outcome = match arg(2) {
                    Value::String(why) => Err(why),
                    _ => Ok(()),
                };
                client.handle_handler_done(now, delivery, outcome);
                out.undefined();
            }
            "attemptSetup" => {
                // The application's answer for an attempt, or why it could not be made.
                let id = whole(&arg(1))? as u32;
                let answer = match arg(3) {
                    Value::String(why) => Err(why),
                    _ => read_attempt_setup(&arg(2)).map_err(|e| e.0),
                };
                client.handle_attempt_setup(now, id, answer);
                out.undefined();
            }
            "routeRemote" => {
                // [topic, subscriptionIdentifier, primary, named]: another tab's routing.
                let (topic, ids, primary, named) = (arg(1), arg(2), arg(3), arg(4));
                let named: Vec<(String, bool)> = match named {
                    Value::Array(pairs) => pairs
                        .iter()
                        .filter_map(|pair| match pair {
                            Value::Array(kv) => {
                                Some((kv.first()?.as_str()?.to_owned(), kv.get(1)?.as_bool()?))
                            }
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                let routes = client.session().route_remote(
                    topic.as_str().unwrap_or_default(),
                    &carried(&ids),
                    primary == Value::Bool(true),
                    &named,
                );
                out.array();
                for id in routes {
                    out.uint(u64::from(id));
                }
                out.end_array();
            }
            "handOver" => match client.hand_over() {
                Some(bytes) => {
                    out.bytes(&bytes);
                }
                None => {
                    out.undefined();
                }
            },
            "takeHandedOver" => {
                let Value::Bytes(bytes) = arg(1) else {
                    return Err(InvalidArgument("expected the bytes handOver gave".into()));
                };
                let from = match arg(2).as_bool() {
                    Some(true) => HandedFrom::LastLoad,
                    _ => HandedFrom::OtherTab,
                };
                out.bool(client.take_handed_over(now, &bytes, from));
            }
            "joinerState" => events::joiner_state(out, client.joiner_state()),
            "followed" => {
                client.set_followed();
                out.undefined();
            }
            "forwardCall" => {
                out.uint(u64::from(client.forward_call()));
            }
            "forwardAccepted" => {
                client.forwarded_accepted(whole(&arg(1))? as u32);
                out.undefined();
            }
            "forwardSettled" => {
                client.forwarded_settled(whole(&arg(1))? as u32);
                out.undefined();
            }
            "leaderChanged" => {
                // [[id], [id, error], ...]: send again, or reject with the error.
                out.array();
                for orphaned in client.leader_changed() {
                    match orphaned {
                        Orphaned::SendAgain(id) => out.array().uint(u64::from(id)).end_array(),
                        Orphaned::Failed(id, e) => {
                            out.array().uint(u64::from(id));
                            client_error(out, &e);
                            out.end_array()
                        }
                    };
                }
                out.end_array();
            }
            "forgetHandedOver" => {
                client.forget_handed_over();
                out.undefined();
            }
            "metrics" => events::metrics(out, &client.metrics(now)),
            "metricsText" => {
                out.str(&client.metrics_text(now));
            }
            _ => return Err(InvalidArgument(format!("no call named \"{op}\""))),
        }
        Ok(())
    })();
    if let Err(e) = read {
        error(out, "INVALID_ARGUMENT", &e.0, None, false);
    }
}

/// A message's `properties.subscriptionIdentifier`: a number, an array of them, or undefined.
fn carried(value: &Value) -> Vec<u32> {
    match value {
        Value::Number(n) => vec![*n as u32],
        Value::Array(ids) => ids
            .iter()
            .filter_map(Value::as_f64)
            .map(|n| n as u32)
            .collect(),
        _ => Vec::new(),
    }
}

fn whole(value: &Value) -> Checked<u64> {
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && n >= 0.0 => Ok(n as u64),
        _ => Err(InvalidArgument("expected a whole number".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::options;
    use crate::api::value::{json, unpack};
    use crate::client::ClientConfig;

    fn client() -> Client {
        client_with(r#"{"persistence": "memory"}"#)
    }

    fn client_with(options: &str) -> Client {
        let url = Value::String("ws://h".into());
        let o = options::read(&url, &json(options), 1).unwrap();
        Client::new(ClientConfig {
            session: o.session,
            urls: o.urls,
            connect_timeout_ms: o.connect_timeout_ms,
            reconnect: o.reconnect,
            seed: 1,
            redirects: o.redirects,
            alerts: o.alerts,
            prepare_attempts: false,
        })
    }

    /// Runs one call; its result as read back.
    fn run(client: &mut Client, args: &str) -> Value {
        let Value::Array(args) = json(args) else {
            panic!("a list of arguments")
        };
        let mut out = Writer::new();
        call(client, 0, args, &mut out);
        let mut values = unpack(&out.take()).unwrap();
        assert_eq!(values.len(), 1, "one result");
        values.remove(0)
    }

    #[test]
    fn what_the_calls_of_a_task_journal_is_written_as_one_entry_at_the_tasks_end() {
        let mut c = client_with("{}");
        c.handle_journal_loaded(Vec::new());
        c.handle_store_loaded(0, Vec::new(), Vec::new());
        c.start(0);
        while c.poll().is_some() {}
        for qos in [1, 2, 1] {
            run(
                &mut c,
                &format!(r#"["publish", "a/b", "x", {{"qos": {qos}}}]"#),
            );
        }
        assert_eq!(c.poll_journal(), None, "nothing before the task ends");
        c.flush(0);
        let ops: Vec<_> = std::iter::from_fn(|| c.poll_journal()).collect();
        assert!(
            matches!(&ops[..], [crate::client::JournalOp::Put(..)]),
            "one entry for the three publishes: {ops:?}"
        );
    }

    #[test]
    fn a_call_answers_with_its_result_or_a_typed_error() {
        let mut c = client();
        // Offline, a publish is queued: its token settles it later.
        let token = run(&mut c, r#"["publish", "a/b", "x", {"qos": 1}]"#);
        assert!(token.as_f64().is_some_and(|t| t >= 1.0), "{token:?}");
        let route = run(&mut c, r#"["addRoute", "a/#", {}]"#);
        assert!(route.as_f64().is_some());
        assert_eq!(
            run(&mut c, r#"["routeRemote", "a/b", undefined, true, []]"#),
            Value::Array(vec![route])
        );
        for (args, needle) in [
            (r#"["publish", "a/b", "x", {"qos": 3}]"#, "options.qos"),
            (r#"["subscribe", "a", {}]"#, "subscribe needs a filter"),
            (r#"["removeRoute", "one"]"#, "whole number"),
            (r#"["nothing"]"#, "no call named"),
        ] {
            let error = run(&mut c, args);
            assert_eq!(
                error.get("code").as_str(),
                Some("INVALID_ARGUMENT"),
                "{args}"
            );
            assert!(
                error.get("message").as_str().unwrap().contains(needle),
                "{args}: {error:?}"
            );
        }
        // The core's own refusal (a wildcard in a topic name) comes back the same way.
        let refused = run(&mut c, r#"["publish", "a/+", "x", {}]"#);
        assert!(refused.get("code").as_str().is_some(), "{refused:?}");
        assert!(
            refused
                .get("message")
                .as_str()
                .unwrap()
                .contains("wildcard"),
            "{refused:?}"
        );
        let metrics = run(&mut c, r#"["metrics"]"#);
        assert_eq!(metrics.get("queued").as_f64(), Some(1.0));
    }
}
