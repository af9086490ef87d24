//! The RS256-signed assertion of the JWT bearer grant.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use sha2::Sha256;

use super::Error;

/// How long an assertion is valid; Salesforce accepts at most a few minutes.
const LIFETIME_SECS: i64 = 180;

/// Builds `header.claims.signature` with `iss` = client id, `sub` = username,
/// `aud` = login URL and `exp` three minutes after `now`.
pub(crate) fn assertion(
    client_id: &str,
    username: &str,
    audience: &str,
    now: DateTime<Utc>,
    private_key_pem: &str,
) -> Result<String, Error> {
    let key = parse_key(private_key_pem)?;
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    let claims = serde_json::json!({
        "iss": client_id,
        "sub": username,
        "aud": audience,
        "exp": now.timestamp() + LIFETIME_SECS,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = SigningKey::<Sha256>::new(key).sign(signing_input.as_bytes());
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes())))
}

/// Reads a PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`) key.
fn parse_key(pem: &str) -> Result<RsaPrivateKey, Error> {
    RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|_| Error::Config("private key is not an RSA key in PEM form".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;

    /// A throwaway 1024-bit key made for this test only.
    const TEST_KEY: &str = include_str!("../../tests/data/test_rsa_key.pem");

    #[test]
    fn signs_a_verifiable_assertion() {
        let now = Utc.with_ymd_and_hms(2024, 5, 8, 21, 20, 0).unwrap();
        let jwt =
            assertion("client", "ann@example.com", "https://login.salesforce.com", now, TEST_KEY)
                .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "client");
        assert_eq!(claims["sub"], "ann@example.com");
        assert_eq!(claims["aud"], "https://login.salesforce.com");
        assert_eq!(claims["exp"], now.timestamp() + 180);

        let key = parse_key(TEST_KEY).unwrap();
        let verifier = VerifyingKey::<Sha256>::new(key.to_public_key());
        let signature =
            Signature::try_from(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().as_slice()).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(verifier.verify(input.as_bytes(), &signature).is_ok());
        assert!(verifier.verify(b"tampered", &signature).is_err());
    }

    #[test]
    fn rejects_a_bad_key() {
        let err = assertion("c", "u", "a", Utc::now(), "not a key").unwrap_err();
        assert!(matches!(err, Error::Config(_)));
    }
}
