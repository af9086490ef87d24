//! The syntax tree of a SOQL query. Positions are kept for error messages but never take
//! part in equality, so a query printed and parsed again compares equal to itself.

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::error::Position;

/// Where a node was written. Any two `Span`s compare equal.
#[derive(Debug, Clone, Copy, Default)]
pub struct Span(pub Option<Position>);

impl PartialEq for Span {
    fn eq(&self, _other: &Span) -> bool {
        true
    }
}

/// `SELECT ... FROM ... [WHERE ...] [ORDER BY ...] [LIMIT n] [OFFSET n]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub select: Vec<SelectItem>,
    pub from: Name,
    pub where_clause: Option<Condition>,
    pub order_by: Vec<OrderItem>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// An object or relationship name as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

/// A dotted field path as written: `Name`, `Account.Owner.Name`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPath {
    pub parts: Vec<String>,
    pub span: Span,
}

/// One item of the `SELECT` list.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    Field(FieldPath),
    /// `COUNT()`: the query returns only a row count.
    Count(Span),
    /// `COUNT(field)`: an aggregate over the matching rows.
    CountField(FieldPath),
    /// `(SELECT ... FROM ChildRelationship ...)`.
    SubQuery(Box<Query>),
}

/// A `WHERE` condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Two or more conditions joined by `AND`.
    And(Vec<Condition>),
    /// Two or more conditions joined by `OR`.
    Or(Vec<Condition>),
    Not(Box<Condition>),
    /// `field op value`.
    Compare {
        field: FieldPath,
        op: CompareOp,
        value: Value,
    },
    /// `field [NOT] IN (values)` or a semi-join / anti-join `field [NOT] IN (SELECT ...)`.
    In {
        field: FieldPath,
        negated: bool,
        list: InList,
    },
    /// `field INCLUDES (values)` or, when `excludes`, `field EXCLUDES (values)`.
    Includes {
        field: FieldPath,
        excludes: bool,
        values: Vec<Value>,
    },
}

/// A binary comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    /// `!=`; `<>` parses to it as well.
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
}

/// The right-hand side of `IN`.
#[derive(Debug, Clone, PartialEq)]
pub enum InList {
    Values(Vec<Value>),
    SubQuery(Box<Query>),
}

/// A literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    /// A string with escapes resolved, except `\%` and `\_`, which stay as written.
    String(String),
    /// A number as written (`42`, `-1.50`).
    Number(String),
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
    Relative(DateLiteral),
    /// `:name`, a placeholder the caller must substitute before compiling.
    Bind(String),
}

/// A relative date literal such as `TODAY` or `LAST_N_DAYS:7`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateLiteral {
    Today,
    Yesterday,
    Tomorrow,
    LastWeek,
    ThisWeek,
    NextWeek,
    LastMonth,
    ThisMonth,
    NextMonth,
    LastNDays(u32),
    NextNDays(u32),
    NDaysAgo(u32),
    LastNWeeks(u32),
    NextNWeeks(u32),
}

impl DateLiteral {
    /// The literal for a keyword (case-insensitive) and, for the `_N_` forms, its number.
    /// `None` when the word is not a date literal or the number is missing or unexpected.
    pub fn from_parts(word: &str, n: Option<u32>) -> Option<DateLiteral> {
        let word = word.to_ascii_uppercase();
        Some(match (word.as_str(), n) {
            ("TODAY", None) => DateLiteral::Today,
            ("YESTERDAY", None) => DateLiteral::Yesterday,
            ("TOMORROW", None) => DateLiteral::Tomorrow,
            ("LAST_WEEK", None) => DateLiteral::LastWeek,
            ("THIS_WEEK", None) => DateLiteral::ThisWeek,
            ("NEXT_WEEK", None) => DateLiteral::NextWeek,
            ("LAST_MONTH", None) => DateLiteral::LastMonth,
            ("THIS_MONTH", None) => DateLiteral::ThisMonth,
            ("NEXT_MONTH", None) => DateLiteral::NextMonth,
            ("LAST_N_DAYS", Some(n)) => DateLiteral::LastNDays(n),
            ("NEXT_N_DAYS", Some(n)) => DateLiteral::NextNDays(n),
            ("N_DAYS_AGO", Some(n)) => DateLiteral::NDaysAgo(n),
            ("LAST_N_WEEKS", Some(n)) => DateLiteral::LastNWeeks(n),
            ("NEXT_N_WEEKS", Some(n)) => DateLiteral::NextNWeeks(n),
            _ => return None,
        })
    }

    /// Whether `word` names a literal that takes `:n`.
    pub fn takes_number(word: &str) -> bool {
        DateLiteral::from_parts(word, Some(1)).is_some()
    }

    /// The keyword and, for the `_N_` forms, the number.
    pub fn parts(self) -> (&'static str, Option<u32>) {
        match self {
            DateLiteral::Today => ("TODAY", None),
            DateLiteral::Yesterday => ("YESTERDAY", None),
            DateLiteral::Tomorrow => ("TOMORROW", None),
            DateLiteral::LastWeek => ("LAST_WEEK", None),
            DateLiteral::ThisWeek => ("THIS_WEEK", None),
            DateLiteral::NextWeek => ("NEXT_WEEK", None),
            DateLiteral::LastMonth => ("LAST_MONTH", None),
            DateLiteral::ThisMonth => ("THIS_MONTH", None),
            DateLiteral::NextMonth => ("NEXT_MONTH", None),
            DateLiteral::LastNDays(n) => ("LAST_N_DAYS", Some(n)),
            DateLiteral::NextNDays(n) => ("NEXT_N_DAYS", Some(n)),
            DateLiteral::NDaysAgo(n) => ("N_DAYS_AGO", Some(n)),
            DateLiteral::LastNWeeks(n) => ("LAST_N_WEEKS", Some(n)),
            DateLiteral::NextNWeeks(n) => ("NEXT_N_WEEKS", Some(n)),
        }
    }
}

/// One `ORDER BY` item; direction and null placement are kept only when written.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    pub field: FieldPath,
    pub descending: Option<bool>,
    pub nulls_first: Option<bool>,
}

impl Span {
    /// The position, if known.
    pub fn position(&self) -> Option<Position> {
        self.0
    }
}

/// Words that cannot be used as names.
pub const RESERVED: &[&str] = &[
    "AND", "ASC", "BY", "DESC", "EXCLUDES", "FALSE", "FIRST", "FROM", "GROUP", "HAVING", "IN",
    "INCLUDES", "LAST", "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OFFSET", "OR", "ORDER", "SELECT",
    "TRUE", "WHERE", "WITH",
];

/// Whether `word` is reserved (case-insensitive).
pub fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}
