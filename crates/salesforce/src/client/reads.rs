//! Several independent reads in one Composite call (`POST .../composite`): replication
//! windows (`updated`, `deleted`) and first query pages. Salesforce counts the whole call
//! as one request against the API limit; each subrequest answers on its own, and its
//! error maps to the same [`Error`] the direct call would have returned.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use super::http::error_from_answer;
use super::{Client, Error, MAX_COMPOSITE_SUBREQUESTS};
use crate::time::format_datetime_z;
use crate::wire::{
    CompositeRequest, CompositeSubrequest, CompositeSubresponse, DeletedResult, QueryResult,
    UpdatedResult,
};

/// At most this many subrequests of one Composite call may be query operations (query,
/// queryAll, queryMore) or sObject Collections.
pub const MAX_COMPOSITE_QUERIES: usize = 5;

/// One read a Composite call can carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// `sobjects/{object}/updated/?start=&end=`, as [`Client::updated`].
    Updated {
        /// The object.
        object: String,
        /// Window start (inclusive).
        start: DateTime<Utc>,
        /// Window end (inclusive).
        end: DateTime<Utc>,
    },
    /// `sobjects/{object}/deleted/?start=&end=`, as [`Client::deleted`].
    Deleted {
        /// The object.
        object: String,
        /// Window start (inclusive).
        start: DateTime<Utc>,
        /// Window end (inclusive).
        end: DateTime<Utc>,
    },
    /// The first page of a query, as the first page of [`Client::query_pages`] (or of
    /// [`Client::query_all_pages`] when `include_deleted`).
    Query {
        /// The SOQL text.
        soql: String,
        /// Run it with `queryAll` (soft-deleted rows too).
        include_deleted: bool,
        /// Records a page asked for (`Sforce-Query-Options: batchSize=N`).
        batch_size: u32,
    },
}

impl Read {
    /// Whether the read counts against [`MAX_COMPOSITE_QUERIES`].
    pub fn is_query(&self) -> bool {
        matches!(self, Read::Query { .. })
    }
}

/// The answer to one [`Read`].
#[derive(Debug, Clone, PartialEq)]
pub enum ReadAnswer {
    /// To [`Read::Updated`].
    Updated(UpdatedResult),
    /// To [`Read::Deleted`].
    Deleted(DeletedResult),
    /// To [`Read::Query`]: the first page; follow it with [`Client::pages_from`].
    Page(QueryResult),
}

impl Client {
    /// Sends `reads` as one Composite call (in order, `allOrNone: false`, not collated)
    /// and returns one answer per read, in order. The outer `Err` is the call's own
    /// failure; an inner `Err` is that subrequest's, the same error its direct call would
    /// have given. A subrequest refused for an expired session refreshes the session once
    /// and replays the call, as any call does on a 401.
    ///
    /// More than [`MAX_COMPOSITE_SUBREQUESTS`] reads, or more than
    /// [`MAX_COMPOSITE_QUERIES`] queries, is [`Error::TooMany`] without a call.
    pub async fn composite_reads(
        &self,
        reads: &[Read],
    ) -> Result<Vec<Result<ReadAnswer, Error>>, Error> {
        if reads.len() > MAX_COMPOSITE_SUBREQUESTS {
            return Err(Error::TooMany { max: MAX_COMPOSITE_SUBREQUESTS });
        }
        if reads.iter().filter(|r| r.is_query()).count() > MAX_COMPOSITE_QUERIES {
            return Err(Error::TooMany { max: MAX_COMPOSITE_QUERIES });
        }
        if reads.is_empty() {
            return Ok(Vec::new());
        }
        let request = CompositeRequest {
            all_or_none: false,
            // Collated subrequests may run in any order; these must run as listed.
            collate_subrequests: Some(false),
            composite_request: reads
                .iter()
                .enumerate()
                .map(|(i, read)| self.subrequest(i, read))
                .collect(),
        };
        tracing::debug!(reads = reads.len(), "composite reads");

        let mut answers = self.composite(&request).await?.composite_response;
        if answers.iter().any(|a| a.http_status_code == 401) {
            let stale = self.session().access_token;
            self.refresh_session(&stale).await?;
            answers = self.composite(&request).await?.composite_response;
        }
        Ok(reads
            .iter()
            .enumerate()
            .map(|(i, read)| {
                let reference = reference_id(i);
                let answer = answers
                    .iter()
                    .find(|a| a.reference_id == reference)
                    .or_else(|| answers.get(i).filter(|a| a.reference_id.is_empty()));
                match answer {
                    Some(answer) => read_answer(read, &describe(read), answer),
                    None => Err(Error::Decode {
                        what: "POST composite".into(),
                        detail: format!("the composite answer has no subresponse '{reference}'"),
                        status: 200,
                    }),
                }
            })
            .collect())
    }

    fn subrequest(&self, i: usize, read: &Read) -> CompositeSubrequest {
        let (url, headers) = match read {
            Read::Updated { object, start, end } | Read::Deleted { object, start, end } => {
                let kind = if matches!(read, Read::Updated { .. }) { "updated" } else { "deleted" };
                let query = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("start", &format_datetime_z(*start))
                    .append_pair("end", &format_datetime_z(*end))
                    .finish();
                (format!("{}?{query}", self.data_path(&["sobjects", object, kind, ""])), None)
            }
            Read::Query { soql, include_deleted, batch_size } => {
                let resource = if *include_deleted { "queryAll" } else { "query" };
                let query = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("q", soql)
                    .finish();
                let batch = super::query::clamp_batch_size(*batch_size);
                let headers = [("Sforce-Query-Options".to_string(), format!("batchSize={batch}"))];
                (format!("{}/?{query}", self.data_path(&[resource])), Some(headers.into()))
            }
        };
        CompositeSubrequest {
            method: "GET".into(),
            url,
            reference_id: reference_id(i),
            body: None,
            http_headers: headers,
        }
    }
}

fn reference_id(i: usize) -> String {
    format!("read{i}")
}

/// What a read is, for messages: the resource without its parameters.
fn describe(read: &Read) -> String {
    match read {
        Read::Updated { object, .. } => format!("GET sobjects/{object}/updated (composite)"),
        Read::Deleted { object, .. } => format!("GET sobjects/{object}/deleted (composite)"),
        Read::Query { include_deleted: true, .. } => "GET queryAll (composite)".into(),
        Read::Query { .. } => "GET query (composite)".into(),
    }
}

/// Turns one subresponse into the answer or error its direct call would have given.
pub(super) fn read_answer(
    read: &Read,
    what: &str,
    answer: &CompositeSubresponse,
) -> Result<ReadAnswer, Error> {
    let status = answer.http_status_code;
    if status == 401 {
        return Err(Error::SessionExpired);
    }
    if !(200..300).contains(&status) {
        let body = serde_json::to_vec(&answer.body).unwrap_or_default();
        return Err(error_from_answer(what, status, Some("application/json"), &body));
    }
    Ok(match read {
        Read::Updated { .. } => ReadAnswer::Updated(decode(what, status, &answer.body)?),
        Read::Deleted { .. } => ReadAnswer::Deleted(decode(what, status, &answer.body)?),
        Read::Query { .. } => ReadAnswer::Page(decode(what, status, &answer.body)?),
    })
}

fn decode<T: DeserializeOwned>(
    what: &str,
    status: u16,
    body: &serde_json::Value,
) -> Result<T, Error> {
    T::deserialize(body).map_err(|e| Error::Decode {
        what: what.to_owned(),
        detail: format!("unexpected JSON from {what} (HTTP {status}): {e}"),
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientConfig, Session};
    use chrono::TimeZone;
    use serde_json::json;

    fn client() -> Client {
        Client::new(Session::from_access_token("http://127.0.0.1:9", "t"), ClientConfig::default())
            .unwrap()
    }

    #[test]
    fn subrequests_name_the_direct_resources() {
        let start = Utc.with_ymd_and_hms(2024, 5, 8, 21, 20, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2024, 5, 8, 22, 0, 0).unwrap();
        let c = client();
        let updated = c.subrequest(0, &Read::Updated { object: "Account".into(), start, end });
        assert_eq!(
            updated.url,
            "/services/data/v62.0/sobjects/Account/updated/?start=2024-05-08T21%3A20%3A00Z&end=2024-05-08T22%3A00%3A00Z"
        );
        assert_eq!(updated.reference_id, "read0");
        let query = c.subrequest(
            1,
            &Read::Query {
                soql: "SELECT Id FROM Account WHERE Name = 'a+b'".into(),
                include_deleted: true,
                batch_size: 50,
            },
        );
        assert_eq!(
            query.url,
            "/services/data/v62.0/queryAll/?q=SELECT+Id+FROM+Account+WHERE+Name+%3D+%27a%2Bb%27"
        );
        assert_eq!(query.http_headers.unwrap()["Sforce-Query-Options"], "batchSize=200");
    }

    #[test]
    fn subresponse_errors_map_like_direct_answers() {
        let read = Read::Deleted {
            object: "Account".into(),
            start: Utc.with_ymd_and_hms(2024, 5, 8, 21, 20, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2024, 5, 8, 22, 0, 0).unwrap(),
        };
        let sub = |status, body| CompositeSubresponse {
            body,
            http_headers: Default::default(),
            http_status_code: status,
            reference_id: "read0".into(),
        };
        let refused = sub(
            400,
            json!([{"errorCode": "INVALID_REPLICATION_DATE", "message": "startDate is too early"}]),
        );
        let e = read_answer(&read, "x", &refused).unwrap_err();
        assert!(matches!(e, Error::Api { status: 400, .. }));
        assert_eq!(e.error_code(), Some("INVALID_REPLICATION_DATE"));
        let missing = sub(404, json!([{"errorCode": "NOT_FOUND", "message": "none"}]));
        assert_eq!(read_answer(&read, "x", &missing).unwrap_err().error_code(), Some("NOT_FOUND"));
        let limit = sub(403, json!([{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "m"}]));
        assert!(read_answer(&read, "x", &limit).unwrap_err().is_transient());
        let expired = sub(401, json!([{"errorCode": "INVALID_SESSION_ID", "message": "m"}]));
        assert!(matches!(read_answer(&read, "x", &expired), Err(Error::SessionExpired)));
        let wrong = sub(200, json!({"ids": []}));
        assert!(matches!(read_answer(&read, "x", &wrong), Err(Error::Decode { .. })));
        let ok = sub(
            200,
            json!({"deletedRecords": [], "earliestDateAvailable": "2024-05-01T00:00:00.000+0000",
                   "latestDateCovered": "2024-05-08T22:00:00.000+0000"}),
        );
        assert!(matches!(read_answer(&read, "x", &ok), Ok(ReadAnswer::Deleted(_))));
    }
}
