//! Every decoder of the client over one answer body, for the fuzzers and the tests that
//! replay what they found.
//!
//! Whatever the bytes, each decoder must return a value or an error whose message says
//! what went wrong. [`decode_every_answer`] runs them all, so that the coverage-guided
//! fuzzer and the regression test exercise exactly the code the client runs on an answer.

use chrono::{TimeZone, Utc};
use serde::de::DeserializeOwned;

use super::auth::token_error;
use super::decode::decode_json;
use super::http::error_from_answer;
use super::reads::{Read, read_answer};
use super::{Error, Session};
use crate::wire::{
    ApiVersion, CompositeResponse, DeletedResult, DescribeGlobal, Limits, QueryResult, Record,
    Resources, SObjectDescribe, SaveResult, TokenResponse, UpdatedResult, UserInfo, record_type,
};

/// Statuses an error answer is read with: ambiguous upsert, client errors, server errors.
const ERROR_STATUSES: &[u16] = &[300, 400, 403, 404, 500, 503];

/// Decodes `body` as the answer to every call of the client: each success type the client
/// reads, each error path (resource errors, token errors, Composite subresponses), and a
/// proxy's page. Panics when a decoder panics or when an error has no message, both bugs.
pub fn decode_every_answer(body: &[u8]) {
    // Every success answer, as `call_json` decodes it.
    if let Some(page) = success::<QueryResult>("GET query", body) {
        page.records.iter().for_each(|r| {
            let _ = record_type(r);
        });
    }
    if let Some(record) = success::<Record>("GET sobjects", body) {
        let _ = record_type(&record);
    }
    success::<SaveResult>("POST sobjects", body);
    success::<Vec<SaveResult>>("POST composite/sobjects", body);
    success::<Vec<Option<Record>>>("POST composite/sobjects retrieve", body);
    success::<SObjectDescribe>("GET describe", body);
    success::<DescribeGlobal>("GET sobjects/", body);
    success::<Limits>("GET limits", body);
    success::<UpdatedResult>("GET updated", body);
    success::<DeletedResult>("GET deleted", body);
    success::<Vec<ApiVersion>>("GET /services/data/", body);
    success::<Resources>("GET resources", body);
    success::<UserInfo>("GET userinfo", body);

    // A token answer becomes a session, or an error naming the identity URL.
    if let Some(token) = success::<TokenResponse>("POST token", body) {
        check_error(Session::from_token(token).err());
    }

    // Each subresponse of a Composite answer, read as each kind of read.
    if let Some(composite) = success::<CompositeResponse>("POST composite", body) {
        let reads = reads();
        for answer in &composite.composite_response {
            for read in &reads {
                check_error(read_answer(read, "composite read", answer).err());
            }
        }
    }

    // The error paths: a resource error, a refused token request, a proxy page.
    for &status in ERROR_STATUSES {
        check_error(Some(error_from_answer("GET x", status, Some("application/json"), body)));
    }
    check_error(Some(error_from_answer("GET x", 502, Some("text/html"), body)));
    check_error(Some(token_error("POST token", 400, Some("application/json"), body)));
    check_error(decode_json::<QueryResult>("GET query", 200, Some("text/html"), body).err());
}

/// Decodes a success answer; a failure must be a clean error.
fn success<T: DeserializeOwned>(what: &str, body: &[u8]) -> Option<T> {
    match decode_json::<T>(what, 200, Some("application/json"), body) {
        Ok(value) => Some(value),
        Err(e) => {
            check_error(Some(e));
            None
        }
    }
}

/// One read of each kind, to read Composite subresponses with.
fn reads() -> [Read; 3] {
    let start = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();
    let end = Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap();
    [
        Read::Updated { object: "Account".into(), start, end },
        Read::Deleted { object: "Account".into(), start, end },
        Read::Query {
            soql: "SELECT Id FROM Account".into(),
            include_deleted: false,
            batch_size: 200,
        },
    ]
}

/// An error must say what went wrong, and classifying it must not panic.
fn check_error(error: Option<Error>) {
    let Some(error) = error else { return };
    let message = error.to_string();
    assert!(!message.trim().is_empty(), "error without a message: {error:?}");
    let _ = (error.is_transient(), error.error_code(), error.status());
}
