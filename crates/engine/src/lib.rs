//! The sync engine: decides what to download and upload, and drives the Salesforce client
//! and the local store.

pub mod clock;
pub mod profile;
pub mod upload;

#[cfg(test)]
mod test_schema;

pub use clock::{Clock, ManualClock, SystemClock};
