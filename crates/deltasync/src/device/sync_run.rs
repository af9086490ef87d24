//! One sync run as the device runs it: the engine's run (which records itself in
//! history), then the schedule moved on for each object synced.

use chrono::Utc;
use engine::{Engine, Progress, SyncKind, SyncReport};
use store::history::SyncKind as Trigger;

use super::DeviceError;

/// A finished run and the history event that records it.
#[derive(Debug, Clone)]
pub struct SyncRun {
    /// The history event's id, when history has one.
    pub event_id: Option<i64>,
    /// What the engine did.
    pub report: SyncReport,
}

/// Runs a sync started by `trigger` ([`Trigger::Initial`] primes), then marks each
/// object synced in the schedule so its next due time moves on.
pub async fn run_sync(
    engine: &Engine,
    trigger: Trigger,
    kind: SyncKind,
    progress: Progress<'_>,
) -> Result<SyncRun, DeviceError> {
    let report = match trigger {
        Trigger::Initial => engine.prime(progress).await?,
        _ => engine.sync_as(kind, trigger, progress).await?,
    };
    let store = engine.store();
    let ended = Utc::now();
    let event_id = store.write(|tx| {
        for object in report.objects.keys() {
            tx.record_scheduled_sync(object, ended)?;
        }
        Ok(tx.read().sync_events(1, None)?.first().map(|e| e.id))
    })?;
    Ok(SyncRun { event_id, report })
}
