//! Composite Batch over HTTP: independent subrequests, `haltOnError`, and sharing applied
//! to each subrequest as to the same call made alone.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn statuses(out: &Value) -> Vec<u64> {
    out["results"].as_array().unwrap().iter().map(|r| r["statusCode"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn subrequests_run_in_order_and_answer_each_their_own() {
    let org = start().await;
    let api = login(&org, "tech1@field.example").await;
    let acme = api.create("Account", account("Acme")).await;
    let body = json!({"batchRequests": [
        {"method": "PATCH", "url": format!("{V}/sobjects/Account/{acme}"),
         "richInput": {"Name": "Acme Renamed"}},
        {"method": "GET", "url": format!("{V}/sobjects/Account/{acme}?fields=Name")},
        {"method": "POST", "url": format!("{V}/sobjects/Contact"),
         "richInput": {"LastName": "Ng", "AccountId": acme}},
        {"method": "GET", "url": format!("{V}/query?q=SELECT+Name+FROM+Account")}
    ]});
    let (status, out) = api.post("/composite/batch", body).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["hasErrors"], false);
    assert_eq!(statuses(&out), [204, 200, 201, 200]);
    assert_eq!(out["results"][0]["result"], Value::Null);
    assert_eq!(out["results"][1]["result"]["Name"], "Acme Renamed");
    assert_eq!(out["results"][1]["result"]["attributes"]["type"], "Account");
    assert!(out["results"][2]["result"]["id"].as_str().unwrap().starts_with("003"));
    assert_eq!(out["results"][3]["result"]["totalSize"], 1);
}

#[tokio::test]
async fn a_failure_undoes_only_itself_unless_the_batch_halts() {
    let org = start().await;
    let api = login(&org, "tech1@field.example").await;
    let requests = json!([
        {"method": "POST", "url": format!("{V}/sobjects/Account"), "richInput": {"Name": "Kept"}},
        {"method": "POST", "url": format!("{V}/sobjects/Contact"),
         "richInput": {"LastName": "Ode", "Email": "not an address"}},
        {"method": "POST", "url": format!("{V}/sobjects/Account"), "richInput": {"Name": "After"}}
    ]);

    let (status, out) = api.post("/composite/batch", json!({"batchRequests": requests})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(out["hasErrors"], true);
    assert_eq!(statuses(&out), [201, 400, 201]);
    assert_eq!(out["results"][1]["result"][0]["errorCode"], "INVALID_EMAIL_ADDRESS");

    let (status, out) =
        api.post("/composite/batch", json!({"batchRequests": requests, "haltOnError": true})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(statuses(&out), [201, 400, 412]);
    assert_eq!(out["results"][2]["result"][0]["errorCode"], "BATCH_PROCESSING_HALTED");

    // Two "Kept" accounts and one "After": the halted subrequest never ran.
    let (_, q) = api.get("/query?q=SELECT+Name+FROM+Account+ORDER+BY+Name").await;
    let names: Vec<&str> =
        q["records"].as_array().unwrap().iter().map(|r| r["Name"].as_str().unwrap()).collect();
    assert_eq!(names, ["After", "Kept", "Kept"]);
}

#[tokio::test]
async fn a_technician_cannot_batch_read_another_technicians_private_record() {
    let org = start().await;
    let t1 = login(&org, "tech1@field.example").await;
    let t2 = login(&org, "tech2@field.example").await;
    let wo = t1.create("WorkOrder", json!({"Subject": "Fix pump"})).await;
    let body = json!({"batchRequests": [
        {"method": "GET", "url": format!("{V}/sobjects/WorkOrder/{wo}")},
        {"method": "PATCH", "url": format!("{V}/sobjects/WorkOrder/{wo}"),
         "richInput": {"Subject": "Taken over"}},
        {"method": "GET", "url": format!("{V}/query?q=SELECT+Id+FROM+WorkOrder")}
    ]});

    let (status, out) = t2.post("/composite/batch", body.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(out["hasErrors"], true);
    assert_eq!(statuses(&out), [404, 400, 200]);
    assert_eq!(out["results"][0]["result"][0]["errorCode"], "NOT_FOUND");
    assert_eq!(out["results"][1]["result"][0]["errorCode"], "INSUFFICIENT_ACCESS_OR_READONLY");
    assert_eq!(out["results"][2]["result"]["totalSize"], 0);

    // The owner reads it through the same batch, unchanged.
    let (_, own) =
        t1.post("/composite/batch", json!({"batchRequests": [body["batchRequests"][0]]})).await;
    assert_eq!(statuses(&own), [200]);
    assert_eq!(own["results"][0]["result"]["Subject"], "Fix pump");
}

#[tokio::test]
async fn an_unreadable_or_oversized_batch_is_refused_whole() {
    let org = start().await;
    let api = login(&org, "tech1@field.example").await;
    let body = json!({"batchRequests": [
        {"method": "POST", "url": format!("{V}/sobjects/Account"), "richInput": {"Name": "No"}},
        {"url": format!("{V}/sobjects/Account")}
    ]});
    let (status, out) = api.post("/composite/batch", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&out), "JSON_PARSER_ERROR");

    let many: Vec<Value> = (0..26)
        .map(|_| json!({"method": "GET", "url": format!("{V}/sobjects/Account/describe")}))
        .collect();
    let (status, out) = api.post("/composite/batch", json!({"batchRequests": many})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&out), "LIMIT_EXCEEDED");

    let (_, q) = api.get("/query?q=SELECT+Id+FROM+Account").await;
    assert_eq!(q["totalSize"], 0);
}
