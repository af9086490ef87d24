//! The connectivity watcher: a cheap call (`GET /services/data/`) tells whether the org
//! is reachable; offline, it checks again with a growing, capped backoff. When the
//! connection comes back it asks for an `automatic` upload of waiting changes and for
//! the schedules that fell due meanwhile.

use std::time::Duration;

use engine::schedule::{self, due_objects};
use salesforce::client::Error;
use tokio::sync::watch;
use tracing::{info, warn};

use super::handle::{AppHandle, pending_count};
use super::{AppOptions, Trigger, primed};

/// Whether a failed check means the org is unreachable (rather than answering).
fn unreachable(error: &Error) -> bool {
    matches!(error, Error::Network(_))
        || (error.is_transient() && error.status().is_some_and(|s| s >= 500))
}

/// The next wait while offline: doubled, within `min..=max`.
pub(crate) fn next_backoff(current: Duration, min: Duration, max: Duration) -> Duration {
    current.saturating_mul(2).clamp(min, max.max(min))
}

/// Runs until `stop` turns true.
pub(crate) async fn run(handle: AppHandle, options: AppOptions, mut stop: watch::Receiver<bool>) {
    let client = handle.engine().client().clone();
    let mut backoff = options.offline_retry_min;
    loop {
        if *stop.borrow() {
            return;
        }
        let online = match client.versions().await {
            Ok(_) => true,
            Err(e) => !unreachable(&e),
        };
        let was_online = handle.status().online;
        handle.update_status(|s| s.online = online);
        if online && !was_online {
            info!("org reachable");
            came_back(&handle);
        } else if !online && was_online {
            info!("org unreachable");
        }
        let wait = if online {
            backoff = options.offline_retry_min;
            options.check_interval
        } else {
            let wait = backoff;
            backoff = next_backoff(backoff, options.offline_retry_min, options.offline_retry_max);
            wait
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = handle.connection_check_requested() => {}
            _ = stop.changed() => return,
        }
    }
}

/// The org answers again: upload what waits, run what fell due, finish priming.
fn came_back(handle: &AppHandle) {
    let pending = pending_count(handle.store());
    handle.update_status(|s| s.pending = pending);
    match primed(handle) {
        Ok(false) => handle.request_sync(Trigger::Initial, &[]),
        Ok(true) => {}
        Err(e) => warn!(error = %e, "cannot tell whether the store is primed"),
    }
    if pending > 0 {
        handle.request_sync(Trigger::Automatic, &[]);
    }
    let now = handle.clock().now();
    match schedule::load(handle.store()) {
        Ok(entries) => {
            let due = due_objects(&entries, now);
            if !due.is_empty() {
                handle.request_sync(Trigger::Scheduled, &due);
            }
        }
        Err(e) => warn!(error = %e, "schedule not readable"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let s = Duration::from_secs;
        assert_eq!(next_backoff(s(2), s(2), s(300)), s(4));
        assert_eq!(next_backoff(s(200), s(2), s(300)), s(300));
        assert_eq!(next_backoff(s(300), s(2), s(300)), s(300));
        assert_eq!(next_backoff(Duration::ZERO, s(2), s(300)), s(2));
    }
}
