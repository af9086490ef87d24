//! SOQL: lexer, parser, AST and printer, plus a compiler from a parsed query to
//! parametrized SQLite SQL over tables laid out as [`schema`] describes. No I/O.
//!
//! - [`parse`] turns text into an [`ast::Query`]; `Display` prints it back as canonical SOQL.
//! - [`compile`] resolves a query against a [`schema::Catalog`] into a [`Compiled`] query:
//!   SQL with `?` parameters plus what is needed to build Salesforce-shaped records.
//!   [`sql`] describes how an executor runs one, child subqueries included.
//!
//! # Example
//!
//! ```
//! use soql::schema::{Catalog, FieldSchema, FieldType, ObjectSchema, SqlValue};
//! use soql::{CompileOptions, compile, parse};
//!
//! struct OneObject(ObjectSchema);
//! impl Catalog for OneObject {
//!     fn object(&self, name: &str) -> Option<&ObjectSchema> {
//!         self.0.name.eq_ignore_ascii_case(name).then_some(&self.0)
//!     }
//! }
//! let field = |name: &str, field_type| FieldSchema {
//!     name: name.into(),
//!     field_type,
//!     reference_to: vec![],
//!     relationship_name: None,
//! };
//! let catalog = OneObject(ObjectSchema {
//!     name: "Account".into(),
//!     fields: vec![field("Id", FieldType::Id), field("Name", FieldType::String)],
//!     child_relationships: vec![],
//!     name_field: None,
//! });
//!
//! let query = parse("select name from account where name like 'Ac%' limit 10").unwrap();
//! assert_eq!(query.to_string(), "SELECT name FROM account WHERE name LIKE 'Ac%' LIMIT 10");
//!
//! let compiled = compile(&query, &catalog, &CompileOptions::new(chrono::Utc::now())).unwrap();
//! assert_eq!(compiled.object(), "Account");
//! assert_eq!(compiled.params, vec![SqlValue::Text("Ac%".into()), SqlValue::Integer(10)]);
//!
//! let row = [SqlValue::Text("001000000000001AAA".into()), SqlValue::Text("Acme".into())];
//! let record = compiled.assemble(&row);
//! assert_eq!(record["Name"], "Acme");
//! assert_eq!(record["attributes"]["url"], "/services/data/v62.0/sobjects/Account/001000000000001AAA");
//! ```

pub mod ast;
pub mod error;
mod lexer;
mod parser;
mod print;
pub mod schema;
pub mod sql;

pub use error::{ErrorKind, Position, SoqlError};
pub use parser::parse;
pub use sql::{ChildQuery, CompileOptions, Compiled, PageAfter, child_result, compile};
