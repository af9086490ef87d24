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
use super::prefetch::Prefetched;
use super::prime::latest_covered;
use super::remote::{fetch_ids, held_among, pages, record_id};
use super::{Ctx, ObjectCounts, SyncError, SyncEvent};
use crate::scope::{ObjectScope, StampBound};

/// The error code the replication API answers a window beyond its reach with.
const INVALID_REPLICATION_DATE: &str = "INVALID_REPLICATION_DATE";

/// How a delta of one object ended.
#[derive(Debug)]
pub(crate) struct DeltaOutcome {
    /// What changed.
    pub counts: ObjectCounts,
    /// The change log did not reach back to the cursor, so deletions (and, for held
    /// links, records that changed into scope) may have been missed: reconcile.
    pub needs_reconcile: bool,
}

fn normalized(ids: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    ids.into_iter().filter_map(|id| SfId::parse(&id).ok()).map(|id| id.to_string()).collect()
}

fn refused(e: &salesforce::client::Error) -> bool {
    e.error_code() == Some(INVALID_REPLICATION_DATE)
}

// FIXME: with 100 changes a delta takes 12 ms with 10k records stored and 15 ms with 1M
// (1.2–1.3×, target < 1.2×) from a fresh process on a quiet 2-core machine, and 10
// against 12 ms (1.1–1.25×) in the running app. The growth is in the changed object's
// step: each changed record is a lookup at a random place in deeper B-trees (its id, its
// parent's, its row), mostly cached at 10k and read from the file and decrypted at 1M.
// Reading each candidate row once (its presence, flags and values together) is the next
// lever.
/// Runs delta sync for one primed object. `first` holds the answers to its first reads
/// when they were sent ahead with other objects' (see [`super::prefetch`]); whatever it
/// lacks is read here.
pub(crate) async fn delta_object(
    ctx: &Ctx<'_>,
    scope: &ObjectScope,
    first: Option<Prefetched>,
    run: &mut RunChanges,
    progress: &mut (dyn FnMut(SyncEvent) + Send),
) -> Result<DeltaOutcome, SyncError> {
    let (client, store, clock, overlap) = (ctx.client, ctx.store, ctx.clock, ctx.options.overlap);
    let object = scope.object.clone();
    let cursor = store.read(|r| r.cursor(&object))?.unwrap_or_default();
    let mut first = first.unwrap_or_else(|| Prefetched::none(clock.now()));
    let now = first.now;
    let Some(since) = cursor.modstamp.as_deref().and_then(parse_datetime) else {
        return Ok(DeltaOutcome { counts: ObjectCounts::default(), needs_reconcile: true });
    };
    progress(SyncEvent::ObjectStarted { object: object.clone(), total: None });
    let mut object_run = ObjectRun::new(client, store, ctx.plan, scope);
    let mut needs_reconcile = false;

    // Deletions since the cursor: from the replication log, or, for an object without
    // one, from its soft-deleted rows (queryAll) while the recycle bin still has them.
    let has_log = ctx.has_log(&object);
    let from = StampBound::From(since - overlap);
    let deleted: Option<BTreeSet<String>> =
        match replication_window(since, now, overlap, DELETED_REACH) {
            None => None,
            Some(w) if has_log => {
                let answer = match first.deleted.take() {
                    Some(answer) => answer,
                    None => client.deleted(&object, w.start, w.end).await,
                };
                match answer {
                    Ok(d) => Some(normalized(d.deleted_records.into_iter().map(|d| d.id))),
                    Err(e) if refused(&e) => None,
                    Err(e) => {
                        ctx.no_log_or(&object, e)?;
                        let soql = scope.deleted_ids_query(&from);
                        Some(fetch_ids(client, &object, &soql, true, None).await?)
                    }
                }
            }
            Some(_) => {
                let soql = scope.deleted_ids_query(&from);
                Some(fetch_ids(client, &object, &soql, true, first.deleted_rows.take()).await?)
            }
        };
    match deleted {
        Some(deleted) => {
            let removes: Vec<(String, RemoveKind)> = held_among(store, &object, &deleted)?
                .into_iter()
                .map(|id| (id, RemoveKind::Deleted))
                .collect();
            debug!(object = %object, deleted = removes.len(), "deletions");
            object_run.apply(Vec::new(), removes, None)?;
        }
        None => {
            info!(object = %object, "deletions since the cursor are out of reach; reconciling");
            needs_reconcile = true;
        }
    }

    // Ids changed since the cursor, and the point up to which changes are committed;
    // without a log (or beyond its reach), changed ids come from a stamp query.
    let updated = match replication_window(since, now, overlap, UPDATED_REACH) {
        Some(w) if ctx.has_log(&object) => {
            let answer = match first.updated.take() {
                Some(answer) => answer,
                None => client.updated(&object, w.start, w.end).await,
            };
            match answer {
                Ok(u) => Some(u),
                Err(e) if refused(&e) => None,
                Err(e) => {
                    ctx.no_log_or(&object, e)?;
                    None
                }
            }
        }
        _ => None,
    };
    let (covered, mut changed) = match updated {
        Some(u) => (u.latest_date_covered, normalized(u.ids)),
        None => {
            let covered = latest_covered(ctx, &object).await?;
            let soql = scope.changed_ids_query(&from);
            (covered, fetch_ids(client, &object, &soql, false, first.changed_rows.take()).await?)
        }
    };

    // Records the server-evaluated scope brings in that changed since the cursor, with
    // an overlap window; upserts are idempotent, so re-reading is harmless.
    // The object's `max_records` holds here too: `ObjectRun::apply` stores new records
    // only while there is room and counts the rest as over the limit. The cursor still
    // moves past them, so one left out comes back only when it changes again.
    let mut read_in_scope = BTreeSet::new();
    if let Some(soql) = scope.page_query(Some(&StampBound::From(since - overlap)), None) {
        let mut pager =
            pages(client, &soql, false, ctx.options.page_size, first.scope_page.take())?;
        while let Some(page) = pager.next_page().await? {
            let mut ids = Vec::with_capacity(page.records.len());
            for record in &page.records {
                ids.push(record_id(&object, record)?);
            }
            // Every record goes to the store, which tells new records from stored ones and
            // writes (and counts) only what differs: a record re-read with the stamp it
            // has here may still have changed, as two writes in one second share a stamp.
            read_in_scope.extend(ids);
            let stores = page.records.into_iter().map(|r| (r, StoreKind::New)).collect();
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
    let unread = changed.iter().filter(|id| !read_in_scope.contains(*id));
    let mut candidates: BTreeSet<String> = if scope.held_rules().next().is_some() {
        unread.cloned().collect()
    } else {
        held_among(store, &object, unread)?
    };
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
    let outcome = DeltaOutcome { counts, needs_reconcile };
    merge_changes(run, &object, object_run.changes);
    info!(
        object = %object, new = counts.new, updated = counts.updated, deleted = counts.deleted,
        left = counts.left_scope, entered = counts.entered_scope,
        over_limit = counts.over_limit, "delta done"
    );
    progress(SyncEvent::ObjectFinished { object, counts });
    Ok(outcome)
}
