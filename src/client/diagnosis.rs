//! Why a WebSocket handshake failed, as far as a page can tell. Browsers report every failed
//! handshake as close code 1006 with no detail (nothing listening, the upgrade refused, the
//! `mqtt` subprotocol refused, a TLS failure), to keep pages from scanning networks. One case
//! is worth telling apart, the most common misconfiguration: a URL that reaches a WebSocket
//! server that is not an MQTT endpoint. After the first failure at a URL the client asks the
//! host to probe it (with `mqtt`, then without a subprotocol); an answer that the endpoint
//! refuses `mqtt`, or that nothing answers, is kept until a connection to that URL succeeds. An
//! answer that it takes `mqtt` is not kept: that failure was passing.

use super::error::ClientError;

/// What a probe found at a URL whose handshake failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeAnswer {
    /// A WebSocket with the `mqtt` subprotocol opened: an MQTT endpoint, the failure was passing
    /// (a connection cut during the handshake, a broker restarting).
    Mqtt,
    /// Only a WebSocket without a subprotocol opened: the server refuses `mqtt`.
    WebSocketOnly,
    /// Neither opened.
    Nothing,
}

/// A probe the host is asked to run; its answer goes to `Client::handle_probe_answer` with `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRequest {
    pub id: u32,
    pub url: String,
}

/// What a failed handshake means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The server speaks WebSocket but refused the `mqtt` subprotocol.
    NotMqtt,
    /// Any of the causes the browser does not tell apart.
    Unknown,
}

/// The probe running: its id, the URL it asks and the socket whose failure it explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Running {
    pub(crate) id: u32,
    pub(crate) url_index: usize,
    pub(crate) socket: u32,
}

pub(crate) struct Diagnosis {
    /// Per URL, once probed: whether it takes a WebSocket without a subprotocol but refuses
    /// `mqtt` (false: nothing answered).
    refuses_mqtt: Vec<Option<bool>>,
    running: Option<Running>,
    next_id: u32,
}

impl Diagnosis {
    pub(crate) fn new(urls: usize) -> Diagnosis {
        Diagnosis {
            refuses_mqtt: vec![None; urls],
            running: None,
            next_id: 0,
        }
    }

    /// The handshake of `socket` with URL `url_index` failed. Returns the verdict now, or the
    /// probe to run (Err) when only a probe can tell.
    pub(crate) fn failed(&mut self, url_index: usize, socket: u32) -> Result<Verdict, Running> {
        match self.refuses_mqtt[url_index] {
            Some(true) => Ok(Verdict::NotMqtt),
            Some(false) => Ok(Verdict::Unknown),
            // One probe at a time: with several URLs failing together the others wait their turn.
            None if self.running.is_some() => Ok(Verdict::Unknown),
            None => {
                self.next_id += 1;
                let running = Running {
                    id: self.next_id,
                    url_index,
                    socket,
                };
                self.running = Some(running);
                Err(running)
            }
        }
    }

    /// The probe `id` answered (None: it could not even start). Returns the probe it was and
    /// the verdict, or None for an answer nobody waits for any more.
    pub(crate) fn learn(
        &mut self,
        id: u32,
        answer: Option<ProbeAnswer>,
    ) -> Option<(Running, Verdict)> {
        let running = self.running.filter(|r| r.id == id)?;
        self.running = None;
        let verdict = match answer {
            None | Some(ProbeAnswer::Mqtt) => Verdict::Unknown,
            Some(ProbeAnswer::WebSocketOnly) => {
                self.refuses_mqtt[running.url_index] = Some(true);
                Verdict::NotMqtt
            }
            Some(ProbeAnswer::Nothing) => {
                self.refuses_mqtt[running.url_index] = Some(false);
                Verdict::Unknown
            }
        };
        Some((running, verdict))
    }

    /// Whether the failure of `socket` waits for a probe's verdict.
    pub(crate) fn holds(&self, socket: u32) -> bool {
        self.running.is_some_and(|r| r.socket == socket)
    }

    /// A connection to URL `url_index` succeeded: whatever was learnt about it is stale.
    pub(crate) fn connected(&mut self, url_index: usize) {
        self.refuses_mqtt[url_index] = None;
    }

    /// Forgets a running probe (the client ends).
    pub(crate) fn stop(&mut self) {
        self.running = None;
    }
}

/// The error for a failed handshake with `url`.
pub(crate) fn report(verdict: Verdict, url: &str) -> ClientError {
    match verdict {
        Verdict::NotMqtt => ClientError::new(
            "WRONG_SUBPROTOCOL",
            format!("{url} accepts WebSocket connections but refused the mqtt subprotocol: it is not an MQTT over WebSocket endpoint (check the port and path)"),
        ),
        Verdict::Unknown => ClientError::new(
            "CONNECTION_FAILED",
            format!("could not open the WebSocket to {url} (code 1006): nothing listens there, or the server refused the upgrade or the mqtt subprotocol (not an MQTT WebSocket endpoint), or TLS failed; the browser does not say which"),
        ),
    }
}
