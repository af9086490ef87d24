//! SOQL: lexer, parser, AST and printer, plus a compiler from a parsed query to
//! parametrized SQLite SQL over tables laid out as [`schema`] describes. No I/O.

pub mod schema;
