//! Waiting between attempts: capped exponential backoff with jitter, slept through a
//! [`Sleeper`] that tests replace.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use rand::Rng;

/// Something that waits. The upload sleeps only through this, so a test can record the
/// delays and return at once.
pub trait Sleeper: Send + Sync {
    /// Waits for `delay`.
    fn sleep(&self, delay: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// Sleeps on the tokio timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, delay: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(delay))
    }
}

/// Capped exponential backoff: attempt `n` (counting from 1) waits about
/// `base * 2^(n-1)`, at most `max`, with up to half of it added at random so that many
/// devices failing together do not come back together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff { base: Duration::from_millis(500), max: Duration::from_secs(30) }
    }
}

impl Backoff {
    /// The delay before retry number `retry` (1 for the first retry), jitter included.
    pub fn delay(&self, retry: u32) -> Duration {
        let (low, high) = self.bounds(retry);
        let span = high.saturating_sub(low).as_millis() as u64;
        let extra = if span == 0 { 0 } else { rand::rng().random_range(0..=span) };
        low + Duration::from_millis(extra)
    }

    /// The range [`Backoff::delay`] draws from: the capped exponential delay and half as
    /// much again (still capped).
    pub fn bounds(&self, retry: u32) -> (Duration, Duration) {
        let factor = 1u32.checked_shl(retry.saturating_sub(1).min(20)).unwrap_or(u32::MAX);
        let low = self.base.saturating_mul(factor).min(self.max);
        let high = (low + low / 2).min(self.max.max(low));
        (low, high)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_capped() {
        let b = Backoff { base: Duration::from_millis(100), max: Duration::from_secs(2) };
        assert_eq!(b.bounds(1), (Duration::from_millis(100), Duration::from_millis(150)));
        assert_eq!(b.bounds(2), (Duration::from_millis(200), Duration::from_millis(300)));
        assert_eq!(b.bounds(10), (Duration::from_secs(2), Duration::from_secs(2)));
        assert_eq!(b.bounds(u32::MAX), (Duration::from_secs(2), Duration::from_secs(2)));
        for retry in 1..8 {
            let (low, high) = b.bounds(retry);
            let d = b.delay(retry);
            assert!(d >= low && d <= high, "retry {retry}: {d:?} outside {low:?}..={high:?}");
        }
    }

    #[test]
    fn zero_base_never_sleeps() {
        let b = Backoff { base: Duration::ZERO, max: Duration::from_secs(1) };
        assert_eq!(b.delay(3), Duration::ZERO);
    }
}
