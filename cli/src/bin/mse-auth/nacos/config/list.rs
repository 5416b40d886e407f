//! `mse-auth nacos config list`: the configs of a namespace, their scheme, and where their key is.

use super::crypto::{source_name, KeyState};
use super::get::shown_namespace;
use super::store::{Listed, Store};
use super::{connect, namespace, Connection};
use crate::common::{print_table, CliResult, Globals, OutputFormat};
use crate::config::scheme_name;
use mse_auth_providers::cipher::Scheme;
use mse_auth_providers::os::Env;
use serde_json::json;

/// List the configs of a namespace with their scheme and whether their key is there.
///
/// The names come from the v1 open API (`GET /nacos/v1/cs/configs?search=accurate`, the login token
/// in a header, never in the URL), at most 10,000 configs; each cipher- config is then read (its
/// content is not printed) to see where its data key is: `present` (the encryptedDataKey of an
/// envelope or cipher-aes- config), `MISSING` (the encryptedDataKey is empty: the config cannot be
/// decrypted; rnacos drops it), `in the ciphertext` (cipher-gcm-: the KMS key id or local key name
/// that wrapped it), `not needed` (direct KMS). Nothing is decrypted, so no KMS call is made. Exits
/// 1 if a config could not be read.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mse-auth nacos config list --namespace prod
  mse-auth nacos config list --namespace prod --group APP --format json")]
pub struct Args {
    /// The namespace (tenant) id (default: NACOS_CLIENT_NAMESPACE; empty: public).
    #[arg(long, value_name = "NS")]
    namespace: Option<String>,
    /// Only the configs of this group.
    #[arg(long)]
    group: Option<String>,
    #[command(flatten)]
    conn: Connection,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

/// One row.
struct Row {
    listed: Listed,
    scheme: Scheme,
    key: Result<KeyState, String>,
}

/// Runs `mse-auth nacos config list`.
pub async fn run(globals: &Globals, args: Args) -> CliResult {
    let namespace = namespace(args.namespace.clone(), &Env::real());
    let store = connect(globals, &args.conn, &namespace).await?;
    let listed = {
        let _spinner = globals.spinner("listing…");
        store.list(args.group.as_deref()).await?
    };
    let progress = globals.progress(listed.len() as u64);
    let mut rows = Vec::with_capacity(listed.len());
    for item in listed {
        let scheme = Scheme::for_data_id(&item.data_id);
        progress.message(&item.data_id);
        let key = if scheme.is_encrypted() {
            match store.get(&item.data_id, &item.group).await {
                Ok(Some(stored)) => Ok(KeyState::of(&item.data_id, &stored)),
                Ok(None) => Err("removed since it was listed".to_string()),
                Err(e) => Err(e.to_string()),
            }
        } else {
            Ok(KeyState::None)
        };
        progress.step();
        rows.push(Row {
            listed: item,
            scheme,
            key,
        });
    }
    drop(progress);
    let unreadable = rows.iter().filter(|r| r.key.is_err()).count();
    match args.format {
        OutputFormat::Table => {
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.listed.group.clone(),
                        r.listed.data_id.clone(),
                        scheme_name(r.scheme).to_string(),
                        match &r.key {
                            Ok(key) => key.describe(),
                            Err(e) => format!("ERROR ({e})"),
                        },
                    ]
                })
                .collect();
            print_table(&["GROUP", "DATA ID", "SCHEME", "KEY"], &table);
            let encrypted = rows.iter().filter(|r| r.scheme.is_encrypted()).count();
            println!(
                "\n{} configs in namespace {} ({encrypted} encrypted)",
                rows.len(),
                shown_namespace(&namespace)
            );
        }
        OutputFormat::Json => {
            let configs: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    let mut value = json!({
                        "group": r.listed.group,
                        "dataId": r.listed.data_id,
                        "scheme": scheme_name(r.scheme),
                    });
                    match &r.key {
                        Ok(key) => {
                            value["key"] = json!(key.code());
                            if let KeyState::Embedded { source, key_id } = key {
                                value["keySource"] = json!(source_name(*source));
                                value["keyId"] = json!(key_id);
                            }
                            if let KeyState::Unreadable(why) = key {
                                value["error"] = json!(why);
                            }
                        }
                        Err(e) => {
                            value["key"] = json!("error");
                            value["error"] = json!(e);
                        }
                    }
                    value
                })
                .collect();
            let value = json!({ "namespace": namespace, "configs": configs });
            println!("{value:#}");
        }
    }
    if unreadable > 0 {
        return Err(format!("{unreadable} configs could not be read (see the KEY column)").into());
    }
    Ok(())
}
