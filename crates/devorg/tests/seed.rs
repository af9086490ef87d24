//! The field-service seed: deterministic, exactly the requested size, real ids, a scope
//! per technician, and applied through `Config::seed` only to an empty org.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use devorg::{Config, DevOrg, SeedOptions};
use reqwest::StatusCode;
use salesforce::SfId;
use serde_json::Value;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-05-08T10:00:00Z").unwrap().with_timezone(&Utc)
}

fn options(records: usize, seed: u64) -> SeedOptions {
    SeedOptions { records, seed, now: Some(now()) }
}

/// Every row of a query, following `nextRecordsUrl`.
async fn all(api: &Api, soql: &str) -> Vec<Value> {
    let (status, mut page) = api.get(&format!("/query?q={}", soql.replace(' ', "+"))).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut rows: Vec<Value> = page["records"].as_array().unwrap().clone();
    while let Some(next) = page["nextRecordsUrl"].as_str() {
        page = api.get(next).await.1;
        rows.extend(page["records"].as_array().unwrap().iter().cloned());
    }
    rows
}

async fn count(api: &Api, object: &str) -> u64 {
    api.get(&format!("/query?q=SELECT+COUNT()+FROM+{object}")).await.1["totalSize"]
        .as_u64()
        .unwrap()
}

const OBJECTS: &[(&str, &str)] = &[
    ("Account", "001"),
    ("Contact", "003"),
    ("Asset", "02i"),
    ("Product2", "01t"),
    ("WorkOrder", "0WO"),
    ("WorkOrderLineItem", "1WL"),
    ("ServiceAppointment", "08p"),
];

#[tokio::test]
async fn a_seed_writes_exactly_the_records_asked_for_with_real_ids() {
    let org = start().await;
    let report = org.admin().seed_field_service(&options(1_500, 42)).unwrap();
    assert_eq!(report.total(), 1_500);
    assert_eq!(report.technicians.len(), 3);
    let api = admin(&org).await;
    let mut total = 0;
    for (object, prefix) in OBJECTS {
        let n = count(&api, object).await;
        assert!(n > 0, "{object} has no records");
        assert_eq!(n as usize, report.counts[object], "{object}");
        total += n;
        for row in all(&api, &format!("SELECT Id FROM {object} LIMIT 50")).await {
            let id = SfId::parse(row["Id"].as_str().unwrap()).unwrap();
            assert_eq!(id.key_prefix(), *prefix);
            assert_eq!(id.as_str().len(), 18);
        }
    }
    assert_eq!(total, 1_500);

    // Parents exist and the data obeys the org's own rules.
    let orphans = all(&api, "SELECT Id FROM ServiceAppointment WHERE ParentRecordId = null").await;
    assert!(orphans.is_empty());
    let closed =
        all(&api, "SELECT Id FROM WorkOrder WHERE Status = 'Closed' AND Resolution_Note__c = null")
            .await;
    assert!(closed.is_empty());
    let past =
        count_where(&api, "ServiceAppointment", "SchedStartTime < 2026-05-08T10:00:00Z").await;
    let coming =
        count_where(&api, "ServiceAppointment", "SchedStartTime > 2026-05-08T10:00:00Z").await;
    assert!(past > 0 && coming > 0, "{past} past, {coming} coming");

    // New records continue after the seeded ids and numbers.
    let id = api.create("Account", account("after the seed")).await;
    assert_eq!(count_where(&api, "Account", &format!("Id = '{id}'")).await, 1);
    let wo = api.create("WorkOrder", serde_json::json!({"Subject": "new"})).await;
    let (_, rec) = api.get(&format!("/sobjects/WorkOrder/{wo}")).await;
    let max =
        all(&api, "SELECT WorkOrderNumber FROM WorkOrder ORDER BY WorkOrderNumber DESC LIMIT 1")
            .await;
    assert_eq!(rec["WorkOrderNumber"], max[0]["WorkOrderNumber"]);
}

async fn count_where(api: &Api, object: &str, condition: &str) -> u64 {
    let soql = format!("SELECT COUNT() FROM {object} WHERE {condition}");
    api.query(&soql).await["totalSize"].as_u64().unwrap()
}

#[tokio::test]
async fn each_technician_sees_only_their_own_work() {
    let org = start().await;
    let report = org.admin().seed_field_service(&options(2_000, 7)).unwrap();
    let boss = admin(&org).await;
    let all_appointments = count(&boss, "ServiceAppointment").await;
    let mut seen = 0;
    for (k, tech_id) in report.technicians.iter().enumerate() {
        let tech = login(&org, &format!("tech{}@field.example", k + 1)).await;
        let mine = all(&tech, "SELECT Id, Technician__c FROM ServiceAppointment").await;
        assert!(!mine.is_empty(), "tech{} has no appointments", k + 1);
        assert!(mine.iter().all(|r| r["Technician__c"] == tech_id.as_str()));
        let orders = all(&tech, "SELECT Id, OwnerId FROM WorkOrder").await;
        assert!(orders.iter().all(|r| r["OwnerId"] == tech_id.as_str()));
        seen += mine.len() as u64;
    }
    assert_eq!(seen, all_appointments, "every appointment belongs to exactly one technician");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data() {
    async fn fingerprint(seed: u64) -> Vec<Value> {
        let org = start().await;
        org.admin().seed_field_service(&options(600, seed)).unwrap();
        let api = admin(&org).await;
        all(&api, "SELECT Id, Subject, Status, SchedStartTime, Technician__c, ParentRecord.Name, ParentRecord.Type FROM ServiceAppointment ORDER BY Id").await
    }
    let a = fingerprint(11).await;
    let b = fingerprint(11).await;
    let c = fingerprint(12).await;
    assert!(!a.is_empty());
    // Technician ids differ between orgs only if users were created differently; they are not.
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[tokio::test]
async fn config_seed_loads_an_empty_org_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: Some(dir.path().to_path_buf()),
        seed: Some(options(400, 1)),
        ..Config::default()
    };
    let org = DevOrg::start(config.clone()).await.unwrap();
    let api = admin(&org).await;
    let accounts = count(&api, "Account").await;
    assert!(accounts > 0);
    org.shutdown().await;

    let org = DevOrg::start(config).await.unwrap();
    let api = admin(&org).await;
    assert_eq!(count(&api, "Account").await, accounts, "a second start does not seed again");
}

#[tokio::test]
async fn a_large_seed_loads_in_one_go_with_more_technicians() {
    let org = start().await;
    let report = org.admin().seed_field_service(&options(100_000, 3)).unwrap();
    assert_eq!(report.total(), 100_000);
    assert_eq!(report.technicians.len(), 7);
    let tech = login(&org, "tech7@field.example").await;
    assert!(count(&tech, "ServiceAppointment").await > 0);
}

#[tokio::test]
async fn after_a_seed_a_recent_stamp_range_reads_the_stamp_index() {
    let org = start().await;
    let report = org.admin().seed_field_service(&options(5_000, 3)).unwrap();
    let tech = report.technicians[0].clone();
    let details: Vec<String> = org.admin().with_db(|db| {
        let sql = "EXPLAIN QUERY PLAN SELECT \"Id\" FROM \"ServiceAppointment\" \
                   WHERE \"Technician__c\" = ?1 AND \"SystemModstamp\" >= ?2";
        let mut stmt = db.prepare(sql).unwrap();
        stmt.query_map(rusqlite::params![tech, "2099-01-01T00:00:00.000+0000"], |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    });
    // With the seed's statistics, a range past every stamp is cheaper than the technician's
    // whole list of appointments.
    assert!(details.iter().any(|d| d.contains("ServiceAppointment_SystemModstamp")), "{details:?}");
}
