//! The exclusive instance lock: one running app per data directory.
//!
//! It is an advisory OS file lock (`flock` on Unix, `LockFileEx` on Windows) taken with
//! `std::fs::File::try_lock` on `<dir>/deltasync.lock`. The OS releases it when the holder
//! exits or crashes, so a stale lock cannot outlive its process, unlike a pid file. The file
//! also holds the holder's pid, for people reading it; the pid is never trusted.

use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::StoreError;

/// The name of the lock file inside the data directory.
pub const LOCK_FILE_NAME: &str = "deltasync.lock";

/// Proof that this process is the only one using a data directory; dropping it releases the lock.
#[derive(Debug)]
pub struct InstanceLock {
    file: File,
    path: PathBuf,
}

impl InstanceLock {
    /// Takes the lock on `dir`, or fails at once with [`StoreError::Locked`] if another
    /// process (or another handle in this process) holds it.
    pub fn acquire(dir: &Path) -> Result<InstanceLock, StoreError> {
        let path = dir.join(LOCK_FILE_NAME);
        let io = |source| StoreError::Io { path: path.clone(), source };
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(StoreError::Locked { path }),
            Err(TryLockError::Error(source)) => return Err(StoreError::Io { path, source }),
        }
        file.set_len(0).map_err(io)?;
        file.write_all(format!("{}\n", std::process::id()).as_bytes()).map_err(io)?;
        tracing::debug!(path = %path.display(), "instance lock taken");
        Ok(InstanceLock { file, path })
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for InstanceLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes it immediate.
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_fails_until_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = InstanceLock::acquire(dir.path()).unwrap();
        assert!(matches!(InstanceLock::acquire(dir.path()), Err(StoreError::Locked { .. })));
        let pid = std::fs::read_to_string(first.path()).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());
        drop(first);
        InstanceLock::acquire(dir.path()).unwrap();
    }
}
