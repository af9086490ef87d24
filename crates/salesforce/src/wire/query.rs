//! Query results, API versions, resource lists and org limits.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Record;

/// One page of a query: `{"totalSize":N,"done":false,"nextRecordsUrl":"...","records":[...]}`.
///
/// A child subquery inside a record has the same shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResult {
    #[serde(default)]
    pub total_size: u64,
    pub done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_records_url: Option<String>,
    #[serde(default)]
    pub records: Vec<Record>,
}

/// One entry of `GET /services/data/`: `{"label":"Winter '25","url":"/services/data/v62.0","version":"62.0"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiVersion {
    #[serde(default)]
    pub label: String,
    pub url: String,
    pub version: String,
}

/// `GET /services/data/vNN.N/`: resource names to their URLs.
pub type Resources = BTreeMap<String, String>;

/// One org limit: `{"Max":15000,"Remaining":14982}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LimitValue {
    pub max: i64,
    pub remaining: i64,
}

/// `GET .../limits`: limit names (`DailyApiRequests`, ...) to their values.
pub type Limits = BTreeMap<String, LimitValue>;
