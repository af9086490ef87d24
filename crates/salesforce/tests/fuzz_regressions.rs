//! Replays the coverage-guided fuzzer's seeds and every crash it ever found
//! (`fuzz/afl/seeds/salesforce_decode`, `fuzz/afl/regressions/salesforce_decode`)
//! through every decoder of the client, so a fixed crash stays fixed without AFL installed.

#[path = "../../../fuzz/afl/corpus.rs"]
mod corpus;

use std::path::PathBuf;

use corpus::inputs;

use salesforce::client::fuzz::decode_every_answer;

fn replay(files: &[PathBuf]) {
    for file in files {
        let bytes = std::fs::read(file).unwrap();
        let outcome = std::panic::catch_unwind(|| decode_every_answer(&bytes));
        assert!(outcome.is_ok(), "{} makes a decoder panic", file.display());
    }
}

#[test]
fn seeds_decode_without_panicking() {
    let seeds = inputs("seeds/salesforce_decode");
    assert!(!seeds.is_empty(), "the seed corpus is empty");
    replay(&seeds);
}

#[test]
fn crashes_found_by_the_fuzzer_stay_fixed() {
    replay(&inputs("regressions/salesforce_decode"));
}
