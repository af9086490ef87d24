//! The JWT bearer grant over HTTP: assertions signed with a key made for the test, checked
//! against the certificate registered for the demo connected app.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use devorg::{Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, RunningOrg};
use reqwest::StatusCode;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer};
use salesforce::client::OAuthApp;
use serde_json::{Value, json};

const TECH1: &str = "tech1@field.example";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn new_key() -> RsaPrivateKey {
    RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("an RSA key")
}

fn private_pem(key: &RsaPrivateKey) -> String {
    key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
}

/// A self-signed certificate for `key`, as a connected app would have uploaded.
fn certificate_pem(key: &RsaPrivateKey) -> String {
    let pair =
        rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&private_pem(key), &rcgen::PKCS_RSA_SHA256)
            .unwrap();
    let params = rcgen::CertificateParams::new(vec!["jwt.devorg.example".to_string()]).unwrap();
    params.self_signed(&pair).unwrap().pem()
}

async fn org_trusting(certificate: String) -> RunningOrg {
    let mut config = Config::default();
    config.connected_apps[0].jwt_certificate = Some(certificate);
    start_with(config).await
}

fn sign(key: &RsaPrivateKey, claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256"}).to_string());
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = SigningKey::<Sha256>::new(key.clone()).sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn claims(org: &RunningOrg) -> Value {
    json!({"iss": DEMO_CLIENT_ID, "sub": TECH1, "aud": org.url(),
           "exp": org.clock().now().timestamp() + 180})
}

async fn grant(org: &RunningOrg, assertion: &str) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/services/oauth2/token", org.url()))
        .form(&[("grant_type", GRANT), ("assertion", assertion)])
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}

#[tokio::test]
async fn a_signed_assertion_gets_a_salesforce_shaped_token_without_refresh() {
    let key = new_key();
    let org = org_trusting(certificate_pem(&key)).await;
    let (status, body) = grant(&org, &sign(&key, &claims(&org))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap();
    assert!(token.starts_with(&format!("{}!", &org.org_id()[..15])), "{token}");
    assert_eq!(body["instance_url"], org.url());
    assert_eq!(body["token_type"], "Bearer");
    let id = body["id"].as_str().unwrap();
    assert!(id.starts_with(&format!("{}/id/{}/005", org.url(), org.org_id())), "{id}");
    let issued_at = body["issued_at"].as_str().unwrap();
    assert_eq!(body["signature"], devorg::auth::signature(id, issued_at, DEMO_CLIENT_SECRET));
    assert!(body.get("refresh_token").is_none(), "{body}");

    // The token acts as the assertion's subject.
    let api = Api { http: reqwest::Client::new(), base: org.url().into(), token: token.into() };
    let (status, me) = api.get("/services/oauth2/userinfo").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["preferred_username"], TECH1);
}

#[tokio::test]
async fn the_client_library_logs_in_with_a_key_against_a_registered_public_key() {
    let key = new_key();
    let public = key.to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
    let org = org_trusting(public).await;
    let app = OAuthApp::new(org.url(), DEMO_CLIENT_ID, None);
    let session = app.login_jwt(TECH1, &private_pem(&key)).await.expect("JWT login");
    assert!(session.refresh_token.is_none());
    let api =
        Api { http: reqwest::Client::new(), base: org.url().into(), token: session.access_token };
    assert_eq!(api.get("/sobjects/Account/describe").await.0, StatusCode::OK);
}

#[tokio::test]
async fn refusals_carry_salesforce_error_codes_and_descriptions() {
    let key = new_key();
    let org = org_trusting(certificate_pem(&key)).await;
    let good = claims(&org);
    let with = |field: &str, value: Value| {
        let mut c = good.clone();
        c[field] = value;
        c
    };
    let cases = [
        (sign(&new_key(), &good), "invalid_client", "invalid client credentials"),
        (
            sign(&key, &with("iss", json!("someone-else"))),
            "invalid_client_id",
            "client identifier invalid",
        ),
        (
            sign(&key, &with("aud", json!("https://elsewhere.example"))),
            "invalid_grant",
            "audience is invalid",
        ),
        (
            sign(&key, &with("exp", json!(org.clock().now().timestamp() - 1))),
            "invalid_grant",
            "expired authorization code",
        ),
        (
            sign(&key, &with("sub", json!("nobody@field.example"))),
            "invalid_grant",
            "user hasn't approved this consumer",
        ),
        ("not.a.jwt".to_string(), "invalid_grant", "invalid assertion"),
        (String::new(), "invalid_grant", "invalid assertion"),
    ];
    for (assertion, error, description) in cases {
        let (status, body) = grant(&org, &assertion).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{description}: {body}");
        assert_eq!(body["error"], error, "{body}");
        assert_eq!(body["error_description"], description, "{body}");
    }

    // A tampered claim set no longer matches its signature.
    let signed = sign(&key, &good);
    let parts: Vec<&str> = signed.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(with("sub", json!("admin@devorg.example")).to_string());
    let (_, body) = grant(&org, &format!("{}.{forged}.{}", parts[0], parts[2])).await;
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn an_app_without_a_certificate_refuses_the_grant() {
    let key = new_key();
    let org = start().await;
    let (status, body) = grant(&org, &sign(&key, &claims(&org))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_client");
}
