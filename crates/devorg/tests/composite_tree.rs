//! sObject Tree over HTTP: nested parents and children created level by level, all or
//! nothing, with errors named by reference id.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn count(api: &Api, soql: &str) -> u64 {
    api.query(soql).await["totalSize"].as_u64().unwrap()
}

fn id_of<'a>(body: &'a Value, reference: &str) -> &'a str {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["referenceId"] == reference)
        .and_then(|r| r["id"].as_str())
        .unwrap_or_else(|| panic!("no id for {reference} in {body}"))
}

#[tokio::test]
async fn a_tree_creates_parents_then_children_linked_to_them() {
    let org = start().await;
    let api = login(&org, "tech1@field.example").await;
    let body = json!({"records": [
        {
            "attributes": {"type": "Account", "referenceId": "acme"},
            "Name": "Acme Pumps",
            "Contacts": {"records": [
                {"attributes": {"type": "Contact", "referenceId": "ann"}, "LastName": "Ng",
                 "Email": "ann@acme.example"},
                {"attributes": {"type": "Contact", "referenceId": "bob"}, "LastName": "Ode"}
            ]}
        },
        {"attributes": {"type": "Account", "referenceId": "globex"}, "Name": "Globex"}
    ]});
    let (status, out) = api.post("/composite/tree/Account", body).await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    assert_eq!(out["hasErrors"], false);

    // Roots across all trees first, then the second level.
    let order: Vec<&str> = out["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["referenceId"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["acme", "globex", "ann", "bob"]);
    let acme = id_of(&out, "acme");
    assert!(acme.starts_with("001"), "{acme}");
    let ann = id_of(&out, "ann");
    assert!(ann.starts_with("003"), "{ann}");

    let (status, contact) = api.get(&format!("/sobjects/Contact/{ann}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(contact["AccountId"], acme);
    assert_eq!(contact["Email"], "ann@acme.example");
    let soql = format!("SELECT Id FROM Contact WHERE AccountId = '{acme}'");
    assert_eq!(count(&api, &soql).await, 2);
}

#[tokio::test]
async fn a_failing_record_keeps_nothing_and_is_named_by_reference() {
    let org = start().await;
    let api = login(&org, "tech1@field.example").await;
    let body = json!({"records": [{
        "attributes": {"type": "Account", "referenceId": "acme"},
        "Name": "Acme Rollback",
        "Contacts": {"records": [
            {"attributes": {"type": "Contact", "referenceId": "good"}, "LastName": "Ng"},
            {"attributes": {"type": "Contact", "referenceId": "bad"}, "LastName": "Ode",
             "Email": "not an address"}
        ]}
    }]});
    let (status, out) = api.post("/composite/tree/Account", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert_eq!(out["hasErrors"], true);
    let results = out["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{out}");
    assert_eq!(results[0]["referenceId"], "bad");
    assert_eq!(results[0]["errors"][0]["statusCode"], "INVALID_EMAIL_ADDRESS");
    assert_eq!(results[0]["errors"][0]["fields"], json!(["Email"]));
    assert!(results[0].get("id").is_none());

    // The account and the valid contact created before the failure are gone too.
    assert_eq!(count(&api, "SELECT Id FROM Account WHERE Name = 'Acme Rollback'").await, 0);
    assert_eq!(count(&api, "SELECT Id FROM Contact WHERE LastName = 'Ng'").await, 0);
}

#[tokio::test]
async fn repeated_reference_ids_and_unknown_relationships_are_refused_before_any_write() {
    let org = start().await;
    let api = login(&org, "tech1@field.example").await;
    let body = json!({"records": [
        {"attributes": {"type": "Account", "referenceId": "same"}, "Name": "One"},
        {"attributes": {"type": "Account", "referenceId": "same"}, "Name": "Two"},
        {"attributes": {"type": "Account", "referenceId": "kids"}, "Name": "Three",
         "Children": {"records": [{"attributes": {"type": "Contact", "referenceId": "c1"},
                                   "LastName": "X"}]}}
    ]});
    let (status, out) = api.post("/composite/tree/Account", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    let refs: Vec<&str> = out["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["referenceId"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["kids", "same", "same"], "{out}");
    assert!(
        out["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["errors"][0]["statusCode"] == "INVALID_INPUT")
    );
    assert_eq!(count(&api, "SELECT Id FROM Account").await, 0);
}

#[tokio::test]
async fn a_root_of_another_type_and_too_many_records_are_refused() {
    let org = start().await;
    let api = login(&org, "tech1@field.example").await;
    let body = json!({"records": [
        {"attributes": {"type": "Contact", "referenceId": "c1"}, "LastName": "X"}
    ]});
    let (status, out) = api.post("/composite/tree/Account", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(out["results"][0]["referenceId"], "c1");
    assert_eq!(out["results"][0]["errors"][0]["statusCode"], "INVALID_TYPE");

    let records: Vec<Value> = (0..201)
        .map(|i| {
            json!({"attributes": {"type": "Account", "referenceId": format!("a{i}")},
                        "Name": format!("Account {i}")})
        })
        .collect();
    let (status, out) = api.post("/composite/tree/Account", json!({"records": records})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&out), "LIMIT_EXCEEDED");
    assert_eq!(count(&api, "SELECT Id FROM Account").await, 0);

    let (status, _) = api.post("/composite/tree/NoSuchObject", json!({"records": []})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
