//! `mse-auth`: fetch and export Alibaba Cloud credentials, explain the default chain, log in to Nacos and
//! show request signatures, encrypt and decrypt configs, serve a local credentials URI, and run the local
//! cloud emulator.
//!
//! Every subcommand exits 0 on success and 1 with one line `mse-auth: <cause>` on stderr on failure (2
//! for a usage error). Nothing prints a secret unless asked for it explicitly: `--show-secrets`, or an
//! export format whose purpose is to hand credentials to another program. `config decrypt` and
//! `nacos config get` print a config's plaintext, which is what they are for; no command prints a data
//! key or a local key.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;
mod config;
mod credentials;
mod emulator;
mod explain;
mod nacos;
mod serve;
mod tour;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Alibaba Cloud / MSE / Nacos credentials from the command line.
///
/// Secrets (AccessKey secrets, security tokens, Nacos tokens) are never printed unless you ask for them
/// with --show-secrets or an export format (`credentials --format env|credentials-uri`). `config decrypt`
/// and `nacos config get` print a config's plaintext: that is their purpose.
#[derive(Debug, Parser)]
#[command(name = "mse-auth", version, propagate_version = true)]
#[command(after_help = "Examples:
  # who provides credentials here (masked), and what each provider did:
  mse-auth credentials
  mse-auth explain
  # export them into a shell:
  eval \"$(mse-auth credentials --format env)\"
  # encrypt a config as MSE publishes it:
  mse-auth config encrypt --data-id cipher-kms-aes-256-db.yaml --in db.yaml
  # a credentials URI for other SDKs; a local cloud; every auth mode on it:
  mse-auth serve --port 8090
  mse-auth emulator
  mse-auth tour")]
struct Cli {
    #[command(flatten)]
    globals: common::Globals,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Credentials(credentials::Args),
    Explain(explain::Args),
    Nacos(nacos::Args),
    Config(config::Args),
    Serve(serve::Args),
    Emulator(emulator::Args),
    Tour(tour::Args),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    cli.globals.init_tracing();
    let result = match cli.command {
        Command::Credentials(args) => credentials::run(&cli.globals, args).await,
        Command::Explain(args) => explain::run(&cli.globals, args).await,
        Command::Nacos(args) => nacos::run(&cli.globals, args).await,
        Command::Config(args) => config::run(&cli.globals, args).await,
        Command::Serve(args) => serve::run(&cli.globals, args).await,
        Command::Emulator(args) => emulator::run(&cli.globals, args).await,
        Command::Tour(args) => tour::run(&cli.globals, args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let line = e.to_string().replace(['\n', '\r'], " ");
            eprintln!("mse-auth: {line}");
            ExitCode::FAILURE
        }
    }
}
