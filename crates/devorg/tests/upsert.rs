//! Upsert by external id and conditional requests.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn upsert_creates_then_updates() {
    let org = start().await;
    let api = admin(&org).await;
    let (status, body) =
        api.patch("/sobjects/Account/External_Id__c/ACME-1", json!({"Name": "Acme"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["created"], true);
    let id = body["id"].as_str().unwrap().to_string();

    let (status, body) =
        api.patch("/sobjects/Account/External_Id__c/ACME-1", json!({"Name": "Acme Ltd"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["created"], false);
    assert_eq!(body["id"], id);

    let (status, rec) = api.get("/sobjects/Account/External_Id__c/ACME-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rec["Name"], "Acme Ltd");

    let (status, body) =
        api.patch("/sobjects/WorkOrder/External_Id__c/WO-9", json!({"Subject": "s"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (status, body) =
        api.post("/sobjects/Account", json!({"Name": "Dup", "External_Id__c": "ACME-1"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "DUPLICATE_VALUE");

    let (status, _) = api.patch("/sobjects/Account/Name/Acme", json!({"Phone": "1"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn upsert_with_several_matches_is_a_300() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.json");
    std::fs::write(
        &schema,
        r#"{"objects": [
            {"name": "Account", "fields": [{"name": "Legacy_Key__c", "type": "string", "length": 20, "externalId": true}]},
            {"name": "Site__c", "keyPrefix": "a05", "sharing": "Private",
             "fields": [
                {"name": "Name", "type": "string", "length": 80, "required": true},
                {"name": "Account__c", "type": "reference", "referenceTo": "Account", "childRelationship": "Sites__r"},
                {"name": "Kind__c", "type": "picklist", "picklistValues": ["Plant", "Depot"], "restricted": true}
             ]}
        ]}"#,
    )
    .unwrap();
    let org = start_with(devorg::Config { schema_file: Some(schema), ..Default::default() }).await;
    let api = admin(&org).await;
    api.create("Account", json!({"Name": "a", "Legacy_Key__c": "K"})).await;
    api.create("Account", json!({"Name": "b", "Legacy_Key__c": "K"})).await;
    let (status, body) = api.patch("/sobjects/Account/Legacy_Key__c/K", json!({"Name": "c"})).await;
    assert_eq!(status, StatusCode::MULTIPLE_CHOICES);
    assert_eq!(body.as_array().unwrap().len(), 2);

    // The custom object from the schema file works like any other.
    let acc = api.create("Account", json!({"Name": "site owner"})).await;
    let site = api
        .create("Site__c", json!({"Name": "North", "Account__c": acc, "Kind__c": "Depot"}))
        .await;
    assert!(site.starts_with("a05"));
    let (_, d) = api.get("/sobjects/Site__c/describe").await;
    assert_eq!(d["custom"], true);
    let (_, q) = api
        .get(
            "/query?q=SELECT+Name,(SELECT+Name+FROM+Sites__r)+FROM+Account+WHERE+Id='{acc}'"
                .replace("{acc}", &acc)
                .as_str(),
        )
        .await;
    assert_eq!(q["records"][0]["Sites__r"]["records"][0]["Name"], "North");
}

#[tokio::test]
async fn conditional_updates_fail_with_412() {
    let org = start().await;
    let api = admin(&org).await;
    let id = api.create("Account", json!({"Name": "Cond"})).await;
    let resp = api.send(reqwest::Method::GET, &format!("/sobjects/Account/{id}"), None).await;
    let etag = resp.headers()["ETag"].to_str().unwrap().to_string();
    let modified = resp.headers()["Last-Modified"].to_str().unwrap().to_string();

    let resp = api
        .http
        .get(api.url(&format!("/sobjects/Account/{id}")))
        .bearer_auth(&api.token)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);

    org.clock().advance(chrono::Duration::seconds(5));
    let patch = |header: &'static str, value: String, name: &'static str| {
        api.http
            .patch(api.url(&format!("/sobjects/Account/{id}")))
            .bearer_auth(&api.token)
            .header(header, value)
            .json(&json!({"Name": name}))
            .send()
    };
    assert_eq!(
        patch("If-Match", etag.clone(), "v2").await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let resp = patch("If-Match", etag, "v3").await.unwrap();
    assert_eq!(resp.status(), StatusCode::PRECONDITION_FAILED);
    let resp = patch("If-Unmodified-Since", modified, "v4").await.unwrap();
    assert_eq!(resp.status(), StatusCode::PRECONDITION_FAILED);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(error_code(&body), "PRECONDITION_FAILED");
    let (_, rec) = api.get(&format!("/sobjects/Account/{id}")).await;
    assert_eq!(rec["Name"], "v2");
}
