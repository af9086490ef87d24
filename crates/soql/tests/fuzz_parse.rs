//! Generated inputs for the parser and the compiler: random text, token soup and mutated
//! valid queries never panic, parse errors point inside the text, and whatever parses
//! prints back to text that parses to the same query and compiles or fails cleanly.
//!
//! The case count and seed are fixed so a run is reproducible; failures found are kept
//! in `proptest-regressions/` and replayed first.

// The shared checks are the fuzzer's; this file uses only their catalog.
#[allow(dead_code)]
mod fuzz_check;

use chrono::{TimeZone, Utc};
use fuzz_check::catalog;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};
use soql::{CompileOptions, SoqlError, compile, parse};

const VALID: &[&str] = &[
    "SELECT Id, Name FROM Account WHERE Name LIKE 'Ac%' ORDER BY Name DESC NULLS LAST LIMIT 10",
    "SELECT Id, (SELECT Id, Subject FROM WorkOrders WHERE Status != 'Closed') FROM Account",
    "SELECT Id, Account.Name FROM WorkOrder WHERE AccountId IN ('001000000000001AAA') OFFSET 5",
    "SELECT COUNT() FROM Account WHERE CreatedDate = LAST_N_DAYS:7",
    "SELECT Id FROM WorkOrder WHERE (Priority = 'High' OR Amount__c > 10.5) AND NOT Closed__c = true",
    "SELECT Id FROM Account WHERE LastModifiedDate >= 2026-01-01T00:00:00Z AND Birthday__c < TODAY",
    "SELECT Id FROM WorkOrder WHERE Tags__c INCLUDES ('a;b', 'c') AND Subject NOT IN ('x', 'y')",
    "SELECT Id, Name FROM Account WHERE Id IN (SELECT AccountId FROM WorkOrder)",
];

/// Words, symbols and literals SOQL is made of, to build token soup from.
const TOKENS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "INCLUDES",
    "EXCLUDES",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "LIMIT",
    "OFFSET",
    "GROUP",
    "HAVING",
    "COUNT",
    "COUNT()",
    "TYPEOF",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "USING",
    "SCOPE",
    "FOR",
    "VIEW",
    "UPDATE",
    "WITH",
    "null",
    "true",
    "false",
    "TODAY",
    "LAST_N_DAYS:3",
    "NEXT_N_DAYS:",
    "Id",
    "Name",
    "Account",
    "WorkOrder",
    "Account.Name",
    "WorkOrders",
    "Amount__c",
    "CreatedDate",
    "(",
    ")",
    ",",
    ".",
    "=",
    "!=",
    "<>",
    "<",
    ">",
    "<=",
    ">=",
    ":",
    ":x",
    "'",
    "'abc'",
    "'a\\'b'",
    "'\\u00e9'",
    "'\\z'",
    "\"",
    "1",
    "-1",
    "1.5",
    "1e9",
    "99999999999999999999999",
    "2026-01-01",
    "2026-13-45",
    "2026-01-01T00:00:00Z",
    "2026-01-01T25:00:00+99:00",
    "USD100",
    "\n",
    "\t",
    "  ",
    "é",
    "\u{0}",
    "/*",
    "--",
];

/// A fixed seed and case count: the same inputs on every run.
fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x5eed_0001),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/fuzz_parse.txt",
        ))),
        ..Config::default()
    }
}

/// The number of lines in `text` as the lexer counts them.
fn lines(text: &str) -> u32 {
    text.split('\n').count() as u32
}

/// Parses and, when that works, round-trips through the printer and compiles; every
/// failure must be a clean error. Panics (the property failing) are what this hunts.
fn check(text: &str) -> Result<(), TestCaseError> {
    match parse(text) {
        Err(e) => check_parse_error(text, &e),
        Ok(query) => {
            let printed = query.to_string();
            let again = parse(&printed).map_err(|e| {
                TestCaseError::fail(format!("printed query {printed:?} does not parse: {e}"))
            })?;
            prop_assert_eq!(again.to_string(), printed.clone(), "printing is not stable");
            let now = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();
            if let Err(e) = compile(&query, &catalog(), &CompileOptions::new(now)) {
                prop_assert!(!e.message.is_empty(), "compile error without a message");
            }
            Ok(())
        }
    }
}

fn check_parse_error(text: &str, e: &SoqlError) -> Result<(), TestCaseError> {
    prop_assert!(!e.message.is_empty(), "parse error without a message for {:?}", text);
    let Some(pos) = e.position else {
        return Err(TestCaseError::fail(format!(
            "parse error without a position: {e} for {text:?}"
        )));
    };
    prop_assert!(pos.line >= 1 && pos.column >= 1, "position {} is not 1-based", pos);
    prop_assert!(pos.line <= lines(text), "position {} past the last line of {:?}", pos, text);
    Ok(())
}

/// A valid query with a few bytes replaced, inserted or removed, and possibly truncated.
fn mutated() -> impl Strategy<Value = String> {
    let edit = (any::<prop::sample::Index>(), 0u8..4, prop::sample::select(TOKENS));
    (prop::sample::select(VALID), prop::collection::vec(edit, 1..5)).prop_map(|(base, edits)| {
        let mut chars: Vec<char> = base.chars().collect();
        for (at, kind, token) in edits {
            let i = at.index(chars.len().max(1)).min(chars.len());
            match kind {
                0 if i < chars.len() => {
                    chars.remove(i);
                }
                1 => chars.splice(i..i, token.chars()).for_each(drop),
                2 => chars.truncate(i),
                _ if i < chars.len() => chars[i] = token.chars().next().unwrap_or(' '),
                _ => {}
            }
        }
        chars.into_iter().collect()
    })
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn random_text_never_panics(text in ".{0,120}") {
        check(&text)?;
    }

    #[test]
    fn token_soup_never_panics(
        tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..40)
    ) {
        check(&tokens.join(" "))?;
    }

    #[test]
    fn mutated_queries_never_panic(text in mutated()) {
        check(&text)?;
    }
}

#[test]
fn valid_queries_parse_and_compile() {
    let now = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();
    for text in VALID {
        let query = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        // Not every valid query fits the small catalog; each must still answer cleanly.
        let _ = compile(&query, &catalog(), &CompileOptions::new(now));
        check(text).unwrap();
    }
}
