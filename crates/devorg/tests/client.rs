//! The project's own Salesforce client against devorg: every resource it uses must
//! decode, page and fail exactly as it does against a real org.

mod common;

use common::*;
use salesforce::wire::Record;
use salesforce::{Client, ClientConfig, OAuthApp};
use serde_json::{Value, json};

fn record(v: Value) -> Record {
    match v {
        Value::Object(m) => m,
        _ => Record::new(),
    }
}

async fn client_for(org: &devorg::RunningOrg, username: &str, password: &str) -> Client {
    let app = OAuthApp::new(
        org.url(),
        devorg::DEMO_CLIENT_ID,
        Some(devorg::DEMO_CLIENT_SECRET.to_string()),
    );
    let session = app.login_password(username, password).await.expect("login");
    Client::new(session, ClientConfig::default()).unwrap()
}

#[tokio::test]
async fn org_resources_decode() {
    let org = start().await;
    let c = client_for(&org, "admin@devorg.example", devorg::DEMO_ADMIN_PASSWORD).await;
    assert!(c.versions().await.unwrap().iter().any(|v| v.version == "62.0"));
    c.resources().await.unwrap();
    let global = c.describe_global().await.unwrap();
    assert!(global.sobjects.iter().any(|o| o.name == "ServiceAppointment"));
    let d = c.describe("WorkOrder").await.unwrap();
    assert!(d.fields.iter().any(|f| f.name == "Resolution_Note__c"));
    c.limits().await.unwrap();
    let me = c.userinfo().await.unwrap();
    assert_eq!(me.preferred_username, "admin@devorg.example");
    assert!(c.api_usage().is_some());
}

#[tokio::test]
async fn records_collections_and_queries_round_trip() {
    let org = start().await;
    let c = client_for(&org, "tech1@field.example", devorg::DEMO_TECH_PASSWORD).await;

    let acc = c.create("Account", &record(json!({"Name": "Client Co"}))).await.unwrap();
    let acc_id = acc.id.clone().unwrap();
    c.update("Account", &acc_id, &record(json!({"Phone": "555"}))).await.unwrap();
    let rec = c.retrieve("Account", &acc_id, &["Name", "Phone"]).await.unwrap();
    assert_eq!(rec["Phone"], "555");

    let up = c
        .upsert(
            "WorkOrder",
            "External_Id__c",
            "WO-1",
            &record(json!({"Subject": "a", "AccountId": acc_id})),
        )
        .await
        .unwrap();
    assert_eq!(up.created, Some(true));
    let up = c
        .upsert("WorkOrder", "External_Id__c", "WO-1", &record(json!({"Subject": "b"})))
        .await
        .unwrap();
    assert_eq!(up.created, Some(false));

    let rows: Vec<Record> =
        (0..200).map(|i| record(json!({"Subject": format!("S{i:03}")}))).collect();
    let results = c.create_many("WorkOrder", &rows, true).await.unwrap();
    assert!(results.iter().all(|r| r.success));
    let ids: Vec<String> = results.iter().filter_map(|r| r.id.clone()).collect();
    let fetched = c.retrieve_many("WorkOrder", &ids[..3], &["Subject"]).await.unwrap();
    assert_eq!(fetched[2].as_ref().unwrap()["Subject"], "S002");

    let mut pager = c.query_pages("SELECT Id, Subject FROM WorkOrder ORDER BY Subject", 200);
    let mut seen = 0;
    while let Some(page) = pager.next_page().await.unwrap() {
        seen += page.records.len();
    }
    assert_eq!(seen, 201);
    assert_eq!(c.count("SELECT COUNT() FROM WorkOrder").await.unwrap(), 201);

    let deleted = c.delete_many(&ids[..10], false).await.unwrap();
    assert!(deleted.iter().all(|r| r.success));
    let all = c.query_all("SELECT Id FROM WorkOrder WHERE IsDeleted = true").await.unwrap();
    assert_eq!(all.total_size, 10);

    // Errors carry Salesforce's codes.
    let err = c.create("WorkOrder", &record(json!({"Status": "Nope"}))).await.unwrap_err();
    assert_eq!(err.error_code(), Some("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"));
    let err = c.query("SELECT Id FROM Nowhere").await.unwrap_err();
    assert_eq!(err.error_code(), Some("INVALID_TYPE"));
}
