//! Capped exponential backoff with jitter, as a pure function of the attempt number and a random draw.
//!
//! ```
//! use std::time::Duration;
//! use mse_auth::backoff::Backoff;
//!
//! let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
//! // Attempt n waits between half and all of min(cap, base * 2^(n-1)).
//! assert_eq!(b.delay(1, 0.0), Duration::from_millis(500));
//! assert_eq!(b.delay(3, 0.5), Duration::from_secs(3));
//! assert_eq!(b.delay(30, 1.0), Duration::from_secs(60)); // capped
//! ```

use std::time::Duration;

/// Backoff settings: the first ceiling and the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
}

impl Default for Backoff {
    /// 1 s doubling up to 60 s.
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(60))
    }
}

impl Backoff {
    /// Ceilings `base, 2·base, 4·base …` up to `cap` (a cap below `base` is raised to `base`).
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self {
            base,
            cap: cap.max(base),
        }
    }

    /// The longest wait this backoff ever asks for.
    pub fn cap(&self) -> Duration {
        self.cap
    }

    /// The wait after the `attempt`-th consecutive failure (counted from 1), given `unit`, a uniform
    /// random number in `[0, 1)`: half the ceiling fixed plus a random share of the other half ("equal
    /// jitter"), so retries from many processes spread out but never come back immediately.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        let ceiling = self.base.saturating_mul(1u32 << doublings).min(self.cap);
        let half = ceiling / 2;
        half + (ceiling - half).mul_f64(unit.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_then_stay_within_the_cap() {
        let b = Backoff::default();
        let mut previous_ceiling = Duration::ZERO;
        for attempt in 1..=200 {
            let low = b.delay(attempt, 0.0);
            let high = b.delay(attempt, 1.0);
            assert!(high <= b.cap(), "attempt {attempt}: {high:?}");
            assert!(low >= high / 2 - Duration::from_nanos(1));
            assert!(high >= previous_ceiling);
            previous_ceiling = high;
        }
        assert_eq!(b.delay(7, 1.0), Duration::from_secs(60));
        assert_eq!(b.delay(6, 1.0), Duration::from_secs(32));
        assert_eq!(b.delay(u32::MAX, 0.5), Duration::from_secs(45));
    }

    #[test]
    fn out_of_range_draws_are_clamped_and_cap_is_at_least_base() {
        let b = Backoff::new(Duration::from_secs(10), Duration::from_secs(1));
        assert_eq!(b.cap(), Duration::from_secs(10));
        assert_eq!(b.delay(1, -3.0), Duration::from_secs(5));
        assert_eq!(b.delay(1, 7.0), Duration::from_secs(10));
    }
}
