//! The parts of the `deltasync` binary that tests also drive in-process: the web app.
//!
//! `main.rs` and its `commands/` are the command-line shell over these and the library crates.

pub mod app;
pub mod device;
pub mod web;
