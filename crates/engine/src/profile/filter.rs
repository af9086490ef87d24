//! Checks that a profile filter reads as a SOQL condition, and binds `:user`.

/// A syntactically valid user id that stands in for `:user` while a filter is checked.
const PLACEHOLDER_USER_ID: &str = "005000000000000AAA";

/// Replaces the `:user` bind with the quoted user id. Text inside string literals is left
/// alone, and `:username` is not `:user`.
pub fn bind_user(filter: &str, user_id: &str) -> String {
    let mut out = String::with_capacity(filter.len() + 20);
    let bytes = filter.as_bytes();
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            if c == b'\\' && i + 1 < bytes.len() {
                out.push_str(&filter[i..i + 2]);
                i += 2;
                continue;
            }
            if c == b'\'' {
                in_string = false;
            }
        } else if c == b'\'' {
            in_string = true;
        } else if filter[i..].starts_with(":user")
            && !bytes.get(i + 5).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            out.push('\'');
            out.push_str(&escape(user_id));
            out.push('\'');
            i += 5;
            continue;
        }
        let ch_len = filter[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&filter[i..i + ch_len]);
        i += ch_len;
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\'")
}

/// Checks `filter` as the WHERE clause of a query on `object`; the error is the parser's
/// message.
pub fn check_filter(object: &str, filter: &str) -> Result<(), String> {
    if filter.trim().is_empty() {
        return Err("empty filter".into());
    }
    let bound = bind_user(filter, PLACEHOLDER_USER_ID);
    check_shape(&bound)?;
    let soql = format!("SELECT Id FROM {object} WHERE {bound}");
    parse_soql(&soql)
}

/// Catches unbalanced quotes and parentheses, and binds other than `:user`, which SOQL
/// text sent to the server cannot carry.
fn check_shape(filter: &str) -> Result<(), String> {
    let mut depth: i64 = 0;
    let mut in_string = false;
    let mut chars = filter.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '\'' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' => in_string = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err("unexpected ')'".into());
                }
            }
            ':' if chars.peek().is_some_and(|n| n.is_ascii_alphabetic()) => {
                let name: String =
                    chars.clone().take_while(|n| n.is_ascii_alphanumeric() || *n == '_').collect();
                return Err(format!("unknown bind ':{name}'; only :user is available"));
            }
            _ => {}
        }
    }
    if in_string {
        return Err("unterminated string literal".into());
    }
    if depth > 0 {
        return Err("missing ')'".into());
    }
    Ok(())
}

// FIXME: the SOQL parser has not landed on this branch yet; until it does, only the shape
// checks above run. Wiring `soql::parse` here makes every filter fully checked.
fn parse_soql(_soql: &str) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_user_outside_strings_only() {
        assert_eq!(
            bind_user("OwnerId = :user AND Name = ':user'", "005A"),
            "OwnerId = '005A' AND Name = ':user'"
        );
        assert_eq!(bind_user("X = :username", "005A"), "X = :username");
        assert_eq!(
            bind_user("Name = 'it\\'s' AND O = :user", "005A"),
            "Name = 'it\\'s' AND O = '005A'"
        );
    }

    #[test]
    fn shape_errors() {
        assert!(check_filter("Account", "(Name = 'x'").unwrap_err().contains("missing ')'"));
        assert!(check_filter("Account", "Name = 'x").unwrap_err().contains("unterminated"));
        assert!(check_filter("Account", "Name = :other").unwrap_err().contains(":other"));
        assert!(check_filter("Account", "Name = 'x')").is_err());
        assert!(check_filter("Account", "  ").is_err());
        assert!(check_filter("Account", "OwnerId = :user AND Name = 'a:b'").is_ok());
    }
}
