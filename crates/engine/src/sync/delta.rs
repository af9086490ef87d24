//! Delta sync of one primed object: deletions from the replication log, changes by
//! `SystemModstamp` with an overlap window, and records whose scope moved because
//! related records changed. Cost follows the changes, not the store's size.

use std::collections::{BTreeMap, BTreeSet};

use salesforce::SfId;
use store::SyncCursor;
use store::values::{format_datetime, parse_datetime};
use tracing::{debug, info};

use super::decide::{DELETED_REACH, RemoveKind, StoreKind, UPDATED_REACH, replication_window};
use super::evaluate::{ObjectRun, RunChanges, merge_changes};
use super::remote::{held_ids, record_id};
use super::{Ctx, ObjectCounts, SyncError, SyncEvent};
use crate::scope::{ObjectScope, StampBound};

/// The error code the replication API answers a window beyond its reach with.
const INVALID_REPLICATION_DATE: &str = "INVALID_REPLICATION_DATE";

/// How a delta of one object ended.
#[derive(Debug)]
pub(crate) enum DeltaOutcome {
    /// Done, with these counts.
    Done(ObjectCounts),
    /// The change log does not reach back to the cursor; only reconciliation is safe.
    NeedsReconcile,
}

fn normalized(ids: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    ids.into_iter().filter_map(|id| SfId::parse(&id).ok()).map(|id| id.to_string()).collect()
}

/// Runs delta sync for one primed object whose cursor stands at `since`.
pub(crate) async fn delta_object(
    ctx: &Ctx<'_>,
    scope: &ObjectScope,
    run: &mut RunChanges,
    progress: &mut (dyn FnMut(SyncEvent) + Send),
) -> Result<DeltaOutcome, SyncError> {
    let (client, store, clock, overlap) = (ctx.client, ctx.store, ctx.clock, ctx.options.overlap);
    let object = scope.object.clone();
    let cursor = store.read(|r| r.cursor(&object))?.unwrap_or_default();
    let Some(since) = cursor.modstamp.as_deref().and_then(parse_datetime) else {
        return Ok(DeltaOutcome::NeedsReconcile);
    };
    let now = clock.now();
    progress(SyncEvent::ObjectStarted { object: object.clone(), total: None });
    let mut object_run = ObjectRun::new(client, store, ctx.plan, scope);

    // Deletions since the cursor, from the replication log.
    let Some(window) = replication_window(since, now, overlap, DELETED_REACH) else {
        info!(object = %object, "cursor older than the deletion log; reconciling");
        return Ok(DeltaOutcome::NeedsReconcile);
    };
    let deleted = match client.deleted(&object, window.start, window.end).await {
        Ok(d) => d,
        Err(e) if e.error_code() == Some(INVALID_REPLICATION_DATE) => {
            info!(object = %object, "deletion log refused the window; reconciling");
            return Ok(DeltaOutcome::NeedsReconcile);
        }
        Err(e) => return Err(e.into()),
    };
    let held = held_ids(store, &object)?;
    let removes: Vec<(String, RemoveKind)> =
        normalized(deleted.deleted_records.into_iter().map(|d| d.id))
            .into_iter()
            .filter(|id| held.contains(id))
            .map(|id| (id, RemoveKind::Deleted))
            .collect();
    debug!(object = %object, deleted = removes.len(), "deletions");
    object_run.apply(Vec::new(), removes, None)?;

    // Ids changed since the cursor, and the point up to which changes are committed.
    let Some(window) = replication_window(since, now, overlap, UPDATED_REACH) else {
        return Ok(DeltaOutcome::NeedsReconcile);
    };
    let updated = match client.updated(&object, window.start, window.end).await {
        Ok(u) => u,
        Err(e) if e.error_code() == Some(INVALID_REPLICATION_DATE) => {
            return Ok(DeltaOutcome::NeedsReconcile);
        }
        Err(e) => return Err(e.into()),
    };
    let covered = updated.latest_date_covered;
    let mut changed = normalized(updated.ids);

    // Records the server-evaluated scope brings in that changed since the cursor, with
    // an overlap window; upserts are idempotent, so re-reading is harmless.
    let mut read_in_scope = BTreeSet::new();
    if let Some(soql) = scope.page_query(Some(&StampBound::From(since - overlap)), None) {
        let mut pager = client.query_pages(&soql, ctx.options.page_size);
        while let Some(page) = pager.next_page().await? {
            let held = held_ids(store, &object)?;
            let mut stores = Vec::with_capacity(page.records.len());
            for record in page.records {
                let id = record_id(&object, &record)?;
                let kind = if held.contains(&id) { StoreKind::Updated } else { StoreKind::New };
                read_in_scope.insert(id);
                stores.push((record, kind));
            }
            object_run.apply(stores, Vec::new(), None)?;
            progress(SyncEvent::Progress {
                object: object.clone(),
                done: read_in_scope.len() as u64,
                total: None,
            });
        }
    }
    changed.extend(read_in_scope.iter().cloned());

    // Candidates whose scope must be evaluated: held records that changed but did not
    // come back in scope, records that may have changed into a held link, and records
    // touched by related changes in this run.
    let held = held_ids(store, &object)?;
    let mut candidates: BTreeSet<String> = changed
        .iter()
        .filter(|id| !read_in_scope.contains(*id))
        .filter(|id| held.contains(*id) || scope.held_rules().next().is_some())
        .cloned()
        .collect();
    let (touched, fetched) = object_run.touched_candidates(run).await?;
    candidates.extend(touched.into_iter().filter(|id| !read_in_scope.contains(id)));
    let fetched: BTreeMap<_, _> =
        fetched.into_iter().filter(|(id, _)| candidates.contains(id)).collect();
    let name = object.clone();
    let mut report = |counts: &ObjectCounts| {
        let done = counts.new + counts.updated + counts.entered_scope;
        progress(SyncEvent::Progress { object: name.clone(), done, total: None });
    };
    object_run.evaluate(candidates, fetched, &changed, &mut report).await?;

    // The cursor never passes the point up to which the server knows all commits.
    let next = SyncCursor {
        object: object.clone(),
        modstamp: Some(format_datetime(covered)),
        last_id: None,
        replication_latest: Some(format_datetime(covered)),
        prime_state: cursor.prime_state.clone(),
        last_sync_at: Some(now),
    };
    store.write(|tx| tx.set_cursor(&next))?;

    let counts = object_run.counts;
    merge_changes(run, &object, object_run.changes);
    info!(
        object = %object, new = counts.new, updated = counts.updated, deleted = counts.deleted,
        left = counts.left_scope, entered = counts.entered_scope, "delta done"
    );
    progress(SyncEvent::ObjectFinished { object, counts });
    Ok(DeltaOutcome::Done(counts))
}
