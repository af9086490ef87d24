//! [`upload`]: runs the plan against the org and records every answer in the store.
//!
//! The steps: settle the changes a previous run left `uploading`; then, level by level,
//! plan the queue, mark each batch `uploading`, send it, and record the answers in one
//! store transaction per batch; finally plan once more to report what stays blocked.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use salesforce::Client;
use salesforce::wire::{Record, RecordError};
use serde_json::Value;
use store::pending::is_local_id;
use store::{ChangeOp, ChangeState, PendingChange, PendingFilter, Store, StoreError};

use super::UploadError;
use super::plan::{Batch, BatchOp, MAX_LEVELS, PlanOptions, QueuedChange, UploadPlan, plan};
use super::report::UploadReport;
use super::retry::{Backoff, Sleeper, TokioSleeper};
use crate::clock::Clock;
use crate::profile::Profile;

/// How an upload behaves; [`UploadOptions::default`] suits production.
#[derive(Clone)]
pub struct UploadOptions {
    /// Attempts per request (the first try included) before a transient failure leaves
    /// the changes for the next run.
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// How the upload waits between attempts.
    pub sleeper: Arc<dyn Sleeper>,
    /// Records per collection call, at most 200.
    pub batch_size: usize,
    /// Ids per conflict-check retrieve, at most 2000.
    pub retrieve_size: usize,
    /// How far before a change's creation time the org is searched for a create whose
    /// outcome is unknown: covers a device clock running ahead of the org's.
    pub recovery_clock_slack: chrono::Duration,
    /// At most this many candidate records are read when looking for such a create;
    /// beyond it the create is left for the user to decide.
    pub max_recovery_candidates: usize,
}

impl Default for UploadOptions {
    fn default() -> UploadOptions {
        UploadOptions {
            max_attempts: 4,
            backoff: Backoff::default(),
            sleeper: Arc::new(TokioSleeper),
            batch_size: salesforce::client::MAX_COLLECTION_RECORDS,
            retrieve_size: salesforce::client::MAX_RETRIEVE_IDS,
            recovery_clock_slack: chrono::Duration::hours(1),
            max_recovery_candidates: 10_000,
        }
    }
}

impl std::fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadOptions")
            .field("max_attempts", &self.max_attempts)
            .field("backoff", &self.backoff)
            .field("batch_size", &self.batch_size)
            .field("retrieve_size", &self.retrieve_size)
            .field("recovery_clock_slack", &self.recovery_clock_slack)
            .field("max_recovery_candidates", &self.max_recovery_candidates)
            .finish_non_exhaustive()
    }
}

/// Uploads the store's queue of local changes. Failures of single records are recorded
/// on their changes and in the report; an error means the run could not go on (the store
/// failed, or the org refused the session).
pub async fn upload(
    client: &Client,
    store: &Store,
    profile: &Profile,
    clock: &dyn Clock,
    opts: &UploadOptions,
) -> Result<UploadReport, UploadError> {
    upload_with_progress(client, store, profile, clock, opts, &mut |_| {}).await
}

/// [`upload`], telling `progress` after each batch how many of the changes waiting at
/// the start have been sent (or settled) so far.
pub async fn upload_with_progress(
    client: &Client,
    store: &Store,
    profile: &Profile,
    clock: &dyn Clock,
    opts: &UploadOptions,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<UploadReport, UploadError> {
    tracing::info!("upload started");
    let mut run = Run {
        progress: std::sync::Mutex::new(progress),
        client,
        store,
        profile,
        clock,
        opts,
        report: UploadReport::default(),
        attempted: BTreeSet::new(),
        left_out: BTreeMap::new(),
    };
    let outcome = run.go().await;
    let report = run.report;
    match outcome {
        Ok(()) => {
            tracing::info!(
                sent = report.sent,
                succeeded = report.succeeded,
                failed = report.failed.len(),
                conflicts = report.conflicts.len(),
                blocked = report.blocked.len(),
                deferred = report.deferred.len(),
                requests = report.requests,
                interrupted = report.interrupted.is_some(),
                "upload finished"
            );
            Ok(report)
        }
        Err(e) => {
            tracing::info!(error = %e, sent = report.sent, "upload stopped");
            Err(e)
        }
    }
}

/// One upload run: its inputs and what it has done so far.
pub(super) struct Run<'a> {
    pub client: &'a Client,
    pub store: &'a Store,
    pub profile: &'a Profile,
    pub clock: &'a dyn Clock,
    pub opts: &'a UploadOptions,
    pub report: UploadReport,
    /// Changes this run has sent or settled; they are not sent again in this run.
    pub attempted: BTreeSet<i64>,
    /// The latest plan's creates that break a circle, with the local ids they leave out.
    pub left_out: BTreeMap<i64, Vec<String>>,
    /// Told the number of changes attempted so far, after each batch (behind a lock so
    /// that the run stays `Sync` while its futures hold `&self`).
    pub progress: std::sync::Mutex<&'a mut (dyn FnMut(u64) + Send)>,
}

impl Run<'_> {
    async fn go(&mut self) -> Result<(), UploadError> {
        self.resume_unknown().await?;

        // Each round sends the lowest level; the creates' remaps unblock the next one.
        for _ in 0..=MAX_LEVELS + 1 {
            if self.report.interrupted.is_some() {
                break;
            }
            let plan = self.plan()?;
            let batches: Vec<Batch> = plan.first_level().cloned().collect();
            if batches.is_empty() {
                break;
            }
            self.left_out = plan.left_out;
            self.run_level(batches).await?;
        }

        let plan = self.plan()?;
        self.report.blocked = plan.blocked.into_iter().map(|b| (b.seq, b.reason)).collect();
        Ok(())
    }

    fn report_progress(&self) {
        let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        (*progress)(self.attempted.len() as u64);
    }

    fn plan(&self) -> Result<UploadPlan, UploadError> {
        let queue = self.store.read(|r| r.pending_changes(&PendingFilter::default()))?;
        let view: Vec<QueuedChange> = queue.iter().map(QueuedChange::from_pending).collect();
        let options =
            PlanOptions { batch_size: self.opts.batch_size, deferred: self.attempted.clone() };
        Ok(plan(&view, self.profile, &options))
    }

    async fn run_level(&mut self, batches: Vec<Batch>) -> Result<(), UploadError> {
        let per_retrieve = self.opts.retrieve_size.clamp(1, salesforce::client::MAX_RETRIEVE_IDS);
        let mut i = 0;
        while i < batches.len() && self.report.interrupted.is_none() {
            let batch = &batches[i];
            self.attempted.extend(batch.seqs.iter().copied());
            if batch.op != BatchOp::Update {
                self.run_batch(batch).await?;
                self.report_progress();
                i += 1;
                continue;
            }

            // Consecutive update batches of one object share one conflict-check retrieve.
            let mut seqs = batch.seqs.clone();
            let mut j = i + 1;
            while j < batches.len()
                && batches[j].op == BatchOp::Update
                && batches[j].object == batch.object
                && seqs.len() + batches[j].seqs.len() <= per_retrieve
            {
                seqs.extend(batches[j].seqs.iter().copied());
                self.attempted.extend(batches[j].seqs.iter().copied());
                j += 1;
            }
            self.run_updates(&batch.object, &seqs).await?;
            self.report_progress();
            i = j;
        }
        Ok(())
    }

    async fn run_batch(&mut self, batch: &Batch) -> Result<(), UploadError> {
        let changes = self.mark_uploading(&batch.seqs, batch_external_id(batch))?;
        if changes.is_empty() {
            return Ok(());
        }
        tracing::debug!(object = %batch.object, op = ?batch.op, records = changes.len(), "sending batch");
        if batch.op == BatchOp::LocalDelete {
            return self.complete_local_deletes(&changes);
        }
        let items = changes.iter().map(|c| Outgoing::for_change(c, &batch.op)).collect();
        self.send(&batch.object, &batch.op, items).await?;

        // A create that left references out is now an update of them, sent in a later
        // round of this run once the records referred to have their server ids.
        let split: Vec<i64> =
            changes.iter().map(|c| c.seq).filter(|s| self.left_out.contains_key(s)).collect();
        for seq in split {
            match self.store.read(|r| r.pending_change(seq)) {
                Ok(c) if c.op == ChangeOp::Update => {
                    self.attempted.remove(&seq);
                }
                Ok(_) | Err(StoreError::NoSuchChange(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Marks the waiting changes among `seqs` as uploading, in one transaction, and
    /// returns them. For upserts, a create without its own external id value gets one
    /// first, stored with the change, so every later attempt sends the same value. A
    /// create that breaks a circle is sent without its fields referring back. Changes no
    /// longer waiting (blocked meanwhile) may go in a later round.
    pub(super) fn mark_uploading(
        &mut self,
        seqs: &[i64],
        external_id: Option<&str>,
    ) -> Result<Vec<PendingChange>, UploadError> {
        let now = self.clock.now();
        let left_out = &self.left_out;
        let marked = self.store.write(|tx| {
            let mut marked = Vec::new();
            for &seq in seqs {
                // The queue may have moved since it was planned (a discard, a resolve).
                let change = match tx.read().pending_change(seq) {
                    Ok(c) if matches!(c.state, ChangeState::Waiting | ChangeState::Blocked) => c,
                    Ok(_) | Err(StoreError::NoSuchChange(_)) => continue,
                    Err(e) => return Err(e),
                };
                let held_back: Vec<String> = match left_out.get(&seq) {
                    Some(ids) => change
                        .fields
                        .iter()
                        .filter(|(_, v)| v.as_str().is_some_and(|s| ids.iter().any(|i| i == s)))
                        .map(|(k, _)| k.clone())
                        .collect(),
                    None => Vec::new(),
                };
                // A blocked change goes only when what it waits for is held back (a create
                // that breaks a circle).
                let waits = change.fields.iter().any(|(k, v)| {
                    !held_back.contains(k)
                        && v.as_str().is_some_and(|s| is_local_id(s) && s != change.record_id)
                });
                if change.state == ChangeState::Blocked && waits {
                    continue;
                }
                if let Some(field) = external_id {
                    let own = change.fields.get(field).and_then(Value::as_str).is_some();
                    let stored = change.external_id_value.as_deref();
                    if !own && (stored.is_none() || stored == Some(change.record_id.as_str())) {
                        tx.set_external_id_value(seq, &new_external_id_value())?;
                    }
                }
                marked.push(tx.mark_uploading_without(seq, &held_back, now)?);
            }
            Ok(marked)
        })?;
        for seq in seqs {
            if !marked.iter().any(|c| c.seq == *seq) {
                self.attempted.remove(seq);
            }
        }
        Ok(marked)
    }

    fn complete_local_deletes(&mut self, changes: &[PendingChange]) -> Result<(), UploadError> {
        let now = self.clock.now();
        self.store.write(|tx| {
            for change in changes {
                tx.complete(change.seq, now)?;
            }
            Ok(())
        })?;
        tracing::debug!(records = changes.len(), "deletes of records never uploaded settled");
        self.report.succeeded += changes.len() as u32;
        Ok(())
    }

    /// Puts uploading changes back to waiting, for the next run.
    pub(super) fn requeue(&mut self, seqs: &[i64]) -> Result<(), UploadError> {
        let now = self.clock.now();
        self.store.write(|tx| {
            for &seq in seqs {
                tx.mark_waiting(seq, now)?;
            }
            Ok(())
        })?;
        self.report.deferred.extend_from_slice(seqs);
        Ok(())
    }

    /// Parks uploading changes as failed with one error.
    pub(super) fn fail(
        &mut self,
        seqs: &[i64],
        code: &str,
        message: &str,
    ) -> Result<(), UploadError> {
        let now = self.clock.now();
        let error = error_json(code, message);
        self.store.write(|tx| {
            for &seq in seqs {
                tx.mark_failed(seq, error.clone(), now)?;
            }
            Ok(())
        })?;
        for &seq in seqs {
            self.report.failed.push((seq, code.to_owned(), message.to_owned()));
        }
        Ok(())
    }

    /// Waits before retry number `retry`.
    pub(super) async fn back_off(&self, retry: u32) {
        let delay: Duration = self.opts.backoff.delay(retry);
        tracing::debug!(retry, delay_ms = delay.as_millis() as u64, "backing off");
        self.opts.sleeper.sleep(delay).await;
    }

    pub(super) fn max_attempts(&self) -> u32 {
        self.opts.max_attempts.max(1)
    }
}

/// One record of a collection call, with what to send.
#[derive(Debug, Clone)]
pub(super) struct Outgoing {
    pub seq: i64,
    /// The record's id when sent (a local id for creates).
    pub record_id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub body: Record,
}

impl Outgoing {
    pub(super) fn for_change(change: &PendingChange, op: &BatchOp) -> Outgoing {
        let mut body = create_body(change.sent_values().unwrap_or(&change.fields));
        match op {
            BatchOp::Upsert { field } => {
                if !body.contains_key(field.as_str()) {
                    let value = change.external_id_value.clone().unwrap_or_default();
                    body.insert(field.clone(), Value::String(value));
                }
            }
            BatchOp::Update => {
                body = Record::new();
                body.insert("Id".into(), Value::String(change.record_id.clone()));
                body.extend(change.fields.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            BatchOp::Create | BatchOp::Delete | BatchOp::LocalDelete => {}
        }
        Outgoing {
            seq: change.seq,
            record_id: change.record_id.clone(),
            created_at: change.created_at,
            body,
        }
    }
}

/// A create's body: its values without `Id`, `attributes` and nulls (an unset field).
pub(super) fn create_body(fields: &Record) -> Record {
    fields
        .iter()
        .filter(|(k, v)| !v.is_null() && *k != "attributes" && !k.eq_ignore_ascii_case("Id"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn batch_external_id(batch: &Batch) -> Option<&str> {
    match &batch.op {
        BatchOp::Upsert { field } => Some(field),
        _ => None,
    }
}

/// A fresh value for an external id field: 32 random alphanumerics.
fn new_external_id_value() -> String {
    use rand::Rng;
    use rand::distr::Alphanumeric;
    rand::rng().sample_iter(Alphanumeric).take(32).map(char::from).collect()
}

/// The error a failed change keeps: shaped like the org's per-record errors.
pub(super) fn error_json(code: &str, message: &str) -> Value {
    serde_json::to_value(RecordError::new(code, message)).unwrap_or(Value::Null)
}

/// Whether an error concerns the whole session, so that every further request would
/// fail the same way.
pub(super) fn is_session_error(e: &salesforce::Error) -> bool {
    matches!(
        e,
        salesforce::Error::SessionExpired
            | salesforce::Error::OAuth { .. }
            | salesforce::Error::Config(_)
    )
}

/// Whether the request may have been carried out although no usable answer came back.
pub(super) fn outcome_unknown(e: &salesforce::Error) -> bool {
    match e {
        salesforce::Error::Network(_) => true,
        salesforce::Error::Decode { status, .. } => (200..300).contains(status) || *status >= 500,
        salesforce::Error::Api { status, .. } => *status >= 500,
        _ => false,
    }
}
