//! JSON text written straight into a response buffer, byte for byte as `serde_json`
//! writes it, so that records written here and records built as values and serialized
//! read the same.

use serde_json::Value;

/// For each byte, the character that follows the backslash when a JSON string escapes
/// it (`u` for the `\u00XX` form), or 0 when it goes out as it is. These are the
/// escapes `serde_json` writes: quote, backslash and the control characters.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A JSON string: quoted and escaped.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    write_str_contents(out, s);
    out.push(b'"');
}

/// Whether any of eight bytes is a quote, a backslash or a control character (tested
/// together, as one word: most text needs no escape at all).
fn needs_escape(chunk: [u8; 8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let x = u64::from_ne_bytes(chunk);
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let control = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
    control | zero_byte(x ^ (ONES * u64::from(b'"'))) | zero_byte(x ^ (ONES * u64::from(b'\\')))
        != 0
}

/// The escaped characters of a JSON string, without its quotes; runs that need no
/// escape are copied whole.
pub(crate) fn write_str_contents(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // Whole words without anything to escape are skipped eight bytes at a time.
    let mut clean = 0;
    while let Some(chunk) = bytes.get(clean..clean + 8) {
        let word: [u8; 8] = chunk.try_into().unwrap_or([0; 8]);
        if needs_escape(word) {
            break;
        }
        clean += 8;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate().skip(clean) {
        let escape = ESCAPE[usize::from(b)];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if escape == b'u' {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(&[b'\\', escape]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Any JSON value, as `serde_json` writes it.
pub(crate) fn write_value(out: &mut Vec<u8>, v: &Value) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, v);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let every_byte: String = (0u8..=0x7f).map(char::from).collect();
        let long = "a long line of text without anything to escape, then \"this\"\n";
        let cases = ["", "plain", "quote \" and \\ back", "é ü 日本 🎉", "\u{7f}\u{2028}", long];
        for s in cases.iter().copied().chain([every_byte.as_str()]) {
            let mut out = Vec::new();
            write_str(&mut out, s);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(s).unwrap());
        }
    }
}
