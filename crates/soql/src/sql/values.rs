//! Type checks of literals against the fields they are compared with, and their
//! conversion to the stored encoding.

use crate::ast::Value;
use crate::error::{Position, SoqlError};
use crate::schema::{FieldSchema, FieldType, SqlValue};

use super::dates::{date_text, datetime_text};

/// How a field's values compare in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Text compared case-insensitively (`COLLATE NOCASE`).
    Text,
    /// `;`-joined multi-select picklist values.
    Multi,
    Boolean,
    Number,
    Date,
    DateTime,
}

pub(crate) fn class_of(t: FieldType) -> Class {
    match t {
        FieldType::MultiPicklist => Class::Multi,
        FieldType::Boolean => Class::Boolean,
        FieldType::Int | FieldType::Double | FieldType::Currency | FieldType::Percent => {
            Class::Number
        }
        FieldType::Date => Class::Date,
        FieldType::DateTime => Class::DateTime,
        _ => Class::Text,
    }
}

/// Salesforce's complaint about a literal of the wrong kind.
fn wrong_kind(field: &FieldSchema, position: Option<Position>) -> SoqlError {
    let quoted = matches!(class_of(field.field_type), Class::Text | Class::Multi);
    SoqlError::invalid_field(
        format!(
            "value of filter criterion for field '{}' must be of type {} and should {}be enclosed in quotes",
            field.name,
            field.field_type.describe_name(),
            if quoted { "" } else { "not " }
        ),
        position,
    )
}

/// The error for an unsubstituted `:name`.
pub(crate) fn unbound(name: &str, position: Option<Position>) -> SoqlError {
    SoqlError::malformed(format!("unsubstituted bind variable ':{name}'"), position)
}

/// A non-null, non-relative literal converted to the stored form of `field`.
pub(crate) fn param(
    field: &FieldSchema,
    value: &Value,
    position: Option<Position>,
) -> Result<SqlValue, SoqlError> {
    let class = class_of(field.field_type);
    match (class, value) {
        (_, Value::Bind(name)) => Err(unbound(name, position)),
        (Class::Text | Class::Multi, Value::String(s)) => {
            if matches!(field.field_type, FieldType::Id | FieldType::Reference) {
                Ok(SqlValue::Text(canonical_id(s).unwrap_or_else(|| s.clone())))
            } else {
                Ok(SqlValue::Text(s.clone()))
            }
        }
        (Class::Boolean, Value::Boolean(b)) => Ok(SqlValue::Integer(i64::from(*b))),
        (Class::Number, Value::Number(n)) => match n.parse::<i64>() {
            Ok(i) => Ok(SqlValue::Integer(i)),
            Err(_) => n.parse::<f64>().map(SqlValue::Real).map_err(|_| wrong_kind(field, position)),
        },
        (Class::Date, Value::Date(d)) => Ok(SqlValue::Text(date_text(*d))),
        (Class::DateTime, Value::DateTime(dt)) => Ok(SqlValue::Text(datetime_text(*dt))),
        _ => Err(wrong_kind(field, position)),
    }
}

/// Checks that a relative date literal is compared with a date or datetime field.
pub(crate) fn check_relative(
    field: &FieldSchema,
    position: Option<Position>,
) -> Result<(), SoqlError> {
    match class_of(field.field_type) {
        Class::Date | Class::DateTime => Ok(()),
        _ => Err(wrong_kind(field, position)),
    }
}

/// The letters of an 18-character id's suffix: each encodes which of five characters of
/// the 15-character id are upper case.
const ID_SUFFIX_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// The canonical 18-character form of a record id typed in either form: a 15-character id
/// gets its suffix; an 18-character one gets the letter case its suffix encodes (so
/// `001XX000003DHPHAA4` typed in lower case still names the record). `None` for anything
/// that is not an id.
pub(crate) fn canonical_id(id: &str) -> Option<String> {
    match id.len() {
        15 => id18(id),
        18 if id.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            let (base, suffix) = id.split_at(15);
            let mut cased = String::with_capacity(15);
            for (chunk, flag) in base.as_bytes().chunks(5).zip(suffix.bytes()) {
                let bits =
                    ID_SUFFIX_ALPHABET.iter().position(|a| *a == flag.to_ascii_uppercase())?;
                for (j, b) in chunk.iter().enumerate() {
                    let upper = bits & (1 << j) != 0;
                    if upper && !b.is_ascii_alphabetic() {
                        return None;
                    }
                    let c = if upper { b.to_ascii_uppercase() } else { b.to_ascii_lowercase() };
                    cased.push(char::from(c));
                }
            }
            id18(&cased)
        }
        _ => None,
    }
}

/// The 18-character form of a 15-character record id; `None` for anything else.
pub(crate) fn id18(id: &str) -> Option<String> {
    if id.len() != 15 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let bytes = id.as_bytes();
    let mut out = id.to_string();
    for chunk in bytes.chunks(5) {
        let bits = chunk
            .iter()
            .enumerate()
            .filter(|(_, b)| b.is_ascii_uppercase())
            .fold(0usize, |acc, (j, _)| acc | (1 << j));
        out.push(char::from(ID_SUFFIX_ALPHABET[bits]));
    }
    Some(out)
}

/// A SOQL `LIKE` pattern (with `\%` and `\_` kept from the literal) as a SQLite pattern
/// for `ESCAPE '\'`: those two stay escapes, any other backslash is literal.
pub(crate) fn like_pattern(soql: &str) -> String {
    let mut out = String::with_capacity(soql.len());
    let mut chars = soql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some('%' | '_') => out.push('\\'),
                _ => out.push_str("\\\\"),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Text matched literally inside a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_fifteen_character_ids() {
        assert_eq!(id18("001M000000qfPyS").as_deref(), Some("001M000000qfPySIAU"));
        assert_eq!(id18("a01M00000062mPg").as_deref(), Some("a01M00000062mPgIAI"));
        assert_eq!(id18("aBcDEfgHIJKLMNO").as_deref(), Some("aBcDEfgHIJKLMNO025"));
        assert_eq!(id18("001M000000qfPySIAU"), None);
    }

    #[test]
    fn puts_ids_in_canonical_form() {
        let id = "001M000000qfPySIAU";
        assert_eq!(canonical_id(id).as_deref(), Some(id));
        assert_eq!(canonical_id(&id.to_lowercase()).as_deref(), Some(id));
        assert_eq!(canonical_id(&id.to_uppercase()).as_deref(), Some(id));
        assert_eq!(canonical_id("001M000000qfPyS").as_deref(), Some(id));
        // A suffix that marks a digit as upper case names no record.
        assert_eq!(canonical_id("001M000000qfPySZZZ"), None);
        assert_eq!(canonical_id("local-abcdefghijkl"), None);
        assert_eq!(canonical_id("001M000000qf"), None);
    }

    #[test]
    fn translates_like_patterns() {
        assert_eq!(like_pattern(r"50\%_a\b"), r"50\%_a\\b");
        assert_eq!(like_literal("a%b_c\\"), r"a\%b\_c\\");
    }
}
