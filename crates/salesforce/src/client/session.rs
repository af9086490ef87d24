//! An authenticated session: where the org lives, its tokens, and who is logged in.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::Error;
use crate::wire::TokenResponse;

/// The result of a login. Persist it to skip the next login; its `Debug` hides the tokens,
/// but its serialized form holds them, so store it encrypted.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// `https://yourorg.my.salesforce.com`, without a trailing slash.
    pub instance_url: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub org_id: String,
    pub user_id: String,
    /// When the token endpoint issued the access token, if it said.
    pub issued_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("instance_url", &self.instance_url)
            .field("access_token", &"<redacted>")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "<redacted>"))
            .field("org_id", &self.org_id)
            .field("user_id", &self.user_id)
            .field("issued_at", &self.issued_at)
            .finish()
    }
}

impl Session {
    /// Builds a session from a token answer. Org and user ids are the last two segments
    /// of its identity URL `{login}/id/{orgId}/{userId}`.
    pub fn from_token(token: TokenResponse) -> Result<Session, Error> {
        let Some((org_id, user_id)) = parse_identity_url(&token.id) else {
            return Err(Error::Decode {
                what: "token answer".into(),
                detail: format!(
                    "identity URL '{}' does not end in /{{orgId}}/{{userId}}",
                    token.id
                ),
                status: 200,
            });
        };
        let issued_at = token
            .issued_at
            .parse::<i64>()
            .ok()
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single());
        Ok(Session {
            instance_url: token.instance_url.trim_end_matches('/').to_owned(),
            access_token: token.access_token,
            refresh_token: token.refresh_token,
            org_id,
            user_id,
            issued_at,
        })
    }

    /// A session for an access token obtained elsewhere (the Salesforce CLI, a web login).
    pub fn from_access_token(
        instance_url: impl Into<String>,
        access_token: impl Into<String>,
    ) -> Session {
        let access_token = access_token.into();
        // An access token starts with the org id: `00D<...>!<opaque>`.
        let org_id =
            access_token.split_once('!').map(|(org, _)| org.to_owned()).unwrap_or_default();
        Session {
            instance_url: instance_url.into().trim_end_matches('/').to_owned(),
            access_token,
            refresh_token: None,
            org_id,
            user_id: String::new(),
            issued_at: None,
        }
    }
}

/// The org id and user id at the end of an identity URL
/// (`https://login.salesforce.com/id/00D.../005...`).
pub fn parse_identity_url(url: &str) -> Option<(String, String)> {
    let path = url.split(['?', '#']).next().unwrap_or_default().trim_end_matches('/');
    let mut segments = path.rsplit('/');
    let user = segments.next().filter(|s| !s.is_empty())?;
    let org = segments.next().filter(|s| !s.is_empty())?;
    let marker = segments.next()?;
    if marker != "id" || !is_id(org) || !is_id(user) {
        return None;
    }
    Some((org.to_owned(), user.to_owned()))
}

fn is_id(s: &str) -> bool {
    (s.len() == 15 || s.len() == 18) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> TokenResponse {
        serde_json::from_value(serde_json::json!({
            "access_token": "00Dxx0000001gEF!AQ0AQsecret",
            "refresh_token": "5Aep861secret",
            "instance_url": "https://example.my.salesforce.com/",
            "id": "https://login.salesforce.com/id/00Dxx0000001gEFEAY/005xx000001SwiUAAS",
            "issued_at": "1715203200000",
            "signature": "x"
        }))
        .unwrap()
    }

    #[test]
    fn ids_from_identity_url() {
        let session = Session::from_token(token()).unwrap();
        assert_eq!(session.org_id, "00Dxx0000001gEFEAY");
        assert_eq!(session.user_id, "005xx000001SwiUAAS");
        assert_eq!(session.instance_url, "https://example.my.salesforce.com");
        assert_eq!(session.issued_at.unwrap().to_rfc3339(), "2024-05-08T21:20:00+00:00");
        assert_eq!(
            parse_identity_url("http://127.0.0.1:8080/id/00Dxx0000001gEF/005xx000001SwiU/"),
            Some(("00Dxx0000001gEF".into(), "005xx000001SwiU".into()))
        );
        assert_eq!(parse_identity_url("https://login.salesforce.com/id/00Dxx0000001gEFEAY"), None);
        assert_eq!(
            parse_identity_url("https://x/other/00Dxx0000001gEFEAY/005xx000001SwiUAAS"),
            None
        );
        assert_eq!(parse_identity_url(""), None);
        let mut bad = token();
        bad.id = "https://login.salesforce.com/".into();
        assert!(matches!(Session::from_token(bad), Err(Error::Decode { .. })));
    }

    #[test]
    fn debug_redacts_tokens() {
        let session = Session::from_token(token()).unwrap();
        let debug = format!("{session:?}");
        assert!(!debug.contains("secret"), "{debug}");
        assert!(debug.contains("00Dxx0000001gEFEAY"));
    }

    #[test]
    fn org_id_from_access_token_shape() {
        let session = Session::from_access_token("http://127.0.0.1:1/", "00Dxx0000001gEF!abc");
        assert_eq!(session.org_id, "00Dxx0000001gEF");
        assert_eq!(session.instance_url, "http://127.0.0.1:1");
    }
}
