//! Polymorphic relationships (a reference with several targets, such as
//! `ServiceAppointment.ParentRecord`): as in Salesforce, a path through one reaches the
//! `Name` object, whose `Id`, `Name` and `Type` read the parent whichever object it is.
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
        fields: vec![
            field("Id", FieldType::Id),
            field("Name", FieldType::String),
            field("Type", FieldType::Picklist),
        ],
        child_relationships: Vec::new(),
        name_field: None,
    }
});

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
}

impl NameColumns {
    /// The expression of the `Name` object's field `field` (its canonical name).
    pub fn column(&self, field: &str) -> &str {
        match field {
            "Name" => &self.name,
            "Type" => &self.type_name,
            _ => &self.id,
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
        sql.sql(&format!(
            " LEFT JOIN (SELECT {i}.{} AS \"Id\", {name} AS \"Name\", ",
            quote(id),
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
    let columns =
        NameColumns { id: first_of("Id"), name: first_of("Name"), type_name: first_of("Type") };
    (sql, columns)
}
