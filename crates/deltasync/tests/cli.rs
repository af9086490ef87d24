//! The binary's command-line surface, exercised as a user runs it.

use std::process::Command;

fn deltasync() -> Command {
    Command::new(env!("CARGO_BIN_EXE_deltasync"))
}

#[test]
fn help_lists_the_subcommands() {
    let out = deltasync().arg("--help").output().expect("run deltasync --help");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for command in ["demo", "devorg"] {
        assert!(text.contains(command), "--help does not mention '{command}':\n{text}");
    }
}

#[test]
fn an_unknown_subcommand_is_refused_with_a_message() {
    let out = deltasync().arg("frobnicate").output().expect("run deltasync frobnicate");
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("frobnicate"), "the error does not name the bad subcommand:\n{text}");
}
