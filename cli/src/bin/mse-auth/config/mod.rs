//! `mse-auth config`: encrypt and decrypt Nacos/MSE config contents the way the client filters do, and
//! make local keys for `cipher-gcm-` configs.

mod decrypt;
mod encrypt;
mod new_local_key;

use crate::common::{CliResult, Globals};
use clap::ValueEnum;
use mse_auth_providers::cipher::gcm::{self, KeySource, LocalKey};
use mse_auth_providers::cipher::{ConfigCipher, Scheme, CIPHER_PREFIX};
use mse_auth_providers::kms::KmsClient;
use mse_auth_providers::kms_data_keys::{KmsDataKeys, DEFAULT_KEY_ID};
use mse_auth_providers::os::Env;
use mse_auth_providers::vars;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zeroize::Zeroizing;

/// Config encryption: the MSE/Nacos schemes chosen by dataId, with KMS or a local key.
///
/// The dataId picks the scheme, as in the Nacos/MSE clients: `cipher-kms-aes-128-` and
/// `cipher-kms-aes-256-` (KMS envelope: content plus an encryptedDataKey), `cipher-gcm-` (AES-256-GCM
/// bound to namespace, group and dataId; KMS or a local key), `cipher-aes-` (nacos-plugin AES; its
/// encryptedDataKey is the AES key in clear), any other `cipher-…` (direct KMS, at most 6 KB of text,
/// 16 KiB of ciphertext). The prefix is matched exactly, as the clients do, so `encrypt` refuses a
/// dataId that selects no scheme unless --allow-plain is given, names the prefix a mistyped one
/// (`Cipher-`, `ciper-`, `cipher_kms-aes-256-`) probably meant, and refuses `cipher-…` dataIds that
/// look like a mistyped envelope or GCM prefix (`cipher-kms-aes256-`) unless --allow-near-miss is
/// given. A dataId with leading or trailing whitespace is refused (Nacos does not accept one). Input
/// is at most 10 MiB (the Nacos server's default maxContent).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mse-auth config encrypt --data-id cipher-kms-aes-256-db.yaml \\
      --in db.yaml > db.enc.json
  mse-auth config decrypt --data-id cipher-kms-aes-256-db.yaml \\
      --in db.enc.json --in-format json
  mse-auth config new-local-key --name ops-2024 --file ops-2024.key
  mse-auth config encrypt --data-id cipher-gcm-db.yaml --in db.yaml \\
      --local-key-file ops-2024.key --local-key-name ops-2024")]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    Encrypt(encrypt::Args),
    Decrypt(decrypt::Args),
    NewLocalKey(new_local_key::Args),
}

/// Runs `mse-auth config …`.
pub async fn run(globals: &Globals, args: Args) -> CliResult {
    match args.command {
        Command::Encrypt(args) => encrypt::run(globals, args).await,
        Command::Decrypt(args) => decrypt::run(globals, args).await,
        Command::NewLocalKey(args) => new_local_key::run(globals, args),
    }
}

/// Which config: dataId, group, namespace; and where the content comes from and goes to.
#[derive(Debug, clap::Args)]
pub struct Target {
    /// The config's dataId; its prefix picks the scheme (see `mse-auth config --help`).
    #[arg(long, value_name = "ID")]
    pub data_id: String,
    /// The config's group.
    #[arg(long, default_value = "DEFAULT_GROUP")]
    pub group: String,
    /// The namespace (tenant); empty for the public namespace.
    #[arg(long, default_value = "", value_name = "NS")]
    pub namespace: String,
    /// Read the content from this file (`-`: standard input, the default when it is not a terminal);
    /// at most 10 MiB.
    #[arg(long = "in", value_name = "FILE|-")]
    pub input: Option<PathBuf>,
    /// Write to this file (`-`: standard output, the default). A new file gets mode 0600.
    #[arg(long = "out", value_name = "FILE|-")]
    pub output: Option<PathBuf>,
}

/// Where the keys come from: KMS (credentials from the default chain or --profile) or a local key.
#[derive(Debug, clap::Args)]
pub struct Keys {
    /// The KMS key id, alias or ARN that encrypts (decrypting needs no key id).
    #[arg(long, default_value = DEFAULT_KEY_ID, value_name = "ID")]
    pub kms_key_id: String,
    /// The KMS region (endpoint kms.<region>.aliyuncs.com).
    #[arg(long, value_name = "REGION_ID")]
    pub kms_region: Option<String>,
    /// The KMS endpoint, a host or URL (default: ALIBABA_CLOUD_KMS_ENDPOINT, else from --kms-region).
    #[arg(long, value_name = "URL")]
    pub kms_endpoint: Option<String>,
    /// A local key file (Base64 of 32 bytes, from `config new-local-key`) for cipher-gcm- configs;
    /// used instead of KMS to encrypt.
    #[arg(long, value_name = "FILE", requires = "local_key_name")]
    pub local_key_file: Option<PathBuf>,
    /// The local key's name, recorded in (and checked against) the ciphertext.
    #[arg(long, value_name = "NAME", requires = "local_key_file")]
    pub local_key_name: Option<String>,
}

/// `json` (content and encryptedDataKey with the config's coordinates) or `plain` (the content only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object: dataId, group, namespace, scheme, content (and from encrypt,
    /// encryptedDataKey).
    Json,
    /// The content only.
    Plain,
}

/// The scheme's name in JSON output and messages.
pub fn scheme_name(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::KmsAes128 => "kms-aes-128",
        Scheme::KmsAes256 => "kms-aes-256",
        Scheme::KmsDirect => "kms-direct",
        Scheme::NacosAes => "nacos-aes",
        Scheme::Gcm => "gcm",
        _ => "none",
    }
}

/// Logs (at -v) that a dataId without a scheme passes through unchanged, as the library does (for
/// `encrypt`, only with --allow-plain).
pub fn note_passthrough(target: &Target, scheme: Scheme) {
    if !scheme.is_encrypted() {
        tracing::info!(
            data_id = %target.data_id,
            "the dataId has no cipher- scheme prefix: the content passes through unchanged"
        );
    }
}

/// The most `config encrypt|decrypt` read from `--in` or standard input: 10 MiB, the Nacos server's
/// default `maxContent` (its HTTP publish limit; with capacity checks on, a config's default limit is
/// 100 KB). Larger input is refused before it is read to the end.
pub const MAX_INPUT_BYTES: usize = 10 * 1024 * 1024;

fn too_large() -> Box<dyn std::error::Error + Send + Sync> {
    format!(
        "the input is larger than 10 MiB ({MAX_INPUT_BYTES} bytes), the most `config` reads (a \
         Nacos server takes at most 10 MiB by default)"
    )
    .into()
}

/// Reads at most [`MAX_INPUT_BYTES`] from `from` into `bytes`, failing past it.
fn read_bounded(from: impl Read, bytes: &mut Vec<u8>) -> CliResult {
    from.take(MAX_INPUT_BYTES as u64 + 1).read_to_end(bytes)?;
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(too_large());
    }
    Ok(())
}

/// The content from `--in` (or standard input), as UTF-8 text, wiped on drop; at most
/// [`MAX_INPUT_BYTES`].
pub fn read_input(input: Option<&Path>) -> CliResult<Zeroizing<String>> {
    let mut bytes = Zeroizing::new(Vec::new());
    match input {
        Some(path) if path != Path::new("-") => {
            let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
            let file = std::fs::File::open(path).map_err(cannot)?;
            if file
                .metadata()
                .is_ok_and(|m| m.is_file() && m.len() > MAX_INPUT_BYTES as u64)
            {
                return Err(too_large());
            }
            read_bounded(file, &mut bytes).map_err(|e| match e.downcast::<std::io::Error>() {
                Ok(io) => cannot(*io).into(),
                Err(other) => other,
            })?;
        }
        Some(_) => read_bounded(std::io::stdin().lock(), &mut bytes)?,
        None => {
            if std::io::stdin().is_terminal() {
                return Err(
                    "no input: give --in FILE, or pipe the content in (--in - reads the \
                            terminal)"
                        .into(),
                );
            }
            read_bounded(std::io::stdin().lock(), &mut bytes)?;
        }
    }
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_string())),
        Err(_) => Err("the input is not UTF-8 text".into()),
    }
}

/// Refuses a dataId that is empty or has leading or trailing whitespace: the Nacos clients accept
/// only letters, digits and `_-.:` in a dataId, and a stray space also hides the scheme prefix.
pub fn check_data_id_text(data_id: &str) -> CliResult {
    let trimmed = data_id.trim();
    if trimmed.is_empty() {
        return Err("the dataId is empty: give --data-id".into());
    }
    if trimmed != data_id {
        return Err(format!(
            "the dataId `{data_id}` has leading or trailing whitespace, which Nacos does not \
             accept in a dataId (did you mean `{trimmed}`?)"
        )
        .into());
    }
    Ok(())
}

/// The scheme `data_id` selects for encrypting, after the checks of `config encrypt`: whitespace
/// refused; a dataId that selects no scheme refused unless `allow_plain`; a `cipher-…` dataId that
/// looks like a mistyped envelope, GCM or AES prefix refused unless `allow_near_miss`.
pub fn check_encryptable(
    data_id: &str,
    allow_plain: bool,
    allow_near_miss: bool,
) -> CliResult<Scheme> {
    check_data_id_text(data_id)?;
    let scheme = Scheme::for_data_id(data_id);
    if !scheme.is_encrypted() && !allow_plain {
        return Err(format!(
            "the dataId `{}` selects no encryption scheme {}; pass --allow-plain to store it \
             unencrypted",
            data_id,
            no_scheme_reason(data_id)
        )
        .into());
    }
    if let (true, Some(meant)) = (scheme.is_encrypted(), Scheme::near_miss(data_id)) {
        // Only a `cipher-…` dataId of the direct-KMS catch-all can be a near miss and selected.
        if !allow_near_miss {
            return Err(format!(
                "the dataId `{}` selects direct KMS encryption (any other `cipher-…`), but looks \
                 like a mistyped `{meant}`: fix the dataId, or pass --allow-near-miss to encrypt \
                 it with direct KMS",
                data_id
            )
            .into());
        }
    }
    Ok(scheme)
}

/// Why `data_id` selects no scheme, for a message: `(did you mean `cipher-`?)` for a near miss.
pub fn no_scheme_reason(data_id: &str) -> String {
    if data_id == CIPHER_PREFIX {
        return "(a cipher- dataId needs a name after the prefix, e.g. `cipher-db.yaml`)".into();
    }
    match Scheme::near_miss(data_id) {
        Some(meant) => format!("(did you mean `{meant}`?)"),
        None => "(encrypted dataIds start with cipher-kms-aes-256-, cipher-kms-aes-128-, \
                 cipher-gcm-, cipher-aes- or cipher-)"
            .into(),
    }
}

/// Writes `text` to `--out` (or standard output). A file is created with mode 0600, or truncated.
pub fn write_output(output: Option<&Path>, text: &str) -> CliResult {
    match output {
        Some(path) if path != Path::new("-") => {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            file.write_all(text.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(())
}

/// The local key from `--local-key-file` and `--local-key-name`, if given.
pub fn local_key(keys: &Keys) -> CliResult<Option<LocalKey>> {
    let (Some(file), Some(name)) = (&keys.local_key_file, &keys.local_key_name) else {
        return Ok(None);
    };
    read_local_key(file, name).map(Some)
}

/// The local key in `file` (Base64 of 32 bytes, from `config new-local-key`), named `name`.
pub fn read_local_key(file: &Path, name: &str) -> CliResult<LocalKey> {
    let text = Zeroizing::new(
        std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read the local key file {}: {e}", file.display()))?,
    );
    let key = LocalKey::from_base64(name.to_string(), &text)
        .map_err(|e| format!("the local key file {}: {e}", file.display()))?;
    Ok(key)
}

/// Whether a KMS endpoint is given: `--kms-region`, `--kms-endpoint`, `ALIBABA_CLOUD_KMS_ENDPOINT`
/// or `ALIBABA_CLOUD_KMS_REGION`.
pub fn kms_configured(keys: &Keys) -> bool {
    let env = Env::real();
    let set = |name: &str| env.get(name).is_some_and(|v| !v.trim().is_empty());
    keys.kms_region.is_some()
        || keys.kms_endpoint.is_some()
        || set(vars::KMS_ENDPOINT)
        || set(vars::KMS_REGION)
}

/// The KMS data key service: `--kms-*` flags, credentials from the default chain (or `--profile`).
pub fn kms(globals: &Globals, keys: &Keys) -> CliResult<Arc<KmsDataKeys>> {
    if !kms_configured(keys) {
        return Err(format!(
            "no KMS endpoint: give --kms-region or --kms-endpoint, or set {} or {}",
            vars::KMS_ENDPOINT,
            vars::KMS_REGION
        )
        .into());
    }
    let mut builder = KmsClient::builder()
        .credentials(globals.chain().build())
        .context(globals.context());
    if let Some(region) = &keys.kms_region {
        builder = builder.region(region.clone());
    }
    if let Some(endpoint) = &keys.kms_endpoint {
        builder = builder.endpoint(endpoint.clone());
    }
    let client = builder.build()?;
    Ok(Arc::new(
        KmsDataKeys::new(client).key_id(keys.kms_key_id.clone()),
    ))
}

/// What a run needs KMS for.
pub enum Op<'a> {
    /// Encrypting `content`.
    Encrypt(&'a str),
    /// Decrypting `content`.
    Decrypt(&'a str),
}

/// A cipher with only what `scheme` needs for `op`: KMS only when it will be called, so a local-key
/// `cipher-gcm-` or a `cipher-aes-` config needs no KMS settings or credentials.
pub fn cipher(
    globals: &Globals,
    keys: &Keys,
    scheme: Scheme,
    op: Op<'_>,
) -> CliResult<ConfigCipher> {
    let local = local_key(keys)?;
    let content = match op {
        Op::Encrypt(c) | Op::Decrypt(c) => c,
    };
    let needs_kms = !content.trim().is_empty()
        && match (scheme, op) {
            (Scheme::Gcm, Op::Encrypt(_)) => local.is_none(),
            (Scheme::Gcm, Op::Decrypt(text)) => gcm::Sealed::parse(text)
                .is_ok_and(|sealed| sealed.wrapped_key().source == KeySource::Kms),
            _ => scheme.needs_kms(),
        };
    let mut builder = ConfigCipher::builder();
    if let Some(local) = local {
        builder = builder.local_key(local);
    }
    if needs_kms {
        builder = builder.data_key_service(kms(globals, keys)?);
    }
    Ok(builder.build())
}
