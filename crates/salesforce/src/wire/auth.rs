//! OAuth token answers and the userinfo endpoint.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A successful token answer:
/// `{"access_token","instance_url","id","token_type":"Bearer","issued_at","signature","scope"[,"refresh_token"]}`.
///
/// Its `Debug` output hides the tokens.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub instance_url: String,
    /// `{login}/id/{orgId}/{userId}`.
    pub id: String,
    #[serde(default = "bearer")]
    pub token_type: String,
    /// Epoch milliseconds, as a string.
    #[serde(default)]
    pub issued_at: String,
    #[serde(default)]
    pub signature: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

fn bearer() -> String {
    "Bearer".into()
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "<redacted>"))
            .field("instance_url", &self.instance_url)
            .field("id", &self.id)
            .field("token_type", &self.token_type)
            .field("issued_at", &self.issued_at)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// `GET /services/oauth2/userinfo`. Only the fields a client relies on are modelled.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserInfo {
    #[serde(default)]
    pub sub: String,
    pub user_id: String,
    pub organization_id: String,
    #[serde(default)]
    pub preferred_username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoneinfo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub urls: BTreeMap<String, String>,
}
