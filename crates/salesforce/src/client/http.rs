//! Sending one call: building the request, reading the answer, turning error bodies into
//! [`Error`]s, and refreshing the session once when the org says it expired.

use reqwest::Method;
use serde::Deserialize;

use super::decode::{content_type, decode_json, not_json};
use super::{ApiUsage, Client, Error, Session};
use crate::wire::ApiError;

/// One REST call, kept whole so it can be replayed after a session refresh.
#[derive(Debug)]
pub(crate) struct Call {
    pub method: Method,
    /// Path below the instance URL, already percent-encoded, starting with `/`.
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<serde_json::Value>,
    pub headers: Vec<(&'static str, String)>,
}

impl Call {
    pub fn new(method: Method, path: String) -> Call {
        Call { method, path, query: Vec::new(), body: None, headers: Vec::new() }
    }

    pub fn get(path: String) -> Call {
        Call::new(Method::GET, path)
    }

    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Call {
        self.query.push((name, value.into()));
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Call {
        self.headers.push((name, value.into()));
        self
    }

    pub fn json(mut self, body: serde_json::Value) -> Call {
        self.body = Some(body);
        self
    }

    /// What the call is, for messages: `GET /services/data/v62.0/query` (no query string).
    pub fn describe(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A successful (2xx) answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Client {
    /// Sends a call and decodes a 2xx JSON answer into `T`.
    pub(crate) async fn call_json<T: for<'de> Deserialize<'de>>(
        &self,
        call: Call,
    ) -> Result<T, Error> {
        let what = call.describe();
        let answer = self.call(call).await?;
        decode_json(&what, answer.status, answer.content_type.as_deref(), &answer.body)
    }

    /// Sends a call and returns its 2xx answer undecoded.
    pub(crate) async fn call(&self, call: Call) -> Result<Answer, Error> {
        let session = self.session();
        match self.send_once(&call, &session).await? {
            Outcome::Done(answer) => Ok(answer),
            Outcome::Unauthorized => {
                self.refresh_session(&session.access_token).await?;
                match self.send_once(&call, &self.session()).await? {
                    Outcome::Done(answer) => Ok(answer),
                    Outcome::Unauthorized => Err(Error::SessionExpired),
                }
            }
        }
    }

    async fn send_once(&self, call: &Call, session: &Session) -> Result<Outcome, Error> {
        let url = format!("{}{}", session.instance_url, call.path);
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), url)
            .bearer_auth(&session.access_token)
            .header(reqwest::header::ACCEPT, "application/json");
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }

        let response = request.send().await.map_err(|e| {
            let e = e.without_url();
            tracing::debug!(method = %call.method, path = %call.path, error = %e, "salesforce call failed");
            Error::Network(e)
        })?;
        let status = response.status().as_u16();
        tracing::debug!(method = %call.method, path = %call.path, status, "salesforce call");
        let usage = response
            .headers()
            .get("sforce-limit-info")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_limit_info);
        if let (Some(usage), Ok(mut slot)) = (usage, self.inner.api_usage.lock()) {
            *slot = Some(usage);
        }
        if let Some(date) = response.headers().get("date").and_then(|v| v.to_str().ok()) {
            self.saw_server_date(date);
        }
        let content_type = content_type(response.headers());
        let body = response.bytes().await.map_err(|e| Error::Network(e.without_url()))?.to_vec();

        if status == 401 {
            return Ok(Outcome::Unauthorized);
        }
        if (200..300).contains(&status) {
            return Ok(Outcome::Done(Answer { status, content_type, body }));
        }
        Err(error_from_answer(&call.describe(), status, content_type.as_deref(), &body))
    }

    /// Gets a new access token after a 401. `stale_token` is the token the failed call
    /// used: when another task has already replaced it, the new one is used as it is.
    pub(crate) async fn refresh_session(&self, stale_token: &str) -> Result<(), Error> {
        let _guard = self.inner.refresh_lock.lock().await;
        let old = self.session();
        if old.access_token != stale_token {
            tracing::debug!("session already refreshed by a concurrent call");
            return Ok(());
        }
        let Some(credentials) = &self.inner.config.login else {
            tracing::debug!("session expired and no credentials are configured to refresh it");
            return Err(Error::SessionExpired);
        };

        // First the refresh token, then whatever re-login the configuration allows.
        let mut fresh = None;
        if let Some(refresh_token) = &old.refresh_token {
            match credentials.app.refresh_with(&self.inner.http, refresh_token).await {
                Ok(session) => fresh = Some(session),
                Err(e) => tracing::debug!(code = ?e.error_code(), "refresh token refused"),
            }
        }
        if fresh.is_none() {
            match credentials.app.relogin_with(&self.inner.http, &credentials.relogin).await {
                Some(Ok(session)) => fresh = Some(session),
                Some(Err(e)) => tracing::debug!(code = ?e.error_code(), "re-login refused"),
                None => {}
            }
        }
        let Some(session) = fresh else {
            tracing::info!("session expired and could not be refreshed");
            return Err(Error::SessionExpired);
        };

        tracing::info!(org_id = %session.org_id, user_id = %session.user_id, "session refreshed");
        self.set_session(session.clone());
        self.notify_session_change(&session);
        Ok(())
    }

    fn notify_session_change(&self, session: &Session) {
        let callback = match self.inner.on_session_change.read() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(callback) = callback.as_ref() {
            callback(session);
        }
    }
}

impl Client {
    /// Keeps the latest of the org's `Date` headers (answers can arrive out of order).
    fn saw_server_date(&self, header: &str) {
        let Some(date) = parse_http_date(header) else {
            tracing::debug!("unreadable Date header ignored");
            return;
        };
        if let Ok(mut slot) = self.inner.server_date.lock()
            && slot.is_none_or(|seen| seen < date)
        {
            *slot = Some(date);
        }
    }
}

/// Reads an HTTP `Date` header (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn parse_http_date(value: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc2822(value.trim()).ok().map(|d| d.with_timezone(&chrono::Utc))
}

enum Outcome {
    Done(Answer),
    Unauthorized,
}

/// Reads `api-usage=18/15000` out of a `Sforce-Limit-Info` header value.
pub(crate) fn parse_limit_info(value: &str) -> Option<ApiUsage> {
    let usage = value.split([',', ';']).find_map(|part| part.trim().strip_prefix("api-usage="))?;
    let (used, max) = usage.split_once('/')?;
    Some(ApiUsage { used: used.trim().parse().ok()?, max: max.trim().parse().ok()? })
}

/// Turns a non-2xx answer into an error: an error array (or a single error object) when
/// the body is one, a decode error naming what came instead otherwise.
pub(crate) fn error_from_answer(
    what: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Error {
    let errors: Result<Option<Vec<ApiError>>, serde_json::Error> =
        if body.iter().all(u8::is_ascii_whitespace) {
            Ok(Some(Vec::new()))
        } else {
            serde_json::from_slice::<serde_json::Value>(body).map(|value| error_list(&value))
        };
    match errors {
        Ok(None) => Error::Decode {
            what: what.to_owned(),
            detail: format!("unexpected error body from {what} (HTTP {status})"),
            status,
        },
        Ok(Some(errors)) if errors.iter().any(|e| e.error_code == "REQUEST_LIMIT_EXCEEDED") => {
            Error::Limit { errors }
        }
        Ok(Some(errors)) => Error::Api { status, errors },
        Err(e) => not_json(what, status, content_type, &e),
    }
}

/// The errors in an error body: an array of error objects, one error object, or (for an
/// ambiguous upsert, HTTP 300) an array of the matching records' URLs.
fn error_list(value: &serde_json::Value) -> Option<Vec<ApiError>> {
    use serde_json::Value;
    let one = |v: &Value| -> Option<ApiError> {
        v.as_object()?;
        serde_json::from_value(v.clone()).ok()
    };
    match value {
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_string) => {
            Some(vec![ApiError::new(
                "MULTIPLE_CHOICES",
                format!("the external id matches {} records", items.len()),
            )])
        }
        Value::Array(items) => items.iter().map(one).collect(),
        Value::Object(_) => one(value).map(|e| vec![e]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_error_body_becomes_an_error_without_panicking(
            status in 300u16..600,
            body in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let e = error_from_answer("GET /x", status, Some("application/json"), &body);
            prop_assert!(e.status().is_some());
        }

        #[test]
        fn any_json_shaped_error_body_is_handled(text in "[\\[\\]{}\",:a-zA-Z0-9 ]{0,80}") {
            let _ = error_from_answer("GET /x", 400, None, text.as_bytes());
        }
    }

    #[test]
    fn date_header() {
        let d = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(d.to_rfc3339(), "1994-11-06T08:49:37+00:00");
        assert_eq!(parse_http_date("yesterday"), None);
        assert_eq!(parse_http_date(""), None);
    }

    #[test]
    fn limit_info_header() {
        assert_eq!(parse_limit_info("api-usage=18/15000"), Some(ApiUsage { used: 18, max: 15000 }));
        assert_eq!(
            parse_limit_info("per-app-api-usage=2/100(appName=x), api-usage=25/5000"),
            Some(ApiUsage { used: 25, max: 5000 })
        );
        assert_eq!(parse_limit_info("api-usage=x/5000"), None);
        assert_eq!(parse_limit_info(""), None);
    }

    #[test]
    fn error_arrays() {
        let e = error_from_answer(
            "GET /q",
            400,
            Some("application/json"),
            br#"[{"message":"unexpected token: 'FORM'","errorCode":"MALFORMED_QUERY"}]"#,
        );
        assert!(
            matches!(&e, Error::Api { status: 400, errors } if errors[0].message.contains("FORM"))
        );
        assert_eq!(e.error_code(), Some("MALFORMED_QUERY"));
        assert!(!e.is_transient());

        let e = error_from_answer(
            "GET /q",
            403,
            None,
            br#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#,
        );
        assert!(matches!(e, Error::Limit { .. }));
        assert!(e.is_transient());

        let e = error_from_answer(
            "GET /q",
            404,
            None,
            br#"{"message":"gone","errorCode":"NOT_FOUND"}"#,
        );
        assert_eq!(e.error_code(), Some("NOT_FOUND"));

        let e = error_from_answer("PATCH /u", 300, None, br#"["/a","/b"]"#);
        assert_eq!(e.error_code(), Some("MULTIPLE_CHOICES"));

        let e = error_from_answer("DELETE /d", 404, None, b"");
        assert!(matches!(e, Error::Api { status: 404, ref errors } if errors.is_empty()));
    }

    #[test]
    fn html_error_page_says_what_came() {
        let e = error_from_answer(
            "GET /services/data/v62.0/query",
            502,
            Some("text/html"),
            b"<html><body>Bad Gateway</body></html>",
        );
        let text = e.to_string();
        assert!(
            text.contains("expected JSON from GET /services/data/v62.0/query, got text/html"),
            "{text}"
        );
        assert!(e.is_transient());
    }

    #[test]
    fn truncated_and_wrong_typed_bodies() {
        let e = decode_json::<crate::wire::QueryResult>(
            "GET /q",
            200,
            Some("application/json"),
            br#"{"totalSize":1,"done":true,"records":[{"Id":"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("truncated JSON"), "{e}");
        assert!(!e.is_transient());
        let e = decode_json::<crate::wire::QueryResult>(
            "GET /q",
            200,
            Some("application/json"),
            br#"{"totalSize":1,"done":"yes","records":[]}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("unexpected JSON from GET /q"), "{e}");
        let e =
            decode_json::<crate::wire::QueryResult>("GET /q", 200, Some("text/html"), b"<html>")
                .unwrap_err();
        assert!(e.to_string().contains("expected JSON from GET /q, got text/html"), "{e}");
    }
}
