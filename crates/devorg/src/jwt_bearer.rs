//! The JWT bearer grant (`urn:ietf:params:oauth:grant-type:jwt-bearer`): an RS256-signed
//! assertion whose `iss` is a connected app's client id, `sub` a username, `aud` the
//! login URL and `exp` a time still to come, checked against the certificate (or public
//! key) registered for that app.
//!
//! Refusals carry the `error` and `error_description` Salesforce answers with.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::RsaPublicKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::pkcs8::der::asn1::AnyRef;
use rsa::pkcs8::der::{Decode, Encode, Reader, SliceReader, Tagged};
use rsa::sha2::Sha256;
use rsa::signature::Verifier;
use serde::Deserialize;

use crate::auth::ConnectedApp;

/// The `grant_type` of the JWT bearer grant.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Audiences accepted besides the org's own URL, as a real org accepts them.
const STANDARD_AUDIENCES: &[&str] =
    &["https://login.salesforce.com", "https://test.salesforce.com"];

/// Why an assertion was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Occurs when the assertion is missing, is not three base64url parts, its header or
    /// claims are not JSON, or it is not signed with RS256.
    #[error("invalid assertion")]
    Malformed,
    /// Occurs when `iss` names no connected app of the org.
    #[error("client identifier invalid")]
    UnknownClient,
    /// Occurs when the app has no certificate, or the signature does not verify with it.
    #[error("invalid client credentials")]
    BadSignature,
    /// Occurs when `aud` is neither the org's login URL nor a standard login server.
    #[error("audience is invalid")]
    BadAudience,
    /// Occurs when `exp` is missing or not after the org's clock.
    #[error("expired authorization code")]
    Expired,
    /// Occurs when `sub` names no active user of the org.
    #[error("user hasn't approved this consumer")]
    UnknownUser,
}

impl JwtError {
    /// The OAuth `error` code Salesforce answers with.
    pub fn oauth_error(&self) -> &'static str {
        match self {
            JwtError::UnknownClient => "invalid_client_id",
            JwtError::BadSignature => "invalid_client",
            _ => "invalid_grant",
        }
    }
}

/// Why a registered certificate cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// Occurs when the text is not a PEM `CERTIFICATE`, `PUBLIC KEY` or `RSA PUBLIC KEY`
    /// holding an RSA key.
    #[error("not an X.509 certificate or RSA public key in PEM form")]
    NotRsaPem,
}

#[derive(Debug, Deserialize)]
struct Header {
    alg: String,
}

#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    #[serde(default)]
    aud: Audience,
    exp: Option<i64>,
}

/// `aud` may be one string or a list of them.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
    #[default]
    Missing,
}

impl Audience {
    fn includes(&self, url: &str) -> bool {
        let matches = |a: &str| {
            let a = a.trim_end_matches('/');
            a.eq_ignore_ascii_case(url.trim_end_matches('/')) || STANDARD_AUDIENCES.contains(&a)
        };
        match self {
            Audience::One(a) => matches(a),
            Audience::Many(list) => list.iter().any(|a| matches(a)),
            Audience::Missing => false,
        }
    }
}

/// A checked assertion: the app it was signed for and the user it asks for.
#[derive(Debug)]
pub struct Assertion<'a> {
    pub app: &'a ConnectedApp,
    pub username: String,
}

fn decode_part<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, JwtError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

/// Checks an assertion against the org's connected apps, its login URL and the time
/// `now_secs` (seconds since the epoch). Whether `sub` is a user is left to the caller.
pub fn verify<'a>(
    assertion: &str,
    apps: &'a [ConnectedApp],
    login_url: &str,
    now_secs: i64,
) -> Result<Assertion<'a>, JwtError> {
    let mut parts = assertion.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let head: Header = decode_part(header)?;
    if head.alg != "RS256" {
        return Err(JwtError::Malformed);
    }
    let claims_json: Claims = decode_part(claims)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| JwtError::Malformed)?;

    let app =
        apps.iter().find(|a| a.client_id == claims_json.iss).ok_or(JwtError::UnknownClient)?;
    let key = app
        .jwt_certificate
        .as_deref()
        .and_then(|pem| public_key(pem).ok())
        .ok_or(JwtError::BadSignature)?;
    let signature =
        Signature::try_from(signature.as_slice()).map_err(|_| JwtError::BadSignature)?;
    let signed = &assertion[..header.len() + 1 + claims.len()];
    VerifyingKey::<Sha256>::new(key)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| JwtError::BadSignature)?;

    if !claims_json.aud.includes(login_url) {
        return Err(JwtError::BadAudience);
    }
    if claims_json.exp.is_none_or(|exp| exp <= now_secs) {
        return Err(JwtError::Expired);
    }
    Ok(Assertion { app, username: claims_json.sub })
}

/// The RSA public key in a PEM certificate (`BEGIN CERTIFICATE`) or public key
/// (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`).
pub fn public_key(pem: &str) -> Result<RsaPublicKey, CertificateError> {
    if let Ok(key) = RsaPublicKey::from_public_key_pem(pem) {
        return Ok(key);
    }
    if let Ok(key) = RsaPublicKey::from_pkcs1_pem(pem) {
        return Ok(key);
    }
    let (label, der) = rsa::pkcs8::der::pem::decode_vec(pem.trim().as_bytes())
        .map_err(|_| CertificateError::NotRsaPem)?;
    if label != "CERTIFICATE" {
        return Err(CertificateError::NotRsaPem);
    }
    let spki = certificate_key_info(&der).ok_or(CertificateError::NotRsaPem)?;
    RsaPublicKey::from_public_key_der(&spki).map_err(|_| CertificateError::NotRsaPem)
}

/// The DER `subjectPublicKeyInfo` of an X.509 certificate: the seventh element of
/// `tbsCertificate` when it starts with the `[0]` version, the sixth otherwise.
fn certificate_key_info(der: &[u8]) -> Option<Vec<u8>> {
    let certificate = AnyRef::from_der(der).ok()?;
    let mut outer = SliceReader::new(certificate.value()).ok()?;
    let tbs: AnyRef<'_> = outer.decode().ok()?;
    let mut fields = SliceReader::new(tbs.value()).ok()?;
    let first: AnyRef<'_> = fields.decode().ok()?;
    // serial, signature algorithm, issuer, validity, subject: the key info follows.
    let skip = if first.tag().is_context_specific() { 5 } else { 4 };
    for _ in 0..skip {
        let _: AnyRef<'_> = fields.decode().ok()?;
    }
    let spki: AnyRef<'_> = fields.decode().ok()?;
    spki.to_der().ok()
}
