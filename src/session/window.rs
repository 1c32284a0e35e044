//! The adaptive in-flight window (the seed's remedy for a window tuned for another network).
//!
//! Over TCP the client never sees a loss: the only sign that the link or the broker is
//! saturated is that acknowledgements come back later, as the messages wait in buffers on the
//! way. So the rule is delay-based, as TCP Vegas and LEDBAT are, not loss-based AIMD:
//! - `base` is the lowest PUBACK/PUBREC latency seen lately (the path with empty buffers);
//! - once per round, the lowest latency of the round decides: that is the queue that stayed on
//!   the path the whole round, not a burst's noise. A round counts only the messages sent after
//!   the last decision (the ones before tell what the window was, not what it is) and lasts one
//!   of their latencies:
//!   - under [`grow_below`] (`base` x 2 + 20 ms) the window grows: doubling per round until the
//!     first sign of
//!     queueing, then by one per round (after a decrease, doubling again up to half the window
//!     it started from, so that a passing spike costs a few rounds, not hundreds);
//!   - above [`shrink_above`] (`base` x 3 + 40 ms) it shrinks in proportion, to what would have
//!     kept the round at
//!     the growth line's latency (so slow start's overshoot drains in one round);
//!   - in between it holds.
//!
//! A fast path keeps its latency at `base` and the window reaches its cap (no throughput lost);
//! a slow link or a slow broker sees a short queue on the way, so what shares the connection
//! with the messages (PINGREQ, SUBSCRIBE, acknowledgements of what we receive, a request's
//! answer) does not wait behind seconds of them. The cap is min(`maxInflight`, the broker's
//! Receive Maximum). The lines leave room for what is not a queue: a busy page or broker delays
//! an acknowledgement too, and reading that as congestion costs throughput (measured: lines at
//! 1.5 x + 10 and 2 x + 20 halved it on a loaded machine); the slack terms keep timer noise on a
//! LAN from counting.
//! Resent (DUP) messages give no sample: their latency is ambiguous (Karn's rule).

/// Where a window starts, and where it starts again on a new connection.
pub const INITIAL_WINDOW: u16 = 16;
/// How long a lowest latency stands for the base: a path whose delay rises for good (a new
/// route) gets a new base after one to two epochs.
const BASE_EPOCH_MS: u64 = 10_000;

/// The latency under which the window grows: the path's own plus a queue of about as much.
fn grow_below(base: u64) -> u64 {
    2 * base + 20
}

/// The latency over which it shrinks.
fn shrink_above(base: u64) -> u64 {
    3 * base + 40
}

#[derive(Debug, Clone)]
pub(crate) struct AdaptiveWindow {
    cap: u16,
    window: u16,
    /// Below it the window doubles per round (slow start), above it grows by one: the cap at
    /// first, then half the window a decrease started from, so that after a passing spike the
    /// window is back within a few rounds, as TCP's ssthresh does.
    doubling_below: u16,
    /// When the last decision was made; the current round's first sample and lowest latency.
    round_start: u64,
    round_first: Option<u64>,
    round_min: Option<u64>,
    /// Lowest latency of the current epoch and of the one before.
    epoch_started: u64,
    epoch_min: Option<u64>,
    previous_min: Option<u64>,
}

impl AdaptiveWindow {
    pub(crate) fn new() -> AdaptiveWindow {
        AdaptiveWindow {
            cap: u16::MAX,
            window: INITIAL_WINDOW,
            doubling_below: u16::MAX,
            round_start: 0,
            round_first: None,
            round_min: None,
            epoch_started: 0,
            epoch_min: None,
            previous_min: None,
        }
    }

    /// A new connection: its cap, and a fresh start (its path may be another).
    pub(crate) fn restart(&mut self, now: u64, cap: u16) {
        *self = AdaptiveWindow::new();
        self.cap = cap.max(1);
        self.window = INITIAL_WINDOW.min(self.cap);
        self.epoch_started = now;
        self.round_start = now;
    }

    pub(crate) fn window(&self) -> u16 {
        self.window
    }

    /// A first acknowledgement `latency_ms` after its PUBLISH left.
    pub(crate) fn acknowledged(&mut self, now: u64, latency_ms: u64) {
        self.note_base(now, latency_ms);
        if now.saturating_sub(latency_ms) < self.round_start {
            return; // sent under the window before the last decision
        }
        let lowest = self.round_min.map_or(latency_ms, |m| m.min(latency_ms));
        self.round_min = Some(lowest);
        let first = *self.round_first.get_or_insert(now);
        if now < first + lowest {
            return;
        }
        self.round_start = now;
        self.round_first = None;
        self.round_min = None;
        let base = self.base_ms();
        if lowest <= grow_below(base) {
            let grown = if self.window < self.doubling_below {
                self.window.saturating_mul(2).min(self.doubling_below)
            } else {
                self.window.saturating_add(1)
            };
            self.window = grown.min(self.cap);
        } else if lowest > shrink_above(base) {
            self.doubling_below = self.window / 2;
            // In proportion: to what would have kept the round at the growth line's latency,
            // so that slow start's overshoot drains in one round (and at least by one, so that
            // a small window still shrinks).
            let scaled = u64::from(self.window) * grow_below(base) / lowest;
            self.window = (scaled as u16).min(self.window - 1).max(1);
        }
    }

    fn note_base(&mut self, now: u64, latency_ms: u64) {
        if now.saturating_sub(self.epoch_started) >= BASE_EPOCH_MS {
            self.previous_min = self.epoch_min.take();
            self.epoch_started = now;
        }
        self.epoch_min = Some(self.epoch_min.map_or(latency_ms, |m| m.min(latency_ms)));
    }

    fn base_ms(&self) -> u64 {
        match (self.epoch_min, self.previous_min) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Acks every 10 ms from `from`, each with `latency(now)`.
    fn fed(window: &mut AdaptiveWindow, from: u64, acks: u64, latency: impl Fn(u64) -> u64) {
        for i in 0..acks {
            let now = from + i * 10;
            window.acknowledged(now, latency(now));
        }
    }

    #[test]
    fn a_fast_path_grows_to_the_cap() {
        let mut w = AdaptiveWindow::new();
        w.restart(0, 200);
        assert_eq!(w.window(), INITIAL_WINDOW);
        fed(&mut w, 0, 400, |_| 5);
        assert_eq!(
            w.window(),
            200,
            "latency at the base: no reason to hold back"
        );
    }

    #[test]
    fn slow_start_doubles_once_per_round() {
        let mut w = AdaptiveWindow::new();
        w.restart(0, 1000);
        // 50 ms latency, acks every 10 ms. Round one: samples from 0, decided at 50 ms. Round
        // two counts messages sent from 50 ms: acked from 100 ms, decided at 150 ms.
        fed(&mut w, 0, 15, |_| 50);
        assert_eq!(w.window(), 32);
        fed(&mut w, 150, 1, |_| 50);
        assert_eq!(w.window(), 64);
    }

    #[test]
    fn acks_of_messages_sent_before_a_decision_do_not_decide() {
        let mut w = AdaptiveWindow::new();
        w.restart(0, 1000);
        fed(&mut w, 0, 6, |_| 50); // decided at 50 ms: 32
                                   // Slow acks of messages sent at 0-50 ms, under the old window: no decision.
        fed(&mut w, 60, 4, |now| now);
        assert_eq!(w.window(), 32);
    }

    #[test]
    fn a_long_queue_shrinks_the_window_in_proportion_once_per_round() {
        let mut w = AdaptiveWindow::new();
        w.restart(0, 1000);
        fed(&mut w, 0, 100, |_| 20); // base 20 ms: the growth line 60 ms, the decrease line 100
        assert_eq!(w.window(), 1000);
        // Queueing: every ack now takes 600 ms, ten times the growth line.
        fed(&mut w, 1_000, 200, |_| 600);
        let rounds = w.window();
        assert!(
            rounds <= 100,
            "down to a tenth in the first round: {rounds}"
        );
        assert!(rounds >= 1);
    }

    #[test]
    fn a_queue_just_over_the_line_takes_its_share_off() {
        let mut w = AdaptiveWindow::new();
        w.restart(0, 1000);
        fed(&mut w, 0, 100, |_| 20);
        // The first round whose messages were all sent after 1,000 ms ends at 1,000 + 101 x 2.
        fed(&mut w, 1_000, 21, |_| 101);
        assert_eq!(w.window(), 1000 * 60 / 101);
    }

    #[test]
    fn a_short_burst_within_a_round_does_not_count() {
        let mut w = AdaptiveWindow::new();
        w.restart(0, 1000);
        fed(&mut w, 0, 12, |_| 20);
        let grown = w.window();
        // Within each round one ack is quick: the queue did not last.
        fed(&mut w, 200, 300, |now| if now % 40 == 0 { 20 } else { 900 });
        assert!(w.window() >= grown, "{grown} -> {}", w.window());
    }

    #[test]
    fn after_a_passing_spike_the_window_is_back_to_half_within_a_few_rounds() {
        let mut w = AdaptiveWindow::new();
        w.restart(0, 1000);
        fed(&mut w, 0, 100, |_| 20);
        assert_eq!(w.window(), 1000);
        // One round of 2 s latencies (a garbage collection, a busy tab): a deep cut.
        fed(&mut w, 1_000, 400, |_| 2_000);
        let cut = w.window();
        assert!(cut <= 100, "{cut}");
        // Fast again: doubling back up to 500 within ten 20 ms rounds, then one per round.
        fed(&mut w, 5_000, 40, |_| 20);
        assert!(w.window() >= 500, "{cut} -> {}", w.window());
    }

    #[test]
    fn in_between_it_holds() {
        let mut w = AdaptiveWindow::new();
        w.restart(0, 1000);
        fed(&mut w, 0, 30, |_| 100);
        // Base 100 ms: the growth line is 220 ms, the decrease line 340 ms; 300 is between.
        fed(&mut w, 300, 80, |_| 300);
        let held = w.window();
        fed(&mut w, 1_100, 200, |_| 300);
        assert_eq!(w.window(), held);
    }

    #[test]
    fn never_below_one_nor_above_the_cap() {
        let mut w = AdaptiveWindow::new();
        w.restart(0, 8);
        assert_eq!(w.window(), 8, "the cap bounds the start too");
        fed(&mut w, 0, 10, |_| 1);
        assert_eq!(w.window(), 8);
        let mut lowest = u16::MAX;
        for i in 0..200 {
            w.acknowledged(1_000 + i * 50, 300);
            lowest = lowest.min(w.window());
        }
        assert_eq!(lowest, 1);
    }

    #[test]
    fn a_lasting_new_delay_becomes_the_base() {
        let mut w = AdaptiveWindow::new();
        w.restart(0, 1000);
        fed(&mut w, 0, 50, |_| 10);
        // The route changes: 300 ms from now on, for good. After two epochs that is the base,
        // and the window grows again.
        fed(&mut w, 1_000, 3_000, |_| 300);
        let settled = w.window();
        fed(&mut w, 31_000, 500, |_| 300);
        assert!(w.window() > settled, "{settled} -> {}", w.window());
        assert_eq!(w.base_ms(), 300);
    }
}
