//! The OS keyring as the freedesktop Secret Service on the D-Bus session bus (GNOME Keyring
//! or another provider): one item per data folder holds that folder's store key.
//!
//! An item carries the attributes `service` = [`SERVICE`] and [`DATA_DIR_ATTRIBUTE`] = the
//! data folder's canonical path, and the key as 64 hex digits; `secret-tool lookup service
//! deltasync data-dir PATH` prints it. Each call connects, does its work and disconnects on
//! a thread of its own, so it can be made from inside or outside an async runtime.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use secret_service::{EncryptionType, Error as SsError, Item, SecretService};
use store::StoreKey;
use tracing::debug;

/// The `service` attribute of every item deltasync keeps.
pub const SERVICE: &str = "deltasync";

/// The attribute that holds the data folder's canonical path.
pub const DATA_DIR_ATTRIBUTE: &str = "data-dir";

/// How long one keyring call may take, an unlock prompt the user answers included.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Why the keyring could not keep or give the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// Occurs when no Secret Service answers: there is no session bus, or nothing on it
    /// provides `org.freedesktop.secrets`. There is no keyring here; the key file is used.
    #[error("no Secret Service answers on the D-Bus session bus")]
    Absent,
    /// Occurs when the Secret Service has no default collection to keep a new key in (a
    /// session-only collection would lose it at logout). The key file is used instead.
    #[error("the Secret Service has no default collection")]
    NoDefaultCollection,
    /// Occurs when the collection or item is locked and the unlock prompt was dismissed
    /// or could not be shown. Unlocking the keyring and running the command again helps.
    #[error(
        "the keyring is locked and was not unlocked: unlock it (log in to the desktop session, or open it in the keyring manager) and try again"
    )]
    Locked,
    /// Occurs when this data folder's item holds something other than a store key.
    #[error("the keyring item for this data folder does not hold a store key")]
    NotAKey,
    /// Occurs when a D-Bus call to the Secret Service fails or gets no answer in time.
    /// A retry may help once the keyring daemon answers again.
    #[error("the Secret Service on the D-Bus session bus failed: {0}")]
    Failed(String),
}

/// The key kept for the data folder `data_dir` (a canonical path), or `None`.
pub fn find(data_dir: &str) -> Result<Option<StoreKey>, KeyringError> {
    run(|| async move {
        let service = connect().await?;
        let Some(item) = item_for(&service, data_dir).await? else {
            debug!("no store key in the keyring for this data folder");
            return Ok(None);
        };
        let secret = item.get_secret().await.map_err(failed)?;
        let text = std::str::from_utf8(&secret).map_err(|_| KeyringError::NotAKey)?;
        let key = StoreKey::from_hex(text).map_err(|_| KeyringError::NotAKey)?;
        debug!("store key read from the keyring");
        Ok(Some(key))
    })
}

/// Keeps `key` for the data folder `data_dir` in the default collection, replacing the
/// folder's item if there is one.
pub fn save(data_dir: &str, key: &StoreKey) -> Result<(), KeyringError> {
    run(|| async move {
        let service = connect().await?;
        let collection = match service.get_default_collection().await {
            Ok(collection) => collection,
            Err(SsError::NoResult) => return Err(KeyringError::NoDefaultCollection),
            Err(e) => return Err(failed(e)),
        };
        if collection.is_locked().await.map_err(failed)? {
            collection.unlock().await.map_err(unlock_failed)?;
        }
        let label = format!("deltasync store key ({data_dir})");
        collection
            .create_item(&label, attributes(data_dir), key.to_hex().as_bytes(), true, "text/plain")
            .await
            .map_err(unlock_failed)?;
        debug!("store key kept in the keyring");
        Ok(())
    })
}

/// Deletes the data folder's item; whether there was one.
pub fn delete(data_dir: &str) -> Result<bool, KeyringError> {
    run(|| async move {
        let service = connect().await?;
        let Some(item) = item_for(&service, data_dir).await? else { return Ok(false) };
        item.delete().await.map_err(unlock_failed)?;
        debug!("store key deleted from the keyring");
        Ok(true)
    })
}

fn attributes(data_dir: &str) -> HashMap<&str, &str> {
    HashMap::from([("service", SERVICE), (DATA_DIR_ATTRIBUTE, data_dir)])
}

async fn connect() -> Result<SecretService<'static>, KeyringError> {
    SecretService::connect(EncryptionType::Dh).await.map_err(|e| {
        if no_keyring(&e) {
            debug!(reason = %e, "no Secret Service on the session bus");
            KeyringError::Absent
        } else {
            failed(e)
        }
    })
}

/// The folder's item, unlocked (which may show the desktop's unlock prompt).
async fn item_for<'a>(
    service: &'a SecretService<'a>,
    data_dir: &str,
) -> Result<Option<Item<'a>>, KeyringError> {
    let found = service.search_items(attributes(data_dir)).await.map_err(failed)?;
    if let Some(item) = found.unlocked.into_iter().next() {
        return Ok(Some(item));
    }
    let Some(item) = found.locked.into_iter().next() else { return Ok(None) };
    item.unlock().await.map_err(unlock_failed)?;
    Ok(Some(item))
}

/// Whether a connection error means there is no keyring here (rather than a broken one).
fn no_keyring(e: &SsError) -> bool {
    match e {
        SsError::Unavailable => true,
        // No socket at the bus address, or nobody listening on it.
        SsError::Zbus(zbus::Error::InputOutput(io) | zbus::Error::Connection(io, _)) => matches!(
            io.kind(),
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
        ),
        SsError::Zbus(zbus::Error::MethodError(name, _, _)) => {
            let name = name.as_str();
            name == "org.freedesktop.DBus.Error.ServiceUnknown"
                || name == "org.freedesktop.DBus.Error.NameHasNoOwner"
                || name.starts_with("org.freedesktop.DBus.Error.Spawn.")
        }
        _ => false,
    }
}

fn failed(e: SsError) -> KeyringError {
    match e {
        SsError::Locked => KeyringError::Locked,
        other => KeyringError::Failed(other.to_string()),
    }
}

fn unlock_failed(e: SsError) -> KeyringError {
    match e {
        SsError::Locked | SsError::Prompt | SsError::PromptDisconnected => KeyringError::Locked,
        other => failed(other),
    }
}

/// Runs one keyring call on a thread of its own with its own runtime, bounded by [`TIMEOUT`].
fn run<T, F, Fut>(call: F) -> Result<T, KeyringError>
where
    T: Send,
    F: FnOnce() -> Fut + Send,
    Fut: Future<Output = Result<T, KeyringError>>,
{
    std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| KeyringError::Failed(format!("cannot start the D-Bus client: {e}")))?;
            runtime.block_on(async {
                tokio::time::timeout(TIMEOUT, call()).await.map_err(|_| {
                    KeyringError::Failed(format!("no answer within {} s", TIMEOUT.as_secs()))
                })?
            })
        });
        worker
            .join()
            .unwrap_or_else(|_| Err(KeyringError::Failed("the D-Bus client stopped".into())))
    })
}
