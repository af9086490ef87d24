//! `deltasync query "SOQL"`: a query over the records on this device, offline.

use std::process::ExitCode;

use deltasync::device::Access;
use serde_json::Value;

use super::Ctx;
use super::output::{cell, print_json, print_table};
use crate::cli::QueryArgs;

pub fn run(ctx: &Ctx, args: QueryArgs) -> anyhow::Result<ExitCode> {
    let device = ctx.open(Access::Read)?;
    let result = device.store().query(&args.soql, chrono::Utc::now())?;
    if ctx.json {
        print_json(&result);
        return Ok(ExitCode::SUCCESS);
    }
    let records = result["records"].as_array().cloned().unwrap_or_default();
    let mut headers: Vec<String> = Vec::new();
    for record in &records {
        if let Value::Object(map) = record {
            for key in map.keys().filter(|k| *k != "attributes") {
                if !headers.contains(key) {
                    headers.push(key.clone());
                }
            }
        }
    }
    if headers.is_empty() && records.is_empty() {
        // An aggregate without rows, or nothing matched.
        println!("0 records");
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| headers.iter().map(|h| cell(r.get(h).unwrap_or(&Value::Null))).collect())
        .collect();
    print_table(&headers, &rows);
    println!("{} record(s)", result["totalSize"].as_u64().unwrap_or(records.len() as u64));
    Ok(ExitCode::SUCCESS)
}
