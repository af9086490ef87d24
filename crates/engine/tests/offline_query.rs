//! Offline queries through the engine over records primed from devorg on loopback: the
//! answer comes in pages, and `Engine::query_more` walks them.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use devorg::{Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TECH_PASSWORD, DevOrg};
use engine::profile::ProfileSource;
use engine::{Engine, ManualClock, SyncError};
use salesforce::client::{Client, ClientConfig, OAuthApp};
use serde_json::json;
use store::{Store, StoreError, StoreKey};
use tempfile::TempDir;

const PRODUCTS: &str = r#"
version = 1

[objects.Product2]
fields = ["Name", "IsActive"]
filter = "IsActive = true"
"#;

/// Products seeded: more than one page of 2,000.
const SEEDED: usize = 2_345;

#[tokio::test]
async fn query_more_walks_every_page_of_a_large_answer() {
    let start = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();
    let org = DevOrg::start(Config::default()).await.expect("devorg starts");
    org.clock().set(start);
    let admin = org.admin();
    for i in 0..SEEDED {
        let product = json!({"Name": format!("Part {:04}", i % 1000), "IsActive": true});
        admin.create("admin@devorg.example", "Product2", product).unwrap();
    }
    org.clock().advance(chrono::Duration::hours(1));
    let dir = TempDir::new().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("store.db"), &StoreKey::generate()).unwrap());
    let app = OAuthApp::new(org.url(), DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET.to_string()));
    let session =
        app.login_password("tech1@field.example", DEMO_TECH_PASSWORD).await.expect("log in");
    let client = Client::new(session, ClientConfig::default()).expect("client");
    let source = ProfileSource::parse("profile.toml", PRODUCTS).unwrap();
    let clock = Arc::new(ManualClock::new(start + chrono::Duration::hours(1)));
    let engine = Engine::open(store, client, &source, clock).await.expect("engine");
    engine.prime(&mut |_| {}).await.expect("primed");

    // Names repeat, so equal sort keys straddle the page boundary.
    let soql = "SELECT Id, Name FROM Product2 ORDER BY Name DESC";
    let first = engine.query(soql).unwrap();
    assert_eq!(first["totalSize"], json!(SEEDED));
    assert_eq!(first["done"], json!(false));
    assert_eq!(first["records"].as_array().unwrap().len(), 2_000);
    let next = first["nextRecordsUrl"].as_str().expect("a next page").to_owned();
    let second = engine.query_more(&next).unwrap();
    assert_eq!(second["done"], json!(true));
    assert!(second.get("nextRecordsUrl").is_none());
    assert_eq!(second["totalSize"], json!(SEEDED));

    let names: Vec<(String, String)> = [&first, &second]
        .iter()
        .flat_map(|page| page["records"].as_array().unwrap().iter())
        .map(|r| (r["Name"].as_str().unwrap().to_owned(), r["Id"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(names.len(), SEEDED);
    let mut expected = names.clone();
    expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    assert_eq!(names, expected, "name descending, then id, with no row twice");

    // A locator this store did not make is refused, saying so.
    match engine.query_more(&next[..next.len() / 2]) {
        Err(SyncError::Store(StoreError::BadLocator(reason))) => assert!(!reason.is_empty()),
        other => panic!("a mangled locator should be refused: {other:?}"),
    }
}
