//! Why a WebSocket handshake failed, as far as a page can tell. Browsers report every failed
//! handshake as close code 1006 with no detail (nothing listening, the upgrade refused, the
//! `mqtt` subprotocol refused, a TLS failure), to keep pages from scanning networks. One case
//! is worth telling apart, the most common misconfiguration: a URL that reaches a WebSocket
//! server that is not an MQTT endpoint. After the first failure at a URL a [`Probe`] asks it
//! again, with `mqtt` and then without a subprotocol; an answer that the endpoint refuses `mqtt`,
//! or that nothing answers, is kept until a connection to that URL succeeds. An answer that it
//! takes `mqtt` is not kept: that failure was passing.

use super::socket::{Probe, ProbeAnswer};

/// What a failed handshake means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The server speaks WebSocket but refused the `mqtt` subprotocol.
    NotMqtt,
    /// Any of the causes the browser does not tell apart.
    Unknown,
}

pub(crate) struct Diagnosis {
    /// Per URL, once probed: whether it takes a WebSocket without a subprotocol but refuses
    /// `mqtt` (false: nothing answered).
    refuses_mqtt: Vec<Option<bool>>,
    probe: Option<Probe>,
}

impl Diagnosis {
    pub(crate) fn new(urls: usize) -> Diagnosis {
        Diagnosis {
            refuses_mqtt: vec![None; urls],
            probe: None,
        }
    }

    /// A handshake with `url` (number `index`) failed. Returns the verdict now, or None when a
    /// probe was started: then `on_answer` gets what it found, and the caller passes that to
    /// [`Diagnosis::learn`].
    pub(crate) fn failed(
        &mut self,
        index: usize,
        url: &str,
        on_answer: impl FnOnce(ProbeAnswer) + 'static,
    ) -> Option<Verdict> {
        match self.refuses_mqtt[index] {
            Some(true) => Some(Verdict::NotMqtt),
            Some(false) => Some(Verdict::Unknown),
            // One probe at a time: with several URLs failing together the others wait their turn.
            None if self.probe.is_some() => Some(Verdict::Unknown),
            None => match Probe::start(url, on_answer) {
                Ok(probe) => {
                    self.probe = Some(probe);
                    None
                }
                Err(_) => Some(Verdict::Unknown),
            },
        }
    }

    /// The probe of URL `index` answered.
    pub(crate) fn learn(&mut self, index: usize, answer: ProbeAnswer) -> Verdict {
        self.probe = None;
        match answer {
            ProbeAnswer::Mqtt => Verdict::Unknown,
            ProbeAnswer::WebSocketOnly => {
                self.refuses_mqtt[index] = Some(true);
                Verdict::NotMqtt
            }
            ProbeAnswer::Nothing => {
                self.refuses_mqtt[index] = Some(false);
                Verdict::Unknown
            }
        }
    }

    /// A connection to URL `index` succeeded: whatever was learnt about it is stale.
    pub(crate) fn connected(&mut self, index: usize) {
        self.refuses_mqtt[index] = None;
    }

    /// Drops a running probe (the client ends).
    pub(crate) fn stop(&mut self) {
        self.probe = None;
    }
}

/// The error code and message for a failed handshake with `url`.
pub(crate) fn report(verdict: Verdict, url: &str) -> (&'static str, String) {
    match verdict {
        Verdict::NotMqtt => (
            "WRONG_SUBPROTOCOL",
            format!("{url} accepts WebSocket connections but refused the mqtt subprotocol: it is not an MQTT over WebSocket endpoint (check the port and path)"),
        ),
        Verdict::Unknown => (
            "CONNECTION_FAILED",
            format!("could not open the WebSocket to {url} (code 1006): nothing listens there, or the server refused the upgrade or the mqtt subprotocol (not an MQTT WebSocket endpoint), or TLS failed; the browser does not say which"),
        ),
    }
}
