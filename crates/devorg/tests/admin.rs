//! Server-side admin handles, persistence across restarts, the recycle bin.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn records_users_and_tokens_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = devorg::Config { data_dir: Some(dir.path().to_path_buf()), ..Default::default() };
    let org = start_with(config.clone()).await;
    let org_id = org.org_id().to_string();
    let api = login(&org, "tech1@field.example").await;
    let id = api.create("Account", json!({"Name": "Durable"})).await;
    org.shutdown().await;

    let org = start_with(config).await;
    assert_eq!(org.org_id(), org_id);
    let api = Api { base: org.url().to_string(), ..api };
    let (status, rec) = api.get(&format!("/sobjects/Account/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rec["Name"], "Durable");
}

#[tokio::test]
async fn admin_edits_as_a_user_and_stamps_from_the_clock() {
    let org = start().await;
    let t = chrono::DateTime::parse_from_rfc3339("2024-05-08T21:20:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    org.clock().set(t);
    let admin = org.admin();
    let wo = admin
        .create("tech2@field.example", "WorkOrder", json!({"Subject": "server side"}))
        .unwrap();
    let rec = admin.retrieve("tech2@field.example", "WorkOrder", &wo).unwrap();
    assert_eq!(rec["SystemModstamp"], "2024-05-08T21:20:00.000+0000");
    assert_eq!(rec["OwnerId"], admin.user_id("tech2@field.example").unwrap());
    let err = admin.retrieve("tech1@field.example", "WorkOrder", &wo).unwrap_err();
    assert_eq!(err.code, "NOT_FOUND");
    let err =
        admin.update("tech1@field.example", "WorkOrder", &wo, json!({"Subject": "x"})).unwrap_err();
    assert_eq!(err.code, "INSUFFICIENT_ACCESS_OR_READONLY");

    org.clock().advance(chrono::Duration::minutes(1));
    admin.update("tech2@field.example", "WorkOrder", &wo, json!({"Subject": "y"})).unwrap();
    let rec = admin.retrieve("admin@devorg.example", "WorkOrder", &wo).unwrap();
    assert_eq!(rec["SystemModstamp"], "2024-05-08T21:21:00.000+0000");
    assert_eq!(rec["CreatedDate"], "2024-05-08T21:20:00.000+0000");
}

#[tokio::test]
async fn deleted_rows_stay_until_the_recycle_bin_is_purged() {
    let org = start().await;
    let api = admin(&org).await;
    let wo = api.create("WorkOrder", json!({"Subject": "to go"})).await;
    let li = api.create("WorkOrderLineItem", json!({"WorkOrderId": wo})).await;
    api.delete(&format!("/sobjects/WorkOrder/{wo}")).await;
    // The line item went with its work order.
    let (status, body) = api.get(&format!("/sobjects/WorkOrderLineItem/{li}")).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "ENTITY_IS_DELETED"));
    let (_, q) = api.get("/queryAll?q=SELECT+Id+FROM+WorkOrderLineItem+WHERE+IsDeleted=true").await;
    assert_eq!(q["totalSize"], 1);

    assert_eq!(org.admin().purge_expired().unwrap(), 0);
    org.clock().advance(chrono::Duration::days(16));
    assert_eq!(org.admin().purge_expired().unwrap(), 2);
    let api = admin(&org).await;
    let (status, body) = api.get(&format!("/sobjects/WorkOrder/{wo}")).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
}
