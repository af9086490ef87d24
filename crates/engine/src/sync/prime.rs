//! Priming: the first full read of one object's scope into the store, resumable from the
//! last page committed.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use salesforce::wire::Record;
use store::SyncCursor;
use store::values::{format_datetime, parse_datetime};
use tracing::{debug, info};

use super::decide::{
    IDS_PER_QUERY, PAGE_SIZE, PrimePhase, PrimeState, StoreKind, UPDATED_REACH, replication_window,
};
use super::evaluate::{LinkNotes, ObjectRun, RunChanges, merge_changes};
use super::lookahead::PageFeed;
use super::remote::{fetch_ids, held_among, held_ids, record_id, record_stamp};
use super::{Ctx, ObjectCounts, SyncError, SyncEvent};
use crate::scope::{Cursor, HeldLink, ObjectScope, StampBound};

/// Queries for held links read at once: each is small (one id list), so several in flight
/// keep the org busy while pages are stored.
const HELD_QUERIES_IN_FLIGHT: usize = 3;

/// The object's priming state, from its cursor row.
pub(crate) fn prime_state(cursor: Option<&SyncCursor>) -> Option<PrimeState> {
    let value = cursor?.prime_state.clone()?;
    serde_json::from_value(value).ok()
}

/// The cursor row for `state`, with the server read position `position`.
fn cursor_row(
    object: &str,
    state: &PrimeState,
    position: Option<&Cursor>,
    now: DateTime<Utc>,
) -> SyncCursor {
    let covered = format_datetime(state.covered);
    let done = state.phase == PrimePhase::Done;
    SyncCursor {
        object: object.to_string(),
        modstamp: if done {
            Some(covered.clone())
        } else {
            position.map(|c| format_datetime(c.stamp))
        },
        last_id: if done { None } else { position.map(|c| c.id.clone()) },
        replication_latest: Some(covered),
        prime_state: serde_json::to_value(state).ok(),
        last_sync_at: done.then_some(now),
    }
}

/// Stores one page of new records with the cursor row that covers them, in one transaction.
fn store_page(
    object_run: &mut ObjectRun<'_>,
    records: Vec<Record>,
    row: &SyncCursor,
) -> Result<(), SyncError> {
    let stores = records.into_iter().map(|r| (r, StoreKind::New)).collect();
    object_run.apply(stores, Vec::new(), Some(row))
}

/// The point up to which the server says every change is committed, asked just now.
/// Objects without a replication log fall back to the engine's clock (capped by the org's
/// `Date`) less the overlap.
pub(crate) async fn latest_covered(
    ctx: &Ctx<'_>,
    object: &str,
) -> Result<DateTime<Utc>, SyncError> {
    let now = ctx.clock.now();
    if !ctx.has_log(object) {
        return Ok(stamp_mark(ctx, now));
    }
    let Some(w) =
        replication_window(now - Duration::minutes(1), now, Duration::zero(), UPDATED_REACH)
    else {
        return Ok(now);
    };
    match ctx.client.updated(object, w.start, w.end).await {
        Ok(u) => Ok(u.latest_date_covered),
        Err(e) => {
            ctx.no_log_or(object, e)?;
            Ok(stamp_mark(ctx, now))
        }
    }
}

/// The mark of an object synced by stamps alone: `now` less the overlap. A device clock
/// running ahead of the org's would put it past changes the org has not stamped yet, so
/// the org's own clock, as its latest answer gave it, caps `now`.
fn stamp_mark(ctx: &Ctx<'_>, now: DateTime<Utc>) -> DateTime<Utc> {
    let org_now = ctx.client.server_date().map_or(now, |date| date.min(now));
    org_now - ctx.options.overlap
}

/// Primes `scope`'s object unless it is primed already; resumes an interrupted priming.
/// `link_notes` says whether `run` learns which records arrived, for objects evaluated
/// after this one in the same run.
pub(crate) async fn prime_object(
    ctx: &Ctx<'_>,
    scope: &ObjectScope,
    run: &mut RunChanges,
    link_notes: LinkNotes,
    progress: &mut (dyn FnMut(SyncEvent) + Send),
) -> Result<ObjectCounts, SyncError> {
    let (client, store, clock) = (ctx.client, ctx.store, ctx.clock);
    let object = scope.object.clone();
    let cursor = store.read(|r| r.cursor(&object))?;
    let mut state = match prime_state(cursor.as_ref()) {
        Some(s) if s.phase == PrimePhase::Done => return Ok(ObjectCounts::default()),
        Some(s) => {
            info!(object = %object, done = s.done, "resuming priming");
            s
        }
        None => {
            let covered = latest_covered(ctx, &object).await?;
            let total = match scope.count_query() {
                Some(q) => Some(client.count(&q).await?),
                None => None,
            };
            info!(object = %object, total, "priming");
            let phase =
                if scope.has_server_rules() { PrimePhase::Server } else { PrimePhase::Held };
            PrimeState { phase, done: 0, total, covered }
        }
    };
    let mut position = match (&cursor, state.phase) {
        (Some(c), PrimePhase::Server) => {
            match (c.modstamp.as_deref().and_then(parse_datetime), &c.last_id) {
                (Some(stamp), Some(id)) => Some(Cursor { stamp, id: id.clone() }),
                _ => None,
            }
        }
        _ => None,
    };
    progress(SyncEvent::ObjectStarted { object: object.clone(), total: state.total });
    let mut object_run = ObjectRun::new(client, store, ctx.plan, scope);
    // Pages can be read again; the commit that marks the object primed flushes them all.
    object_run.flush_each = false;
    object_run.link_notes = link_notes;
    // Room left under the profile's `max_records`: by the count the last write left, or
    // as the store counts it before the first.
    let room = |object_run: &ObjectRun<'_>| -> Result<Option<u64>, SyncError> {
        let Some(cap) = scope.max_records else { return Ok(None) };
        let stored = match object_run.stored {
            Some(n) => n,
            None => store.read(|r| r.count(&object))?,
        };
        Ok(Some(cap.saturating_sub(stored)))
    };
    // Records in scope left out for `max_records`: the server scope's beyond the cap,
    // and the ids held links bring in once the object is full.
    let mut server_over = 0;
    let mut over_ids = BTreeSet::new();

    // The server-evaluated scope, in (SystemModstamp, Id) order, one page per transaction;
    // the next page is fetched while this one is stored.
    if state.phase == PrimePhase::Server {
        let bound = position.clone().map(StampBound::After);
        let limit = room(&object_run)?;
        if limit != Some(0)
            && let Some(soql) = scope.page_query(bound.as_ref(), limit)
        {
            let mut feed = PageFeed::start(client, vec![soql], ctx.options.page_size, 1);
            while let Some(records) = feed.next().await? {
                let Some(last) = records.last() else { continue };
                position = Some(Cursor {
                    stamp: record_stamp(&object, last)?,
                    id: record_id(&object, last)?,
                });
                state.done += records.len() as u64;
                let row = cursor_row(&object, &state, position.as_ref(), clock.now());
                store_page(&mut object_run, records, &row)?;
                over_ids.extend(object_run.over_limit_ids.drain(..));
                progress(SyncEvent::Progress {
                    object: object.clone(),
                    done: state.done,
                    total: state.total,
                });
            }
        }
        // The query read at most the room there was; the server counted the rest.
        if room(&object_run)? == Some(0)
            && let Some(total) = state.total
        {
            let stored = store.read(|r| r.count(&object))?;
            server_over = total.saturating_sub(stored + over_ids.len() as u64);
        }
        state.phase = PrimePhase::Held;
    }

    // Records that held links bring in: targets of held lookups, children of held parents.
    // Once the object is full, only the ids of the rest are read, to count them.
    for (link, filter) in scope.held_rules() {
        let (field, values) = match link {
            HeldLink::LookupTarget { from, field } => {
                let held = held_ids(store, &object)?;
                let targets = store.read(|r| r.lookup_values(from, field))?;
                let wanted: Vec<String> = targets.difference(&held).cloned().collect();
                debug!(object = %object, from = %from, targets = wanted.len(), "priming lookup targets");
                ("Id", wanted)
            }
            HeldLink::ChildOf { from, field } => {
                (field.as_str(), held_ids(store, from)?.into_iter().collect())
            }
        };
        if room(&object_run)? != Some(0) {
            let queries: Vec<String> = values
                .chunks(IDS_PER_QUERY)
                .map(|chunk| scope.by_parents_query(field, chunk, filter))
                .collect();
            let mut feed = PageFeed::start(client, queries, PAGE_SIZE, HELD_QUERIES_IN_FLIGHT);
            while let Some(records) = feed.next().await? {
                if records.is_empty() {
                    continue;
                }
                state.done += records.len() as u64;
                let row = cursor_row(&object, &state, None, clock.now());
                store_page(&mut object_run, records, &row)?;
                over_ids.extend(object_run.over_limit_ids.drain(..));
                progress(SyncEvent::Progress {
                    object: object.clone(),
                    done: state.done,
                    total: state.total,
                });
                if room(&object_run)? == Some(0) {
                    break;
                }
            }
            if room(&object_run)? != Some(0) {
                continue;
            }
        }
        let mut ids = BTreeSet::new();
        for chunk in values.chunks(IDS_PER_QUERY) {
            let soql = scope.ids_by_parents_query(field, chunk, filter);
            ids.extend(fetch_ids(client, &object, &soql, false, None).await?);
        }
        let held = held_among(store, &object, &ids)?;
        let mut left_out: Vec<String> =
            ids.into_iter().filter(|id| !held.contains(id) && !over_ids.contains(id)).collect();
        if server_over > 0 && !left_out.is_empty() {
            // The server scope's records beyond the cap are already in `server_over`, by
            // count: one a link brings too is not counted again.
            let in_server = object_run.server_scope_among(&left_out).await?;
            left_out.retain(|id| !in_server.contains(id));
        }
        over_ids.extend(left_out);
    }
    if scope.max_records.is_some() {
        object_run.counts.over_limit = server_over + over_ids.len() as u64;
        if object_run.counts.over_limit > 0 {
            info!(
                object = %object, over_limit = object_run.counts.over_limit,
                max_records = scope.max_records, "records in scope not stored: over max_records"
            );
        }
    }

    // Primed: delta starts where the server said every change was committed.
    state.phase = PrimePhase::Done;
    let row = cursor_row(&object, &state, None, clock.now());
    store.write(|tx| tx.set_cursor(&row))?;
    let counts = object_run.counts;
    merge_changes(run, &object, object_run.changes);
    info!(object = %object, new = counts.new, over_limit = counts.over_limit, "primed");
    progress(SyncEvent::ObjectFinished { object, counts });
    Ok(counts)
}
