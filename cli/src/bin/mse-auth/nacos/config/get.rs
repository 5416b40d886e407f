//! `mse-auth nacos config get`: a config's plaintext, read from the server.

use super::crypto::Crypto;
use super::store::{Store, Stored};
use super::{connect, namespace, Connection};
use crate::common::{CliResult, Globals};
use crate::config::{check_data_id_text, cipher, scheme_name, write_output, Format, Keys, Op};
use mse_auth_providers::cipher::{CipherErrorKind, Scheme};
use mse_auth_providers::os::Env;
use serde_json::json;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Read a config from the server and print its plaintext (or, with --raw, what the server stores).
///
/// Printing the plaintext is this command's purpose (write it with --out to get a file of mode
/// 0600). A config whose dataId has no cipher- scheme is printed as stored. A config that does not
/// decrypt is an error naming the reason (wrong key, missing encryptedDataKey: rnacos drops it, a
/// ciphertext moved from another dataId…); nothing of its content is printed. --raw prints what the
/// server stores, as JSON: the content (ciphertext), the encryptedDataKey when it has one, the MD5
/// (for `publish --if-unchanged`) and the content type; it is the input `mse-auth config decrypt
/// --in-format json` reads. A cipher-aes- encryptedDataKey is the AES key itself: --raw shows it only
/// with --show-secrets. KMS calls are signed with the default chain's credentials (or --profile's).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mse-auth nacos config get --namespace prod --data-id cipher-gcm-db.yaml
  # what the server stores, and its MD5 for publish --if-unchanged:
  mse-auth nacos config get --namespace prod \\
      --data-id cipher-kms-aes-256-db.yaml --raw
  mse-auth nacos config get --data-id cipher-app.properties \\
      --kms-region cn-hangzhou --format json --out app.json")]
pub struct Args {
    /// The config's dataId; its prefix picks the scheme.
    #[arg(long, value_name = "ID")]
    data_id: String,
    /// The config's group.
    #[arg(long, default_value = "DEFAULT_GROUP")]
    group: String,
    /// The namespace (tenant) id (default: NACOS_CLIENT_NAMESPACE; empty: public).
    #[arg(long, value_name = "NS")]
    namespace: Option<String>,
    #[command(flatten)]
    conn: Connection,
    #[command(flatten)]
    keys: Keys,
    /// Print what the server stores (content, encryptedDataKey, MD5) instead of decrypting.
    #[arg(long)]
    raw: bool,
    /// With --raw: print the encryptedDataKey of a cipher-aes- config, which is the AES key itself.
    #[arg(long, requires = "raw")]
    show_secrets: bool,
    /// Output format (default: plain; json with --raw).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write to this file (`-`: standard output, the default). A new file gets mode 0600.
    #[arg(long = "out", value_name = "FILE|-")]
    output: Option<PathBuf>,
}

/// Runs `mse-auth nacos config get`.
pub async fn run(globals: &Globals, args: Args) -> CliResult {
    check_data_id_text(&args.data_id)?;
    let namespace = namespace(args.namespace.clone(), &Env::real());
    let store = connect(globals, &args.conn, &namespace).await?;
    let stored = {
        let _spinner = globals.spinner("reading…");
        store.get(&args.data_id, &args.group).await?
    }
    .ok_or_else(|| not_found(&args.data_id, &args.group, &namespace))?;
    let text = if args.raw {
        raw(&args, &namespace, &stored)?
    } else {
        plain(globals, &args, &namespace, &stored).await?
    };
    write_output(args.output.as_deref(), &text)
}

/// `config <dataId> does not exist …`.
pub fn not_found(data_id: &str, group: &str, namespace: &str) -> String {
    format!(
        "config {data_id} does not exist in group {group} of namespace {}",
        shown_namespace(namespace)
    )
}

/// `public` for the empty namespace, else the id.
pub fn shown_namespace(namespace: &str) -> String {
    if namespace.is_empty() {
        "public (\"\")".to_string()
    } else {
        format!("{namespace:?}")
    }
}

fn raw(args: &Args, namespace: &str, stored: &Stored) -> CliResult<Zeroizing<String>> {
    let scheme = Scheme::for_data_id(&args.data_id);
    let has_key = !stored.encrypted_data_key.is_empty();
    if scheme == Scheme::NacosAes && has_key && !args.show_secrets {
        return Err(
            "a cipher-aes- encryptedDataKey is the AES key itself, in clear: printing it needs \
             --show-secrets"
                .into(),
        );
    }
    match args.format.unwrap_or(Format::Json) {
        Format::Plain if has_key => Err(
            "this config has an encryptedDataKey, which --format plain cannot carry: use \
             --format json"
                .into(),
        ),
        Format::Plain => Ok(Zeroizing::new(format!("{}\n", stored.content.as_str()))),
        Format::Json => {
            let value = json!({
                "dataId": args.data_id,
                "group": args.group,
                "namespace": namespace,
                "scheme": scheme_name(scheme),
                "md5": stored.md5,
                "contentType": stored.content_type,
                "content": stored.content.as_str(),
                "encryptedDataKey": stored.encrypted_data_key.as_str(),
            });
            Ok(Zeroizing::new(format!("{value:#}\n")))
        }
    }
}

async fn plain(
    globals: &Globals,
    args: &Args,
    namespace: &str,
    stored: &Stored,
) -> CliResult<Zeroizing<String>> {
    let scheme = Scheme::for_data_id(&args.data_id);
    if !scheme.is_encrypted() {
        tracing::info!(data_id = %args.data_id, "the dataId has no cipher- scheme: printed as stored");
    }
    let cipher = cipher(globals, &args.keys, scheme, Op::Decrypt(&stored.content))?;
    let crypto = Crypto::new(cipher, namespace);
    let plain = {
        let _spinner = globals.spinner("decrypting…");
        crypto.decrypt(&args.data_id, &args.group, stored).await
    }
    .map_err(|e| {
        let hint = if e.kind() == CipherErrorKind::MissingDataKey {
            " (the server returned no encryptedDataKey: some servers, rnacos among them, drop it; \
             use cipher-gcm- there)"
        } else {
            ""
        };
        format!("cannot decrypt {e}{hint}")
    })?;
    Ok(match args.format.unwrap_or(Format::Plain) {
        Format::Plain => plain,
        Format::Json => {
            let value = json!({
                "dataId": args.data_id,
                "group": args.group,
                "namespace": namespace,
                "scheme": scheme_name(scheme),
                "md5": stored.md5,
                "contentType": stored.content_type,
                "content": plain.as_str(),
            });
            Zeroizing::new(format!("{value:#}\n"))
        }
    })
}
