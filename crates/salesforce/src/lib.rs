//! Salesforce REST wire types and the async HTTP client deltasync uses to talk to an org.
//!
//! - [`id`]: record ids and their checksum.
//! - [`time`]: Salesforce date and datetime text.
//! - [`wire`]: serde types for every JSON body, shared by the client and devorg.
//! - [`client`]: OAuth logins and the async REST client.

pub mod client;
pub mod id;
pub mod time;
pub mod wire;

pub use client::{Client, ClientConfig, Error, OAuthApp, RefreshCredentials, Relogin, Session};
pub use id::{IdError, SfId};
