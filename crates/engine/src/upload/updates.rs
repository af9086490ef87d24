//! Sending updates: fetch the server's current values of the changed fields, merge field
//! by field, settle or park conflicts, then send what is left.

use salesforce::wire::{Record, SObjectDescribe};
use serde_json::Value;
use store::PendingChange;

use super::UploadError;
use super::conflict::{DELETED_ON_SERVER, Merge, merge, server_values_for};
use super::plan::BatchOp;
use super::recreate::recreate_in;
use super::report::{ConflictOutcome, ConflictSettlement};
use super::run::{Outgoing, Run, is_session_error};
use crate::edit::cached_describe;
use crate::history::settled;
use crate::profile::ConflictPolicy;

/// What the merge step decided, gathered in its transaction and applied after.
#[derive(Debug, Default)]
struct Settled {
    send: Vec<Outgoing>,
    already_there: u32,
    conflicts: Vec<ConflictOutcome>,
    /// Changes put back to waiting for the next run.
    later: Vec<i64>,
}

/// Whether records the server deleted can be created again under client-wins.
#[derive(Debug)]
enum RecreateBy {
    /// Yes, with the values this describe says are createable.
    Describe(SObjectDescribe),
    /// Not now: the org did not answer the describe; the next run tries again.
    Later,
    /// No: such records are parked for the user.
    Nothing,
}

impl Run<'_> {
    /// Uploads updates of one object (at most one retrieve's worth).
    pub(super) async fn run_updates(
        &mut self,
        object: &str,
        seqs: &[i64],
    ) -> Result<(), UploadError> {
        let changes = self.mark_uploading(seqs, None)?;
        if changes.is_empty() {
            return Ok(());
        }
        tracing::debug!(object, records = changes.len(), "checking updates for conflicts");
        let Some(server) = self.fetch_server_values(object, &changes).await? else {
            return Ok(());
        };
        let recreate = if server.iter().any(Option::is_none)
            && self.profile.object(object).is_some_and(|o| o.conflict == ConflictPolicy::ClientWins)
        {
            self.describe_for_recreate(object).await?
        } else {
            RecreateBy::Nothing
        };
        let settled = self.settle_conflicts(object, &changes, &server, &recreate)?;
        self.report.deferred.extend_from_slice(&settled.later);
        self.report.succeeded += settled.already_there;
        // Records to create again are sent by a later round of this run.
        for conflict in &settled.conflicts {
            if conflict.recreated_as.is_some() {
                self.attempted.remove(&conflict.seq);
            }
        }
        self.report.conflicts.extend(settled.conflicts);

        let size = self.opts.batch_size.clamp(1, salesforce::client::MAX_COLLECTION_RECORDS);
        let mut send = settled.send;
        while !send.is_empty() && self.report.interrupted.is_none() {
            let rest = send.split_off(send.len().min(size));
            self.send(object, &BatchOp::Update, send).await?;
            send = rest;
        }
        if !send.is_empty() {
            // The org stopped answering: what was not sent goes back to waiting.
            let seqs: Vec<i64> = send.iter().map(|o| o.seq).collect();
            self.requeue(&seqs)?;
        }
        Ok(())
    }

    /// The server's current values of the changed fields, in the order of `changes`
    /// (`None` where the server no longer has the record). `Ok(None)` when the org could
    /// not be asked; the changes were then put back or failed.
    async fn fetch_server_values(
        &mut self,
        object: &str,
        changes: &[PendingChange],
    ) -> Result<Option<Vec<Option<Record>>>, UploadError> {
        let mut fields: Vec<String> = vec!["Id".into()];
        for change in changes {
            for name in change.fields.keys() {
                if !fields.iter().any(|f| f.eq_ignore_ascii_case(name)) {
                    fields.push(name.clone());
                }
            }
        }
        let field_refs: Vec<&str> = fields.iter().map(String::as_str).collect();
        let ids: Vec<&str> = changes.iter().map(|c| c.record_id.as_str()).collect();
        let seqs: Vec<i64> = changes.iter().map(|c| c.seq).collect();

        let max = self.max_attempts();
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.report.requests += 1;
            match self.client.retrieve_many(object, &ids, &field_refs).await {
                Ok(records) if records.len() == ids.len() => return Ok(Some(records)),
                Ok(records) => {
                    let message = format!(
                        "the org answered a retrieve of {} records with {}",
                        ids.len(),
                        records.len()
                    );
                    self.requeue(&seqs)?;
                    self.report.interrupted = Some(message);
                    return Ok(None);
                }
                Err(e) if is_session_error(&e) => {
                    self.requeue(&seqs)?;
                    return Err(UploadError::Session(e));
                }
                Err(e) if e.is_transient() && attempt < max => self.back_off(attempt).await,
                Err(e) if e.is_transient() => {
                    self.requeue(&seqs)?;
                    self.report.interrupted =
                        Some(format!("the org did not answer after {max} attempts: {e}"));
                    return Ok(None);
                }
                Err(e) => {
                    let code = e.error_code().unwrap_or("REQUEST_FAILED").to_owned();
                    self.fail(&seqs, &code, &format!("checking for conflicts failed: {e}"))?;
                    return Ok(None);
                }
            }
        }
    }

    /// The describe a record deleted on the server is created again by: the cached one,
    /// else the org's, retried like any request.
    async fn describe_for_recreate(&mut self, object: &str) -> Result<RecreateBy, UploadError> {
        if let Some(describe) = cached_describe(self.store, object)? {
            return Ok(RecreateBy::Describe(describe));
        }
        let max = self.max_attempts();
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.report.requests += 1;
            match self.client.describe(object).await {
                Ok(describe) => return Ok(RecreateBy::Describe(describe)),
                Err(e) if is_session_error(&e) => return Err(UploadError::Session(e)),
                Err(e) if e.is_transient() && attempt < max => self.back_off(attempt).await,
                Err(e) => {
                    tracing::debug!(object, error = %e, "no describe to create records again by");
                    let later = e.is_transient();
                    return Ok(if later { RecreateBy::Later } else { RecreateBy::Nothing });
                }
            }
        }
    }

    /// Merges every change with the server's record in one transaction: clean changes
    /// are kept to send, conflicts are settled by policy or parked for the user. Records
    /// the server deleted are created again under client-wins as `recreate` allows.
    fn settle_conflicts(
        &mut self,
        object: &str,
        changes: &[PendingChange],
        server: &[Option<Record>],
        recreate: &RecreateBy,
    ) -> Result<Settled, UploadError> {
        let now = self.clock.now();
        let profile = self.profile.object(object);
        Ok(self.store.write(|tx| {
            let mut out = Settled::default();
            for (change, server) in changes.iter().zip(server) {
                let outcome = |fields, settlement, deleted| ConflictOutcome {
                    seq: change.seq,
                    object: object.to_owned(),
                    record_id: change.record_id.clone(),
                    deleted_on_server: deleted,
                    fields,
                    settlement,
                    recreated_as: None,
                };
                match merge(&change.fields, &change.base, server.as_ref(), profile) {
                    Merge::Clean { send } => {
                        if send.is_empty() {
                            tx.complete(change.seq, now)?;
                            out.already_there += 1;
                        } else {
                            out.send.push(update_item(change, send));
                        }
                    }
                    Merge::Settled { conflicts, choices } => {
                        let server_record = server.as_ref();
                        let server = server.as_ref().map(|s| server_values_for(&change.fields, s));
                        tx.mark_conflict(change.seq, &server.clone().unwrap_or_default(), now)?;
                        if tx.resolve(change.seq, &choices, now)?.is_some() {
                            // What is left merges cleanly now: kept fields have the
                            // server's value as their base.
                            let fresh = tx.mark_uploading(change.seq, now)?;
                            let send =
                                match merge(&fresh.fields, &fresh.base, server_record, profile) {
                                    Merge::Clean { send } => send,
                                    _ => fresh.fields.clone(),
                                };
                            if send.is_empty() {
                                tx.complete(change.seq, now)?;
                            } else {
                                out.send.push(update_item(&fresh, send));
                            }
                        }
                        tracing::debug!(seq = change.seq, "conflict settled by policy");
                        let conflict = outcome(conflicts, ConflictSettlement::Merged, false);
                        settled::note(tx, &conflict)?;
                        out.conflicts.push(conflict);
                    }
                    Merge::Parked { conflicts } => {
                        let server = server.as_ref().map(|s| server_values_for(&change.fields, s));
                        tx.mark_conflict(change.seq, &server.unwrap_or_default(), now)?;
                        tracing::debug!(seq = change.seq, "conflict parked for the user");
                        out.conflicts.push(outcome(conflicts, ConflictSettlement::Parked, false));
                    }
                    Merge::DeletedOnServer { policy: ConflictPolicy::ClientWins }
                        if matches!(recreate, RecreateBy::Later) =>
                    {
                        // The describe could not be had now: the next run tries again.
                        tx.mark_waiting(change.seq, now)?;
                        out.later.push(change.seq);
                    }
                    Merge::DeletedOnServer { policy } => {
                        let mut marker = Record::new();
                        marker.insert(DELETED_ON_SERVER.into(), Value::Bool(true));
                        tx.mark_conflict(change.seq, &marker, now)?;
                        let mut recreated_as = None;
                        let settlement = match (policy, recreate) {
                            (ConflictPolicy::ServerWins, _) => {
                                tx.discard(change.seq, now)?;
                                tx.delete_records(object, &[change.record_id.as_str()])?;
                                ConflictSettlement::EditDropped
                            }
                            (ConflictPolicy::ClientWins, RecreateBy::Describe(describe)) => {
                                recreated_as = Some(recreate_in(tx, describe, change.seq, now)?);
                                ConflictSettlement::Recreated
                            }
                            _ => ConflictSettlement::Parked,
                        };
                        tracing::debug!(
                            seq = change.seq,
                            ?settlement,
                            "record deleted on the server"
                        );
                        let mut conflict = outcome(Vec::new(), settlement, true);
                        conflict.recreated_as = recreated_as;
                        settled::note(tx, &conflict)?;
                        out.conflicts.push(conflict);
                    }
                }
            }
            Ok(out)
        })?)
    }
}

fn update_item(change: &PendingChange, send: Record) -> Outgoing {
    let mut body = Record::new();
    body.insert("Id".into(), Value::String(change.record_id.clone()));
    body.extend(send);
    Outgoing {
        seq: change.seq,
        record_id: change.record_id.clone(),
        created_at: change.created_at,
        body,
    }
}
