//! The sync worker: runs one sync at a time from the merged requests, records it, and
//! keeps the app's status and the schedule up to date.

use std::collections::BTreeSet;

use engine::schedule::{self, due_objects};
use engine::{SyncError, SyncEvent, SyncKind, SyncReport};
use store::SyncOutcome;
use tokio::sync::watch;
use tracing::{info, warn};

use super::handle::{AppEvent, AppHandle, SyncRequest, pending_count};
use super::{Trigger, primed};

/// What a sync request turns into.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    kind: SyncKind,
    trigger: Trigger,
    /// Objects to download; `None` means every object.
    objects: Option<Vec<String>>,
}

/// The strongest trigger names the run: initial (while the store is not primed), then
/// user, scheduled, automatic. `None` when only a priming was asked for and it is done.
fn plan(request: &SyncRequest, primed: bool, due: Vec<String>) -> Option<Plan> {
    let has = |t: Trigger| request.triggers.contains(&t);
    if !primed {
        return Some(Plan { kind: SyncKind::Prime, trigger: Trigger::Initial, objects: None });
    }
    if request.triggers.iter().all(|t| *t == Trigger::Initial) {
        return None;
    }
    if has(Trigger::User) {
        return Some(Plan { kind: SyncKind::Delta, trigger: Trigger::User, objects: None });
    }
    // The schedule is read again now: an object a schedule asked for may have been
    // synced since by the run that just ended.
    let objects: Vec<String> = due.into_iter().collect::<BTreeSet<_>>().into_iter().collect();
    let trigger = if !objects.is_empty() && has(Trigger::Scheduled) {
        Trigger::Scheduled
    } else if has(Trigger::Automatic) {
        Trigger::Automatic
    } else {
        return None;
    };
    Some(Plan { kind: SyncKind::Delta, trigger, objects: Some(objects) })
}

/// Whether a sync failed because the org could not be reached.
pub(crate) fn is_network(error: &SyncError) -> bool {
    match error {
        SyncError::Remote(e) => {
            matches!(e, salesforce::client::Error::Network(_))
                || (e.is_transient() && e.status().is_some_and(|s| s >= 500))
        }
        _ => false,
    }
}

/// Runs one sync for `request`: uploads, downloads what the request asks for, records
/// the run in history, moves the schedule on and tells subscribers. `None` when there
/// was nothing to do (a priming asked for twice).
pub async fn sync_once(
    handle: &AppHandle,
    request: &SyncRequest,
    progress: &mut (dyn FnMut(SyncEvent) + Send),
) -> Result<Option<SyncReport>, SyncError> {
    let engine = handle.engine().clone();
    let store = handle.store().clone();
    let now = handle.clock().now();
    let due = due_objects(&schedule::load(&store)?, now);
    let Some(plan) = plan(request, primed(handle)?, due) else {
        return Ok(None);
    };
    info!(trigger = plan.trigger.as_str(), objects = ?plan.objects, "sync requested");

    let pending = pending_count(&store);
    handle.update_status(|s| {
        s.syncing = Some(plan.trigger.as_str());
        s.pending = pending;
    });
    handle.publish(AppEvent::SyncStarted { trigger: plan.trigger.as_str() });
    if pending > 0 {
        handle.publish(AppEvent::Uploading { done: 0, total: pending });
    }

    let events = handle.clone();
    let mut on_event = |event: SyncEvent| {
        match &event {
            SyncEvent::ObjectStarted { object, total } => {
                events.publish(AppEvent::Downloading {
                    object: object.clone(),
                    done: 0,
                    total: *total,
                });
            }
            SyncEvent::Progress { object, done, total } => {
                events.publish(AppEvent::Downloading {
                    object: object.clone(),
                    done: *done,
                    total: *total,
                });
            }
            SyncEvent::Uploaded { done, total } => {
                events.publish(AppEvent::Uploading { done: *done, total: *total });
            }
            SyncEvent::ObjectFinished { .. } => {}
        }
        progress(event);
    };
    let result = engine
        .sync_objects_as(plan.kind, plan.trigger, plan.objects.as_deref(), &mut on_event)
        .await;

    // Move the schedule on: synced objects are next due one interval later. After a
    // failure that is not the network's, they are retried after a pause (or their
    // interval, if shorter) instead of in a loop, and keep their last successful sync;
    // offline, the objects stay due for the reconnect.
    let finished_at = handle.clock().now();
    match &result {
        Ok(report) => {
            let synced: Vec<String> = report.objects.keys().cloned().collect();
            schedule::record_completion(&store, &synced, finished_at)?;
        }
        Err(e) if is_network(e) => {
            warn!(error = %e, "sync failed: the org is unreachable");
            handle.connection_failed();
        }
        Err(e) => {
            warn!(error = %e, "sync failed");
            let attempted = plan.objects.clone().unwrap_or_else(|| {
                engine.plan().objects.iter().map(|o| o.object.clone()).collect()
            });
            schedule::record_failure(&store, &attempted, finished_at)?;
        }
    }
    if result.is_ok() && pending > 0 {
        let uploaded = pending.saturating_sub(pending_count(&store));
        handle.publish(AppEvent::Uploading { done: uploaded, total: pending });
    }
    finish_status(handle);
    result.map(Some)
}

/// Reads the last run's outcome, the pending count and the next due time into the
/// status, and announces the end of the sync.
fn finish_status(handle: &AppHandle) {
    let store = handle.store();
    let last = store.read(|r| r.sync_events(1, None)).ok().and_then(|e| e.into_iter().next());
    let next_due = schedule::load(store).ok().and_then(|e| schedule::next_due(&e));
    let pending = pending_count(store);
    handle.update_status(|s| {
        s.syncing = None;
        s.pending = pending;
        s.next_due = next_due.clone();
        if let Some(last) = &last {
            s.last_sync_at = Some(last.ended_at.unwrap_or(last.started_at));
            s.last_outcome = last.outcome.map(|o| o.as_str().to_string());
        }
    });
    handle.publish(AppEvent::SyncFinished {
        event_id: last.as_ref().map(|e| e.id),
        outcome: last.and_then(|e| e.outcome).unwrap_or(SyncOutcome::Failed).as_str().to_string(),
        next_due,
    });
    handle.schedule_changed();
}

/// Takes merged requests one batch at a time until `stop` turns true. A sync still
/// running then is abandoned: every store write is its own transaction, so the store
/// stays consistent, and the run's history event is closed as failed.
pub(crate) async fn run(handle: AppHandle, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        tokio::select! {
            _ = handle.requested() => {}
            _ = stop.changed() => return,
        }
        let Some(request) = handle.take_requests() else { continue };
        let mut quiet = |_: SyncEvent| {};
        tokio::select! {
            result = sync_once(&handle, &request, &mut quiet) => {
                if let Err(e) = result {
                    warn!(error = %e, "sync did not complete");
                }
            }
            _ = stop.changed() => {
                info!("sync abandoned at shutdown");
                let now = handle.clock().now();
                if let Err(e) = engine::history::close_unfinished(handle.store(), now) {
                    warn!(error = %e, "history of the abandoned sync not closed");
                }
                handle.update_status(|s| s.syncing = None);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(triggers: &[Trigger], objects: &[&str]) -> SyncRequest {
        SyncRequest {
            triggers: triggers.to_vec(),
            objects: objects.iter().map(|o| o.to_string()).collect(),
        }
    }

    #[test]
    fn the_strongest_trigger_names_the_run() {
        let due = || vec!["Account".to_string()];
        let p = plan(&request(&[Trigger::Automatic, Trigger::User], &[]), true, due()).unwrap();
        assert_eq!((p.trigger, p.objects), (Trigger::User, None));
        let p = plan(&request(&[Trigger::Scheduled], &["WorkOrder"]), false, due()).unwrap();
        assert_eq!((p.kind, p.trigger), (SyncKind::Prime, Trigger::Initial));
        let p =
            plan(&request(&[Trigger::Automatic, Trigger::Scheduled], &["WorkOrder"]), true, due())
                .unwrap();
        assert!(plan(&request(&[Trigger::Initial], &[]), true, due()).is_none());
        assert_eq!(p.trigger, Trigger::Scheduled);
        assert_eq!(p.objects, Some(vec!["Account".to_string()]), "only what is still due");
        assert!(plan(&request(&[Trigger::Scheduled], &["WorkOrder"]), true, vec![]).is_none());
    }

    #[test]
    fn automatic_uploads_only_unless_something_is_due() {
        let p = plan(&request(&[Trigger::Automatic], &[]), true, vec![]).unwrap();
        assert_eq!((p.trigger, p.objects), (Trigger::Automatic, Some(vec![])));
    }
}
