//! The client's error type and its classification into transient and permanent failures.

use crate::wire::ApiError;

/// Why a call to the org failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Occurs when the org answers with an error array (validation, access, bad query,
    /// not found, ...). Retrying helps only for 5xx statuses and `UNABLE_TO_LOCK_ROW`.
    #[error("salesforce answered HTTP {status}: {}", summary(errors))]
    Api { status: u16, errors: Vec<ApiError> },
    /// Occurs when the token endpoint refuses a grant (`invalid_grant`, `invalid_client`, ...).
    #[error("login refused: {error}: {description}")]
    OAuth { error: String, description: String },
    /// Occurs when the access token is no longer valid and could not be refreshed.
    #[error("session expired and could not be refreshed: log in again")]
    SessionExpired,
    /// Occurs when the connection fails, is reset, or times out. Retrying may help.
    #[error("network error: {0}")]
    Network(#[source] reqwest::Error),
    /// Occurs when an answer is not the JSON expected: malformed, truncated, wrongly
    /// typed, or an HTML page from a proxy. `status` is the HTTP status it came with.
    #[error("{detail}")]
    Decode { what: String, detail: String, status: u16 },
    /// Occurs when the org's API request limit is exhausted (`REQUEST_LIMIT_EXCEEDED`).
    /// Retrying helps only after a wait.
    #[error("API request limit exceeded: {}", summary(errors))]
    Limit { errors: Vec<ApiError> },
    /// Occurs when a call is given more records or subrequests than Salesforce accepts.
    #[error("too many items for one call: at most {max}")]
    TooMany { max: usize },
    /// Occurs when the client is configured with something unusable: a private key that
    /// is not an RSA key in PEM form, or an instance or login URL that is not a URL.
    #[error("invalid configuration: {0}")]
    Config(String),
}

fn summary(errors: &[ApiError]) -> String {
    match errors.first() {
        Some(e) if errors.len() > 1 => {
            format!("{}: {} (and {} more)", e.error_code, e.message, errors.len() - 1)
        }
        Some(e) => format!("{}: {}", e.error_code, e.message),
        None => "no error details".into(),
    }
}

/// Error codes a retry can cure.
const TRANSIENT_CODES: &[&str] =
    &["UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE"];

impl Error {
    /// Whether the same call may succeed if tried again later: 5xx answers, row locks,
    /// the request limit, and network failures. Validation and access errors are not.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Api { status, errors } => {
                *status >= 500
                    || *status == 429
                    || errors.iter().any(|e| TRANSIENT_CODES.contains(&e.error_code.as_str()))
            }
            Error::Limit { .. } | Error::Network(_) => true,
            Error::Decode { status, .. } => *status >= 500 || *status == 429,
            Error::OAuth { .. }
            | Error::SessionExpired
            | Error::TooMany { .. }
            | Error::Config(_) => false,
        }
    }

    /// The Salesforce error code (`MALFORMED_QUERY`, `invalid_grant`, ...), if there is one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            Error::Api { errors, .. } | Error::Limit { errors } => {
                errors.first().map(|e| e.error_code.as_str())
            }
            Error::OAuth { error, .. } => Some(error),
            Error::SessionExpired => Some("INVALID_SESSION_ID"),
            _ => None,
        }
    }

    /// The HTTP status of the answer, when the failure came with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Decode { status, .. } => Some(*status),
            Error::Limit { .. } => Some(403),
            Error::SessionExpired => Some(401),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let api =
            |status, code: &str| Error::Api { status, errors: vec![ApiError::new(code, "m")] };
        assert!(api(500, "UNKNOWN_EXCEPTION").is_transient());
        assert!(api(400, "UNABLE_TO_LOCK_ROW").is_transient());
        assert!(!api(400, "FIELD_CUSTOM_VALIDATION_EXCEPTION").is_transient());
        assert!(!api(403, "INSUFFICIENT_ACCESS_OR_READONLY").is_transient());
        assert!(Error::Limit { errors: vec![] }.is_transient());
        assert!(!Error::SessionExpired.is_transient());
        let html = Error::Decode { what: "x".into(), detail: "y".into(), status: 502 };
        assert!(html.is_transient());
        assert_eq!(api(400, "MALFORMED_QUERY").error_code(), Some("MALFORMED_QUERY"));
        let oauth = Error::OAuth { error: "invalid_grant".into(), description: "d".into() };
        assert_eq!(oauth.error_code(), Some("invalid_grant"));
        assert_eq!(oauth.to_string(), "login refused: invalid_grant: d");
    }
}
