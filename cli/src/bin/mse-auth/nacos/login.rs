//! `mse-auth nacos login`: log in to Nacos and show the token's lifetime.

use crate::common::{human_duration, mask_token, print_rows, CliResult, Globals, OutputFormat};
use mse_auth_providers::nacos::{self, NacosLogin};
use mse_auth_providers::os::Env;
use mse_auth_providers::timestamp::format_utc;
use mse_auth_providers::Context;
use serde_json::json;

/// Log in to Nacos with a user name and password and show the token's lifetime.
///
/// Tries the servers in order, the Nacos 3 login path first and the 1.x/2.x path on 404/501. The token
/// is masked unless --show-secrets is given. The password is read from NACOS_CLIENT_PASSWORD or, with
/// --password-stdin, from the first line of standard input; it is never accepted as an argument, where
/// other users of the machine could read it. An empty password is refused before anything is sent.
/// When every server fails, the error names each one with its own reason (refused, timed out, HTTP
/// status); each server gets 3 s to connect and 5 s more to answer.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  NACOS_CLIENT_PASSWORD=nacos mse-auth nacos login \\
      --server 127.0.0.1:8848 --username nacos
  printf '%s\\n' \"$PW\" | mse-auth nacos login \\
      --server http://nacos:8848 --username admin --password-stdin
  # servers and user from the NACOS_CLIENT_* variables:
  mse-auth nacos login --show-secrets --format json")]
pub struct Args {
    /// Comma-separated servers, `host[:port]` or `http(s)://host[:port]` (default:
    /// NACOS_CLIENT_SERVER_ADDRESS).
    #[arg(long, value_name = "ADDRESSES")]
    pub server: Option<String>,
    /// The user name (default: NACOS_CLIENT_USERNAME).
    #[arg(long)]
    pub username: Option<String>,
    /// Read the password from the first line of standard input (default: NACOS_CLIENT_PASSWORD).
    #[arg(long)]
    pub password_stdin: bool,
    /// The servers' context path.
    #[arg(long, default_value = "/nacos", value_name = "PATH")]
    pub context_path: String,
    /// Print the access token itself.
    #[arg(long)]
    pub show_secrets: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: OutputFormat,
}

/// Runs `mse-auth nacos login`.
pub async fn run(globals: &Globals, args: Args) -> CliResult {
    let env = Env::real();
    let servers = super::servers(args.server, &env)?;
    let username = super::username(args.username, &env).ok_or_else(|| {
        format!(
            "no Nacos user name: give --username or set {}",
            nacos::USERNAME
        )
    })?;
    let password = super::password(args.password_stdin, &env)?;
    let login = NacosLogin::builder(servers)
        .username(username.clone())
        .password(password.as_str())
        .context_path(args.context_path)
        .context(Context::default())
        .build()?;
    let token = {
        let _spinner = globals.spinner("logging in…");
        login.token().await?
    }
    .ok_or("no Nacos user name: give --username or set NACOS_CLIENT_USERNAME")?;
    let expires = format_utc(token.issued_at() + token.ttl());
    let shown = if args.show_secrets {
        token.access_token().to_string()
    } else {
        mask_token(token.access_token())
    };
    match args.format {
        OutputFormat::Table => print_rows(&[
            ("server", token.server().to_string()),
            ("user", username),
            ("token", shown),
            ("ttl", human_duration(token.ttl())),
            ("expires", expires),
        ]),
        OutputFormat::Json => {
            let mut value = json!({
                "server": token.server(),
                "username": username,
                "access_token_masked": mask_token(token.access_token()),
                "ttl_seconds": token.ttl().as_secs(),
                "expires": expires,
            });
            if args.show_secrets {
                value["access_token"] = json!(token.access_token());
            }
            println!("{value:#}");
        }
    }
    Ok(())
}
