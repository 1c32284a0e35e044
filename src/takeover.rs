//! Telling "another client took our session over" from an ordinary lost connection, so that
//! two clients with one client id stop knocking each other off in a loop.
//!
//! MQTT 5 can say it: the broker sends DISCONNECT with reason 0x8E (Session taken over;
//! MQTT-3.1.4-3 makes it close the existing connection). MQTT 3.1.1 has no reason codes, and
//! brokers do not always send it on 5 either (mosquitto 2.0 over WebSocket just closes the
//! socket). Then a takeover looks like a flaky network: connections that close soon after the
//! broker accepted them. What tells the two apart is a probe: a second connection to the same
//! broker with the same credentials but another client id. If the network is at fault, it is
//! cut too; if the probe stays up and answers a ping while our own connections keep being
//! closed, the broker is closing them because of our client id.
//!
//! The rule, as a sequence: a connection closed before it was stable, after a stable one or
//! after another short one, starts a probe (no reconnection meanwhile); a probe that held
//! makes the next short-lived connection a takeover. A stable connection, any other ending
//! or a probe that failed starts over. So the client that held the session yields to the one
//! that took it (the newcomer keeps running while the old one probes).

use crate::codec::{reason, Packet};

/// A probe must stay up this long after its CONNACK...
pub const PROBE_HOLD_MS: u64 = 3_000;
/// ...and get each answer (CONNACK, then PINGRESP) within this.
pub const PROBE_ANSWER_MS: u64 = 3_000;
/// Short-lived connections in a row that start a probe when no stable one came before.
pub const SHORT_DROPS: u32 = 2;

/// Why the session is taken to be taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takeover {
    /// The broker said so (MQTT 5 reason 0x8E).
    Said,
    /// Inferred: our connections kept closing while a probe with another client id held.
    Inferred,
}

/// How a connection ended, as far as a takeover is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The broker sent DISCONNECT with this reason code (MQTT 5).
    Disconnect(u8),
    /// The transport closed without a DISCONNECT.
    Closed,
    /// Anything else (keepalive timeout, protocol error, ended by us).
    Other,
}

/// What the host does after a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Reconnect as usual.
    Reconnect,
    /// Run a probe (see [`ProbeExchange`]) and report it with [`TakeoverWatch::probed`] before
    /// reconnecting.
    Probe,
    /// Stop: the session belongs to another client now.
    TakenOver(Takeover),
}

#[derive(Debug)]
pub struct TakeoverWatch {
    /// A connection up this long is stable (the reconnect backoff's own notion).
    stable_after_ms: u64,
    connected_at: Option<u64>,
    short_drops: u32,
    /// The run of short-lived connections began with the close of a stable one.
    after_stable: bool,
    /// A probe with another client id held during this run.
    probe_held: bool,
}

impl TakeoverWatch {
    pub fn new(stable_after_ms: u32) -> TakeoverWatch {
        TakeoverWatch {
            stable_after_ms: u64::from(stable_after_ms),
            connected_at: None,
            short_drops: 0,
            after_stable: false,
            probe_held: false,
        }
    }

    /// The broker accepted a connection.
    pub fn connected(&mut self, now: u64) {
        self.connected_at = Some(now);
    }

    /// The connection accepted at the last [`TakeoverWatch::connected`] ended.
    pub fn lost(&mut self, now: u64, ending: Ending) -> Verdict {
        let Some(since) = self.connected_at.take() else {
            return Verdict::Reconnect;
        };
        let stable = now.saturating_sub(since) >= self.stable_after_ms;
        match ending {
            Ending::Disconnect(reason::SESSION_TAKEN_OVER) => Verdict::TakenOver(Takeover::Said),
            Ending::Closed if !stable => {
                self.short_drops += 1;
                if self.probe_held {
                    Verdict::TakenOver(Takeover::Inferred)
                } else if self.after_stable || self.short_drops >= SHORT_DROPS {
                    Verdict::Probe
                } else {
                    Verdict::Reconnect
                }
            }
            Ending::Closed => {
                self.start_over();
                self.after_stable = true;
                Verdict::Reconnect
            }
            _ => {
                self.start_over();
                Verdict::Reconnect
            }
        }
    }

    /// The probe asked for by [`Verdict::Probe`] held (or did not).
    pub fn probed(&mut self, held: bool) {
        if held {
            self.probe_held = true;
        } else {
            self.start_over();
        }
    }

    fn start_over(&mut self) {
        self.short_drops = 0;
        self.after_stable = false;
        self.probe_held = false;
    }
}

/// The probe connection's exchange, once its transport is open and its CONNECT (another client
/// id, clean, no will) sent: CONNACK accepted, then up for [`PROBE_HOLD_MS`], then PINGREQ
/// answered by PINGRESP. It holds only if all of that happened in time; the host ends it at
/// the first `Some` and reports it to [`TakeoverWatch::probed`]. A transport that closes before
/// is a failed probe.
#[derive(Debug)]
pub struct ProbeExchange {
    stage: Stage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    AwaitingConnAck { deadline: u64 },
    Holding { until: u64 },
    AwaitingPingResp { deadline: u64 },
}

impl ProbeExchange {
    /// CONNECT was sent at `now`.
    pub fn started(now: u64) -> ProbeExchange {
        ProbeExchange {
            stage: Stage::AwaitingConnAck {
                deadline: now + PROBE_ANSWER_MS,
            },
        }
    }

    /// When the host must call [`ProbeExchange::handle_timeout`].
    pub fn deadline(&self) -> u64 {
        match self.stage {
            Stage::AwaitingConnAck { deadline } | Stage::AwaitingPingResp { deadline } => deadline,
            Stage::Holding { until } => until,
        }
    }

    /// A packet from the broker: `Some(held)` when the probe is over.
    pub fn handle_packet(&mut self, now: u64, packet: &Packet) -> Option<bool> {
        match (self.stage, packet) {
            (Stage::AwaitingConnAck { .. }, Packet::ConnAck(ack)) if ack.code == 0 => {
                self.stage = Stage::Holding {
                    until: now + PROBE_HOLD_MS,
                };
                None
            }
            (Stage::AwaitingPingResp { .. }, Packet::PingResp) => Some(true),
            // A refused login, a DISCONNECT, anything unexpected: no proof the network is sound.
            (Stage::Holding { .. }, Packet::Publish(_)) => None,
            _ => Some(false),
        }
    }

    /// The deadline passed: a packet to send (the PINGREQ), or `Some(false)` when an answer is
    /// overdue.
    pub fn handle_timeout(&mut self, now: u64) -> (Option<Packet>, Option<bool>) {
        match self.stage {
            _ if now < self.deadline() => (None, None),
            Stage::Holding { .. } => {
                self.stage = Stage::AwaitingPingResp {
                    deadline: now + PROBE_ANSWER_MS,
                };
                (Some(Packet::PingReq), None)
            }
            Stage::AwaitingConnAck { .. } | Stage::AwaitingPingResp { .. } => (None, Some(false)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{ConnAck, Properties};

    const STABLE: u32 = 10_000;

    /// A connection accepted at `from` and ended at `to`.
    fn connection(watch: &mut TakeoverWatch, from: u64, to: u64, ending: Ending) -> Verdict {
        watch.connected(from);
        watch.lost(to, ending)
    }

    #[test]
    fn reason_0x8e_is_a_takeover_other_reasons_are_not() {
        let mut watch = TakeoverWatch::new(STABLE);
        let shutting_down = Ending::Disconnect(reason::SERVER_SHUTTING_DOWN);
        assert_eq!(
            connection(&mut watch, 0, 10, shutting_down),
            Verdict::Reconnect
        );
        let taken = Ending::Disconnect(reason::SESSION_TAKEN_OVER);
        assert_eq!(
            connection(&mut watch, 20, 30, taken),
            Verdict::TakenOver(Takeover::Said)
        );
        assert_eq!(
            watch.lost(40, Ending::Closed),
            Verdict::Reconnect,
            "no connection: nothing ended"
        );
    }

    #[test]
    fn the_client_that_held_the_session_probes_then_yields_at_the_next_short_drop() {
        let mut watch = TakeoverWatch::new(STABLE);
        assert_eq!(
            connection(&mut watch, 0, 60_000, Ending::Closed),
            Verdict::Reconnect,
            "a stable connection closed: the other client took the session"
        );
        assert_eq!(
            connection(&mut watch, 60_500, 61_000, Ending::Closed),
            Verdict::Probe,
            "took it back, lost it again at once"
        );
        watch.probed(true);
        assert_eq!(
            connection(&mut watch, 64_500, 65_000, Ending::Closed),
            Verdict::TakenOver(Takeover::Inferred)
        );
    }

    #[test]
    fn a_newcomer_probes_after_two_short_connections() {
        let mut watch = TakeoverWatch::new(STABLE);
        assert_eq!(
            connection(&mut watch, 0, 500, Ending::Closed),
            Verdict::Reconnect
        );
        assert_eq!(
            connection(&mut watch, 1_000, 4_000, Ending::Closed),
            Verdict::Probe
        );
        watch.probed(true);
        assert_eq!(
            connection(&mut watch, 8_000, 9_000, Ending::Closed),
            Verdict::TakenOver(Takeover::Inferred)
        );
    }

    #[test]
    fn a_flaky_network_fails_the_probe_and_never_looks_like_a_takeover() {
        let mut watch = TakeoverWatch::new(STABLE);
        let mut now = 0;
        connection(&mut watch, now, now + 60_000, Ending::Closed);
        now += 60_000;
        for _ in 0..100 {
            let verdict = connection(&mut watch, now + 300, now + 600, Ending::Closed);
            assert_ne!(verdict, Verdict::TakenOver(Takeover::Inferred));
            if verdict == Verdict::Probe {
                // The probe goes through the same network: cut as well.
                watch.probed(false);
            }
            now += 600;
        }
    }

    #[test]
    fn a_stable_connection_or_another_ending_starts_over() {
        let mut watch = TakeoverWatch::new(STABLE);
        connection(&mut watch, 0, 100, Ending::Closed);
        connection(&mut watch, 200, 300, Ending::Closed);
        watch.probed(true);
        assert_eq!(
            connection(&mut watch, 400, 20_000, Ending::Closed),
            Verdict::Reconnect,
            "stable: the held probe no longer counts"
        );
        assert_eq!(
            connection(&mut watch, 20_100, 20_200, Ending::Other),
            Verdict::Reconnect,
            "a keepalive timeout is not a drop by the broker"
        );
        assert_eq!(
            connection(&mut watch, 20_300, 20_400, Ending::Closed),
            Verdict::Reconnect,
            "the run after a keepalive timeout starts from nothing"
        );
    }

    fn connack(code: u8) -> Packet {
        Packet::ConnAck(ConnAck {
            session_present: false,
            code,
            properties: Properties::default(),
        })
    }

    #[test]
    fn a_probe_holds_when_accepted_kept_up_and_pinged_back() {
        let mut probe = ProbeExchange::started(0);
        assert_eq!(probe.handle_packet(100, &connack(0)), None);
        assert_eq!(probe.deadline(), 100 + PROBE_HOLD_MS);
        assert_eq!(probe.handle_timeout(1_000), (None, None), "not yet");
        let at = 100 + PROBE_HOLD_MS;
        assert_eq!(probe.handle_timeout(at), (Some(Packet::PingReq), None));
        assert_eq!(probe.handle_packet(at + 50, &Packet::PingResp), Some(true));
    }

    #[test]
    fn a_probe_fails_when_refused_or_unanswered() {
        let mut refused = ProbeExchange::started(0);
        assert_eq!(
            refused.handle_packet(10, &connack(reason::NOT_AUTHORIZED)),
            Some(false)
        );
        let mut silent = ProbeExchange::started(0);
        assert_eq!(silent.handle_timeout(PROBE_ANSWER_MS), (None, Some(false)));
        let mut stalled = ProbeExchange::started(0);
        stalled.handle_packet(10, &connack(0));
        let (ping, _) = stalled.handle_timeout(10 + PROBE_HOLD_MS);
        assert_eq!(ping, Some(Packet::PingReq));
        assert_eq!(
            stalled.handle_timeout(10 + PROBE_HOLD_MS + PROBE_ANSWER_MS),
            (None, Some(false)),
            "a half-open link answers no ping"
        );
    }
}
