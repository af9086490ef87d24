//! Why an operation on the device's data folder failed, worded for the person at the keyboard.

use std::path::PathBuf;

use super::KEY_FILE;
use super::key::KeyHome;
use super::keyring::KeyringError;

/// Everything that can go wrong with a device's data folder, its store and its session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// Occurs when no data folder is given and the home folder is unknown.
    #[error("no data folder: pass --data-dir or set DELTASYNC_HOME")]
    NoDataDir,
    /// Occurs when the store holds no session: nobody logged in on this device yet.
    #[error("not logged in: run `deltasync login` first")]
    NotLoggedIn,
    /// Occurs when another process (the app, another command) holds the data folder.
    #[error("the data folder {} is in use by another deltasync process{}; stop it first", dir.display(), pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Locked {
        /// The data folder.
        dir: PathBuf,
        /// The process id the lock file names, when readable.
        pid: Option<u32>,
    },
    /// Occurs when the key (from the key file or the keyring) does not decrypt the store.
    #[error("{key} does not open the store {}: it belongs to another store", store.display())]
    WrongKey {
        /// Where the key came from.
        key: KeyHome,
        /// The store file.
        store: PathBuf,
    },
    /// Occurs when the folder holds a store but its key is neither in the key file nor in
    /// the keyring (or no keyring answers). No new key is made: it could not open the store.
    #[error(
        "the store in {} has no key: there is no {KEY_FILE} in it{}",
        dir.display(),
        if *keyring {
            ", and the OS keyring holds no key for it"
        } else {
            ", and no OS keyring answers on the D-Bus session bus (if its key is kept in the keyring, run the command in the desktop session, where DBUS_SESSION_BUS_ADDRESS is set)"
        }
    )]
    KeyNotFound {
        /// The data folder.
        dir: PathBuf,
        /// Whether a keyring answered (and had no item for the folder).
        keyring: bool,
    },
    /// Occurs when the OS keyring is there but locked, or fails.
    #[error("OS keyring: {0}")]
    Keyring(#[from] KeyringError),
    /// Occurs when a different user is logged in on this device.
    #[error("{username} is logged in on this device: run `deltasync logout` first")]
    OtherUser {
        /// Who is logged in.
        username: String,
    },
    /// Occurs when logging out would lose changes not yet uploaded.
    #[error(
        "{0} pending change(s) not uploaded yet: run `deltasync sync`, or `deltasync logout --force` to lose them"
    )]
    PendingChanges(u64),
    /// Occurs when a file in the data folder cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Occurs when the sync profile does not read or does not fit the org.
    #[error("sync profile: {0}")]
    Profile(String),
    /// Occurs when the local store fails.
    #[error("{0}")]
    Store(#[from] store::StoreError),
    /// Occurs when the org refuses a login or a call.
    #[error(transparent)]
    Remote(#[from] salesforce::client::Error),
    /// Occurs when a sync or the engine's opening fails.
    #[error("{0}")]
    Sync(#[from] engine::SyncError),
    /// Occurs when a local edit is refused.
    #[error("{0}")]
    Edit(#[from] engine::edit::EditError),
}

impl DeviceError {
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> DeviceError + '_ {
        move |source| DeviceError::Io { path: path.to_owned(), source }
    }
}
