//! Deterministic field-service data written straight into devorg's database: accounts,
//! contacts, assets, work orders, line items and appointments in a fixed mix, all owned by
//! and assigned to one technician, so that every seeded record is in the profile's scope.

use std::collections::HashMap;

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};
use devorg::RunningOrg;
use devorg::clock::format_datetime;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params_from_iter};
use salesforce::SfId;

/// The technician whose device the benchmark syncs.
pub const TECH: &str = "tech1@field.example";

/// Records in one unit of the mix: an account, a contact, an asset, two work orders, two
/// appointments and three line items.
pub const UNIT: u64 = 10;

/// Active products every asset and line item points to.
const PRODUCTS: u64 = 10;

/// Counters of seeded ids start here, far from the counter devorg's own creates use.
const ID_BASE: u64 = 50_000_000;

/// Ids of the seeded records that later scenarios change.
#[derive(Debug, Default)]
pub struct Seeded {
    /// Records written in all.
    pub records: u64,
    /// Line items, in creation order.
    pub line_items: Vec<String>,
}

/// Writes about `records` records (rounded to whole units, plus the products) in one
/// transaction. The same `records` and `seed_value` always give the same rows.
pub fn seed(org: &RunningOrg, records: u64, seed_value: u64) -> Result<Seeded> {
    let admin = org.admin();
    let tech = admin.user_id(TECH).context("the technician user exists")?;
    let now = org.clock().now();
    let seeded = admin.with_db(|conn| write_all(conn, &tech, now, records, seed_value))?;
    admin.analyze().map_err(|e| anyhow::anyhow!("planner statistics: {e:?}"))?;
    Ok(seeded)
}

/// Builds one row at a time and inserts it with a prepared statement per object.
struct Writer<'c> {
    conn: &'c Connection,
    columns: HashMap<String, Vec<String>>,
    next: u64,
    stamp: String,
    user: String,
}

impl Writer<'_> {
    fn columns(&mut self, object: &str) -> Result<&Vec<String>> {
        if !self.columns.contains_key(object) {
            let names: Vec<String> = self
                .conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{object}')"))?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            self.columns.insert(object.to_string(), names);
        }
        Ok(&self.columns[object])
    }

    /// Inserts a record with the audit fields filled in; returns its id.
    fn insert(&mut self, object: &str, prefix: &str, fields: &[(&str, Sql)]) -> Result<String> {
        self.next += 1;
        let id = SfId::from_parts(prefix, "5g0", ID_BASE + self.next).to_string();
        let stamp = Sql::Text(self.stamp.clone());
        let user = Sql::Text(self.user.clone());
        let mut row: Vec<(&str, Sql)> = vec![
            ("Id", Sql::Text(id.clone())),
            ("IsDeleted", Sql::Integer(0)),
            ("CreatedDate", stamp.clone()),
            ("LastModifiedDate", stamp.clone()),
            ("SystemModstamp", stamp),
            ("CreatedById", user.clone()),
            ("LastModifiedById", user.clone()),
            ("OwnerId", user),
        ];
        row.extend(fields.iter().cloned());
        let known = self.columns(object)?;
        let row: Vec<(&str, Sql)> =
            row.into_iter().filter(|(c, _)| known.iter().any(|k| k == c)).collect();
        let cols: Vec<String> = row.iter().map(|(c, _)| format!("\"{c}\"")).collect();
        let marks = vec!["?"; cols.len()].join(", ");
        let sql = format!("INSERT INTO \"{object}\" ({}) VALUES ({marks})", cols.join(", "));
        self.conn
            .prepare_cached(&sql)?
            .execute(params_from_iter(row.into_iter().map(|(_, v)| v)))
            .with_context(|| format!("seeding {object}"))?;
        Ok(id)
    }
}

fn text(s: impl Into<String>) -> Sql {
    Sql::Text(s.into())
}

/// A small deterministic generator (SplitMix64), so the data depends on the seed only.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

const CITIES: &[&str] = &["Lyon", "Paris", "Lille", "Nantes", "Toulouse", "Nice", "Brest"];
const STATUSES: &[&str] = &["New", "In Progress", "On Hold"];

fn write_all(
    conn: &Connection,
    tech: &str,
    now: DateTime<Utc>,
    records: u64,
    seed_value: u64,
) -> Result<Seeded> {
    let tx = conn.unchecked_transaction()?;
    let mut w = Writer {
        conn: &tx,
        columns: HashMap::new(),
        next: 0,
        stamp: format_datetime(now - Duration::hours(1)),
        user: tech.to_string(),
    };
    let mut mix = Mix(seed_value);
    let mut seeded = Seeded::default();

    let mut products = Vec::new();
    for p in 0..PRODUCTS {
        products.push(w.insert(
            "Product2",
            "01t",
            &[
                ("Name", text(format!("Product {p}"))),
                ("ProductCode", text(format!("P-{p:04}"))),
                ("Family", text("Pumps")),
                ("IsActive", Sql::Integer(1)),
            ],
        )?);
    }

    let units = (records.saturating_sub(PRODUCTS) / UNIT).max(1);
    for u in 0..units {
        let city = mix.pick(CITIES);
        let account = w.insert(
            "Account",
            "001",
            &[
                ("Name", text(format!("Account {u}"))),
                ("Phone", text(format!("+33 4 {:08}", mix.next() % 100_000_000))),
                ("BillingCity", text(city)),
            ],
        )?;
        let contact = w.insert(
            "Contact",
            "003",
            &[
                ("FirstName", text("Alex")),
                ("LastName", text(format!("Contact {u}"))),
                ("Name", text(format!("Alex Contact {u}"))),
                ("Email", text(format!("contact{u}@example.com"))),
                ("AccountId", text(account.clone())),
            ],
        )?;
        let product = products[(mix.next() % PRODUCTS) as usize].clone();
        let asset = w.insert(
            "Asset",
            "02i",
            &[
                ("Name", text(format!("Pump {u}"))),
                ("SerialNumber", text(format!("SN-{:010}", mix.next() % 10_000_000_000))),
                ("AccountId", text(account.clone())),
                ("Product2Id", text(product.clone())),
            ],
        )?;
        for k in 0..2u64 {
            let n = u * 2 + k;
            let wo = w.insert(
                "WorkOrder",
                "0WO",
                &[
                    ("WorkOrderNumber", text(format!("{:08}", n + 1))),
                    ("Subject", text(format!("Service visit {n}"))),
                    ("Description", text("Inspect the pump, replace worn seals, test pressure")),
                    ("Status", text(mix.pick(STATUSES))),
                    ("Priority", text("Medium")),
                    ("AccountId", text(account.clone())),
                    ("AssetId", text(asset.clone())),
                    ("ContactId", text(contact.clone())),
                    ("City", text(city)),
                    ("Country", text("France")),
                    ("Duration", Sql::Real(1.5)),
                ],
            )?;
            let start = now + Duration::hours((mix.next() % (40 * 24)) as i64 - 10 * 24);
            w.insert(
                "ServiceAppointment",
                "08p",
                &[
                    ("AppointmentNumber", text(format!("{:08}", n + 1))),
                    ("ParentRecordId", text(wo.clone())),
                    ("Subject", text(format!("Visit {n}"))),
                    ("Status", text("Scheduled")),
                    ("SchedStartTime", text(format_datetime(start))),
                    ("SchedEndTime", text(format_datetime(start + Duration::hours(2)))),
                    ("Technician__c", text(tech)),
                ],
            )?;
            for item in 0..(2 - k) {
                let id = w.insert(
                    "WorkOrderLineItem",
                    "1WL",
                    &[
                        ("LineItemNumber", text(format!("{:08}", n * 2 + item + 1))),
                        ("WorkOrderId", text(wo.clone())),
                        ("Subject", text(format!("Part {item} of visit {n}"))),
                        ("Status", text("New")),
                        ("Product2Id", text(product.clone())),
                        ("AssetId", text(asset.clone())),
                        ("Quantity", Sql::Real((1 + mix.next() % 4) as f64)),
                    ],
                )?;
                seeded.line_items.push(id);
            }
        }
    }
    drop(w);
    tx.commit()?;
    seeded.records = PRODUCTS + units * UNIT;
    tracing::info!(records = seeded.records, "seeded");
    Ok(seeded)
}
