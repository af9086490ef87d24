//! Salesforce REST wire types and the async HTTP client deltasync uses to talk to an org.
//!
//! - [`id`]: record ids and their checksum.
//! - [`time`]: Salesforce date and datetime text.
//! - [`wire`]: serde types for every JSON body, shared by the client and devorg.
//! - [`client`]: OAuth logins and the async REST client.
//!
//! # Example
//!
//! ```no_run
//! use salesforce::{Client, ClientConfig, OAuthApp, RefreshCredentials, Relogin};
//!
//! # async fn run() -> Result<(), salesforce::Error> {
//! let app = OAuthApp::new("https://login.salesforce.com", "client-id", None);
//! let session = app.login_password("ann@example.com", "password").await?;
//! let config = ClientConfig {
//!     login: Some(RefreshCredentials { app, relogin: Relogin::RefreshTokenOnly }),
//!     ..ClientConfig::default()
//! };
//! let client = Client::new(session, config)?;
//! client.on_session_change(Box::new(|session| {
//!     // Persist the refreshed tokens here.
//!     let _ = session;
//! }));
//!
//! let mut pages = client.query_pages("SELECT Id, Name FROM Account", 2000);
//! while let Some(page) = pages.next_page().await? {
//!     for record in &page.records {
//!         let _ = record.get("Name");
//!     }
//! }
//! # Ok(())
//! # }
//! ```

pub mod client;
pub mod id;
pub mod time;
pub mod wire;

pub use client::{Client, ClientConfig, Error, OAuthApp, RefreshCredentials, Relogin, Session};
pub use id::{IdError, SfId};
