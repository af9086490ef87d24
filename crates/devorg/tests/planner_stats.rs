//! A long-running org refreshes the planner's statistics as records are written over
//! HTTP, and once more when it shuts down, though it was never seeded with `ANALYZE`.

mod common;

use common::admin;
use devorg::{Config, DevOrg};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Rows of `sqlite_stat1` that describe `table`'s indexes.
fn stat_rows(conn: &rusqlite::Connection, table: &str) -> i64 {
    let has_stats: bool = conn
        .query_row("SELECT COUNT(*) > 0 FROM sqlite_master WHERE name = 'sqlite_stat1'", [], |r| {
            r.get(0)
        })
        .unwrap();
    if !has_stats {
        return 0;
    }
    conn.query_row("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = ?1", [table], |r| r.get(0))
        .unwrap()
}

fn records(object: &str, n: usize) -> Value {
    let records: Vec<Value> = (0..n)
        .map(|i| match object {
            "Account" => json!({"attributes": {"type": "Account"}, "Name": format!("Acme {i}")}),
            _ => json!({"attributes": {"type": object}, "LastName": format!("Doe {i}")}),
        })
        .collect();
    json!({"allOrNone": true, "records": records})
}

#[tokio::test]
async fn statistics_follow_writes_and_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: Some(dir.path().into()),
        optimize_every_changes: 50,
        ..Config::default()
    };
    let org = DevOrg::start(config).await.unwrap();
    let api = admin(&org).await;
    let refreshed_at_start = org.admin().planner_stats_refreshes();
    assert_eq!(org.admin().with_db(|c| stat_rows(c, "Account")), 0);

    // Enough rows written: the accounts' indexes are analyzed.
    let (status, body) = api.post("/composite/sobjects", records("Account", 40)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(org.admin().planner_stats_refreshes() > refreshed_at_start);
    assert!(org.admin().with_db(|c| stat_rows(c, "Account")) > 0);

    // A few contacts stay below the threshold until the org shuts down.
    let (status, body) = api.post("/composite/sobjects", records("Contact", 3)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(org.admin().with_db(|c| stat_rows(c, "Contact")), 0);
    org.shutdown().await;
    let conn = rusqlite::Connection::open(dir.path().join("devorg.db")).unwrap();
    assert!(stat_rows(&conn, "Contact") > 0);
}
