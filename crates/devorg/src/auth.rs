//! Credentials and tokens: password hashes, access and refresh tokens, authorization codes
//! with PKCE, and the token response Salesforce's OAuth endpoint returns.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::Rng;
use rand::distr::Alphanumeric;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A client allowed to ask for tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedApp {
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
    /// The X.509 certificate (or RSA public key), in PEM form, that JWT bearer assertions
    /// from this app must be signed for; without one the app cannot use that grant.
    pub jwt_certificate: Option<String>,
}

/// The salted hash a user's password is stored as.
pub fn hash_password(salt: &str, password: &str) -> String {
    let digest = Sha256::digest(format!("{salt}:{password}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_text(len: usize) -> String {
    rand::rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

/// What a successful token grant hands back.
#[derive(Debug, Clone)]
pub struct Grant {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub issued_at_ms: i64,
    pub user_id: String,
}

/// Stores a new access token (and a refresh token when asked) for a user.
pub fn issue(
    conn: &Connection,
    org_id15: &str,
    user_id: &str,
    client_id: &str,
    now_ms: i64,
    ttl_ms: i64,
    with_refresh: bool,
) -> rusqlite::Result<Grant> {
    let access_token = format!("{org_id15}!AQ{}", random_text(94));
    conn.execute(
        "INSERT INTO _tokens (token, kind, user_id, client_id, issued_at, expires_at)
         VALUES (?1, 'access', ?2, ?3, ?4, ?5)",
        params![access_token, user_id, client_id, now_ms, now_ms + ttl_ms],
    )?;
    let refresh_token = if with_refresh {
        let token = format!("5Aep861{}", random_text(80));
        conn.execute(
            "INSERT INTO _tokens (token, kind, user_id, client_id, issued_at, expires_at)
             VALUES (?1, 'refresh', ?2, ?3, ?4, NULL)",
            params![token, user_id, client_id, now_ms],
        )?;
        Some(token)
    } else {
        None
    };
    Ok(Grant { access_token, refresh_token, issued_at_ms: now_ms, user_id: user_id.to_string() })
}

/// The user an unexpired access token belongs to.
pub fn access_token_user(
    conn: &Connection,
    token: &str,
    now_ms: i64,
) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT user_id FROM _tokens WHERE token = ?1 AND kind = 'access' AND expires_at > ?2",
        params![token, now_ms],
        |r| r.get(0),
    )
    .optional()
}

/// The user and client a refresh token belongs to.
pub fn refresh_token_owner(
    conn: &Connection,
    token: &str,
) -> rusqlite::Result<Option<(String, String)>> {
    conn.query_row(
        "SELECT user_id, client_id FROM _tokens WHERE token = ?1 AND kind = 'refresh'",
        [token],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Deletes a token (access or refresh); refresh revocation also ends its user's sessions
/// from the same client.
pub fn revoke(conn: &Connection, token: &str) -> rusqlite::Result<bool> {
    let owner = refresh_token_owner(conn, token)?;
    let n = conn.execute("DELETE FROM _tokens WHERE token = ?1", [token])?;
    if let Some((user, client)) = owner {
        conn.execute(
            "DELETE FROM _tokens WHERE kind = 'access' AND user_id = ?1 AND client_id = ?2",
            params![user, client],
        )?;
    }
    Ok(n > 0)
}

/// Stores a one-time authorization code valid for ten minutes.
pub fn new_code(
    conn: &Connection,
    user_id: &str,
    client_id: &str,
    redirect_uri: &str,
    challenge: Option<&str>,
    method: Option<&str>,
    now_ms: i64,
) -> rusqlite::Result<String> {
    let code = format!("aPrx{}", random_text(60));
    conn.execute(
        "INSERT INTO _auth_codes (code, user_id, client_id, redirect_uri, challenge, method, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![code, user_id, client_id, redirect_uri, challenge, method, now_ms + 600_000],
    )?;
    Ok(code)
}

/// A redeemed authorization code.
#[derive(Debug)]
pub struct CodeGrant {
    pub user_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: Option<String>,
    pub method: Option<String>,
}

/// Takes an unexpired authorization code out of the store (codes are single-use).
pub fn redeem_code(
    conn: &Connection,
    code: &str,
    now_ms: i64,
) -> rusqlite::Result<Option<CodeGrant>> {
    let grant = conn
        .query_row(
            "SELECT user_id, client_id, redirect_uri, challenge, method FROM _auth_codes
             WHERE code = ?1 AND expires_at > ?2",
            params![code, now_ms],
            |r| {
                Ok(CodeGrant {
                    user_id: r.get(0)?,
                    client_id: r.get(1)?,
                    redirect_uri: r.get(2)?,
                    challenge: r.get(3)?,
                    method: r.get(4)?,
                })
            },
        )
        .optional()?;
    conn.execute("DELETE FROM _auth_codes WHERE code = ?1", [code])?;
    Ok(grant)
}

/// Checks a PKCE verifier against the stored challenge (`S256` or `plain`).
pub fn pkce_matches(challenge: &str, method: Option<&str>, verifier: &str) -> bool {
    match method.unwrap_or("plain") {
        m if m.eq_ignore_ascii_case("S256") => {
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
        }
        _ => verifier == challenge,
    }
}

/// base64 HMAC-SHA256 of `id + issued_at`, keyed with the client secret.
pub fn signature(id_url: &str, issued_at: &str, secret: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(id_url.as_bytes());
    mac.update(issued_at.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The token endpoint's success body.
pub fn token_response(grant: &Grant, base_url: &str, org_id: &str, secret: &str) -> Value {
    let id_url = format!("{base_url}/id/{org_id}/{}", grant.user_id);
    let issued_at = grant.issued_at_ms.to_string();
    let mut body = json!({
        "access_token": grant.access_token,
        "instance_url": base_url,
        "id": id_url,
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": signature(&id_url, &issued_at, secret),
        "scope": if grant.refresh_token.is_some() { "refresh_token api web" } else { "api web" },
    });
    if let Some(r) = &grant.refresh_token {
        body["refresh_token"] = json!(r);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_compares_the_hashed_verifier() {
        assert!(pkce_matches(
            "L6nytuy8hk4r4htm8iMTbnmwsHcED9o68YoPJhACEgw",
            Some("S256"),
            "dBjftJeZ4CVP-mJ0kzyFoN4jpFfMGRk4Bf9sHN8Tlg1"
        ));
        assert!(!pkce_matches("abc", Some("S256"), "abc"));
        assert!(pkce_matches("abc", None, "abc"));
    }
}
