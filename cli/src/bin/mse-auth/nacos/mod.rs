//! `mse-auth nacos`: Nacos login and request signing, for checking a setup and debugging refusals;
//! reading, writing and re-encrypting encrypted configs on a live server.

mod config;
mod login;
mod sign;

use crate::common::{CliResult, Globals};
use mse_auth_providers::nacos;
use mse_auth_providers::os::Env;
use std::io::{BufRead, Read};
use zeroize::Zeroizing;

/// Nacos: log in with a user name and password, show the AccessKey identity of a request, or read,
/// write and re-encrypt encrypted configs.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  NACOS_CLIENT_PASSWORD=… mse-auth nacos login \\
      --server 127.0.0.1:8848 --username nacos
  mse-auth nacos sign config --namespace public-ns --group DEFAULT_GROUP
  mse-auth nacos config get --data-id cipher-gcm-db.yaml --namespace prod")]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    Login(login::Args),
    Sign(sign::Args),
    Config(Box<config::Args>),
}

/// Runs `mse-auth nacos …`.
pub async fn run(globals: &Globals, args: Args) -> CliResult {
    match args.command {
        Command::Login(args) => login::run(globals, args).await,
        Command::Sign(args) => sign::run(globals, args).await,
        Command::Config(args) => config::run(globals, *args).await,
    }
}

/// The most `--password-stdin` reads: one line of up to 4 KiB.
const MAX_PASSWORD_LINE: usize = 4096;

/// The servers from `--server`, else `NACOS_CLIENT_SERVER_ADDRESS`.
pub fn servers(flag: Option<String>, env: &Env) -> CliResult<String> {
    flag.or_else(|| env.get(nacos::SERVER_ADDRESS))
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            format!(
                "no Nacos server: give --server or set {}",
                nacos::SERVER_ADDRESS
            )
            .into()
        })
}

/// The user name from `--username`, else `NACOS_CLIENT_USERNAME`; `None` when neither is set or it
/// is blank.
pub fn username(flag: Option<String>, env: &Env) -> Option<String> {
    flag.or_else(|| env.get(nacos::USERNAME))
        .filter(|u| !u.trim().is_empty())
}

/// The password: the first line of standard input with `--password-stdin`, else
/// `NACOS_CLIENT_PASSWORD`; never an argument, where other users of the machine could read it. An
/// empty password is refused (Nacos refuses a login with one).
pub fn password(password_stdin: bool, env: &Env) -> CliResult<Zeroizing<String>> {
    let password = if password_stdin {
        let mut line = Zeroizing::new(String::new());
        // One line, bounded: a password is not megabytes.
        std::io::stdin()
            .lock()
            .take(MAX_PASSWORD_LINE as u64)
            .read_line(&mut line)?;
        if line.len() >= MAX_PASSWORD_LINE && !line.ends_with('\n') {
            return Err(format!(
                "the first line of standard input does not end within {MAX_PASSWORD_LINE} bytes: \
                 --password-stdin reads one line, the password"
            )
            .into());
        }
        Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string())
    } else {
        Zeroizing::new(env.get(nacos::PASSWORD).unwrap_or_default())
    };
    if password.is_empty() {
        return Err(if password_stdin {
            "the password is empty: --password-stdin reads it from the first line of standard \
             input, and that line is empty (Nacos refuses a login with an empty password)"
                .to_string()
        } else {
            format!(
                "no Nacos password: set {} or pipe it in with --password-stdin (it is never taken \
                 as an argument; Nacos refuses a login with an empty password)",
                nacos::PASSWORD
            )
        }
        .into());
    }
    Ok(password)
}
