//! One device's data folder: where it is, the key that encrypts its store, the store and
//! its single-instance lock, the saved session, the sync profile, and the [`Engine`] built
//! from them. The command line, the app and the tests all open a device through here.
//!
//! The folder holds `store.db` (SQLCipher), `profile.toml` (the sync profile chosen at
//! login) and `deltasync.lock`. The store's key is kept in the OS keyring when one answers,
//! else in `store.key` (mode 0600) in the folder (`key`).

mod error;
mod key;
mod keyring;
mod session;
mod sync_run;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use engine::profile::ProfileSource;
use engine::{Clock, Engine, SystemClock};
use salesforce::client::{Client, ClientConfig, Session};
use store::{InstanceLock, Store, StoreError, StoreKey};
use tracing::{debug, info};

pub use error::DeviceError;
pub use key::KeyHome;
pub use keyring::KeyringError;
pub use session::{LoginMethod, SavedSession};
pub use sync_run::{SyncRun, run_sync};

/// The sync profile used when login is given none: a field technician's appointments,
/// work orders and what they point to.
pub const FIELD_SERVICE_PROFILE: &str = include_str!("../../engine/profiles/field-service.toml");

/// The store file's name in the data folder.
pub const STORE_FILE: &str = "store.db";
/// The key file's name in the data folder, where the store key is kept when there is no
/// OS keyring.
pub const KEY_FILE: &str = "store.key";
/// The profile file's name in the data folder.
pub const PROFILE_FILE: &str = "profile.toml";

/// The data folder: `flag` when given (the command line also reads `DELTASYNC_HOME`
/// into it), else `$DELTASYNC_HOME`, else `~/.local/share/deltasync`.
pub fn resolve_data_dir(flag: Option<&Path>) -> Result<PathBuf, DeviceError> {
    if let Some(dir) = flag {
        return Ok(dir.to_owned());
    }
    if let Some(home) = std::env::var_os("DELTASYNC_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    let home = std::env::var_os("HOME").filter(|v| !v.is_empty()).ok_or(DeviceError::NoDataDir)?;
    Ok(PathBuf::from(home).join(".local/share/deltasync"))
}

/// Whether the device is opened to change things (and so takes the instance lock) or
/// only to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Takes the single-instance lock; fails while another process holds it.
    Write,
    /// Reads alongside a running app (SQLite WAL lets readers in during its writes).
    Read,
}

/// An opened data folder.
pub struct Device {
    dir: PathBuf,
    store: Arc<Store>,
    key_home: KeyHome,
    clock: Arc<dyn Clock>,
    _lock: Option<InstanceLock>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("dir", &self.dir)
            .field("writer", &self._lock.is_some())
            .field("key_home", &self.key_home)
            .finish_non_exhaustive()
    }
}

/// Takes the instance lock, naming the holder when it is taken.
fn lock(dir: &Path) -> Result<InstanceLock, DeviceError> {
    Store::lock_exclusive(dir).map_err(|e| match e {
        StoreError::Locked { .. } => {
            let pid = std::fs::read_to_string(dir.join(store::LOCK_FILE_NAME))
                .ok()
                .and_then(|t| t.trim().parse().ok());
            DeviceError::Locked { dir: dir.to_owned(), pid }
        }
        other => DeviceError::Store(other),
    })
}

fn open_store(dir: &Path, key: &StoreKey, home: &KeyHome) -> Result<Store, DeviceError> {
    let path = dir.join(STORE_FILE);
    Store::open(&path, key).map_err(|e| match e {
        StoreError::WrongKey { .. } => {
            DeviceError::WrongKey { key: home.clone(), store: path.clone() }
        }
        StoreError::Locked { .. } => DeviceError::Locked { dir: dir.to_owned(), pid: None },
        other => DeviceError::Store(other),
    })
}

impl Device {
    /// Opens an existing device: fails with [`DeviceError::NotLoggedIn`] when the folder
    /// holds no store.
    pub fn open(dir: &Path, access: Access) -> Result<Device, DeviceError> {
        if !dir.join(STORE_FILE).exists() {
            return Err(DeviceError::NotLoggedIn);
        }
        let lock = match access {
            Access::Write => Some(lock(dir)?),
            Access::Read => None,
        };
        let (key, key_home) = key::load(dir)?;
        let store = Arc::new(open_store(dir, &key, &key_home)?);
        debug!(dir = %dir.display(), ?access, key = key_home.kind(), "device opened");
        Ok(Device {
            dir: dir.to_owned(),
            store,
            key_home,
            clock: Arc::new(SystemClock),
            _lock: lock,
        })
    }

    /// Opens the folder for a login, creating it, its key and its store as needed.
    fn create(dir: &Path) -> Result<Device, DeviceError> {
        std::fs::create_dir_all(dir).map_err(DeviceError::io(dir))?;
        let lock = lock(dir)?;
        let (key, key_home) = key::load_or_create(dir)?;
        let store = Arc::new(open_store(dir, &key, &key_home)?);
        Ok(Device {
            dir: dir.to_owned(),
            store,
            key_home,
            clock: Arc::new(SystemClock),
            _lock: Some(lock),
        })
    }

    /// Logs in with a session obtained by one of the grants, saves it and the profile
    /// (`profile` is a file to copy; `None` keeps the current one or the field-service
    /// default), and checks the profile against the org. Priming is the caller's next step.
    pub async fn login(
        dir: &Path,
        saved: SavedSession,
        profile: Option<&Path>,
    ) -> Result<(Device, Engine), DeviceError> {
        let device = Device::create(dir)?;
        let previous = SavedSession::load(&device.store)?;
        if let Some(current) = &previous
            && current.session.user_id != saved.session.user_id
        {
            return Err(DeviceError::OtherUser { username: current.username.clone() });
        }
        let text = match profile {
            Some(path) => std::fs::read_to_string(path).map_err(DeviceError::io(path))?,
            None => device.profile_text()?,
        };
        let source = parse_profile(profile.unwrap_or(Path::new(PROFILE_FILE)), &text)?;
        let engine = device.finish_login(&saved, &source, &text).await?;
        info!(user = %saved.username, "logged in");
        Ok((device, engine))
    }

    /// Checks the profile against the org with the new session, puts it in force, and
    /// only then saves the session. A login cut off at any moment (an error, or the
    /// process killed) leaves the previous session, or none, never a session whose
    /// profile was not put in force.
    async fn finish_login(
        &self,
        saved: &SavedSession,
        source: &ProfileSource,
        text: &str,
    ) -> Result<Engine, DeviceError> {
        let engine = self.engine_with(saved, source).await?;
        self.put_profile_in_force(text)?;
        saved.save(&self.store)?;
        Ok(engine)
    }

    /// Replaces the profile file in one step that survives a power cut: the new text is
    /// flushed under another name, renamed over the old file, and the rename flushed.
    fn put_profile_in_force(&self, text: &str) -> Result<(), DeviceError> {
        let target = self.dir.join(PROFILE_FILE);
        let staged = self.dir.join(format!("{PROFILE_FILE}.new"));
        let mut file = std::fs::File::create(&staged).map_err(DeviceError::io(&staged))?;
        file.write_all(text.as_bytes()).map_err(DeviceError::io(&staged))?;
        file.sync_all().map_err(DeviceError::io(&staged))?;
        std::fs::rename(&staged, &target).map_err(DeviceError::io(&target))?;
        std::fs::File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(DeviceError::io(&self.dir))?;
        Ok(())
    }

    /// Logs in with a username and password (the password grant).
    pub async fn login_password(
        dir: &Path,
        login_url: &str,
        username: &str,
        password: &str,
        client_id: &str,
        client_secret: Option<String>,
        profile: Option<&Path>,
    ) -> Result<(Device, Engine), DeviceError> {
        let app = salesforce::client::OAuthApp::new(login_url, client_id, client_secret.clone());
        let session = app.login_password(username, password).await?;
        let saved = SavedSession {
            session,
            login_url: login_url.to_owned(),
            username: username.to_owned(),
            client_id: client_id.to_owned(),
            client_secret,
            method: LoginMethod::Password,
        };
        Device::login(dir, saved, profile).await
    }

    /// The data folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the store key is kept: the OS keyring or the key file.
    pub fn key_home(&self) -> &KeyHome {
        &self.key_home
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The clock the device's engine and edits use.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The saved session, or [`DeviceError::NotLoggedIn`].
    pub fn session(&self) -> Result<SavedSession, DeviceError> {
        SavedSession::load(&self.store)?.ok_or(DeviceError::NotLoggedIn)
    }

    /// The profile text in force: the copy in the data folder, else the field-service one.
    pub fn profile_text(&self) -> Result<String, DeviceError> {
        let path = self.dir.join(PROFILE_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(FIELD_SERVICE_PROFILE.to_owned())
            }
            Err(e) => Err(DeviceError::Io { path, source: e }),
        }
    }

    /// A client for the saved session whose refreshed tokens are written back to the store.
    pub fn client(&self, timeout: Option<Duration>) -> Result<Client, DeviceError> {
        let saved = self.session()?;
        self.client_for(&saved, timeout)
    }

    fn client_for(
        &self,
        saved: &SavedSession,
        timeout: Option<Duration>,
    ) -> Result<Client, DeviceError> {
        let mut config =
            ClientConfig { login: saved.refresh_credentials(), ..ClientConfig::default() };
        if let Some(timeout) = timeout {
            config.timeout = timeout;
        }
        let client = Client::new(saved.session.clone(), config)?;
        let store = self.store.clone();
        let template = saved.clone();
        client.on_session_change(Box::new(move |session: &Session| {
            let saved = SavedSession { session: session.clone(), ..template.clone() };
            match saved.save(&store) {
                Ok(()) => debug!("refreshed session saved"),
                Err(e) => tracing::warn!(error = %e, "cannot save the refreshed session"),
            }
        }));
        Ok(client)
    }

    /// Opens the engine for the saved session and profile (needs the org: it describes
    /// the profile's objects), caches the describes edits validate against, and sets
    /// each object's sync interval.
    pub async fn engine(&self) -> Result<Engine, DeviceError> {
        let saved = self.session()?;
        let source = parse_profile(PROFILE_FILE, &self.profile_text()?)?;
        self.engine_with(&saved, &source).await
    }

    async fn engine_with(
        &self,
        saved: &SavedSession,
        source: &ProfileSource,
    ) -> Result<Engine, DeviceError> {
        let client = self.client_for(saved, None)?;
        let engine = Engine::open(self.store.clone(), client.clone(), source, self.clock.clone())
            .await
            .map_err(|e| match e {
                engine::SyncError::Profile(errors) => DeviceError::Profile(errors.to_string()),
                other => DeviceError::Sync(other),
            })?;
        let objects: Vec<String> =
            engine.profile().objects.iter().map(|o| o.name.clone()).collect();
        engine::edit::cache_describes(&client, &self.store, &objects).await?;
        let now = self.clock.now();
        self.store.write(|tx| {
            for object in &engine.profile().objects {
                let current = tx.read().schedule_for(&object.name)?;
                if current.is_none_or(|c| c.interval_secs != object.interval_secs) {
                    tx.set_sync_interval(&object.name, object.interval_secs, now)?;
                }
            }
            Ok(())
        })?;
        Ok(engine)
    }

    /// Pending changes not yet on the server.
    pub fn pending_count(&self) -> Result<u64, DeviceError> {
        let counts = self.store.read(|r| r.pending_counts())?;
        Ok(counts.iter().map(|(_, n)| n).sum())
    }

    /// Logs out: removes the store (records, pending changes, tokens), the profile copy and
    /// then the key (the key file, or the keyring's item). Refuses while changes wait for
    /// upload, unless `force`.
    pub fn logout(self, force: bool) -> Result<(), DeviceError> {
        let pending = self.pending_count()?;
        if pending > 0 && !force {
            return Err(DeviceError::PendingChanges(pending));
        }
        let Device { dir, store, key_home, _lock, .. } = self;
        drop(store);

        // The store goes first: a key left behind by a failure opens nothing, and the next
        // login in this folder takes it up again.
        for name in [
            STORE_FILE.to_owned(),
            format!("{STORE_FILE}-wal"),
            format!("{STORE_FILE}-shm"),
            PROFILE_FILE.to_owned(),
        ] {
            let path = dir.join(&name);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(DeviceError::Io { path, source: e }),
            }
        }
        key::forget(&key_home)?;
        info!(dir = %dir.display(), discarded = pending, key = key_home.kind(), "logged out");
        Ok(())
    }
}

fn parse_profile(name: impl AsRef<Path>, text: &str) -> Result<ProfileSource, DeviceError> {
    let name = name.as_ref().display().to_string();
    ProfileSource::parse(&name, text).map_err(|e| DeviceError::Profile(e.to_string()))
}
