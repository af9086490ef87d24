//! Deciding, record by record, whether candidates are in scope, and applying the verdicts
//! to the store in one transaction per batch.

use std::collections::{BTreeMap, BTreeSet};

use salesforce::client::Client;
use salesforce::wire::Record;
use store::{Store, SyncCursor};
use tracing::{debug, trace};

use super::decide::{Evaluated, IDS_PER_QUERY, RemoveKind, StoreKind, Verdict, verdict};
use super::remote::{fetch_all, held_among, held_children, held_targets, lookup_value, record_id};
use super::{MAX_REPORT_RECORDS, ObjectCounts, RecordChange, RecordChangeKind, SyncError};
use crate::history::display_name;
use crate::scope::{HeldLink, ObjectScope, RuleSource, ScopePlan};

/// What one object's run changed, for the objects whose scope derives from it.
#[derive(Debug, Default, Clone)]
pub(crate) struct ObjectChanges {
    /// Ids stored that were not held before.
    pub arrived: BTreeSet<String>,
    /// Ids removed from the store (or flagged, when pending).
    pub removed: BTreeSet<String>,
    /// Per tracked lookup field, its values before and after on every record stored or
    /// removed: the records of other objects whose scope may have moved.
    pub lookup_values: BTreeMap<String, BTreeSet<String>>,
    /// The records stored or removed, for history (at most [`MAX_REPORT_RECORDS`]).
    pub records: Vec<RecordChange>,
}

/// Changes per object in one run.
pub(crate) type RunChanges = BTreeMap<String, ObjectChanges>;

/// Adds `changes` to what `run` knows about `object`.
pub(crate) fn merge_changes(run: &mut RunChanges, object: &str, changes: ObjectChanges) {
    let entry = run.entry(object.to_string()).or_default();
    entry.arrived.extend(changes.arrived);
    entry.removed.extend(changes.removed);
    for (field, values) in changes.lookup_values {
        entry.lookup_values.entry(field).or_default().extend(values);
    }
    let room = MAX_REPORT_RECORDS.saturating_sub(entry.records.len());
    entry.records.extend(changes.records.into_iter().take(room));
}

/// Whether a run notes, per object, the ids that arrived and the lookup values it wrote
/// or removed: objects evaluated later in the same run need them, a run that only primes
/// does not (priming reads held links from the store), and at a million records they
/// would be most of its memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkNotes {
    /// Note them in [`ObjectChanges`].
    Keep,
    /// Leave `arrived` and `lookup_values` empty.
    Skip,
}

/// One object's share of a run: where it reads and writes, and what it changed.
pub(crate) struct ObjectRun<'a> {
    pub client: &'a Client,
    pub store: &'a Store,
    pub scope: &'a ObjectScope,
    /// Lookup fields of this object that other objects' scope follows.
    pub tracked_fields: Vec<String>,
    pub counts: ObjectCounts,
    pub changes: ObjectChanges,
    /// Whether `changes` notes arrivals and lookup values.
    pub link_notes: LinkNotes,
    /// Whether each batch's commit is flushed to disk on its own. Priming turns it off:
    /// its pages can be read again, and its last commit flushes them all (see
    /// [`Store::write_unflushed`]).
    pub flush_each: bool,
    /// The ids the last [`ObjectRun::apply`] left out for the object's `max_records`.
    pub over_limit_ids: Vec<String>,
    /// While the object has a `max_records`: its stored count after this run's last
    /// write, kept up by what each write inserted and removed, so that a write with room
    /// to spare does not count the table again (see [`super::cap::within_cap`]).
    pub stored: Option<u64>,
}

/// The lookup fields of `object` that some rule of the plan follows to other records.
pub(crate) fn tracked_fields(plan: &ScopePlan, object: &str) -> Vec<String> {
    let mut fields = Vec::new();
    for o in &plan.objects {
        for rule in &o.rules {
            if let RuleSource::Parent { from, field } = &rule.source
                && from == object
                && !fields.contains(field)
            {
                fields.push(field.clone());
            }
        }
    }
    fields
}

impl<'a> ObjectRun<'a> {
    pub(crate) fn new(
        client: &'a Client,
        store: &'a Store,
        plan: &ScopePlan,
        scope: &'a ObjectScope,
    ) -> Self {
        ObjectRun {
            client,
            store,
            scope,
            tracked_fields: tracked_fields(plan, &scope.object),
            counts: ObjectCounts::default(),
            changes: ObjectChanges::default(),
            link_notes: LinkNotes::Keep,
            flush_each: true,
            over_limit_ids: Vec::new(),
            stored: None,
        }
    }

    fn object(&self) -> &str {
        &self.scope.object
    }

    /// Writes `stores` and `removes` and, when given, `cursor`, in one transaction, and
    /// counts what happened.
    pub(crate) fn apply(
        &mut self,
        stores: Vec<(Record, StoreKind)>,
        removes: Vec<(String, RemoveKind)>,
        cursor: Option<&SyncCursor>,
    ) -> Result<(), SyncError> {
        let object = self.scope.object.clone();
        let (records, kinds): (Vec<Record>, Vec<StoreKind>) = stores.into_iter().unzip();
        let mut ids = Vec::with_capacity(records.len());
        for record in &records {
            ids.push(record_id(&object, record)?);
        }

        // The tracked lookups before the write, so a lookup that moved touches both ends.
        let keep_links = self.link_notes == LinkNotes::Keep;
        let before = if self.tracked_fields.is_empty() || !keep_links {
            BTreeMap::new()
        } else {
            let touched: Vec<&str> = ids
                .iter()
                .map(String::as_str)
                .chain(removes.iter().map(|(id, _)| id.as_str()))
                .collect();
            self.store.read_on_writer(|r| r.lookups_of(&object, &touched, &self.tracked_fields))?
        };

        // A record already kept out of scope for its pending changes stays as it is; the
        // others' names are read while they are still stored.
        let (already_left, removed_names) = self.store.read_on_writer(|r| {
            let mut out = BTreeSet::new();
            let mut names = BTreeMap::new();
            for (id, _) in &removes {
                if r.record_flags(&object, id)?.is_some_and(|f| f.scope_left) {
                    out.insert(id.clone());
                } else if let Some(record) = r.get_record(&object, id)? {
                    names.insert(id.clone(), display_name(&record));
                }
            }
            Ok((out, names))
        })?;
        let removes: Vec<(String, RemoveKind)> =
            removes.into_iter().filter(|(id, _)| !already_left.contains(id)).collect();

        let remove_ids: Vec<&str> = removes.iter().map(|(id, _)| id.as_str()).collect();
        let cap = self.scope.max_records;
        let estimate = self.stored;
        let write = |tx: &mut store::WriteTx<'_>| {
            // Removals first, so that the room they free counts under `max_records`.
            let removed = tx.delete_records(&object, &remove_ids)?;
            let estimate = estimate.map(|n| n.saturating_sub(removed.removed.len() as u64));
            let (keep, stored) = match cap {
                Some(cap) if !ids.is_empty() => {
                    let (keep, stored) = super::cap::within_cap(tx, &object, &ids, cap, estimate)?;
                    (Some(keep), Some(stored))
                }
                _ => (None, estimate),
            };
            let upserted = match &keep {
                Some(keep) if keep.contains(&false) => {
                    let kept: Vec<Record> = records
                        .iter()
                        .zip(keep)
                        .filter(|(_, k)| **k)
                        .map(|(r, _)| r.clone())
                        .collect();
                    tx.upsert_records(&object, &kept)?
                }
                _ => tx.upsert_records(&object, &records)?,
            };
            if let Some(cursor) = cursor {
                tx.set_cursor(cursor)?;
            }
            Ok((upserted, removed, keep, stored))
        };
        let (upserted, removed, keep, stored) = if self.flush_each {
            self.store.write(write)?
        } else {
            self.store.write_unflushed(write)?
        };
        if cap.is_some() {
            self.stored = stored.map(|n| n + upserted.inserted.len() as u64);
        }

        // Records left out for the object's cap are counted, and not noted as stored.
        self.over_limit_ids.clear();
        let (records, kinds, ids) = match keep {
            Some(keep) if keep.contains(&false) => {
                let mut out = (Vec::new(), Vec::new(), Vec::new());
                for (((record, kind), id), k) in records.into_iter().zip(kinds).zip(ids).zip(keep) {
                    if k {
                        out.0.push(record);
                        out.1.push(kind);
                        out.2.push(id);
                    } else {
                        self.counts.over_limit += 1;
                        self.over_limit_ids.push(id);
                        trace!(object = %object, "record not stored: over max_records");
                    }
                }
                debug!(object = %object, over_limit = self.counts.over_limit, "object at max_records");
                out
            }
            _ => (records, kinds, ids),
        };

        // Count, then note what other objects' scope needs to know. A record downloaded
        // again with nothing new is neither counted nor listed.
        let inserted: BTreeSet<&String> = upserted.inserted.iter().collect();
        let unchanged: BTreeSet<&String> = upserted.unchanged.iter().collect();
        for ((record, kind), id) in records.iter().zip(&kinds).zip(&ids) {
            if unchanged.contains(id) {
                continue;
            }
            let arrived = inserted.contains(id);
            let action = match (kind, arrived) {
                (_, false) => {
                    self.counts.updated += 1;
                    RecordChangeKind::Updated
                }
                (StoreKind::Entered, true) => {
                    self.counts.entered_scope += 1;
                    RecordChangeKind::EnteredScope
                }
                (_, true) => {
                    self.counts.new += 1;
                    RecordChangeKind::New
                }
            };
            if self.has_report_room() {
                self.note_record(id, display_name(record), action);
            }
            if arrived && keep_links {
                self.changes.arrived.insert(id.clone());
            }
            trace!(object = %object, arrived, "record stored");
        }
        let kept: BTreeSet<&String> = removed.kept.iter().collect();
        for (id, kind) in &removes {
            let action = if kept.contains(id) {
                self.counts.kept_pending += 1;
                RecordChangeKind::KeptPending
            } else {
                match kind {
                    RemoveKind::Deleted => {
                        self.counts.deleted += 1;
                        RecordChangeKind::Deleted
                    }
                    RemoveKind::LeftScope => {
                        self.counts.left_scope += 1;
                        RecordChangeKind::LeftScope
                    }
                }
            };
            self.note_record(id, removed_names.get(id).cloned().flatten(), action);
            if keep_links {
                self.changes.removed.insert(id.clone());
            }
        }
        if !keep_links {
            return Ok(());
        }
        // A record that came back unchanged moved no lookup: nothing to follow.
        for (id, map) in before {
            if unchanged.contains(&id) {
                continue;
            }
            for (field, value) in map {
                self.changes.lookup_values.entry(field).or_default().insert(value);
            }
        }
        for (record, id) in records.iter().zip(&ids) {
            if unchanged.contains(id) {
                continue;
            }
            for field in &self.tracked_fields {
                if let Some(v) = lookup_value(record, field) {
                    self.changes.lookup_values.entry(field.clone()).or_default().insert(v);
                }
            }
        }
        Ok(())
    }

    /// Whether history can list another record change of this run.
    fn has_report_room(&self) -> bool {
        self.changes.records.len() < MAX_REPORT_RECORDS
    }

    /// Lists one record change for history, up to [`MAX_REPORT_RECORDS`].
    fn note_record(&mut self, id: &str, name: Option<String>, action: RecordChangeKind) {
        if self.changes.records.len() < MAX_REPORT_RECORDS {
            let object = self.scope.object.clone();
            self.changes.records.push(RecordChange { object, id: id.to_string(), name, action });
        }
    }

    /// The records whose scope may have moved because related records changed in this
    /// run: candidate ids, and records already fetched for some of them.
    pub(crate) async fn touched_candidates(
        &self,
        run: &RunChanges,
    ) -> Result<(BTreeSet<String>, BTreeMap<String, Record>), SyncError> {
        let mut candidates = BTreeSet::new();
        let mut fetched = BTreeMap::new();
        for rule in &self.scope.rules {
            match &rule.source {
                RuleSource::Root => {}
                RuleSource::Parent { from, field } => {
                    if let Some(values) = run.get(from).and_then(|c| c.lookup_values.get(field)) {
                        candidates.extend(values.iter().cloned());
                    }
                }
                RuleSource::Child { from, field } => {
                    let Some(changes) = run.get(from) else { continue };

                    // Children of parents that just arrived, changed or not.
                    let arrived: Vec<String> = changes.arrived.iter().cloned().collect();
                    for chunk in arrived.chunks(IDS_PER_QUERY) {
                        let soql = self.scope.by_parents_query(field, chunk, None);
                        for record in fetch_all(self.client, &soql).await? {
                            let id = record_id(self.object(), &record)?;
                            candidates.insert(id.clone());
                            fetched.insert(id, record);
                        }
                    }

                    // Held children of parents that just left.
                    candidates.extend(held_children(
                        self.store,
                        self.object(),
                        field,
                        &changes.removed,
                    )?);
                }
            }
        }
        debug!(object = %self.object(), candidates = candidates.len(), "records touched by related changes");
        Ok((candidates, fetched))
    }

    /// Evaluates each candidate against every scope rule and applies the verdicts.
    /// `changed` are the ids known to have changed themselves since the cursor.
    pub(crate) async fn evaluate(
        &mut self,
        candidates: BTreeSet<String>,
        mut fetched: BTreeMap<String, Record>,
        changed: &BTreeSet<String>,
        on_batch: &mut (dyn FnMut(&ObjectCounts) + Send),
    ) -> Result<(), SyncError> {
        if candidates.is_empty() {
            return Ok(());
        }
        let object = self.object().to_string();
        let ids: Vec<String> = candidates.into_iter().collect();
        for chunk in ids.chunks(IDS_PER_QUERY) {
            // The candidates as the server has them now.
            let missing: Vec<String> =
                chunk.iter().filter(|id| !fetched.contains_key(*id)).cloned().collect();
            if !missing.is_empty() {
                for record in
                    fetch_all(self.client, &self.scope.fetch_by_ids_query(&missing)).await?
                {
                    fetched.insert(record_id(&object, &record)?, record);
                }
            }
            let present: Vec<String> =
                chunk.iter().filter(|id| fetched.contains_key(*id)).cloned().collect();
            let held = held_among(self.store, &object, chunk)?;

            // What each held link reaches among them: for a lookup target, the candidates
            // some held record points to; for a child, the held parents they point to.
            let mut link_sets: Vec<BTreeSet<String>> = Vec::new();
            for (link, _) in self.scope.held_rules() {
                link_sets.push(match link {
                    HeldLink::LookupTarget { from, field } => {
                        held_targets(self.store, from, field, &present)?
                    }
                    HeldLink::ChildOf { from, field } => {
                        let parents: BTreeSet<String> = present
                            .iter()
                            .filter_map(|id| fetched.get(id))
                            .filter_map(|record| lookup_value(record, field))
                            .collect();
                        held_among(self.store, from, &parents)?
                    }
                });
            }

            // Which of them the server-evaluated rules and the held rules' filters accept.
            let server_ok = self.matching(&present, ServerPart::Rules).await?;
            let mut filter_ok = Vec::new();
            for (_, filter) in self.scope.held_rules() {
                filter_ok.push(match filter {
                    Some(f) => self.matching(&present, ServerPart::Condition(f)).await?,
                    None => None,
                });
            }

            let mut stores = Vec::new();
            let mut removes = Vec::new();
            for id in chunk {
                let record = fetched.remove(id);
                let server_in = self.scope.has_server_rules()
                    && server_ok.as_ref().is_none_or(|ok| ok.contains(id));
                let held_in = record.as_ref().is_some_and(|record| {
                    self.scope.held_rules().zip(&link_sets).zip(&filter_ok).any(
                        |(((link, _), reach), filter)| {
                            let linked = match link {
                                HeldLink::LookupTarget { .. } => reach.contains(id),
                                HeldLink::ChildOf { field, .. } => {
                                    lookup_value(record, field).is_some_and(|p| reach.contains(&p))
                                }
                            };
                            linked && filter.as_ref().is_none_or(|ok| ok.contains(id))
                        },
                    )
                });
                let in_scope = record.is_some() && (server_in || held_in);
                let evaluated = Evaluated {
                    held: held.contains(id),
                    on_server: record.is_some(),
                    in_scope,
                    changed: changed.contains(id),
                };
                match (verdict(evaluated), record) {
                    // A held record re-evaluated only because a related record moved is
                    // written (and counted) only where its values differ: the store
                    // compares them, as a stamp alone cannot tell (two writes in the same
                    // second share one).
                    (Verdict::Store(kind), Some(record)) => stores.push((record, kind)),
                    (Verdict::Remove(kind), _) => removes.push((id.clone(), kind)),
                    _ => {}
                }
            }
            self.apply(stores, removes, None)?;
            on_batch(&self.counts);
        }
        Ok(())
    }

    /// The ids among `ids` that the object's server-evaluated rules bring in, asked of the
    /// org a chunk at a time.
    pub(crate) async fn server_scope_among(
        &self,
        ids: &[String],
    ) -> Result<BTreeSet<String>, SyncError> {
        let mut out = BTreeSet::new();
        for chunk in ids.chunks(IDS_PER_QUERY) {
            match self.matching(chunk, ServerPart::Rules).await? {
                Some(accepted) => out.extend(accepted),
                None => out.extend(chunk.iter().cloned()),
            }
        }
        Ok(out)
    }

    /// The ids among `ids` that the server-evaluated rules (or one condition) accept;
    /// `None` means all of them.
    async fn matching(
        &self,
        ids: &[String],
        part: ServerPart<'_>,
    ) -> Result<Option<BTreeSet<String>>, SyncError> {
        let condition = match part {
            ServerPart::Rules => {
                if !self.scope.has_server_rules() {
                    return Ok(Some(BTreeSet::new()));
                }
                match self.scope.condition() {
                    None => return Ok(None),
                    Some(c) => c,
                }
            }
            ServerPart::Condition(c) => c.clone(),
        };
        if ids.is_empty() {
            return Ok(Some(BTreeSet::new()));
        }
        let soql = self.scope.matching_ids_query(ids, Some(&condition));
        let mut ok = BTreeSet::new();
        for record in fetch_all(self.client, &soql).await? {
            ok.insert(record_id(self.object(), &record)?);
        }
        Ok(Some(ok))
    }
}

/// What [`ObjectRun::matching`] checks.
enum ServerPart<'c> {
    /// The union of the server-evaluated rules.
    Rules,
    /// One condition.
    Condition(&'c soql::ast::Condition),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;
    use crate::scope::plan;
    use crate::test_schema::{FIELD_SERVICE_PROFILE, describes};

    #[test]
    fn tracked_fields_are_the_lookups_scope_follows() {
        let profile = Profile::load("profile.toml", FIELD_SERVICE_PROFILE, &describes()).unwrap();
        let plan = plan(&profile, "005000000000001AAA").unwrap();
        assert_eq!(tracked_fields(&plan, "ServiceAppointment"), ["ParentRecordId"]);
        assert_eq!(tracked_fields(&plan, "WorkOrder"), ["AccountId", "AssetId", "ContactId"]);
        assert!(tracked_fields(&plan, "Product2").is_empty());
        assert!(tracked_fields(&plan, "WorkOrderLineItem").is_empty());
    }
}
