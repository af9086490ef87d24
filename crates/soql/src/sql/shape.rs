//! The shape of the records a query returns, and how a result row becomes a record in
//! Salesforce's JSON form.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

use crate::schema::{FieldType, RowValues, SqlValueRef};

use super::json_text;
use super::scope::Resolved;

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

impl OutField {
    fn name(&self) -> &str {
        match self {
            OutField::Scalar { name, .. }
            | OutField::Parent { name, .. }
            | OutField::Child { name } => name,
        }
    }
}

/// One record: its object, the column holding its Id, and its fields in SELECT order.
#[derive(Debug, Clone)]
pub(crate) struct RecordShape {
    object: String,
    id_column: usize,
    /// For the `Name` object of a polymorphic relationship: the column holding the
    /// parent's object name, which its url names (`/sobjects/WorkOrder/0WO...`).
    url_object_column: Option<usize>,
    fields: Vec<OutField>,
    /// The JSON text every record of this shape starts with, up to the API version in
    /// its url: `{"attributes":{"type":"Account","url":"/services/data/v`.
    head: Box<[u8]>,
    /// The url's text between the API version and the Id: `/sobjects/Account/`; only
    /// `/sobjects/` when the object comes from `url_object_column`.
    url_middle: Box<[u8]>,
    /// `,"Name":` for each field, in order.
    keys: Vec<Box<[u8]>>,
}

impl RecordShape {
    pub fn new(object: &str, id_column: usize) -> RecordShape {
        let mut head = b"{\"attributes\":{\"type\":".to_vec();
        json_text::write_str(&mut head, object);
        head.extend_from_slice(b",\"url\":\"/services/data/v");
        let mut url_middle = Vec::new();
        json_text::write_str_contents(&mut url_middle, &format!("/sobjects/{object}/"));
        RecordShape {
            object: object.to_string(),
            id_column,
            url_object_column: None,
            fields: Vec::new(),
            head: head.into(),
            url_middle: url_middle.into(),
            keys: Vec::new(),
        }
    }

    /// The shape of a polymorphic parent: attributes `{"type": "Name"}` and a url naming
    /// the object in column `url_object_column`, as Salesforce answers.
    fn polymorphic(object: &str, id_column: usize, url_object_column: usize) -> RecordShape {
        let mut shape = RecordShape::new(object, id_column);
        shape.url_object_column = Some(url_object_column);
        shape.url_middle = b"/sobjects/".to_vec().into();
        shape
    }

    /// The object a row's url names.
    fn url_object<'r, R: RowValues + ?Sized>(&'r self, row: &'r R) -> &'r str {
        match self.url_object_column.and_then(|c| row.value(c)) {
            Some(SqlValueRef::Text(object)) => object,
            _ => &self.object,
        }
    }

    fn push(&mut self, field: OutField) {
        let mut key = b",".to_vec();
        json_text::write_str(&mut key, field.name());
        key.push(b':');
        self.keys.push(key.into());
        self.fields.push(field);
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
                    let id_column = columns.add(step.id_column.clone());
                    let parent = match &step.type_column {
                        Some(t) => RecordShape::polymorphic(
                            &step.object.name,
                            id_column,
                            columns.add(t.clone()),
                        ),
                        None => RecordShape::new(&step.object.name, id_column),
                    };
                    shape.push(OutField::Parent { name: step.relationship.clone(), shape: parent });
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
            shape.push(OutField::Scalar {
                name: name.clone(),
                column,
                field_type: resolved.field.field_type,
            });
        }
    }

    /// Adds a child relationship's placeholder.
    pub fn add_child(&mut self, name: &str) {
        self.push(OutField::Child { name: name.to_string() });
    }

    /// Builds the record for `row`; `None` when its Id is null (an empty or hidden parent).
    pub fn assemble<R: RowValues + ?Sized>(
        &self,
        row: &R,
        api_version: &str,
    ) -> Option<Map<String, Value>> {
        let id = match row.value(self.id_column)? {
            SqlValueRef::Null => return None,
            SqlValueRef::Text(s) => s.to_string(),
            SqlValueRef::Integer(i) => i.to_string(),
            SqlValueRef::Real(r) => r.to_string(),
        };
        let mut record = Map::new();
        let url = RecordUrl { object: self.url_object(row), id: &id };
        record.insert("attributes".into(), attributes(&self.object, Some(url), api_version));
        for field in &self.fields {
            match field {
                OutField::Scalar { name, column, field_type } => {
                    let v = row.value(*column).map_or(Value::Null, |v| json_value(v, *field_type));
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
    pub fn write_json<R: RowValues + ?Sized>(
        &self,
        row: &R,
        api_version: &str,
        children: &[(&str, &Value)],
        out: &mut Vec<u8>,
    ) -> bool {
        let id = match row.value(self.id_column) {
            None | Some(SqlValueRef::Null) => return false,
            Some(SqlValueRef::Text(s)) => Cow::Borrowed(s),
            Some(SqlValueRef::Integer(i)) => Cow::Owned(i.to_string()),
            Some(SqlValueRef::Real(r)) => Cow::Owned(r.to_string()),
        };
        out.extend_from_slice(&self.head);
        json_text::write_str_contents(out, api_version.trim_start_matches('v'));
        out.extend_from_slice(&self.url_middle);
        if self.url_object_column.is_some() {
            json_text::write_str_contents(out, self.url_object(row));
            out.push(b'/');
        }
        json_text::write_str_contents(out, &id);
        out.extend_from_slice(b"\"}");
        for (field, key) in self.fields.iter().zip(&self.keys) {
            out.extend_from_slice(key);
            match field {
                OutField::Scalar { column, field_type, .. } => {
                    write_scalar(out, row.value(*column), *field_type);
                }
                OutField::Parent { shape, .. } => {
                    if !shape.write_json(row, api_version, &[], out) {
                        out.extend_from_slice(b"null");
                    }
                }
                OutField::Child { name } => match children.iter().find(|(n, _)| n == name) {
                    Some((_, v)) => json_text::write_value(out, v),
                    None => out.extend_from_slice(b"null"),
                },
            }
        }
        out.push(b'}');
        true
    }
}

/// A stored value as [`json_value`] gives it; text goes out without a copy.
fn write_scalar(out: &mut Vec<u8>, v: Option<SqlValueRef<'_>>, field_type: FieldType) {
    match v {
        None | Some(SqlValueRef::Null) => out.extend_from_slice(b"null"),
        Some(SqlValueRef::Text(s))
            if !is_numeric(field_type) && field_type != FieldType::Boolean =>
        {
            json_text::write_str(out, s)
        }
        Some(v) => json_text::write_value(out, &json_value(v, field_type)),
    }
}

fn is_numeric(field_type: FieldType) -> bool {
    matches!(
        field_type,
        FieldType::Int | FieldType::Double | FieldType::Currency | FieldType::Percent
    )
}

/// The record a url points at: `/sobjects/{object}/{id}`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordUrl<'a> {
    pub object: &'a str,
    pub id: &'a str,
}

/// `{"type": ..., "url": ...}`; without a record there is no url (aggregate results). The
/// url names the record's own object even where `type` does not (`Name` for a polymorphic
/// parent).
pub(crate) fn attributes(type_name: &str, url: Option<RecordUrl<'_>>, api_version: &str) -> Value {
    let mut attrs = Map::new();
    attrs.insert("type".into(), Value::String(type_name.to_string()));
    if let Some(RecordUrl { object, id }) = url {
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
pub(crate) fn json_value(v: SqlValueRef<'_>, field_type: FieldType) -> Value {
    let numeric = is_numeric(field_type);
    match (field_type, v) {
        (_, SqlValueRef::Null) => Value::Null,
        (FieldType::Boolean, SqlValueRef::Integer(i)) => Value::Bool(i != 0),
        (FieldType::Boolean, SqlValueRef::Real(r)) => Value::Bool(r != 0.0),
        (FieldType::Boolean, SqlValueRef::Text(s)) => {
            Value::Bool(s == "1" || s.eq_ignore_ascii_case("true"))
        }
        (FieldType::Int, SqlValueRef::Integer(i)) => Value::from(i),
        (FieldType::Int, SqlValueRef::Real(r)) if r.fract() == 0.0 && r.abs() < 9.0e15 => {
            Value::from(r as i64)
        }
        (_, SqlValueRef::Integer(i)) if numeric => float(i as f64),
        (_, SqlValueRef::Real(r)) if numeric => float(r),
        (_, SqlValueRef::Text(s)) if numeric => match s.parse::<i64>() {
            Ok(i) if field_type == FieldType::Int => Value::from(i),
            _ => s.parse::<f64>().map_or_else(|_| Value::String(s.to_string()), float),
        },
        (_, SqlValueRef::Integer(i)) => Value::String(i.to_string()),
        (_, SqlValueRef::Real(r)) => Value::String(r.to_string()),
        (_, SqlValueRef::Text(s)) => Value::String(s.to_string()),
    }
}
