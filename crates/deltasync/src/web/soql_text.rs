//! SOQL text built from user input: string literals escaped per the SOQL grammar, so a
//! search box can never change a query's shape.

/// `value` as a quoted SOQL string literal.
pub fn literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    push_escaped(&mut out, value, false);
    out.push('\'');
    out
}

/// A `LIKE` pattern matching `needle` anywhere, with `%` and `_` in it taken literally.
pub fn contains_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 4);
    out.push_str("'%");
    push_escaped(&mut out, needle, true);
    out.push_str("%'");
    out
}

fn push_escaped(out: &mut String, value: &str, like: bool) {
    for c in value.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '%' if like => out.push_str("\\%"),
            '_' if like => out.push_str("\\_"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_survive_the_parser_unchanged() {
        for probe in
            ["plain", "O'Brien", "back\\slash", "quote\"d", "line\nbreak", "' OR Name != '"]
        {
            let soql = format!("SELECT Id FROM Account WHERE Name = {}", literal(probe));
            let parsed = soql::parse(&soql).expect("parses");
            let printed = parsed.to_string();
            // The whole probe stayed one literal: the parsed query prints it back as it was.
            assert!(printed.ends_with(&format!("Name = {}", literal(probe))), "{probe}: {printed}");
        }
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("50%_x'"), "'%50\\%\\_x\\'%'");
        let soql = format!("SELECT Id FROM Account WHERE Name LIKE {}", contains_pattern("a%b"));
        assert!(soql::parse(&soql).is_ok());
    }
}
