//! Profile filters: parsed as the WHERE clause of a SOQL query, checked against the
//! object's fields, and bound to the syncing user.

use soql::ast::{Condition, FieldPath, InList, Value};
use soql::schema::ObjectSchema;

/// The one bind variable a filter may use.
pub const USER_BIND: &str = "user";

/// Parses `filter` as the WHERE clause of a query on `object`; the error is the parser's
/// message.
pub fn parse_filter(object: &str, filter: &str) -> Result<Condition, String> {
    if filter.trim().is_empty() {
        return Err("empty filter".into());
    }
    let query = soql::parse(&format!("SELECT Id FROM {object} WHERE {filter}"))
        .map_err(|e| e.message.clone())?;
    if !query.order_by.is_empty() || query.limit.is_some() || query.offset.is_some() {
        return Err("a filter is a condition only; ORDER BY, LIMIT and OFFSET do not belong".into());
    }
    query.where_clause.ok_or_else(|| "empty filter".to_string())
}

/// Checks that `filter` parses, names only fields of `schema` (or its parent
/// relationships) and uses no bind but `:user`.
pub fn check_filter(schema: &ObjectSchema, filter: &str) -> Result<(), String> {
    let condition = parse_filter(&schema.name, filter)?;
    check_condition(schema, &condition)
}

fn check_condition(schema: &ObjectSchema, condition: &Condition) -> Result<(), String> {
    match condition {
        Condition::And(parts) | Condition::Or(parts) => {
            parts.iter().try_for_each(|c| check_condition(schema, c))
        }
        Condition::Not(inner) => check_condition(schema, inner),
        Condition::Compare { field, value, .. } => {
            check_field(schema, field)?;
            check_value(value)
        }
        Condition::In { field, list, .. } => {
            check_field(schema, field)?;
            match list {
                InList::Values(values) => values.iter().try_for_each(check_value),
                // The subquery's object is not described here; the server checks it.
                InList::SubQuery(_) => Ok(()),
            }
        }
        Condition::Includes { field, values, .. } => {
            check_field(schema, field)?;
            values.iter().try_for_each(check_value)
        }
    }
}

fn check_field(schema: &ObjectSchema, path: &FieldPath) -> Result<(), String> {
    let Some(first) = path.parts.first() else {
        return Ok(());
    };
    let known = if path.parts.len() == 1 {
        schema.field(first).is_some()
    } else {
        schema.parent_relationship(first).is_some()
    };
    if known { Ok(()) } else { Err(format!("unknown field '{}' on {}", path, schema.name)) }
}

fn check_value(value: &Value) -> Result<(), String> {
    match value {
        Value::Bind(name) if !name.eq_ignore_ascii_case(USER_BIND) => {
            Err(format!("unknown bind ':{name}'; only :user is available"))
        }
        _ => Ok(()),
    }
}

/// `condition` with every `:user` replaced by the user id as a string literal.
pub fn bind_user(condition: &Condition, user_id: &str) -> Condition {
    let bind = |v: &Value| match v {
        Value::Bind(name) if name.eq_ignore_ascii_case(USER_BIND) => {
            Value::String(user_id.to_string())
        }
        other => other.clone(),
    };
    match condition {
        Condition::And(parts) => {
            Condition::And(parts.iter().map(|c| bind_user(c, user_id)).collect())
        }
        Condition::Or(parts) => {
            Condition::Or(parts.iter().map(|c| bind_user(c, user_id)).collect())
        }
        Condition::Not(inner) => Condition::Not(Box::new(bind_user(inner, user_id))),
        Condition::Compare { field, op, value } => {
            Condition::Compare { field: field.clone(), op: *op, value: bind(value) }
        }
        Condition::In { field, negated, list } => Condition::In {
            field: field.clone(),
            negated: *negated,
            list: match list {
                InList::Values(values) => InList::Values(values.iter().map(bind).collect()),
                InList::SubQuery(query) => {
                    let mut query = query.clone();
                    query.where_clause = query.where_clause.map(|w| bind_user(&w, user_id));
                    InList::SubQuery(query)
                }
            },
        },
        Condition::Includes { field, excludes, values } => Condition::Includes {
            field: field.clone(),
            excludes: *excludes,
            values: values.iter().map(bind).collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_schema::schemas;

    fn account() -> ObjectSchema {
        schemas().into_iter().find(|s| s.name == "Account").unwrap()
    }

    #[test]
    fn binds_user_outside_strings_only() {
        let c = parse_filter("Account", "OwnerId = :user AND Name = ':user'").unwrap();
        assert_eq!(bind_user(&c, "005A").to_string(), "OwnerId = '005A' AND Name = ':user'");
    }

    #[test]
    fn filter_errors() {
        let a = account();
        assert!(check_filter(&a, "(Name = 'x'").is_err());
        assert!(check_filter(&a, "Name = 'x").is_err());
        assert_eq!(
            check_filter(&a, "Name = :other").unwrap_err(),
            "unknown bind ':other'; only :user is available"
        );
        assert_eq!(check_filter(&a, "Nme = 'x'").unwrap_err(), "unknown field 'Nme' on Account");
        assert!(check_filter(&a, "Name = 'x' LIMIT 5").is_err());
        assert!(check_filter(&a, "  ").is_err());
        assert!(check_filter(&a, "OwnerId = :user AND Name = 'a:b' AND Parent.Name = 'p'").is_ok());
    }
}
