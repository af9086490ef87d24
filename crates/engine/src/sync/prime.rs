//! Priming: the first full read of one object's scope into the store, resumable from the
//! last page committed.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use store::SyncCursor;
use store::values::{format_datetime, parse_datetime};
use tracing::{debug, info};

use super::decide::{
    IDS_PER_QUERY, PrimePhase, PrimeState, StoreKind, UPDATED_REACH, replication_window,
};
use super::evaluate::{ObjectRun, RunChanges, merge_changes};
use super::remote::{fetch_all, held_ids, held_lookup_values, record_id, record_stamp};
use super::{Ctx, ObjectCounts, SyncError, SyncEvent};
use crate::scope::{Cursor, HeldLink, ObjectScope, StampBound};

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

/// The point up to which the server says every change is committed, asked just now.
/// Objects without a replication log fall back to the engine's clock less the overlap.
pub(crate) async fn latest_covered(
    ctx: &Ctx<'_>,
    object: &str,
) -> Result<DateTime<Utc>, SyncError> {
    let now = ctx.clock.now();
    if !ctx.has_log(object) {
        // FIXME: this trusts the device clock against the server's; the largest
        // SystemModstamp read would be a server-side mark to cap it with.
        return Ok(now - ctx.options.overlap);
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
            Ok(now - ctx.options.overlap)
        }
    }
}

/// Primes `scope`'s object unless it is primed already; resumes an interrupted priming.
pub(crate) async fn prime_object(
    ctx: &Ctx<'_>,
    scope: &ObjectScope,
    run: &mut RunChanges,
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
    let limit_left = |done: u64| scope.max_records.map(|m| m.saturating_sub(done));

    // The server-evaluated scope, in (SystemModstamp, Id) order, one page per transaction.
    if state.phase == PrimePhase::Server {
        let bound = position.clone().map(StampBound::After);
        if limit_left(state.done) != Some(0)
            && let Some(soql) = scope.page_query(bound.as_ref(), limit_left(state.done))
        {
            let mut pager = client.query_pages(&soql, ctx.options.page_size);
            while let Some(page) = pager.next_page().await? {
                let Some(last) = page.records.last() else { continue };
                position = Some(Cursor {
                    stamp: record_stamp(&object, last)?,
                    id: record_id(&object, last)?,
                });
                state.done += page.records.len() as u64;
                let row = cursor_row(&object, &state, position.as_ref(), clock.now());
                let stores = page.records.into_iter().map(|r| (r, StoreKind::New)).collect();
                object_run.apply(stores, Vec::new(), Some(&row))?;
                progress(SyncEvent::Progress {
                    object: object.clone(),
                    done: state.done,
                    total: state.total,
                });
            }
        }
        state.phase = PrimePhase::Held;
    }

    // Records that held links bring in: targets of held lookups, children of held parents.
    for (link, filter) in scope.held_rules() {
        let (field, values) = match link {
            HeldLink::LookupTarget { from, field } => {
                let held = held_ids(store, &object)?;
                let wanted: BTreeSet<String> =
                    held_lookup_values(store, from, field)?.difference(&held).cloned().collect();
                debug!(object = %object, from = %from, targets = wanted.len(), "priming lookup targets");
                ("Id", wanted)
            }
            HeldLink::ChildOf { from, field } => (field.as_str(), held_ids(store, from)?),
        };
        let values: Vec<String> = values.into_iter().collect();
        for chunk in values.chunks(IDS_PER_QUERY) {
            if limit_left(state.done) == Some(0) {
                // FIXME: max_records cuts priming short without telling the user which
                // records are missing; a per-object "truncated" flag in history would.
                break;
            }
            let records = fetch_all(client, &scope.by_parents_query(field, chunk, filter)).await?;
            state.done += records.len() as u64;
            let row = cursor_row(&object, &state, None, clock.now());
            let stores = records.into_iter().map(|r| (r, StoreKind::New)).collect();
            object_run.apply(stores, Vec::new(), Some(&row))?;
            progress(SyncEvent::Progress {
                object: object.clone(),
                done: state.done,
                total: state.total,
            });
        }
    }

    // Primed: delta starts where the server said every change was committed.
    state.phase = PrimePhase::Done;
    let row = cursor_row(&object, &state, None, clock.now());
    store.write(|tx| tx.set_cursor(&row))?;
    let counts = object_run.counts;
    merge_changes(run, &object, object_run.changes);
    info!(object = %object, new = counts.new, "primed");
    progress(SyncEvent::ObjectFinished { object, counts });
    Ok(counts)
}
