//! `mse-auth nacos sign`: the AccessKey identity (headers or parameters) of a Nacos request.

use crate::common::{mask_token, print_rows, CliResult, Globals, OutputFormat};
use mse_auth_providers::os::Env;
use mse_auth_providers::sign::spas::{
    self, config_identity, config_resource, names, naming_identity, SpasOptions,
};
use mse_auth_providers::{Credentials, CredentialsProvider};
use serde_json::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// AccessKey id for Nacos signing (nacos-sdk-rust's name); with the secret it takes precedence over the
/// default chain.
pub(super) const ACCESS_KEY: &str = "NACOS_CLIENT_ACCESS_KEY";
/// AccessKey secret for Nacos signing (nacos-sdk-rust's name).
pub(super) const SECRET_KEY: &str = "NACOS_CLIENT_SECRET_KEY";
/// Signing region: v4 signing when set (nacos-sdk-rust's name).
pub(super) const SIGN_REGION_ID: &str = "NACOS_CLIENT_SIGN_REGION_ID";

/// Show the identity headers (config) or parameters (naming) of a Nacos request, with the string that
/// was signed, to debug signature mismatches.
///
/// The signature is printed because that is this command's purpose (it is a debugging aid; a
/// signature is valid only for its timestamp and resource). The AccessKey comes from
/// NACOS_CLIENT_ACCESS_KEY and NACOS_CLIENT_SECRET_KEY when both are set, else from the default chain.
/// An STS security token is masked unless --show-secrets is given.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mse-auth nacos sign config --namespace public-ns --group DEFAULT_GROUP
  # v4 signing:
  mse-auth nacos sign config --namespace ns --group G --region cn-hangzhou
  mse-auth nacos sign naming --service svc --group DEFAULT_GROUP \\
      --timestamp 1700000000000")]
pub struct Args {
    #[command(subcommand)]
    request: Request,
    /// Sign with the v4 key derived for this region (default: NACOS_CLIENT_SIGN_REGION_ID; none = v1).
    #[arg(long, global = true, value_name = "REGION_ID")]
    region: Option<String>,
    /// The v4 product code.
    #[arg(long, global = true, default_value = spas::DEFAULT_PRODUCT)]
    product: String,
    /// Sign for this time, in epoch milliseconds (default: now), to reproduce a given request.
    #[arg(long, global = true, value_name = "EPOCH_MS")]
    timestamp: Option<u64>,
    /// Print the security token of STS credentials instead of masking it.
    #[arg(long, global = true)]
    show_secrets: bool,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t)]
    format: OutputFormat,
}

#[derive(Debug, clap::Subcommand)]
enum Request {
    /// A config request: headers Spas-AccessKey, Timestamp, Spas-Signature.
    Config {
        /// The namespace (tenant); empty for the public namespace.
        #[arg(long, default_value = "")]
        namespace: String,
        /// The group.
        #[arg(long, default_value = "DEFAULT_GROUP")]
        group: String,
    },
    /// A naming request: parameters ak, data, signature.
    Naming {
        /// The service name; empty signs the bare timestamp.
        #[arg(long, default_value = "")]
        service: String,
        /// The group.
        #[arg(long, default_value = "DEFAULT_GROUP")]
        group: String,
    },
}

async fn credentials(globals: &Globals, env: &Env) -> CliResult<Credentials> {
    match (env.get(ACCESS_KEY), env.get(SECRET_KEY)) {
        (Some(id), Some(secret)) => Ok(Credentials::new(id, secret, "nacos_client_env")?),
        (Some(_), None) | (None, Some(_)) => {
            Err(format!("set both {ACCESS_KEY} and {SECRET_KEY}, or neither").into())
        }
        (None, None) => {
            let _spinner = globals.spinner("resolving credentials…");
            Ok(globals.chain().build().provide_credentials().await?)
        }
    }
}

/// Runs `mse-auth nacos sign …`.
pub async fn run(globals: &Globals, args: Args) -> CliResult {
    let env = Env::real();
    let creds = credentials(globals, &env).await?;
    let mut options = SpasOptions::default().product(args.product);
    if let Some(region) = args.region.or_else(|| env.get(SIGN_REGION_ID)) {
        options = options.region(region);
    }
    let now = match args.timestamp {
        Some(ms) => UNIX_EPOCH + Duration::from_millis(ms),
        None => SystemTime::now(),
    };
    let ms = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let (kind, signed, identity) = match &args.request {
        Request::Config { namespace, group } => {
            let resource = config_resource(namespace, group);
            let signed = if resource.is_empty() {
                ms.to_string()
            } else {
                format!("{resource}+{ms}")
            };
            let id = config_identity(&creds, &options, namespace, group, now);
            ("config (headers)", signed, id)
        }
        Request::Naming { service, group } => {
            let id = naming_identity(&creds, &options, service, group, now);
            let signed = id.get(names::NAMING_DATA).unwrap_or_default().to_string();
            ("naming (parameters)", signed, id)
        }
    };
    let entries: Vec<(&str, String)> = identity
        .entries()
        .iter()
        .map(|(name, value)| {
            let shown = if *name == names::SECURITY_TOKEN && !args.show_secrets {
                mask_token(value)
            } else {
                value.clone()
            };
            (*name, shown)
        })
        .collect();
    let version = if options.region_id().is_some() {
        "v4"
    } else {
        "v1"
    };
    match args.format {
        OutputFormat::Table => {
            print_rows(&[
                ("credentials", creds.to_string()),
                ("request", kind.to_string()),
                ("signing", version.to_string()),
                ("string to sign", signed),
            ]);
            println!();
            print_rows(&entries);
        }
        OutputFormat::Json => {
            let map: serde_json::Map<String, serde_json::Value> = entries
                .into_iter()
                .map(|(n, v)| (n.to_string(), json!(v)))
                .collect();
            let value = json!({
                "provider_path": creds.provider_path(),
                "access_key_id_masked": creds.masked_access_key_id(),
                "request": kind.split(' ').next(),
                "signing": version,
                "string_to_sign": signed,
                "identity": map,
            });
            println!("{value:#}");
        }
    }
    Ok(())
}
