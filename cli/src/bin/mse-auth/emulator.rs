//! `mse-auth emulator`: run the local cloud emulator and print how to point clients at it.

use crate::common::{random_alphanumeric, shell_quote, shutdown_signal, CliResult, Globals};
use clap::ValueEnum;
use mse_auth_emulator::{Emulator, Endpoint};
use mse_auth_providers::kms_data_keys::DEFAULT_KEY_ID;
use mse_auth_providers::vars;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The demo AccessKey the emulator's STS accepts: a throwaway secret of the emulator.
pub const DEMO_ACCESS_KEY_ID: &str = "LTAI5tEmulatorDemoKey";
/// The demo AccessKey's secret (it works nowhere but in the emulator).
pub const DEMO_ACCESS_KEY_SECRET: &str = "emulator-demo-secret";
/// The OIDC token `AssumeRoleWithOIDC` accepts (the token file holds it).
pub const DEMO_OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.emulator-demo.token";
/// The role ARN printed for `AssumeRole` and `AssumeRoleWithOIDC`. The emulator's STS accepts any
/// well-formed `acs:ram::<digits>:role/<name>`; this is one.
pub const DEMO_ROLE_ARN: &str = "acs:ram::123456789012:role/demo";
/// The OIDC provider ARN printed for `AssumeRoleWithOIDC`. The emulator's STS accepts any
/// `acs:ram::…:oidc-provider/…`; this is one.
pub const DEMO_OIDC_PROVIDER_ARN: &str = "acs:ram::123456789012:oidc-provider/demo";
/// The ECS RAM role the metadata service reports.
pub const DEMO_ROLE: &str = "EmulatorDemoRole";
/// The KMS master key the emulator creates: the key `mse-auth config` encrypts with by default.
pub const DEMO_KMS_KEY_ID: &str = DEFAULT_KEY_ID;
/// The KMS secret of type RAMCredentials the emulator serves (`GetSecretValue`).
pub const DEMO_SECRET_NAME: &str = "emulator-demo-ram-ak";
/// The AccessKey in [`DEMO_SECRET_NAME`]: the emulator's STS and KMS accept it too.
const DEMO_SECRET_ACCESS_KEY_ID: &str = "LTAI5tEmulatorKmsKey";
/// Its secret (never printed; `GetSecretValue` hands it out).
const DEMO_SECRET_ACCESS_KEY_SECRET: &str = "emulator-kms-rotated-secret";
/// The `RotationInterval` of [`DEMO_SECRET_NAME`].
const DEMO_SECRET_ROTATION: Duration = Duration::from_secs(24 * 3600);
/// The file name of the OIDC token, inside the emulator's private directory.
const TOKEN_FILE_NAME: &str = "oidc-token";
/// The file name of the demo CLI config (CloudSSO and OAuth profiles), in the same directory.
const CLI_CONFIG_NAME: &str = "config.json";
/// The CloudSSO access token of the demo profile `sso` (valid for a day from the start).
const DEMO_CLOUD_SSO_TOKEN: &str = "emulator-demo-cloud-sso-access-token";
/// The CloudSSO account and access configuration of the demo profile.
const DEMO_CLOUD_SSO_ACCOUNT: &str = "1234567890123456";
const DEMO_CLOUD_SSO_ACCESS_CONFIG: &str = "ac-emulatordemo";
/// The OAuth refresh token of the demo profile `oauth` (spent at its first use; the emulator then
/// writes the rotated tokens into the demo config, as the CLI would).
const DEMO_OAUTH_REFRESH_TOKEN: &str = "emulator-demo-oauth-refresh-token";

/// Run the local cloud emulator (STS, ECS instance metadata, a credentials URI, KMS, CloudSSO, OAuth,
/// Nacos login) on 127.0.0.1 until
/// Ctrl-C or SIGTERM, and print the environment variables that point a client at it.
///
/// The exports come in groups, one per auth mode, each headed by the `mse-auth credentials
/// --provider …` that reaches it; pasted whole, `mse-auth credentials` answers from the first mode
/// of the default chain.
///
/// It writes the OIDC token its AssumeRoleWithOIDC accepts to a file in a private temporary directory
/// (mode 0600), and beside it a CLI config.json with a CloudSSO profile (`sso`, the current one) and
/// an OAuth profile (`oauth`) that sign in at the emulator; it removes both when it stops. Its KMS serves a RAMCredentials secret whose AccessKey
/// its STS and KMS accept, and has a master key with the id `mse-auth config` encrypts with by
/// default (alias/acs/mse), so `config encrypt|decrypt` work against it with the printed exports and
/// no further flags.
///
/// The printed demo AccessKey is a throwaway secret that only the emulator knows; it is printed on
/// purpose, as the source credential for AssumeRole against the emulator. Every credential the
/// emulator issues is fake and short-lived.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  # prints export lines, runs until Ctrl-C:
  mse-auth emulator
  # issue credentials that expire after 60 s:
  mse-auth emulator --lifetime 60
  mse-auth emulator --format json
  # paste the export lines into another shell, then ask one mode:
  mse-auth credentials --provider oidc_role_arn
  # or use the emulator's KMS:
  mse-auth config encrypt --data-id cipher-kms-aes-256-db.yaml --in db.yaml")]
pub struct Args {
    /// Lifetime of every credential issued, in seconds (default: the requested DurationSeconds for
    /// STS, 3600 otherwise).
    #[arg(long, value_name = "SECONDS")]
    pub lifetime: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Env)]
    pub format: Format,
}

/// How `emulator` prints its endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `export NAME=value` lines for a POSIX shell, grouped by auth mode.
    Env,
    /// One JSON object on one line.
    Json,
}

/// The OIDC token file in a private directory of its own; both are removed on drop.
#[derive(Debug)]
struct TokenFile {
    dir: PathBuf,
    path: PathBuf,
}

impl TokenFile {
    /// Creates a fresh directory (mode 0700) under the temporary directory and `token` in it (mode
    /// 0600). Neither may exist before: nothing another user prepared is ever written through.
    fn create(token: &str) -> CliResult<TokenFile> {
        let base = std::env::temp_dir();
        let mut last_error = None;
        for _ in 0..8 {
            let dir = base.join(format!("mse-auth-emu-{}", random_alphanumeric(10)?));
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            match builder.create(&dir) {
                Ok(()) => {
                    let file = TokenFile {
                        path: dir.join(TOKEN_FILE_NAME),
                        dir,
                    };
                    file.write(token)?;
                    return Ok(file);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_error = Some(e),
                Err(e) => return Err(cannot_create(&dir, &e)),
            }
        }
        let e = last_error.unwrap_or_else(|| std::io::ErrorKind::AlreadyExists.into());
        Err(cannot_create(&base, &e))
    }

    /// Writes the token as it is, without a newline: clients send the file's content verbatim.
    fn write(&self, token: &str) -> CliResult {
        write_private(&self.path, token)
    }

    /// Writes another private file (mode 0600) named `name` into the directory.
    fn add(&self, name: &str, content: &str) -> CliResult<PathBuf> {
        let path = self.dir.join(name);
        write_private(&path, content)?;
        Ok(path)
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TokenFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Creates `path` (it must not exist) with mode 0600 and `content`.
fn write_private(path: &Path, content: &str) -> CliResult {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut file| file.write_all(content.as_bytes()))
        .map_err(|e| cannot_create(path, &e))
}

fn cannot_create(path: &Path, e: &std::io::Error) -> Box<dyn std::error::Error + Send + Sync> {
    format!(
        "cannot create the emulator's private file in {}: {e}",
        path.display()
    )
    .into()
}

/// The demo CLI config: a CloudSSO profile `sso` (the current one) and an OAuth profile `oauth`,
/// both signing in at the emulator.
fn demo_cli_config(emulator: &Emulator) -> String {
    let expire = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        + 24 * 3600;
    let config = json!({
        "current": "sso",
        "profiles": [
            {
                "name": "sso",
                "mode": "CloudSSO",
                "cloud_sso_sign_in_url": emulator.cloud_sso_sign_in_url(),
                "cloud_sso_account_id": DEMO_CLOUD_SSO_ACCOUNT,
                "cloud_sso_access_config": DEMO_CLOUD_SSO_ACCESS_CONFIG,
                "access_token": DEMO_CLOUD_SSO_TOKEN,
                "cloud_sso_access_token_expire": expire,
            },
            {
                "name": "oauth",
                "mode": "OAuth",
                "oauth_site_type": "CN",
                "oauth_refresh_token": DEMO_OAUTH_REFRESH_TOKEN,
            },
        ],
    });
    format!("{config:#}\n")
}

/// `value` as one shell word: bare when it has no character a shell treats specially.
fn shell_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._:@%+=,-".contains(&b));
    if plain {
        value.to_owned()
    } else {
        shell_quote(value)
    }
}

/// One auth mode of the printed menu: a comment line and the variables it adds.
struct Group {
    comment: String,
    exports: Vec<(&'static str, String)>,
}

/// The menu, in the default chain's order; each group names the `--provider` that reaches it.
fn groups(emulator: &Emulator, token_file: &Path, cli_config: &Path) -> Vec<Group> {
    let group = |comment: String, exports: Vec<(&'static str, String)>| Group { comment, exports };
    vec![
        group(
            "# static AccessKey, a throwaway its STS and KMS accept: --provider env".into(),
            vec![
                (vars::ACCESS_KEY_ID, DEMO_ACCESS_KEY_ID.into()),
                (vars::ACCESS_KEY_SECRET, DEMO_ACCESS_KEY_SECRET.into()),
            ],
        ),
        group(
            "# KMS-rotated AccessKey in a KMS secret: --provider kms_rotating".into(),
            vec![
                (vars::KMS_ENDPOINT, emulator.kms_endpoint()),
                (vars::SECRET_NAME, DEMO_SECRET_NAME.into()),
            ],
        ),
        group(
            "# OIDC role ARN, the file holds the token it accepts: --provider oidc_role_arn".into(),
            vec![
                (vars::STS_ENDPOINT, emulator.sts_endpoint()),
                (vars::ROLE_ARN, DEMO_ROLE_ARN.into()),
                (vars::OIDC_PROVIDER_ARN, DEMO_OIDC_PROVIDER_ARN.into()),
                (vars::OIDC_TOKEN_FILE, token_file.display().to_string()),
            ],
        ),
        group(
            "# CloudSSO and OAuth profiles in a CLI config: --provider cli_profile\n\
             #   (sso is the current one; ALIBABA_CLOUD_PROFILE=oauth picks OAuth)"
                .into(),
            vec![
                (vars::CONFIG_FILE, cli_config.display().to_string()),
                (vars::OAUTH_ENDPOINT, emulator.oauth_endpoint()),
            ],
        ),
        group(
            "# RAM role ARN: the key and role above in an ini profile: --provider profile".into(),
            Vec::new(),
        ),
        group(
            format!("# ECS RAM role {DEMO_ROLE} (instance metadata): --provider ecs_ram_role"),
            vec![(
                vars::ECS_METADATA_ENDPOINT,
                emulator.ecs_metadata_endpoint(),
            )],
        ),
        group(
            "# credentials URI: --provider credentials_uri".into(),
            vec![(vars::CREDENTIALS_URI, emulator.credentials_uri())],
        ),
    ]
}

/// Runs `mse-auth emulator`.
pub async fn run(_globals: &Globals, args: Args) -> CliResult {
    // Handlers first: a signal at any point from here on stops it gracefully, removing the token file.
    let shutdown = shutdown_signal();
    let emulator = Emulator::start()
        .await
        .map_err(|e| format!("cannot start the emulator on 127.0.0.1: {e}"))?;
    let token_file = TokenFile::create(DEMO_OIDC_TOKEN)?;
    emulator.add_access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET);
    emulator.set_oidc_token(DEMO_OIDC_TOKEN);
    emulator.set_imds_role(DEMO_ROLE);
    emulator.kms_create_key(DEMO_KMS_KEY_ID);
    emulator.kms_put_ram_secret(
        DEMO_SECRET_NAME,
        DEMO_SECRET_ACCESS_KEY_ID,
        DEMO_SECRET_ACCESS_KEY_SECRET,
        DEMO_SECRET_ROTATION,
        SystemTime::now() + DEMO_SECRET_ROTATION,
    );
    emulator.cloud_sso_add_access_token(
        DEMO_CLOUD_SSO_TOKEN,
        SystemTime::now() + Duration::from_secs(24 * 3600),
        DEMO_CLOUD_SSO_ACCOUNT,
        DEMO_CLOUD_SSO_ACCESS_CONFIG,
    );
    emulator.oauth_add_refresh_token(DEMO_OAUTH_REFRESH_TOKEN);
    let cli_config = token_file.add(CLI_CONFIG_NAME, &demo_cli_config(&emulator))?;
    if let Some(seconds) = args.lifetime {
        emulator.set_credential_lifetime(Duration::from_secs(seconds));
    }
    let groups = groups(&emulator, token_file.path(), &cli_config);
    match args.format {
        Format::Env => {
            println!(
                "# mse-auth local cloud emulator at {}; Ctrl-C stops it",
                emulator.base_url()
            );
            println!(
                "# Paste it all: `mse-auth credentials` answers from the default chain's first"
            );
            println!(
                "# configured mode, `mse-auth credentials --provider NAME` from the mode named:"
            );
            for group in &groups {
                println!("{}", group.comment);
                for (name, value) in &group.exports {
                    println!("export {name}={}", shell_word(value));
                }
            }
            println!(
                "# KMS master key {DEMO_KMS_KEY_ID} (the default of `mse-auth config --kms-key-id`)"
            );
        }
        Format::Json => {
            let mut value = json!({
                "base_url": emulator.base_url(),
                "oidc_token": DEMO_OIDC_TOKEN,
                "ecs_role": DEMO_ROLE,
                "kms_key_id": DEMO_KMS_KEY_ID,
            });
            for (name, v) in groups.iter().flat_map(|g| &g.exports) {
                value[*name] = json!(v);
            }
            println!("{value}");
        }
    }
    shutdown.await;
    drop(token_file);
    eprintln!("mse-auth: emulator stopping; calls received:");
    for endpoint in [
        Endpoint::AssumeRole,
        Endpoint::AssumeRoleWithOidc,
        Endpoint::ImdsToken,
        Endpoint::ImdsRole,
        Endpoint::ImdsCredentials,
        Endpoint::CredentialsUri,
        Endpoint::KmsGetSecretValue,
        Endpoint::KmsGenerateDataKey,
        Endpoint::KmsEncrypt,
        Endpoint::KmsDecrypt,
        Endpoint::CloudSsoCredentials,
        Endpoint::OAuthToken,
        Endpoint::OAuthExchange,
        Endpoint::NacosLogin,
        Endpoint::NacosGetConfig,
    ] {
        eprintln!("  {endpoint:?}: {}", emulator.calls(endpoint));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_bare_unless_a_shell_would_split_them() {
        assert_eq!(
            shell_word("http://127.0.0.1:1/credentials/aB9"),
            "http://127.0.0.1:1/credentials/aB9"
        );
        assert_eq!(shell_word(DEMO_OIDC_PROVIDER_ARN), DEMO_OIDC_PROVIDER_ARN);
        assert_eq!(shell_word("/tmp/my dir/t"), "'/tmp/my dir/t'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word("$HOME"), "'$HOME'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn the_token_file_is_private_and_removed_on_drop() {
        let file = TokenFile::create("sentinel-token").unwrap();
        let path = file.path().to_path_buf();
        let dir = path.parent().unwrap().to_path_buf();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "sentinel-token");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&dir), 0o700);
        }
        drop(file);
        assert!(!dir.exists(), "{} is still there", dir.display());
    }
}
