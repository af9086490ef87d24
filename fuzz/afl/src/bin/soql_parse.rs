//! AFL target: arbitrary bytes as SOQL text through the parser, the printer and the
//! compiler, with the properties of `crates/soql/tests/fuzz_check` (a broken property
//! panics, which AFL records as a crash).

#[path = "../../../../crates/soql/tests/fuzz_check/mod.rs"]
mod fuzz_check;

fn main() {
    let catalog = fuzz_check::catalog();
    afl::fuzz!(|data: &[u8]| {
        fuzz_check::check_bytes(data, &catalog);
    });
}
