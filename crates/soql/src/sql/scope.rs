//! Name resolution for one `SELECT`: the table it reads, the parent tables its field
//! paths join in (one LEFT JOIN per distinct relationship path), and the filters every
//! table reference carries.

use crate::ast::{FieldPath, Name};
use crate::error::SoqlError;
use crate::schema::{Catalog, FieldSchema, ObjectSchema, SqlValue};

use super::CompileOptions;
use super::polymorphic::{self, NameColumns};

/// SQL text with the values of its `?` placeholders, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Fragment {
    pub text: String,
    pub params: Vec<SqlValue>,
}

impl Fragment {
    /// A fragment of plain SQL with no parameters.
    pub fn new(text: impl Into<String>) -> Fragment {
        Fragment { text: text.into(), params: Vec::new() }
    }

    /// Appends SQL text.
    pub fn sql(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a `?` bound to `value`.
    pub fn param(&mut self, value: SqlValue) -> &mut Self {
        self.text.push('?');
        self.params.push(value);
        self
    }

    /// Appends another fragment, text and parameters.
    pub fn append(&mut self, other: &Fragment) -> &mut Self {
        self.text.push_str(&other.text);
        self.params.extend(other.params.iter().cloned());
        self
    }

    /// The fragments joined with `sep`, each in parentheses.
    pub fn join(parts: &[Fragment], sep: &str) -> Fragment {
        let mut out = Fragment::default();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                out.sql(sep);
            }
            out.sql("(").append(part).sql(")");
        }
        out
    }
}

/// A double-quoted SQL identifier.
pub(crate) fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// State shared by every scope of one compilation.
pub(crate) struct Ctx<'a> {
    pub catalog: &'a dyn Catalog,
    pub opts: &'a CompileOptions,
    next_alias: usize,
}

impl<'a> Ctx<'a> {
    pub fn new(catalog: &'a dyn Catalog, opts: &'a CompileOptions) -> Ctx<'a> {
        Ctx { catalog, opts, next_alias: 0 }
    }

    /// A table alias not used anywhere else in the statement.
    pub fn alias(&mut self) -> String {
        let alias = format!("t{}", self.next_alias);
        self.next_alias += 1;
        alias
    }

    /// The object named in a top-level or semi-join `FROM`.
    pub fn object(&self, name: &Name) -> Result<&'a ObjectSchema, SoqlError> {
        self.catalog.object(&name.text).ok_or_else(|| {
            SoqlError::invalid_type(
                format!("sObject type '{}' is not supported.", name.text),
                name.span.position(),
            )
        })
    }

    /// The filters every read of `object` under `alias` carries: the catalog's row
    /// filter, and `IsDeleted = 0` unless deleted rows were asked for.
    pub fn table_filters(&self, object: &ObjectSchema, alias: &str) -> Vec<Fragment> {
        let mut filters = Vec::new();
        if let Some(rf) = self.catalog.row_filter(&object.name, alias) {
            filters.push(Fragment { text: rf.sql, params: rf.params });
        }
        if !self.opts.include_deleted
            && let Some(f) = object.field("IsDeleted")
        {
            filters.push(Fragment::new(format!("{}.{} = 0", quote(alias), quote(&f.name))));
        }
        filters
    }
}

/// One relationship step of a resolved path.
#[derive(Debug, Clone)]
pub(crate) struct Step<'a> {
    /// The relationship's canonical name (`Account`).
    pub relationship: String,
    /// The parent's object; the `Name` object for a polymorphic relationship.
    pub object: &'a ObjectSchema,
    /// The expression of the parent's `Id`.
    pub id_column: String,
    /// For a polymorphic relationship: the expression of the parent's object name, which
    /// its record url names.
    pub type_column: Option<String>,
}

/// A field path resolved to a column.
#[derive(Debug, Clone)]
pub(crate) struct Resolved<'a> {
    /// `"t1"."Name"`.
    pub column: String,
    pub field: &'a FieldSchema,
    /// The relationships walked to reach the field, nearest first.
    pub steps: Vec<Step<'a>>,
}

struct Join {
    /// The lower-cased relationship path (`account.owner`).
    key: String,
    alias: String,
    sql: Fragment,
    /// For a polymorphic relationship: the `Name` object's columns.
    name_columns: Option<NameColumns>,
}

/// The tables one `SELECT` reads.
pub(crate) struct Scope<'a> {
    pub object: &'a ObjectSchema,
    pub alias: String,
    joins: Vec<Join>,
}

impl<'a> Scope<'a> {
    pub fn new(ctx: &mut Ctx<'a>, object: &'a ObjectSchema) -> Scope<'a> {
        Scope { object, alias: ctx.alias(), joins: Vec::new() }
    }

    /// `"t0"."Id"`, or the object's Id column under its canonical name.
    pub fn id_column(&self) -> String {
        let id = self.object.field("Id").map_or("Id", |f| f.name.as_str());
        format!("{}.{}", quote(&self.alias), quote(id))
    }

    /// Resolves `path` case-insensitively, adding a LEFT JOIN for each parent it walks
    /// through the first time. A parent the row filter hides joins as all-null.
    pub fn resolve(
        &mut self,
        ctx: &mut Ctx<'a>,
        path: &FieldPath,
    ) -> Result<Resolved<'a>, SoqlError> {
        let position = path.span.position();
        let Some((last, rels)) = path.parts.split_last() else {
            return Err(SoqlError::malformed("empty field path", position));
        };
        let mut object = self.object;
        let mut alias = self.alias.clone();
        let mut key = String::new();
        let mut steps = Vec::new();
        let no_such_column = |object: &ObjectSchema| {
            SoqlError::invalid_field(
                format!("No such column '{last}' on entity '{}'", object.name),
                position,
            )
        };
        for (i, rel) in rels.iter().enumerate() {
            let not_understood = |rel: &str| {
                SoqlError::invalid_field(
                    format!("Didn't understand relationship '{rel}' in field path"),
                    position,
                )
            };
            let reference = object.parent_relationship(rel).ok_or_else(|| not_understood(rel))?;
            let rel_name = reference.relationship_name.clone().unwrap_or_else(|| rel.clone());
            key.push('.');
            key.push_str(&rel_name.to_ascii_lowercase());

            // A polymorphic relationship reaches the `Name` object, which ends the path: it
            // has no relationships of its own.
            if reference.is_polymorphic() {
                if let Some(next) = rels.get(i + 1) {
                    return Err(not_understood(next));
                }
                let name_object = polymorphic::name_object();
                let field = name_object.field(last).ok_or_else(|| no_such_column(name_object))?;
                let columns = self.polymorphic_join(ctx, reference, &alias, key);
                steps.push(Step {
                    relationship: rel_name,
                    object: name_object,
                    id_column: columns.id().to_owned(),
                    type_column: Some(columns.type_name().to_owned()),
                });
                return Ok(Resolved {
                    column: columns.column(&field.name).to_owned(),
                    field,
                    steps,
                });
            }

            let parent = reference
                .reference_to
                .first()
                .and_then(|name| ctx.catalog.object(name))
                .ok_or_else(|| not_understood(rel))?;

            let parent_alias = match self.joins.iter().find(|j| j.key == key) {
                Some(join) => join.alias.clone(),
                None => {
                    let parent_alias = ctx.alias();
                    let parent_id = parent.field("Id").map_or("Id", |f| f.name.as_str());
                    let mut sql = Fragment::new(format!(
                        " LEFT JOIN {} AS {pa} ON {pa}.{} = {}.{}",
                        quote(&parent.name),
                        quote(parent_id),
                        quote(&alias),
                        quote(&reference.name),
                        pa = quote(&parent_alias),
                    ));
                    if let Some(rf) = ctx.catalog.row_filter(&parent.name, &parent_alias) {
                        sql.sql(" AND (")
                            .append(&Fragment { text: rf.sql, params: rf.params })
                            .sql(")");
                    }
                    self.joins.push(Join {
                        key: key.clone(),
                        alias: parent_alias.clone(),
                        sql,
                        name_columns: None,
                    });
                    parent_alias
                }
            };
            let parent_id = parent.field("Id").map_or("Id", |f| f.name.as_str());
            steps.push(Step {
                relationship: rel_name,
                object: parent,
                id_column: format!("{}.{}", quote(&parent_alias), quote(parent_id)),
                type_column: None,
            });
            object = parent;
            alias = parent_alias;
        }
        let field = object.field(last).ok_or_else(|| no_such_column(object))?;
        Ok(Resolved { column: format!("{}.{}", quote(&alias), quote(&field.name)), field, steps })
    }

    /// The `Name` object's columns for polymorphic `reference` on the table under `alias`,
    /// reached by relationship path `key`; its targets are joined the first time.
    fn polymorphic_join(
        &mut self,
        ctx: &mut Ctx<'a>,
        reference: &FieldSchema,
        alias: &str,
        key: String,
    ) -> NameColumns {
        if let Some(Join { name_columns: Some(columns), .. }) =
            self.joins.iter().find(|j| j.key == key)
        {
            return columns.clone();
        }
        let (sql, columns) = polymorphic::joins(ctx, reference, alias);
        self.joins.push(Join {
            key,
            alias: String::new(),
            sql,
            name_columns: Some(columns.clone()),
        });
        columns
    }

    /// `"Object" AS "t0"` followed by every join, with the joins' parameters.
    pub fn tables_sql(&self) -> Fragment {
        let mut from =
            Fragment::new(format!("{} AS {}", quote(&self.object.name), quote(&self.alias)));
        for join in &self.joins {
            from.append(&join.sql);
        }
        from
    }
}
