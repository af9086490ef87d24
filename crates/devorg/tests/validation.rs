//! Field validation, validation rules and bad input, with Salesforce's error codes.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn create_err(api: &Api, object: &str, body: Value) -> (StatusCode, Value) {
    let (status, body) = api.post(&format!("/sobjects/{object}"), body).await;
    assert_ne!(status, StatusCode::CREATED, "{body}");
    (status, body)
}

#[tokio::test]
async fn field_rules_use_salesforce_codes() {
    let org = start().await;
    let api = admin(&org).await;

    let (status, body) = create_err(&api, "Contact", json!({"FirstName": "No"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "REQUIRED_FIELD_MISSING");
    assert_eq!(body[0]["fields"], json!(["LastName"]));

    let (_, body) = create_err(&api, "Account", json!({"Name": "x".repeat(256)})).await;
    assert_eq!(error_code(&body), "STRING_TOO_LONG");

    let (_, body) =
        create_err(&api, "Account", json!({"Name": "n", "NumberOfEmployees": "many"})).await;
    assert_eq!(error_code(&body), "INVALID_TYPE_ON_FIELD_IN_RECORD");

    let (_, body) = create_err(&api, "WorkOrder", json!({"Status": "Done-ish"})).await;
    assert_eq!(error_code(&body), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
    assert_eq!(body[0]["fields"], json!(["Status"]));

    let (_, body) = create_err(&api, "WorkOrder", json!({"AccountId": "001000000000000AAA"})).await;
    assert_eq!(error_code(&body), "INVALID_CROSS_REFERENCE_KEY");

    let gone = api.create("Account", json!({"Name": "gone"})).await;
    api.delete(&format!("/sobjects/Account/{gone}")).await;
    let (_, body) = create_err(&api, "WorkOrder", json!({"AccountId": gone})).await;
    assert_eq!(error_code(&body), "ENTITY_IS_DELETED");

    let (_, body) = create_err(&api, "WorkOrder", json!({"AccountId": "not-an-id"})).await;
    assert_eq!(error_code(&body), "MALFORMED_ID");

    let (_, body) =
        create_err(&api, "Account", json!({"Name": "n", "CreatedDate": "2024-01-01T00:00:00Z"}))
            .await;
    assert_eq!(error_code(&body), "INVALID_FIELD_FOR_INSERT_UPDATE");

    let (_, body) = create_err(&api, "Account", json!({"Name": "n", "Nmae": "typo"})).await;
    assert_eq!(error_code(&body), "INVALID_FIELD");
}

#[tokio::test]
async fn closing_a_work_order_needs_a_resolution_note() {
    let org = start().await;
    let api = login(&org, "tech1@field.example").await;
    let (_, body) =
        create_err(&api, "WorkOrder", json!({"Subject": "s", "Status": "Closed"})).await;
    assert_eq!(error_code(&body), "FIELD_CUSTOM_VALIDATION_EXCEPTION");
    assert_eq!(body[0]["message"], "WorkOrder cannot be Closed without Resolution_Note__c");

    let wo = api.create("WorkOrder", json!({"Subject": "s"})).await;
    let (status, body) =
        api.patch(&format!("/sobjects/WorkOrder/{wo}"), json!({"Status": "Closed"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "FIELD_CUSTOM_VALIDATION_EXCEPTION");
    let (status, _) = api
        .patch(
            &format!("/sobjects/WorkOrder/{wo}"),
            json!({"Status": "Closed", "Resolution_Note__c": "Replaced seal"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, rec) = api.get(&format!("/sobjects/WorkOrder/{wo}")).await;
    assert_eq!(rec["Status"], "Closed");
    assert_eq!(rec["Priority"], "Low");
    assert!(rec["WorkOrderNumber"].as_str().unwrap().starts_with("0000"));
}

#[tokio::test]
async fn bad_input_never_gets_a_500() {
    let org = start_with(devorg::Config { max_body_bytes: 64 * 1024, ..Default::default() }).await;
    let api = admin(&org).await;
    let send_raw = |method: reqwest::Method, path: &str, body: String| {
        api.http
            .request(method, api.url(path))
            .bearer_auth(&api.token)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };

    let resp =
        send_raw(reqwest::Method::POST, "/sobjects/Account", "{\"Name\": ".into()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(error_code(&body), "JSON_PARSER_ERROR");

    let resp = send_raw(reqwest::Method::POST, "/sobjects/Account", "[1,2]".into()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    let big = format!("{{\"Name\": \"{}\"}}", "x".repeat(100 * 1024));
    let resp = send_raw(reqwest::Method::POST, "/sobjects/Account", big).await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let (status, body) = api.post("/sobjects/Widget__c", json!({"Name": "w"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));

    let (status, body) = api.patch("/sobjects/Account/zzz", json!({"Name": "w"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "MALFORMED_ID"));

    let (status, body) = api.get("/sobjects/Account/001000000000000AAA?fields=Nope").await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "INVALID_FIELD"));

    let (status, body) = api.get("/sobjects/Account/001000000000000AAA").await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));

    let (status, _) = api.get("/query?q=").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, body) = api.get("/no/such/thing").await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));

    let (status, _) = api.get("/services/data/v999.0/sobjects").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body) = api.call(reqwest::Method::PUT, "/sobjects/Account", Some(json!({}))).await;
    assert_eq!((status, error_code(&body)), (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"));
}
