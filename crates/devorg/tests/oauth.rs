//! OAuth token endpoint, userinfo, identity URL, token expiry.

mod common;

use common::*;
use devorg::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn password_grant_returns_a_salesforce_shaped_token() {
    let org = start().await;
    let body = token_for(&org, "tech1@field.example", devorg::DEMO_TECH_PASSWORD).await;
    let token = body["access_token"].as_str().unwrap();
    assert!(token.starts_with(&format!("{}!", &org.org_id()[..15])), "{token}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["instance_url"], org.url());
    let id = body["id"].as_str().unwrap();
    assert!(id.starts_with(&format!("{}/id/{}/005", org.url(), org.org_id())));
    let issued_at = body["issued_at"].as_str().unwrap();
    assert!(issued_at.parse::<i64>().unwrap() > 1_000_000_000_000);
    assert_eq!(body["signature"], devorg::auth::signature(id, issued_at, DEMO_CLIENT_SECRET));
    assert!(body.get("refresh_token").is_none());
    org.shutdown().await;
}

#[tokio::test]
async fn bad_password_is_invalid_grant() {
    let org = start().await;
    let resp = reqwest::Client::new()
        .post(format!("{}/services/oauth2/token", org.url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("username", "tech1@field.example"),
            ("password", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_description"], "authentication failure");
}

#[tokio::test]
async fn unknown_and_expired_tokens_get_invalid_session_id() {
    let org = start().await;
    let api = login(&org, "tech1@field.example").await;
    let (status, _) = api.get("/sobjects/Account/describe").await;
    assert_eq!(status, StatusCode::OK);

    let bogus = Api { token: "00Dxx!nope".into(), ..api };
    let (status, body) = bogus.get("/sobjects").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body[0]["errorCode"], "INVALID_SESSION_ID");
    assert_eq!(body[0]["message"], "Session expired or invalid");

    let api = login(&org, "tech1@field.example").await;
    org.clock().advance(chrono::Duration::hours(3));
    let (status, body) = api.get("/sobjects").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "INVALID_SESSION_ID");
}

#[tokio::test]
async fn userinfo_names_the_user_and_org() {
    let org = start().await;
    let api = login(&org, "tech2@field.example").await;
    let (status, body) = api.get("/services/oauth2/userinfo").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["preferred_username"], "tech2@field.example");
    assert_eq!(body["organization_id"], org.org_id());
    assert!(body["user_id"].as_str().unwrap().starts_with("005"));
}
