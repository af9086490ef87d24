//! Fault injection over HTTP: errors, request-limit bursts, cut connections, latency,
//! determinism by seed, the protected admin endpoint, and expiring every token.

mod common;

use common::*;
use devorg::{Config, FaultConfig, Latency};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn errors(rate: f64, seed: u64) -> FaultConfig {
    FaultConfig { seed, error_rate: rate, ..FaultConfig::default() }
}

/// Statuses of `n` GETs of the versions list.
async fn statuses(org: &devorg::RunningOrg, n: usize) -> Vec<u16> {
    let http = reqwest::Client::new();
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(
            http.get(format!("{}/services/data/", org.url()))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    out
}

#[tokio::test]
async fn faults_are_off_by_default_and_replay_from_a_seed() {
    let org = start().await;
    assert!(statuses(&org, 20).await.iter().all(|s| *s == 200));

    org.set_faults(errors(0.5, 7));
    let first = statuses(&org, 40).await;
    org.set_faults(errors(0.5, 7));
    let again = statuses(&org, 40).await;
    assert_eq!(first, again, "the same seed gives the same faults");
    assert!(first.contains(&200));
    assert!(first.iter().any(|s| *s >= 500), "{first:?}");
    assert!(first.iter().all(|s| [200, 500, 503].contains(s)), "{first:?}");
    assert_eq!(org.fault_counts().errors as usize, first.iter().filter(|s| **s != 200).count());

    org.set_faults(errors(0.5, 8));
    assert_ne!(statuses(&org, 40).await, first, "another seed, other faults");
    org.set_faults(FaultConfig::default());
    assert!(statuses(&org, 10).await.iter().all(|s| *s == 200));
}

#[tokio::test]
async fn write_errors_use_salesforce_bodies() {
    let org = start().await;
    let api = admin(&org).await;
    org.set_faults(errors(1.0, 3));
    let mut codes = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let (status, body) = api.post("/sobjects/Account", account("x")).await;
        let code = error_code(&body).to_string();
        match code.as_str() {
            "UNKNOWN_EXCEPTION" => assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR),
            "SERVER_UNAVAILABLE" => assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE),
            "UNABLE_TO_LOCK_ROW" => assert_eq!(status, StatusCode::BAD_REQUEST),
            other => panic!("unexpected {status} {other}: {body}"),
        }
        codes.insert(code);
    }
    assert_eq!(codes.len(), 3, "{codes:?}");
    org.set_faults(FaultConfig::default());
    let (_, body) = api.get("/query?q=SELECT+COUNT()+FROM+Account").await;
    assert_eq!(body["totalSize"], 0, "refused writes wrote nothing");
}

#[tokio::test]
async fn a_limit_burst_refuses_the_next_requests() {
    let org = start().await;
    let api = admin(&org).await;
    org.set_faults(FaultConfig { limit_burst: 3, ..FaultConfig::default() });
    for _ in 0..3 {
        let (status, body) = api.get("/limits").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(error_code(&body), "REQUEST_LIMIT_EXCEEDED");
    }
    assert_eq!(api.get("/limits").await.0, StatusCode::OK);
    assert_eq!(org.fault_counts().limit_exceeded, 3);
}

#[tokio::test]
async fn a_dropped_connection_cuts_the_body_after_the_write_ran() {
    let org = start().await;
    let api = admin(&org).await;
    org.set_faults(FaultConfig { seed: 1, drop_rate: 1.0, ..FaultConfig::default() });
    let resp = api
        .http
        .post(api.url("/sobjects/Account"))
        .bearer_auth(&api.token)
        .json(&account("written, answer lost"))
        .send()
        .await;
    // The headers may or may not arrive; the body never arrives whole.
    let outcome = match resp {
        Ok(r) => r.bytes().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(outcome.is_err(), "the response should have been cut");
    assert_eq!(org.fault_counts().drops, 1);
    org.set_faults(FaultConfig::default());
    let (_, body) = api.get("/query?q=SELECT+Name+FROM+Account").await;
    assert_eq!(body["totalSize"], 1, "the write committed before the cut: {body}");
}

#[tokio::test]
async fn a_dropped_connection_also_cuts_an_answer_without_a_body() {
    let org = start().await;
    let api = admin(&org).await;
    let (_, created) = api.post("/sobjects/Account", account("before")).await;
    let id = created["id"].as_str().unwrap().to_string();
    org.set_faults(FaultConfig { seed: 1, drop_rate: 1.0, ..FaultConfig::default() });
    let resp = api
        .http
        .patch(api.url(&format!("/sobjects/Account/{id}")))
        .bearer_auth(&api.token)
        .json(&serde_json::json!({"Name": "after"}))
        .send()
        .await;
    let outcome = match resp {
        Ok(r) => r.bytes().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(outcome.is_err(), "an update's 204 should have been cut too");
    org.set_faults(FaultConfig::default());
    let (_, body) = api.get(&format!("/sobjects/Account/{id}")).await;
    assert_eq!(body["Name"], "after", "the update committed before the cut: {body}");
}

#[tokio::test]
async fn latency_and_spikes_are_counted() {
    let org = start().await;
    org.set_faults(FaultConfig {
        seed: 5,
        latency: Latency { fixed_ms: 1, spike_rate: 0.5, spike_ms: 5 },
        ..FaultConfig::default()
    });
    assert!(statuses(&org, 20).await.iter().all(|s| *s == 200));
    let spikes = org.fault_counts().spikes;
    assert!(spikes > 0 && spikes < 20, "{spikes}");
}

#[tokio::test]
async fn faults_start_from_the_config() {
    let org = start_with(Config { faults: errors(1.0, 1), ..Config::default() }).await;
    assert!(statuses(&org, 5).await.iter().all(|s| *s >= 500));
}

async fn admin_call(
    org: &devorg::RunningOrg,
    token: Option<&str>,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().post(format!("{}{path}", org.url())).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    (resp.status(), resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_admin_endpoint_needs_an_admin_token_and_is_never_faulted() {
    let org = start().await;
    let boss = admin(&org).await;
    let tech = login(&org, "tech1@field.example").await;
    let config = json!({"seed": 2, "error_rate": 1.0});

    assert_eq!(
        admin_call(&org, None, "/devorg/admin/faults", config.clone()).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        admin_call(&org, Some(&tech.token), "/devorg/admin/faults", config.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, body) =
        admin_call(&org, Some(&boss.token), "/devorg/admin/faults", json!({"error_rate": 2})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) =
        admin_call(&org, Some(&boss.token), "/devorg/admin/faults", json!({"eror_rate": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, body) = admin_call(&org, Some(&boss.token), "/devorg/admin/faults", config).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["config"]["error_rate"], 1.0);
    assert!(
        boss.get("/limits").await.0.is_server_error()
            || boss.get("/limits").await.0.is_server_error()
    );

    // Still reachable while everything else fails; turning faults off.
    let (status, body) =
        admin_call(&org, Some(&boss.token), "/devorg/admin/faults", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(boss.get("/limits").await.0, StatusCode::OK);
}

#[tokio::test]
async fn expiring_all_tokens_makes_every_session_invalid() {
    let org = start().await;
    let boss = admin(&org).await;
    let tech = login(&org, "tech1@field.example").await;
    assert_eq!(tech.get("/limits").await.0, StatusCode::OK);

    let (status, body) =
        admin_call(&org, Some(&boss.token), "/devorg/admin/expire-tokens", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["expired"].as_u64().unwrap() >= 2);
    let (status, body) = tech.get("/limits").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "INVALID_SESSION_ID");

    let again = login(&org, "tech1@field.example").await;
    assert_eq!(again.get("/limits").await.0, StatusCode::OK);
    assert!(org.expire_all_tokens().unwrap() >= 1);
    assert_eq!(again.get("/limits").await.0, StatusCode::UNAUTHORIZED);
}
