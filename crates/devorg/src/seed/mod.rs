//! Deterministic demo data for a field-service org: accounts with contacts and assets, a
//! product catalogue, work orders with line items, and service appointments spread over
//! the past and coming four weeks, each assigned to one of several technicians (who own
//! the work order, so each technician has a scope of their own).
//!
//! The same [`SeedOptions`] always give the same records (a seeded generator, ids and
//! numbers continuing from the org's counters). Everything goes in one transaction through
//! prepared statements, so a million records load in well under a minute.

mod words;
mod writer;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Timelike, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;
use rusqlite::types::Value as Sql;

use crate::admin::Admin;
use crate::auth::hash_password;
use words::*;
use writer::Writer;

/// Which data to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedOptions {
    /// How many records to write in all (users not counted).
    pub records: usize,
    /// Seeds the generator; the same seed gives the same data.
    pub seed: u64,
    /// The instant the data is laid out around; the org's clock when `None`.
    pub now: Option<DateTime<Utc>>,
}

/// What a seed wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedReport {
    /// Records written per object.
    pub counts: BTreeMap<&'static str, usize>,
    /// The technicians appointments are assigned to (user ids).
    pub technicians: Vec<String>,
}

impl SeedReport {
    /// Records written in all.
    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }
}

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// Occurs when the database refuses a read or write; nothing was stored.
    #[error("seed database: {0}")]
    Database(#[from] rusqlite::Error),
    /// Occurs when the org has no administrator to own the seeded records.
    #[error("seed: the org has no active administrator")]
    NoAdministrator,
}

/// Technicians per record: one more for every this many records, beyond the demo three.
const RECORDS_PER_EXTRA_TECHNICIAN: usize = 25_000;
/// Most technicians the seed creates.
const MAX_TECHNICIANS: usize = 200;

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn text(s: impl Into<String>) -> Sql {
    Sql::Text(s.into())
}

fn datetime(t: DateTime<Utc>) -> Sql {
    Sql::Text(crate::clock::format_datetime(t))
}

fn date(t: DateTime<Utc>) -> Sql {
    Sql::Text(t.format("%Y-%m-%d").to_string())
}

/// Writes the field-service data set into `conn` (one transaction), on top of whatever
/// is there. Use [`apply_if_empty`] to seed only a fresh org.
pub fn field_service(conn: &Connection, opts: &SeedOptions) -> Result<SeedReport, SeedError> {
    // A large page cache keeps index pages in memory instead of spilling them to the WAL
    // mid-transaction; the previous size comes back afterwards.
    let cache: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    conn.execute_batch(&format!("PRAGMA cache_size = {SEED_CACHE_SIZE}"))?;
    let out = seed_in_transaction(conn, opts);
    conn.execute_batch(&format!("PRAGMA cache_size = {cache}"))?;
    out
}

/// Page cache while seeding, in SQLite's negative-means-KiB form (256 MiB).
const SEED_CACHE_SIZE: i64 = -262_144;

fn seed_in_transaction(conn: &Connection, opts: &SeedOptions) -> Result<SeedReport, SeedError> {
    let now = opts.now.unwrap_or_else(Utc::now);
    let started = std::time::Instant::now();
    let tx = conn.unchecked_transaction()?;
    let admin: String = tx
        .query_row(
            "SELECT \"Id\" FROM \"User\" WHERE \"_Admin\" = 1 AND \"IsActive\" = 1
             ORDER BY \"CreatedDate\", \"Id\" LIMIT 1",
            [],
            |r| r.get(0),
        )
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => SeedError::NoAdministrator,
            other => SeedError::Database(other),
        })?;
    let technicians = technicians(&tx, opts.records, now)?;
    let rng = StdRng::seed_from_u64(opts.seed);
    let mut w = Writer::new(&tx, rng, now, admin.clone(), opts.records)?;

    let products = products(&mut w, (opts.records / 200).clamp(10, 500))?;
    let mut n = 0usize;
    while w.remaining() > 0 {
        account(&mut w, n, &admin, &products, &technicians)?;
        n += 1;
    }
    let counts = w.finish()?;
    tx.commit()?;
    crate::db::analyze(conn)?;
    let report = SeedReport { counts, technicians };
    tracing::info!(
        records = report.total(),
        technicians = report.technicians.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "field-service data seeded"
    );
    Ok(report)
}

/// Seeds only when the org holds no accounts and no work orders yet; `None` otherwise.
pub fn apply_if_empty(
    conn: &Connection,
    opts: &SeedOptions,
) -> Result<Option<SeedReport>, SeedError> {
    let existing: i64 = conn.query_row(
        "SELECT (SELECT COUNT(*) FROM \"Account\") + (SELECT COUNT(*) FROM \"WorkOrder\")",
        [],
        |r| r.get(0),
    )?;
    if existing > 0 {
        tracing::debug!(existing, "org already holds data; not seeding");
        return Ok(None);
    }
    field_service(conn, opts).map(Some)
}

impl Admin {
    /// Seeds the field-service data set now (see [`field_service`]); `now` defaults to the
    /// org's clock.
    pub fn seed_field_service(&self, opts: &SeedOptions) -> Result<SeedReport, SeedError> {
        let mut opts = opts.clone();
        opts.now = opts.now.or_else(|| Some(self.org.clock.now()));
        let conn = self.org.db();
        field_service(&conn, &opts)
    }
}

/// The non-admin users appointments go to: the demo technicians, plus more for big seeds
/// (`tech4@field.example`, ... with the demo technician password).
fn technicians(
    conn: &Connection,
    records: usize,
    now: DateTime<Utc>,
) -> rusqlite::Result<Vec<String>> {
    let wanted = (3 + records / RECORDS_PER_EXTRA_TECHNICIAN).min(MAX_TECHNICIANS);
    let mut k = 4;
    loop {
        let have: i64 = conn.query_row(
            "SELECT COUNT(*) FROM \"User\" WHERE \"_Admin\" = 0 AND \"IsActive\" = 1",
            [],
            |r| r.get(0),
        )?;
        if have as usize >= wanted {
            break;
        }
        let username = format!("tech{k}@field.example");
        k += 1;
        if crate::db::find_user(conn, &username)?.is_some() {
            continue;
        }
        let id = crate::db::new_id(conn, "005")?.to_string();
        let stamp = crate::clock::format_datetime(now);
        let first = FIRST_NAMES[k % FIRST_NAMES.len()];
        conn.execute(
            "INSERT INTO \"User\" (\"Id\", \"Username\", \"FirstName\", \"LastName\", \"Name\",
                \"Email\", \"Alias\", \"IsActive\", \"TimeZoneSidKey\", \"UserType\", \"IsDeleted\",
                \"CreatedDate\", \"CreatedById\", \"LastModifiedDate\", \"LastModifiedById\",
                \"SystemModstamp\", \"_PasswordHash\", \"_Admin\")
             VALUES (?1, ?2, ?3, 'Technician', ?4, ?2, ?5, 1, 'GMT', 'Standard', 0, ?6, ?1, ?6,
                ?1, ?6, ?7, 0)",
            rusqlite::params![
                id,
                username,
                first,
                format!("{first} Technician"),
                format!("tech{}", k - 1),
                stamp,
                hash_password(&id, crate::DEMO_TECH_PASSWORD),
            ],
        )?;
    }
    let mut stmt = conn.prepare(
        "SELECT \"Id\" FROM \"User\" WHERE \"_Admin\" = 0 AND \"IsActive\" = 1
         ORDER BY \"CreatedDate\", \"Username\"",
    )?;
    let ids = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    Ok(ids.into_iter().take(wanted).collect())
}

fn products(w: &mut Writer<'_>, count: usize) -> rusqlite::Result<Vec<String>> {
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let (name, family, unit) = PRODUCTS[i % PRODUCTS.len()];
        let grade = PRODUCT_GRADES[(i / PRODUCTS.len()) % PRODUCT_GRADES.len()];
        let series = i / (PRODUCTS.len() * PRODUCT_GRADES.len());
        let name = if series == 0 {
            format!("{name}{grade}")
        } else {
            format!("{name}{grade} {}", series + 1)
        };
        let fields = [
            ("Name", text(name.clone())),
            ("ProductCode", text(format!("PRD-{:05}", i + 1))),
            ("Family", text(family)),
            ("IsActive", Sql::Integer(1)),
            ("QuantityUnitOfMeasure", text(unit)),
            ("Description", text(format!("{name} for commercial sites"))),
        ];
        match w.insert("Product2", "01t", 365, &fields)? {
            Some(id) => ids.push(id),
            None => break,
        }
    }
    Ok(ids)
}

/// One customer: the account, its contacts and assets, and its work.
fn account(
    w: &mut Writer<'_>,
    n: usize,
    owner: &str,
    products: &[String],
    technicians: &[String],
) -> rusqlite::Result<()> {
    let r = &mut w.rng;
    let name = format!(
        "{} {} {}",
        pick(r, COMPANY_FIRST),
        pick(r, COMPANY_SECOND),
        pick(r, COMPANY_SUFFIX)
    );
    let (city, postal, country) = *pick(r, CITIES);
    let street = format!("{} {}", r.random_range(1..300), pick(r, STREETS));
    let fields = [
        ("OwnerId", text(owner)),
        ("Name", text(name)),
        ("Type", text(*pick(r, ACCOUNT_TYPES))),
        ("Industry", text(*pick(r, INDUSTRIES))),
        ("Phone", text(format!("+1 555 {:03} {:04}", r.random_range(100..999), n % 10_000))),
        ("BillingStreet", text(street.clone())),
        ("BillingCity", text(city)),
        ("BillingPostalCode", text(postal)),
        ("BillingCountry", text(country)),
        ("NumberOfEmployees", Sql::Integer(r.random_range(5..5000))),
        ("AnnualRevenue", Sql::Real(f64::from(r.random_range(100u32..50_000)) * 1000.0)),
        ("External_Id__c", text(format!("ACC-{:07}", n + 1))),
    ];
    let Some(account_id) = w.insert("Account", "001", 365, &fields)? else { return Ok(()) };

    let mut contacts = Vec::new();
    for _ in 0..w.rng.random_range(1..=3) {
        let r = &mut w.rng;
        let (first, last) = (*pick(r, FIRST_NAMES), *pick(r, LAST_NAMES));
        let fields = [
            ("OwnerId", text(owner)),
            ("FirstName", text(first)),
            ("LastName", text(last)),
            ("Name", text(format!("{first} {last}"))),
            ("AccountId", text(account_id.clone())),
            (
                "Email",
                text(format!(
                    "{}.{}{}@example.com",
                    first.to_lowercase(),
                    last.to_lowercase(),
                    r.random_range(1..999)
                )),
            ),
            ("Phone", text(format!("+1 555 {:07}", r.random_range(0..10_000_000)))),
            ("Title", text(*pick(r, TITLES))),
            ("MailingCity", text(city)),
        ];
        match w.insert("Contact", "003", 300, &fields)? {
            Some(id) => contacts.push(id),
            None => return Ok(()),
        }
    }

    let mut assets = Vec::new();
    for _ in 0..w.rng.random_range(1..=3) {
        let r = &mut w.rng;
        let p = r.random_range(0..products.len().max(1));
        let installed = w.now - Duration::days(r.random_range(30..2000));
        let serial = format!("SN-{:08X}", r.random::<u32>());
        let mut fields = vec![
            ("OwnerId", text(owner)),
            ("Name", text(format!("Unit {serial}"))),
            ("AccountId", text(account_id.clone())),
            ("SerialNumber", text(serial)),
            ("Status", text(*pick(r, ASSET_STATUS))),
            ("Quantity", Sql::Real(1.0)),
            ("InstallDate", date(installed)),
            ("PurchaseDate", date(installed - Duration::days(30))),
        ];
        if let Some(c) = contacts.first() {
            fields.push(("ContactId", text(c.clone())));
        }
        if let Some(product) = products.get(p) {
            fields.push(("Product2Id", text(product.clone())));
        }
        match w.insert("Asset", "02i", 300, &fields)? {
            Some(id) => assets.push(id),
            None => return Ok(()),
        }
    }

    for _ in 0..w.rng.random_range(1..=3) {
        let ctx = WorkCtx {
            account: &account_id,
            contact: contacts.first().map(String::as_str),
            assets: &assets,
            products,
            technicians,
            street: &street,
            city,
            postal,
            country,
        };
        if !work_order(w, &ctx)? {
            return Ok(());
        }
    }
    Ok(())
}

struct WorkCtx<'a> {
    account: &'a str,
    contact: Option<&'a str>,
    assets: &'a [String],
    products: &'a [String],
    technicians: &'a [String],
    street: &'a str,
    city: &'a str,
    postal: &'a str,
    country: &'a str,
}

/// A business-hours instant within four weeks either side of `now`.
fn appointment_start(w: &mut Writer<'_>) -> DateTime<Utc> {
    let day = w.rng.random_range(-28i64..=28);
    let hour = w.rng.random_range(7u32..17);
    let minute = [0u32, 15, 30, 45][w.rng.random_range(0..4)];
    let base = w.now + Duration::days(day);
    base.with_hour(hour)
        .and_then(|t| t.with_minute(minute))
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(base)
}

/// A work order with its line items and appointments; `false` once the budget is spent.
fn work_order(w: &mut Writer<'_>, c: &WorkCtx<'_>) -> rusqlite::Result<bool> {
    let start = appointment_start(w);
    let hours = w.rng.random_range(1i64..=4);
    let end = start + Duration::hours(hours);
    let past = end < w.now;
    let tech = c.technicians[w.rng.random_range(0..c.technicians.len().max(1))].clone();
    let r = &mut w.rng;
    let status = if past {
        *pick(r, &["Completed", "Completed", "Closed", "Canceled"])
    } else if start < w.now {
        "In Progress"
    } else {
        *pick(r, &["New", "New", "On Hold"])
    };
    let subject = *pick(r, WORK_SUBJECTS);
    let priority = *pick(r, PRIORITIES);
    let asset = (!c.assets.is_empty()).then(|| c.assets[r.random_range(0..c.assets.len())].clone());
    let mut fields = vec![
        ("OwnerId", text(tech.clone())),
        ("Subject", text(subject)),
        ("Description", text(format!("{subject} requested by the customer"))),
        ("Status", text(status)),
        ("Priority", text(priority)),
        ("AccountId", text(c.account)),
        ("StartDate", datetime(start)),
        ("EndDate", datetime(end)),
        ("Duration", Sql::Real(hours as f64)),
        ("Street", text(c.street)),
        ("City", text(c.city)),
        ("PostalCode", text(c.postal)),
        ("Country", text(c.country)),
    ];
    if matches!(status, "Completed" | "Closed") {
        fields.push(("Resolution_Note__c", text(*pick(r, RESOLUTIONS))));
    }
    if let Some(a) = &asset {
        fields.push(("AssetId", text(a.clone())));
    }
    if let Some(contact) = c.contact {
        fields.push(("ContactId", text(contact)));
    }
    let number = w.autonumber("WorkOrder")?;
    fields.push(("WorkOrderNumber", text(number.clone())));
    fields.push(("External_Id__c", text(format!("WO-{number}"))));
    let Some(wo) = w.insert("WorkOrder", "0WO", 60, &fields)? else { return Ok(false) };

    for _ in 0..w.rng.random_range(1..=3) {
        let r = &mut w.rng;
        let line_status = if past { "Completed" } else { "New" };
        let mut fields = vec![
            ("WorkOrderId", text(wo.clone())),
            ("Subject", text(*pick(r, LINE_SUBJECTS))),
            ("Status", text(line_status)),
            ("Quantity", Sql::Real(f64::from(r.random_range(1u32..=4)))),
        ];
        if !c.products.is_empty() {
            fields.push((
                "Product2Id",
                text(c.products[r.random_range(0..c.products.len())].clone()),
            ));
        }
        if let Some(a) = &asset {
            fields.push(("AssetId", text(a.clone())));
        }
        fields.push(("LineItemNumber", text(w.autonumber("WorkOrderLineItem")?)));
        if w.insert("WorkOrderLineItem", "1WL", 60, &fields)?.is_none() {
            return Ok(false);
        }
    }

    let visits = if w.rng.random_range(0..5) == 0 { 2 } else { 1 };
    for visit in 0..visits {
        let s = start + Duration::days(visit * 7);
        let e = s + Duration::hours(hours);
        let r = &mut w.rng;
        let sa_status = if e < w.now {
            *pick(r, &["Completed", "Completed", "Completed", "Cannot Complete"])
        } else if s < w.now {
            "In Progress"
        } else {
            *pick(r, &["Scheduled", "Dispatched"])
        };
        let mut fields = vec![
            ("OwnerId", text(tech.clone())),
            ("ParentRecordId", text(wo.clone())),
            ("Subject", text(subject)),
            ("Status", text(sa_status)),
            ("EarliestStartTime", datetime(s - Duration::days(2))),
            ("DueDate", datetime(e + Duration::days(2))),
            ("SchedStartTime", datetime(s)),
            ("SchedEndTime", datetime(e)),
            ("Technician__c", text(tech.clone())),
        ];
        if matches!(sa_status, "Completed" | "In Progress") {
            fields.push(("ActualStartTime", datetime(s)));
        }
        if sa_status == "Completed" {
            fields.push(("ActualEndTime", datetime(e)));
        }
        fields.push(("AppointmentNumber", text(w.autonumber("ServiceAppointment")?)));
        if w.insert("ServiceAppointment", "08p", 60, &fields)?.is_none() {
            return Ok(false);
        }
    }
    Ok(true)
}
