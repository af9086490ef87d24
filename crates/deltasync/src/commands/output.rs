//! Printing results: JSON with a stable shape under `--json`, plain text otherwise.

use chrono::{DateTime, Local, Utc};
use deltasync::device::KeyHome;
use serde_json::{Value, json};

/// Prints `value` as pretty JSON on standard output.
pub fn print_json(value: &Value) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => say!("{text}"),
        Err(_) => say!("{value}"),
    }
}

/// Writes one line of output (see `say!`). If standard output is closed the process ends
/// here: quietly for a reader that went away, with an error line for anything else.
pub fn write_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write the output: {e}");
        std::process::exit(1);
    }
}

/// A time for people: local `YYYY-MM-DD HH:MM`.
pub fn local_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string()
}

/// A time for JSON: RFC 3339 in UTC.
pub fn json_time(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
}

/// A JSON value as one table cell.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Object(map) if map.contains_key("attributes") => {
            // A parent record: show its fields but the attributes.
            let parts: Vec<String> = map
                .iter()
                .filter(|(k, _)| *k != "attributes")
                .map(|(k, v)| format!("{k}={}", cell(v)))
                .collect();
            parts.join(" ")
        }
        other => other.to_string(),
    }
}

/// Prints rows as an aligned text table under `headers`.
pub fn print_table(headers: &[String], rows: &[Vec<String>]) {
    let widths = column_widths(headers, rows);
    print_row(&widths, headers);
    print_row(&widths, &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>());
    for row in rows {
        print_row(&widths, row);
    }
}

/// The width of each column of a table of `rows` under `headers` (cells count at most
/// 60 characters).
pub fn column_widths(headers: &[String], rows: &[Vec<String>]) -> Vec<usize> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count().min(60));
            }
        }
    }
    widths
}

/// Prints one table line, each cell cut at 60 characters and padded to its column's width.
pub fn print_row(widths: &[usize], cells: &[String]) {
    let parts: Vec<String> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c: String = c.chars().take(60).collect();
            format!("{c:<width$}", width = widths.get(i).copied().unwrap_or(0))
        })
        .collect();
    say!("{}", parts.join("  ").trim_end());
}

/// Prints a local edit's outcome: its object, id and queue position as JSON under `--json`,
/// otherwise the line `text` makes from the pending change's number (none when nothing is
/// left to upload).
pub fn print_edit(
    json: bool,
    object: &str,
    outcome: &store::EditOutcome,
    text: impl FnOnce(Option<i64>) -> String,
) {
    if json {
        print_json(&serde_json::json!({
            "object": object,
            "id": outcome.record_id,
            "seq": outcome.seq,
        }));
    } else {
        say!("{}", text(outcome.seq));
    }
}

/// Where the store key is kept, for JSON: `{"kept_in": "keyring", "data_dir": ..}` or
/// `{"kept_in": "file", "path": ..}`. Never the key.
pub fn key_home_json(home: &KeyHome) -> Value {
    match home {
        KeyHome::Keyring { data_dir } => json!({"kept_in": "keyring", "data_dir": data_dir}),
        KeyHome::File(path) => json!({"kept_in": "file", "path": path.display().to_string()}),
    }
}
