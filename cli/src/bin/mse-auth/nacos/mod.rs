//! `mse-auth nacos`: Nacos login and request signing, for checking a setup and debugging refusals.

mod login;
mod sign;

use crate::common::{CliResult, Globals};

/// Nacos: log in with a user name and password, or show the AccessKey identity of a request.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  NACOS_CLIENT_PASSWORD=… mse-auth nacos login \\
      --server 127.0.0.1:8848 --username nacos
  mse-auth nacos sign config --namespace public-ns --group DEFAULT_GROUP")]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    Login(login::Args),
    Sign(sign::Args),
}

/// Runs `mse-auth nacos …`.
pub async fn run(globals: &Globals, args: Args) -> CliResult {
    match args.command {
        Command::Login(args) => login::run(globals, args).await,
        Command::Sign(args) => sign::run(globals, args).await,
    }
}
