//! Messages per second over the last few seconds, for the client's metrics: one counter per
//! second, so the memory is the same at 10 or 100 000 messages a second (a timestamp per
//! message grew to megabytes at the benchmark's rates).

/// Seconds the rate is averaged over.
const SECONDS: u64 = 5;

/// Messages counted per second, over a window of the last few seconds.
#[derive(Debug, Default)]
pub struct RateWindow {
    /// (second, count) for the seconds in the window; slot `second % SECONDS`.
    slots: [(u64, u32); SECONDS as usize],
}

impl RateWindow {
    /// Counts one message at `now_ms`.
    pub fn record(&mut self, now_ms: u64) {
        let second = now_ms / 1_000;
        let slot = &mut self.slots[(second % SECONDS) as usize];
        if slot.0 != second {
            *slot = (second, 0);
        }
        slot.1 = slot.1.saturating_add(1);
    }

    /// Messages a second over the current second and the `SECONDS - 1` before it; zero once
    /// nothing has come for that long.
    pub fn per_second(&self, now_ms: u64) -> f64 {
        let second = now_ms / 1_000;
        let recent: u64 = self
            .slots
            .iter()
            .filter(|(at, _)| *at <= second && second - *at < SECONDS)
            .map(|(_, count)| u64::from(*count))
            .sum();
        recent as f64 / SECONDS as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_the_last_five_seconds_and_forgets_older_ones() {
        let mut rate = RateWindow::default();
        assert_eq!(rate.per_second(0), 0.0);
        for ms in (0..5_000).step_by(10) {
            rate.record(10_000 + ms); // 100 a second for 5 s
        }
        assert_eq!(rate.per_second(14_999), 100.0);
        assert_eq!(
            rate.per_second(15_500),
            80.0,
            "the first second has left the window"
        );
        assert_eq!(
            rate.per_second(30_000),
            0.0,
            "nothing for a while: zero, not the last rate"
        );
        rate.record(30_100);
        assert_eq!(
            rate.per_second(30_200),
            0.2,
            "an old slot reused starts from zero"
        );
    }
}
