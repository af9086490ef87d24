//! Replays the coverage-guided fuzzer's seeds and every crash it ever found
//! (`fuzz/afl/seeds/soql_parse`, `fuzz/afl/regressions/soql_parse`) through the same
//! checks the fuzzer runs, so a fixed crash stays fixed without AFL installed.

mod fuzz_check;

use std::path::{Path, PathBuf};

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
