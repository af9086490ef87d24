//! Record operations shared by every endpoint that reads or writes sObject rows: retrieve,
//! create, update, upsert and delete, with validation and sharing applied.

pub mod values;
mod write;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use rusqlite::types::Value as Sql;
use salesforce::SfId;
use serde_json::{Map, Value, json};

use crate::db::DELETED_DATE;
use crate::error::ApiError;
use crate::org::Org;
use crate::schema::ObjectDef;
use crate::sharing::Access;

pub use write::{UpsertOutcome, create, delete, update, upsert};

/// One request's view of the org: its connection, user, API version and write instant.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub conn: &'a Connection,
    pub org: &'a Org,
    pub access: Access<'a>,
    /// The instant writes in this request are stamped with (taken when the request started).
    pub now: DateTime<Utc>,
    /// `"62.0"`: the version in the request's URL, used to build record URLs.
    pub version: &'a str,
}

impl Ctx<'_> {
    /// The object with this name, or `NOT_FOUND` as the sObject endpoints answer.
    pub fn object(&self, name: &str) -> Result<&ObjectDef, ApiError> {
        self.org.schema.object(name).ok_or_else(ApiError::not_found)
    }

    /// `/services/data/vNN.N/sobjects/{Object}/{Id}`.
    pub fn record_url(&self, object: &str, id: &str) -> String {
        format!("/services/data/v{}/sobjects/{object}/{id}", self.version)
    }

    /// The `attributes` member every record starts with.
    pub fn attributes(&self, object: &str, id: &str) -> Value {
        json!({"type": object, "url": self.record_url(object, id)})
    }
}

/// Parses a record id from a URL or body; `MALFORMED_ID` when it is not one.
pub fn parse_id(obj: &ObjectDef, text: &str) -> Result<SfId, ApiError> {
    SfId::parse(text).map_err(|_| {
        ApiError::bad_request(
            "MALFORMED_ID",
            format!("{} ID: id value of incorrect type: {text}", obj.label),
        )
    })
}

/// A stored row: column name to value, plus whether it is soft-deleted.
#[derive(Debug, Clone)]
pub struct Row {
    pub values: HashMap<String, Sql>,
    pub deleted: bool,
}

impl Row {
    pub fn get(&self, field: &str) -> &Sql {
        self.values.get(field).unwrap_or(&Sql::Null)
    }

    pub fn text(&self, field: &str) -> Option<&str> {
        match self.get(field) {
            Sql::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// Reads a row by id, deleted or not, with no sharing check.
pub fn load_row(conn: &Connection, obj: &ObjectDef, id: &str) -> rusqlite::Result<Option<Row>> {
    let cols: Vec<String> = obj.fields.iter().map(|f| format!("\"{}\"", f.name)).collect();
    let sql = format!(
        "SELECT {}, \"{DELETED_DATE}\" IS NOT NULL OR \"IsDeleted\" = 1 FROM \"{}\" WHERE \"Id\" = ?1",
        cols.join(", "),
        obj.name
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([id])?;
    let Some(r) = rows.next()? else { return Ok(None) };
    let mut values = HashMap::new();
    for (i, f) in obj.fields.iter().enumerate() {
        values.insert(f.name.clone(), r.get::<_, Sql>(i)?);
    }
    let deleted: bool = r.get(obj.fields.len())?;
    Ok(Some(Row { values, deleted }))
}

/// Resolves the `fields` a retrieve asks for; `INVALID_FIELD` for an unknown one.
pub fn field_list<'o>(obj: &'o ObjectDef, fields: Option<&str>) -> Result<Vec<&'o str>, ApiError> {
    let Some(list) = fields.filter(|s| !s.trim().is_empty()) else {
        return Ok(obj.fields.iter().map(|f| f.name.as_str()).collect());
    };
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|name| {
            obj.field(name).map(|f| f.name.as_str()).ok_or_else(|| {
                ApiError::bad_request(
                    "INVALID_FIELD",
                    format!("No such column '{name}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", obj.name),
                )
            })
        })
        .collect()
}

/// The record as the API shows it: `attributes`, then the chosen fields.
pub fn row_json(ctx: &Ctx<'_>, obj: &ObjectDef, row: &Row, fields: &[&str]) -> Map<String, Value> {
    let id = row.text("Id").unwrap_or_default();
    let mut out = Map::new();
    out.insert("attributes".into(), ctx.attributes(&obj.name, id));
    for name in fields {
        if let Some(f) = obj.field(name) {
            out.insert(f.name.clone(), values::to_json(f, row.get(&f.name).clone()));
        }
    }
    out
}

/// Loads a record the user can see: `NOT_FOUND` when it does not exist or is hidden,
/// `ENTITY_IS_DELETED` when it is in the recycle bin.
pub fn visible_row(ctx: &Ctx<'_>, obj: &ObjectDef, id: &SfId) -> Result<Row, ApiError> {
    if ctx.org.schema.object_by_prefix(id.key_prefix()).map(|o| o.name.as_str()) != Some(&obj.name)
    {
        return Err(ApiError::not_found());
    }
    let row = load_row(ctx.conn, obj, id.as_str())?.ok_or_else(ApiError::not_found)?;
    if !ctx.access.can_read(ctx.conn, &obj.name, id.as_str())? {
        return Err(ApiError::not_found());
    }
    if row.deleted {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "ENTITY_IS_DELETED",
            "entity is deleted",
        ));
    }
    Ok(row)
}

/// Retrieves one record with the given fields (all when `None`).
pub fn retrieve(
    ctx: &Ctx<'_>,
    obj: &ObjectDef,
    id: &SfId,
    fields: Option<&str>,
) -> Result<(Row, Map<String, Value>), ApiError> {
    let fields = field_list(obj, fields)?;
    let row = visible_row(ctx, obj, id)?;
    let json = row_json(ctx, obj, &row, &fields);
    Ok((row, json))
}

/// Ids of live rows whose `field` equals `value` (text compare; case-insensitive for text).
pub fn find_by_field(
    conn: &Connection,
    obj: &ObjectDef,
    field: &str,
    value: &Sql,
) -> rusqlite::Result<Vec<String>> {
    let sql = format!(
        "SELECT \"Id\" FROM \"{}\" WHERE \"{field}\" = ?1 COLLATE NOCASE AND \"IsDeleted\" = 0 LIMIT 10",
        obj.name
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let ids = stmt.query_map([value], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(ids)
}
