//! Discovery, describe and single-record CRUD.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn versions_need_no_token_and_list_the_latest() {
    let org = start().await;
    let resp = reqwest::get(format!("{}/services/data/", org.url())).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get("Sforce-Limit-Info").is_none());
    let body: serde_json::Value = resp.json().await.unwrap();
    let last = body.as_array().unwrap().last().unwrap();
    assert_eq!(last["version"], "62.0");
    assert_eq!(last["url"], "/services/data/v62.0");
    assert_eq!(last["label"], "Winter '25");
}

#[tokio::test]
async fn describe_lists_fields_and_child_relationships() {
    let org = start().await;
    let api = admin(&org).await;
    let (status, global) = api.get("/sobjects/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(global["maxBatchSize"], 200);
    let wo =
        global["sobjects"].as_array().unwrap().iter().find(|o| o["name"] == "WorkOrder").unwrap();
    assert_eq!(wo["keyPrefix"], "0WO");

    let (status, d) = api.get("/sobjects/WorkOrder/describe").await;
    assert_eq!(status, StatusCode::OK);
    let field =
        |n: &str| d["fields"].as_array().unwrap().iter().find(|f| f["name"] == n).unwrap().clone();
    let st = field("Status");
    assert_eq!(st["type"], "picklist");
    assert_eq!(st["restrictedPicklist"], true);
    assert_eq!(st["picklistValues"].as_array().unwrap().len(), 6);
    let acc = field("AccountId");
    assert_eq!(acc["referenceTo"], json!(["Account"]));
    assert_eq!(acc["relationshipName"], "Account");
    assert_eq!(field("External_Id__c")["externalId"], true);
    assert_eq!(field("SystemModstamp")["createable"], false);
    let kids = d["childRelationships"].as_array().unwrap();
    assert!(kids.iter().any(|c| c["relationshipName"] == "WorkOrderLineItems"
        && c["childSObject"] == "WorkOrderLineItem"
        && c["cascadeDelete"] == true));

    let (status, body) = api.get("/sobjects/Nope__c/describe").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "NOT_FOUND");
}

#[tokio::test]
async fn create_retrieve_update_delete() {
    let org = start().await;
    let api = login(&org, "tech1@field.example").await;
    let id = api.create("Account", json!({"Name": "Acme", "NumberOfEmployees": 12})).await;
    assert!(id.starts_with("001") && id.len() == 18);

    let resp = api.send(reqwest::Method::GET, &format!("/sobjects/Account/{id}"), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get("ETag").is_some());
    assert!(
        resp.headers()
            .get("Sforce-Limit-Info")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("api-usage=")
    );
    let rec: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(rec["attributes"]["type"], "Account");
    assert_eq!(rec["attributes"]["url"], format!("/services/data/v62.0/sobjects/Account/{id}"));
    assert_eq!(rec["Name"], "Acme");
    assert_eq!(rec["NumberOfEmployees"], 12);
    assert_eq!(rec["IsDeleted"], false);
    assert_eq!(rec["OwnerId"], org.admin().user_id("tech1@field.example").unwrap());
    assert!(rec["SystemModstamp"].as_str().unwrap().ends_with("+0000"));

    let (status, rec) = api.get(&format!("/sobjects/Account/{id}?fields=Name,Id")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rec.as_object().unwrap().len(), 3);

    let (status, _) =
        api.patch(&format!("/sobjects/Account/{id}"), json!({"Name": "Acme 2"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, rec) = api.get(&format!("/sobjects/Account/{id}")).await;
    assert_eq!(rec["Name"], "Acme 2");

    let (status, _) = api.delete(&format!("/sobjects/Account/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = api.get(&format!("/sobjects/Account/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "ENTITY_IS_DELETED");
    let (status, body) = api.patch(&format!("/sobjects/Account/{id}"), json!({"Name": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "ENTITY_IS_DELETED");
}

#[tokio::test]
async fn trailing_slashes_are_accepted() {
    let org = start().await;
    let api = admin(&org).await;
    let (status, body) = api.post("/sobjects/Account/", json!({"Name": "Slash"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn the_org_and_users_are_queryable_like_the_salesforce_cli_expects() {
    let org = start().await;
    let api = login(&org, "tech1@field.example").await;
    let (_, me) = api.get("/services/oauth2/userinfo").await;
    let user_id = me["user_id"].as_str().unwrap();
    let (status, user) = api.get(&format!("/sobjects/User/{user_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["Username"], "tech1@field.example");
    assert!(user.get("_PasswordHash").is_none());
    let (status, body) = api
        .get("/query?q=SELECT+Name,+InstanceName,+IsSandbox,+TrialExpirationDate,+NamespacePrefix+FROM+Organization")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["records"][0]["attributes"]["url"],
        format!("/services/data/v62.0/sobjects/Organization/{}", org.org_id())
    );
    assert_eq!(body["records"][0]["IsSandbox"], false);
}
