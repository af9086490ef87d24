//! The describe cache: each synced object's full describe, kept in the store's key-value
//! table under `describe:<Object>` so that edits validate offline.

use salesforce::client::Client;
use salesforce::wire::SObjectDescribe;
use store::{Store, StoreError};
use tracing::debug;

use super::EditError;

/// The key-value prefix of cached describes.
pub const DESCRIBE_KEY_PREFIX: &str = "describe:";

/// Fetches the describe of each object and stores it, replacing older copies.
pub async fn cache_describes(
    client: &Client,
    store: &Store,
    objects: &[String],
) -> Result<(), EditError> {
    let mut fetched = Vec::with_capacity(objects.len());
    for name in objects {
        fetched.push(client.describe(name).await?);
    }
    store.write(|tx| {
        for describe in &fetched {
            let value = serde_json::to_value(describe)?;
            tx.kv_set(&format!("{DESCRIBE_KEY_PREFIX}{}", describe.name), &value)?;
        }
        Ok(())
    })?;
    debug!(objects = fetched.len(), "describes cached");
    Ok(())
}

/// The cached describe of `object` (its name compared case-insensitively), if any.
pub fn cached_describe(store: &Store, object: &str) -> Result<Option<SObjectDescribe>, StoreError> {
    let name = store
        .catalog()
        .names()
        .into_iter()
        .find(|n| n.eq_ignore_ascii_case(object))
        .unwrap_or_else(|| object.to_owned());
    let Some(value) = store.read(|r| r.kv_get(&format!("{DESCRIBE_KEY_PREFIX}{name}")))? else {
        return Ok(None);
    };
    Ok(Some(serde_json::from_value(value)?))
}
