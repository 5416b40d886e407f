//! `mse-auth nacos config publish`: encrypt a config by its dataId's scheme and publish it.

use super::crypto::Crypto;
use super::get::shown_namespace;
use super::store::{Store, StoreError};
use super::{connect, namespace, publish_verified, Connection};
use crate::common::{print_rows, CliResult, Globals, OutputFormat};
use crate::config::{check_encryptable, cipher, read_input, scheme_name, Keys, Op};
use mse_auth_providers::os::Env;
use serde_json::json;
use std::path::PathBuf;

/// Encrypt a config by its dataId's scheme and publish it, then check what the server kept.
///
/// The content comes from --file or standard input (at most 10 MiB; empty is refused). The dataId
/// picks the scheme (see `mse-auth config --help`); one without a cipher- scheme is refused unless
/// --allow-plain, and a mistyped-looking one unless --allow-near-miss, as `config encrypt` does.
/// Nothing is sent when encryption fails. After publishing, the config is read back and decrypted:
/// if the server did not keep it (a server that drops the encryptedDataKey of the envelope schemes,
/// as rnacos does), the previous version is put back (or the new config removed) and the command
/// fails. With --if-unchanged MD5 (the `md5` of `get --raw` or `get --format json`), the config is
/// written only if the server still holds that version: checked before writing and sent as Nacos's
/// compare-and-set (casMd5); rnacos ignores casMd5, so there only the check before writing holds.
/// The content type is kept from the current config unless --type is given.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mse-auth nacos config publish --namespace prod \\
      --data-id cipher-gcm-db.yaml --file db.yaml --kms-region cn-hangzhou
  # only if nobody changed it since it was read:
  md5=$(mse-auth nacos config get --data-id cipher-gcm-db.yaml \\
      --namespace prod --raw | jq -r .md5)
  mse-auth nacos config publish --namespace prod \\
      --data-id cipher-gcm-db.yaml --file db.yaml --if-unchanged \"$md5\" \\
      --local-key-file ops.key --local-key-name ops-2024")]
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
    /// Read the content from this file (`-` or none: standard input); at most 10 MiB.
    #[arg(long, value_name = "FILE|-")]
    file: Option<PathBuf>,
    /// Write only if the stored config still has this MD5 (compare-and-set).
    #[arg(long, value_name = "MD5")]
    if_unchanged: Option<String>,
    /// The content type (text, json, xml, yaml, html, properties; default: the current one's).
    #[arg(long = "type", value_name = "TYPE")]
    content_type: Option<String>,
    #[command(flatten)]
    conn: Connection,
    #[command(flatten)]
    keys: Keys,
    /// Publish the content unencrypted when the dataId selects no scheme (no cipher- prefix).
    #[arg(long)]
    allow_plain: bool,
    /// Encrypt with the scheme the dataId selects even when it looks like a mistyped prefix.
    #[arg(long)]
    allow_near_miss: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

/// Runs `mse-auth nacos config publish`.
pub async fn run(globals: &Globals, args: Args) -> CliResult {
    let scheme = check_encryptable(&args.data_id, args.allow_plain, args.allow_near_miss)?;
    let from_stdin = args
        .file
        .as_deref()
        .is_none_or(|f| f == std::path::Path::new("-"));
    if args.conn.password_stdin && from_stdin {
        return Err(
            "--password-stdin reads the password from standard input, so the content \
                    must come from --file"
                .into(),
        );
    }
    let plain = read_input(args.file.as_deref())?;
    if plain.trim().is_empty() {
        return Err(
            "the input is empty: nothing to publish (Nacos does not publish an empty \
                    config)"
                .into(),
        );
    }
    let namespace = namespace(args.namespace.clone(), &Env::real());
    // Built before connecting: a missing KMS setting fails before anything is sent.
    let cipher = cipher(globals, &args.keys, scheme, Op::Encrypt(&plain))?;
    let crypto = Crypto::new(cipher, &namespace);
    let store = connect(globals, &args.conn, &namespace).await?;
    let (data_id, group) = (args.data_id.as_str(), args.group.as_str());
    let current = store.get(data_id, group).await?;
    if let Some(expected) = &args.if_unchanged {
        let expected = expected.trim();
        match &current {
            Some(c) if c.md5.eq_ignore_ascii_case(expected) => {}
            Some(c) => {
                return Err(StoreError::changed(format!(
                    "{data_id} changed since it was read: the server holds MD5 {}, \
                     --if-unchanged gave {expected}; nothing was published",
                    c.md5
                ))
                .into())
            }
            None => {
                return Err(StoreError::changed(format!(
                    "{data_id} does not exist (any more): --if-unchanged {expected} names a \
                     version the server does not hold; nothing was published"
                ))
                .into())
            }
        }
    }
    let sealed = {
        let _spinner = globals.spinner("encrypting…");
        crypto.encrypt(data_id, group, &plain).await
    }
    .map_err(|e| format!("cannot encrypt {e}; nothing was published"))?;
    let content_type = args.content_type.clone().or_else(|| {
        current
            .as_ref()
            .map(|c| c.content_type.clone())
            .filter(|t| !t.is_empty())
    });
    let md5 = {
        let _spinner = globals.spinner("publishing…");
        publish_verified(
            &store,
            &crypto,
            data_id,
            group,
            &sealed,
            &plain,
            content_type.as_deref(),
            args.if_unchanged.as_deref().map(str::trim),
            current.as_ref(),
        )
        .await?
    };
    let action = if current.is_some() {
        "updated"
    } else {
        "created"
    };
    match args.format {
        OutputFormat::Table => print_rows(&[
            ("config", data_id.to_string()),
            ("group", group.to_string()),
            ("namespace", shown_namespace(&namespace)),
            ("scheme", scheme_name(scheme).to_string()),
            ("md5", md5),
            ("result", format!("{action}, read back and decrypted")),
        ]),
        OutputFormat::Json => {
            let value = json!({
                "dataId": data_id,
                "group": group,
                "namespace": namespace,
                "scheme": scheme_name(scheme),
                "md5": md5,
                "result": action,
            });
            println!("{value:#}");
        }
    }
    Ok(())
}
