//! Replays the coverage-guided fuzzer's seeds and every crash it ever found
//! (`fuzz/afl/seeds/salesforce_decode`, `fuzz/afl/regressions/salesforce_decode`)
//! through every decoder of the client, so a fixed crash stays fixed without AFL installed.

use std::path::{Path, PathBuf};

use salesforce::client::fuzz::decode_every_answer;

/// The files of a fuzzer input folder, without its notes and hidden files.
fn inputs(folder: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/afl").join(folder);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            path.is_file() && !name.starts_with('.') && name != "README.md"
        })
        .collect();
    files.sort();
    files
}

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
