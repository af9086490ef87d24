//! The org's clock: follows the wall clock by default, and tests can pin it or move it.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy)]
enum ClockState {
    /// Wall clock shifted by an offset (zero by default).
    Wall(Duration),
    /// A fixed instant that only moves when told to.
    Fixed(DateTime<Utc>),
}

/// A controllable clock shared by every part of a running org.
#[derive(Debug, Clone)]
pub struct Clock {
    state: Arc<Mutex<ClockState>>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock { state: Arc::new(Mutex::new(ClockState::Wall(Duration::zero()))) }
    }
}

impl Clock {
    /// The current instant, truncated to milliseconds as Salesforce stores them.
    pub fn now(&self) -> DateTime<Utc> {
        let state = *self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let t = match state {
            ClockState::Wall(offset) => Utc::now() + offset,
            ClockState::Fixed(t) => t,
        };
        truncate_millis(t)
    }

    /// Pins the clock at `now`; it stays there until set or advanced again.
    pub fn set(&self, now: DateTime<Utc>) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = ClockState::Fixed(now);
    }

    /// Moves the clock forward (or back, for a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        *state = match *state {
            ClockState::Wall(offset) => ClockState::Wall(offset + by),
            ClockState::Fixed(t) => ClockState::Fixed(t + by),
        };
    }

    /// Makes the clock follow the wall clock again.
    pub fn follow_wall_clock(&self) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) =
            ClockState::Wall(Duration::zero());
    }
}

fn truncate_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    let millis = t.timestamp_millis();
    DateTime::from_timestamp_millis(millis).unwrap_or(t)
}

/// Formats an instant the way Salesforce writes datetimes: `2024-05-08T21:20:00.000+0000`.
pub fn format_datetime(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// Formats an instant as an HTTP date (`Thu, 03 Dec 2026 16:26:28 GMT`).
pub fn format_http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Parses a stored datetime (`2024-05-08T21:20:00.000+0000`) or any RFC 3339 text.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&Utc));
    }
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_clock_moves_only_when_told() {
        let clock = Clock::default();
        let t = parse_datetime("2024-05-08T21:20:00.000+0000").unwrap();
        clock.set(t);
        assert_eq!(clock.now(), t);
        clock.advance(Duration::seconds(90));
        assert_eq!(format_datetime(clock.now()), "2024-05-08T21:21:30.000+0000");
    }
}
