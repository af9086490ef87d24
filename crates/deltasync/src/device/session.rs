//! The saved session: where the org lives, its tokens, who is logged in and how to log in
//! again. It lives only in the encrypted store's key-value table and is never printed.

use serde::{Deserialize, Serialize};
use store::Store;
use store::kv::keys;

use salesforce::client::{OAuthApp, RefreshCredentials, Relogin, Session};

use super::DeviceError;

/// How the session was obtained, which decides how it is renewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum LoginMethod {
    /// The password grant: no refresh token; an expired session needs a new login.
    Password,
    /// Authorization code with PKCE: renewed with the refresh token.
    Browser,
    /// The JWT bearer grant: renewed by signing a new assertion with the key file.
    Jwt {
        /// The private key file (its path only; the key stays in its file).
        key_file: std::path::PathBuf,
    },
}

/// Everything the device keeps about its login.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSession {
    /// The tokens and ids.
    pub session: Session,
    /// The login server (`--url`).
    pub login_url: String,
    /// The username that logged in.
    pub username: String,
    /// The connected app's client id.
    pub client_id: String,
    /// The connected app's secret, for confidential apps.
    pub client_secret: Option<String>,
    /// How the session was obtained.
    pub method: LoginMethod,
}

impl std::fmt::Debug for SavedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SavedSession")
            .field("session", &self.session)
            .field("login_url", &self.login_url)
            .field("username", &self.username)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

impl SavedSession {
    /// Reads the saved session, if anyone is logged in.
    pub fn load(store: &Store) -> Result<Option<SavedSession>, DeviceError> {
        let Some(value) = store.read(|r| r.kv_get(keys::SESSION))? else {
            return Ok(None);
        };
        let saved = serde_json::from_value(value).map_err(store::StoreError::from)?;
        Ok(Some(saved))
    }

    /// Writes it to the store.
    pub fn save(&self, store: &Store) -> Result<(), DeviceError> {
        let value = serde_json::to_value(self).map_err(store::StoreError::from)?;
        store.write(|tx| tx.kv_set(keys::SESSION, &value))?;
        Ok(())
    }

    /// Forgets the saved session, if any.
    pub fn clear(store: &Store) -> Result<(), DeviceError> {
        store.write(|tx| tx.kv_delete(keys::SESSION))?;
        Ok(())
    }

    /// The connected app the session belongs to.
    pub fn app(&self) -> OAuthApp {
        OAuthApp::new(&self.login_url, &self.client_id, self.client_secret.clone())
    }

    /// How the client renews the session when its access token expires.
    pub fn refresh_credentials(&self) -> Option<RefreshCredentials> {
        let relogin = match &self.method {
            LoginMethod::Password => return None,
            LoginMethod::Browser => Relogin::RefreshTokenOnly,
            LoginMethod::Jwt { key_file } => match std::fs::read_to_string(key_file) {
                Ok(private_key_pem) => {
                    Relogin::JwtBearer { username: self.username.clone(), private_key_pem }
                }
                Err(err) => {
                    tracing::warn!(path = %key_file.display(), error = %err, "JWT key file unreadable; renewing with the refresh token only");
                    Relogin::RefreshTokenOnly
                }
            },
        };
        Some(RefreshCredentials { app: self.app(), relogin })
    }
}
