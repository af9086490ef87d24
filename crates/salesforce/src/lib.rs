//! Salesforce REST wire types and the async HTTP client deltasync uses to talk to an org.

pub mod id;

pub use id::{IdError, SfId};
