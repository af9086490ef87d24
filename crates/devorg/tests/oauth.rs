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

async fn token_request(org: &devorg::RunningOrg, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/services/oauth2/token", org.url()))
        .form(form)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}

#[tokio::test]
async fn client_credentials_act_as_the_integration_user() {
    let org = start().await;
    let (status, body) = token_request(
        &org,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let integration = org.admin().user_id(devorg::INTEGRATION_USERNAME).unwrap();
    assert!(body["id"].as_str().unwrap().ends_with(&integration));

    let (status, body) = token_request(
        &org,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn authorization_code_with_pkce_then_refresh() {
    let org = start().await;
    let verifier = "dBjftJeZ4CVP-mJ0kzyFoN4jpFfMGRk4Bf9sHN8Tlg1";
    let challenge = "L6nytuy8hk4r4htm8iMTbnmwsHcED9o68YoPJhACEgw";
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = http
        .get(format!("{}/services/oauth2/authorize", org.url()))
        .query(&[
            ("response_type", "code"),
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", "http://localhost:1717/callback"),
            ("state", "xyz"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("login_hint", "tech3@field.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.path(), "/callback");
    let pairs: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(pairs["state"], "xyz");
    let code = pairs["code"].clone();

    // A wrong verifier is refused and burns nothing else; the right one works once.
    let base = [
        ("grant_type", "authorization_code"),
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", "http://localhost:1717/callback"),
        ("code", code.as_str()),
    ];
    let mut good = base.to_vec();
    good.push(("code_verifier", verifier));
    let (status, body) = token_request(&org, &good).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let refresh = body["refresh_token"].as_str().unwrap().to_string();
    let (status, _) = token_request(&org, &good).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, body) = token_request(
        &org,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEMO_CLIENT_ID),
            ("refresh_token", refresh.as_str()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh_token").is_none());
    let api = Api {
        http: reqwest::Client::new(),
        base: org.url().into(),
        token: body["access_token"].as_str().unwrap().into(),
    };
    let (_, me) = api.get("/services/oauth2/userinfo").await;
    assert_eq!(me["preferred_username"], "tech3@field.example");
}

#[tokio::test]
async fn authorize_without_hint_shows_a_login_form() {
    let org = start().await;
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let url = format!("{}/services/oauth2/authorize", org.url());
    let params = [
        ("response_type", "code"),
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", "http://localhost/cb"),
    ];
    let page = http.get(&url).query(&params).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<form"));
    let mut form = params.to_vec();
    form.extend([("username", "tech1@field.example"), ("password", devorg::DEMO_TECH_PASSWORD)]);
    let resp = http.post(&url).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert!(resp.headers()["location"].to_str().unwrap().starts_with("http://localhost/cb?code="));
}

#[tokio::test]
async fn admin_can_expire_tokens() {
    let org = start().await;
    let api = login(&org, "tech1@field.example").await;
    assert_eq!(api.get("/limits").await.0, StatusCode::OK);
    org.admin().expire_tokens(Some("tech1@field.example")).unwrap();
    let (status, body) = api.get("/limits").await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID"));
}

#[tokio::test]
async fn soap_login_returns_a_session_jsforce_can_use() {
    let org = start().await;
    let envelope = |password: &str| {
        format!(
            "<se:Envelope xmlns:se=\"http://schemas.xmlsoap.org/soap/envelope/\"><se:Header/><se:Body><login xmlns=\"urn:partner.soap.sforce.com\"><username>tech1@field.example</username><password>{password}</password></login></se:Body></se:Envelope>"
        )
    };
    let http = reqwest::Client::new();
    let url = format!("{}/services/Soap/u/62.0", org.url());
    let resp = http
        .post(&url)
        .header("SOAPAction", "login")
        .header("Content-Type", "text/xml")
        .body(envelope(devorg::DEMO_TECH_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    let session = text.split("<sessionId>").nth(1).unwrap().split("</sessionId>").next().unwrap();
    assert!(text.contains(&format!("<serverUrl>{}/services/Soap/u/62.0/", org.url())));
    assert!(text.contains(&format!("<organizationId>{}</organizationId>", org.org_id())));
    let api = Api { http: reqwest::Client::new(), base: org.url().into(), token: session.into() };
    assert_eq!(api.get("/limits").await.0, StatusCode::OK);

    let resp = http.post(&url).body(envelope("wrong")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(resp.text().await.unwrap().contains("<faultcode>sf:INVALID_LOGIN</faultcode>"));
}
