//! The scheduler loop: waits until the next object is due by the engine's clock and
//! asks for a `scheduled` sync of the objects due then.

use engine::schedule::{self, due_objects, next_due, wait_until};
use tokio::sync::watch;
use tracing::{debug, warn};

use super::handle::AppHandle;
use super::{AppOptions, Trigger};

/// Runs until `stop` turns true. It re-reads the schedule whenever a sync finishes and
/// at least every `options.tick`, so a clock moved by hand is noticed within a tick.
pub(crate) async fn run(handle: AppHandle, options: AppOptions, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let now = handle.clock().now();
        let entries = match schedule::load(handle.store()) {
            Ok(entries) => entries,
            Err(e) => {
                warn!(error = %e, "schedule not readable");
                Vec::new()
            }
        };
        let next = next_due(&entries);
        handle.update_status(|s| s.next_due = next.clone());

        // Offline, due objects wait for the connection to come back; during a sync they
        // wait for it to finish (it may be the one syncing them).
        let status = handle.status();
        let due = due_objects(&entries, now);
        if !due.is_empty() && status.online && status.syncing.is_none() {
            debug!(objects = ?due, "objects due");
            handle.request_sync(Trigger::Scheduled, &due);
        }
        let wait = match &next {
            Some(next) if due.is_empty() => wait_until(next, now).min(options.tick),
            _ => options.tick,
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = handle.schedule_change() => {}
            _ = stop.changed() => return,
        }
    }
}
