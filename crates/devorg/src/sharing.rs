//! Record visibility and edit rights, expressed as SQL conditions so that retrieves, writes
//! and every part of a SOQL query (parent paths, child subqueries, semi-joins) apply them
//! inside the database.
//!
//! - Administrators (and the integration user) see and edit everything.
//! - `ReadWrite`: everyone reads and edits. `Read`: everyone reads, the owner edits.
//!   `Private`: only the owner reads and edits.
//! - `ControlledByParent`: a record is readable (editable) when its parent is, or when one
//!   of its user-access fields (`OwnerId`, a technician field) names the user. A
//!   polymorphic parent field is checked against the target its id's key prefix names.

use rusqlite::{Connection, params_from_iter};
use soql::schema::{Catalog, ObjectSchema, RowFilter, SqlValue};

use crate::db::Principal;
use crate::org::Org;
use crate::schema::Sharing;

/// Nesting limit for parent chains, so a cyclic schema file cannot recurse forever.
const MAX_DEPTH: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Read,
    Edit,
}

/// Sharing checks for one user.
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    org: &'a Org,
    pub user: &'a Principal,
}

impl<'a> Access<'a> {
    pub fn new(org: &'a Org, user: &'a Principal) -> Access<'a> {
        Access { org, user }
    }

    /// The condition rows of `object` (under `alias`) must meet to be visible.
    pub fn read_filter(&self, object: &str, alias: &str) -> Option<RowFilter> {
        self.filter(object, alias, Mode::Read, 0)
    }

    /// The condition rows of `object` (under `alias`) must meet to be editable.
    pub fn edit_filter(&self, object: &str, alias: &str) -> Option<RowFilter> {
        self.filter(object, alias, Mode::Edit, 0)
    }

    fn owner_clauses(&self, object: &str, alias: &str) -> Vec<(String, SqlValue)> {
        self.org
            .schema
            .object(object)
            .map(|o| {
                o.user_access_fields
                    .iter()
                    .map(|f| {
                        (format!("{alias}.\"{f}\" = ?"), SqlValue::Text(self.user.user_id.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn filter(&self, object: &str, alias: &str, mode: Mode, depth: usize) -> Option<RowFilter> {
        if self.user.admin {
            return None;
        }
        let sharing = self.org.sharing_of(object);
        let owners = self.owner_clauses(object, alias);
        let owner_filter = |owners: Vec<(String, SqlValue)>| {
            if owners.is_empty() {
                return RowFilter { sql: "0".into(), params: Vec::new() };
            }
            let (sql, params): (Vec<String>, Vec<SqlValue>) = owners.into_iter().unzip();
            RowFilter { sql: format!("({})", sql.join(" OR ")), params }
        };
        match sharing {
            Sharing::ReadWrite => None,
            Sharing::Read if mode == Mode::Read => None,
            Sharing::Read | Sharing::Private => Some(owner_filter(owners)),
            Sharing::ControlledByParent(field) => {
                let obj = self.org.schema.object(object)?;
                let targets = &obj.field(&field)?.reference_to;
                if targets.is_empty() {
                    return None;
                }
                if depth >= MAX_DEPTH {
                    return Some(owner_filter(owners));
                }
                let has_owners = !owners.is_empty();
                let (mut sql, mut params): (Vec<String>, Vec<SqlValue>) =
                    owners.into_iter().unzip();
                let polymorphic = targets.len() > 1;
                for (i, parent) in targets.iter().enumerate() {
                    let parent_alias = if polymorphic {
                        format!("{alias}_p{depth}_{i}")
                    } else {
                        format!("{alias}_p{depth}")
                    };
                    let parent_filter = self.filter(parent, &parent_alias, mode, depth + 1);

                    // A polymorphic field's id names its target by key prefix: a string
                    // comparison rules out the other targets before any lookup.
                    let mut clause = String::new();
                    if polymorphic {
                        let prefix = self.org.schema.object(parent).map(|p| p.key_prefix.clone());
                        clause.push_str(&format!("substr({alias}.\"{field}\", 1, 3) = ?"));
                        params.push(SqlValue::Text(prefix.unwrap_or_default()));
                    }
                    match parent_filter {
                        // Every parent is open: a record with a parent is too; one without a
                        // parent (a Contact with no Account) stays with its owner.
                        None if polymorphic => {}
                        None if !has_owners => return None,
                        None => clause.push_str(&format!("{alias}.\"{field}\" IS NOT NULL")),
                        Some(parent_filter) => {
                            if polymorphic {
                                clause.push_str(" AND ");
                            }
                            clause.push_str(&format!(
                                "EXISTS (SELECT 1 FROM \"{parent}\" {parent_alias} WHERE {parent_alias}.\"Id\" = {alias}.\"{field}\" AND {})",
                                parent_filter.sql
                            ));
                            params.extend(parent_filter.params);
                        }
                    }
                    sql.push(format!("({clause})"));
                }
                Some(RowFilter { sql: format!("({})", sql.join(" OR ")), params })
            }
        }
    }

    /// Whether the user can see the record.
    pub fn can_read(&self, conn: &Connection, object: &str, id: &str) -> rusqlite::Result<bool> {
        self.check(conn, object, id, self.read_filter(object, "r"))
    }

    /// Whether the user can edit (or delete) the record.
    pub fn can_edit(&self, conn: &Connection, object: &str, id: &str) -> rusqlite::Result<bool> {
        self.check(conn, object, id, self.edit_filter(object, "r"))
    }

    fn check(
        &self,
        conn: &Connection,
        object: &str,
        id: &str,
        filter: Option<RowFilter>,
    ) -> rusqlite::Result<bool> {
        let Some(filter) = filter else { return Ok(true) };
        let sql = format!("SELECT 1 FROM \"{object}\" r WHERE r.\"Id\" = ? AND {}", filter.sql);
        let mut params = vec![rusqlite::types::Value::Text(id.to_string())];
        params.extend(filter.params.into_iter().map(to_sqlite));
        let mut stmt = conn.prepare_cached(&sql)?;
        stmt.exists(params_from_iter(params))
    }
}

/// Converts a compiler parameter into a rusqlite value.
pub fn to_sqlite(v: SqlValue) -> rusqlite::types::Value {
    match v {
        SqlValue::Null => rusqlite::types::Value::Null,
        SqlValue::Integer(i) => rusqlite::types::Value::Integer(i),
        SqlValue::Real(r) => rusqlite::types::Value::Real(r),
        SqlValue::Text(t) => rusqlite::types::Value::Text(t),
    }
}

/// The catalog a user's queries compile against: the org's objects, filtered by sharing.
#[derive(Debug, Clone, Copy)]
pub struct SharedCatalog<'a> {
    pub org: &'a Org,
    pub access: Access<'a>,
}

impl Catalog for SharedCatalog<'_> {
    fn object(&self, name: &str) -> Option<&ObjectSchema> {
        self.org.schema.soql_object(name)
    }

    fn row_filter(&self, object: &str, alias: &str) -> Option<RowFilter> {
        self.access.read_filter(object, alias)
    }
}
