//! Serde types for every JSON body the REST API sends or accepts.
//!
//! The client deserializes them and devorg serializes them, so field names follow
//! Salesforce exactly. Unknown fields are ignored on input: real orgs send many more
//! than are modelled here.

mod auth;
mod describe;
mod error;
mod query;
mod replication;
mod write;

pub use auth::{TokenResponse, UserInfo};
pub use describe::{
    ChildRelationshipDescribe, DescribeGlobal, FieldDescribe, GlobalSObject, PicklistEntry,
    SObjectDescribe,
};
pub use error::{ApiError, OAuthError, RecordError};
pub use query::{ApiVersion, LimitValue, Limits, QueryResult, Resources};
pub use replication::{DeletedRecord, DeletedResult, UpdatedResult};
pub use write::{
    CollectionRequest, CompositeRequest, CompositeResponse, CompositeSubrequest,
    CompositeSubresponse, RetrieveManyRequest, SaveResult,
};

/// A record as JSON: field names to values, with an `attributes` object first
/// (`{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001..."}`).
pub type Record = serde_json::Map<String, serde_json::Value>;

/// The object type named in a record's `attributes`, if it has one.
pub fn record_type(record: &Record) -> Option<&str> {
    record.get("attributes")?.get("type")?.as_str()
}

/// The `attributes` object of a record: its type and, when known, its URL.
pub fn attributes(object: &str, url: Option<&str>) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    map.insert("type".into(), object.into());
    if let Some(url) = url {
        map.insert("url".into(), url.into());
    }
    serde_json::Value::Object(map)
}

#[cfg(test)]
mod tests;
