//! Percentiles of recent durations in bounded memory: a ring of the last [`CAPACITY`] samples,
//! of which those within the last [`WINDOW_MS`] count. The memory is the same at one message a
//! minute or 100,000 a second; at high rates the window is the last `CAPACITY` samples.

/// Samples kept.
pub const CAPACITY: usize = 1024;
/// How far back a sample counts.
pub const WINDOW_MS: u64 = 60_000;

#[derive(Debug, Default)]
pub struct Samples {
    /// (when, value), oldest overwritten first.
    ring: Vec<(u64, u64)>,
    next: usize,
}

impl Samples {
    pub fn record(&mut self, now: u64, value: u64) {
        if self.ring.len() < CAPACITY {
            self.ring.push((now, value));
        } else {
            self.ring[self.next] = (now, value);
        }
        self.next = (self.next + 1) % CAPACITY;
    }

    /// The `q` quantiles (0 < q <= 1, nearest rank) of the samples within the window, in the
    /// order asked; None for each when there is none.
    pub fn quantiles<const N: usize>(&self, now: u64, q: [f64; N]) -> [Option<u64>; N] {
        let mut recent: Vec<u64> = self
            .ring
            .iter()
            .filter(|(at, _)| now.saturating_sub(*at) < WINDOW_MS)
            .map(|(_, value)| *value)
            .collect();
        // The shared sort: another monomorphised one costs kilobytes of wasm.
        crate::sort::sort_by(&mut recent, |a, b| a.cmp(b));
        q.map(|q| {
            let rank = (q * recent.len() as f64).ceil() as usize;
            recent.get(rank.clamp(1, recent.len().max(1)) - 1).copied()
        })
    }
}

/// How much more is held now than at the least in the last [`WINDOW_MS`], from one reading a
/// second at most: [`GROWTH_SLOTS`] per-second minima, so the memory is fixed.
#[derive(Debug)]
pub struct Growth {
    /// (second, least value read in it); slot `second % GROWTH_SLOTS`.
    slots: [Option<(u64, u64)>; GROWTH_SLOTS],
}

pub const GROWTH_SLOTS: usize = 60;

impl Default for Growth {
    fn default() -> Self {
        Growth {
            slots: [None; GROWTH_SLOTS],
        }
    }
}

impl Growth {
    /// Reads `value` at `now`; returns the growth over the window.
    pub fn read(&mut self, now: u64, value: u64) -> u64 {
        let second = now / 1_000;
        let slot = &mut self.slots[(second % GROWTH_SLOTS as u64) as usize];
        *slot = match *slot {
            Some((at, least)) if at == second => Some((at, least.min(value))),
            _ => Some((second, value)),
        };
        let least = self
            .slots
            .iter()
            .flatten()
            .filter(|(at, _)| *at <= second && second - *at < GROWTH_SLOTS as u64)
            .map(|(_, v)| *v)
            .min()
            .unwrap_or(value);
        value.saturating_sub(least)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_of_the_recent_samples_only() {
        let mut s = Samples::default();
        assert_eq!(s.quantiles(0, [0.5, 0.99]), [None, None]);
        for v in 1..=100 {
            s.record(1_000, v);
        }
        assert_eq!(s.quantiles(1_000, [0.5, 0.99]), [Some(50), Some(99)]);
        assert_eq!(
            s.quantiles(1_000 + WINDOW_MS, [0.5]),
            [None],
            "all aged out"
        );
    }

    #[test]
    fn memory_stays_bounded_and_the_newest_samples_win() {
        let mut s = Samples::default();
        for v in 0..(CAPACITY as u64 * 10) {
            s.record(
                5,
                if v < CAPACITY as u64 * 9 {
                    1_000_000
                } else {
                    7
                },
            );
        }
        assert_eq!(s.ring.len(), CAPACITY);
        assert_eq!(s.quantiles(5, [0.99]), [Some(7)]);
    }

    #[test]
    fn growth_is_measured_from_the_least_value_of_the_last_minute() {
        let mut g = Growth::default();
        assert_eq!(g.read(0, 100), 0);
        assert_eq!(g.read(500, 50), 0, "a fall is no growth");
        assert_eq!(g.read(30_000, 1_050), 1_000);
        assert_eq!(g.read(59_999, 2_050), 2_000);
        assert_eq!(g.read(61_000, 2_050), 1_000, "the low of second 0 aged out");
        assert_eq!(g.read(200_000, 2_050), 0, "flat for a minute: no growth");
    }
}
