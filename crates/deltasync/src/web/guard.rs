//! The web app's front door: only this machine, only with the session secret, and no
//! state change without a CSRF token.
//!
//! - A fresh secret is made at each start and printed inside the URL (`/?key=...`).
//!   Opening that URL once sets an `HttpOnly`, `SameSite=Strict` cookie and redirects to
//!   the same page without the key, so the secret does not stay in the address bar.
//! - Every other request must carry the cookie; without it the answer is 403.
//! - The `Host` header must name a loopback address, which defeats DNS rebinding.
//! - A `POST` must carry a `csrf` form field or `X-CSRF-Token` header equal to a value
//!   derived from the secret; the pages embed it in every form.
//! - Every answer carries a strict Content-Security-Policy and no-store caching.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const COOKIE: &str = "deltasync_session";

/// The policy every page is served under: nothing from outside, no inline script.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

/// The session secret and the CSRF token derived from it.
#[derive(Clone)]
pub struct Secret {
    key: String,
    csrf: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// A new random secret.
    pub fn generate() -> Secret {
        let mut bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        Secret::from_key(hex(&bytes))
    }

    fn from_key(key: String) -> Secret {
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes())
            .expect("HMAC-SHA256 accepts keys of any length");
        mac.update(b"csrf");
        let csrf = hex(&mac.finalize().into_bytes());
        Secret { key, csrf }
    }

    /// The value that goes into the printed URL.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The token every form carries.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two strings in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn host_is_loopback(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').filter_map(|p| p.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
}

fn refuse(status: StatusCode, why: &str) -> Response {
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>deltasync</title>\
         <p>{why}</p><p>Open the link that <code>deltasync app</code> printed when it started.</p>"
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// Middleware that lets through only loopback requests that carry the session secret,
/// and only state changes that carry the CSRF token.
pub async fn guard(State(secret): State<Secret>, request: Request, next: Next) -> Response {
    if !host_is_loopback(request.headers()) {
        return harden(refuse(StatusCode::FORBIDDEN, "This app only answers on this machine."));
    }

    let query = request.uri().query().unwrap_or_default();
    if let Some(key) = query_param(query, "key") {
        if !same(key, secret.key()) {
            return harden(refuse(StatusCode::FORBIDDEN, "This session link is not valid."));
        }
        let cookie = format!("{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", secret.key());
        let mut response = Redirect::to(request.uri().path()).into_response();
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        return harden(response);
    }

    let authorised =
        cookie_value(request.headers(), COOKIE).is_some_and(|value| same(value, secret.key()));
    if !authorised {
        return harden(refuse(StatusCode::FORBIDDEN, "This app needs its session link."));
    }

    if request.method() != Method::GET && request.method() != Method::HEAD {
        let header_token = request.headers().get("x-csrf-token").and_then(|v| v.to_str().ok());
        let ok = match header_token {
            Some(token) => same(token, secret.csrf()),
            None => return harden(check_form_csrf(secret, request, next).await),
        };
        if !ok {
            return harden(refuse(StatusCode::FORBIDDEN, "This form is stale; reload the page."));
        }
    }
    harden(next.run(request).await)
}

/// Reads a form body, checks its `csrf` field, and hands the request on with the body
/// restored. Bodies are small forms; anything over 1 MiB is refused.
async fn check_form_csrf(secret: Secret, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "This form is too large.");
    };
    let text = String::from_utf8_lossy(&bytes);
    let token = text
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == "csrf")
        .map(|(_, v)| v.to_string());
    if !token.is_some_and(|t| same(&t, secret.csrf())) {
        return refuse(StatusCode::FORBIDDEN, "This form is stale; reload the page.");
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

fn harden(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_token_is_derived_and_stable() {
        let a = Secret::from_key("k1".into());
        let b = Secret::from_key("k1".into());
        let c = Secret::from_key("k2".into());
        assert_eq!(a.csrf(), b.csrf());
        assert_ne!(a.csrf(), c.csrf());
        assert_ne!(a.csrf(), a.key());
    }

    #[test]
    fn only_loopback_hosts_pass() {
        let mut h = HeaderMap::new();
        for (host, ok) in [
            ("127.0.0.1:8080", true),
            ("localhost:1", true),
            ("[::1]:9", true),
            ("evil.example:8080", false),
            ("127.0.0.1.evil.example", false),
        ] {
            h.insert(header::HOST, HeaderValue::from_static(host));
            assert_eq!(host_is_loopback(&h), ok, "{host}");
        }
        h.remove(header::HOST);
        assert!(!host_is_loopback(&h));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; deltasync_session=xyz; b=2"));
        assert_eq!(cookie_value(&h, COOKIE), Some("xyz"));
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
