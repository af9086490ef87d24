//! Sending one batch through sObject Collections (`allOrNone=false`), retrying what a
//! retry can cure, and recording every answer in one store transaction.

use salesforce::wire::{RecordError, SaveResult};

use super::UploadError;
use super::plan::BatchOp;
use super::report::IdRemap;
use super::run::{Outgoing, Run, error_json, is_session_error, outcome_unknown};

/// Per-record error codes a retry can cure.
const TRANSIENT_RECORD_CODES: &[&str] = &[
    "UNABLE_TO_LOCK_ROW",
    "REQUEST_LIMIT_EXCEEDED",
    "SERVER_UNAVAILABLE",
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
];

/// Per-record error codes that mean a delete has nothing left to do.
const ALREADY_DELETED_CODES: &[&str] = &["ENTITY_IS_DELETED", "NOT_FOUND"];

/// What one answer did, gathered inside its transaction and applied to the report after.
#[derive(Debug, Default)]
struct Recorded {
    succeeded: u32,
    failed: Vec<(i64, String, String)>,
    remaps: Vec<IdRemap>,
    retry: Vec<usize>,
}

impl Run<'_> {
    /// Sends uploading changes of one object, retrying transient failures with backoff.
    pub(super) async fn send(
        &mut self,
        object: &str,
        op: &BatchOp,
        mut items: Vec<Outgoing>,
    ) -> Result<(), UploadError> {
        self.report.sent += items.len() as u32;
        let max = self.max_attempts();
        let mut attempt = 0;
        while !items.is_empty() {
            attempt += 1;
            match self.request(object, op, &items).await {
                Ok(results) => {
                    items = self.record_results(object, op, &items, &results)?;
                    if items.is_empty() {
                        break;
                    }
                    if attempt >= max {
                        tracing::debug!(records = items.len(), "row-level retries used up");
                        let seqs: Vec<i64> = items.iter().map(|i| i.seq).collect();
                        return self.requeue(&seqs);
                    }
                    self.back_off(attempt).await;
                }
                Err(e) if is_session_error(&e) => {
                    let seqs: Vec<i64> = items.iter().map(|i| i.seq).collect();
                    self.requeue(&seqs)?;
                    return Err(UploadError::Session(e));
                }
                Err(e) if e.is_transient() => {
                    // A plain create may have landed although the answer was lost: it is
                    // looked for on the org before it is sent again.
                    let unknown = *op == BatchOp::Create && outcome_unknown(&e);
                    tracing::debug!(attempt, unknown, error = %e, "transient failure");
                    if attempt >= max {
                        let seqs: Vec<i64> = items.iter().map(|i| i.seq).collect();
                        if unknown {
                            // Left uploading: the next run checks the org before resending.
                            self.report.deferred.extend_from_slice(&seqs);
                        } else {
                            self.requeue(&seqs)?;
                        }
                        self.report.interrupted =
                            Some(format!("the org did not answer after {max} attempts: {e}"));
                        return Ok(());
                    }
                    self.back_off(attempt).await;
                    if unknown {
                        items = self.check_unknown_items(object, items).await?;
                    }
                }
                Err(e) => {
                    let seqs: Vec<i64> = items.iter().map(|i| i.seq).collect();
                    let code = e.error_code().unwrap_or("REQUEST_FAILED").to_owned();
                    return self.fail(&seqs, &code, &e.to_string());
                }
            }
        }
        Ok(())
    }

    async fn request(
        &mut self,
        object: &str,
        op: &BatchOp,
        items: &[Outgoing],
    ) -> Result<Vec<SaveResult>, salesforce::Error> {
        self.report.requests += 1;
        let bodies: Vec<_> = items.iter().map(|i| i.body.clone()).collect();
        match op {
            BatchOp::Create => self.client.create_many(object, &bodies, false).await,
            BatchOp::Upsert { field } => {
                self.client.upsert_many(object, field, &bodies, false).await
            }
            BatchOp::Update => self.client.update_many(object, &bodies, false).await,
            BatchOp::Delete | BatchOp::LocalDelete => {
                let ids: Vec<&str> = items.iter().map(|i| i.record_id.as_str()).collect();
                self.client.delete_many(&ids, false).await
            }
        }
    }

    /// Records one answer in one transaction; returns the items to send again.
    fn record_results(
        &mut self,
        object: &str,
        op: &BatchOp,
        items: &[Outgoing],
        results: &[SaveResult],
    ) -> Result<Vec<Outgoing>, UploadError> {
        let now = self.clock.now();
        let creates = matches!(op, BatchOp::Create | BatchOp::Upsert { .. });
        let recorded = self.store.write(|tx| {
            let mut out = Recorded::default();
            for (i, item) in items.iter().enumerate() {
                let Some(result) = results.get(i) else {
                    // A short answer: whatever it left out is sent again.
                    out.retry.push(i);
                    continue;
                };
                if result.success {
                    if creates {
                        let Some(server_id) = result.id.as_deref() else {
                            let message = "the org reported success without a record id";
                            tx.mark_failed(item.seq, error_json("NO_RECORD_ID", message), now)?;
                            out.failed.push((item.seq, "NO_RECORD_ID".into(), message.into()));
                            continue;
                        };
                        tx.remap_id(&item.record_id, server_id, now)?;
                        out.remaps.push(IdRemap {
                            object: object.to_owned(),
                            local_id: item.record_id.clone(),
                            server_id: server_id.to_owned(),
                        });
                    }
                    tx.complete(item.seq, now)?;
                    out.succeeded += 1;
                    continue;
                }

                let error = result.errors.first().cloned().unwrap_or_else(|| {
                    RecordError::new("UNKNOWN_EXCEPTION", "the org gave no error details")
                });
                let code = error.status_code.as_str();
                if *op == BatchOp::Delete && ALREADY_DELETED_CODES.contains(&code) {
                    tx.complete(item.seq, now)?;
                    out.succeeded += 1;
                } else if TRANSIENT_RECORD_CODES.contains(&code) {
                    out.retry.push(i);
                } else {
                    let value = serde_json::to_value(&error).unwrap_or_default();
                    tx.mark_failed(item.seq, value, now)?;
                    out.failed.push((item.seq, error.status_code.clone(), error.message.clone()));
                }
            }
            Ok(out)
        })?;

        tracing::debug!(
            object,
            succeeded = recorded.succeeded,
            failed = recorded.failed.len(),
            retry = recorded.retry.len(),
            "batch answer recorded"
        );
        self.report.succeeded += recorded.succeeded;
        self.report.failed.extend(recorded.failed);
        self.report.id_remaps.extend(recorded.remaps);
        Ok(recorded.retry.into_iter().map(|i| items[i].clone()).collect())
    }
}
