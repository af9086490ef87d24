//! Opening the encrypted database, the writer connection and the pool of reader connections.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use soql::schema::ObjectSchema;

use crate::cipher::{self, PageHmac};
use crate::lock::InstanceLock;
use crate::migrate::{SCHEMA_VERSION, migrate_to};
use crate::objects::{self, ObjectCatalog};
use crate::tx::{Reader, WriteTx};
use crate::{StoreError, StoreKey};

/// How long a statement waits for another connection's lock before failing with `Busy`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// At most this many idle reader connections are kept open.
const MAX_IDLE_READERS: usize = 4;

/// The device's local store. It is `Send + Sync`: share it behind an `Arc`. Writes are
/// serialized on one connection; reads use their own connections, so they proceed while a
/// sync writes (WAL mode) and always see a committed state.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    key: StoreKey,
    /// The file's page settings, found when the writer opened it.
    hmac: PageHmac,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    catalog: RwLock<Arc<ObjectCatalog>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves the connection usable: its transaction was
    // rolled back when the guard's transaction dropped.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Opens one connection with the page settings `hmac` and proves the key opens the file.
fn connect(
    path: &Path,
    key: &StoreKey,
    read_only: bool,
    hmac: PageHmac,
) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags).map_err(|e| open_error(path, e))?;
    cipher::apply(&conn, key, hmac).map_err(|e| open_error(path, e))?;
    silence_cipher_log(&conn)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // SQLCipher only reads the file on first use: a wrong key shows up here.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))
        .map_err(|e| open_error(path, e))?;
    conn.execute_batch("PRAGMA foreign_keys = ON;")?;
    Ok(conn)
}

/// Opens the writer connection of a file whose page settings are not known yet: the
/// current ones, then those of stores created before them. Only when none opens the
/// file is the key wrong.
fn connect_detecting(path: &Path, key: &StoreKey) -> Result<(Connection, PageHmac), StoreError> {
    let mut last = None;
    for hmac in PageHmac::CANDIDATES {
        match connect(path, key, false, hmac) {
            Ok(conn) => return Ok((conn, hmac)),
            Err(e @ StoreError::WrongKey { .. }) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| StoreError::WrongKey { path: path.to_owned() }))
}

/// Turns SQLCipher's own log off, so that a wrong key reaches the user only as
/// [`StoreError::WrongKey`], not also as SQLCipher's page-decryption lines on standard error.
///
/// SQLCipher's log settings are process-wide, and the first `PRAGMA key` puts its defaults
/// in place (warnings, to standard error) over whatever was set before it: so this runs
/// after the key, on every connection, and before the first page is read.
fn silence_cipher_log(conn: &Connection) -> Result<(), StoreError> {
    conn.query_row("PRAGMA cipher_log = off", [], |_| Ok(()))?;
    conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()))?;
    Ok(())
}

fn open_error(path: &Path, err: rusqlite::Error) -> StoreError {
    match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => StoreError::WrongKey { path: path.to_owned() },
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
            StoreError::Locked { path: path.to_owned() }
        }
        _ => StoreError::from(err),
    }
}

impl Store {
    /// Opens (or creates) the store at `path` with `key`: sets the key, WAL mode, foreign
    /// keys and the busy timeout, then migrates the schema to the current version.
    pub fn open(path: &Path, key: &StoreKey) -> Result<Store, StoreError> {
        Store::open_at_version(path, key, SCHEMA_VERSION)
    }

    /// Opens the store migrating only up to `version`: lets tests build databases as
    /// earlier versions of this program left them.
    #[doc(hidden)]
    pub fn open_at_version(path: &Path, key: &StoreKey, version: i64) -> Result<Store, StoreError> {
        let (mut conn, hmac) = connect_detecting(path, key)?;
        if hmac != PageHmac::Sha256 {
            tracing::debug!(?hmac, "store created with SQLCipher's default page settings");
        }
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| open_error(path, e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::debug!(mode, "journal mode is not WAL");
        }
        // FULL: a commit (a user's edit, a cursor with its rows) survives a power cut.
        conn.execute_batch("PRAGMA synchronous = FULL;")?;
        migrate_to(&mut conn, version).map_err(|e| match e {
            StoreError::Busy => StoreError::Locked { path: path.to_owned() },
            other => other,
        })?;
        let catalog =
            if version >= 1 { objects::load_catalog(&conn)? } else { ObjectCatalog::default() };
        tracing::info!(path = %path.display(), objects = catalog.names().len(), "store opened");
        Ok(Store {
            path: path.to_owned(),
            key: key.clone(),
            hmac,
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            catalog: RwLock::new(Arc::new(catalog)),
        })
    }

    /// Takes the exclusive instance lock on a data directory (see [`InstanceLock`]).
    pub fn lock_exclusive(dir: &Path) -> Result<InstanceLock, StoreError> {
        InstanceLock::acquire(dir)
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(lock(&self.writer).query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// A snapshot of the registered objects (implements `soql::schema::Catalog`).
    pub fn catalog(&self) -> Arc<ObjectCatalog> {
        self.catalog.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Registers an object: creates its table (or adds missing columns), its indexes on
    /// reference fields and `indexed_fields`, and saves its schema.
    pub fn ensure_object(
        &self,
        schema: &ObjectSchema,
        indexed_fields: &[&str],
    ) -> Result<(), StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        objects::ensure_object(&tx, schema, indexed_fields)?;
        let stored = objects::stored_schema(&tx, &schema.name)?;
        tx.commit()?;

        // Prepare, then apply: the catalog changes only after the commit.
        let mut next = (*self.catalog()).clone();
        next.insert(stored.unwrap_or_else(|| schema.clone()));
        *self.catalog.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
        Ok(())
    }

    /// Runs `f` in one write transaction: everything it writes (records, pending changes,
    /// cursors, history) commits together, or nothing does if it returns an error.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&mut WriteTx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let catalog = self.catalog();
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut wtx = WriteTx::new(tx, catalog);
        let value = f(&mut wtx)?;
        wtx.commit()?;
        Ok(value)
    }

    /// Like [`Store::write`], for a bulk download the server can send again (a page of
    /// priming): the commit is atomic but is not flushed to disk on its own, so it costs
    /// no fsync.
    ///
    /// Why that is safe: the store runs in WAL mode, where `synchronous = NORMAL` keeps
    /// the file consistent and gives up only durability. The log is appended in commit
    /// order and checksummed frame by frame, so a power cut can undo only a suffix of
    /// commits, each one whole: the rows of a page and the cursor that covers them go
    /// together, and priming resumes from the last cursor that survived. Every
    /// [`Store::write`] commit (a local edit, a cursor of a delta, the end of priming)
    /// flushes the log, and with it every commit made before it. A killed process loses
    /// nothing: the data is in the OS's cache.
    pub fn write_unflushed<T>(
        &self,
        f: impl FnOnce(&mut WriteTx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let catalog = self.catalog();
        let mut conn = lock(&self.writer);
        conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut wtx = WriteTx::new(tx, catalog);
            let value = f(&mut wtx)?;
            wtx.commit()?;
            Ok(value)
        })();
        // Back to flushing every commit, whatever happened.
        conn.execute_batch("PRAGMA synchronous = FULL;")?;
        result
    }

    /// Runs a SOQL query over the stored records on a reader connection and returns its
    /// first page; see [`Reader::query`].
    pub fn query(
        &self,
        soql: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<serde_json::Value, StoreError> {
        self.read(|r| r.query(soql, now))
    }

    /// [`Store::query`] with pages of `batch_size` records; see [`Reader::query_batched`].
    pub fn query_batched(
        &self,
        soql: &str,
        now: chrono::DateTime<chrono::Utc>,
        batch_size: u32,
    ) -> Result<serde_json::Value, StoreError> {
        self.read(|r| r.query_batched(soql, now, batch_size))
    }

    /// The next page of a query, on a reader connection of its own; see
    /// [`Reader::query_more`].
    pub fn query_more(&self, locator: &str) -> Result<serde_json::Value, StoreError> {
        self.read(|r| r.query_more(locator))
    }

    /// Runs `f` on the writer's connection, between writes: for the small membership
    /// checks a download makes just before it writes the same rows. The pages they read
    /// stay in the writer's cache, so the write that follows finds them in memory instead
    /// of reading and decrypting them again. It waits for a write in progress; long reads
    /// (offline queries, the app's screens) belong on [`Store::read`].
    pub fn read_on_writer<T>(
        &self,
        f: impl FnOnce(&Reader<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let catalog = self.catalog();
        let mut conn = lock(&self.writer);
        let tx = conn.transaction()?;
        let value = f(&Reader::new(&tx, &catalog));
        tx.finish()?;
        value
    }

    /// Runs `f` over a consistent snapshot on a reader connection; it never waits for a
    /// write in progress.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Reader<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let catalog = self.catalog();
        let mut conn = match lock(&self.readers).pop() {
            Some(c) => c,
            None => {
                let c = connect(&self.path, &self.key, true, self.hmac)?;
                c.execute_batch("PRAGMA query_only = ON;")?;
                c
            }
        };
        let result = {
            let tx = conn.transaction()?;
            let value = f(&Reader::new(&tx, &catalog));
            tx.finish()?;
            value
        };
        let mut idle = lock(&self.readers);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use soql::schema::{FieldSchema, FieldType};

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn store_can_be_shared_between_threads() {
        assert_send_sync::<Store>();
    }

    #[test]
    fn a_full_disk_is_reported_and_nothing_is_half_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db"), &StoreKey::generate()).unwrap();
        let field = |name: &str, field_type| FieldSchema {
            name: name.into(),
            field_type,
            reference_to: vec![],
            relationship_name: None,
        };
        let schema = ObjectSchema {
            name: "Note".into(),
            fields: vec![field("Id", FieldType::Id), field("Body", FieldType::TextArea)],
            child_relationships: vec![],
            name_field: None,
        };
        store.ensure_object(&schema, &[]).unwrap();

        // Cap the file at its current size: SQLite then answers SQLITE_FULL.
        {
            let conn = lock(&store.writer);
            let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
            conn.execute_batch(&format!("PRAGMA max_page_count = {pages}")).unwrap();
        }
        let body = "x".repeat(3000);
        let records: Vec<_> = (0..200u64)
            .map(|n| {
                let id = salesforce::SfId::from_parts("0XX", "00", n).to_string();
                json!({"Id": id, "Body": body}).as_object().unwrap().clone()
            })
            .collect();
        let err = store.write(|tx| tx.upsert_records("Note", &records)).unwrap_err();
        assert!(matches!(err, StoreError::DiskFull), "{err:?}");
        assert_eq!(store.read(|r| r.count("Note")).unwrap(), 0);
    }
}
