//! Replays the coverage-guided fuzzer's seeds and every crash it ever found
//! (`fuzz/afl/seeds/soql_parse`, `fuzz/afl/regressions/soql_parse`) through the same
//! checks the fuzzer runs, so a fixed crash stays fixed without AFL installed.

mod fuzz_check;

#[path = "../../../fuzz/afl/corpus.rs"]
mod corpus;

use std::path::PathBuf;

use corpus::inputs;

fn replay(files: &[PathBuf]) {
    let catalog = fuzz_check::catalog();
    for file in files {
        let bytes = std::fs::read(file).unwrap();
        let outcome = std::panic::catch_unwind(|| fuzz_check::check_bytes(&bytes, &catalog));
        assert!(outcome.is_ok(), "{} breaks a parser property", file.display());
    }
}

#[test]
fn seeds_keep_every_property() {
    let seeds = inputs("seeds/soql_parse");
    assert!(!seeds.is_empty(), "the seed corpus is empty");
    replay(&seeds);
}

#[test]
fn crashes_found_by_the_fuzzer_stay_fixed() {
    replay(&inputs("regressions/soql_parse"));
}
