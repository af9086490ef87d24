//! Polymorphic relationships (a reference with several targets, such as
//! `ServiceAppointment.ParentRecord`): as in Salesforce, a path through one reaches the
//! `Name` object, whose `Id`, `Name` and `Type` read the parent whichever object it is
//! (and whose user fields, `Email`, `FirstName` and the rest, read a target's own field of
//! that name, or null).
//!
//! Each target is joined on its own, as a subquery that renames the target's name field to
//! `Name` and binds the target's object name as `Type`; at most one of them matches a row,
//! so the `Name` object's columns are the first non-null value among the targets.

use std::sync::LazyLock;

use crate::schema::{FieldSchema, FieldType, ObjectSchema, SqlValue};

use super::scope::{Ctx, Fragment, quote};

/// The `Name` object: the fields a path through a polymorphic relationship may read.
static NAME_OBJECT: LazyLock<ObjectSchema> = LazyLock::new(|| {
    let field = |name: &str, field_type| FieldSchema {
        name: name.into(),
        field_type,
        reference_to: Vec::new(),
        relationship_name: None,
    };
    ObjectSchema {
        name: "Name".into(),
        fields: [
            field("Id", FieldType::Id),
            field("Name", FieldType::String),
            field("Type", FieldType::Picklist),
        ]
        .into_iter()
        .chain(OTHER_FIELDS.iter().map(|(name, field_type)| field(name, *field_type)))
        .collect(),
        child_relationships: Vec::new(),
        name_field: None,
    }
});

/// The `Name` object's fields besides `Id`, `Name` and `Type` (a user's, in Salesforce):
/// read from a target that has a field of the same name, null for any other.
const OTHER_FIELDS: &[(&str, FieldType)] = &[
    ("Alias", FieldType::String),
    ("CommunityNickname", FieldType::String),
    ("Email", FieldType::Email),
    ("FirstName", FieldType::String),
    ("IsActive", FieldType::Boolean),
    ("LastName", FieldType::String),
    ("LastReferencedDate", FieldType::DateTime),
    ("LastViewedDate", FieldType::DateTime),
    ("NameOrAlias", FieldType::String),
    ("Phone", FieldType::Phone),
    ("ProfileId", FieldType::Reference),
    ("RecordTypeId", FieldType::Reference),
    ("SmallPhotoUrl", FieldType::Url),
    ("Title", FieldType::String),
    ("UserRoleId", FieldType::Reference),
    ("Username", FieldType::String),
];

/// The object a polymorphic relationship resolves to.
pub(crate) fn name_object() -> &'static ObjectSchema {
    &NAME_OBJECT
}

/// The SQL expressions of the `Name` object's fields for one polymorphic join.
#[derive(Debug, Clone)]
pub(crate) struct NameColumns {
    id: String,
    name: String,
    type_name: String,
    /// The other fields' expressions, in [`OTHER_FIELDS`] order.
    others: Vec<String>,
}

impl NameColumns {
    /// The expression of the `Name` object's field `field` (its canonical name).
    pub fn column(&self, field: &str) -> &str {
        match field {
            "Name" => &self.name,
            "Type" => &self.type_name,
            _ => OTHER_FIELDS
                .iter()
                .position(|(name, _)| *name == field)
                .and_then(|i| self.others.get(i))
                .unwrap_or(&self.id),
        }
    }

    /// The expression of the parent's `Id`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The expression of the parent's object name.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }
}

/// The LEFT JOINs that read the parent `reference` (on the table under `child_alias`)
/// points at, one per target the catalog knows, each under the catalog's row filter (a
/// hidden parent reads as null), and the `Name` object's columns over them.
pub(crate) fn joins(
    ctx: &mut Ctx<'_>,
    reference: &FieldSchema,
    child_alias: &str,
) -> (Fragment, NameColumns) {
    let mut sql = Fragment::default();
    let mut aliases = Vec::new();
    for target in &reference.reference_to {
        let Some(object) = ctx.catalog.object(target) else { continue };
        let outer = ctx.alias();
        let inner = ctx.alias();
        let id = object.field("Id").map_or("Id", |f| f.name.as_str());
        let name = object
            .record_name_field()
            .map_or_else(|| "NULL".to_owned(), |f| format!("{}.{}", quote(&inner), quote(&f.name)));
        let others: Vec<String> = OTHER_FIELDS
            .iter()
            .map(|(other, _)| {
                let column = object.field(other).map_or_else(
                    || "NULL".to_owned(),
                    |f| format!("{}.{}", quote(&inner), quote(&f.name)),
                );
                format!("{column} AS {}", quote(other))
            })
            .collect();
        sql.sql(&format!(
            " LEFT JOIN (SELECT {i}.{} AS \"Id\", {name} AS \"Name\", {}, ",
            quote(id),
            others.join(", "),
            i = quote(&inner),
        ));
        sql.param(SqlValue::Text(object.name.clone()));
        sql.sql(&format!(" AS \"Type\" FROM {} AS {}", quote(&object.name), quote(&inner)));
        if let Some(rf) = ctx.catalog.row_filter(&object.name, &inner) {
            sql.sql(" WHERE (").append(&Fragment { text: rf.sql, params: rf.params }).sql(")");
        }
        sql.sql(&format!(
            ") AS {o} ON {o}.\"Id\" = {}.{}",
            quote(child_alias),
            quote(&reference.name),
            o = quote(&outer),
        ));
        aliases.push(outer);
    }
    let first_of = |column: &str| -> String {
        let parts: Vec<String> =
            aliases.iter().map(|a| format!("{}.{}", quote(a), quote(column))).collect();
        match parts.len() {
            0 => "NULL".to_owned(),
            1 => parts[0].clone(),
            _ => format!("COALESCE({})", parts.join(", ")),
        }
    };
    let columns = NameColumns {
        id: first_of("Id"),
        name: first_of("Name"),
        type_name: first_of("Type"),
        others: OTHER_FIELDS.iter().map(|(other, _)| first_of(other)).collect(),
    };
    (sql, columns)
}
