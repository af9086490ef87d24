//! Where a data folder's store key lives: in the OS keyring when a Secret Service answers on
//! the D-Bus session bus, else in the key file `store.key` (mode 0600) beside the store.
//!
//! A key file that exists always wins, so a store whose key was kept in a file keeps it
//! there. A new key is made only for a folder that holds no store yet: a store whose key
//! is found nowhere is an error, never a reason to make a second key.

use std::fmt;
use std::path::{Path, PathBuf};

use store::StoreKey;
use tracing::{debug, info};

use super::keyring::{self, KeyringError};
use super::{DeviceError, KEY_FILE, STORE_FILE};

/// Where a device's store key is kept. Shown to the user; never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyHome {
    /// An item in the OS keyring (the Secret Service), found by the data folder's
    /// canonical path.
    Keyring {
        /// The data folder's canonical path, the item's `data-dir` attribute.
        data_dir: String,
    },
    /// The key file in the data folder.
    File(PathBuf),
}

impl KeyHome {
    /// `"keyring"` or `"file"`, for JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            KeyHome::Keyring { .. } => "keyring",
            KeyHome::File(_) => "file",
        }
    }
}

impl fmt::Display for KeyHome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyHome::Keyring { data_dir } => {
                write!(f, "the OS keyring's item for {data_dir}")
            }
            KeyHome::File(path) => write!(f, "the key file {}", path.display()),
        }
    }
}

/// The key of the store in `dir`, from the key file or else the keyring.
pub(crate) fn load(dir: &Path) -> Result<(StoreKey, KeyHome), DeviceError> {
    if let Some(found) = from_file(dir)? {
        return Ok(found);
    }
    let Some(data_dir) = keyring_name(dir)? else {
        return Err(DeviceError::KeyNotFound { dir: dir.to_owned(), keyring: false });
    };
    match keyring::find(&data_dir) {
        Ok(Some(key)) => Ok((key, KeyHome::Keyring { data_dir })),
        Ok(None) => Err(DeviceError::KeyNotFound { dir: dir.to_owned(), keyring: true }),
        Err(KeyringError::Absent) => {
            Err(DeviceError::KeyNotFound { dir: dir.to_owned(), keyring: false })
        }
        Err(e) => Err(e.into()),
    }
}

/// The key of the store in `dir` for a login: the one already kept, else (only while the
/// folder holds no store) a new one, kept in the keyring when one answers, else in a new
/// key file.
pub(crate) fn load_or_create(dir: &Path) -> Result<(StoreKey, KeyHome), DeviceError> {
    if let Some(found) = from_file(dir)? {
        return Ok(found);
    }
    let has_store = dir.join(STORE_FILE).exists();
    let Some(data_dir) = keyring_name(dir)? else { return new_key_file(dir, has_store) };
    match keyring::find(&data_dir) {
        Ok(Some(key)) => Ok((key, KeyHome::Keyring { data_dir })),
        Ok(None) if has_store => {
            Err(DeviceError::KeyNotFound { dir: dir.to_owned(), keyring: true })
        }
        Ok(None) => {
            let key = StoreKey::generate();
            match keyring::save(&data_dir, &key) {
                Ok(()) => {
                    info!("new store key kept in the OS keyring");
                    Ok((key, KeyHome::Keyring { data_dir }))
                }
                Err(KeyringError::NoDefaultCollection) => {
                    debug!("the keyring has no default collection; using a key file");
                    new_key_file(dir, has_store)
                }
                Err(e) => Err(e.into()),
            }
        }
        Err(KeyringError::Absent) => new_key_file(dir, has_store),
        Err(e) => Err(e.into()),
    }
}

/// A new key in a new key file, unless the folder already holds a store (whose key this
/// could never be).
fn new_key_file(dir: &Path, has_store: bool) -> Result<(StoreKey, KeyHome), DeviceError> {
    if has_store {
        return Err(DeviceError::KeyNotFound { dir: dir.to_owned(), keyring: false });
    }
    let path = dir.join(KEY_FILE);
    let key = StoreKey::generate();
    key.save(&path)?;
    info!(path = %path.display(), "new store key kept in a key file");
    Ok((key, KeyHome::File(path)))
}

/// Deletes the key where it is kept (the key file, or the keyring's item).
pub(crate) fn forget(home: &KeyHome) -> Result<(), DeviceError> {
    match home {
        KeyHome::File(path) => match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(DeviceError::Io { path: path.clone(), source: e }),
        },
        KeyHome::Keyring { data_dir } => {
            keyring::delete(data_dir)?;
            Ok(())
        }
    }
}

fn from_file(dir: &Path) -> Result<Option<(StoreKey, KeyHome)>, DeviceError> {
    let path = dir.join(KEY_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let key = StoreKey::load(&path)?;
    Ok(Some((key, KeyHome::File(path))))
}

/// The folder's canonical path, which names its keyring item whichever way the folder was
/// given; `None` when the path is not UTF-8 (D-Bus attributes are text), so the key file
/// serves that folder.
fn keyring_name(dir: &Path) -> Result<Option<String>, DeviceError> {
    let path = std::fs::canonicalize(dir).map_err(DeviceError::io(dir))?;
    Ok(path.into_os_string().into_string().ok())
}
