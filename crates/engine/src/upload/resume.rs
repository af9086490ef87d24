//! Settling creates whose outcome is unknown, at the start of a run (changes a previous
//! run left `uploading`) and after a create request lost its answer.

use std::collections::{BTreeMap, HashSet};

use salesforce::wire::Record;
use serde_json::Value;
use store::pending::is_local_id;
use store::{ChangeOp, ChangeState, PendingFilter};

use super::UploadError;
use super::recover::{Finding, UnknownCreate, candidate_query, fetch_candidates, match_candidates};
use super::report::IdRemap;
use super::run::{Outgoing, Run, create_body, error_json, is_session_error};

/// The code a change gets when the org has several records it could be.
const AMBIGUOUS: &str = "AMBIGUOUS_CREATE";
/// The code a change gets when its outcome could not be checked.
const UNCHECKED: &str = "UNKNOWN_OUTCOME";

impl Run<'_> {
    /// Settles the changes a previous run left `uploading`. Updates and deletes are safe
    /// to send again, and so are creates upserted on an external id; other creates are
    /// looked for on the org first.
    pub(super) async fn resume_unknown(&mut self) -> Result<(), UploadError> {
        let filter = PendingFilter { states: vec![ChangeState::Uploading], ..Default::default() };
        let uploading = self.store.read(|r| r.pending_changes(&filter))?;
        if uploading.is_empty() {
            return Ok(());
        }
        tracing::info!(changes = uploading.len(), "resuming uploads whose outcome is unknown");

        let mut resend = Vec::new();
        let mut to_check: BTreeMap<String, Vec<UnknownCreate>> = BTreeMap::new();
        for change in &uploading {
            if !is_local_id(&change.record_id) {
                resend.push(change.seq);
                continue;
            }
            let external_id =
                self.profile.object(&change.object).and_then(|o| o.external_id.clone());
            let upsert_value = change
                .external_id_value
                .as_deref()
                .filter(|v| *v != change.record_id && external_id.is_some());
            let fields = match (upsert_value, &external_id) {
                (Some(_), _) if change.op == ChangeOp::Create => {
                    resend.push(change.seq);
                    continue;
                }
                (Some(value), Some(field)) => {
                    let mut fields = Record::new();
                    fields.insert(field.clone(), Value::String(value.to_owned()));
                    fields
                }
                // The values the request carried: edits made while it was in flight
                // (or a delete, which empties `fields`) are not on the server yet.
                _ => create_body(change.sent_values().unwrap_or(&change.fields)),
            };
            to_check.entry(change.object.clone()).or_default().push(UnknownCreate {
                seq: change.seq,
                local_id: change.record_id.clone(),
                created_at: change.created_at,
                fields,
            });
        }
        self.mark_waiting(&resend)?;

        for (object, creates) in to_check {
            let resend = self.settle_unknown(&object, &creates).await?;
            self.mark_waiting(&resend)?;
        }
        Ok(())
    }

    /// After a create request lost its answer: settles the items found on the org and
    /// returns the ones to send again.
    pub(super) async fn check_unknown_items(
        &mut self,
        object: &str,
        items: Vec<Outgoing>,
    ) -> Result<Vec<Outgoing>, UploadError> {
        let creates: Vec<UnknownCreate> = items
            .iter()
            .map(|i| UnknownCreate {
                seq: i.seq,
                local_id: i.record_id.clone(),
                created_at: i.created_at,
                fields: i.body.clone(),
            })
            .collect();
        let resend: HashSet<i64> =
            self.settle_unknown(object, &creates).await?.into_iter().collect();
        Ok(items.into_iter().filter(|i| resend.contains(&i.seq)).collect())
    }

    /// Looks for `creates` (uploading, of one object) on the org: adopts what is found,
    /// fails what is ambiguous, and returns the seqs of creates to send again. When the
    /// org cannot be asked, the creates stay uploading and nothing is returned.
    async fn settle_unknown(
        &mut self,
        object: &str,
        creates: &[UnknownCreate],
    ) -> Result<Vec<i64>, UploadError> {
        let seqs: Vec<i64> = creates.iter().map(|c| c.seq).collect();
        let Some(earliest) = creates.iter().map(|c| c.created_at).min() else {
            return Ok(Vec::new());
        };
        let user_id = self.client.session().user_id;
        let soql =
            candidate_query(object, creates, &user_id, earliest - self.opts.recovery_clock_slack);
        let max = self.max_attempts();
        let mut attempt = 0;
        let (records, complete) = loop {
            attempt += 1;
            let limit = self.opts.max_recovery_candidates;
            match fetch_candidates(self.client, &soql, limit, &mut self.report.requests).await {
                Ok(found) => break found,
                Err(e) if is_session_error(&e) => return Err(UploadError::Session(e)),
                Err(e) if e.is_transient() && attempt < max => self.back_off(attempt).await,
                Err(e) if e.is_transient() => {
                    self.report.deferred.extend_from_slice(&seqs);
                    self.report.interrupted = Some(format!(
                        "could not check whether {} {object} creates reached the org: {e}",
                        seqs.len()
                    ));
                    return Ok(Vec::new());
                }
                Err(e) => {
                    let message = format!(
                        "the create may or may not have reached the org, and checking failed \
                         ({e}); look for the record on the org, then discard this change if it \
                         is there or retry it if it is not"
                    );
                    self.fail(&seqs, UNCHECKED, &message)?;
                    return Ok(Vec::new());
                }
            }
        };
        if !complete {
            let message = format!(
                "the create may or may not have reached the org, and more than {} records \
                 created since could be it; look for the record on the org, then discard \
                 this change if it is there or retry it if it is not",
                self.opts.max_recovery_candidates
            );
            self.fail(&seqs, UNCHECKED, &message)?;
            return Ok(Vec::new());
        }

        let known = self.store.read(|r| {
            let mut known = HashSet::new();
            for record in &records {
                if let Some(id) = record.get("Id").and_then(Value::as_str)
                    && r.record_flags(object, id)?.is_some()
                {
                    known.insert(id.to_owned());
                }
            }
            Ok(known)
        })?;
        let findings = match_candidates(creates, &records, &known);
        self.apply_findings(object, creates, findings)
    }

    fn apply_findings(
        &mut self,
        object: &str,
        creates: &[UnknownCreate],
        findings: Vec<(i64, Finding)>,
    ) -> Result<Vec<i64>, UploadError> {
        let now = self.clock.now();
        let local_ids: BTreeMap<i64, &str> =
            creates.iter().map(|c| (c.seq, c.local_id.as_str())).collect();
        let (resend, adopted, failed) = self.store.write(|tx| {
            let mut resend = Vec::new();
            let mut adopted = Vec::new();
            let mut failed = Vec::new();
            for (seq, finding) in &findings {
                match finding {
                    Finding::Resend => resend.push(*seq),
                    Finding::Adopt(server_id) => {
                        let Some(local_id) = local_ids.get(seq) else { continue };
                        tx.remap_id(local_id, server_id, now)?;
                        tx.complete(*seq, now)?;
                        adopted.push(IdRemap {
                            object: object.to_owned(),
                            local_id: (*local_id).to_owned(),
                            server_id: server_id.clone(),
                        });
                    }
                    Finding::Ambiguous(ids) => {
                        let message = format!(
                            "the create may or may not have reached the org, and {} records \
                             there could be it ({}); discard this change if one of them is the \
                             record, or retry it to create the record again",
                            ids.len(),
                            ids.join(", ")
                        );
                        tx.mark_failed(*seq, error_json(AMBIGUOUS, &message), now)?;
                        failed.push((*seq, AMBIGUOUS.to_owned(), message));
                    }
                }
            }
            Ok((resend, adopted, failed))
        })?;
        tracing::debug!(
            object,
            adopted = adopted.len(),
            resend = resend.len(),
            ambiguous = failed.len(),
            "creates with unknown outcome checked"
        );
        self.report.adopted += adopted.len() as u32;
        self.report.succeeded += adopted.len() as u32;
        self.report.id_remaps.extend(adopted);
        self.report.failed.extend(failed);
        Ok(resend)
    }

    fn mark_waiting(&mut self, seqs: &[i64]) -> Result<(), UploadError> {
        if seqs.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        self.store.write(|tx| {
            for &seq in seqs {
                tx.mark_waiting(seq, now)?;
            }
            Ok(())
        })?;
        Ok(())
    }
}
