//! Write bodies and answers: save results, sObject Collections and Composite.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Record, RecordError};

/// The result of saving one record: `{"id":"...","success":true,"errors":[]}`, with
/// `"created"` on upserts. A failed record in a collection may carry no id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub success: bool,
    #[serde(default)]
    pub errors: Vec<RecordError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<bool>,
}

impl SaveResult {
    /// A successful save of record `id`.
    pub fn ok(id: impl Into<String>) -> SaveResult {
        SaveResult { id: Some(id.into()), success: true, errors: Vec::new(), created: None }
    }

    /// A failed save, with the id when the record has one.
    pub fn failed(id: Option<String>, errors: Vec<RecordError>) -> SaveResult {
        SaveResult { id, success: false, errors, created: None }
    }
}

/// The body of a collection create, update or upsert:
/// `{"allOrNone":false,"records":[{"attributes":{"type":"Account"},"Name":"x"}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionRequest {
    #[serde(default)]
    pub all_or_none: bool,
    #[serde(default)]
    pub records: Vec<Record>,
}

/// The body of a collection retrieve: `{"ids":[...],"fields":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrieveManyRequest {
    #[serde(default)]
    pub ids: Vec<String>,
    #[serde(default)]
    pub fields: Vec<String>,
}

/// One subrequest of a Composite call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositeSubrequest {
    pub method: String,
    pub url: String,
    pub reference_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_headers: Option<BTreeMap<String, String>>,
}

/// `POST .../composite`: `{"allOrNone":true,"compositeRequest":[...]}` (at most 25).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositeRequest {
    #[serde(default)]
    pub all_or_none: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collate_subrequests: Option<bool>,
    pub composite_request: Vec<CompositeSubrequest>,
}

/// One subresponse of a Composite call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositeSubresponse {
    #[serde(default)]
    pub body: serde_json::Value,
    #[serde(default)]
    pub http_headers: BTreeMap<String, String>,
    pub http_status_code: u16,
    #[serde(default)]
    pub reference_id: String,
}

/// `{"compositeResponse":[...]}`, in request order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositeResponse {
    pub composite_response: Vec<CompositeSubresponse>,
}
