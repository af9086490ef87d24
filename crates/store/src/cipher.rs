//! How the store file is encrypted: SQLCipher, keyed with the raw 256-bit [`StoreKey`]
//! (no key derivation runs), every page encrypted with AES-256 and authenticated with an
//! HMAC, so a changed byte is refused rather than read.
//!
//! New stores authenticate pages with HMAC-SHA256 rather than SQLCipher 4's default,
//! HMAC-SHA512. Both are sound for this purpose; SHA-256 runs on the SHA extensions of
//! current CPUs, which made each page read from disk about 30 % cheaper where it was
//! measured, and a delta sync over a large store is mostly such reads. Stores created
//! with SQLCipher's defaults stay readable: opening tries the current settings, then
//! those.

use rusqlite::Connection;

use crate::StoreKey;

/// How a store file's pages are authenticated. The file does not say: a connection must
/// be told before its first read, and a wrong guess reads like a wrong key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageHmac {
    /// HMAC-SHA256: what a new store uses.
    Sha256,
    /// HMAC-SHA512, SQLCipher 4's default: a store created before the switch.
    Sha512,
}

impl PageHmac {
    /// The settings to try, in order, on a file whose settings are not known yet.
    pub(crate) const CANDIDATES: [PageHmac; 2] = [PageHmac::Sha256, PageHmac::Sha512];

    fn pragma(self) -> &'static str {
        match self {
            PageHmac::Sha256 => "PRAGMA cipher_hmac_algorithm = HMAC_SHA256;",
            PageHmac::Sha512 => "PRAGMA cipher_hmac_algorithm = HMAC_SHA512;",
        }
    }
}

/// Gives `conn` the key and the page settings; SQLCipher reads nothing until the first
/// statement, which is where a wrong key (or wrong settings) shows.
pub(crate) fn apply(conn: &Connection, key: &StoreKey, hmac: PageHmac) -> rusqlite::Result<()> {
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\"; {}", key.to_hex(), hmac.pragma()))
}

/// Keys a connection the way a new store is encrypted, for programs that write an
/// encrypted SQLite file of their own and must pay the same price per page (the
/// benchmark's raw loop) or read a store's file directly (tests).
pub fn key_connection(conn: &Connection, key: &StoreKey) -> rusqlite::Result<()> {
    apply(conn, key, PageHmac::Sha256)
}
