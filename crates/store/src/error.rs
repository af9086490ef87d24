//! The store's error type, with SQLite failures sorted into the kinds a caller acts on.

use std::path::PathBuf;

use rusqlite::ErrorCode;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Occurs when the key given to [`crate::Store::open`] does not decrypt the file
    /// (SQLCipher reports the file as "not a database"). Retrying with the same key cannot help.
    #[error("the store key does not open {}", path.display())]
    WrongKey { path: PathBuf },
    /// Occurs when another process holds the store or its instance lock; retrying after that
    /// process exits helps.
    #[error("the store at {} is locked by another process", path.display())]
    Locked { path: PathBuf },
    /// Occurs when a statement waited longer than the busy timeout for another connection's
    /// write lock; a retry may succeed.
    #[error("the store is busy: another connection holds the write lock")]
    Busy,
    /// Occurs when the disk (or the file system quota) is full; nothing was written.
    #[error("the disk is full: the store could not write")]
    DiskFull,
    /// Occurs when SQLite finds the file damaged; the store must be rebuilt from the server.
    #[error("the store file is corrupt: {0}")]
    Corrupt(String),
    /// Occurs on any other SQLite failure.
    #[error("sqlite: {0}")]
    Sqlite(rusqlite::Error),
    /// Occurs when a file next to the store (key file, lock file) cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// Occurs when a key file or key bytes do not hold exactly 32 bytes.
    #[error("invalid store key: {0}")]
    InvalidKey(String),
    /// Occurs when a database was written by a newer version of this program.
    #[error("the store has schema version {found}, newer than this program's {supported}")]
    TooNew { found: i64, supported: i64 },
    /// Occurs when an object has not been registered with [`crate::Store::ensure_object`].
    #[error("unknown object '{0}'")]
    UnknownObject(String),
    /// Occurs when an object or field name cannot be a table or column name.
    #[error("invalid schema: {0}")]
    InvalidSchema(String),
    /// Occurs when a record lacks an `Id`, or a field value does not fit the field's type.
    #[error("invalid record for {object}: {reason}")]
    InvalidRecord { object: String, reason: String },
    /// Occurs when a record the caller names is not in the store.
    #[error("no {object} record with id '{id}'")]
    NoSuchRecord { object: String, id: String },
    /// Occurs when a pending change with this sequence number does not exist.
    #[error("no pending change {0}")]
    NoSuchChange(i64),
    /// Occurs when a sync event with this id does not exist (it may have been pruned).
    #[error("no sync event {0}")]
    NoSuchEvent(i64),
    /// Occurs when a pending change or edit is not allowed in the change's current state.
    #[error("pending change {seq}: {reason}")]
    InvalidTransition { seq: i64, reason: String },
    /// Occurs when an edit is not allowed on the record (for example, editing a deleted record).
    #[error("cannot edit {object} '{id}': {reason}")]
    InvalidEdit { object: String, id: String, reason: String },
    /// Occurs when stored JSON cannot be read back (a bug or tampering).
    #[error("stored JSON is unreadable: {0}")]
    Json(#[from] serde_json::Error),
    /// Occurs when an offline query does not parse or names unknown objects or fields.
    #[error("query: {0}")]
    Query(#[from] soql::SoqlError),
    /// Occurs when a query locator (the end of a `nextRecordsUrl`) given to
    /// [`crate::Store::query_more`] was not made by this store's query: mangled, cut
    /// short, or from another program. Retrying cannot help; run the query again.
    #[error("invalid query locator: {0}")]
    BadLocator(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::DatabaseCorrupt) | Some(ErrorCode::NotADatabase) => {
                StoreError::Corrupt(err.to_string())
            }
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => StoreError::Busy,
            _ => StoreError::Sqlite(err),
        }
    }
}

impl StoreError {
    /// Whether retrying the same operation later can succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Busy | StoreError::Locked { .. } | StoreError::DiskFull)
    }
}
