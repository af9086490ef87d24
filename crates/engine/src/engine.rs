//! The [`Engine`]: one profile, one store, one org session, and the runs that keep the
//! store in step with the org.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use salesforce::client::Client;
use soql::schema::ObjectSchema;
use store::Store;
use store::values::parse_datetime;
use tracing::{debug, info, warn};

use crate::clock::Clock;
use crate::profile::{Describes, Profile, ProfileDiff, ProfileSource};
use crate::scope::{ObjectScope, ScopePlan, plan};
use crate::sync::decide::{ObjectStep, next_step};
use crate::sync::evaluate::RunChanges;
use crate::sync::prefetch::prefetch;
use crate::sync::prime::prime_state;
use crate::sync::upload_step::upload_pending;
use crate::sync::{
    Ctx, LinkNotes, ObjectCounts, ReconcileMode, RecordChange, SyncError, SyncEvent, SyncKind,
    SyncOptions, SyncReport, delta_object, prime_object, reconcile_object,
};
use crate::upload::UploadOptions;

/// A progress callback.
pub type Progress<'a> = &'a mut (dyn FnMut(SyncEvent) + Send);

/// The counts of the objects a run has finished so far, by object.
type Finished = std::sync::Mutex<BTreeMap<String, crate::sync::ObjectCounts>>;

/// Passes every event on to `progress`, noting in `finished` each object's counts as it
/// finishes, so that a run that fails later still records what it did.
fn tap_finished<'a>(
    finished: &'a Finished,
    progress: Progress<'a>,
) -> impl FnMut(SyncEvent) + Send + 'a {
    move |event: SyncEvent| {
        if let SyncEvent::ObjectFinished { object, counts } = &event {
            finished.lock().unwrap_or_else(|p| p.into_inner()).insert(object.clone(), *counts);
        }
        progress(event);
    }
}

/// The sync engine for one user's device.
pub struct Engine {
    store: Arc<Store>,
    client: Client,
    profile: Profile,
    plan: ScopePlan,
    clock: Arc<dyn Clock>,
    user_id: String,
    options: SyncOptions,
    without_log: Mutex<BTreeSet<String>>,
    composite_off: AtomicBool,
    upload_options: UploadOptions,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("objects", &self.plan.objects.len())
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// What a profile change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileChange {
    /// What differs between the old and the new profile.
    pub diff: ProfileDiff,
    /// Objects whose scope moved and that were reconciled (records left and entered;
    /// records still in scope were not downloaded again).
    pub rescoped: BTreeMap<String, ObjectCounts>,
    /// Records removed per object the new profile dropped.
    pub dropped: BTreeMap<String, ObjectCounts>,
}

/// Describes the objects `source` names and validates it against them.
async fn load_profile(client: &Client, source: &ProfileSource) -> Result<Loaded, SyncError> {
    let global = client.describe_global().await?;
    let without_log =
        global.sobjects.iter().filter(|o| !o.replicateable).map(|o| o.name.clone()).collect();
    let known: Vec<String> = global.sobjects.iter().map(|o| o.name.clone()).collect();
    let mut schemas = Vec::new();
    for name in source.object_names() {
        if known.iter().any(|k| k.eq_ignore_ascii_case(&name)) {
            schemas.push(client.describe(&name).await?.to_schema());
        }
    }
    let describes = Describes::new(known, schemas.clone());
    let profile = source.validate(&describes)?;
    Ok(Loaded { profile, schemas, without_log })
}

/// A validated profile with the describe data it was checked against.
struct Loaded {
    profile: Profile,
    schemas: Vec<ObjectSchema>,
    without_log: BTreeSet<String>,
}

/// Creates or extends the store tables the profile's objects need, indexing the lookups
/// that scope follows.
fn ensure_tables(
    store: &Store,
    profile: &Profile,
    schemas: &[ObjectSchema],
) -> Result<(), SyncError> {
    for object in &profile.objects {
        let Some(schema) = schemas.iter().find(|s| s.name.eq_ignore_ascii_case(&object.name))
        else {
            continue;
        };
        let mut indexed: Vec<&str> = object.parents.iter().map(|p| p.field.as_str()).collect();
        for o in &profile.objects {
            indexed.extend(
                o.children.iter().filter(|c| c.child == object.name).map(|c| c.field.as_str()),
            );
        }
        store.ensure_object(schema, &indexed)?;
    }
    Ok(())
}

/// Reads `fields` of every held record of `object` and stores them; returns how many
/// records were updated.
async fn fill_new_fields(
    client: &Client,
    store: &Store,
    object: &str,
    fields: &[String],
) -> Result<u64, SyncError> {
    let held: Vec<String> = crate::sync::remote::held_ids(store, object)?.into_iter().collect();
    let mut select = vec!["Id".to_string()];
    select.extend(fields.iter().cloned());
    let mut filled = 0;
    for chunk in held.chunks(crate::sync::decide::IDS_PER_QUERY) {
        let ids: Vec<String> = chunk.iter().map(|id| format!("'{id}'")).collect();
        let soql =
            format!("SELECT {} FROM {object} WHERE Id IN ({})", select.join(", "), ids.join(", "));
        let records = crate::sync::remote::fetch_all(client, &soql).await?;
        filled += records.len() as u64;
        store.write(|tx| tx.upsert_records(object, &records))?;
    }
    Ok(filled)
}

/// The record changes a run listed, object by object.
fn run_records(run: RunChanges) -> Vec<RecordChange> {
    run.into_values().flat_map(|changes| changes.records).collect()
}

impl Engine {
    /// Opens the engine: describes the profile's objects, validates the profile against
    /// them (all-or-nothing), plans scope for the session's user and makes sure the store
    /// has a table for every object.
    pub async fn open(
        store: Arc<Store>,
        client: Client,
        profile: &ProfileSource,
        clock: Arc<dyn Clock>,
    ) -> Result<Engine, SyncError> {
        let user_id = client.session().user_id;
        if user_id.is_empty() {
            return Err(SyncError::NoUser);
        }
        let Loaded { profile, schemas, without_log } = load_profile(&client, profile).await?;
        let plan = plan(&profile, &user_id)?;
        ensure_tables(&store, &profile, &schemas)?;
        info!(objects = plan.objects.len(), "engine open");
        Ok(Engine {
            store,
            client,
            profile,
            plan,
            clock,
            user_id,
            options: SyncOptions::default(),
            without_log: Mutex::new(without_log),
            composite_off: AtomicBool::new(false),
            upload_options: UploadOptions::default(),
        })
    }

    /// Sets the overlap window and page size of download runs.
    pub fn set_options(&mut self, options: SyncOptions) {
        self.options = options;
    }

    /// Sets how the upload step retries and batches.
    pub fn set_upload_options(&mut self, options: UploadOptions) {
        self.upload_options = options;
    }

    fn ctx<'a>(&'a self, plan: &'a ScopePlan) -> Ctx<'a> {
        Ctx {
            client: &self.client,
            store: &self.store,
            plan,
            clock: self.clock.as_ref(),
            options: self.options,
            without_log: &self.without_log,
            composite_off: &self.composite_off,
        }
    }

    /// The validated profile in force.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The scope plan in force.
    pub fn plan(&self) -> &ScopePlan {
        &self.plan
    }

    /// The org client the engine calls through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The store the engine writes to.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Runs a SOQL query over the records held on the device (relative dates resolve
    /// against the engine's clock); the answer is its first page (at most
    /// [`store::DEFAULT_BATCH_SIZE`] records), shaped like the REST query result: while
    /// more follow, `done` is false and `nextRecordsUrl` leads to [`Engine::query_more`].
    pub fn query(&self, soql: &str) -> Result<serde_json::Value, SyncError> {
        let now = self.clock.now();
        Ok(self.store.read(|r| r.query(soql, now))?)
    }

    /// The next page of an offline query: `locator` is the `nextRecordsUrl` of the page
    /// before. Each page is read afresh, so no read stays open between calls.
    pub fn query_more(&self, locator: &str) -> Result<serde_json::Value, SyncError> {
        Ok(self.store.query_more(locator)?)
    }

    /// Records a run in the store's sync history (see [`crate::history`]): begins an
    /// event, runs `body`, and finishes the event with the outcome, the counts and a detail
    /// row per record uploaded, stored or removed. A run dropped halfway leaves its event
    /// open; [`crate::history::close_unfinished`] closes it as failed at the next start.
    /// A failed run keeps the counts of the objects that finished before it failed, as
    /// `finished` collected them from the run's progress (see [`tap_finished`]).
    async fn with_history(
        &self,
        trigger: store::SyncKind,
        finished: &Finished,
        body: impl Future<Output = Result<SyncReport, SyncError>>,
    ) -> Result<SyncReport, SyncError> {
        let run = crate::history::begin(&self.store, trigger, self.clock.now())?;
        let result = body.await;
        let ended_at = self.clock.now();
        let done_objects = finished.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let reason = result.as_ref().err().map(ToString::to_string);
        let end = match (&result, &reason) {
            (Ok(report), _) => crate::history::RunEnd::Completed(report),
            (Err(_), reason) => crate::history::RunEnd::Failed {
                reason: reason.as_deref().unwrap_or_default(),
                objects: &done_objects,
            },
        };
        // A history failure must not hide the run's own outcome.
        if let Err(e) = run.finish(&self.store, end, ended_at) {
            warn!(error = %e, "sync history not recorded");
        }
        result
    }

    /// Primes every object not primed yet, resuming any priming that was interrupted.
    /// The run is recorded in the store's sync history.
    pub async fn prime(&self, progress: Progress<'_>) -> Result<SyncReport, SyncError> {
        let finished = Finished::default();
        let mut tap = tap_finished(&finished, progress);
        self.with_history(store::SyncKind::Initial, &finished, self.prime_all(&mut tap)).await
    }

    async fn prime_all(&self, progress: Progress<'_>) -> Result<SyncReport, SyncError> {
        let started_at = self.clock.now();
        let ctx = self.ctx(&self.plan);
        let mut run = RunChanges::new();
        let mut objects = BTreeMap::new();
        for scope in &self.plan.objects {
            // Every object reads its held links from the store: nothing later in this run
            // needs to know what arrived.
            let counts = prime_object(&ctx, scope, &mut run, LinkNotes::Skip, progress).await?;
            objects.insert(scope.object.clone(), counts);
        }
        Ok(SyncReport {
            kind: SyncKind::Prime,
            started_at,
            finished_at: self.clock.now(),
            upload: Default::default(),
            objects,
            records: run_records(run),
        })
    }

    /// Uploads pending changes, then downloads: objects not primed yet are primed, the
    /// others get a delta (and, for [`SyncKind::Full`], a reconciliation of their id sets).
    /// Recorded in the store's sync history as started by the user.
    pub async fn sync(
        &self,
        kind: SyncKind,
        progress: Progress<'_>,
    ) -> Result<SyncReport, SyncError> {
        self.sync_as(kind, store::SyncKind::User, progress).await
    }

    /// [`Engine::sync`], recorded in history as started by `trigger` (a schedule, an
    /// automatic retry, ...).
    pub async fn sync_as(
        &self,
        kind: SyncKind,
        trigger: store::SyncKind,
        progress: Progress<'_>,
    ) -> Result<SyncReport, SyncError> {
        if kind == SyncKind::Prime {
            return self.prime(progress).await;
        }
        self.sync_objects_as(kind, trigger, None, progress).await
    }

    /// [`Engine::sync_as`], downloading only the objects in `only` when given: an empty
    /// list uploads and downloads nothing. Priming ignores `only`.
    pub async fn sync_objects_as(
        &self,
        kind: SyncKind,
        trigger: store::SyncKind,
        only: Option<&[String]>,
        progress: Progress<'_>,
    ) -> Result<SyncReport, SyncError> {
        if kind == SyncKind::Prime {
            return self.prime(progress).await;
        }
        let finished = Finished::default();
        let mut tap = tap_finished(&finished, progress);
        self.with_history(trigger, &finished, self.sync_all(kind, only, &mut tap)).await
    }

    async fn sync_all(
        &self,
        kind: SyncKind,
        only: Option<&[String]>,
        progress: Progress<'_>,
    ) -> Result<SyncReport, SyncError> {
        let started_at = self.clock.now();
        info!(?kind, "sync started");
        let upload = upload_pending(
            &self.client,
            &self.store,
            &self.profile,
            self.clock.as_ref(),
            &self.upload_options,
            &mut *progress,
        )
        .await?;

        let ctx = self.ctx(&self.plan);
        let mut run = RunChanges::new();
        let mut objects = BTreeMap::new();
        let mut steps = Vec::new();
        for scope in self.plan.objects.iter().filter(|scope| {
            only.is_none_or(|only| only.iter().any(|o| o.eq_ignore_ascii_case(&scope.object)))
        }) {
            let cursor = self.store.read(|r| r.cursor(&scope.object))?;
            let step = next_step(
                prime_state(cursor.as_ref()).as_ref(),
                cursor.as_ref().and_then(|c| c.modstamp.as_deref()).and_then(parse_datetime),
                kind == SyncKind::Full,
            );
            debug!(object = %scope.object, ?step, "next step");
            steps.push((scope, step));
        }

        // The deltas' first reads depend only on cursors and the clock: all of them go
        // ahead in as few round trips as the Composite limits allow.
        let deltas: Vec<&ObjectScope> = steps
            .iter()
            .filter(|(_, step)| matches!(step, ObjectStep::Delta { .. }))
            .map(|(scope, _)| *scope)
            .collect();
        let mut first_reads = prefetch(&ctx, &deltas).await?;

        for (scope, step) in steps {
            let mut counts = ObjectCounts::default();
            let reconcile = match step {
                ObjectStep::Prime | ObjectStep::ResumePrime { .. } => {
                    let notes = LinkNotes::Keep;
                    counts.add(&prime_object(&ctx, scope, &mut run, notes, progress).await?);
                    None
                }
                ObjectStep::Delta { reconcile, .. } => {
                    let first = first_reads.remove(&scope.object);
                    let delta = delta_object(&ctx, scope, first, &mut run, progress).await?;
                    counts.add(&delta.counts);
                    if reconcile {
                        Some(ReconcileMode::ListAll)
                    } else {
                        delta.needs_reconcile.then_some(ReconcileMode::CountsFirst)
                    }
                }
                ObjectStep::Reconcile => Some(ReconcileMode::CountsFirst),
            };
            if let Some(mode) = reconcile {
                counts.add(&reconcile_object(&ctx, scope, mode, &mut run, progress).await?);
            }
            objects.insert(scope.object.clone(), counts);
        }
        let report = SyncReport {
            kind,
            started_at,
            finished_at: self.clock.now(),
            upload,
            objects,
            records: run_records(run),
        };
        info!(objects = report.objects.len(), "sync finished");
        Ok(report)
    }

    /// Switches to a new profile. Objects it drops lose their records (pending ones stay,
    /// flagged); objects it adds are primed by the next [`Engine::prime`] or
    /// [`Engine::sync`]; objects whose scope moved are reconciled now, so only records
    /// that enter are downloaded.
    pub async fn change_profile(
        &mut self,
        source: &ProfileSource,
        progress: Progress<'_>,
    ) -> Result<ProfileChange, SyncError> {
        let Loaded { profile, schemas, without_log } = load_profile(&self.client, source).await?;
        self.without_log = Mutex::new(without_log);
        let new_plan = plan(&profile, &self.user_id)?;
        ensure_tables(&self.store, &profile, &schemas)?;
        let diff = ProfileDiff::between(&self.profile, &profile);

        // Dropped objects leave the device.
        let mut dropped = BTreeMap::new();
        for name in &diff.removed {
            let ids = crate::sync::remote::held_ids(&self.store, name)?;
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let outcome = self.store.write(|tx| {
                let outcome = tx.delete_records(name, &ids)?;
                tx.clear_cursor(name)?;
                Ok(outcome)
            })?;
            let counts = ObjectCounts {
                left_scope: outcome.removed.len() as u64,
                kept_pending: outcome.kept.len() as u64,
                ..ObjectCounts::default()
            };
            info!(object = %name, removed = counts.left_scope, "object dropped from profile");
            dropped.insert(name.clone(), counts);
        }

        // Objects whose scope moved are reconciled against the new plan; new ones wait
        // for priming.
        let mut rescoped = BTreeMap::new();
        let mut run = RunChanges::new();
        for name in new_plan.rescoped_since(&self.plan) {
            let Some(scope) = new_plan.object(&name) else { continue };
            let primed = self.store.read(|r| r.cursor(&name))?.is_some();
            if !primed {
                continue;
            }
            let ctx = self.ctx(&new_plan);
            let counts =
                reconcile_object(&ctx, scope, ReconcileMode::ListAll, &mut run, progress).await?;
            rescoped.insert(name, counts);
        }
        // Fields a primed object gained are read for the records already held, and only
        // those columns.
        for change in diff.changed.iter().filter(|c| !c.fields_added.is_empty()) {
            let filled =
                fill_new_fields(&self.client, &self.store, &change.name, &change.fields_added)
                    .await?;
            info!(object = %change.name, records = filled, "new fields filled in");
        }
        self.profile = profile;
        self.plan = new_plan;
        Ok(ProfileChange { diff, rescoped, dropped })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_notes_each_object_as_it_finishes_and_passes_every_event_on() {
        let finished = Finished::default();
        let mut seen = Vec::new();
        let counts = crate::sync::ObjectCounts { new: 3, ..Default::default() };
        {
            let mut sink = |e: SyncEvent| seen.push(e);
            let mut tap = tap_finished(&finished, &mut sink);
            tap(SyncEvent::ObjectStarted { object: "Account".into(), total: Some(3) });
            tap(SyncEvent::ObjectFinished { object: "Account".into(), counts });
            tap(SyncEvent::ObjectStarted { object: "Contact".into(), total: None });
        }
        assert_eq!(seen.len(), 3);
        let noted = finished.lock().unwrap().clone();
        assert_eq!(noted.into_iter().collect::<Vec<_>>(), vec![("Account".to_string(), counts)]);
    }

    fn assert_send<T: Send>(_: &T) {}

    /// The app runs syncs on spawned tasks, so their futures must be `Send`.
    #[allow(dead_code)]
    fn runs_are_send(engine: &Engine, source: &ProfileSource, mut other: Engine) {
        let mut sink = |_: SyncEvent| {};
        assert_send(&engine.sync(SyncKind::Delta, &mut sink));
        assert_send(&engine.prime(&mut sink));
        assert_send(&other.change_profile(source, &mut sink));
        assert_send(&Engine::open(
            engine.store.clone(),
            engine.client.clone(),
            source,
            engine.clock.clone(),
        ));
    }
}
