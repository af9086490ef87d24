//! SOQL: lexer, parser, AST and printer, plus a compiler from a parsed query to
//! parametrized SQLite SQL over tables laid out as [`schema`] describes. No I/O.
//!
//! - [`parse`] turns text into an [`ast::Query`]; `Display` prints it back as canonical SOQL.
//! - [`compile`] resolves a query against a [`schema::Catalog`] into a [`Compiled`] query:
//!   SQL with `?` parameters plus what is needed to build Salesforce-shaped records.

pub mod ast;
pub mod error;
mod lexer;
mod parser;
mod print;
pub mod schema;

pub use error::{ErrorKind, Position, SoqlError};
pub use parser::parse;
