//! The [`Engine`]: one profile, one store, one org session, and the runs that keep the
//! store in step with the org.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use salesforce::client::Client;
use soql::schema::ObjectSchema;
use store::Store;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::profile::{Describes, Profile, ProfileDiff, ProfileSource};
use crate::scope::{ScopePlan, plan};
use crate::sync::decide::PrimePhase;
use crate::sync::evaluate::RunChanges;
use crate::sync::prime::prime_state;
use crate::sync::upload_step::upload_pending;
use crate::sync::{
    Ctx, ObjectCounts, ReconcileMode, RecordChange, SyncError, SyncEvent, SyncKind, SyncOptions,
    SyncReport, delta_object, prime_object, reconcile_object,
};

/// A progress callback.
pub type Progress<'a> = &'a mut (dyn FnMut(SyncEvent) + Send);

/// The sync engine for one user's device.
pub struct Engine {
    store: Arc<Store>,
    client: Client,
    profile: Profile,
    plan: ScopePlan,
    clock: Arc<dyn Clock>,
    user_id: String,
    options: SyncOptions,
    without_log: BTreeSet<String>,
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
            without_log,
        })
    }

    /// Sets the overlap window and page size of download runs.
    pub fn set_options(&mut self, options: SyncOptions) {
        self.options = options;
    }

    fn ctx<'a>(&'a self, plan: &'a ScopePlan) -> Ctx<'a> {
        Ctx {
            client: &self.client,
            store: &self.store,
            plan,
            clock: self.clock.as_ref(),
            options: self.options,
            without_log: &self.without_log,
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

    /// Primes every object not primed yet, resuming any priming that was interrupted.
    pub async fn prime(&self, progress: Progress<'_>) -> Result<SyncReport, SyncError> {
        let started_at = self.clock.now();
        let ctx = self.ctx(&self.plan);
        let mut run = RunChanges::new();
        let mut objects = BTreeMap::new();
        for scope in &self.plan.objects {
            let counts = prime_object(&ctx, scope, &mut run, progress).await?;
            objects.insert(scope.object.clone(), counts);
        }
        Ok(SyncReport {
            kind: SyncKind::Delta,
            started_at,
            finished_at: self.clock.now(),
            upload: Default::default(),
            objects,
            records: run_records(run),
        })
    }

    /// Uploads pending changes, then downloads: objects not primed yet are primed, the
    /// others get a delta (and, for [`SyncKind::Full`], a reconciliation of their id sets).
    pub async fn sync(
        &self,
        kind: SyncKind,
        progress: Progress<'_>,
    ) -> Result<SyncReport, SyncError> {
        self.sync_objects(kind, None, progress).await
    }

    /// Like [`Engine::sync`], downloading only the objects in `only` when given (an empty list
    /// uploads and downloads nothing).
    pub async fn sync_objects(
        &self,
        kind: SyncKind,
        only: Option<&[String]>,
        progress: Progress<'_>,
    ) -> Result<SyncReport, SyncError> {
        let started_at = self.clock.now();
        info!(?kind, "sync started");
        let upload =
            upload_pending(&self.client, &self.store, &self.profile, self.clock.as_ref()).await?;

        let ctx = self.ctx(&self.plan);
        let mut run = RunChanges::new();
        let mut objects = BTreeMap::new();
        let chosen = self.plan.objects.iter().filter(|scope| {
            only.is_none_or(|only| only.iter().any(|o| o.eq_ignore_ascii_case(&scope.object)))
        });
        for scope in chosen {
            let primed = {
                let cursor = self.store.read(|r| r.cursor(&scope.object))?;
                prime_state(cursor.as_ref()).is_some_and(|s| s.phase == PrimePhase::Done)
            };
            let mut counts = ObjectCounts::default();
            if !primed {
                counts.add(&prime_object(&ctx, scope, &mut run, progress).await?);
            } else {
                let delta = delta_object(&ctx, scope, &mut run, progress).await?;
                counts.add(&delta.counts);
                let mode = if kind == SyncKind::Full {
                    Some(ReconcileMode::ListAll)
                } else {
                    delta.needs_reconcile.then_some(ReconcileMode::CountsFirst)
                };
                if let Some(mode) = mode {
                    counts.add(&reconcile_object(&ctx, scope, mode, &mut run, progress).await?);
                }
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
        self.without_log = without_log;
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
        if !diff.changed.iter().all(|c| c.fields_added.is_empty()) {
            // FIXME: fields added to a primed object arrive only as records change; a
            // re-read of the new columns by id would fill them at once.
            warn!("fields added to primed objects fill in as records change");
        }
        self.profile = profile;
        self.plan = new_plan;
        Ok(ProfileChange { diff, rescoped, dropped })
    }
}
