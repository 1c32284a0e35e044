//! Telling "another client took our session over" from an ordinary lost connection, so that
//! two clients with one client id stop instead of knocking each other off in a loop.
//!
//! MQTT 5 says it: the broker sends DISCONNECT with reason 0x8E (Session taken over,
//! MQTT-3.1.4-3 makes it close the existing connection). MQTT 3.1.1 has no reason codes: the
//! broker just closes the socket, soon after our CONNACK. So on 3.1.1 a run of connections the
//! broker closes shortly after accepting them is taken for a takeover.

use crate::codec::reason;

/// A connection the broker closes within this many ms of accepting it counts as a quick drop.
pub const QUICK_DROP_MS: u64 = 3_000;
/// This many quick drops in a row on MQTT 3.1.1 are taken for a takeover.
pub const QUICK_DROPS: u32 = 3;

#[derive(Debug, Default)]
pub struct TakeoverWatch {
    connected_at: Option<u64>,
    quick_drops: u32,
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

impl TakeoverWatch {
    pub fn connected(&mut self, now: u64) {
        self.connected_at = Some(now);
    }

    /// The connection ended; true when the session was taken over by another client.
    /// `reasons`: whether the protocol has reason codes (MQTT 5).
    pub fn lost(&mut self, now: u64, ending: Ending, reasons: bool) -> bool {
        let Some(since) = self.connected_at.take() else {
            return false;
        };
        match ending {
            Ending::Disconnect(code) => {
                self.quick_drops = 0;
                code == reason::SESSION_TAKEN_OVER
            }
            Ending::Closed if !reasons && now.saturating_sub(since) < QUICK_DROP_MS => {
                self.quick_drops += 1;
                self.quick_drops >= QUICK_DROPS
            }
            _ => {
                self.quick_drops = 0;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mqtt5_reason_0x8e_is_a_takeover_other_reasons_are_not() {
        let mut watch = TakeoverWatch::default();
        watch.connected(0);
        assert!(!watch.lost(10, Ending::Disconnect(reason::SERVER_SHUTTING_DOWN), true));
        watch.connected(20);
        assert!(watch.lost(30, Ending::Disconnect(reason::SESSION_TAKEN_OVER), true));
        watch.connected(40);
        assert!(
            !watch.lost(50, Ending::Closed, true),
            "a plain close on MQTT 5 is a lost connection"
        );
    }

    #[test]
    fn mqtt311_repeated_quick_drops_are_a_takeover_and_a_stable_connection_resets_the_count() {
        let mut watch = TakeoverWatch::default();
        let mut now = 0;
        for _ in 0..QUICK_DROPS - 1 {
            watch.connected(now);
            assert!(!watch.lost(now + 500, Ending::Closed, false));
            now += 1_000;
        }
        watch.connected(now);
        assert!(
            !watch.lost(now + QUICK_DROP_MS, Ending::Closed, false),
            "a long connection"
        );
        now += 10_000;
        for i in 0..QUICK_DROPS {
            watch.connected(now);
            assert_eq!(
                watch.lost(now + 100, Ending::Closed, false),
                i == QUICK_DROPS - 1
            );
            now += 1_000;
        }
        assert!(
            !watch.lost(now, Ending::Closed, false),
            "no connection: no drop"
        );
    }
}
