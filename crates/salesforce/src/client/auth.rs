//! OAuth 2.0 logins against the token endpoint: password, refresh token, client
//! credentials, JWT bearer and authorization code with PKCE.
//!
//! Failures come back as [`Error::OAuth`] with the server's `error` and
//! `error_description`; request bodies (passwords, secrets) never reach an error or a log.

use std::time::Duration;

use super::decode::{content_type, decode_json, not_json};
use super::{Error, Session, jwt, pkce::Pkce};
use crate::wire::{OAuthError, TokenResponse};

/// A connected app and the login server it is registered with.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthApp {
    /// `https://login.salesforce.com`, `https://test.salesforce.com`, a My Domain URL,
    /// or a devorg address.
    pub login_url: String,
    pub client_id: String,
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthApp")
            .field("login_url", &self.login_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// How to log in again when a session cannot be refreshed with its refresh token.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Relogin {
    /// Only the session's refresh token may be used.
    RefreshTokenOnly,
    /// The username-password grant.
    Password { username: String, password: String },
    /// The client-credentials grant (needs the app's secret).
    ClientCredentials,
    /// The JWT bearer grant, signed with an RSA private key in PEM form.
    JwtBearer { username: String, private_key_pem: String },
}

impl std::fmt::Debug for Relogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Relogin::RefreshTokenOnly => f.write_str("RefreshTokenOnly"),
            Relogin::Password { username, .. } => {
                f.debug_struct("Password").field("username", username).finish_non_exhaustive()
            }
            Relogin::ClientCredentials => f.write_str("ClientCredentials"),
            Relogin::JwtBearer { username, .. } => {
                f.debug_struct("JwtBearer").field("username", username).finish_non_exhaustive()
            }
        }
    }
}

/// What a client may use to get a new access token when the current one expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshCredentials {
    pub app: OAuthApp,
    pub relogin: Relogin,
}

const TOKEN_TIMEOUT: Duration = Duration::from_secs(60);

fn default_http() -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .timeout(TOKEN_TIMEOUT)
        .user_agent(concat!("deltasync-salesforce/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Config(format!("cannot build HTTP client: {e}")))
}

impl OAuthApp {
    /// An app with a client id and, for confidential apps, a secret.
    pub fn new(
        login_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Option<String>,
    ) -> OAuthApp {
        OAuthApp { login_url: login_url.into(), client_id: client_id.into(), client_secret }
    }

    fn endpoint(&self, name: &str) -> String {
        format!("{}/services/oauth2/{name}", self.login_url.trim_end_matches('/'))
    }

    fn with_client<'a>(&'a self, mut form: Vec<(&'a str, &'a str)>) -> Vec<(&'a str, &'a str)> {
        form.push(("client_id", &self.client_id));
        if let Some(secret) = &self.client_secret {
            form.push(("client_secret", secret));
        }
        form
    }

    /// Logs in with a username and password (the password grant). No refresh token.
    pub async fn login_password(&self, username: &str, password: &str) -> Result<Session, Error> {
        self.password_with(&default_http()?, username, password).await
    }

    pub(crate) async fn password_with(
        &self,
        http: &reqwest::Client,
        username: &str,
        password: &str,
    ) -> Result<Session, Error> {
        let form = self.with_client(vec![
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ]);
        self.token_request(http, "password", &form).await
    }

    /// Gets a new access token with a refresh token. The answer carries a new refresh
    /// token only when rotation is on; otherwise the old one is kept in the session.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Session, Error> {
        self.refresh_with(&default_http()?, refresh_token).await
    }

    pub(crate) async fn refresh_with(
        &self,
        http: &reqwest::Client,
        refresh_token: &str,
    ) -> Result<Session, Error> {
        let form = self
            .with_client(vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token)]);
        let mut session = self.token_request(http, "refresh_token", &form).await?;
        if session.refresh_token.is_none() {
            session.refresh_token = Some(refresh_token.to_owned());
        }
        Ok(session)
    }

    /// Logs in as the app's integration user (the client-credentials grant).
    pub async fn login_client_credentials(&self) -> Result<Session, Error> {
        self.client_credentials_with(&default_http()?).await
    }

    pub(crate) async fn client_credentials_with(
        &self,
        http: &reqwest::Client,
    ) -> Result<Session, Error> {
        let form = self.with_client(vec![("grant_type", "client_credentials")]);
        self.token_request(http, "client_credentials", &form).await
    }

    /// Logs in as `username` with an RS256-signed JWT (the JWT bearer grant).
    pub async fn login_jwt(&self, username: &str, private_key_pem: &str) -> Result<Session, Error> {
        self.jwt_with(&default_http()?, username, private_key_pem).await
    }

    pub(crate) async fn jwt_with(
        &self,
        http: &reqwest::Client,
        username: &str,
        private_key_pem: &str,
    ) -> Result<Session, Error> {
        let assertion = jwt::assertion(
            &self.client_id,
            username,
            self.login_url.trim_end_matches('/'),
            chrono::Utc::now(),
            private_key_pem,
        )?;
        let form = vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion.as_str()),
        ];
        self.token_request(http, "jwt-bearer", &form).await
    }

    /// The URL to open in a browser to start an interactive login with PKCE.
    pub fn authorize_url(&self, redirect_uri: &str, pkce: &Pkce, state: &str) -> String {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("code_challenge", pkce.challenge())
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", state)
            .finish();
        format!("{}?{query}", self.endpoint("authorize"))
    }

    /// Exchanges the code the authorize redirect brought back for a session.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        pkce: &Pkce,
    ) -> Result<Session, Error> {
        let form = self.with_client(vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", pkce.verifier()),
        ]);
        self.token_request(&default_http()?, "authorization_code", &form).await
    }

    /// Logs in again the way `relogin` says.
    pub(crate) async fn relogin_with(
        &self,
        http: &reqwest::Client,
        relogin: &Relogin,
    ) -> Option<Result<Session, Error>> {
        Some(match relogin {
            Relogin::RefreshTokenOnly => return None,
            Relogin::Password { username, password } => {
                self.password_with(http, username, password).await
            }
            Relogin::ClientCredentials => self.client_credentials_with(http).await,
            Relogin::JwtBearer { username, private_key_pem } => {
                self.jwt_with(http, username, private_key_pem).await
            }
        })
    }

    async fn token_request(
        &self,
        http: &reqwest::Client,
        grant: &str,
        form: &[(&str, &str)],
    ) -> Result<Session, Error> {
        let url = self.endpoint("token");
        let response =
            http.post(&url).form(form).send().await.map_err(|e| Error::Network(e.without_url()))?;
        let status = response.status().as_u16();
        tracing::debug!(
            method = "POST",
            path = "/services/oauth2/token",
            grant,
            status,
            "token request"
        );
        let content_type = content_type(response.headers());
        let body = response.bytes().await.map_err(|e| Error::Network(e.without_url()))?;
        let what = "POST /services/oauth2/token";
        if (200..300).contains(&status) {
            let token: TokenResponse = decode_json(what, status, content_type.as_deref(), &body)?;
            return Session::from_token(token);
        }
        Err(token_error(what, status, content_type.as_deref(), &body))
    }
}

/// Turns a refused token request into an error: the OAuth error object, a resource
/// error array (a wrong endpoint, a proxy), or a decode error naming what came instead.
pub(super) fn token_error(
    what: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Error {
    match serde_json::from_slice::<OAuthError>(body) {
        Ok(e) => Error::OAuth { error: e.error, description: e.error_description },
        Err(_) => match serde_json::from_slice::<Vec<crate::wire::ApiError>>(body) {
            Ok(errors) => Error::Api { status, errors },
            Err(e) => not_json(what, status, content_type, &e),
        },
    }
}
