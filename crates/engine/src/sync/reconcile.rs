//! Reconciliation: comparing an object's held id set with the server's in-scope set, in
//! id ranges, counting before listing. It catches what the change log cannot: records
//! whose relative date filter moved on, deletions older than the recycle bin, and scope
//! changed by a new profile.

use std::collections::{BTreeMap, BTreeSet};

use store::SyncCursor;
use store::values::format_datetime;
use tracing::{debug, info};

use super::decide::{IDS_PER_QUERY, diff_ids, id_ranges, in_range};
use super::evaluate::{ObjectRun, RunChanges, merge_changes};
use super::prime::latest_covered;
use super::remote::{fetch_all, held_ids, held_lookup_values, held_lookups, record_id};
use super::{Ctx, ObjectCounts, SyncError, SyncEvent};
use crate::scope::{HeldLink, ObjectScope};

/// Held ids per range compared at once.
const IDS_PER_RANGE: usize = 2000;

/// How much a reconciliation may trust equal counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReconcileMode {
    /// A range whose counts agree is taken as equal. Right when only deletions can have
    /// been missed (the change log's window ran out): anything that entered scope
    /// changed, and delta read it.
    CountsFirst,
    /// Every range is listed: scope itself moved (a new profile, relative dates), so a
    /// record can leave while another enters the same range.
    ListAll,
}

/// Reconciles one object and moves its cursor to the point the server covers now.
pub(crate) async fn reconcile_object(
    ctx: &Ctx<'_>,
    scope: &ObjectScope,
    mode: ReconcileMode,
    run: &mut RunChanges,
    progress: &mut (dyn FnMut(SyncEvent) + Send),
) -> Result<ObjectCounts, SyncError> {
    let (client, store, clock) = (ctx.client, ctx.store, ctx.clock);
    let object = scope.object.clone();
    progress(SyncEvent::ObjectStarted { object: object.clone(), total: None });
    let covered = latest_covered(ctx, &object).await?;
    let held = held_ids(store, &object)?;
    let held_sorted: Vec<String> = held.iter().cloned().collect();
    let mut candidates = BTreeSet::new();

    // The server-evaluated scope, range by range: equal counts skip the listing when the
    // mode allows it and no held link can account for extra held records.
    let mut server_accepted = BTreeSet::new();
    let has_links = scope.held_rules().next().is_some();
    if scope.has_server_rules() {
        for (low, high) in id_ranges(&held_sorted, IDS_PER_RANGE) {
            let (low, high) = (low.as_deref(), high.as_deref());
            let local: BTreeSet<String> =
                held.iter().filter(|id| in_range(id, low, high)).cloned().collect();
            if !has_links
                && mode == ReconcileMode::CountsFirst
                && let Some(count) = scope.count_in_range_query(low, high)
                && client.count(&count).await? == local.len() as u64
            {
                server_accepted.extend(local);
                continue;
            }
            let Some(listing) = scope.ids_in_range_query(low, high) else { continue };
            let mut server = BTreeSet::new();
            for record in fetch_all(client, &listing).await? {
                server.insert(record_id(&object, &record)?);
            }
            let (missing, extra) = diff_ids(&server, &local);
            debug!(object = %object, missing = missing.len(), extra = extra.len(), "range compared");
            candidates.extend(missing);
            candidates.extend(extra);
            server_accepted.extend(server);
        }
    }

    // Held links: targets and children not yet held, and held records no link reaches.
    let mut linked = BTreeSet::new();
    for (link, filter) in scope.held_rules() {
        match link {
            HeldLink::LookupTarget { from, field } => {
                let targets = held_lookup_values(store, from, field)?;
                candidates.extend(targets.difference(&held).cloned());
                linked.extend(targets.intersection(&held).cloned());
            }
            HeldLink::ChildOf { from, field } => {
                let parents = held_ids(store, from)?;
                let lookups = held_lookups(store, &object, std::slice::from_ref(field))?;
                linked.extend(
                    lookups
                        .into_iter()
                        .filter(|(_, v)| v.get(field).is_some_and(|p| parents.contains(p)))
                        .map(|(id, _)| id),
                );
                let parents: Vec<String> = parents.into_iter().collect();
                for chunk in parents.chunks(IDS_PER_QUERY) {
                    let listing = scope.ids_by_parents_query(field, chunk, filter);
                    for record in fetch_all(client, &listing).await? {
                        let id = record_id(&object, &record)?;
                        if !held.contains(&id) {
                            candidates.insert(id);
                        }
                    }
                }
            }
        }
    }

    // Linked records must still exist and still meet their rule's filter; listing ids
    // only, the ones that do not become candidates.
    let linked: Vec<String> = linked.into_iter().collect();
    let check = scope
        .held_rules()
        .map(|(_, filter)| filter.cloned())
        .reduce(|a, b| match (a, b) {
            (Some(a), Some(b)) => Some(soql::ast::Condition::Or(vec![a, b])),
            _ => None,
        })
        .flatten();
    let mut still_linked = BTreeSet::new();
    for chunk in linked.chunks(IDS_PER_QUERY) {
        for record in fetch_all(client, &scope.matching_ids_query(chunk, check.as_ref())).await? {
            still_linked.insert(record_id(&object, &record)?);
        }
    }
    candidates.extend(linked.iter().filter(|id| !still_linked.contains(*id)).cloned());
    let linked = still_linked;
    candidates.extend(
        held.iter().filter(|id| !server_accepted.contains(*id) && !linked.contains(*id)).cloned(),
    );

    let mut object_run = ObjectRun::new(client, store, ctx.plan, scope);
    let name = object.clone();
    let mut report = |counts: &ObjectCounts| {
        let done = counts.new + counts.updated + counts.entered_scope;
        progress(SyncEvent::Progress { object: name.clone(), done, total: None });
    };
    object_run.evaluate(candidates, BTreeMap::new(), &BTreeSet::new(), &mut report).await?;

    // Changed field values are delta's business (it reads changes by stamp when the log
    // is out of reach); reconciliation only settles membership, then moves the cursor.
    let cursor = store.read(|r| r.cursor(&object))?.unwrap_or_default();
    let next = SyncCursor {
        object: object.clone(),
        modstamp: Some(format_datetime(covered)),
        last_id: None,
        replication_latest: Some(format_datetime(covered)),
        prime_state: cursor.prime_state,
        last_sync_at: Some(clock.now()),
    };
    store.write(|tx| tx.set_cursor(&next))?;
    let counts = object_run.counts;
    merge_changes(run, &object, object_run.changes);
    info!(object = %object, left = counts.left_scope, entered = counts.entered_scope, deleted = counts.deleted, "reconciled");
    progress(SyncEvent::ObjectFinished { object, counts });
    Ok(counts)
}
