//! `mse-auth config new-local-key`: a fresh local master key for `cipher-gcm-` configs, in a new file.

use crate::common::{print_rows, CliResult, Globals, OutputFormat};
use mse_auth_providers::cipher::gcm::LocalKey;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Write a fresh random local key (32 bytes, in Base64) to a new file of mode 0600.
///
/// The key wraps the data keys of cipher-gcm- configs instead of KMS (`config encrypt|decrypt
/// --local-key-file FILE --local-key-name NAME`). Its name is recorded in every ciphertext it seals and
/// must be given again to decrypt. An existing file is never overwritten, and the key is never printed:
/// only the file holds it. Keep the file as you would a password, and keep a copy: without it the
/// configs it sealed cannot be read.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mse-auth config new-local-key --name ops-2024 \\
      --file ~/.mse-auth/ops-2024.key
  mse-auth config encrypt --data-id cipher-gcm-db.yaml --in db.yaml \\
      --local-key-file ~/.mse-auth/ops-2024.key --local-key-name ops-2024")]
pub struct Args {
    /// The key's name (1 to 255 bytes), recorded in what it seals.
    #[arg(long, value_name = "NAME")]
    name: String,
    /// The file to create (refused if it exists).
    #[arg(long, value_name = "FILE")]
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

/// Runs `mse-auth config new-local-key`.
pub fn run(_globals: &Globals, args: Args) -> CliResult {
    let key = LocalKey::generate(args.name.clone())?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let path = args.file.display();
    let mut file = options.open(&args.file).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            format!("{path} exists; it is never overwritten (a key in use would be lost)")
        }
        _ => format!("cannot create {path}: {e}"),
    })?;
    let line = Zeroizing::new(format!("{}\n", key.expose_base64().as_str()));
    let written = file
        .write_all(line.as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        drop(file);
        let _ = std::fs::remove_file(&args.file);
        return Err(format!("cannot write {path}: {e}").into());
    }
    match args.format {
        OutputFormat::Table => print_rows(&[
            ("local key", key.name().to_string()),
            ("file", format!("{path} (mode 0600)")),
            (
                "use",
                format!(
                    "--local-key-file {path} --local-key-name {}",
                    crate::common::shell_quote(key.name())
                ),
            ),
        ]),
        OutputFormat::Json => println!(
            "{:#}",
            json!({ "name": key.name(), "file": args.file.to_string_lossy() })
        ),
    }
    Ok(())
}
