//! Object tables: creating them per the storage convention, adding columns as describe
//! grows, and the `_objects` catalog that lets offline queries survive restarts.

use std::collections::{BTreeMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};
use soql::schema::{Catalog, ChildRelationship, FieldSchema, FieldType, ObjectSchema, RowFilter};

use crate::StoreError;

/// Bookkeeping columns every object table carries; queries never see `_`-prefixed columns.
///
/// - `_local_only`: 1 while the record exists only on this device (created offline).
/// - `_pending`: 1 while the record has an entry in `_pending_changes`.
/// - `_deleted`: 1 while a local delete waits for upload; the row is hidden from queries.
/// - `_scope_left`: 1 when the server side removed the record but local changes keep it.
/// - `_scope_flags`: bits the sync engine uses to remember why a record is in scope.
pub const BOOKKEEPING_COLUMNS: &[&str] =
    &["_local_only", "_pending", "_deleted", "_scope_left", "_scope_flags"];

/// The objects registered in the store. It implements [`Catalog`] for offline queries and
/// hides locally deleted rows through its row filter.
#[derive(Debug, Clone, Default)]
pub struct ObjectCatalog {
    objects: BTreeMap<String, ObjectSchema>,
}

impl ObjectCatalog {
    /// The registered object names, in their own spelling.
    pub fn names(&self) -> Vec<String> {
        self.objects.values().map(|o| o.name.clone()).collect()
    }

    /// The object, or [`StoreError::UnknownObject`].
    pub fn require(&self, name: &str) -> Result<&ObjectSchema, StoreError> {
        self.object(name).ok_or_else(|| StoreError::UnknownObject(name.to_owned()))
    }

    /// All registered objects.
    pub fn objects(&self) -> impl Iterator<Item = &ObjectSchema> {
        self.objects.values()
    }

    pub(crate) fn insert(&mut self, schema: ObjectSchema) {
        self.objects.insert(schema.name.to_ascii_lowercase(), schema);
    }
}

impl Catalog for ObjectCatalog {
    fn object(&self, name: &str) -> Option<&ObjectSchema> {
        self.objects.get(&name.to_ascii_lowercase())
    }

    fn row_filter(&self, _object: &str, alias: &str) -> Option<RowFilter> {
        Some(RowFilter { sql: format!("\"{alias}\".\"_deleted\" = 0"), params: Vec::new() })
    }
}

/// Whether a name can be an unescaped-safe table or column name: ASCII letters, digits and
/// `_`, starting with a letter (so it can never collide with the store's `_` tables).
pub(crate) fn valid_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Creates the object's table or adds its missing columns, creates its indexes, and
/// records the schema in `_objects`. Runs inside the caller's transaction.
pub(crate) fn ensure_object(
    conn: &Connection,
    schema: &ObjectSchema,
    indexed_fields: &[&str],
) -> Result<(), StoreError> {
    if !valid_name(&schema.name) {
        return Err(StoreError::InvalidSchema(format!("object name '{}'", schema.name)));
    }
    if let Some(bad) = schema.fields.iter().find(|f| !valid_name(&f.name)) {
        return Err(StoreError::InvalidSchema(format!("field name '{}'", bad.name)));
    }
    if !schema.fields.iter().any(|f| f.name == "Id") {
        return Err(StoreError::InvalidSchema(format!("object '{}' has no Id field", schema.name)));
    }
    let table = &schema.name;

    // Create the table, or find which columns it already has.
    let existing: HashSet<String> = {
        let mut stmt = conn.prepare(&format!("PRAGMA table_info(\"{table}\")"))?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(1))?;
        rows.collect::<Result<_, _>>()?
    };
    if existing.is_empty() {
        let mut cols = vec!["\"Id\" TEXT PRIMARY KEY NOT NULL".to_owned()];
        for f in schema.fields.iter().filter(|f| f.name != "Id") {
            cols.push(format!("\"{}\" {}", f.name, f.field_type.sql_affinity()));
        }
        for b in BOOKKEEPING_COLUMNS {
            cols.push(format!("\"{b}\" INTEGER NOT NULL DEFAULT 0"));
        }
        conn.execute_batch(&format!("CREATE TABLE \"{table}\" ({})", cols.join(", ")))?;
        tracing::info!(object = %table, fields = schema.fields.len(), "object table created");
    } else {
        let lower: HashSet<String> = existing.iter().map(|c| c.to_ascii_lowercase()).collect();
        for f in &schema.fields {
            if !lower.contains(&f.name.to_ascii_lowercase()) {
                conn.execute_batch(&format!(
                    "ALTER TABLE \"{table}\" ADD COLUMN \"{}\" {}",
                    f.name,
                    f.field_type.sql_affinity()
                ))?;
                tracing::debug!(object = %table, field = %f.name, "column added");
            }
        }
        for b in BOOKKEEPING_COLUMNS {
            if !lower.contains(*b) {
                conn.execute_batch(&format!(
                    "ALTER TABLE \"{table}\" ADD COLUMN \"{b}\" INTEGER NOT NULL DEFAULT 0"
                ))?;
            }
        }
    }

    // Index reference fields and the caller's filter fields. `SystemModstamp` only when a
    // filter names it: nothing on the device reads records by stamp (the server does), and
    // every download of a changed record would move its entry to a random place of a big
    // index, which at a million records was about a fifth of a delta's time.
    let mut to_index: Vec<String> = schema
        .fields
        .iter()
        .filter(|f| f.field_type == FieldType::Reference)
        .map(|f| f.name.clone())
        .collect();
    for name in indexed_fields {
        let field = schema.field(name).ok_or_else(|| {
            StoreError::InvalidSchema(format!("indexed field '{name}' is not on {table}"))
        })?;
        if !to_index.contains(&field.name) {
            to_index.push(field.name.clone());
        }
    }
    for field in &to_index {
        // Filters compare text fields without case (ids and lookups exactly), so a text
        // field's index must use the same collation for SQLite to use it.
        let collation = schema.field(field).map_or("", |f| f.field_type.index_collation());
        let suffix = if collation.is_empty() { "" } else { "_nocase" };
        conn.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS \"_idx_{table}_{field}{suffix}\" \
             ON \"{table}\" (\"{field}\"{collation})"
        ))?;
    }

    // Tables created before kept a `SystemModstamp` index whatever the filters said.
    if !to_index.iter().any(|f| f == "SystemModstamp") {
        conn.execute_batch(&format!("DROP INDEX IF EXISTS \"_idx_{table}_SystemModstamp\""))?;
    }

    let indexed: Vec<&str> = indexed_fields.to_vec();
    // Object names are case-insensitive: a registration spelled differently replaces the old.
    conn.execute("DELETE FROM _objects WHERE name = ?1 COLLATE NOCASE AND name != ?1", [table])?;
    conn.execute(
        "INSERT INTO _objects (name, schema, indexed_fields) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET schema = excluded.schema,
             indexed_fields = excluded.indexed_fields",
        params![table, schema_to_json(schema).to_string(), serde_json::to_string(&indexed)?],
    )?;
    Ok(())
}

/// Loads every registered object from `_objects`.
pub(crate) fn load_catalog(conn: &Connection) -> Result<ObjectCatalog, StoreError> {
    let mut stmt = conn.prepare("SELECT schema FROM _objects ORDER BY name")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut catalog = ObjectCatalog::default();
    for text in rows {
        let value: Value = serde_json::from_str(&text?)?;
        catalog.insert(schema_from_json(&value)?);
    }
    Ok(catalog)
}

/// The stored schema of one object, if registered.
pub(crate) fn stored_schema(
    conn: &Connection,
    name: &str,
) -> Result<Option<ObjectSchema>, StoreError> {
    let text: Option<String> = conn
        .query_row("SELECT schema FROM _objects WHERE name = ?1", [name], |r| r.get(0))
        .optional()?;
    match text {
        Some(t) => Ok(Some(schema_from_json(&serde_json::from_str(&t)?)?)),
        None => Ok(None),
    }
}

/// Serializes a schema in describe's shape (`fields[].name/type/referenceTo/relationshipName`,
/// `childRelationships[].childSObject/field/relationshipName`).
pub fn schema_to_json(schema: &ObjectSchema) -> Value {
    json!({
        "name": schema.name,
        "fields": schema.fields.iter().map(|f| json!({
            "name": f.name,
            "type": f.field_type.describe_name(),
            "referenceTo": f.reference_to,
            "relationshipName": f.relationship_name,
            "nameField": schema.name_field.as_deref() == Some(f.name.as_str()),
        })).collect::<Vec<_>>(),
        "childRelationships": schema.child_relationships.iter().map(|c| json!({
            "childSObject": c.child_object,
            "field": c.field,
            "relationshipName": c.name,
        })).collect::<Vec<_>>(),
    })
}

/// Reads a schema from describe JSON (or [`schema_to_json`]'s output). Fields of types the
/// convention does not cover (address, location, base64, ...) are left out; child
/// relationships without a name cannot be queried and are left out too.
pub fn schema_from_json(value: &Value) -> Result<ObjectSchema, StoreError> {
    let bad = |what: &str| StoreError::InvalidSchema(format!("describe JSON: {what}"));
    let name = value.get("name").and_then(Value::as_str).ok_or_else(|| bad("no name"))?;
    let mut fields = Vec::new();
    let mut name_field = None;
    for f in value.get("fields").and_then(Value::as_array).ok_or_else(|| bad("no fields"))? {
        let fname = f.get("name").and_then(Value::as_str).ok_or_else(|| bad("field name"))?;
        let ftype = f.get("type").and_then(Value::as_str).unwrap_or_default();
        let Some(field_type) = FieldType::from_describe_name(ftype) else {
            tracing::debug!(object = name, field = fname, ftype, "field type not stored");
            continue;
        };
        let reference_to = f
            .get("referenceTo")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let relationship_name =
            f.get("relationshipName").and_then(Value::as_str).map(str::to_owned);
        if name_field.is_none() && f.get("nameField").and_then(Value::as_bool) == Some(true) {
            name_field = Some(fname.to_owned());
        }
        fields.push(FieldSchema {
            name: fname.to_owned(),
            field_type,
            reference_to,
            relationship_name,
        });
    }
    let mut child_relationships = Vec::new();
    if let Some(children) = value.get("childRelationships").and_then(Value::as_array) {
        for c in children {
            let (Some(rel), Some(child), Some(field)) = (
                c.get("relationshipName").and_then(Value::as_str),
                c.get("childSObject").and_then(Value::as_str),
                c.get("field").and_then(Value::as_str),
            ) else {
                continue;
            };
            child_relationships.push(ChildRelationship {
                name: rel.to_owned(),
                child_object: child.to_owned(),
                field: field.to_owned(),
            });
        }
    }
    Ok(ObjectSchema { name: name.to_owned(), fields, child_relationships, name_field })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_schema_reads_back_with_its_name_field() {
        let field = |name: &str, field_type| FieldSchema {
            name: name.into(),
            field_type,
            reference_to: Vec::new(),
            relationship_name: None,
        };
        let schema = ObjectSchema {
            name: "WorkOrder".into(),
            fields: vec![field("Id", FieldType::Id), field("WorkOrderNumber", FieldType::String)],
            child_relationships: Vec::new(),
            name_field: Some("WorkOrderNumber".into()),
        };
        assert_eq!(schema_from_json(&schema_to_json(&schema)).unwrap(), schema);
    }
}
