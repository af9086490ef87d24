//! Org-wide defaults and parent-controlled sharing on every endpoint: query, queryAll,
//! semi-joins, parent paths, child subqueries, retrieve, Composite (with references) and
//! upsert by external id.

mod common;

use common::*;
use devorg::Sharing;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn q(api: &Api, soql: &str) -> Value {
    api.query(soql).await
}

/// A queryAll answer (its first page), failing the test unless it answers 200.
async fn q_all(api: &Api, soql: &str) -> Value {
    let query: String = url::form_urlencoded::byte_serialize(soql.as_bytes()).collect();
    let (status, answer) = api.get(&format!("/queryAll?q={query}")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

#[tokio::test]
async fn private_work_orders_are_seen_by_their_owner_and_admins_only() {
    let org = start().await;
    let t1 = login(&org, "tech1@field.example").await;
    let t2 = login(&org, "tech2@field.example").await;
    let boss = admin(&org).await;
    let wo = t1.create("WorkOrder", json!({"Subject": "Fix pump"})).await;
    let li =
        t1.create("WorkOrderLineItem", json!({"WorkOrderId": wo, "Description": "seal"})).await;
    let sa =
        t1.create("ServiceAppointment", json!({"ParentRecordId": wo, "Subject": "visit"})).await;

    // The owner and an admin see it; another technician does not, nor its children.
    assert_eq!(t1.get(&format!("/sobjects/WorkOrder/{wo}")).await.0, StatusCode::OK);
    assert_eq!(boss.get(&format!("/sobjects/WorkOrder/{wo}")).await.0, StatusCode::OK);
    let (status, body) = t2.get(&format!("/sobjects/WorkOrder/{wo}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert_eq!(t2.get(&format!("/sobjects/WorkOrderLineItem/{li}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        t2.get(&format!("/sobjects/ServiceAppointment/{sa}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(q(&t2, "SELECT Id FROM WorkOrder").await["totalSize"], 0);
    assert_eq!(q(&t2, "SELECT Id FROM WorkOrderLineItem").await["totalSize"], 0);
    assert_eq!(
        q(&t1, "SELECT Id, (SELECT Id FROM WorkOrderLineItems) FROM WorkOrder").await["records"][0]
            ["WorkOrderLineItems"]["totalSize"],
        1
    );
    assert_eq!(q(&t2, "SELECT WorkOrder.Subject FROM WorkOrderLineItem").await["totalSize"], 0);

    // Writes by someone who cannot see or edit it are refused.
    let (status, body) =
        t2.patch(&format!("/sobjects/WorkOrder/{wo}"), json!({"Subject": "mine"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "INSUFFICIENT_ACCESS_OR_READONLY");
    let (status, body) = t2.delete(&format!("/sobjects/WorkOrder/{wo}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "INSUFFICIENT_ACCESS_OR_READONLY");
    let (status, body) = t2.post("/sobjects/WorkOrderLineItem", json!({"WorkOrderId": wo})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY");

    // Handing the work order to tech2 moves it, children included.
    let tech2 = org.admin().user_id("tech2@field.example").unwrap();
    let (status, _) =
        t1.patch(&format!("/sobjects/WorkOrder/{wo}"), json!({"OwnerId": tech2})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(q(&t2, "SELECT Id FROM WorkOrderLineItem").await["totalSize"], 1);
    assert_eq!(q(&t1, "SELECT Id FROM WorkOrder").await["totalSize"], 0);
    // tech1 still owns the appointment itself.
    assert_eq!(t1.get(&format!("/sobjects/ServiceAppointment/{sa}")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn org_wide_defaults_can_be_changed() {
    let org = start().await;
    let t1 = login(&org, "tech1@field.example").await;
    let t2 = login(&org, "tech2@field.example").await;
    let acc = t1.create("Account", json!({"Name": "Shared"})).await;
    assert_eq!(q(&t2, "SELECT Id FROM Account").await["totalSize"], 1);

    org.admin().set_sharing("Account", Sharing::Read).unwrap();
    assert_eq!(t2.get(&format!("/sobjects/Account/{acc}")).await.0, StatusCode::OK);
    let (status, body) = t2.patch(&format!("/sobjects/Account/{acc}"), json!({"Name": "x"})).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "INSUFFICIENT_ACCESS_OR_READONLY")
    );

    org.admin().set_sharing("Account", Sharing::Private).unwrap();
    assert_eq!(q(&t2, "SELECT Id FROM Account").await["totalSize"], 0);
    // Contacts follow their account.
    t1.create("Contact", json!({"LastName": "Kid", "AccountId": acc})).await;
    assert_eq!(q(&t2, "SELECT Id FROM Contact").await["totalSize"], 0);
    assert_eq!(q(&t1, "SELECT Id FROM Contact").await["totalSize"], 1);
    // Semi-joins are filtered too.
    assert_eq!(
        q(&t2, "SELECT Id FROM Contact WHERE AccountId IN (SELECT Id FROM Account)").await["totalSize"],
        0
    );
}

#[tokio::test]
async fn a_contact_without_an_account_stays_with_its_owner() {
    let org = start().await;
    let t1 = login(&org, "tech1@field.example").await;
    let t2 = login(&org, "tech2@field.example").await;
    let acc = t1.create("Account", json!({"Name": "Open"})).await;
    let with_account = t1.create("Contact", json!({"LastName": "Listed", "AccountId": acc})).await;
    let alone = t1.create("Contact", json!({"LastName": "Alone"})).await;
    assert_eq!(t2.get(&format!("/sobjects/Contact/{with_account}")).await.0, StatusCode::OK);
    assert_eq!(t2.get(&format!("/sobjects/Contact/{alone}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(q(&t2, "SELECT Id FROM Contact").await["totalSize"], 1);
    assert_eq!(q(&t1, "SELECT Id FROM Contact").await["totalSize"], 2);
}

#[tokio::test]
async fn changed_defaults_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = devorg::Config { data_dir: Some(dir.path().to_path_buf()), ..Default::default() };
    let org = start_with(config.clone()).await;
    org.admin().set_sharing("Account", Sharing::Private).unwrap();
    let t1 = login(&org, "tech1@field.example").await;
    t1.create("Account", json!({"Name": "Mine"})).await;
    org.shutdown().await;

    let org = start_with(config).await;
    let t2 = login(&org, "tech2@field.example").await;
    assert_eq!(q(&t2, "SELECT Id FROM Account").await["totalSize"], 0);
}

#[tokio::test]
async fn a_private_record_stays_out_of_reach_through_query_all_composite_and_upsert() {
    let org = start().await;
    let t1 = login(&org, "tech1@field.example").await;
    let t2 = login(&org, "tech2@field.example").await;
    let wo = t1
        .create("WorkOrder", json!({"Subject": "Private job", "External_Id__c": "WO-PRIVATE"}))
        .await;

    // queryAll and a semi-join see nothing of it.
    assert_eq!(q_all(&t2, "SELECT Id FROM WorkOrder").await["totalSize"], 0);
    let semi = "SELECT Id FROM WorkOrderLineItem WHERE WorkOrderId IN (SELECT Id FROM WorkOrder WHERE Subject = 'Private job')";
    assert_eq!(q(&t2, semi).await["totalSize"], 0);

    // A composite request cannot read it, and a reference to what it could not read
    // reaches nothing either.
    let body = json!({"allOrNone": false, "compositeRequest": [
        {"method": "GET", "url": format!("/services/data/{V}/sobjects/WorkOrder/{wo}"), "referenceId": "peek"},
        {"method": "PATCH", "url": format!("/services/data/{V}/sobjects/WorkOrder/@{{peek.Id}}"),
         "referenceId": "edit", "body": {"Subject": "taken"}},
        {"method": "PATCH", "url": format!("/services/data/{V}/sobjects/WorkOrder/{wo}"),
         "referenceId": "direct", "body": {"Subject": "taken"}},
    ]});
    let (status, answer) = t2.post("/composite", body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let r = answer["compositeResponse"].as_array().unwrap();
    assert_eq!(r[0]["httpStatusCode"], 404, "{answer}");
    assert!(r[1]["httpStatusCode"].as_u64().unwrap() >= 400, "{answer}");
    assert_eq!(r[2]["httpStatusCode"], 400, "{answer}");
    assert_eq!(r[2]["body"][0]["errorCode"], "INSUFFICIENT_ACCESS_OR_READONLY", "{answer}");

    // An upsert on its external id never changes it.
    let (status, answer) = t2
        .patch("/sobjects/WorkOrder/External_Id__c/WO-PRIVATE", json!({"Subject": "taken"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(error_code(&answer), "INSUFFICIENT_ACCESS_OR_READONLY");
    let (_, own) = t1.get(&format!("/sobjects/WorkOrder/{wo}")).await;
    assert_eq!(own["Subject"], "Private job", "{answer}");
}
