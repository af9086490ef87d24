//! Composite graph over HTTP: each graph commits or rolls back as a whole, references
//! reach earlier nodes of the same graph only, a failed graph's other nodes answer
//! `PROCESSING_HALTED`, and the request limits are enforced before anything runs.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const GRAPH: &str = "/composite/graph";

fn create(object: &str, reference: &str, body: Value) -> Value {
    json!({
        "method": "POST",
        "url": format!("/services/data/{V}/sobjects/{object}/"),
        "referenceId": reference,
        "body": body,
    })
}

fn graph(id: &str, nodes: Vec<Value>) -> Value {
    json!({"graphId": id, "compositeRequest": nodes})
}

fn nodes(result: &Value) -> &Vec<Value> {
    result["graphResponse"]["compositeResponse"].as_array().unwrap()
}

#[tokio::test]
async fn each_graph_commits_or_rolls_back_as_a_whole() {
    let org = start().await;
    let api = admin(&org).await;
    let body = json!({"graphs": [
        graph("one", vec![
            create("Account", "acc1", json!({"Name": "Cloudy Consulting"})),
            create("Contact", "con1", json!({"LastName": "Cashman", "AccountId": "@{acc1.id}"})),
        ]),
        graph("two", vec![
            create("Account", "acc2", json!({"Name": "Easy Spaces"})),
            create("Contact", "con2", json!({"LastName": "Dawson", "NoSuchField__c": 1})),
            create("Contact", "con3", json!({"LastName": "Later", "AccountId": "@{acc2.id}"})),
        ]),
    ]});
    let (status, out) = api.post(GRAPH, body).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let graphs = out["graphs"].as_array().unwrap();
    assert_eq!(graphs.len(), 2);

    // The first graph succeeded: its contact points at its account.
    assert_eq!(graphs[0]["graphId"], "one");
    assert_eq!(graphs[0]["isSuccessful"], true);
    let first = nodes(&graphs[0]);
    assert_eq!(first[0]["httpStatusCode"], 201);
    assert_eq!(first[0]["referenceId"], "acc1");
    let account = first[0]["body"]["id"].as_str().unwrap();
    let contact = first[1]["body"]["id"].as_str().unwrap();
    let found = api.query(&format!("SELECT AccountId FROM Contact WHERE Id = '{contact}'")).await;
    assert_eq!(found["records"][0]["AccountId"], account);

    // The second failed on its second node; the others halted and nothing of it stayed.
    assert_eq!(graphs[1]["graphId"], "two");
    assert_eq!(graphs[1]["isSuccessful"], false);
    let second = nodes(&graphs[1]);
    assert_eq!(second.len(), 3);
    assert_eq!(second[0]["httpStatusCode"], 400);
    assert_eq!(error_code(&second[0]["body"]), "PROCESSING_HALTED");
    assert_eq!(error_code(&second[1]["body"]), "INVALID_FIELD");
    assert_eq!(error_code(&second[2]["body"]), "PROCESSING_HALTED");
    assert_eq!(second[2]["referenceId"], "con3");
    let left = api.query("SELECT Id FROM Account WHERE Name = 'Easy Spaces'").await;
    assert_eq!(left["totalSize"], 0);
    org.shutdown().await;
}

#[tokio::test]
async fn references_stay_inside_their_graph_and_nodes_are_record_operations() {
    let org = start().await;
    let api = admin(&org).await;
    let query = json!({
        "method": "GET",
        "url": format!("/services/data/{V}/query?q=SELECT+Id+FROM+Account"),
        "referenceId": "q",
    });
    let body = json!({"graphs": [
        graph("a", vec![create("Account", "acc", json!({"Name": "Alpha"}))]),
        graph("b", vec![create("Contact", "con", json!({"LastName": "X", "AccountId": "@{acc.id}"}))]),
        graph("c", vec![query]),
    ]});
    let (status, out) = api.post(GRAPH, body).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let graphs = out["graphs"].as_array().unwrap();
    assert_eq!(graphs[0]["isSuccessful"], true);
    assert_eq!(graphs[1]["isSuccessful"], false);
    assert_eq!(error_code(&nodes(&graphs[1])[0]["body"]), "PROCESSING_HALTED");
    assert_eq!(graphs[2]["isSuccessful"], false);
    assert_eq!(nodes(&graphs[2])[0]["httpStatusCode"], 400);
    org.shutdown().await;
}

#[tokio::test]
async fn limits_are_checked_before_any_graph_runs() {
    let org = start().await;
    let api = admin(&org).await;
    let many: Vec<Value> = (0..76)
        .map(|i| graph(&format!("g{i}"), vec![create("Account", "a", json!({"Name": "Too many"}))]))
        .collect();
    let (status, out) = api.post(GRAPH, json!({"graphs": many})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&out), "LIMIT_EXCEEDED");

    let big: Vec<Value> =
        (0..501).map(|i| create("Account", &format!("a{i}"), json!({"Name": "Too big"}))).collect();
    let (status, out) = api.post(GRAPH, json!({"graphs": [graph("big", big)]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&out), "LIMIT_EXCEEDED");
    assert_eq!(api.query("SELECT Id FROM Account WHERE Name LIKE 'Too %'").await["totalSize"], 0);

    let (status, out) = api.post(GRAPH, json!({"graph": []})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&out), "JSON_PARSER_ERROR");
    org.shutdown().await;
}
