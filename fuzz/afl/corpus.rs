//! The files of a fuzzer input folder (`seeds/<target>` or `regressions/<target>` under
//! `fuzz/afl`), read by each crate's test that replays them.

use std::path::{Path, PathBuf};

/// The files of `folder` (relative to `fuzz/afl`), sorted, without its notes and hidden
/// files.
pub fn inputs(folder: &str) -> Vec<PathBuf> {
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
