//! Keeping the store's schedule in step with the profile, and recording finished syncs.

use chrono::{DateTime, Utc};
use store::{ScheduleEntry, Store, StoreError, WriteTx};
use tracing::debug;

use crate::profile::Profile;

/// Gives every profile object a schedule with its interval and removes the schedules of
/// objects the profile no longer names. Entries whose interval is unchanged are left as
/// they are, so a restart keeps each object's due time (overdue ones sync at once).
/// An object scheduled for the first time is due at `now`.
pub fn apply_profile(
    store: &Store,
    profile: &Profile,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store.write(|tx| {
        let existing = tx.read().schedule()?;
        for object in &profile.objects {
            let current = existing.iter().find(|e| e.object.eq_ignore_ascii_case(&object.name));
            if current.is_none_or(|e| e.interval_secs != object.interval_secs) {
                debug!(object = %object.name, interval_secs = object.interval_secs, "schedule set");
                tx.set_sync_interval(&object.name, object.interval_secs, now)?;
            }
        }
        for entry in &existing {
            if profile.object(&entry.object).is_none() {
                debug!(object = %entry.object, "schedule removed");
                tx.remove_schedule(&entry.object)?;
            }
        }
        Ok(())
    })
}

/// Records that `objects` finished downloading at `at`: each is next due one interval on.
pub fn record_completion(
    store: &Store,
    objects: &[String],
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    for_each(store, objects, |tx, object| tx.record_scheduled_sync(object, at))
}

/// How long after a failed sync (one that was not the network's) its objects are due
/// again, unless their interval is shorter: soon enough that a passing server problem is
/// soon retried, far enough apart that a lasting one does not loop.
pub const FAILED_SYNC_RETRY_SECS: u64 = 10 * 60;

/// Records that a sync of `objects` failed at `at`: each is due again after
/// [`FAILED_SYNC_RETRY_SECS`] or its interval, whichever is shorter, and keeps the time of
/// its last successful sync.
pub fn record_failure(
    store: &Store,
    objects: &[String],
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    for_each(store, objects, |tx, object| tx.record_failed_sync(object, at, FAILED_SYNC_RETRY_SECS))
}

/// Applies `f` to each of `objects` in one write transaction (none for an empty list).
fn for_each(
    store: &Store,
    objects: &[String],
    mut f: impl FnMut(&mut WriteTx<'_>, &str) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    if objects.is_empty() {
        return Ok(());
    }
    store.write(|tx| objects.iter().try_for_each(|object| f(tx, object)))
}

/// The stored schedule, the next due first.
pub fn load(store: &Store) -> Result<Vec<ScheduleEntry>, StoreError> {
    store.read(|r| r.schedule())
}
