//! The shape of the records a query returns, and how a result row becomes a record in
//! Salesforce's JSON form.

use serde_json::{Map, Number, Value};

use crate::schema::{FieldType, SqlValue};

use super::scope::{Resolved, quote};

/// The result columns of a statement, without duplicates.
#[derive(Debug, Clone, Default)]
pub(crate) struct Columns(pub Vec<String>);

impl Columns {
    /// The index of `expr`, adding it when new.
    pub fn add(&mut self, expr: String) -> usize {
        match self.0.iter().position(|c| *c == expr) {
            Some(i) => i,
            None => {
                self.0.push(expr);
                self.0.len() - 1
            }
        }
    }
}

/// One output field of a record.
#[derive(Debug, Clone)]
enum OutField {
    Scalar {
        name: String,
        column: usize,
        field_type: FieldType,
    },
    Parent {
        name: String,
        shape: RecordShape,
    },
    /// A child relationship; filled in by the executor, `null` until then.
    Child {
        name: String,
    },
}

/// One record: its object, the column holding its Id, and its fields in SELECT order.
#[derive(Debug, Clone)]
pub(crate) struct RecordShape {
    object: String,
    id_column: usize,
    fields: Vec<OutField>,
}

impl RecordShape {
    pub fn new(object: &str, id_column: usize) -> RecordShape {
        RecordShape { object: object.to_string(), id_column, fields: Vec::new() }
    }

    /// Adds a selected path, nesting it under its parent relationships.
    pub fn add_field(&mut self, columns: &mut Columns, resolved: &Resolved<'_>) {
        let mut shape = self;
        for step in &resolved.steps {
            let existing = shape.fields.iter().position(
                |f| matches!(f, OutField::Parent { name, .. } if *name == step.relationship),
            );
            let index = match existing {
                Some(i) => i,
                None => {
                    let id = step.object.field("Id").map_or("Id", |f| f.name.as_str());
                    let id_column = columns.add(format!("{}.{}", quote(&step.alias), quote(id)));
                    shape.fields.push(OutField::Parent {
                        name: step.relationship.clone(),
                        shape: RecordShape::new(&step.object.name, id_column),
                    });
                    shape.fields.len() - 1
                }
            };
            let OutField::Parent { shape: inner, .. } = &mut shape.fields[index] else {
                return;
            };
            shape = inner;
        }
        let name = &resolved.field.name;
        if !shape.fields.iter().any(|f| matches!(f, OutField::Scalar { name: n, .. } if n == name))
        {
            let column = columns.add(resolved.column.clone());
            shape.fields.push(OutField::Scalar {
                name: name.clone(),
                column,
                field_type: resolved.field.field_type,
            });
        }
    }

    /// Adds a child relationship's placeholder.
    pub fn add_child(&mut self, name: &str) {
        self.fields.push(OutField::Child { name: name.to_string() });
    }

    /// Builds the record for `row`; `None` when its Id is null (an empty or hidden parent).
    pub fn assemble(&self, row: &[SqlValue], api_version: &str) -> Option<Map<String, Value>> {
        let id = match row.get(self.id_column)? {
            SqlValue::Null => return None,
            SqlValue::Text(s) => s.clone(),
            SqlValue::Integer(i) => i.to_string(),
            SqlValue::Real(r) => r.to_string(),
        };
        let mut record = Map::new();
        record.insert("attributes".into(), attributes(&self.object, Some(&id), api_version));
        for field in &self.fields {
            match field {
                OutField::Scalar { name, column, field_type } => {
                    let v = row.get(*column).map_or(Value::Null, |v| json_value(v, *field_type));
                    record.insert(name.clone(), v);
                }
                OutField::Parent { name, shape } => {
                    let v = shape.assemble(row, api_version).map_or(Value::Null, Value::Object);
                    record.insert(name.clone(), v);
                }
                OutField::Child { name } => {
                    record.insert(name.clone(), Value::Null);
                }
            }
        }
        Some(record)
    }
}

impl RecordShape {
    /// Writes the record for `row` as JSON text, member for member what
    /// [`RecordShape::assemble`] builds, without building it; `children` gives the value of
    /// each filled-in child relationship (the others are `null`). Writes nothing and
    /// returns `false` when the Id is null.
    pub fn write_json(
        &self,
        row: &[SqlValue],
        api_version: &str,
        children: &[(&str, &Value)],
        out: &mut Vec<u8>,
    ) -> bool {
        let id = match row.get(self.id_column) {
            None | Some(SqlValue::Null) => return false,
            Some(SqlValue::Text(s)) => std::borrow::Cow::Borrowed(s.as_str()),
            Some(SqlValue::Integer(i)) => i.to_string().into(),
            Some(SqlValue::Real(r)) => r.to_string().into(),
        };
        let version = api_version.trim_start_matches('v');
        out.extend_from_slice(b"{\"attributes\":{\"type\":");
        write_str(out, &self.object);
        out.extend_from_slice(b",\"url\":");
        write_str(out, &format!("/services/data/v{version}/sobjects/{}/{id}", self.object));
        out.push(b'}');
        for field in &self.fields {
            out.push(b',');
            match field {
                OutField::Scalar { name, column, field_type } => {
                    write_str(out, name);
                    out.push(b':');
                    write_scalar(out, row.get(*column), *field_type);
                }
                OutField::Parent { name, shape } => {
                    write_str(out, name);
                    out.push(b':');
                    if !shape.write_json(row, api_version, &[], out) {
                        out.extend_from_slice(b"null");
                    }
                }
                OutField::Child { name } => {
                    write_str(out, name);
                    out.push(b':');
                    match children.iter().find(|(n, _)| n == name) {
                        Some((_, v)) => write_value(out, v),
                        None => out.extend_from_slice(b"null"),
                    }
                }
            }
        }
        out.push(b'}');
        true
    }
}

/// A JSON string, escaped as `serde_json` escapes it.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Any JSON value, as `serde_json` writes it.
pub(crate) fn write_value(out: &mut Vec<u8>, v: &Value) {
    let _ = serde_json::to_writer(&mut *out, v);
}

/// A stored value as [`json_value`] gives it; text goes out without a copy.
fn write_scalar(out: &mut Vec<u8>, v: Option<&SqlValue>, field_type: FieldType) {
    match v {
        None => out.extend_from_slice(b"null"),
        Some(SqlValue::Text(s)) if !is_numeric(field_type) && field_type != FieldType::Boolean => {
            write_str(out, s)
        }
        Some(v) => write_value(out, &json_value(v, field_type)),
    }
}

fn is_numeric(field_type: FieldType) -> bool {
    matches!(
        field_type,
        FieldType::Int | FieldType::Double | FieldType::Currency | FieldType::Percent
    )
}

/// `{"type": ..., "url": ...}`; without an id there is no url (aggregate results).
pub(crate) fn attributes(object: &str, id: Option<&str>, api_version: &str) -> Value {
    let mut attrs = Map::new();
    attrs.insert("type".into(), Value::String(object.to_string()));
    if let Some(id) = id {
        let version = api_version.trim_start_matches('v');
        attrs.insert(
            "url".into(),
            Value::String(format!("/services/data/v{version}/sobjects/{object}/{id}")),
        );
    }
    Value::Object(attrs)
}

fn float(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// A stored value as Salesforce's JSON: booleans, numbers, or strings.
pub(crate) fn json_value(v: &SqlValue, field_type: FieldType) -> Value {
    let numeric = is_numeric(field_type);
    match (field_type, v) {
        (_, SqlValue::Null) => Value::Null,
        (FieldType::Boolean, SqlValue::Integer(i)) => Value::Bool(*i != 0),
        (FieldType::Boolean, SqlValue::Real(r)) => Value::Bool(*r != 0.0),
        (FieldType::Boolean, SqlValue::Text(s)) => {
            Value::Bool(s == "1" || s.eq_ignore_ascii_case("true"))
        }
        (FieldType::Int, SqlValue::Integer(i)) => Value::from(*i),
        (FieldType::Int, SqlValue::Real(r)) if r.fract() == 0.0 && r.abs() < 9.0e15 => {
            Value::from(*r as i64)
        }
        (_, SqlValue::Integer(i)) if numeric => float(*i as f64),
        (_, SqlValue::Real(r)) if numeric => float(*r),
        (_, SqlValue::Text(s)) if numeric => match s.parse::<i64>() {
            Ok(i) if field_type == FieldType::Int => Value::from(i),
            _ => s.parse::<f64>().map_or_else(|_| Value::String(s.clone()), float),
        },
        (_, SqlValue::Integer(i)) => Value::String(i.to_string()),
        (_, SqlValue::Real(r)) => Value::String(r.to_string()),
        (_, SqlValue::Text(s)) => Value::String(s.clone()),
    }
}
