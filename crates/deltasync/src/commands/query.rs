//! `deltasync query "SOQL"`: a query over the records on this device, offline. The whole
//! result is printed, one page of the store's answer at a time, so memory holds one page
//! however many records match.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;
use deltasync::device::Access;
use serde_json::Value;

use super::Ctx;
use super::output::{cell, column_widths, print_row};
use crate::cli::QueryArgs;

/// The records of one page of a query answer.
fn records(page: &Value) -> &[Value] {
    page["records"].as_array().map_or(&[], Vec::as_slice)
}

/// The locator of the page after `page`, if one follows.
fn next_url(page: &Value) -> Option<String> {
    page["nextRecordsUrl"].as_str().map(str::to_owned)
}

/// Walks the pages from `first` on, handing each to `each`; `more` reads the page a
/// `nextRecordsUrl` leads to.
fn walk(
    first: Value,
    more: &mut dyn FnMut(&str) -> anyhow::Result<Value>,
    each: &mut dyn FnMut(&Value) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut page = first;
    loop {
        each(&page)?;
        let Some(next) = next_url(&page) else { return Ok(()) };
        page = more(&next)?;
    }
}

/// Writes the whole result as the pretty JSON of one answer, `{"totalSize", "done": true,
/// "records": [...]}`, exactly as printing it whole would, one page at a time.
fn write_json(
    out: &mut dyn Write,
    first: Value,
    more: &mut dyn FnMut(&str) -> anyhow::Result<Value>,
) -> anyhow::Result<()> {
    writeln!(out, "{{")?;
    writeln!(out, "  \"totalSize\": {},", first["totalSize"])?;
    writeln!(out, "  \"done\": true,")?;
    let mut written = 0u64;
    walk(first, more, &mut |page| {
        for record in records(page) {
            out.write_all(if written == 0 { b"  \"records\": [\n" } else { b",\n" })?;
            let text = serde_json::to_string_pretty(record)?;
            for (i, line) in text.lines().enumerate() {
                if i > 0 {
                    out.write_all(b"\n")?;
                }
                write!(out, "    {line}")?;
            }
            written += 1;
        }
        Ok(())
    })?;
    if written == 0 {
        writeln!(out, "  \"records\": []")?;
    } else {
        write!(out, "\n  ]\n")?;
    }
    writeln!(out, "}}")?;
    Ok(())
}

pub fn run(ctx: &Ctx, args: QueryArgs) -> anyhow::Result<ExitCode> {
    let device = ctx.open(Access::Read)?;
    let store = device.store();
    let first = store.query(&args.soql, chrono::Utc::now())?;
    let mut more = |url: &str| -> anyhow::Result<Value> {
        store.query_more(url).context("reading the next page of the query")
    };
    if ctx.json {
        let mut out = std::io::stdout().lock();
        write_json(&mut out, first, &mut more)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }

    // Columns and their widths come from the first page; every record of a query has
    // the same fields.
    let mut headers: Vec<String> = Vec::new();
    for record in records(&first) {
        if let Value::Object(map) = record {
            for key in map.keys().filter(|k| *k != "attributes") {
                if !headers.contains(key) {
                    headers.push(key.clone());
                }
            }
        }
    }
    if headers.is_empty() && records(&first).is_empty() {
        // An aggregate without rows, or nothing matched.
        say!("0 records");
        return Ok(ExitCode::SUCCESS);
    }
    let total = first["totalSize"].as_u64();
    let cells = |page: &Value| -> Vec<Vec<String>> {
        records(page)
            .iter()
            .map(|r| headers.iter().map(|h| cell(r.get(h).unwrap_or(&Value::Null))).collect())
            .collect()
    };
    let widths = column_widths(&headers, &cells(&first));
    print_row(&widths, &headers);
    print_row(&widths, &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>());
    let mut printed = 0u64;
    walk(first, &mut more, &mut |page| {
        for row in cells(page) {
            print_row(&widths, &row);
            printed += 1;
        }
        Ok(())
    })?;
    say!("{} record(s)", total.unwrap_or(printed));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(id: &str, name: &str) -> Value {
        json!({"attributes": {"type": "Account", "url": format!("/x/{id}")}, "Id": id, "Name": name, "Owner": {"Name": "A"}, "Contacts": null})
    }

    fn streamed(first: Value, later: Vec<Value>) -> String {
        let mut later = later.into_iter();
        let mut out = Vec::new();
        write_json(&mut out, first, &mut |_| Ok(later.next().expect("a page follows"))).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn paged_json_prints_as_the_whole_answer_would() {
        let a = record("1", "Acme");
        let b = record("2", "Globex \"quoted\"\nline");
        let c = record("3", "Initech");
        let whole = json!({"totalSize": 3, "done": true, "records": [a, b, c]});
        let first =
            json!({"totalSize": 3, "done": false, "nextRecordsUrl": "/q/x", "records": [a, b]});
        let second = json!({"totalSize": 3, "done": true, "records": [c]});
        let expected = format!("{}\n", serde_json::to_string_pretty(&whole).unwrap());
        assert_eq!(streamed(first, vec![second]), expected);

        let empty = json!({"totalSize": 0, "done": true, "records": []});
        let expected = format!("{}\n", serde_json::to_string_pretty(&empty).unwrap());
        assert_eq!(streamed(empty, vec![]), expected);
    }
}
