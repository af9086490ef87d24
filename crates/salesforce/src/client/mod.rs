//! The async REST client: one [`Client`] per org session, cheap to clone.
//!
//! - [`auth`]: OAuth logins that produce a [`Session`].
//! - `http`: sending a call, decoding answers and errors, refreshing an expired session.
//! - `query`, `records`, `org`: the REST resources, one method each.
//! - `reads`: several independent reads in one Composite call.
//! - [`fuzz`]: every decoder over one answer body, for fuzzers and their regression tests.

mod auth;
mod decode;
mod error;
pub mod fuzz;
mod http;
mod jwt;
mod org;
mod pkce;
mod query;
mod reads;
mod records;
mod session;

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

pub use auth::{OAuthApp, RefreshCredentials, Relogin};
pub use error::Error;
pub use pkce::{Pkce, random_state};
pub use query::QueryPager;
pub use reads::{MAX_COMPOSITE_QUERIES, Read, ReadAnswer};
pub use session::{Session, parse_identity_url};

/// The API version used unless configured otherwise.
pub const DEFAULT_API_VERSION: &str = "62.0";

/// Collections take at most this many records a call.
pub const MAX_COLLECTION_RECORDS: usize = 200;

/// A collection retrieve takes at most this many ids a call.
pub const MAX_RETRIEVE_IDS: usize = 2000;

/// A composite call takes at most this many subrequests.
pub const MAX_COMPOSITE_SUBREQUESTS: usize = 25;

/// How a [`Client`] talks to the org.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `"62.0"`, without a leading `v`.
    pub api_version: String,
    /// How to get a new access token when the current one expires; `None` means an
    /// expired session fails with [`Error::SessionExpired`].
    pub login: Option<RefreshCredentials>,
    pub user_agent: String,
    /// Limit on each HTTP request, connection to last byte.
    pub timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            api_version: DEFAULT_API_VERSION.into(),
            login: None,
            user_agent: concat!("deltasync-salesforce/", env!("CARGO_PKG_VERSION")).into(),
            timeout: Duration::from_secs(120),
        }
    }
}

/// The org's API usage as the last answer's `Sforce-Limit-Info: api-usage=18/15000` said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiUsage {
    pub used: u64,
    pub max: u64,
}

type SessionCallback = Box<dyn Fn(&Session) + Send + Sync>;

/// An async client for one org. Clones share the session, so a refresh made by one is
/// seen by all.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    session: RwLock<Session>,
    on_session_change: RwLock<Option<SessionCallback>>,
    api_usage: Mutex<Option<ApiUsage>>,
    /// The latest `Date` an answer carried: the org's clock, to the second.
    server_date: Mutex<Option<chrono::DateTime<chrono::Utc>>>,
    /// Held while a refresh is in flight, so concurrent 401s refresh only once.
    refresh_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("session", &self.session())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `session`.
    pub fn new(session: Session, mut config: ClientConfig) -> Result<Client, Error> {
        config.api_version = config.api_version.trim().trim_start_matches('v').to_owned();
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .timeout(config.timeout)
            .build()
            .map_err(|e| Error::Config(format!("cannot build HTTP client: {e}")))?;
        url::Url::parse(&session.instance_url)
            .map_err(|e| Error::Config(format!("instance URL '{}': {e}", session.instance_url)))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                config,
                session: RwLock::new(session),
                on_session_change: RwLock::new(None),
                api_usage: Mutex::new(None),
                server_date: Mutex::new(None),
                refresh_lock: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// The current session (it changes when the client refreshes it).
    pub fn session(&self) -> Session {
        match self.inner.session.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the session, for example after an interactive login.
    pub fn set_session(&self, session: Session) {
        match self.inner.session.write() {
            Ok(mut s) => *s = session,
            Err(poisoned) => *poisoned.into_inner() = session,
        }
    }

    /// Registers a callback run with the new session whenever the client refreshes it,
    /// so the application can persist the new tokens. It replaces any earlier callback
    /// and must not register another from inside itself.
    pub fn on_session_change(&self, callback: SessionCallback) {
        match self.inner.on_session_change.write() {
            Ok(mut slot) => *slot = Some(callback),
            Err(poisoned) => *poisoned.into_inner() = Some(callback),
        }
    }

    /// API usage as of the last answer that reported it.
    pub fn api_usage(&self) -> Option<ApiUsage> {
        match self.inner.api_usage.lock() {
            Ok(u) => *u,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    /// The org's clock as the latest answer's `Date` header gave it (whole seconds, so
    /// never ahead of the org). `None` before any answer carried one. A device clock can be
    /// off by minutes; marks the org must agree with are capped by this.
    pub fn server_date(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        match self.inner.server_date.lock() {
            Ok(d) => *d,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    /// The configured API version (`"62.0"`).
    pub fn api_version(&self) -> &str {
        &self.inner.config.api_version
    }

    /// `/services/data/vNN.N/` followed by the segments, each percent-encoded.
    fn data_path(&self, segments: &[&str]) -> String {
        let mut path = format!("/services/data/v{}", self.inner.config.api_version);
        for segment in segments {
            path.push('/');
            encode_segment(&mut path, segment);
        }
        path
    }
}

/// Appends a path segment, percent-encoding everything but unreserved characters.
fn encode_segment(out: &mut String, segment: &str) {
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded() {
        let mut out = String::new();
        encode_segment(&mut out, "a b/c?d%é");
        assert_eq!(out, "a%20b%2Fc%3Fd%25%C3%A9");
    }

    #[test]
    fn client_debug_redacts_tokens() {
        let mut session = Session::from_access_token("http://127.0.0.1:9", "00Dxx!topsecret");
        session.refresh_token = Some("refreshsecret".into());
        let config = ClientConfig {
            login: Some(RefreshCredentials {
                app: OAuthApp::new("http://127.0.0.1:9", "cid", Some("appsecret".into())),
                relogin: Relogin::Password { username: "u".into(), password: "pwsecret".into() },
            }),
            ..ClientConfig::default()
        };
        let client = Client::new(session, config).unwrap();
        let debug = format!("{client:?}");
        for secret in ["topsecret", "refreshsecret", "appsecret", "pwsecret"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert_eq!(
            client.data_path(&["sobjects", "Account"]),
            "/services/data/v62.0/sobjects/Account"
        );
    }

    #[test]
    fn bad_instance_url_is_a_config_error() {
        let session = Session::from_access_token("not a url", "t");
        assert!(matches!(Client::new(session, ClientConfig::default()), Err(Error::Config(_))));
    }
}
