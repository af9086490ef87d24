//! The org's SQLite database: one table per object (the `soql::schema` convention), plus
//! bookkeeping tables whose names start with `_` (metadata, tokens, authorization codes).

use rusqlite::{Connection, OptionalExtension, params};
use salesforce::SfId;

use crate::clock::format_datetime;
use crate::schema::{ObjectDef, Schema};

/// The column that records when a row was soft-deleted.
pub const DELETED_DATE: &str = "_DeletedDate";

/// Characters 4 to 6 of every id this org hands out.
const INSTANCE: &str = "5g0";

/// Pages of the database the connection keeps in memory (in KiB, as `cache_size` takes
/// a negative size): a 2,000-record page reads its rows from here rather than through a
/// system call per database page.
const CACHE_KIB: i64 = 64 * 1024;

/// How much of the database file is mapped into memory for reads.
const MMAP_BYTES: i64 = 1 << 30;

/// Sizes the connection's page cache and memory map for serving pages of records.
pub fn tune(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "PRAGMA cache_size = -{CACHE_KIB}; PRAGMA mmap_size = {MMAP_BYTES};"
    ))
}

/// Creates every table and index that does not exist yet, adding columns that a newer
/// schema declares to tables created by an older one.
pub fn migrate(conn: &Connection, schema: &Schema) -> rusqlite::Result<()> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         CREATE TABLE IF NOT EXISTS _meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS _tokens (
            token TEXT PRIMARY KEY, kind TEXT NOT NULL, user_id TEXT NOT NULL,
            client_id TEXT NOT NULL, issued_at INTEGER NOT NULL, expires_at INTEGER);
         CREATE TABLE IF NOT EXISTS _auth_codes (
            code TEXT PRIMARY KEY, user_id TEXT NOT NULL, client_id TEXT NOT NULL,
            redirect_uri TEXT NOT NULL, challenge TEXT, method TEXT, expires_at INTEGER NOT NULL);",
    )?;
    for obj in schema.objects() {
        create_object_table(conn, obj)?;
    }
    Ok(())
}

fn create_object_table(conn: &Connection, obj: &ObjectDef) -> rusqlite::Result<()> {
    let mut columns: Vec<String> = obj
        .fields
        .iter()
        .map(|f| {
            if f.name == "Id" {
                "\"Id\" TEXT PRIMARY KEY".to_string()
            } else {
                format!("\"{}\" {}", f.name, f.field_type.sql_affinity())
            }
        })
        .collect();
    columns.push(format!("\"{DELETED_DATE}\" TEXT"));
    if obj.name == "User" {
        columns.push("\"_PasswordHash\" TEXT".into());
        columns.push("\"_Admin\" INTEGER NOT NULL DEFAULT 0".into());
    }
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS \"{}\" ({})",
        obj.name,
        columns.join(", ")
    ))?;

    // Columns a schema file added since the table was created.
    let existing: Vec<String> = conn
        .prepare(&format!("SELECT name FROM pragma_table_info('{}')", obj.name))?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for f in &obj.fields {
        if !existing.iter().any(|c| c.eq_ignore_ascii_case(&f.name)) {
            conn.execute_batch(&format!(
                "ALTER TABLE \"{}\" ADD COLUMN \"{}\" {}",
                obj.name,
                f.name,
                f.field_type.sql_affinity()
            ))?;
        }
    }

    // Lookups compare exactly and text without case (as queries and external-id matches
    // do), so each index takes the collation its comparisons use.
    let mut indexed: Vec<(&str, &str)> = vec![("SystemModstamp", "")];
    for f in &obj.fields {
        if f.field_type == soql::schema::FieldType::Reference || f.external_id {
            indexed.push((&f.name, f.field_type.index_collation()));
        }
    }
    for (col, collation) in indexed {
        let suffix = if collation.is_empty() { "" } else { "_nocase" };
        conn.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS \"{0}_{1}{suffix}\" ON \"{0}\" (\"{1}\"{collation})",
            obj.name, col
        ))?;
    }
    // The replication API's `deleted` reads the recycle bin by deletion date; only deleted
    // rows are indexed, so the index stays as small as the bin.
    if obj.fields.iter().any(|f| f.name == "IsDeleted") {
        conn.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS \"{0}_{DELETED_DATE}\" ON \"{0}\" (\"{DELETED_DATE}\") WHERE \"IsDeleted\" = 1",
            obj.name
        ))?;
    }
    Ok(())
}

/// Gathers the planner's statistics (`sqlite_stat1`, and `sqlite_stat4` samples of every
/// index, so that a range bound by a parameter is costed by its actual value).
pub fn analyze(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("ANALYZE")
}

/// A value from `_meta`.
pub fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM _meta WHERE key = ?1", [key], |r| r.get(0)).optional()
}

/// Sets a value in `_meta`.
pub fn set_meta(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO _meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Increments a counter in `_meta` and returns the new value.
pub fn next_counter(conn: &Connection, key: &str, start: i64) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO _meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
        params![key, start.to_string()],
    )?;
    let v: String =
        conn.query_row("SELECT value FROM _meta WHERE key = ?1", [key], |r| r.get(0))?;
    Ok(v.parse().unwrap_or(start))
}

/// A fresh record id with this key prefix.
pub fn new_id(conn: &Connection, key_prefix: &str) -> rusqlite::Result<SfId> {
    let n = next_counter(conn, "id_counter", 100_000)?;
    Ok(SfId::from_parts(key_prefix, INSTANCE, n as u64))
}

/// The org id, created on first start.
pub fn org_id(conn: &Connection) -> rusqlite::Result<SfId> {
    if let Some(id) = meta(conn, "org_id")?.and_then(|s| SfId::parse(&s).ok()) {
        return Ok(id);
    }
    let id = SfId::from_parts("00D", INSTANCE, rand::random::<u32>() as u64 + 1_000_000);
    set_meta(conn, "org_id", id.as_str())?;
    Ok(id)
}

/// A user who may sign in.
#[derive(Debug, Clone)]
pub struct SeedUser {
    pub username: &'static str,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub alias: &'static str,
    pub password: &'static str,
    pub admin: bool,
}

/// Demo users: an administrator, three technicians and an integration user.
pub const SEED_USERS: &[SeedUser] = &[
    SeedUser {
        username: "admin@devorg.example",
        first_name: "Ada",
        last_name: "Admin",
        alias: "aadmin",
        password: crate::DEMO_ADMIN_PASSWORD,
        admin: true,
    },
    SeedUser {
        username: "tech1@field.example",
        first_name: "Tara",
        last_name: "Technician",
        alias: "tech1",
        password: crate::DEMO_TECH_PASSWORD,
        admin: false,
    },
    SeedUser {
        username: "tech2@field.example",
        first_name: "Theo",
        last_name: "Technician",
        alias: "tech2",
        password: crate::DEMO_TECH_PASSWORD,
        admin: false,
    },
    SeedUser {
        username: "tech3@field.example",
        first_name: "Toni",
        last_name: "Technician",
        alias: "tech3",
        password: crate::DEMO_TECH_PASSWORD,
        admin: false,
    },
    SeedUser {
        username: crate::INTEGRATION_USERNAME,
        first_name: "Integration",
        last_name: "User",
        alias: "integ",
        password: crate::DEMO_INTEGRATION_PASSWORD,
        admin: true,
    },
];

/// Inserts the demo users when the org has none.
pub fn seed_users(conn: &Connection, now: chrono::DateTime<chrono::Utc>) -> rusqlite::Result<()> {
    let count: i64 = conn.query_row("SELECT COUNT(*) FROM \"User\"", [], |r| r.get(0))?;
    if count > 0 {
        return Ok(());
    }
    let stamp = format_datetime(now);
    let mut first_id: Option<String> = None;
    for u in SEED_USERS {
        let id = new_id(conn, "005")?.to_string();
        let creator = first_id.clone().unwrap_or_else(|| id.clone());
        conn.execute(
            "INSERT INTO \"User\" (\"Id\", \"Username\", \"FirstName\", \"LastName\", \"Name\",
                \"Email\", \"Alias\", \"IsActive\", \"TimeZoneSidKey\", \"UserType\", \"IsDeleted\",
                \"CreatedDate\", \"CreatedById\", \"LastModifiedDate\", \"LastModifiedById\",
                \"SystemModstamp\", \"_PasswordHash\", \"_Admin\")
             VALUES (?1, ?2, ?3, ?4, ?5, ?2, ?6, 1, 'GMT', 'Standard', 0, ?7, ?8, ?7, ?8, ?7, ?9, ?10)",
            params![
                id,
                u.username,
                u.first_name,
                u.last_name,
                format!("{} {}", u.first_name, u.last_name),
                u.alias,
                stamp,
                creator,
                crate::auth::hash_password(&id, u.password),
                u.admin,
            ],
        )?;
        first_id.get_or_insert(id);
    }
    Ok(())
}

/// Inserts the org's own `Organization` row when it is missing.
pub fn seed_organization(
    conn: &Connection,
    org_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> rusqlite::Result<()> {
    let creator: Option<String> = conn
        .query_row("SELECT \"Id\" FROM \"User\" ORDER BY \"Id\" LIMIT 1", [], |r| r.get(0))
        .optional()?;
    let stamp = format_datetime(now);
    conn.execute(
        "INSERT OR IGNORE INTO \"Organization\" (\"Id\", \"Name\", \"OrganizationType\",
            \"InstanceName\", \"IsSandbox\", \"LanguageLocaleKey\", \"DefaultLocaleSidKey\",
            \"TimeZoneSidKey\", \"IsDeleted\", \"CreatedDate\", \"CreatedById\",
            \"LastModifiedDate\", \"LastModifiedById\", \"SystemModstamp\")
         VALUES (?1, 'devorg', 'Developer Edition', 'DEV1', 0, 'en_US', 'en_US', 'GMT', 0,
            ?2, ?3, ?2, ?3, ?2)",
        params![org_id, stamp, creator],
    )?;
    Ok(())
}

/// A signed-in user as the API sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    pub username: String,
    /// Sees and edits every record (administrators and the integration user).
    pub admin: bool,
}

/// Loads an active user by id.
pub fn load_principal(conn: &Connection, user_id: &str) -> rusqlite::Result<Option<Principal>> {
    conn.query_row(
        "SELECT \"Id\", \"Username\", \"_Admin\" FROM \"User\" WHERE \"Id\" = ?1 AND \"IsActive\" = 1",
        [user_id],
        |r| Ok(Principal { user_id: r.get(0)?, username: r.get(1)?, admin: r.get(2)? }),
    )
    .optional()
}

/// Finds an active user's id and password hash by username (case-insensitive).
pub fn find_user(conn: &Connection, username: &str) -> rusqlite::Result<Option<(String, String)>> {
    conn.query_row(
        "SELECT \"Id\", COALESCE(\"_PasswordHash\", '') FROM \"User\"
         WHERE lower(\"Username\") = lower(?1) AND \"IsActive\" = 1",
        [username],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}
