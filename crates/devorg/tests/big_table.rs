//! Paging through a large table: every row once, in order, with pages read by id.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;

const ROWS: usize = 20_000;

#[tokio::test]
async fn paging_a_large_table_returns_every_row_once() {
    let org = start().await;
    let admin_id = org.admin().user_id("admin@devorg.example").unwrap();
    org.admin().with_db(|conn| {
        let tx = conn.unchecked_transaction().unwrap();
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO \"WorkOrder\" (\"Id\", \"OwnerId\", \"Subject\", \"Status\", \"IsDeleted\",
                        \"CreatedDate\", \"CreatedById\", \"LastModifiedDate\", \"LastModifiedById\", \"SystemModstamp\")
                     VALUES (?1, ?2, ?3, 'New', 0, ?4, ?2, ?4, ?2, ?4)",
                )
                .unwrap();
            for i in 0..ROWS {
                let id = salesforce::SfId::from_parts("0WO", "5g0", 10_000_000 + i as u64);
                let stamp = format!("2024-05-08T{:02}:{:02}:{:02}.000+0000", (i / 3600) % 24, (i / 60) % 60, i % 60);
                stmt.execute(rusqlite::params![id.as_str(), admin_id, format!("WO {i}"), stamp]).unwrap();
            }
        }
        tx.commit().unwrap();
    });

    let api = admin(&org).await;
    let started = std::time::Instant::now();
    let resp = api
        .http
        .get(api.url("/query"))
        .query(&[(
            "q",
            "SELECT Id, Subject, SystemModstamp FROM WorkOrder ORDER BY SystemModstamp, Id",
        )])
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut page: Value = resp.json().await.unwrap();
    eprintln!("first page after {:?}", started.elapsed());
    let mut ids = Vec::new();
    let mut last_stamp = String::new();
    loop {
        for r in page["records"].as_array().unwrap() {
            let stamp = r["SystemModstamp"].as_str().unwrap().to_string();
            assert!(stamp >= last_stamp);
            last_stamp = stamp;
            ids.push(r["Id"].as_str().unwrap().to_string());
        }
        let Some(next) = page["nextRecordsUrl"].as_str() else { break };
        let t = std::time::Instant::now();
        page = api.get(next).await.1;
        eprintln!("page after {:?}", t.elapsed());
    }
    assert_eq!(ids.len(), ROWS);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), ROWS);
}
