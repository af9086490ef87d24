//! The long-running app: the shared [`AppHandle`], and the loops that run syncs on
//! request, on schedule and when the connection comes back.
//!
//! [`run`] starts three parts next to each other:
//! - the sync worker ([`worker`]): one sync at a time; requests that arrive during a sync
//!   are merged into the next one;
//! - the scheduler loop ([`scheduler`]): asks for a `scheduled` sync when objects fall due;
//! - the connectivity watcher ([`connectivity`]): notices the org coming back and asks
//!   for an `automatic` upload and the overdue schedules.
//!
//! A local edit calls [`AppHandle::local_edit_made`]; Sync Now calls
//! [`AppHandle::request_sync`] with [`Trigger::User`].

mod connectivity;
mod demo;
pub mod handle;
mod scheduler;
mod worker;

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;
use tracing::info;

pub use demo::{Demo, DemoOptions, demo};
pub use handle::{AppEvent, AppHandle, AppStatus, Identity, NextDue, SyncRequest, pending_count};
pub use store::history::SyncKind as Trigger;
pub use worker::sync_once;

/// How the app's loops pace themselves.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// The longest the scheduler sleeps before reading the clock again. With the wall
    /// clock, a minute is plenty; tests that move a manual clock use a few milliseconds.
    pub tick: Duration,
    /// How often the connection is checked while online.
    pub check_interval: Duration,
    /// The first wait before checking again while offline; it doubles each time.
    pub offline_retry_min: Duration,
    /// The longest wait between checks while offline.
    pub offline_retry_max: Duration,
}

impl Default for AppOptions {
    fn default() -> AppOptions {
        AppOptions {
            tick: Duration::from_secs(30),
            check_interval: Duration::from_secs(60),
            offline_retry_min: Duration::from_secs(2),
            offline_retry_max: Duration::from_secs(300),
        }
    }
}

/// Whether every object of the profile has been primed (has a sync cursor); an
/// interrupted priming is resumed by the next sync of any kind.
pub fn primed(handle: &AppHandle) -> Result<bool, store::StoreError> {
    let engine = handle.engine();
    handle.store().read(|r| {
        for object in &engine.plan().objects {
            if r.cursor(&object.object)?.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    })
}

/// Brings the store's bookkeeping in step before anything runs: closes history events
/// a previous run left open, gives every profile object its schedule (keeping stored due
/// times, so overdue objects sync at once) and fills the status.
pub fn prepare(handle: &AppHandle) -> anyhow::Result<()> {
    let store = handle.store();
    let now = handle.clock().now();
    engine::history::close_unfinished(store, now).context("closing unfinished sync history")?;
    engine::schedule::apply_profile(store, handle.engine().profile(), now)
        .context("setting up the sync schedule")?;
    let last = store.read(|r| r.sync_events(1, None)).context("reading sync history")?;
    let next_due = engine::schedule::next_due(&engine::schedule::load(store)?);
    let pending = pending_count(store);
    handle.update_status(|s| {
        s.next_due = next_due;
        s.pending = pending;
        if let Some(last) = last.first() {
            s.last_sync_at = Some(last.ended_at.unwrap_or(last.started_at));
            s.last_outcome = last.outcome.map(|o| o.as_str().to_string());
        }
    });
    Ok(())
}

/// Runs the app until `shutdown` completes: the initial sync when the store is not
/// primed, then syncs on request, on schedule and on reconnection. At shutdown a sync in
/// progress is abandoned between two store transactions, so the store stays consistent
/// and the schedule picks up where it was at the next start.
pub async fn run(
    handle: AppHandle,
    options: AppOptions,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    prepare(&handle)?;
    if !primed(&handle)? {
        handle.request_sync(Trigger::Initial, &[]);
    }
    info!("app running");

    let (stop_tx, stop_rx) = watch::channel(false);
    let scheduler = tokio::spawn(scheduler::run(handle.clone(), options.clone(), stop_rx.clone()));
    let watcher = tokio::spawn(connectivity::run(handle.clone(), options, stop_rx.clone()));
    let worker = worker::run(handle.clone(), stop_rx);
    tokio::pin!(worker, shutdown);
    tokio::select! {
        _ = &mut worker => {}
        _ = &mut shutdown => {
            info!("app stopping");
            let _ = stop_tx.send(true);
            (&mut worker).await;
        }
    }
    let _ = stop_tx.send(true);
    let _ = scheduler.await;
    let _ = watcher.await;
    info!("app stopped");
    Ok(())
}
