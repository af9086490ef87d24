//! Sending every due object's first delta reads ahead, in as few Composite calls as
//! [`super::batch::composite_batches`] packs them into, and handing each object its
//! answers. Follow-up pages and later steps are read by the delta itself.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use salesforce::client::{
    Error, MAX_COMPOSITE_QUERIES, MAX_COMPOSITE_SUBREQUESTS, Read, ReadAnswer,
};
use salesforce::wire::{DeletedResult, QueryResult, UpdatedResult};
use store::values::parse_datetime;
use tracing::debug;

use super::batch::{FirstRead, composite_batches, composite_not_served, first_reads};
use super::decide::PAGE_SIZE;
use super::{Ctx, SyncError};
use crate::scope::{ObjectScope, StampBound};

/// One object's first reads, answered ahead of its delta. A read left `None` was not
/// sent; the delta makes it itself.
#[derive(Debug)]
pub(crate) struct Prefetched {
    /// The clock's time the windows were chosen at; the delta works with it.
    pub now: DateTime<Utc>,
    pub deleted: Option<Result<DeletedResult, Error>>,
    pub deleted_rows: Option<Result<QueryResult, Error>>,
    pub updated: Option<Result<UpdatedResult, Error>>,
    pub changed_rows: Option<Result<QueryResult, Error>>,
    pub scope_page: Option<Result<QueryResult, Error>>,
}

impl Prefetched {
    /// Nothing answered ahead: the delta reads everything itself, as of `now`.
    pub fn none(now: DateTime<Utc>) -> Prefetched {
        Prefetched {
            now,
            deleted: None,
            deleted_rows: None,
            updated: None,
            changed_rows: None,
            scope_page: None,
        }
    }

    fn put(&mut self, read: FirstRead, answer: Result<ReadAnswer, Error>) {
        match read {
            FirstRead::Deleted(_) => self.deleted = Some(answer.and_then(deleted)),
            FirstRead::DeletedRows => self.deleted_rows = Some(answer.and_then(page)),
            FirstRead::Updated(_) => self.updated = Some(answer.and_then(updated)),
            FirstRead::ChangedRows => self.changed_rows = Some(answer.and_then(page)),
            FirstRead::ScopePage => self.scope_page = Some(answer.and_then(page)),
        }
    }
}

fn mismatch(what: &str) -> Error {
    Error::Decode {
        what: "POST composite".into(),
        detail: format!("a composite subresponse is not the {what} asked for"),
        status: 200,
    }
}

fn deleted(answer: ReadAnswer) -> Result<DeletedResult, Error> {
    match answer {
        ReadAnswer::Deleted(d) => Ok(d),
        _ => Err(mismatch("deleted list")),
    }
}

fn updated(answer: ReadAnswer) -> Result<UpdatedResult, Error> {
    match answer {
        ReadAnswer::Updated(u) => Ok(u),
        _ => Err(mismatch("updated list")),
    }
}

fn page(answer: ReadAnswer) -> Result<QueryResult, Error> {
    match answer {
        ReadAnswer::Page(p) => Ok(p),
        _ => Err(mismatch("query page")),
    }
}

/// The request for one first read of `scope`'s object, primed up to `since`.
fn read_for(
    ctx: &Ctx<'_>,
    scope: &ObjectScope,
    since: DateTime<Utc>,
    read: FirstRead,
) -> Option<Read> {
    let object = scope.object.clone();
    let from = StampBound::From(since - ctx.options.overlap);
    let query = |soql: String, include_deleted: bool, batch_size: u32| Read::Query {
        soql,
        include_deleted,
        batch_size,
    };
    Some(match read {
        FirstRead::Deleted(w) => Read::Deleted { object, start: w.start, end: w.end },
        FirstRead::Updated(w) => Read::Updated { object, start: w.start, end: w.end },
        FirstRead::DeletedRows => query(scope.deleted_ids_query(&from), true, PAGE_SIZE),
        FirstRead::ChangedRows => query(scope.changed_ids_query(&from), false, PAGE_SIZE),
        FirstRead::ScopePage => {
            query(scope.page_query(Some(&from), None)?, false, ctx.options.page_size)
        }
    })
}

/// Sends the first reads of the deltas of `scopes` (primed objects) ahead and returns
/// each object's answers. An org that does not serve Composite gets direct reads from
/// then on; any other failure of a call is the run's failure, as a direct read's is.
pub(crate) async fn prefetch(
    ctx: &Ctx<'_>,
    scopes: &[&ObjectScope],
) -> Result<BTreeMap<String, Prefetched>, SyncError> {
    let now = ctx.clock.now();
    let mut out = BTreeMap::new();
    if ctx.composite_off.load(Ordering::Relaxed) {
        return Ok(out);
    }

    // Each object's reads, as the delta would make them.
    let mut groups: Vec<(String, Vec<(FirstRead, Read)>)> = Vec::new();
    for scope in scopes {
        let cursor = ctx.store.read(|r| r.cursor(&scope.object))?;
        let Some(since) = cursor.and_then(|c| c.modstamp).as_deref().and_then(parse_datetime)
        else {
            continue;
        };
        let has_scope_query = scope.page_query(None, None).is_some();
        let reads = first_reads(
            since,
            now,
            ctx.options.overlap,
            ctx.has_log(&scope.object),
            has_scope_query,
        );
        let reads: Vec<(FirstRead, Read)> = reads
            .into_iter()
            .filter_map(|first| read_for(ctx, scope, since, first).map(|read| (first, read)))
            .collect();
        groups.push((scope.object.clone(), reads));
    }
    let kinds: Vec<Vec<FirstRead>> =
        groups.iter().map(|(_, reads)| reads.iter().map(|(f, _)| *f).collect()).collect();
    let calls = composite_batches(&kinds, MAX_COMPOSITE_SUBREQUESTS, MAX_COMPOSITE_QUERIES);
    debug!(objects = groups.len(), calls = calls.len(), "first delta reads batched");

    for call in calls {
        let reads: Vec<Read> =
            call.iter().flat_map(|&g| groups[g].1.iter().map(|(_, read)| read.clone())).collect();
        let mut answers = match ctx.client.composite_reads(&reads).await {
            Ok(answers) => answers.into_iter(),
            Err(e) if composite_not_served(&e) => {
                debug!(error = %e, "composite not served; reading directly");
                ctx.composite_off.store(true, Ordering::Relaxed);
                return Ok(out);
            }
            Err(e) => return Err(e.into()),
        };
        for &g in &call {
            let (object, reads) = &groups[g];
            let mut first = Prefetched::none(now);
            for (kind, _) in reads {
                let answer = answers.next().unwrap_or_else(|| Err(mismatch("answer")));
                first.put(*kind, answer);
            }
            out.insert(object.clone(), first);
        }
    }
    Ok(out)
}
