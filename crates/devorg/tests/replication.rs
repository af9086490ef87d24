//! The replication endpoints (`updated`, `deleted`) over HTTP: windows to the minute,
//! inclusive ends, limits, sharing, and late commits holding `latestDateCovered` back.

mod common;

use std::time::Duration as StdDuration;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn window(
    api: &Api,
    kind: &str,
    object: &str,
    start: &str,
    end: &str,
) -> (StatusCode, Value) {
    let resp = api
        .http
        .get(api.url(&format!("/sobjects/{object}/{kind}/")))
        .query(&[("start", start), ("end", end)])
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

fn ids(body: &Value) -> Vec<String> {
    let mut ids: Vec<String> =
        body["ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn updated_drops_seconds_and_includes_both_ends() {
    let org = pinned_org("2026-05-08T10:00:00Z").await;
    let api = admin(&org).await;
    let a = api.create("Account", account("at start")).await;
    org.clock().set(at("2026-05-08T10:05:30Z"));
    let b = api.create("Account", account("inside")).await;
    org.clock().set(at("2026-05-08T10:07:00Z"));
    let c = api.create("Account", account("at end")).await;
    org.clock().set(at("2026-05-08T10:07:40Z"));
    let _late = api.create("Account", account("after the end minute")).await;
    org.clock().set(at("2026-05-08T10:20:00Z"));

    let (status, body) =
        window(&api, "updated", "Account", "2026-05-08T10:00:45+00:00", "2026-05-08T10:07:59Z")
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), sorted(vec![a.clone(), b.clone(), c.clone()]));
    assert_eq!(body["latestDateCovered"], "2026-05-08T10:07:00.000+0000");

    let (_, body) =
        window(&api, "updated", "Account", "2026-05-08T10:01:00Z", "2026-05-08T10:06:00Z").await;
    assert_eq!(ids(&body), vec![b.clone()]);

    // Without the trailing slash, and an end in the future is capped at now.
    let resp = api
        .http
        .get(api.url("/sobjects/Account/updated"))
        .query(&[("start", "2026-05-08T10:00:00Z"), ("end", "2026-05-09T00:00:00Z")])
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(ids(&body).len(), 4);
    assert_eq!(body["latestDateCovered"], "2026-05-08T10:20:00.000+0000");

    // A record written seconds ago is listed; coverage still stops at the minute.
    org.clock().set(at("2026-05-08T10:20:30Z"));
    let fresh = api.create("Account", account("seconds ago")).await;
    let (_, body) =
        window(&api, "updated", "Account", "2026-05-08T10:10:00Z", "2026-05-08T11:00:00Z").await;
    assert_eq!(ids(&body), vec![fresh]);
    assert_eq!(body["latestDateCovered"], "2026-05-08T10:20:00.000+0000");

    // An update moves a record into a later window; deleted records leave `updated`.
    org.clock().set(at("2026-05-08T10:30:00Z"));
    assert_eq!(
        api.patch(&format!("/sobjects/Account/{a}"), json!({"Name": "x"})).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(api.delete(&format!("/sobjects/Account/{b}")).await.0, StatusCode::NO_CONTENT);
    org.clock().set(at("2026-05-08T10:40:00Z"));
    let (_, body) =
        window(&api, "updated", "Account", "2026-05-08T10:21:00Z", "2026-05-08T10:40:00Z").await;
    assert_eq!(ids(&body), vec![a.clone()]);
    let (_, body) =
        window(&api, "updated", "Account", "2026-05-08T10:00:00Z", "2026-05-08T10:40:00Z").await;
    assert!(!ids(&body).contains(&b), "a deleted record is not listed as updated");
}

#[tokio::test]
async fn bad_windows_are_refused_with_salesforce_codes() {
    let org = pinned_org("2026-05-08T10:00:00Z").await;
    let api = admin(&org).await;
    let cases = [
        ("2026-05-08T09:50:00Z", "2026-05-08T09:40:00Z", "INVALID_REPLICATION_DATE"),
        ("2026-05-08T09:50:10Z", "2026-05-08T09:50:50Z", "INVALID_REPLICATION_DATE"),
        ("2026-05-08T10:00:10Z", "2026-05-08T11:00:00Z", "INVALID_REPLICATION_DATE"),
        ("2026-04-01T00:00:00Z", "2026-05-08T09:00:00Z", "INVALID_REPLICATION_DATE"),
        ("yesterday", "2026-05-08T09:00:00Z", "JSON_PARSER_ERROR"),
        ("2026-05-08T09:00:00Z", "2026-05-08", "JSON_PARSER_ERROR"),
    ];
    for (start, end, code) in cases {
        let (status, body) = window(&api, "updated", "Account", start, end).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{start} {end}: {body}");
        assert_eq!(error_code(&body), code, "{start} {end}: {body}");
    }
    let (status, body) = api.get("/sobjects/Account/updated?start=2026-05-08T09:00:00Z").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "MISSING_ARGUMENT");
    assert!(body[0]["message"].as_str().unwrap().contains("end"));
    let (status, _) =
        window(&api, "updated", "NoSuchThing", "2026-05-08T09:00:00Z", "2026-05-08T09:30:00Z")
            .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // 29 days back is still inside the window.
    let (status, body) =
        window(&api, "updated", "Account", "2026-04-09T10:00:00Z", "2026-05-08T09:00:00Z").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn deleted_lists_recycle_bin_entries_until_purged() {
    let org = pinned_org("2026-05-08T10:00:00Z").await;
    let api = admin(&org).await;
    let keep = api.create("Account", account("kept")).await;
    let gone = api.create("Account", account("gone")).await;
    org.clock().set(at("2026-05-08T10:03:27Z"));
    assert_eq!(api.delete(&format!("/sobjects/Account/{gone}")).await.0, StatusCode::NO_CONTENT);
    org.clock().set(at("2026-05-08T10:10:00Z"));

    let (status, body) =
        window(&api, "deleted", "Account", "2026-05-08T10:00:00Z", "2026-05-08T10:10:00Z").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["deletedRecords"],
        json!([{"id": gone, "deletedDate": "2026-05-08T10:03:27.000+0000"}])
    );
    assert_eq!(body["earliestDateAvailable"], "2026-04-23T10:10:00.000+0000");
    assert_eq!(body["latestDateCovered"], "2026-05-08T10:10:00.000+0000");
    assert!(!body.to_string().contains(&keep));

    // Before the recycle bin's reach.
    let (status, body) =
        window(&api, "deleted", "Account", "2026-04-20T00:00:00Z", "2026-05-08T10:10:00Z").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "INVALID_REPLICATION_DATE");

    // Purging moves earliestDateAvailable up to the purge.
    org.admin().purge_recycle_bin(None).unwrap();
    let (status, body) =
        window(&api, "deleted", "Account", "2026-05-08T10:00:00Z", "2026-05-08T10:10:00Z").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_code(&body), "INVALID_REPLICATION_DATE");
    org.clock().set(at("2026-05-08T10:20:00Z"));
    let (status, body) =
        window(&api, "deleted", "Account", "2026-05-08T10:10:00Z", "2026-05-08T10:20:00Z").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["earliestDateAvailable"], "2026-05-08T10:10:00.000+0000");
    assert_eq!(body["deletedRecords"], json!([]));
}

#[tokio::test]
async fn sharing_limits_the_ids_a_user_gets() {
    let org = pinned_org("2026-05-08T10:00:00Z").await;
    let t1 = login(&org, "tech1@field.example").await;
    let t2 = login(&org, "tech2@field.example").await;
    let boss = admin(&org).await;
    let mine = t1.create("WorkOrder", json!({"Subject": "mine"})).await;
    let theirs = t2.create("WorkOrder", json!({"Subject": "theirs"})).await;
    let doomed = t2.create("WorkOrder", json!({"Subject": "doomed"})).await;
    assert_eq!(t2.delete(&format!("/sobjects/WorkOrder/{doomed}")).await.0, StatusCode::NO_CONTENT);
    org.clock().set(at("2026-05-08T10:05:00Z"));
    let (s, e) = ("2026-05-08T09:59:00Z", "2026-05-08T10:05:00Z");

    assert_eq!(ids(&window(&t1, "updated", "WorkOrder", s, e).await.1), vec![mine.clone()]);
    assert_eq!(ids(&window(&t2, "updated", "WorkOrder", s, e).await.1), vec![theirs.clone()]);
    assert_eq!(
        ids(&window(&boss, "updated", "WorkOrder", s, e).await.1),
        sorted(vec![mine, theirs])
    );
    assert_eq!(window(&t1, "deleted", "WorkOrder", s, e).await.1["deletedRecords"], json!([]));
    assert_eq!(
        window(&t2, "deleted", "WorkOrder", s, e).await.1["deletedRecords"][0]["id"],
        doomed
    );
}

#[tokio::test]
async fn a_held_write_keeps_latest_date_covered_at_its_start() {
    let org = pinned_org("2026-05-08T10:00:00Z").await;
    let api = admin(&org).await;
    org.clock().set(at("2026-05-08T10:10:20Z"));
    let held = org
        .admin()
        .begin_held_write("admin@devorg.example", "Account", vec![json!({"Name": "late"})])
        .unwrap();
    assert_eq!(held.stamp(), at("2026-05-08T10:10:20Z"));
    org.clock().set(at("2026-05-08T10:12:00Z"));
    let early = api.create("Account", account("committed first")).await;
    org.clock().set(at("2026-05-08T10:15:00Z"));

    // The committed record is served; the held one is not, and coverage stops at its start.
    let (_, body) =
        window(&api, "updated", "Account", "2026-05-08T10:00:00Z", "2026-05-08T10:15:00Z").await;
    assert_eq!(ids(&body), vec![early.clone()]);
    assert_eq!(body["latestDateCovered"], "2026-05-08T10:10:00.000+0000");
    let (_, body) =
        window(&api, "deleted", "Account", "2026-05-08T10:00:00Z", "2026-05-08T10:15:00Z").await;
    assert_eq!(body["latestDateCovered"], "2026-05-08T10:10:00.000+0000");

    // Committed late, it carries a stamp older than a record already served.
    let late = held.commit().unwrap().remove(0);
    let (_, rec) = api.get(&format!("/sobjects/Account/{late}")).await;
    assert_eq!(rec["SystemModstamp"], "2026-05-08T10:10:20.000+0000");
    let (_, served) = api.get(&format!("/sobjects/Account/{early}")).await;
    assert!(rec["SystemModstamp"].as_str() < served["SystemModstamp"].as_str());

    // A client that resumes from latestDateCovered finds it.
    let (_, body) =
        window(&api, "updated", "Account", "2026-05-08T10:10:00Z", "2026-05-08T10:15:00Z").await;
    assert_eq!(ids(&body), sorted(vec![early, late]));
    assert_eq!(body["latestDateCovered"], "2026-05-08T10:15:00.000+0000");

    // A rolled-back write leaves nothing and releases coverage.
    let dropped = org
        .admin()
        .begin_held_write("admin@devorg.example", "Account", vec![json!({"Name": "never"})])
        .unwrap();
    assert_eq!(org.admin().open_transactions(), 1);
    dropped.rollback();
    assert_eq!(org.admin().open_transactions(), 0);
}

#[tokio::test]
async fn held_http_writes_are_stamped_on_arrival() {
    let org = pinned_org("2026-05-08T10:00:00Z").await;
    let api = admin(&org).await;
    org.clock().set(at("2026-05-08T10:30:10Z"));
    org.admin().hold_writes(Some(StdDuration::from_millis(400)));

    let http = api.http.clone();
    let url = api.url("/sobjects/Account");
    let token = api.token.clone();
    let pending = tokio::spawn(async move {
        let resp =
            http.post(url).bearer_auth(token).json(&json!({"Name": "held"})).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
    });
    while org.admin().open_transactions() == 0 {
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    org.admin().hold_writes(None);
    org.clock().set(at("2026-05-08T10:40:00Z"));
    let (_, body) =
        window(&api, "updated", "Account", "2026-05-08T10:00:00Z", "2026-05-08T10:40:00Z").await;
    assert_eq!(body["latestDateCovered"], "2026-05-08T10:30:00.000+0000");

    let id = pending.await.unwrap();
    let (_, rec) = api.get(&format!("/sobjects/Account/{id}")).await;
    assert_eq!(rec["SystemModstamp"], "2026-05-08T10:30:10.000+0000");
    assert_eq!(org.admin().open_transactions(), 0);
}

#[tokio::test]
async fn create_many_shares_one_stamp() {
    let org = pinned_org("2026-05-08T10:00:00Z").await;
    let api = admin(&org).await;
    org.clock().set(at("2026-05-08T10:01:02.345Z"));
    let records = (0..50).map(|i| json!({"Name": format!("same stamp {i}")})).collect();
    let ids = org.admin().create_many("admin@devorg.example", "Account", records).unwrap();
    assert_eq!(ids.len(), 50);
    let (status, body) = api
        .get("/query?q=SELECT+COUNT()+FROM+Account+WHERE+SystemModstamp+=+2026-05-08T10:01:02.345Z")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for id in [&ids[0], &ids[49]] {
        let (_, rec) = api.get(&format!("/sobjects/Account/{id}")).await;
        assert_eq!(rec["SystemModstamp"], "2026-05-08T10:01:02.345+0000");
    }
}

#[tokio::test]
async fn more_than_600000_ids_is_exceeded_id_limit() {
    let org = pinned_org("2026-05-08T10:00:00Z").await;
    let api = admin(&org).await;
    org.admin().with_db(|conn| {
        let tx = conn.unchecked_transaction().unwrap();
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO \"Account\" (\"Id\", \"Name\", \"IsDeleted\", \"CreatedDate\",
                     \"LastModifiedDate\", \"SystemModstamp\") VALUES (?1, 'bulk', 0, ?2, ?2, ?2)",
                )
                .unwrap();
            for i in 0..600_001u64 {
                let stamp = if i == 0 {
                    "2026-05-08T09:10:00.000+0000"
                } else {
                    "2026-05-08T09:30:00.000+0000"
                };
                stmt.execute(rusqlite::params![format!("001bulk{i:011}"), stamp]).unwrap();
            }
        }
        tx.commit().unwrap();
    });
    let (status, body) =
        window(&api, "updated", "Account", "2026-05-08T09:00:00Z", "2026-05-08T09:45:00Z").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "EXCEEDED_ID_LIMIT");
    let (status, body) =
        window(&api, "updated", "Account", "2026-05-08T09:00:00Z", "2026-05-08T09:20:00Z").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ids"].as_array().unwrap().len(), 1);
}
