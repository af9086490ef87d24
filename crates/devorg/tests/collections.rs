//! sObject Collections and Composite.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn collections_create_reports_per_record_results_in_order() {
    let org = start().await;
    let api = admin(&org).await;
    let (status, body) = api
        .post(
            "/composite/sobjects",
            json!({"allOrNone": false, "records": [
                {"attributes": {"type": "Account"}, "Name": "One"},
                {"attributes": {"type": "Account"}},
                {"attributes": {"type": "Contact"}, "LastName": "Two"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body[0]["success"], true);
    assert!(body[0]["id"].as_str().unwrap().starts_with("001"));
    assert_eq!(body[1]["success"], false);
    assert_eq!(body[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(body[1]["errors"][0]["fields"], json!(["Name"]));
    assert!(body[2]["id"].as_str().unwrap().starts_with("003"));
}

#[tokio::test]
async fn all_or_none_rolls_everything_back() {
    let org = start().await;
    let api = admin(&org).await;
    let (_, body) = api
        .post(
            "/composite/sobjects",
            json!({"allOrNone": true, "records": [
                {"attributes": {"type": "Account"}, "Name": "Kept?"},
                {"attributes": {"type": "Account"}, "Nope__c": 1}
            ]}),
        )
        .await;
    assert_eq!(body[0]["success"], false);
    assert_eq!(body[0]["errors"][0]["statusCode"], "ALL_OR_NONE_OPERATION_ROLLED_BACK");
    assert_eq!(body[1]["errors"][0]["statusCode"], "INVALID_FIELD");
    let (_, q) = api.get("/query?q=SELECT+Id+FROM+Account").await;
    assert_eq!(q["totalSize"], 0);
}

#[tokio::test]
async fn collections_update_upsert_retrieve_delete() {
    let org = start().await;
    let api = admin(&org).await;
    let a = api.create("Account", json!({"Name": "A", "External_Id__c": "EXT-1"})).await;
    let b = api.create("Account", json!({"Name": "B"})).await;

    let (_, body) = api
        .patch(
            "/composite/sobjects",
            json!({"records": [
                {"attributes": {"type": "Account"}, "Id": a, "Name": "A2"},
                {"attributes": {"type": "Account"}, "Id": b, "Type": "Partner"}
            ]}),
        )
        .await;
    assert_eq!(body[0]["success"], true);
    assert_eq!(body[1]["id"], b);

    let (_, body) = api
        .patch(
            "/composite/sobjects/Account/External_Id__c",
            json!({"records": [
                {"attributes": {"type": "Account"}, "External_Id__c": "EXT-1", "Name": "A3"},
                {"attributes": {"type": "Account"}, "External_Id__c": "EXT-2", "Name": "C"}
            ]}),
        )
        .await;
    assert_eq!(body[0]["created"], false);
    assert_eq!(body[0]["id"], a);
    assert_eq!(body[1]["created"], true);

    let (_, body) = api
        .post("/composite/sobjects/Account", json!({"ids": [a, b], "fields": ["Name", "Type"]}))
        .await;
    assert_eq!(body[0]["Name"], "A3");
    assert_eq!(body[1]["Type"], "Partner");

    let (_, body) =
        api.delete(&format!("/composite/sobjects?ids={a},{b},001000000000000AAA")).await;
    assert_eq!(body[0]["success"], true);
    assert_eq!(body[1]["success"], true);
    assert_eq!(body[2]["success"], false);
}

#[tokio::test]
async fn more_than_200_records_is_refused() {
    let org = start().await;
    let api = admin(&org).await;
    let records: Vec<Value> = (0..201)
        .map(|i| json!({"attributes": {"type": "Account"}, "Name": format!("{i}")}))
        .collect();
    let (status, body) = api.post("/composite/sobjects", json!({"records": records})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "EXCEEDED_ID_LIMIT");
}

#[tokio::test]
async fn composite_chains_references_and_rolls_back() {
    let org = start().await;
    let api = admin(&org).await;
    let (status, body) = api
        .post(
            "/composite",
            json!({"allOrNone": true, "compositeRequest": [
                {"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "acc", "body": {"Name": "Parent"}},
                {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "con", "body": {"LastName": "Kid", "AccountId": "@{acc.id}"}},
                {"method": "GET", "url": "/services/data/v62.0/sobjects/Account/@{acc.id}?fields=Name", "referenceId": "get"},
                {"method": "GET", "url": "/services/data/v62.0/query?q=SELECT+Id+FROM+Contact+WHERE+AccountId='@{acc.id}'", "referenceId": "q"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let r = body["compositeResponse"].as_array().unwrap();
    assert_eq!(r[0]["httpStatusCode"], 201);
    assert!(
        r[0]["httpHeaders"]["Location"]
            .as_str()
            .unwrap()
            .starts_with("/services/data/v62.0/sobjects/Account/001")
    );
    assert_eq!(r[1]["httpStatusCode"], 201, "{}", r[1]);
    assert_eq!(r[2]["body"]["Name"], "Parent");
    assert_eq!(r[3]["body"]["totalSize"], 1);

    let (_, body) = api
        .post(
            "/composite",
            json!({"allOrNone": true, "compositeRequest": [
                {"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "a", "body": {"Name": "Doomed"}},
                {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "c", "body": {"FirstName": "NoLast"}}
            ]}),
        )
        .await;
    let r = body["compositeResponse"].as_array().unwrap();
    assert_eq!(r[0]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert_eq!(r[1]["body"][0]["errorCode"], "REQUIRED_FIELD_MISSING");
    let (_, q) = api.get("/query?q=SELECT+Id+FROM+Account+WHERE+Name='Doomed'").await;
    assert_eq!(q["totalSize"], 0);
}
