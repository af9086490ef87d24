//! The raw limit for priming: the same pages fetched with plain reqwest (same batch size)
//! and inserted into a SQLCipher file (same build) by the simplest loop that can do it.
//! Priming is held against this in the same run.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params_from_iter};
use salesforce::client::Client;
use serde_json::Value;

use crate::child::{ChildResult, ChildSpec};

/// Each profile object with the fields the engine reads (`None`: every field).
const OBJECTS: &[(&str, Option<&[&str]>)] = &[
    (
        "ServiceAppointment",
        Some(&[
            "AppointmentNumber",
            "Subject",
            "Status",
            "SchedStartTime",
            "SchedEndTime",
            "ParentRecordId",
            "Technician__c",
        ]),
    ),
    ("WorkOrder", None),
    ("WorkOrderLineItem", None),
    ("Account", Some(&["Name", "Phone", "BillingCity"])),
    ("Asset", Some(&["Name", "SerialNumber", "AccountId", "Product2Id"])),
    ("Contact", Some(&["FirstName", "LastName", "Email", "Phone", "AccountId"])),
    ("Product2", Some(&["Name", "ProductCode", "Family", "IsActive"])),
];

fn sql_value(v: &Value) -> Sql {
    match v {
        Value::Null => Sql::Null,
        Value::Bool(b) => Sql::Integer(i64::from(*b)),
        Value::Number(n) => {
            n.as_i64().map_or_else(|| Sql::Real(n.as_f64().unwrap_or(0.0)), Sql::Integer)
        }
        Value::String(s) => Sql::Text(s.clone()),
        other => Sql::Text(other.to_string()),
    }
}

/// Fetches and inserts every in-scope record; the timing covers both.
pub async fn run(client: &Client, spec: &ChildSpec) -> Result<ChildResult> {
    let session = client.session();
    std::fs::create_dir_all(&spec.store_dir)?;
    let conn = Connection::open(spec.store_dir.join("raw.db"))?;
    // Encrypted as the store is, so both pay the same per page.
    store::key_connection(&conn, &store::StoreKey::from_bytes(&[0xab; 32])?)?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")?;

    // Field lists come from describe, outside the timing.
    let mut plans = Vec::new();
    for (object, fields) in OBJECTS {
        let mut select: Vec<String> = vec!["Id".into(), "SystemModstamp".into()];
        match fields {
            Some(list) => select.extend(list.iter().map(|f| f.to_string())),
            None => {
                let schema = client.describe(object).await?.to_schema();
                for f in schema.fields {
                    if !select.contains(&f.name) {
                        select.push(f.name);
                    }
                }
            }
        }
        let columns: Vec<String> = select.iter().map(|c| format!("\"{c}\"")).collect();
        conn.execute_batch(&format!(
            "CREATE TABLE \"{object}\" ({} PRIMARY KEY, {})",
            columns[0],
            columns[1..].join(", ")
        ))?;
        let filter = if *object == "ServiceAppointment" {
            format!(" WHERE Technician__c = '{}'", session.user_id)
        } else {
            String::new()
        };
        plans.push((*object, select, filter));
    }

    let http = reqwest::Client::new();
    let base = session.instance_url.trim_end_matches('/').to_string();
    let started = Instant::now();
    let mut requests = 0;
    let mut records = 0;
    for (object, select, filter) in &plans {
        let soql = format!("SELECT {} FROM {object}{filter}", select.join(", "));
        let insert = format!(
            "INSERT OR REPLACE INTO \"{object}\" VALUES ({})",
            vec!["?"; select.len()].join(", ")
        );
        let mut next = Some(format!("{base}/services/data/v62.0/query?q={}", url_encode(&soql)));
        while let Some(url) = next.take() {
            let answer = http
                .get(&url)
                .bearer_auth(&session.access_token)
                .header("Sforce-Query-Options", format!("batchSize={}", spec.page_size))
                .send()
                .await?;
            requests += 1;
            if !answer.status().is_success() {
                bail!("raw query of {object} answered {}", answer.status());
            }
            let page: Value = answer.json().await?;
            let rows = page["records"].as_array().context("a page without records")?;
            let tx = conn.unchecked_transaction()?;
            {
                let mut stmt = tx.prepare_cached(&insert)?;
                for row in rows {
                    stmt.execute(params_from_iter(select.iter().map(|c| sql_value(&row[c]))))?;
                }
            }
            tx.commit()?;
            records += rows.len() as u64;
            next = page["nextRecordsUrl"].as_str().map(|path| format!("{base}{path}"));
        }
    }
    Ok(ChildResult {
        secs: started.elapsed().as_secs_f64(),
        requests,
        records,
        ..ChildResult::default()
    })
}

/// Percent-encodes a query string value.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
