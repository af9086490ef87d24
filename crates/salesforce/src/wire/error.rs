//! Error bodies: resource errors, per-record errors, and OAuth errors.

use serde::{Deserialize, Serialize};

/// One entry of a resource error array: `[{"message":"...","errorCode":"MALFORMED_QUERY"}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub error_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<String>>,
}

impl ApiError {
    /// An error with a code and message and no fields.
    pub fn new(error_code: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError { message: message.into(), error_code: error_code.into(), fields: None }
    }
}

/// A per-record error inside a save result: `{"statusCode":"...","message":"...","fields":[]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordError {
    #[serde(default)]
    pub status_code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

impl RecordError {
    /// An error with a status code, message and the fields it concerns.
    pub fn new(status_code: impl Into<String>, message: impl Into<String>) -> RecordError {
        RecordError { status_code: status_code.into(), message: message.into(), fields: Vec::new() }
    }
}

/// An OAuth failure: `{"error":"invalid_grant","error_description":"authentication failure"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthError {
    pub error: String,
    #[serde(default)]
    pub error_description: String,
}
