//! The shape of the objects a query runs over, and the storage convention that
//! both devorg and the local store follow so that one SQL compiler serves both.
//!
//! # Storage convention
//!
//! - Each object is one SQLite table named exactly like the object's API name
//!   (`"WorkOrder"`), with one column per field named exactly like the field
//!   (`"Subject"`). Identifiers are always double-quoted in SQL.
//! - `Id` is the primary key, stored as the 18-character id text.
//! - Value encoding: text-like fields (string, picklist, textarea, email, phone, url,
//!   id, reference) as TEXT; booleans as INTEGER 0/1; int as INTEGER; double, currency
//!   and percent as REAL; dates as TEXT `YYYY-MM-DD`; datetimes as TEXT
//!   `YYYY-MM-DDTHH:MM:SS.sss+0000` (UTC, so text order is time order);
//!   multi-select picklists as TEXT with values joined by `;`.
//! - Tables may carry extra columns whose names start with `_`; queries never see them.

/// A field's data type, as describe reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    Id,
    Reference,
    String,
    TextArea,
    Picklist,
    MultiPicklist,
    Boolean,
    Int,
    Double,
    Currency,
    Percent,
    Date,
    DateTime,
    Email,
    Phone,
    Url,
}

impl FieldType {
    /// The collation clause an index on a field of this type needs (`" COLLATE NOCASE"`
    /// or nothing), per [`FieldType::compares_without_case`].
    pub fn index_collation(self) -> &'static str {
        if self.compares_without_case() { " COLLATE NOCASE" } else { "" }
    }

    /// Whether filters on a field of this type compare without letter case (`COLLATE
    /// NOCASE`), as SOQL does for text. Ids and lookups compare exactly: their literals are
    /// put in canonical 18-character form first. An index on such a field must use the same
    /// collation for SQLite to use it.
    pub fn compares_without_case(self) -> bool {
        !matches!(
            self,
            FieldType::Id
                | FieldType::Reference
                | FieldType::Boolean
                | FieldType::Int
                | FieldType::Double
                | FieldType::Currency
                | FieldType::Percent
                | FieldType::Date
                | FieldType::DateTime
        )
    }

    /// The type name describe uses (`"string"`, `"reference"`, `"datetime"`, ...).
    pub fn describe_name(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::Reference => "reference",
            FieldType::String => "string",
            FieldType::TextArea => "textarea",
            FieldType::Picklist => "picklist",
            FieldType::MultiPicklist => "multipicklist",
            FieldType::Boolean => "boolean",
            FieldType::Int => "int",
            FieldType::Double => "double",
            FieldType::Currency => "currency",
            FieldType::Percent => "percent",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
        }
    }

    /// Parses a describe type name; unknown names read as `None`.
    pub fn from_describe_name(name: &str) -> Option<FieldType> {
        Some(match name {
            "id" => FieldType::Id,
            "reference" => FieldType::Reference,
            "string" | "encryptedstring" | "combobox" => FieldType::String,
            "textarea" => FieldType::TextArea,
            "picklist" => FieldType::Picklist,
            "multipicklist" => FieldType::MultiPicklist,
            "boolean" => FieldType::Boolean,
            "int" => FieldType::Int,
            "double" => FieldType::Double,
            "currency" => FieldType::Currency,
            "percent" => FieldType::Percent,
            "date" => FieldType::Date,
            "datetime" => FieldType::DateTime,
            "email" => FieldType::Email,
            "phone" => FieldType::Phone,
            "url" => FieldType::Url,
            _ => return None,
        })
    }

    /// The SQLite column affinity this type is stored with.
    pub fn sql_affinity(self) -> &'static str {
        match self {
            FieldType::Boolean | FieldType::Int => "INTEGER",
            FieldType::Double | FieldType::Currency | FieldType::Percent => "REAL",
            _ => "TEXT",
        }
    }
}

/// One field of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSchema {
    pub name: String,
    pub field_type: FieldType,
    /// For references: the objects the field may point to. With more than one target the
    /// relationship is polymorphic: queries reach the parent through the `Name` object.
    pub reference_to: Vec<String>,
    /// For references: the name of the parent relationship (`Account` for `AccountId`).
    pub relationship_name: Option<String>,
}

impl FieldSchema {
    /// Whether the field is a reference that may point at more than one object (Salesforce's
    /// polymorphic foreign key, such as `ServiceAppointment.ParentRecordId`).
    pub fn is_polymorphic(&self) -> bool {
        self.reference_to.len() > 1
    }
}

/// A child relationship: `Contacts` on Account is Contact rows whose `AccountId` points here.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildRelationship {
    pub name: String,
    pub child_object: String,
    pub field: String,
}

/// One object (sObject type).
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectSchema {
    pub name: String,
    pub fields: Vec<FieldSchema>,
    pub child_relationships: Vec<ChildRelationship>,
    /// The field describe marks as the object's name (`nameField`), such as
    /// `WorkOrderNumber`; `None` means a field called `Name`, if there is one. A polymorphic
    /// relationship's `Name` reads it.
    pub name_field: Option<String>,
}

impl ObjectSchema {
    /// The field with this name, compared case-insensitively.
    pub fn field(&self, name: &str) -> Option<&FieldSchema> {
        self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The reference field whose relationship name is `name`, compared case-insensitively.
    pub fn parent_relationship(&self, name: &str) -> Option<&FieldSchema> {
        self.fields
            .iter()
            .find(|f| f.relationship_name.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(name)))
    }

    /// The field that holds the record's name: [`ObjectSchema::name_field`], else `Name`.
    pub fn record_name_field(&self) -> Option<&FieldSchema> {
        match &self.name_field {
            Some(name) => self.field(name),
            None => self.field("Name"),
        }
    }

    /// The child relationship with this name, compared case-insensitively.
    pub fn child_relationship(&self, name: &str) -> Option<&ChildRelationship> {
        self.child_relationships.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// A value bound to a SQL parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl SqlValue {
    /// The value borrowed, as a [`RowValues`] source hands it out.
    pub fn as_ref(&self) -> SqlValueRef<'_> {
        match self {
            SqlValue::Null => SqlValueRef::Null,
            SqlValue::Integer(i) => SqlValueRef::Integer(*i),
            SqlValue::Real(r) => SqlValueRef::Real(*r),
            SqlValue::Text(t) => SqlValueRef::Text(t),
        }
    }
}

/// A value of a result row, borrowed from wherever the row lives (a SQLite statement's
/// buffers, or a [`SqlValue`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SqlValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
}

/// The columns of one result row, read in place: an executor can write records
/// ([`crate::Compiled::write_record`]) straight from a statement's current row without
/// copying its text into [`SqlValue`]s first.
pub trait RowValues {
    /// The value of column `i`; `None` past the last column.
    fn value(&self, i: usize) -> Option<SqlValueRef<'_>>;
}

impl RowValues for [SqlValue] {
    fn value(&self, i: usize) -> Option<SqlValueRef<'_>> {
        self.get(i).map(SqlValue::as_ref)
    }
}

impl<const N: usize> RowValues for [SqlValue; N] {
    fn value(&self, i: usize) -> Option<SqlValueRef<'_>> {
        self.as_slice().value(i)
    }
}

impl RowValues for Vec<SqlValue> {
    fn value(&self, i: usize) -> Option<SqlValueRef<'_>> {
        self.as_slice().value(i)
    }
}

/// An extra condition a catalog adds wherever an object's table is read, such as a
/// sharing rule. `sql` refers to the table through the alias it was given and uses `?`
/// placeholders that `params` fill in order.
#[derive(Debug, Clone, PartialEq)]
pub struct RowFilter {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

/// The objects a query may name.
pub trait Catalog {
    /// The object with this name, compared case-insensitively.
    fn object(&self, name: &str) -> Option<&ObjectSchema>;

    /// A condition every row of `object`, read under table alias `alias`, must meet.
    /// It applies to the queried object, to parents reached through paths (a parent that
    /// fails it reads as `null`), to child subqueries and to semi-join subqueries.
    fn row_filter(&self, _object: &str, _alias: &str) -> Option<RowFilter> {
        None
    }
}
