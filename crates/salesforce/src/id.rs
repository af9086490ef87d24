//! Salesforce record ids: 15-character case-sensitive ids, their 18-character
//! case-insensitive form, key prefixes, and the checksum that joins them.

use std::fmt;
use std::str::FromStr;

const SUFFIX_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// A validated record id, always held in its 18-character form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SfId([u8; 18]);

/// Why a string is not a record id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Occurs when the text is neither 15 nor 18 characters long.
    #[error("invalid id length {0}: an id has 15 or 18 characters")]
    Length(usize),
    /// Occurs when the text holds a character outside `[A-Za-z0-9]`.
    #[error("invalid character in id")]
    Character,
    /// Occurs when an 18-character id's last three characters do not match its first fifteen.
    #[error("id checksum does not match")]
    Checksum,
}

/// The three-character checksum suffix of a 15-character id.
pub fn checksum(id15: &[u8; 15]) -> [u8; 3] {
    let mut out = [0u8; 3];
    for (chunk_index, chunk) in id15.chunks(5).enumerate() {
        let mut bits = 0usize;
        for (j, c) in chunk.iter().enumerate() {
            if c.is_ascii_uppercase() {
                bits |= 1 << j;
            }
        }
        out[chunk_index] = SUFFIX_ALPHABET[bits];
    }
    out
}

impl SfId {
    /// Parses a 15- or 18-character id. An 18-character id's suffix is checked
    /// case-insensitively, and the stored form always carries the canonical suffix.
    pub fn parse(text: &str) -> Result<SfId, IdError> {
        let bytes = text.as_bytes();
        if bytes.len() != 15 && bytes.len() != 18 {
            return Err(IdError::Length(text.chars().count()));
        }
        if !bytes.iter().all(u8::is_ascii_alphanumeric) {
            return Err(IdError::Character);
        }
        let mut id15 = [0u8; 15];
        id15.copy_from_slice(&bytes[..15]);
        let suffix = checksum(&id15);
        if bytes.len() == 18 && !bytes[15..].eq_ignore_ascii_case(&suffix) {
            return Err(IdError::Checksum);
        }
        let mut full = [0u8; 18];
        full[..15].copy_from_slice(&id15);
        full[15..].copy_from_slice(&suffix);
        Ok(SfId(full))
    }

    /// Builds an id from a key prefix, a pod/instance pair of characters and a counter.
    /// The counter is written in base 62 into the last nine characters.
    pub fn from_parts(key_prefix: &str, instance: &str, counter: u64) -> SfId {
        const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut id15 = [b'0'; 15];
        for (slot, b) in id15.iter_mut().zip(key_prefix.bytes().chain(instance.bytes()).take(6)) {
            *slot = b;
        }
        let mut n = counter;
        for slot in id15[6..].iter_mut().rev() {
            *slot = BASE62[(n % 62) as usize];
            n /= 62;
        }
        let mut full = [0u8; 18];
        full[..15].copy_from_slice(&id15);
        full[15..].copy_from_slice(&checksum(&id15));
        SfId(full)
    }

    /// The 18-character form.
    pub fn as_str(&self) -> &str {
        // The bytes are ASCII alphanumerics by construction.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The 15-character, case-sensitive form.
    pub fn to_15(&self) -> &str {
        &self.as_str()[..15]
    }

    /// The first three characters, naming the object type.
    pub fn key_prefix(&self) -> &str {
        &self.as_str()[..3]
    }
}

impl FromStr for SfId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SfId::parse(s)
    }
}

impl fmt::Display for SfId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for SfId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SfId({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_published_vectors() {
        assert_eq!(SfId::parse("001M000000qfPyS").unwrap().as_str(), "001M000000qfPySIAU");
        assert_eq!(SfId::parse("a01M00000062mPg").unwrap().as_str(), "a01M00000062mPgIAI");
        assert_eq!(SfId::parse("aBcDEfgHIJKLMNO").unwrap().as_str(), "aBcDEfgHIJKLMNO025");
    }

    #[test]
    fn eighteen_character_ids_are_checked() {
        assert!(SfId::parse("001M000000qfPySIAU").is_ok());
        assert!(SfId::parse("001M000000qfPySiau").is_ok());
        assert_eq!(SfId::parse("001M000000qfPySAAA"), Err(IdError::Checksum));
        assert_eq!(SfId::parse("001M00"), Err(IdError::Length(6)));
        assert_eq!(SfId::parse("001M000000qfPy-"), Err(IdError::Character));
    }

    #[test]
    fn generated_ids_round_trip() {
        let id = SfId::from_parts("0WO", "5g", 123_456_789);
        assert_eq!(id.key_prefix(), "0WO");
        assert_eq!(SfId::parse(id.to_15()).unwrap(), id);
        assert_eq!(SfId::parse(id.as_str()).unwrap(), id);
    }
}
