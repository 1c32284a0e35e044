//! Telling "another client took our session over" from an ordinary lost connection, so that
//! two clients with one client id stop instead of knocking each other off in a loop.
//!
//! MQTT 5 can say it: the broker sends DISCONNECT with reason 0x8E (Session taken over;
//! MQTT-3.1.4-3 makes it close the existing connection). MQTT 3.1.1 has no reason codes, and
//! brokers do not always send it on 5 either (mosquitto over WebSocket just closes): the socket
//! closes soon after our CONNACK. So a run of connections the broker closes shortly after
//! accepting them is taken for a takeover too. The client that held the session first yields
//! sooner (its stable connection closed, then its first reconnection at once) than the one
//! that just took it (three quick drops), so that the newcomer keeps the session.

use crate::codec::reason;

/// A connection the broker closes within this many ms of accepting it counts as a quick drop.
pub const QUICK_DROP_MS: u64 = 2_000;
/// This many quick drops in a row are taken for a takeover...
pub const QUICK_DROPS: u32 = 3;
/// ...or this many right after a stable connection was closed.
pub const QUICK_DROPS_AFTER_STABLE: u32 = 1;

/// Why the session is taken to be taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takeover {
    /// The broker said so (MQTT 5 reason 0x8E).
    Said,
    /// Inferred from repeated quick drops.
    Inferred,
}

#[derive(Debug, Default)]
pub struct TakeoverWatch {
    connected_at: Option<u64>,
    quick_drops: u32,
    /// The run of quick drops began with the close of a stable connection.
    after_stable: bool,
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

    /// The connection ended; Some when the session was taken over by another client.
    pub fn lost(&mut self, now: u64, ending: Ending) -> Option<Takeover> {
        let since = self.connected_at.take()?;
        match ending {
            Ending::Disconnect(code) => {
                self.quick_drops = 0;
                self.after_stable = false;
                (code == reason::SESSION_TAKEN_OVER).then_some(Takeover::Said)
            }
            Ending::Closed if now.saturating_sub(since) < QUICK_DROP_MS => {
                self.quick_drops += 1;
                let needed = if self.after_stable {
                    QUICK_DROPS_AFTER_STABLE
                } else {
                    QUICK_DROPS
                };
                (self.quick_drops >= needed).then_some(Takeover::Inferred)
            }
            Ending::Closed => {
                self.quick_drops = 0;
                self.after_stable = true;
                None
            }
            _ => {
                self.quick_drops = 0;
                self.after_stable = false;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_0x8e_is_a_takeover_other_reasons_are_not() {
        let mut watch = TakeoverWatch::default();
        watch.connected(0);
        let shutting_down = Ending::Disconnect(reason::SERVER_SHUTTING_DOWN);
        assert_eq!(watch.lost(10, shutting_down), None);
        watch.connected(20);
        let taken = Ending::Disconnect(reason::SESSION_TAKEN_OVER);
        assert_eq!(watch.lost(30, taken), Some(Takeover::Said));
        watch.connected(40);
        assert_eq!(
            watch.lost(50, Ending::Closed),
            None,
            "one quick drop is a lost connection"
        );
    }

    #[test]
    fn repeated_quick_drops_are_a_takeover() {
        let mut watch = TakeoverWatch::default();
        let mut now = 0;
        for i in 0..QUICK_DROPS {
            watch.connected(now);
            let expected = (i == QUICK_DROPS - 1).then_some(Takeover::Inferred);
            assert_eq!(watch.lost(now + 100, Ending::Closed), expected);
            now += 1_000;
        }
        assert_eq!(
            watch.lost(now, Ending::Closed),
            None,
            "no connection: no drop"
        );
        watch.connected(now);
        assert_eq!(
            watch.lost(now + 10, Ending::Other),
            None,
            "a keepalive timeout is not one"
        );
    }

    #[test]
    fn the_client_that_held_the_session_yields_at_its_first_quick_drop() {
        let mut watch = TakeoverWatch::default();
        watch.connected(0);
        assert_eq!(
            watch.lost(60_000, Ending::Closed),
            None,
            "a stable connection closed"
        );
        watch.connected(60_500);
        assert_eq!(watch.lost(61_000, Ending::Closed), Some(Takeover::Inferred));
        // A keepalive timeout between them breaks the run.
        watch.connected(70_000);
        assert_eq!(watch.lost(90_000, Ending::Closed), None);
        watch.connected(90_500);
        assert_eq!(watch.lost(95_000, Ending::Other), None);
        watch.connected(95_500);
        assert_eq!(watch.lost(95_600, Ending::Closed), None);
    }
}
