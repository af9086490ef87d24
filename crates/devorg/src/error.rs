//! Errors: [`StartError`] for starting an org, [`ApiError`] for what the REST API answers.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Why an org could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Occurs when the listening address cannot be bound (in use, or not permitted).
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    /// Occurs when the database cannot be opened, created or migrated.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// Occurs when the data directory cannot be created.
    #[error("data directory: {0}")]
    DataDir(std::io::Error),
    /// Occurs when a schema file cannot be read or does not describe valid objects.
    #[error("schema file {path}: {message}")]
    Schema { path: String, message: String },
    /// Occurs when the demo data configured in `Config::seed` cannot be loaded.
    #[error("{0}")]
    Seed(#[from] crate::seed::SeedError),
    /// Occurs when the HTTPS certificate cannot be made or loaded.
    #[error("tls: {0}")]
    Tls(#[from] crate::tls::TlsError),
}

/// An error the REST API reports: an HTTP status plus Salesforce's error code and message.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub fields: Vec<String>,
}

impl ApiError {
    /// A 400 error with this code and message.
    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// An error with an explicit status.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError { status, code: code.to_string(), message: message.into(), fields: Vec::new() }
    }

    /// Names the fields the error is about.
    pub fn with_fields(mut self, fields: Vec<String>) -> ApiError {
        self.fields = fields;
        self
    }

    /// `NOT_FOUND` with Salesforce's wording.
    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "The requested resource does not exist")
    }

    /// `INVALID_SESSION_ID` (HTTP 401).
    pub fn invalid_session() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID", "Session expired or invalid")
    }

    /// A database failure; reported as a 500 without details.
    pub fn internal(err: &dyn std::fmt::Display) -> ApiError {
        tracing::warn!(error = %err, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you contact support",
        )
    }

    /// The resource-error shape: `{"message","errorCode"[,"fields"]}`.
    pub fn to_resource_json(&self) -> Value {
        let mut v = json!({"message": self.message, "errorCode": self.code});
        if !self.fields.is_empty() {
            v["fields"] = json!(self.fields);
        }
        v
    }

    /// The per-record shape used inside collection results: `{"statusCode","message","fields"}`.
    pub fn to_record_json(&self) -> Value {
        json!({"statusCode": self.code, "message": self.message, "fields": self.fields})
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(err: rusqlite::Error) -> ApiError {
        ApiError::internal(&err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(json!([self.to_resource_json()]))).into_response()
    }
}
