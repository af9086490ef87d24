//! Create, update, upsert and delete, in Salesforce's order of checks: field names and
//! types, field-level access, required fields, references, validation rules, uniqueness.

use std::collections::HashMap;

use rusqlite::params_from_iter;
use rusqlite::types::Value as Sql;
use salesforce::SfId;
use serde_json::{Map, Value};
use soql::schema::FieldType;

use super::{Ctx, Row, find_by_field, load_row, values};
use crate::clock::format_datetime;
use crate::db::{self, DELETED_DATE};
use crate::error::ApiError;
use crate::schema::{FieldDef, ObjectDef, Sharing};

/// What an upsert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpsertOutcome {
    Created(String),
    Updated(String),
    /// The external id matched several records; nothing was written.
    Multiple(Vec<String>),
}

fn no_such_column(obj: &ObjectDef, name: &str) -> ApiError {
    ApiError::bad_request(
        "INVALID_FIELD",
        format!("No such column '{name}' on sobject of type {}", obj.name),
    )
    .with_fields(vec![name.to_string()])
}

fn insufficient_access() -> ApiError {
    ApiError::bad_request(
        "INSUFFICIENT_ACCESS_OR_READONLY",
        "insufficient access rights on object id",
    )
}

/// Converts a request body into column values, checking names, types and writability.
fn prepare(
    ctx: &Ctx<'_>,
    obj: &ObjectDef,
    body: &Map<String, Value>,
    insert: bool,
) -> Result<Vec<(String, Sql)>, ApiError> {
    let mut out = Vec::new();
    let mut read_only = Vec::new();
    for (key, v) in body {
        if key == "attributes" {
            continue;
        }
        if let Some(f) = obj.field(key) {
            if f.name == "Id" {
                if insert {
                    return Err(ApiError::bad_request(
                        "INVALID_FIELD_FOR_INSERT_UPDATE",
                        "cannot specify Id in an insert call",
                    )
                    .with_fields(vec!["Id".into()]));
                }
                continue;
            }
            let writable = if insert { f.createable } else { f.updateable };
            if !writable {
                read_only.push(f.name.clone());
                continue;
            }
            out.push((f.name.clone(), values::to_sql(f, v)?));
        } else if let (Some(f), Value::Object(key_map)) = (
            obj.fields.iter().find(|f| {
                f.relationship_name.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(key))
            }),
            v,
        ) {
            out.push((f.name.clone(), Sql::Text(resolve_foreign_key(ctx, f, key_map)?)));
        } else {
            return Err(no_such_column(obj, key));
        }
    }
    if !read_only.is_empty() {
        return Err(ApiError::bad_request(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            format!(
                "Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                read_only.join(", ")
            ),
        )
        .with_fields(read_only));
    }
    Ok(out)
}

/// Resolves `"Account": {"External_Id__c": "A-1"}` to the parent's id. Through a
/// polymorphic field the key names its object: `{"attributes": {"type": "WorkOrder"}, ...}`.
fn resolve_foreign_key(
    ctx: &Ctx<'_>,
    f: &FieldDef,
    key: &Map<String, Value>,
) -> Result<String, ApiError> {
    let named = key.get("attributes").and_then(|a| a.get("type")).and_then(Value::as_str);
    let target = match named {
        Some(t) => f.reference_to.iter().find(|r| r.eq_ignore_ascii_case(t)),
        None if f.reference_to.len() == 1 => f.reference_to.first(),
        None => None,
    };
    let parent = target.and_then(|p| ctx.org.schema.object(p));
    let entry = key.iter().find(|(k, _)| k.as_str() != "attributes");
    let (Some(parent), Some((ext_name, ext_value))) = (parent, entry) else {
        return Err(ApiError::bad_request(
            "INVALID_FIELD",
            format!("Invalid foreign key for {}", f.name),
        ));
    };
    let ext =
        parent.field(ext_name).filter(|e| e.external_id || e.name == "Id").ok_or_else(|| {
            ApiError::bad_request(
                "INVALID_FIELD",
                format!(
                    "Field {ext_name} is not an external ID or indexed field for {}",
                    parent.name
                ),
            )
        })?;
    let value = values::to_sql(ext, ext_value)?;
    let ids = find_by_field(ctx.conn, parent, &ext.name, &value)?;
    let shown = match ext_value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match ids.as_slice() {
        [id] => Ok(id.clone()),
        [] => Err(ApiError::bad_request(
            "INVALID_FIELD",
            format!(
                "Foreign key external ID: {shown} not found for field {} in entity {}",
                ext.name, parent.name
            ),
        )),
        _ => Err(ApiError::bad_request(
            "INVALID_FIELD",
            format!(
                "Foreign key external ID: {shown} matches more than one record for field {} in entity {}",
                ext.name, parent.name
            ),
        )),
    }
}

/// Checks a reference value: right object type, a live record, and access to it.
fn check_reference(ctx: &Ctx<'_>, obj: &ObjectDef, f: &FieldDef, id: &str) -> Result<(), ApiError> {
    let target = SfId::parse(id).ok().and_then(|i| ctx.org.schema.object_by_prefix(i.key_prefix()));
    let Some(target) =
        target.filter(|t| f.reference_to.iter().any(|r| r.eq_ignore_ascii_case(&t.name)))
    else {
        return Err(ApiError::bad_request(
            "FIELD_INTEGRITY_EXCEPTION",
            format!("{}: id value of incorrect type: {id}", f.label),
        )
        .with_fields(vec![f.name.clone()]));
    };
    let row = load_row(ctx.conn, target, id)?;
    if row.as_ref().is_some_and(|r| r.deleted) && target.name != "User" {
        return Err(ApiError::bad_request("ENTITY_IS_DELETED", "entity is deleted")
            .with_fields(vec![f.name.clone()]));
    }
    let live = match &row {
        Some(r) if target.name == "User" => {
            !r.deleted && matches!(r.get("IsActive"), Sql::Integer(1))
        }
        Some(r) => !r.deleted,
        None => false,
    };
    if !live {
        return Err(ApiError::bad_request(
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
        )
        .with_fields(vec![f.name.clone()]));
    }
    let controlling = ctx.org.sharing_of(&obj.name) == Sharing::ControlledByParent(f.name.clone());
    let allowed = if controlling {
        ctx.access.can_edit(ctx.conn, &target.name, id)?
    } else if target.name == "User" {
        true
    } else {
        ctx.access.can_read(ctx.conn, &target.name, id)?
    };
    if !allowed {
        return Err(ApiError::bad_request(
            "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
            format!("insufficient access rights on cross-reference id: {id}"),
        )
        .with_fields(vec![f.name.clone()]));
    }
    Ok(())
}

fn is_blank(v: &Sql) -> bool {
    match v {
        Sql::Null => true,
        Sql::Text(t) => t.trim().is_empty(),
        _ => false,
    }
}

/// Checks the full record that would be stored, for the fields this write changes.
fn check_record(
    ctx: &Ctx<'_>,
    obj: &ObjectDef,
    merged: &HashMap<String, Sql>,
    changed: &[String],
    own_id: Option<&str>,
) -> Result<(), ApiError> {
    let missing: Vec<String> = obj
        .fields
        .iter()
        .filter(|f| f.required && merged.get(&f.name).is_none_or(is_blank))
        .map(|f| f.name.clone())
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::bad_request(
            "REQUIRED_FIELD_MISSING",
            format!("Required fields are missing: [{}]", missing.join(", ")),
        )
        .with_fields(missing));
    }

    for name in changed {
        let Some(f) = obj.field(name) else { continue };
        if let (FieldType::Reference, Some(Sql::Text(id))) = (f.field_type, merged.get(name)) {
            check_reference(ctx, obj, f, id)?;
        }
    }

    for rule in &obj.validation_rules {
        let hit = match merged.get(&rule.field) {
            Some(Sql::Text(v)) => rule.values.iter().any(|r| r == v),
            _ => false,
        };
        if hit && merged.get(&rule.required_field).is_none_or(is_blank) {
            return Err(ApiError::bad_request(
                "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                rule.message.clone(),
            )
            .with_fields(Vec::new()));
        }
    }

    for name in changed {
        let Some(f) = obj.field(name).filter(|f| f.unique) else { continue };
        let Some(value) = merged.get(name).filter(|v| !is_blank(v)) else { continue };
        let dup = find_by_field(ctx.conn, obj, &f.name, value)?
            .into_iter()
            .find(|id| Some(id.as_str()) != own_id);
        if let Some(dup) = dup {
            return Err(ApiError::bad_request(
                "DUPLICATE_VALUE",
                format!(
                    "duplicate value found: {} duplicates value on record with id: {dup}",
                    f.name
                ),
            )
            .with_fields(vec![f.name.clone()]));
        }
    }
    Ok(())
}

/// Keeps a calculated `Name` (`FirstName LastName`) in step with its parts.
fn compute_name(obj: &ObjectDef, merged: &mut HashMap<String, Sql>) {
    if obj.field("Name").is_some_and(|f| f.calculated) && obj.field("LastName").is_some() {
        let part = |k: &str| match merged.get(k) {
            Some(Sql::Text(t)) => t.clone(),
            _ => String::new(),
        };
        let name = format!("{} {}", part("FirstName"), part("LastName")).trim().to_string();
        merged.insert("Name".into(), Sql::Text(name));
    }
}

/// Creates a record and returns its id.
pub fn create(ctx: &Ctx<'_>, obj: &ObjectDef, body: &Map<String, Value>) -> Result<SfId, ApiError> {
    if !obj.createable {
        return Err(ApiError::bad_request(
            "INVALID_TYPE_FOR_OPERATION",
            format!("entity type cannot be inserted: {}", obj.name),
        ));
    }
    let given = prepare(ctx, obj, body, true)?;

    // Defaults first, then what the caller gave.
    let mut merged: HashMap<String, Sql> = HashMap::new();
    for f in &obj.fields {
        if let Some(d) = &f.default_value {
            merged.insert(f.name.clone(), values::to_sql(f, d).unwrap_or(Sql::Null));
        }
    }
    let mut changed: Vec<String> = Vec::new();
    for (k, v) in given {
        changed.push(k.clone());
        merged.insert(k, v);
    }
    if obj.has_owner() && merged.get("OwnerId").is_none_or(is_blank) {
        merged.insert("OwnerId".into(), Sql::Text(ctx.access.user.user_id.clone()));
    }
    compute_name(obj, &mut merged);
    check_record(ctx, obj, &merged, &changed, None)?;

    // Auto-numbers, id and audit fields.
    for f in obj.fields.iter().filter(|f| f.name_field && !f.createable && !f.calculated) {
        let n = db::next_counter(ctx.conn, &format!("autonumber:{}", obj.name), 1)?;
        merged.insert(f.name.clone(), Sql::Text(format!("{n:08}")));
    }
    let id = db::new_id(ctx.conn, &obj.key_prefix)?;
    let stamp = Sql::Text(format_datetime(ctx.now));
    let user = Sql::Text(ctx.access.user.user_id.clone());
    merged.insert("Id".into(), Sql::Text(id.to_string()));
    merged.insert("IsDeleted".into(), Sql::Integer(0));
    for k in ["CreatedDate", "LastModifiedDate", "SystemModstamp"] {
        merged.insert(k.into(), stamp.clone());
    }
    for k in ["CreatedById", "LastModifiedById"] {
        merged.insert(k.into(), user.clone());
    }

    let (cols, vals): (Vec<String>, Vec<Sql>) = obj
        .fields
        .iter()
        .filter_map(|f| merged.remove(&f.name).map(|v| (format!("\"{}\"", f.name), v)))
        .unzip();
    let placeholders = vec!["?"; cols.len()].join(", ");
    ctx.conn.execute(
        &format!("INSERT INTO \"{}\" ({}) VALUES ({placeholders})", obj.name, cols.join(", ")),
        params_from_iter(vals),
    )?;
    tracing::trace!(object = %obj.name, "record created");
    Ok(id)
}

/// Loads a record for writing: `NOT_FOUND`, `ENTITY_IS_DELETED` or
/// `INSUFFICIENT_ACCESS_OR_READONLY` when it cannot be written.
fn writable_row(ctx: &Ctx<'_>, obj: &ObjectDef, id: &SfId) -> Result<Row, ApiError> {
    if id.key_prefix() != obj.key_prefix {
        return Err(ApiError::not_found());
    }
    let row = load_row(ctx.conn, obj, id.as_str())?.ok_or_else(ApiError::not_found)?;
    if row.deleted {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "ENTITY_IS_DELETED",
            "entity is deleted",
        ));
    }
    if !ctx.access.can_edit(ctx.conn, &obj.name, id.as_str())? {
        return Err(insufficient_access());
    }
    Ok(row)
}

/// Updates a record with the fields in `body`.
pub fn update(
    ctx: &Ctx<'_>,
    obj: &ObjectDef,
    id: &SfId,
    body: &Map<String, Value>,
) -> Result<(), ApiError> {
    let row = writable_row(ctx, obj, id)?;
    let given = prepare(ctx, obj, body, false)?;
    let mut merged = row.values.clone();
    let mut changed = Vec::new();
    for (k, v) in given {
        if merged.get(&k) != Some(&v) {
            changed.push(k.clone());
        }
        merged.insert(k, v);
    }
    compute_name(obj, &mut merged);
    check_record(ctx, obj, &merged, &changed, Some(id.as_str()))?;
    if changed.iter().any(|c| c == "OwnerId") {
        tracing::debug!(object = %obj.name, "ownership transferred");
    }

    let stamp = Sql::Text(format_datetime(ctx.now));
    merged.insert("LastModifiedDate".into(), stamp.clone());
    merged.insert("SystemModstamp".into(), stamp);
    merged.insert("LastModifiedById".into(), Sql::Text(ctx.access.user.user_id.clone()));
    let (sets, mut vals): (Vec<String>, Vec<Sql>) = obj
        .fields
        .iter()
        .filter(|f| f.name != "Id")
        .filter_map(|f| merged.remove(&f.name).map(|v| (format!("\"{}\" = ?", f.name), v)))
        .unzip();
    vals.push(Sql::Text(id.to_string()));
    ctx.conn.execute(
        &format!("UPDATE \"{}\" SET {} WHERE \"Id\" = ?", obj.name, sets.join(", ")),
        params_from_iter(vals),
    )?;
    tracing::trace!(object = %obj.name, "record updated");
    Ok(())
}

/// Moves a record (and the children it cascades to) to the recycle bin.
pub fn delete(ctx: &Ctx<'_>, obj: &ObjectDef, id: &SfId) -> Result<(), ApiError> {
    writable_row(ctx, obj, id)?;
    soft_delete(ctx, obj, id.as_str(), 0)?;
    tracing::trace!(object = %obj.name, "record deleted");
    Ok(())
}

fn soft_delete(ctx: &Ctx<'_>, obj: &ObjectDef, id: &str, depth: usize) -> rusqlite::Result<()> {
    let stamp = format_datetime(ctx.now);
    ctx.conn.execute(
        &format!(
            "UPDATE \"{}\" SET \"IsDeleted\" = 1, \"{DELETED_DATE}\" = ?1, \"SystemModstamp\" = ?1,
             \"LastModifiedDate\" = ?1, \"LastModifiedById\" = ?2 WHERE \"Id\" = ?3",
            obj.name
        ),
        rusqlite::params![stamp, ctx.access.user.user_id, id],
    )?;
    if depth > 4 {
        return Ok(());
    }
    for child in ctx.org.schema.children(&obj.name).iter().filter(|c| c.cascade_delete) {
        let Some(child_obj) = ctx.org.schema.object(&child.child_object) else { continue };
        let ids = find_by_field(ctx.conn, child_obj, &child.field, &Sql::Text(id.to_string()))?;
        for child_id in ids {
            soft_delete(ctx, child_obj, &child_id, depth + 1)?;
        }
    }
    Ok(())
}

/// Creates or updates the record whose external id `field` equals `value`.
pub fn upsert(
    ctx: &Ctx<'_>,
    obj: &ObjectDef,
    field: &str,
    value: &str,
    body: &Map<String, Value>,
) -> Result<UpsertOutcome, ApiError> {
    let f = obj.field(field).ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Provided external ID field does not exist or is not accessible: {field}"),
        )
    })?;
    if f.name == "Id" {
        if value.is_empty() {
            return Ok(UpsertOutcome::Created(create(ctx, obj, body)?.to_string()));
        }
        let id = super::parse_id(obj, value)?;
        update(ctx, obj, &id, body)?;
        return Ok(UpsertOutcome::Updated(id.to_string()));
    }
    if !f.external_id {
        return Err(ApiError::bad_request(
            "INVALID_FIELD",
            format!("Field {} is not an external ID or indexed field for {}", f.name, obj.name),
        ));
    }
    let key = values::to_sql(f, &Value::String(value.to_string()))?;
    let mut body = body.clone();
    body.retain(|k, _| !k.eq_ignore_ascii_case(&f.name));
    let ids = find_by_field(ctx.conn, obj, &f.name, &key)?;
    match ids.as_slice() {
        [] => {
            body.insert(f.name.clone(), Value::String(value.to_string()));
            Ok(UpsertOutcome::Created(create(ctx, obj, &body)?.to_string()))
        }
        [one] => {
            let id = super::parse_id(obj, one)?;
            update(ctx, obj, &id, &body)?;
            Ok(UpsertOutcome::Updated(one.clone()))
        }
        _ => Ok(UpsertOutcome::Multiple(ids)),
    }
}
