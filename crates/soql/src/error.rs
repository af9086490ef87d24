//! Errors a query can fail with, worded and coded the way Salesforce reports them.

use std::fmt;

/// A place in the query text, both parts counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

impl Position {
    /// A position from a 1-based line and column.
    pub fn new(line: u32, column: u32) -> Position {
        Position { line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Row:{}:Column:{}", self.line, self.column)
    }
}

/// The category of a [`SoqlError`], matching a Salesforce `errorCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Occurs when the text is not valid SOQL, or uses something outside the
    /// supported grammar (an unsubstituted bind variable, an aggregate mixed with fields).
    MalformedQuery,
    /// Occurs when a field or relationship path does not exist on its object, or when a
    /// value or operator does not fit the field's type.
    InvalidField,
    /// Occurs when the object (or child relationship) named in `FROM` does not exist.
    InvalidType,
}

impl ErrorKind {
    /// The Salesforce `errorCode` for this kind.
    pub fn error_code(&self) -> &'static str {
        match self {
            ErrorKind::MalformedQuery => "MALFORMED_QUERY",
            ErrorKind::InvalidField => "INVALID_FIELD",
            ErrorKind::InvalidType => "INVALID_TYPE",
        }
    }
}

/// Why a query could not be parsed or compiled. Retrying the same query never helps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SoqlError {
    pub kind: ErrorKind,
    /// Salesforce's wording, without the position (`unexpected token: 'FORM'`).
    pub message: String,
    /// Where in the query text the problem is, when known.
    pub position: Option<Position>,
}

impl SoqlError {
    /// An error of `kind` with `message` at `position`.
    pub fn new(kind: ErrorKind, message: impl Into<String>, position: Option<Position>) -> Self {
        SoqlError { kind, message: message.into(), position }
    }

    /// A `MALFORMED_QUERY` error.
    pub fn malformed(message: impl Into<String>, position: Option<Position>) -> Self {
        SoqlError::new(ErrorKind::MalformedQuery, message, position)
    }

    /// An `INVALID_FIELD` error.
    pub fn invalid_field(message: impl Into<String>, position: Option<Position>) -> Self {
        SoqlError::new(ErrorKind::InvalidField, message, position)
    }

    /// An `INVALID_TYPE` error.
    pub fn invalid_type(message: impl Into<String>, position: Option<Position>) -> Self {
        SoqlError::new(ErrorKind::InvalidType, message, position)
    }

    /// The Salesforce `errorCode` (`MALFORMED_QUERY`, ...).
    pub fn error_code(&self) -> &'static str {
        self.kind.error_code()
    }

    /// The message as Salesforce shows it in a REST error body: the query line, a caret
    /// under the problem, `ERROR at Row:1:Column:13`, then the message.
    pub fn salesforce_message(&self, query: &str) -> String {
        match self.position {
            Some(pos) => {
                let line = query.lines().nth(pos.line.saturating_sub(1) as usize).unwrap_or("");
                let caret = " ".repeat(pos.column.saturating_sub(1) as usize);
                format!("\n{line}\n{caret}^\nERROR at {pos}\n{}", self.message)
            }
            None => self.message.clone(),
        }
    }
}

impl fmt::Display for SoqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(pos) => write!(f, "{} (at {pos})", self.message),
            None => f.write_str(&self.message),
        }
    }
}
