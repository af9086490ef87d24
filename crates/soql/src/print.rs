//! Prints a [`crate::ast::Query`] as canonical SOQL: upper-case keywords, names as
//! written, single spaces. Parsing the printed text gives back an equal tree.

use std::fmt::{self, Display, Formatter, Write};

use chrono::Timelike;

use crate::ast::{
    CompareOp, Condition, DateLiteral, FieldPath, InList, OrderItem, Query, SelectItem, Value,
};

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        comma_separated(f, &self.select)?;
        write!(f, " FROM {}", self.from.text)?;
        if let Some(c) = &self.where_clause {
            write!(f, " WHERE {c}")?;
        }
        if !self.order_by.is_empty() {
            f.write_str(" ORDER BY ")?;
            comma_separated(f, &self.order_by)?;
        }
        if let Some(n) = self.limit {
            write!(f, " LIMIT {n}")?;
        }
        if let Some(n) = self.offset {
            write!(f, " OFFSET {n}")?;
        }
        Ok(())
    }
}

fn comma_separated<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl Display for FieldPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.parts.join("."))
    }
}

impl Display for SelectItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SelectItem::Field(p) => write!(f, "{p}"),
            SelectItem::Count(_) => f.write_str("COUNT()"),
            SelectItem::CountField(p) => write!(f, "COUNT({p})"),
            SelectItem::SubQuery(q) => write!(f, "({q})"),
        }
    }
}

impl Display for OrderItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.field)?;
        match self.descending {
            Some(true) => f.write_str(" DESC")?,
            Some(false) => f.write_str(" ASC")?,
            None => {}
        }
        match self.nulls_first {
            Some(true) => f.write_str(" NULLS FIRST"),
            Some(false) => f.write_str(" NULLS LAST"),
            None => Ok(()),
        }
    }
}

impl Display for Condition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Condition::And(items) | Condition::Or(items) => {
                let joiner = if matches!(self, Condition::And(_)) { " AND " } else { " OR " };
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(joiner)?;
                    }
                    operand(f, item)?;
                }
                Ok(())
            }
            Condition::Not(inner) => {
                f.write_str("NOT ")?;
                operand(f, inner)
            }
            Condition::Compare { field, op, value } => write!(f, "{field} {op} {value}"),
            Condition::In { field, negated, list } => {
                write!(f, "{field} {}IN (", if *negated { "NOT " } else { "" })?;
                match list {
                    InList::Values(values) => comma_separated(f, values)?,
                    InList::SubQuery(q) => write!(f, "{q}")?,
                }
                f.write_char(')')
            }
            Condition::Includes { field, excludes, values } => {
                write!(f, "{field} {} (", if *excludes { "EXCLUDES" } else { "INCLUDES" })?;
                comma_separated(f, values)?;
                f.write_char(')')
            }
        }
    }
}

/// A condition inside `AND`, `OR` or `NOT`: compound ones get parentheses.
fn operand(f: &mut Formatter<'_>, c: &Condition) -> fmt::Result {
    match c {
        Condition::And(_) | Condition::Or(_) => write!(f, "({c})"),
        _ => write!(f, "{c}"),
    }
}

impl Display for CompareOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Like => "LIKE",
        })
    }
}

impl Display for Value {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Boolean(b) => write!(f, "{b}"),
            Value::String(s) => write_quoted(f, s),
            Value::Number(n) => f.write_str(n),
            Value::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Value::DateTime(dt) => {
                let fraction = if dt.nanosecond() % 1_000_000 == 0 { "%.3f" } else { "%.9f" };
                write!(f, "{}", dt.format(&format!("%Y-%m-%dT%H:%M:%S{fraction}%z")))
            }
            Value::Relative(d) => write!(f, "{d}"),
            Value::Bind(name) => write!(f, ":{name}"),
        }
    }
}

impl Display for DateLiteral {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.parts() {
            (word, Some(n)) => write!(f, "{word}:{n}"),
            (word, None) => f.write_str(word),
        }
    }
}

/// A string in single quotes with SOQL escapes; a kept `\%` or `\_` is written as is.
fn write_quoted(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('%' | '_')) => f.write_char('\\')?,
            '\\' => f.write_str("\\\\")?,
            '\'' => f.write_str("\\'")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('\'')
}
