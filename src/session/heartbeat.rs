//! Keepalive: when to send PINGREQ, when the link counts as dead, and the measured round trip.
//!
//! PINGREQ goes out once per interval whatever the traffic (MQTT-3.1.2-23 lets a client ping at
//! any time): the broker still hears from us within the Keep Alive (MQTT-3.1.2-20), silence from
//! the broker is noticed while we publish steadily, and every PINGRESP gives a round trip, also
//! on a busy link.
//!
//! Two ways to judge the link dead:
//! - [`Keepalive::Fixed`]: the interval is the negotiated Keep Alive; nothing received within
//!   `ping_timeout_ms` of a PINGREQ ends the connection.
//! - [`Keepalive::Adaptive`] (the seed's remedy for heartbeats tuned for another network): the
//!   interval follows the measured round trip, 5 s while it is under 100 ms, else 2.5 x (smoothed
//!   RTT + 4 x its deviation), never above the negotiated Keep Alive; the link is dead when
//!   nothing arrived for three intervals from the first PINGREQ left unanswered. A slow or
//!   jittery link stretches the interval instead of being dropped, and a dead one is found
//!   within three short beats.

/// How the link is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keepalive {
    Fixed { ping_timeout_ms: u64 },
    Adaptive,
}

/// The adaptive interval on a fast link (round trip under [`FAST_RTT_MS`]).
pub const ADAPTIVE_BASE_MS: u64 = 5_000;
const FAST_RTT_MS: u64 = 100;
/// Intervals with nothing received, from the first unanswered PINGREQ, before an adaptive link
/// counts as dead.
pub const MISSED_BEATS: u64 = 3;

/// What the session must do at a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Beat {
    Ping,
    Dead,
}

#[derive(Debug, Clone)]
pub(crate) struct Heartbeat {
    mode: Keepalive,
    /// The negotiated Keep Alive in ms (0: off).
    keep_alive_ms: u64,
    up: bool,
    last_ping: u64,
    last_received: u64,
    /// The oldest PINGREQ whose PINGRESP has not come yet: PINGRESPs answer in order.
    ping_sent_at: Option<u64>,
    /// The first PINGREQ with nothing received since it (fixed mode's timeout runs from it).
    unanswered_since: Option<u64>,
    /// Smoothed round trip and its mean deviation (RFC 6298's estimator), in ms.
    srtt: Option<u64>,
    rttvar: u64,
}

impl Heartbeat {
    pub(crate) fn new(mode: Keepalive) -> Heartbeat {
        Heartbeat {
            mode,
            keep_alive_ms: 0,
            up: false,
            last_ping: 0,
            last_received: 0,
            ping_sent_at: None,
            unanswered_since: None,
            srtt: None,
            rttvar: 0,
        }
    }

    /// A connection was accepted with this Keep Alive (seconds, 0: off).
    pub(crate) fn connected(&mut self, now: u64, keep_alive_s: u16) {
        self.keep_alive_ms = u64::from(keep_alive_s) * 1000;
        self.up = true;
        self.last_ping = now;
        self.last_received = now;
        self.ping_sent_at = None;
        self.unanswered_since = None;
    }

    pub(crate) fn disconnected(&mut self) {
        self.up = false;
        self.ping_sent_at = None;
        self.unanswered_since = None;
    }

    /// Anything arrived from the broker; `pingresp` when it was a PINGRESP.
    pub(crate) fn received(&mut self, now: u64, pingresp: bool) {
        self.last_received = now;
        if pingresp {
            if let Some(sent_at) = self.ping_sent_at.take() {
                self.sample(now.saturating_sub(sent_at));
            }
        }
    }

    /// The smoothed round trip of PINGREQ / PINGRESP, once measured.
    pub(crate) fn rtt_ms(&self) -> Option<u64> {
        self.srtt
    }

    /// The current time between PINGREQs (0: keepalive off).
    pub(crate) fn interval_ms(&self) -> u64 {
        match self.mode {
            Keepalive::Fixed { .. } => self.keep_alive_ms,
            Keepalive::Adaptive => {
                let wanted = match self.srtt {
                    Some(srtt) if srtt >= FAST_RTT_MS => (srtt + 4 * self.rttvar) * 5 / 2,
                    _ => ADAPTIVE_BASE_MS,
                };
                wanted.max(ADAPTIVE_BASE_MS).min(self.keep_alive_ms)
            }
        }
    }

    pub(crate) fn poll_timeout(&self) -> Option<u64> {
        if !self.up || self.keep_alive_ms == 0 {
            return None;
        }
        Some(self.next_ping().min(self.dead_at()))
    }

    /// Call at (or after) the deadline from `poll_timeout`.
    pub(crate) fn on_timeout(&mut self, now: u64) -> Option<Beat> {
        if !self.up || self.keep_alive_ms == 0 {
            return None;
        }
        if now >= self.dead_at() {
            return Some(Beat::Dead);
        }
        if now >= self.next_ping() {
            self.last_ping = now;
            self.ping_sent_at.get_or_insert(now);
            if self
                .unanswered_since
                .is_none_or(|at| self.last_received > at)
            {
                self.unanswered_since = Some(now);
            }
            return Some(Beat::Ping);
        }
        None
    }

    fn next_ping(&self) -> u64 {
        self.last_ping + self.interval_ms()
    }

    /// When the link counts as dead if nothing arrives before.
    fn dead_at(&self) -> u64 {
        let patience = match self.mode {
            Keepalive::Fixed { ping_timeout_ms } => ping_timeout_ms,
            Keepalive::Adaptive => MISSED_BEATS * self.interval_ms(),
        };
        match self.unanswered_since {
            Some(sent_at) if self.last_received <= sent_at => sent_at + patience,
            _ => u64::MAX,
        }
    }

    fn sample(&mut self, rtt: u64) {
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = rtt / 2;
            }
            Some(srtt) => {
                self.rttvar = (3 * self.rttvar + srtt.abs_diff(rtt)) / 4;
                self.srtt = Some((7 * srtt + rtt) / 8);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(keep_alive_s: u16, ping_timeout_ms: u64) -> Heartbeat {
        let mut h = Heartbeat::new(Keepalive::Fixed { ping_timeout_ms });
        h.connected(0, keep_alive_s);
        h
    }

    /// Runs the heartbeat to `until`, the broker answering each PINGREQ after `answer(n)` ms
    /// (None: never); returns when the link was judged dead, if it was.
    fn run(h: &mut Heartbeat, until: u64, answer: impl Fn(u64) -> Option<u64>) -> Option<u64> {
        let mut pending: Vec<u64> = Vec::new();
        let mut pings = 0;
        let mut now = 0;
        while now < until {
            let next_answer = pending.iter().copied().min().unwrap_or(u64::MAX);
            let deadline = h.poll_timeout().unwrap_or(u64::MAX);
            now = next_answer.min(deadline);
            if now >= until {
                break;
            }
            if now == next_answer {
                pending.retain(|&at| at != now);
                h.received(now, true);
                continue;
            }
            match h.on_timeout(now) {
                Some(Beat::Dead) => return Some(now),
                Some(Beat::Ping) => {
                    if let Some(delay) = answer(pings) {
                        pending.push(now + delay);
                    }
                    pings += 1;
                }
                None => {}
            }
        }
        None
    }

    #[test]
    fn a_fixed_keepalive_pings_every_interval_even_while_packets_arrive() {
        let mut h = fixed(10, 2_000);
        for t in (0..=9_000).step_by(1_000) {
            h.received(t, false);
        }
        assert_eq!(h.poll_timeout(), Some(10_000));
        assert_eq!(
            h.on_timeout(10_000),
            Some(Beat::Ping),
            "a busy link is pinged too"
        );
        h.received(10_030, true);
        assert_eq!(
            h.rtt_ms(),
            Some(30),
            "the round trip measured on a busy link"
        );
    }

    #[test]
    fn a_fixed_keepalive_counts_the_link_dead_when_nothing_follows_a_ping_within_the_timeout() {
        let mut h = fixed(10, 2_000);
        assert_eq!(h.on_timeout(10_000), Some(Beat::Ping));
        assert_eq!(h.poll_timeout(), Some(12_000));
        assert_eq!(h.on_timeout(11_999), None);
        assert_eq!(h.on_timeout(12_000), Some(Beat::Dead));
        // Any packet after the ping proves the link alive, PINGRESP or not.
        let mut h = fixed(10, 2_000);
        h.on_timeout(10_000);
        h.received(11_000, false);
        assert_eq!(h.on_timeout(12_000), None);
    }

    #[test]
    fn the_seeds_fixed_setting_drops_a_link_whose_answers_are_late_in_a_jitter_storm_and_adaptive_does_not(
    ) {
        // Answers 10 s late: the seed's bad example (30 s keepalive, a 10 s timeout) counts
        // the link dead; the adaptive heartbeat stretches its beat and keeps it.
        let storm = |_: u64| Some(10_500);
        let mut fixed_setting = fixed(30, 10_000);
        assert!(
            run(&mut fixed_setting, 600_000, storm).is_some(),
            "a false disconnect"
        );
        let mut adaptive = Heartbeat::new(Keepalive::Adaptive);
        adaptive.connected(0, 60);
        assert_eq!(run(&mut adaptive, 600_000, storm), None);
        assert!(
            adaptive.interval_ms() > ADAPTIVE_BASE_MS,
            "{}",
            adaptive.interval_ms()
        );
        assert!(adaptive.interval_ms() <= 60_000);
    }

    #[test]
    fn a_half_open_link_is_found_sooner_by_the_adaptive_heartbeat_than_by_the_seeds_fixed_setting()
    {
        // The broker answers in 20 ms until 60 s, then nothing (a half-open link).
        let answer = |n: u64| (n < 12).then_some(20);
        let mut adaptive = Heartbeat::new(Keepalive::Adaptive);
        adaptive.connected(0, 60);
        let adaptive_dead = run(&mut adaptive, 600_000, answer).expect("found dead");
        let mut fixed_setting = fixed(30, 10_000);
        let fixed_dead =
            run(&mut fixed_setting, 600_000, |n| (n < 2).then_some(20)).expect("found dead");
        // Both last heard the broker at 60.02 s. Fixed: the ping at 90 s goes unanswered, dead
        // at 100 s. Adaptive: 5 s beats; the ping at 65 s goes unanswered, dead three beats on.
        assert_eq!(fixed_dead, 100_000);
        assert_eq!(adaptive_dead, 65_000 + MISSED_BEATS * ADAPTIVE_BASE_MS);
        assert!(adaptive_dead < fixed_dead);
    }

    #[test]
    fn the_adaptive_interval_follows_the_round_trip_and_its_variance_within_the_keepalive() {
        let mut h = Heartbeat::new(Keepalive::Adaptive);
        h.connected(0, 20);
        assert_eq!(h.interval_ms(), ADAPTIVE_BASE_MS, "5 s before any sample");
        h.on_timeout(5_000);
        h.received(5_050, true);
        assert_eq!(h.interval_ms(), ADAPTIVE_BASE_MS, "under 100 ms: 5 s");
        let mut slow = Heartbeat::new(Keepalive::Adaptive);
        slow.connected(0, 20);
        slow.on_timeout(5_000);
        slow.received(5_800, true);
        // srtt 800, rttvar 400: 2.5 x (800 + 1,600) = 6,000 ms.
        assert_eq!(slow.interval_ms(), 6_000);
        let mut very_slow = Heartbeat::new(Keepalive::Adaptive);
        very_slow.connected(0, 20);
        very_slow.on_timeout(5_000);
        very_slow.received(15_000, true);
        assert_eq!(
            very_slow.interval_ms(),
            20_000,
            "never above the negotiated keepalive"
        );
    }

    #[test]
    fn a_ping_timeout_longer_than_the_keepalive_still_ends_a_silent_link() {
        // Pings go on every second; the timeout runs from the first one nothing answered.
        let mut h = fixed(1, 3_000);
        assert_eq!(run(&mut h, 60_000, |_| None), Some(4_000));
    }

    #[test]
    fn keepalive_zero_never_pings_nor_judges() {
        let mut h = fixed(0, 2_000);
        assert_eq!(h.poll_timeout(), None);
        assert_eq!(h.on_timeout(1_000_000), None);
    }
}
