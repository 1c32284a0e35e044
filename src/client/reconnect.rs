//! When to try the broker again: exponential backoff with jitter, reset after a connection that
//! stayed up long enough. Pure and seeded, so the browser driver and the tests get the same
//! delays from the same seed.

/// Backoff settings (all in milliseconds except `factor`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffConfig {
    /// Delay before the first retry.
    pub min_ms: u32,
    /// Ceiling for any delay.
    pub max_ms: u32,
    /// Growth per failed attempt.
    pub factor: f64,
    /// Fraction of each delay that is randomised (0 = none, 1 = anywhere in 0..=delay): spreads
    /// the reconnects of many dashboards after a broker restart instead of a stampede.
    pub jitter: f64,
    /// A connection that stayed up this long resets the backoff to `min_ms`.
    pub stable_after_ms: u32,
    /// Reconnect attempts after which the client gives up (0: never). Counted from the last
    /// connection that came up.
    pub max_attempts: u32,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            min_ms: 500,
            max_ms: 30_000,
            factor: 2.0,
            jitter: 0.5,
            stable_after_ms: 10_000,
            max_attempts: 0,
        }
    }
}

impl BackoffConfig {
    /// The same delay before every attempt (MQTT.js's `reconnectPeriod`): no growth, no jitter.
    pub fn fixed(period_ms: u32) -> BackoffConfig {
        BackoffConfig {
            min_ms: period_ms,
            max_ms: period_ms,
            factor: 1.0,
            jitter: 0.0,
            ..BackoffConfig::default()
        }
    }

    /// Checks the settings; the message names the bad field.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.min_ms == 0 || self.min_ms > self.max_ms {
            return Err("reconnect.minDelay must be at least 1 and at most reconnect.maxDelay");
        }
        if !(self.factor.is_finite() && self.factor >= 1.0) {
            return Err("reconnect.factor must be a finite number of at least 1");
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err("reconnect.jitter must be between 0 and 1");
        }
        Ok(())
    }
}

/// The backoff state of one client.
#[derive(Debug, Clone)]
pub struct Backoff {
    config: BackoffConfig,
    failures: u32,
    rng: u64,
    connected_since: Option<u64>,
}

impl Backoff {
    pub fn new(config: BackoffConfig, seed: u64) -> Backoff {
        Backoff {
            config,
            failures: 0,
            rng: mix(seed),
            connected_since: None,
        }
    }

    /// How many attempts have failed since the last stable connection.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The connection came up at `now`.
    pub fn connected(&mut self, now: u64) {
        self.connected_since = Some(now);
    }

    /// Whether the client gives up rather than make attempt number `made + 1`.
    pub fn gives_up_after(&self, made: u32) -> bool {
        self.config.max_attempts > 0 && made >= self.config.max_attempts
    }

    /// The connection (or an attempt) ended at `now`; returns the delay before the next attempt.
    pub fn next_delay(&mut self, now: u64) -> u32 {
        if let Some(since) = self.connected_since.take() {
            if now.saturating_sub(since) >= u64::from(self.config.stable_after_ms) {
                self.failures = 0;
            }
        }
        let exponent = self.failures.min(64) as i32;
        self.failures = self.failures.saturating_add(1);
        let ceiling = (f64::from(self.config.min_ms) * self.config.factor.powi(exponent))
            .min(f64::from(self.config.max_ms));
        let random = (self.next_random() >> 11) as f64 / (1u64 << 53) as f64; // in [0, 1)
        let delay = ceiling * (1.0 - self.config.jitter * random);
        (delay as u32).max(1)
    }

    fn next_random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }
}

/// splitmix64: spreads nearby seeds (0, 1, 2...) over the whole state space, and is never 0
/// for the xorshift that follows.
pub(crate) fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_jitter() -> BackoffConfig {
        BackoffConfig {
            min_ms: 100,
            max_ms: 1_000,
            factor: 2.0,
            jitter: 0.0,
            stable_after_ms: 5_000,
            max_attempts: 0,
        }
    }

    #[test]
    fn delays_grow_by_the_factor_up_to_the_ceiling() {
        let mut backoff = Backoff::new(no_jitter(), 7);
        let delays: Vec<u32> = (0..6).map(|_| backoff.next_delay(0)).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1_000, 1_000]);
    }

    #[test]
    fn a_stable_connection_resets_the_backoff_and_a_short_one_does_not() {
        let mut backoff = Backoff::new(no_jitter(), 7);
        backoff.next_delay(0);
        backoff.next_delay(0);
        backoff.connected(1_000);
        assert_eq!(backoff.next_delay(2_000), 400, "up for 1 s: not stable");
        backoff.connected(10_000);
        assert_eq!(backoff.next_delay(15_000), 100, "up for 5 s: stable");
        assert_eq!(backoff.failures(), 1);
    }

    #[test]
    fn jitter_stays_within_its_share_of_the_delay_and_varies() {
        let config = BackoffConfig {
            jitter: 0.5,
            ..no_jitter()
        };
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..200 {
            let mut backoff = Backoff::new(config, seed);
            let delay = backoff.next_delay(0);
            assert!((50..=100).contains(&delay), "{delay}");
            seen.insert(delay);
        }
        assert!(seen.len() > 20, "jitter spreads the delays: {seen:?}");
    }

    #[test]
    fn the_same_seed_gives_the_same_delays() {
        let config = BackoffConfig::default();
        let run = |seed| {
            let mut b = Backoff::new(config, seed);
            (0..10).map(|_| b.next_delay(0)).collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn bad_settings_are_named() {
        let bad = BackoffConfig {
            min_ms: 2_000,
            max_ms: 1_000,
            ..no_jitter()
        };
        assert!(bad.validate().unwrap_err().contains("minDelay"));
        assert!(BackoffConfig {
            factor: 0.5,
            ..no_jitter()
        }
        .validate()
        .unwrap_err()
        .contains("factor"));
        assert!(BackoffConfig {
            jitter: 1.5,
            ..no_jitter()
        }
        .validate()
        .unwrap_err()
        .contains("jitter"));
        assert_eq!(BackoffConfig::default().validate(), Ok(()));
    }

    #[test]
    fn a_fixed_period_waits_the_same_before_every_attempt() {
        let mut backoff = Backoff::new(BackoffConfig::fixed(1_000), 7);
        let delays: Vec<u32> = (0..5).map(|i| backoff.next_delay(i * 10)).collect();
        assert_eq!(delays, [1_000; 5]);
        assert_eq!(BackoffConfig::fixed(1_000).validate(), Ok(()));
    }
}
