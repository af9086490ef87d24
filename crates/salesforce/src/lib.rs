//! Salesforce REST wire types and the async HTTP client deltasync uses to talk to an org.
//!
//! - [`id`]: record ids and their checksum.
//! - [`time`]: Salesforce date and datetime text.
//! - [`wire`]: serde types for every JSON body, shared by the client and devorg.

pub mod id;
pub mod time;
pub mod wire;

pub use id::{IdError, SfId};
