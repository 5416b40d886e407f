//! `mse-auth nacos config`: read, write, list and re-encrypt encrypted configs on a live Nacos server,
//! through nacos-sdk with our `MseAuthPlugin` and `MseConfigFilter`.

mod crypto;
mod get;
mod list;
#[cfg(test)]
mod memory;
mod publish;
mod reencrypt;
mod store;

use crate::common::{CliResult, Globals};
use mse_auth_providers::nacos::{self, NacosLogin, ServerList};
use mse_auth_providers::nacos_sdk::MseAuthPlugin;
use mse_auth_providers::os::Env;
use mse_auth_providers::sign::spas::SpasOptions;
use mse_auth_providers::{CredentialsProvider, StaticAccessKeyProvider};
use nacos_sdk::api::config::ConfigServiceBuilder;
use nacos_sdk::api::props::ClientProps;
use std::sync::Arc;
use std::time::Duration;
use store::{CacheDir, NacosStore, Wire};

/// Encrypted configs on a Nacos server: read, publish, list, re-encrypt.
///
/// The dataId picks the scheme, as in `mse-auth config` (see `mse-auth config --help`). The commands
/// talk to the server with nacos-sdk (gRPC, port = HTTP port + 1000 unless --grpc-port) and list over
/// the v1 open API (HTTP). Identity: a username/password login (--username or NACOS_CLIENT_USERNAME;
/// the password from NACOS_CLIENT_PASSWORD or --password-stdin, never an argument) and/or AccessKey
/// signing (--sign: NACOS_CLIENT_ACCESS_KEY/NACOS_CLIENT_SECRET_KEY, else the default chain or
/// --profile). Servers from --server or NACOS_CLIENT_SERVER_ADDRESS, the namespace from --namespace
/// or NACOS_CLIENT_NAMESPACE (empty: public). KMS and local keys as in `mse-auth config`. Every call
/// to the server has a budget (--timeout). Plaintext is printed only by `get`, whose purpose it is;
/// no command prints a password, token or data key.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  export NACOS_CLIENT_SERVER_ADDRESS=10.0.0.7:8848
  export NACOS_CLIENT_USERNAME=ops NACOS_CLIENT_PASSWORD=…
  mse-auth nacos config list --namespace prod
  mse-auth nacos config get --namespace prod --data-id cipher-gcm-db.yaml
  mse-auth nacos config publish --namespace prod \\
      --data-id cipher-gcm-db.yaml --file db.yaml --kms-region cn-hangzhou
  mse-auth nacos config reencrypt --namespace prod --to gcm \\
      --kms-region cn-hangzhou --dry-run")]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    Get(get::Args),
    Publish(publish::Args),
    List(list::Args),
    Reencrypt(reencrypt::Args),
}

/// Runs `mse-auth nacos config …`.
pub async fn run(globals: &Globals, args: Args) -> CliResult {
    match args.command {
        Command::Get(args) => get::run(globals, args).await,
        Command::Publish(args) => publish::run(globals, args).await,
        Command::List(args) => list::run(globals, args).await,
        Command::Reencrypt(args) => reencrypt::run(globals, args).await,
    }
}

/// The server and the identity to use.
#[derive(Debug, clap::Args)]
pub struct Connection {
    /// Comma-separated servers, `host[:port]` or `http://host[:port]` (default:
    /// NACOS_CLIENT_SERVER_ADDRESS).
    #[arg(long, value_name = "ADDRESSES")]
    pub server: Option<String>,
    /// The servers' gRPC port (default: each server's HTTP port + 1000, as nacos-sdk does).
    #[arg(long, value_name = "PORT")]
    pub grpc_port: Option<u16>,
    /// The servers' context path (for login and listing).
    #[arg(long, default_value = "/nacos", value_name = "PATH")]
    pub context_path: String,
    /// Log in as this user (default: NACOS_CLIENT_USERNAME; none: no login).
    #[arg(long)]
    pub username: Option<String>,
    /// Read the password from the first line of standard input (default: NACOS_CLIENT_PASSWORD).
    #[arg(long)]
    pub password_stdin: bool,
    /// Sign requests with an AccessKey (MSE): NACOS_CLIENT_ACCESS_KEY and NACOS_CLIENT_SECRET_KEY
    /// when both are set (then signing is on without this flag), else the default chain (or
    /// --profile).
    #[arg(long)]
    pub sign: bool,
    /// Sign with the v4 key of this region (default: NACOS_CLIENT_SIGN_REGION_ID; none = v1).
    #[arg(long, value_name = "REGION_ID")]
    pub sign_region: Option<String>,
    /// The budget of each call to the server, in seconds.
    #[arg(long, default_value_t = 10, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
}

/// The namespace from `--namespace`, else `NACOS_CLIENT_NAMESPACE`, else the public one (`""`).
pub fn namespace(flag: Option<String>, env: &Env) -> String {
    flag.or_else(|| env.get(nacos::NAMESPACE))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The AccessKey credentials for signing: `NACOS_CLIENT_ACCESS_KEY`/`NACOS_CLIENT_SECRET_KEY` when
/// both are set, the default chain (or `--profile`) with `--sign`, else none.
fn signing(
    globals: &Globals,
    conn: &Connection,
    env: &Env,
) -> CliResult<Option<mse_auth_providers::RefreshCache<mse_auth_providers::Credentials>>> {
    use super::sign::{ACCESS_KEY, SECRET_KEY};
    match (env.get(ACCESS_KEY), env.get(SECRET_KEY)) {
        (Some(id), Some(secret)) => {
            let provider = StaticAccessKeyProvider::new(id, secret)?;
            Ok(Some(
                mse_auth_providers::RefreshCache::builder()
                    .name("nacos_client_env")
                    .build_for(provider),
            ))
        }
        (Some(_), None) | (None, Some(_)) => {
            Err(format!("set both {ACCESS_KEY} and {SECRET_KEY}, or neither").into())
        }
        (None, None) if conn.sign => Ok(Some(globals.chain().build())),
        (None, None) => Ok(None),
    }
}

/// Connects to the Nacos servers for `namespace`: logs in (when a user is given), resolves the
/// signing credentials (with --sign), then starts nacos-sdk's config client, each within the budget.
async fn connect(globals: &Globals, conn: &Connection, namespace: &str) -> CliResult<NacosStore> {
    let env = Env::real();
    let addresses = super::servers(conn.server.clone(), &env)?;
    let servers = ServerList::parse(&addresses, &conn.context_path)?;
    let mut grpc_addresses = Vec::new();
    for index in 0..servers.len() {
        let url = servers.url(index, "/");
        let (Some(host), Some(port), "http") =
            (url.host_str(), url.port_or_known_default(), url.scheme())
        else {
            return Err(format!(
                "{}: `nacos config` talks gRPC through nacos-sdk, built here without TLS: give \
                 the server as host:port or http://host:port",
                servers.origin(index)
            )
            .into());
        };
        grpc_addresses.push(format!("{host}:{port}"));
    }
    let timeout = Duration::from_secs(conn.timeout);
    let mut plugin = MseAuthPlugin::builder();
    let mut has_identity = false;
    if let Some(username) = super::username(conn.username.clone(), &env) {
        let password = super::password(conn.password_stdin, &env)?;
        let login = NacosLogin::builder(addresses.clone())
            .username(username)
            .password(password.as_str())
            .context_path(conn.context_path.clone())
            .context(globals.context())
            .build()?;
        {
            let _spinner = globals.spinner("logging in…");
            tokio::time::timeout(timeout * 2, login.token())
                .await
                .map_err(|_| format!("Nacos login: no answer within {:?}", timeout * 2))??;
        }
        plugin = plugin.login(login);
        has_identity = true;
    }
    if let Some(credentials) = signing(globals, conn, &env)? {
        {
            let _spinner = globals.spinner("resolving credentials…");
            credentials.provide_credentials().await?;
        }
        let region = conn
            .sign_region
            .clone()
            .or_else(|| env.get(super::sign::SIGN_REGION_ID));
        let mut options = SpasOptions::default();
        if let Some(region) = region {
            options = options.region(region);
        }
        plugin = plugin.credentials(credentials).spas_options(options);
        has_identity = true;
    }
    let plugin = if has_identity {
        Some(plugin.build()?)
    } else {
        tracing::info!("no Nacos user and no AccessKey signing: requests carry no identity");
        None
    };
    let cache = CacheDir::new()?;
    let mut props = ClientProps::new()
        .server_addr(grpc_addresses.join(","))
        .namespace(namespace)
        .app_name("mse-auth")
        .env_first(false)
        .config_load_cache_at_start(false)
        .cache_dir(cache.0.clone());
    if let Some(port) = conn.grpc_port {
        props = props.remote_grpc_port(port);
    }
    let wire = Wire::default();
    let mut builder = ConfigServiceBuilder::new(props).add_config_filter(Box::new(wire.clone()));
    if let Some(plugin) = &plugin {
        builder = builder.with_auth_plugin(Arc::new(plugin.clone()));
    }
    let service = {
        let _spinner = globals.spinner("connecting…");
        tokio::time::timeout(timeout, builder.build())
            .await
            .map_err(|_| {
                format!(
                    "no gRPC connection to the Nacos server within {timeout:?} (gRPC port: {})",
                    conn.grpc_port.map_or_else(
                        || "the HTTP port + 1000; give --grpc-port if it differs".to_string(),
                        |p| p.to_string()
                    )
                )
            })?
            .map_err(|e| format!("nacos-sdk: {e}"))?
    };
    Ok(NacosStore {
        service,
        wire,
        plugin,
        namespace: namespace.to_string(),
        servers,
        timeout,
        _cache: cache,
    })
}

/// Publishes `sealed` (the encryption of `plain`) as `data_id`, then reads it back and decrypts it:
/// the server must return what was sent, and it must decrypt to `plain`. When it does not (a server
/// that drops `encryptedDataKey`), the config is put back as it was (`previous`, with a
/// compare-and-set on what was written) or, if it did not exist, removed. Returns the new MD5.
#[allow(clippy::too_many_arguments)]
async fn publish_verified(
    store: &impl store::Store,
    crypto: &crypto::Crypto,
    data_id: &str,
    group: &str,
    sealed: &mse_auth_providers::cipher::Encrypted,
    plain: &str,
    content_type: Option<&str>,
    cas_md5: Option<&str>,
    previous: Option<&store::Stored>,
) -> Result<String, store::StoreError> {
    use store::StoreError;
    store
        .publish(data_id, group, sealed, content_type, cas_md5)
        .await?;
    let back = store.get(data_id, group).await?.ok_or_else(|| {
        StoreError::new(format!(
            "published {data_id}, but the server does not return it"
        ))
    })?;
    if back.content.as_str() != sealed.content {
        // Another writer came in after us: its version stays.
        return Err(StoreError::changed(format!(
            "published {data_id}, but the server now holds another content: another writer?"
        )));
    }
    let problem = match crypto.decrypt(data_id, group, &back).await {
        Ok(text) if text.as_str() == plain => return Ok(back.md5),
        Ok(_) => "decrypts to another text".to_string(),
        Err(e) if e.kind() == mse_auth_providers::cipher::CipherErrorKind::MissingDataKey => {
            "came back without its encryptedDataKey (the server drops it: use cipher-gcm- there)"
                .to_string()
        }
        Err(e) => format!("does not decrypt ({})", without_data_id(&e, data_id)),
    };
    let undone = match previous {
        Some(prev) => {
            let old = mse_auth_providers::cipher::Encrypted {
                content: prev.content.to_string(),
                encrypted_data_key: prev.encrypted_data_key.to_string(),
            };
            let kind = (!prev.content_type.is_empty()).then_some(prev.content_type.as_str());
            match store
                .publish(data_id, group, &old, kind, Some(&back.md5))
                .await
            {
                Ok(()) => "the previous version was put back".to_string(),
                Err(e) => format!("putting the previous version back failed: {e}"),
            }
        }
        None => match store.remove(data_id, group).await {
            Ok(()) => "the new config was removed".to_string(),
            Err(e) => format!("removing the new config failed: {e}"),
        },
    };
    Err(StoreError::new(format!(
        "{data_id} as stored by the server {problem}; {undone}"
    )))
}

/// The message of `e` without its `config <dataId>: ` prefix (for rows that name the config), with
/// the flags to give when a key is missing.
fn without_data_id(e: &mse_auth_providers::cipher::CipherError, data_id: &str) -> String {
    let text = e.to_string();
    let text = text
        .strip_prefix(&format!("config {data_id}: "))
        .map(str::to_string)
        .unwrap_or(text);
    if e.kind() == mse_auth_providers::cipher::CipherErrorKind::NotConfigured {
        format!("{text} (give --kms-region or --kms-endpoint, or the local key's file and name)")
    } else {
        text
    }
}
