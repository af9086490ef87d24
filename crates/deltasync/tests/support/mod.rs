//! Shared helpers for the binary's integration tests.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod field;
pub mod webdriver;
