//! Reading answer bodies: the content type, JSON decoding, and errors that say what
//! came instead of the JSON expected (a proxy's HTML page, a truncated body).

use serde::Deserialize;

use super::Error;

/// The `Content-Type` of an answer, without parameters.
pub(crate) fn content_type(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let value = headers.get(reqwest::header::CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
}

/// Decodes a JSON answer, saying clearly when it was not JSON at all.
pub(crate) fn decode_json<T: for<'de> Deserialize<'de>>(
    what: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| not_json(what, status, content_type, &e))
}

pub(crate) fn not_json(
    what: &str,
    status: u16,
    content_type: Option<&str>,
    error: &serde_json::Error,
) -> Error {
    let detail = match content_type {
        Some(ct) if !ct.contains("json") => {
            format!("expected JSON from {what}, got {ct} (HTTP {status})")
        }
        _ if error.is_eof() => format!("truncated JSON from {what} (HTTP {status}): {error}"),
        _ => format!("unexpected JSON from {what} (HTTP {status}): {error}"),
    };
    Error::Decode { what: what.to_owned(), detail, status }
}
