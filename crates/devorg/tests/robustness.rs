//! Random bad input against the write and query endpoints: the answer is always a
//! Salesforce-shaped 2xx/4xx, never a 500 or a dropped connection.

mod common;

use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

const FIELDS: &[&str] = &[
    "Subject",
    "Status",
    "Priority",
    "AccountId",
    "OwnerId",
    "Description",
    "Resolution_Note__c",
    "StartDate",
    "Duration",
    "External_Id__c",
    "Id",
    "CreatedDate",
    "IsDeleted",
    "Nope__c",
    "Account",
    "WorkOrderNumber",
    "attributes",
];

fn random_value(rng: &mut StdRng, ids: &[String]) -> Value {
    match rng.random_range(0..12) {
        0 => Value::Null,
        1 => json!(rng.random::<bool>()),
        2 => json!(rng.random::<i64>()),
        3 => json!(rng.random::<f64>() * 1e6),
        4 => json!("x".repeat(rng.random_range(0..400))),
        5 => json!(["Closed", "New", "Nope", "In Progress"][rng.random_range(0..4)]),
        6 => json!(ids[rng.random_range(0..ids.len())]),
        7 => json!("2024-05-08T21:20:00.000+0000"),
        8 => json!({"External_Id__c": "A-1"}),
        9 => json!([1, "two"]),
        10 => json!("001000000000000AAA"),
        _ => json!("\u{0}\u{ffff}'\"; DROP TABLE \"WorkOrder\"; --"),
    }
}

fn random_body(rng: &mut StdRng, ids: &[String]) -> Value {
    let mut m = Map::new();
    for _ in 0..rng.random_range(0..6) {
        let f = FIELDS[rng.random_range(0..FIELDS.len())];
        m.insert(f.to_string(), random_value(rng, ids));
    }
    Value::Object(m)
}

#[tokio::test]
async fn random_writes_never_fail_with_a_server_error() {
    let org = start().await;
    let api = login(&org, "tech1@field.example").await;
    let acc = api.create("Account", json!({"Name": "A", "External_Id__c": "A-1"})).await;
    let wo = api.create("WorkOrder", json!({"Subject": "s"})).await;
    let ids = vec![
        acc,
        wo.clone(),
        "garbage".to_string(),
        org.admin().user_id("tech2@field.example").unwrap(),
    ];
    let mut rng = StdRng::seed_from_u64(7);
    for i in 0..150 {
        let body = random_body(&mut rng, &ids);
        let (status, reply) = match i % 3 {
            0 => api.post("/sobjects/WorkOrder", body).await,
            1 => api.patch(&format!("/sobjects/WorkOrder/{wo}"), body).await,
            _ => api.patch(&format!("/sobjects/WorkOrder/External_Id__c/E-{}", i % 7), body).await,
        };
        assert!(status.as_u16() < 500, "{status} {reply}");
        if !status.is_success() {
            assert!(reply[0]["errorCode"].is_string(), "{reply}");
        }
    }
}

const SOQL_PARTS: &[&str] = &[
    "SELECT",
    "Id",
    ",",
    "Name",
    "Account.Name",
    "COUNT()",
    "FROM",
    "Account",
    "WorkOrder",
    "WHERE",
    "=",
    "'x'",
    "LIKE",
    "'%a'",
    "IN",
    "(",
    ")",
    "AND",
    "OR",
    "NOT",
    "null",
    "TODAY",
    "LAST_N_DAYS:3",
    "ORDER BY",
    "DESC",
    "LIMIT",
    "5",
    "OFFSET",
    "2",
    "(SELECT Id FROM Contacts)",
    "SystemModstamp",
    ">",
    "2024-05-01T00:00:00Z",
    "true",
    "Owner.Name",
    "GROUP",
    "\\'",
];

#[tokio::test]
async fn random_soql_is_answered_with_200_or_400() {
    let org = start().await;
    let api = login(&org, "tech1@field.example").await;
    api.create("Account", json!({"Name": "A"})).await;
    let mut rng = StdRng::seed_from_u64(11);
    let mut queries = vec![
        "SELECT Id FROM Account WHERE Name = 'unterminated".to_string(),
        "SELECT Id, (SELECT Id FROM Contacts) FROM Account WHERE Id IN (SELECT AccountId FROM Contact)".into(),
        "SELECT Id FROM Account WHERE SystemModstamp > 2024-05-01T00:00:00Z ORDER BY SystemModstamp, Id LIMIT 5".into(),
    ];
    for _ in 0..150 {
        let mut q = String::from("SELECT ");
        for _ in 0..rng.random_range(1..12) {
            q.push_str(SOQL_PARTS[rng.random_range(0..SOQL_PARTS.len())]);
            q.push(' ');
        }
        queries.push(q);
    }
    for q in queries {
        let resp = api
            .http
            .get(api.url("/query"))
            .query(&[("q", &q)])
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert!(status == 200 || status == 400, "{q}: {status} {body}");
    }
}
