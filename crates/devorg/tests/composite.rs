//! Composite over HTTP for reads: replication windows and queries as subrequests answer
//! exactly as their direct resources do, the whole call counts as one API request, at most
//! five query operations are taken, and a read-only call is never held as a write.

mod common;

use std::time::Duration as StdDuration;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A composite request of GET subrequests, `read0`, `read1`, ... in order.
fn reads(urls: &[String]) -> Value {
    let requests: Vec<Value> = urls
        .iter()
        .enumerate()
        .map(|(i, url)| json!({"method": "GET", "url": url, "referenceId": format!("read{i}")}))
        .collect();
    json!({"allOrNone": false, "collateSubrequests": false, "compositeRequest": requests})
}

/// The `api-usage` count a response reports.
fn usage(resp: &reqwest::Response) -> u64 {
    let text = resp.headers()["Sforce-Limit-Info"].to_str().unwrap();
    let used = text.strip_prefix("api-usage=").unwrap().split('/').next().unwrap();
    used.parse().unwrap()
}

const WINDOW: &str = "start=2026-05-08T10%3A00%3A00Z&end=2026-05-08T10%3A20%3A00Z";

#[tokio::test]
async fn replication_and_query_subrequests_answer_as_the_direct_resources() {
    let org = pinned_org("2026-05-08T10:00:00Z").await;
    let api = admin(&org).await;
    org.clock().set(at("2026-05-08T10:05:00Z"));
    let records = (0..250).map(|i| json!({"Name": format!("Batch {i}")})).collect();
    let ids = org.admin().create_many("admin@devorg.example", "Account", records).unwrap();
    org.admin().delete("admin@devorg.example", "Account", &ids[3]).unwrap();
    org.clock().set(at("2026-05-08T10:20:30Z"));

    let updated = format!("/services/data/{V}/sobjects/Account/updated/?{WINDOW}");
    let deleted = format!("/services/data/{V}/sobjects/Account/deleted/?{WINDOW}");
    let query = format!("/services/data/{V}/queryAll/?q=SELECT+Id+FROM+Account+ORDER+BY+Id");
    let mut body = reads(&[updated.clone(), deleted.clone(), query]);
    body["compositeRequest"][2]["httpHeaders"] = json!({"Sforce-Query-Options": "batchSize=200"});

    let before = usage(&api.send(Method::GET, "/limits", None).await);
    let resp = api.send(Method::POST, "/composite", Some(body)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(usage(&resp), before + 1, "the whole composite is one API request");
    let answer: Value = resp.json().await.unwrap();
    let r = answer["compositeResponse"].as_array().unwrap();
    assert_eq!(r.len(), 3);
    assert!(r.iter().all(|s| s["httpStatusCode"] == 200), "{answer}");
    assert_eq!(r[0]["body"], api.get(&updated).await.1);
    assert_eq!(r[0]["body"]["ids"].as_array().unwrap().len(), 249);
    assert_eq!(r[0]["body"]["latestDateCovered"], "2026-05-08T10:20:00.000+0000");
    assert_eq!(r[1]["body"], api.get(&deleted).await.1);
    assert_eq!(r[1]["body"]["deletedRecords"][0]["id"], ids[3].as_str());

    // The batch size header is honoured, and the locator pages on outside the composite.
    let page = &r[2]["body"];
    assert_eq!(page["totalSize"], 250);
    assert_eq!(page["records"].as_array().unwrap().len(), 200);
    let next = page["nextRecordsUrl"].as_str().unwrap();
    let (_, rest) = api.get(next).await;
    assert_eq!(rest["records"].as_array().unwrap().len(), 50);
    assert_eq!(rest["done"], true);

    // Errors come back per subrequest, as the direct resources give them.
    let too_old = format!(
        "/services/data/{V}/sobjects/Account/deleted/?start=2026-03-01T00%3A00%3A00Z&end=2026-05-08T10%3A20%3A00Z"
    );
    let unknown = format!("/services/data/{V}/sobjects/Nope/updated/?{WINDOW}");
    let (status, answer) = api.post("/composite", reads(&[too_old.clone(), unknown])).await;
    assert_eq!(status, StatusCode::OK);
    let r = &answer["compositeResponse"];
    assert_eq!(r[0]["httpStatusCode"], 400);
    assert_eq!(r[0]["body"], api.get(&too_old).await.1);
    assert_eq!(error_code(&r[0]["body"]), "INVALID_REPLICATION_DATE");
    assert_eq!(r[1]["httpStatusCode"], 404);
    assert_eq!(error_code(&r[1]["body"]), "NOT_FOUND");
}

#[tokio::test]
async fn more_than_five_query_operations_are_refused() {
    let org = start().await;
    let api = admin(&org).await;
    let query = |i: usize| format!("/services/data/{V}/query/?q=SELECT+Id+FROM+Account+LIMIT+{i}");
    let other = format!("/services/data/{V}/sobjects/Account/describe");

    // Five queries and twenty other reads: the most one call takes.
    let mut urls: Vec<String> = (1..=5).map(query).collect();
    urls.extend((0..20).map(|_| other.clone()));
    let (status, answer) = api.post("/composite", reads(&urls)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["compositeResponse"].as_array().unwrap().len(), 25);

    for sixth in [query(6), format!("/services/data/{V}/queryAll/?q=SELECT+Id+FROM+Account")] {
        let mut urls: Vec<String> = (1..=5).map(query).collect();
        urls.push(sixth);
        let (status, answer) = api.post("/composite", reads(&urls)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(error_code(&answer), "LIMIT_EXCEEDED");
    }

    // sObject Collections count against the same five.
    let mut body = reads(&(1..=5).map(query).collect::<Vec<_>>());
    body["compositeRequest"].as_array_mut().unwrap().push(json!({
        "method": "POST", "url": format!("/services/data/{V}/composite/sobjects"),
        "referenceId": "create", "body": {"records": [{"attributes": {"type": "Account"}, "Name": "x"}]}
    }));
    let (status, answer) = api.post("/composite", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(error_code(&answer), "LIMIT_EXCEEDED");
}

#[tokio::test]
async fn a_read_only_composite_is_not_held_as_a_write() {
    let org = pinned_org("2026-05-08T10:00:00Z").await;
    let api = admin(&org).await;
    org.clock().set(at("2026-05-08T10:30:10Z"));
    let window = "start=2026-05-08T10%3A00%3A00Z&end=2026-05-08T10%3A40%3A00Z";
    let updated = format!("/services/data/{V}/sobjects/Account/updated/?{window}");

    // A composite that writes is held like any write: it is open while it waits.
    org.admin().hold_writes(Some(StdDuration::from_millis(300)));
    let mut writes = reads(std::slice::from_ref(&updated));
    writes["compositeRequest"].as_array_mut().unwrap().push(json!({
        "method": "POST", "url": format!("/services/data/{V}/sobjects/Account"),
        "referenceId": "create", "body": {"Name": "held"}
    }));
    let (http, url, token) = (api.http.clone(), api.url("/composite"), api.token.clone());
    let held = tokio::spawn(async move {
        http.post(url).bearer_auth(token).json(&writes).send().await.unwrap().status()
    });
    while org.admin().open_transactions() == 0 {
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    assert_eq!(held.await.unwrap(), StatusCode::OK);
    assert_eq!(org.admin().open_transactions(), 0);

    // One that only reads runs at once and is never counted as an open transaction, so
    // it neither waits nor holds `latestDateCovered` back for others.
    org.clock().set(at("2026-05-08T10:40:30Z"));
    org.admin().hold_writes(Some(StdDuration::from_secs(60)));
    let (http, url, token) = (api.http.clone(), api.url("/composite"), api.token.clone());
    let body = reads(std::slice::from_ref(&updated));
    let read = tokio::spawn(async move {
        let resp = http.post(url).bearer_auth(token).json(&body).send().await.unwrap();
        (resp.status(), resp.json::<Value>().await.unwrap())
    });
    while !read.is_finished() {
        assert_eq!(org.admin().open_transactions(), 0, "a read-only composite was held");
        tokio::time::sleep(StdDuration::from_millis(2)).await;
    }
    let (status, answer) = read.await.unwrap();
    org.admin().hold_writes(None);
    assert_eq!(status, StatusCode::OK);
    let body = &answer["compositeResponse"][0]["body"];
    assert_eq!(body["latestDateCovered"], "2026-05-08T10:40:00.000+0000");
    assert_eq!(body["ids"].as_array().unwrap().len(), 1, "the held composite's record");
}

#[tokio::test]
async fn describe_and_every_collections_call_are_served_as_subrequests() {
    let org = pinned_org("2026-05-08T10:00:00Z").await;
    let api = admin(&org).await;
    let ids = org
        .admin()
        .create_many(
            "admin@devorg.example",
            "Account",
            vec![json!({"Name": "First"}), json!({"Name": "Second"})],
        )
        .unwrap();
    let sub = |method: &str, url: String, body: Option<Value>, reference: &str| {
        let mut r = json!({"method": method, "url": url, "referenceId": reference});
        if let Some(body) = body {
            r["body"] = body;
        }
        r
    };
    let retrieve = json!({"ids": [ids[0], ids[1]], "fields": ["Name"]});
    let upsert = json!({"allOrNone": false, "records": [
        {"attributes": {"type": "Account"}, "Name": "By key", "External_Id__c": "KEY-1"}
    ]});
    let requests = vec![
        sub("GET", format!("/services/data/{V}/sobjects"), None, "global"),
        sub("GET", format!("/services/data/{V}/sobjects/Account"), None, "basic"),
        sub(
            "GET",
            format!(
                "/services/data/{V}/composite/sobjects/Account?ids={},{}&fields=Name",
                ids[0], ids[1]
            ),
            None,
            "byGet",
        ),
        sub(
            "POST",
            format!("/services/data/{V}/composite/sobjects/Account"),
            Some(retrieve),
            "byPost",
        ),
        sub(
            "PATCH",
            format!("/services/data/{V}/composite/sobjects/Account/External_Id__c"),
            Some(upsert),
            "upsert",
        ),
    ];
    let (status, answer) =
        api.post("/composite", json!({"allOrNone": true, "compositeRequest": requests})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let r = answer["compositeResponse"].as_array().unwrap();
    assert!(r.iter().all(|s| s["httpStatusCode"] == 200), "{answer}");
    assert_eq!(r[0]["body"], api.get(&format!("/services/data/{V}/sobjects")).await.1);
    assert_eq!(r[1]["body"], api.get(&format!("/services/data/{V}/sobjects/Account")).await.1);
    assert_eq!(r[2]["body"][0]["Name"], "First");
    assert_eq!(r[2]["body"][1]["Name"], "Second");
    assert_eq!(r[3]["body"], r[2]["body"], "retrieve by POST and by GET agree");
    assert_eq!(r[4]["body"][0]["success"], true, "{answer}");
    assert_eq!(r[4]["body"][0]["created"], true, "{answer}");

    // The upserted record is on the org, found by its key.
    let (status, rec) = api.get("/sobjects/Account/External_Id__c/KEY-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rec["Name"], "By key");
    assert_eq!(rec["Id"], r[4]["body"][0]["id"]);
}
