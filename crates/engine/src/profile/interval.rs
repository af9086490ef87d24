//! Sync intervals as a profile writes them: `30s`, `15m`, `2h`, `1d`, or a sum like `1h30m`.

/// The shortest interval a profile may ask for.
pub const MIN_INTERVAL_SECS: u64 = 60;

/// The longest interval a profile may ask for (30 days, the replication window).
pub const MAX_INTERVAL_SECS: u64 = 30 * 86_400;

/// Reads an interval into seconds, or says why it does not read.
pub fn parse_interval(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty".into());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            other => return Err(format!("unknown unit '{other}'; use s, m, h or d")),
        };
        if digits.is_empty() {
            return Err(format!("no number before '{c}'"));
        }
        let n: u64 = digits.parse().map_err(|_| "number too large".to_string())?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(|| "number too large".to_string())?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(format!("'{digits}' has no unit; write {digits}m or {digits}s"));
    }
    if total < MIN_INTERVAL_SECS {
        return Err(format!("shorter than the minimum of {MIN_INTERVAL_SECS}s"));
    }
    if total > MAX_INTERVAL_SECS {
        return Err("longer than the maximum of 30d".into());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_units_and_sums() {
        assert_eq!(parse_interval("15m"), Ok(900));
        assert_eq!(parse_interval("1d"), Ok(86_400));
        assert_eq!(parse_interval("1h30m"), Ok(5_400));
        assert_eq!(parse_interval("90s"), Ok(90));
    }

    #[test]
    fn rejects_bad_intervals() {
        assert!(parse_interval("").is_err());
        assert!(parse_interval("15").unwrap_err().contains("no unit"));
        assert!(parse_interval("5x").unwrap_err().contains("unknown unit"));
        assert!(parse_interval("m").is_err());
        assert!(parse_interval("10s").unwrap_err().contains("minimum"));
        assert!(parse_interval("31d").is_err());
        assert!(parse_interval("99999999999999999999d").is_err());
    }
}
