//! One module per subcommand; `run` dispatches to them.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// Runs the chosen subcommand.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo(_) | Command::Devorg(_) => {
            eprintln!(
                "deltasync: this command is not available yet in this build; \
                 see README.md for what works today"
            );
            Ok(ExitCode::from(2))
        }
    }
}
