//! The 32-byte key that encrypts the store, and the key file that keeps it (mode 0600).

use std::fmt;
use std::io::Write;
use std::path::Path;

use rand::RngCore;

use crate::StoreError;

/// A raw 256-bit SQLCipher key. Its `Debug` output never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey([u8; 32]);

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

impl StoreKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> StoreKey {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        StoreKey(bytes)
    }

    /// A key from exactly 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<StoreKey, StoreError> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| StoreError::InvalidKey(format!("{} bytes, expected 32", bytes.len())))?;
        Ok(StoreKey(arr))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key as 64 lower-case hex digits, the form the key file, the OS keyring's item
    /// and `PRAGMA key` use. It is the secret itself: never log it.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A key from the 64 hex digits [`StoreKey::to_hex`] writes (surrounding white space
    /// is ignored).
    pub fn from_hex(text: &str) -> Result<StoreKey, StoreError> {
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::InvalidKey("a store key is 64 hex digits".into()));
        }
        let mut bytes = [0u8; 32];
        for (i, slot) in bytes.iter_mut().enumerate() {
            *slot = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
                .map_err(|_| StoreError::InvalidKey("bad hex digit".into()))?;
        }
        Ok(StoreKey(bytes))
    }

    /// Reads a key file written by [`StoreKey::save`].
    pub fn load(path: &Path) -> Result<StoreKey, StoreError> {
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(path) {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "store key file is readable by others");
            }
        }
        let text = std::fs::read_to_string(path)
            .map_err(|source| StoreError::Io { path: path.to_owned(), source })?;
        StoreKey::from_hex(&text)
    }

    /// Writes the key to a new file readable and writable by its owner only (0600 on Unix).
    /// Fails if the file already exists, so an existing key is never overwritten.
    pub fn save(&self, path: &Path) -> Result<(), StoreError> {
        let io = |source| StoreError::Io { path: path.to_owned(), source };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io)?;
        file.write_all(format!("{}\n", self.to_hex()).as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)
    }

    /// Loads the key file, or creates it with a new key when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<StoreKey, StoreError> {
        if path.exists() {
            return StoreKey::load(path);
        }
        let key = StoreKey::generate();
        key.save(path)?;
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_round_trips_with_owner_only_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.key");
        let key = StoreKey::generate();
        key.save(&path).unwrap();
        assert_eq!(StoreKey::load(&path).unwrap(), key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(key.save(&path).is_err(), "an existing key file is never overwritten");
        assert_eq!(StoreKey::load_or_create(&path).unwrap(), key);
    }

    #[test]
    fn bad_key_bytes_are_rejected() {
        assert!(matches!(StoreKey::from_bytes(&[1, 2, 3]), Err(StoreError::InvalidKey(_))));
        assert!(StoreKey::from_bytes(&[7; 32]).is_ok());
        assert!(matches!(StoreKey::from_hex("zz"), Err(StoreError::InvalidKey(_))));
        assert_ne!(StoreKey::generate(), StoreKey::generate());
        assert_eq!(format!("{:?}", StoreKey::from_bytes(&[7; 32]).unwrap()), "StoreKey(..)");
    }
}
