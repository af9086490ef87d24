//! One module per subcommand; `run` dispatches to them.
//!
//! Each command opens the device the way it needs (reading alongside a running app, or
//! writing under the single-instance lock), does one thing, and prints JSON under
//! `--json` or text otherwise. Failures come back as one line naming the problem.

/// `println!` for command output: a reader that goes away (`deltasync status | head`)
/// ends the command quietly, as command-line tools do, instead of a panic.
macro_rules! say {
    () => {
        $crate::commands::output::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::commands::output::write_line(format_args!($($arg)*))
    };
}

mod app;
mod create;
mod delete;
mod devorg;
mod history;
mod login;
mod logout;
mod output;
mod pending;
mod progress;
mod query;
mod schedule;
mod status;
mod sync;
mod update;

use std::path::PathBuf;
use std::process::ExitCode;

use deltasync::device::{Access, Device, resolve_data_dir};

use crate::cli::{Cli, Command, GlobalArgs};

/// What every command gets: where the device lives and how to print.
#[derive(Debug)]
pub struct Ctx {
    pub data_dir: Option<PathBuf>,
    pub json: bool,
}

impl Ctx {
    fn new(global: &GlobalArgs) -> Ctx {
        Ctx { data_dir: global.data_dir.clone(), json: global.json }
    }

    /// The data folder.
    pub fn dir(&self) -> anyhow::Result<PathBuf> {
        Ok(resolve_data_dir(self.data_dir.as_deref())?)
    }

    /// Opens the device.
    pub fn open(&self, access: Access) -> anyhow::Result<Device> {
        Ok(Device::open(&self.dir()?, access)?)
    }
}

/// Runs the chosen subcommand.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let ctx = Ctx::new(&cli.global);
    match cli.command {
        Command::Login(args) => login::run(&ctx, args).await,
        Command::Logout(args) => logout::run(&ctx, args),
        Command::Status => status::run(&ctx).await,
        Command::Sync(args) => sync::run(&ctx, args).await,
        Command::Query(args) => query::run(&ctx, args),
        Command::Create(args) => create::run(&ctx, args),
        Command::Update(args) => update::run(&ctx, args),
        Command::Delete(args) => delete::run(&ctx, args),
        Command::Pending(args) => pending::run(&ctx, args),
        Command::History(args) => history::run(&ctx, args),
        Command::Schedule => schedule::run(&ctx),
        Command::Devorg(args) => devorg::run(&ctx, args).await,
        Command::App(args) => app::run_app(&ctx, args).await,
        Command::Demo(args) => app::run_demo(&ctx, args).await,
    }
}
