//! Validated local edits: create, update and delete records on the device, each value
//! checked against the object's describe before the edit is queued for upload.
//!
//! The engine keeps only the query schema of each object; the rules an edit needs
//! (lengths, picklist values, required, createable and updateable fields) come from the
//! full describe, which [`cache_describes`] fetches while online and keeps in the store's
//! key-value table, so edits validate offline too.
//!
//! - [`Edits`]: create, update, delete over a [`store::Store`], one transaction each.
//! - [`validate`]: the per-field checks, pure functions over a describe.
//! - [`parse`]: `field=value` text (as the command line takes it) into typed JSON values.

mod describe;
pub mod parse;
pub mod validate;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use salesforce::wire::SObjectDescribe;
use serde_json::Value;
use store::{ChangeOp, EditOutcome, Record, Store, StoreError};
use tracing::debug;

pub use describe::{DESCRIBE_KEY_PREFIX, cache_describes, cached_describe};
pub use parse::parse_assignments;
pub use validate::{EditKind, FieldError, validate_fields};

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// Occurs when the object is not one the device syncs (no describe is cached for it).
    #[error("unknown object '{0}': not in the sync profile")]
    UnknownObject(String),
    /// Occurs when the org does not let the user create, update or delete this object.
    #[error("{object}: records cannot be {action}")]
    NotAllowed {
        /// The object.
        object: String,
        /// `created`, `updated` or `deleted`.
        action: &'static str,
    },
    /// Occurs when one or more values do not fit their fields; one entry per field.
    #[error("{}", join(.0))]
    Invalid(Vec<FieldError>),
    /// Occurs when the store refuses the edit (no such record, record deleted, busy).
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Occurs when fetching a describe from the org fails.
    #[error("{0}")]
    Remote(#[from] salesforce::client::Error),
}

fn join(errors: &[FieldError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// Local edits over one store, validated against the cached describes.
#[derive(Debug, Clone, Copy)]
pub struct Edits<'a> {
    store: &'a Store,
}

impl<'a> Edits<'a> {
    /// Edits over `store`.
    pub fn new(store: &'a Store) -> Edits<'a> {
        Edits { store }
    }

    /// Edits over the engine's store.
    pub fn for_engine(engine: &'a crate::Engine) -> Edits<'a> {
        Edits { store: engine.store() }
    }

    /// The cached describe of `object`, or [`EditError::UnknownObject`].
    pub fn describe(&self, object: &str) -> Result<SObjectDescribe, EditError> {
        cached_describe(self.store, object)?.ok_or_else(|| EditError::UnknownObject(object.into()))
    }

    /// Creates a record locally; its id is a new local id until the upload lands.
    pub fn create(
        &self,
        object: &str,
        fields: &Record,
        now: DateTime<Utc>,
    ) -> Result<EditOutcome, EditError> {
        let describe = self.describe(object)?;
        if !describe.createable {
            return Err(EditError::NotAllowed { object: describe.name, action: "created" });
        }
        let fields = self.checked(&describe, fields, EditKind::Create)?;
        let outcome = self
            .store
            .write(|tx| tx.record_edit(&describe.name, None, ChangeOp::Create, &fields, now))?;
        debug!(object = %describe.name, fields = fields.len(), "local create validated");
        Ok(outcome)
    }

    /// Changes fields of a stored record.
    pub fn update(
        &self,
        object: &str,
        id: &str,
        fields: &Record,
        now: DateTime<Utc>,
    ) -> Result<EditOutcome, EditError> {
        let describe = self.describe(object)?;
        if !describe.updateable {
            return Err(EditError::NotAllowed { object: describe.name, action: "updated" });
        }
        let fields = self.checked(&describe, fields, EditKind::Update)?;
        let outcome = self
            .store
            .write(|tx| tx.record_edit(&describe.name, Some(id), ChangeOp::Update, &fields, now))?;
        debug!(object = %describe.name, fields = fields.len(), "local update validated");
        Ok(outcome)
    }

    /// Deletes a stored record (it stays hidden until the delete is uploaded).
    pub fn delete(
        &self,
        object: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<EditOutcome, EditError> {
        let describe = self.describe(object)?;
        if !describe.deletable {
            return Err(EditError::NotAllowed { object: describe.name, action: "deleted" });
        }
        let none = Record::new();
        let outcome = self
            .store
            .write(|tx| tx.record_edit(&describe.name, Some(id), ChangeOp::Delete, &none, now))?;
        Ok(outcome)
    }

    /// Validates `fields`, then checks that local ids in lookups name records on this device.
    fn checked(
        &self,
        describe: &SObjectDescribe,
        fields: &Record,
        kind: EditKind,
    ) -> Result<Record, EditError> {
        let (canonical, mut errors) = validate_fields(describe, fields, kind);
        for (name, value) in &canonical {
            let Value::String(id) = value else { continue };
            if !store::pending::is_local_id(id) {
                continue;
            }
            let Some(field) = describe.fields.iter().find(|f| &f.name == name) else { continue };
            let mut found = false;
            for target in &field.reference_to {
                if self.store.catalog().require(target).is_err() {
                    continue;
                }
                if self.store.read(|r| r.get_record(target, id))?.is_some() {
                    found = true;
                    break;
                }
            }
            if !found {
                errors.push(FieldError::new(name, format!("no record with local id '{id}'")));
            }
        }
        if errors.is_empty() { Ok(canonical) } else { Err(EditError::Invalid(errors)) }
    }
}
