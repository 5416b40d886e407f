//! The Alibaba Cloud CLI's `~/.aliyun/config.json`. Provider name `cli_profile`; credentials report
//! `cli_profile/<inner>`, e.g. `cli_profile/ram_role_arn/static_ak`.
//!
//! Reads `ALIBABA_CLOUD_CONFIG_FILE` (the file's path) and `ALIBABA_CLOUD_PROFILE` (the profile; default:
//! the file's `current`). Modes (spec §11.4):
//!
//! | `mode` | fields |
//! |---|---|
//! | `AK` | `access_key_id`, `access_key_secret` |
//! | `StsToken` | + `sts_token` |
//! | `RamRoleArn` | `access_key_id`, `access_key_secret`, `ram_role_arn`, optional `ram_session_name`, `expired_seconds`, `policy`, `external_id`, `sts_region`, `enable_vpc` |
//! | `ChainableRamRoleArn` | `source_profile` (any mode; cycles are reported) + the RamRoleArn role fields |
//! | `EcsRamRole` | optional `ram_role_name` |
//! | `OIDC` | `ram_role_arn`, `oidc_provider_arn`, `oidc_token_file`, optional `ram_session_name`, `expired_seconds`, `policy`, `sts_region`, `enable_vpc` |
//! | `CredentialsURI` | `credentials_uri` |
//! | `CloudSSO` | `cloud_sso_sign_in_url`, `cloud_sso_account_id`, `cloud_sso_access_config`, `access_token`, `cloud_sso_access_token_expire` ([`CloudSsoProvider`](crate::CloudSsoProvider)) |
//! | `OAuth` | optional `oauth_site_type` (`CN`, the default, or `INTL`), `oauth_access_token`, `oauth_access_token_expire`, `oauth_refresh_token` (an access or a refresh token), optional `access_key_id`, `access_key_secret`, `sts_token`, `sts_expiration` (the last exchange's STS credentials) ([`OAuthProvider`](crate::OAuthProvider)) |
//! | `External` | `process_command`: a command printing credentials as JSON, run without a shell ([`ExternalProcessProvider`](crate::ExternalProcessProvider)); unlike the official clients, what it prints is never written back into the file |
//!
//! No file at `~/.aliyun/config.json`, or a file without profiles →
//! [`NotLoaded`](mse_auth::ErrorKind::NotLoaded). A file named by `ALIBABA_CLOUD_CONFIG_FILE` or
//! [`Builder::path`] that is missing, any file larger than 1 MiB ([`PROFILE_FILE_LIMIT`]) or not
//! UTF-8, invalid JSON, an unknown mode, a missing field, a field holding a control character (tab,
//! newline, NUL, ESC …; `policy` excepted) or a `source_profile` cycle →
//! [`InvalidConfiguration`](mse_auth::ErrorKind::InvalidConfiguration) naming the variable or file, the
//! profile and the problem, never a value. The default chain skips this provider when
//! `ALIBABA_CLOUD_CLI_PROFILE_DISABLED` is true (a boolean: `true`/`1`/`yes`/`on` …).
//!
//! The file is written only for an `OAuth` profile (the selected one or one it links to through
//! `source_profile`): after a token refresh or an exchange, the new tokens and STS credentials go back
//! into that profile's seven keys, as the official clients do, leaving every other profile and key as
//! it was ([`oauth`](crate::oauth) has the details).
//!
//! ```no_run
//! use mse_auth_providers::{CliProfileProvider, CredentialsProvider};
//! # async fn demo() -> Result<(), mse_auth_providers::CredentialsError> {
//! let creds = CliProfileProvider::builder().profile("prod").build().provide_credentials().await?;
//! println!("{}", creds.provider_path()); // e.g. cli_profile/ram_role_arn/static_ak
//! # Ok(()) }
//! ```

use crate::context::Context;
use crate::oauth::OAuthSite;
use crate::profile_mode::{Mode, OAuthSettings, RoleSettings};
use mse_auth::error::escape_untrusted;
use mse_auth::os::PROFILE_FILE_LIMIT;
use mse_auth::{
    vars, Credentials, CredentialsError, CredentialsProvider, ProvideCredentials, Result,
    SharedCredentialsProvider,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::OnceCell;
use zeroize::Zeroizing;

/// Provider name reported in credential paths.
pub const NAME: &str = "cli_profile";

/// Credentials from a profile of the CLI's `config.json`.
#[derive(Debug)]
pub struct CliProfileProvider {
    ctx: Context,
    path: Option<PathBuf>,
    profile: Option<String>,
    inner: OnceCell<SharedCredentialsProvider>,
}

/// Settings of a [`CliProfileProvider`].
#[derive(Debug, Default)]
pub struct Builder {
    ctx: Option<Context>,
    path: Option<PathBuf>,
    profile: Option<String>,
}

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    current: Option<String>,
    #[serde(default)]
    profiles: Vec<Profile>,
}

/// One profile; unknown keys are ignored. Holds secrets: deliberately not `Debug`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Profile {
    name: String,
    mode: String,
    access_key_id: String,
    access_key_secret: String,
    sts_token: String,
    ram_role_arn: String,
    ram_session_name: String,
    expired_seconds: u64,
    sts_region: String,
    enable_vpc: bool,
    source_profile: String,
    ram_role_name: String,
    oidc_token_file: String,
    oidc_provider_arn: String,
    policy: String,
    external_id: String,
    credentials_uri: String,
    // CloudSSO (spec §10).
    cloud_sso_sign_in_url: String,
    cloud_sso_account_id: String,
    cloud_sso_access_config: String,
    access_token: String,
    cloud_sso_access_token_expire: u64,
    // OAuth (spec §10); the STS credentials it persists are `access_key_id`, `access_key_secret`,
    // `sts_token` and `sts_expiration`.
    oauth_site_type: String,
    oauth_access_token: String,
    oauth_access_token_expire: u64,
    oauth_refresh_token: String,
    sts_expiration: u64,
    process_command: String,
}

/// Longest text from the file or the environment quoted in a message (escaped).
const MAX_SHOWN: usize = 64;

fn some(v: &str) -> Option<String> {
    Some(v.trim()).filter(|v| !v.is_empty()).map(str::to_string)
}

impl CliProfileProvider {
    /// Settings; by default the file and profile come from the environment.
    pub fn builder() -> Builder {
        Builder::default()
    }

    async fn load(&self) -> Result<Credentials> {
        crate::profile_mode::serve(&self.inner, NAME, || self.resolve()).await
    }

    /// The file to read, and what named it (`None` for the default path, which may be absent).
    fn path(&self) -> Result<(PathBuf, Option<&'static str>)> {
        let env = self.ctx.env();
        if let Some(path) = &self.path {
            return Ok((path.clone(), Some("the configured path")));
        }
        let named = env
            .get_checked(vars::CONFIG_FILE)
            .map_err(|e| e.invalid_configuration(NAME))?;
        if let Some(path) = named {
            return Ok((PathBuf::from(path), Some(vars::CONFIG_FILE)));
        }
        env.home_dir()
            .map(|home| (home.join(".aliyun").join("config.json"), None))
            .ok_or_else(|| {
                CredentialsError::not_loaded(NAME, "no home directory (HOME is not set)")
            })
    }

    pub(crate) fn resolve(&self) -> Result<SharedCredentialsProvider> {
        let (path, named_by) = self.path()?;
        let shown = path.display().to_string();
        let from = named_by.map_or_else(String::new, |by| format!(" (from {by})"));
        let text = match self
            .ctx
            .fs()
            .read_to_string_limited(&path, PROFILE_FILE_LIMIT)
        {
            Ok(text) => Zeroizing::new(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && named_by.is_none() => {
                return Err(CredentialsError::not_loaded(
                    NAME,
                    format!("no CLI config at {shown}"),
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CredentialsError::invalid_configuration(
                    NAME,
                    format!("the CLI config {shown}{from} does not exist"),
                ))
            }
            Err(e) => {
                return Err(CredentialsError::invalid_configuration(
                    NAME,
                    format!("the CLI config {shown}{from} cannot be read: {e}"),
                ))
            }
        };
        let config: ConfigFile = serde_json::from_str(&text).map_err(|e| {
            // serde's type errors quote the value, which may be a secret: say only where.
            let problem = match e.classify() {
                serde_json::error::Category::Data => format!(
                    "a field has the wrong type (line {}, column {})",
                    e.line(),
                    e.column()
                ),
                _ => e.to_string(),
            };
            CredentialsError::invalid_configuration(
                NAME,
                format!("{shown} is not a valid CLI config: {problem}"),
            )
        })?;
        if config.profiles.is_empty() {
            return Err(CredentialsError::not_loaded(
                NAME,
                format!("{shown} has no profiles"),
            ));
        }
        let from_env = match &self.profile {
            Some(_) => None,
            None => self
                .ctx
                .env()
                .get_checked(vars::PROFILE)
                .map_err(|e| e.invalid_configuration(NAME))?,
        };
        let name = self
            .profile
            .clone()
            .or(from_env)
            .or_else(|| config.current.clone().filter(|c| !c.is_empty()))
            .unwrap_or_else(|| "default".to_string());
        let mut visited = Vec::new();
        mode_of(&config, &name, &path, &mut visited)?
            .build(&self.ctx)
            .map_err(|e| {
                CredentialsError::invalid_configuration(
                    NAME,
                    format!(
                        "{shown}, profile `{}`: {}",
                        escape_untrusted(&name, MAX_SHOWN),
                        e.message()
                    ),
                )
            })
    }
}

/// The mode of profile `name`, following `source_profile` links; `visited` detects cycles.
fn mode_of(
    config: &ConfigFile,
    name: &str,
    path: &Path,
    visited: &mut Vec<String>,
) -> Result<Mode> {
    let shown_name = escape_untrusted(name, MAX_SHOWN);
    let bad = |problem: String| {
        CredentialsError::invalid_configuration(
            NAME,
            format!("{}, profile `{shown_name}`: {problem}", path.display()),
        )
    };
    if visited.iter().any(|v| v == name) {
        visited.push(name.to_string());
        let cycle: Vec<String> = visited
            .iter()
            .map(|v| escape_untrusted(v, MAX_SHOWN))
            .collect();
        return Err(bad(format!("source_profile cycle: {}", cycle.join(" -> "))));
    }
    visited.push(name.to_string());
    let Some(p) = config.profiles.iter().find(|p| p.name == name) else {
        return Err(CredentialsError::invalid_configuration(
            NAME,
            format!("{} has no profile named `{shown_name}`", path.display()),
        ));
    };
    let mode = escape_untrusted(&p.mode, MAX_SHOWN);
    // A field's trimmed value; a control character in it is an error naming the field.
    let text = |value: &str, field: &str| -> Result<Option<String>> {
        if value.chars().any(char::is_control) {
            return Err(bad(format!(
                "`{field}` holds a control character (a tab, a newline, NUL, ESC or another)"
            )));
        }
        Ok(some(value))
    };
    let need = |value: &str, field: &str| {
        text(value, field)?.ok_or_else(|| bad(format!("mode `{mode}` needs `{field}`")))
    };
    let role = || -> Result<RoleSettings> {
        Ok(RoleSettings {
            role_arn: need(&p.ram_role_arn, "ram_role_arn")?,
            session_name: text(&p.ram_session_name, "ram_session_name")?,
            // 0 means "not set" in files the CLI writes.
            duration: (p.expired_seconds > 0).then(|| Duration::from_secs(p.expired_seconds)),
            // A JSON policy may be laid out with newlines and tabs; it is never shown.
            policy: some(&p.policy),
            external_id: text(&p.external_id, "external_id")?,
            sts_region: text(&p.sts_region, "sts_region")?,
            vpc: p.enable_vpc.then_some(true),
        })
    };
    let access_key = || -> Result<Mode> {
        Ok(Mode::AccessKey {
            id: need(&p.access_key_id, "access_key_id")?,
            secret: need(&p.access_key_secret, "access_key_secret")?,
        })
    };
    Ok(match p.mode.as_str() {
        "AK" => access_key()?,
        "StsToken" => Mode::StsToken {
            id: need(&p.access_key_id, "access_key_id")?,
            secret: need(&p.access_key_secret, "access_key_secret")?,
            token: need(&p.sts_token, "sts_token")?,
        },
        "RamRoleArn" => Mode::RamRoleArn {
            source: Box::new(access_key()?),
            role: role()?,
        },
        "ChainableRamRoleArn" => {
            let source = need(&p.source_profile, "source_profile")?;
            let source = mode_of(config, &source, path, visited)?;
            Mode::RamRoleArn {
                source: Box::new(source),
                role: role()?,
            }
        }
        "EcsRamRole" => Mode::EcsRamRole {
            role_name: text(&p.ram_role_name, "ram_role_name")?,
        },
        "OIDC" => Mode::Oidc {
            role: role()?,
            provider_arn: need(&p.oidc_provider_arn, "oidc_provider_arn")?,
            token_file: PathBuf::from(need(&p.oidc_token_file, "oidc_token_file")?),
        },
        "CredentialsURI" => Mode::CredentialsUri {
            uri: need(&p.credentials_uri, "credentials_uri")?,
        },
        "CloudSSO" => Mode::CloudSso {
            sign_in_url: need(&p.cloud_sso_sign_in_url, "cloud_sso_sign_in_url")?,
            account_id: need(&p.cloud_sso_account_id, "cloud_sso_account_id")?,
            access_config: need(&p.cloud_sso_access_config, "cloud_sso_access_config")?,
            access_token: text(&p.access_token, "access_token")?,
            expires: p.cloud_sso_access_token_expire,
        },
        "OAuth" => {
            let site = match text(&p.oauth_site_type, "oauth_site_type")? {
                None => OAuthSite::Cn,
                Some(v) => OAuthSite::from_name(&v).ok_or_else(|| {
                    bad(format!(
                        "`oauth_site_type` must be CN or INTL (in any case), not `{}`",
                        escape_untrusted(&v, MAX_SHOWN)
                    ))
                })?,
            };
            let sts = match (
                text(&p.access_key_id, "access_key_id")?,
                text(&p.access_key_secret, "access_key_secret")?,
                text(&p.sts_token, "sts_token")?,
            ) {
                (Some(id), Some(secret), Some(token)) if p.sts_expiration > 0 => {
                    Some((id, secret, token, p.sts_expiration))
                }
                _ => None,
            };
            Mode::OAuth(OAuthSettings {
                site,
                access_token: text(&p.oauth_access_token, "oauth_access_token")?,
                access_token_expire: p.oauth_access_token_expire,
                refresh_token: text(&p.oauth_refresh_token, "oauth_refresh_token")?,
                sts,
                write_back: Some((path.to_path_buf(), name.to_owned())),
            })
        }
        // Not `need`: a command may span lines (backslash-newline) and keeps its spaces; never shown.
        "External" if !p.process_command.trim().is_empty() => Mode::External {
            command: p.process_command.clone(),
            origin: format!("{}, profile `{shown_name}`", path.display()),
        },
        "External" => return Err(bad(format!("mode `{mode}` needs `process_command`"))),
        _ => {
            return Err(bad(format!(
                "unsupported mode `{mode}` (use AK, StsToken, RamRoleArn, ChainableRamRoleArn, EcsRamRole, OIDC, CredentialsURI, CloudSSO, OAuth or External)"
            )))
        }
    })
}

impl CredentialsProvider for CliProfileProvider {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        ProvideCredentials::boxed(self.load())
    }
}

impl Builder {
    /// The file to read (default: `ALIBABA_CLOUD_CONFIG_FILE`, else `~/.aliyun/config.json`).
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The profile to use (default: `ALIBABA_CLOUD_PROFILE`, else the file's `current`).
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// The context (environment, files, clock, HTTP).
    pub fn context(mut self, ctx: Context) -> Self {
        self.ctx = Some(ctx);
        self
    }

    /// The provider. Nothing is read until the first call.
    pub fn build(self) -> CliProfileProvider {
        CliProfileProvider {
            ctx: self.ctx.unwrap_or_default(),
            path: self.path,
            profile: self.profile,
            inner: OnceCell::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mse_auth::os::{Env, Fs};
    use mse_auth::ErrorKind;

    fn provider(env: &[(&str, &str)], config: &str) -> CliProfileProvider {
        let ctx = Context::default()
            .with_env(Env::from_pairs(
                env.iter().copied().chain([("HOME", "/home/me")]),
            ))
            .with_fs(Fs::from_pairs([("/home/me/.aliyun/config.json", config)]));
        CliProfileProvider::builder().context(ctx).build()
    }

    const CONFIG: &str = r#"{
      "current": "ak",
      "profiles": [
        {"name": "ak", "mode": "AK", "access_key_id": "LTAI5tCli", "access_key_secret": "cli-secret", "region_id": "cn-hangzhou", "unknown_key": 1},
        {"name": "sts", "mode": "StsToken", "access_key_id": "STS.cli", "access_key_secret": "s", "sts_token": "tok"},
        {"name": "loop-a", "mode": "ChainableRamRoleArn", "source_profile": "loop-b", "ram_role_arn": "acs:ram::1:role/a"},
        {"name": "loop-b", "mode": "ChainableRamRoleArn", "source_profile": "loop-a", "ram_role_arn": "acs:ram::1:role/b"},
        {"name": "weird", "mode": "Plugin", "process_command": "x"},
        {"name": "half", "mode": "AK", "access_key_id": "LTAI5tHalf", "access_key_secret": ""}
      ]
    }"#;

    #[tokio::test]
    async fn current_profile_is_used_and_reported() {
        let c = provider(&[], CONFIG).provide_credentials().await.unwrap();
        assert_eq!(c.provider_path(), "cli_profile/static_ak");
        assert_eq!(
            (c.access_key_id(), c.access_key_secret()),
            ("LTAI5tCli", "cli-secret")
        );
    }

    #[tokio::test]
    async fn profile_env_var_selects_another_profile() {
        let c = provider(&[(vars::PROFILE, "sts")], CONFIG)
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(c.provider_path(), "cli_profile/static_sts");
        assert_eq!(c.security_token(), Some("tok"));
    }

    #[tokio::test]
    async fn source_profile_cycles_are_reported() {
        let err = provider(&[(vars::PROFILE, "loop-a")], CONFIG)
            .provide_credentials()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "cli_profile: invalid configuration: /home/me/.aliyun/config.json, profile `loop-a`: \
             source_profile cycle: loop-a -> loop-b -> loop-a"
        );
    }

    #[tokio::test]
    async fn bad_profiles_name_file_profile_and_problem() {
        let cases = [
            ("weird", "profile `weird`: unsupported mode `Plugin`"),
            (
                "half",
                "profile `half`: mode `AK` needs `access_key_secret`",
            ),
            ("ghost", "config.json has no profile named `ghost`"),
        ];
        for (profile, expected) in cases {
            let err = provider(&[(vars::PROFILE, profile)], CONFIG)
                .provide_credentials()
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
            assert!(err.to_string().contains(expected), "{err} lacks {expected}");
        }
        let err = provider(&[], "{\"profiles\": [ {\"name\": 3} ]}")
            .provide_credentials()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert!(
            err.to_string().contains(
                "/home/me/.aliyun/config.json is not a valid CLI config: a field has the wrong type \
                 (line 1, column 25)"
            ),
            "{err}"
        );
    }

    #[tokio::test]
    async fn external_profiles_need_a_command_that_splits() {
        let config = r#"{"profiles": [
            {"name": "none", "mode": "External", "process_command": " \n "},
            {"name": "open", "mode": "External", "process_command": "helper --token 'sentinel"}
        ]}"#;
        for (profile, expected) in [
            (
                "none",
                "profile `none`: mode `External` needs `process_command`",
            ),
            (
                "open",
                "profile `open`: the command cannot be split into words: a ' quote is not closed",
            ),
        ] {
            let err = provider(&[(vars::PROFILE, profile)], config)
                .provide_credentials()
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
            assert_eq!(
                err.to_string(),
                format!(
                    "cli_profile: invalid configuration: /home/me/.aliyun/config.json, {expected}"
                )
            );
            assert!(!format!("{err:?}").contains("sentinel"));
        }
    }

    async fn error_with(env: &[(&str, &str)], files: Vec<(&str, Vec<u8>)>) -> CredentialsError {
        let ctx = Context::default()
            .with_env(Env::from_pairs(
                env.iter().copied().chain([("HOME", "/home/me")]),
            ))
            .with_fs(Fs::from_pairs(files));
        let err = CliProfileProvider::builder()
            .context(ctx)
            .build()
            .provide_credentials()
            .await
            .unwrap_err();
        assert!(!format!("{err} {err:?}").contains("sentinel"), "{err:?}");
        assert!(!err.to_string().chars().any(char::is_control), "{err:?}");
        err
    }

    #[tokio::test]
    async fn an_explicit_file_that_is_missing_is_invalid_configuration_naming_the_variable() {
        let err = error_with(&[(vars::CONFIG_FILE, "/etc/aliyun.json")], vec![]).await;
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "cli_profile: invalid configuration: the CLI config /etc/aliyun.json (from \
             ALIBABA_CLOUD_CONFIG_FILE) does not exist"
        );
        let ctx = Context::default()
            .with_env(Env::from_pairs([("HOME", "/home/me")]))
            .with_fs(Fs::from_pairs(Vec::<(&str, &str)>::new()));
        let err = CliProfileProvider::builder()
            .path("/x.json")
            .context(ctx)
            .build()
            .provide_credentials()
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cli_profile: invalid configuration: the CLI config /x.json (from the configured path) \
             does not exist"
        );
    }

    #[tokio::test]
    async fn large_and_non_utf8_configs_are_refused_naming_the_file() {
        let mut big = br#"{"profiles": [{"name": "default", "mode": "AK", "access_key_secret": "sentinel"}]}"#.to_vec();
        big.resize(PROFILE_FILE_LIMIT as usize + 1, b' ');
        let err = error_with(&[], vec![("/home/me/.aliyun/config.json", big)]).await;
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "cli_profile: invalid configuration: the CLI config /home/me/.aliyun/config.json cannot \
             be read: it is larger than 1024 KiB"
        );
        let err = error_with(
            &[(vars::CONFIG_FILE, "/c.json")],
            vec![(
                "/c.json",
                b"{\n\"profiles\": [\n\"sentinel\xff\"]}".to_vec(),
            )],
        )
        .await;
        assert_eq!(
            err.to_string(),
            "cli_profile: invalid configuration: the CLI config /c.json (from \
             ALIBABA_CLOUD_CONFIG_FILE) cannot be read: it is not UTF-8 text (line 3)"
        );
    }

    #[tokio::test]
    async fn control_characters_in_fields_are_refused_naming_the_field() {
        for (field, value) in [
            ("access_key_id", r"LTAI\u0000x"),
            ("access_key_secret", r"sentinel\u001b[31m"),
            ("access_key_secret", r"sentinel\t"),
            ("sts_token", r"sentinel\n"),
        ] {
            let mut profile = serde_json::json!({"name": "p", "mode": "StsToken",
                "access_key_id": "LTAI5t", "access_key_secret": "s", "sts_token": "t"});
            profile[field] = serde_json::Value::Null;
            let config = serde_json::json!({"current": "p", "profiles": [profile]})
                .to_string()
                .replace("null", &format!("\"{value}\""));
            let err = error_with(
                &[],
                vec![("/home/me/.aliyun/config.json", config.into_bytes())],
            )
            .await;
            assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
            assert_eq!(
                err.message(),
                format!(
                    "/home/me/.aliyun/config.json, profile `p`: `{field}` holds a control character \
                     (a tab, a newline, NUL, ESC or another)"
                )
            );
        }
    }

    #[tokio::test]
    async fn wrong_types_names_and_modes_are_shown_without_values_or_raw_controls() {
        let config = br#"{"profiles": [{"name": "p", "mode": "AK", "access_key_secret": "s", "expired_seconds": "sentinel"}]}"#;
        let err = error_with(&[], vec![("/home/me/.aliyun/config.json", config.to_vec())]).await;
        assert_eq!(
            err.message(),
            "/home/me/.aliyun/config.json is not a valid CLI config: a field has the wrong type (line \
             1, column 97)"
        );
        let config = br#"{"profiles": [{"name": "x\u001b[2J", "mode": "Ext\u0007"}]}"#;
        let err = error_with(
            &[(vars::PROFILE, "x\u{1b}[2J")],
            vec![("/home/me/.aliyun/config.json", config.to_vec())],
        )
        .await;
        assert!(
            err.message().starts_with(
                "/home/me/.aliyun/config.json, profile `x\\x1b[2J`: unsupported mode `Ext\\x07`"
            ),
            "{err}"
        );
        let err = error_with(
            &[(vars::PROFILE, "gh\u{7}ost")],
            vec![("/home/me/.aliyun/config.json", CONFIG.as_bytes().to_vec())],
        )
        .await;
        assert_eq!(
            err.message(),
            "/home/me/.aliyun/config.json has no profile named `gh\\x07ost`"
        );
    }

    #[tokio::test]
    async fn absent_or_empty_config_is_not_loaded() {
        let ctx = Context::default()
            .with_env(Env::from_pairs([("HOME", "/home/me")]))
            .with_fs(Fs::from_pairs(Vec::<(&str, &str)>::new()));
        let err = CliProfileProvider::builder()
            .context(ctx)
            .build()
            .provide_credentials()
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cli_profile: not loaded: no CLI config at /home/me/.aliyun/config.json"
        );
        let err = provider(&[], "{\"current\": \"\", \"profiles\": []}")
            .provide_credentials()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotLoaded);
    }

    const SIGN_IN: &str = r#"{
      "profiles": [
        {"name": "sso", "mode": "CloudSSO", "cloud_sso_sign_in_url": "https://signin.example.com/d-1/login",
         "cloud_sso_account_id": "123", "cloud_sso_access_config": "ac-1", "access_token": "sentinel-at",
         "cloud_sso_access_token_expire": 1700000000},
        {"name": "sso-no-url", "mode": "CloudSSO", "cloud_sso_account_id": "123", "cloud_sso_access_config": "ac-1"},
        {"name": "sso-no-token", "mode": "CloudSSO", "cloud_sso_sign_in_url": "https://signin.example.com",
         "cloud_sso_account_id": "123", "cloud_sso_access_config": "ac-1"},
        {"name": "eu", "mode": "OAuth", "oauth_site_type": "EU", "oauth_refresh_token": "sentinel-rt"},
        {"name": "none", "mode": "OAuth", "oauth_site_type": "intl"},
        {"name": "http", "mode": "OAuth", "oauth_refresh_token": "sentinel-rt"}
      ]
    }"#;

    async fn sign_in_error(profile: &str, env: &[(&str, &str)]) -> CredentialsError {
        let env: Vec<(&str, &str)> = env
            .iter()
            .copied()
            .chain([(vars::PROFILE, profile)])
            .collect();
        let err = error_with(
            &env,
            vec![("/home/me/.aliyun/config.json", SIGN_IN.as_bytes().to_vec())],
        )
        .await;
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration, "{err}");
        err
    }

    #[tokio::test]
    async fn sign_in_modes_name_what_is_missing_or_wrong() {
        let cases = [
            (
                "sso",
                "profile `sso`: the CloudSSO access token expired at 2023-11-14T22:13:20Z: log in \
                 again with the Alibaba Cloud CLI: aliyun configure --mode CloudSSO",
            ),
            (
                "sso-no-url",
                "profile `sso-no-url`: mode `CloudSSO` needs `cloud_sso_sign_in_url`",
            ),
            (
                "sso-no-token",
                "profile `sso-no-token`: the CloudSSO access token is empty: log in again with the \
                 Alibaba Cloud CLI: aliyun configure --mode CloudSSO",
            ),
            (
                "eu",
                "profile `eu`: `oauth_site_type` must be CN or INTL (in any case), not `EU`",
            ),
            (
                "none",
                "profile `none`: OAuth needs an access token or a refresh token: log in again with \
                 the Alibaba Cloud CLI: aliyun configure --mode OAuth",
            ),
        ];
        for (profile, expected) in cases {
            let err = sign_in_error(profile, &[]).await;
            assert_eq!(
                err.message(),
                format!("/home/me/.aliyun/config.json, {expected}"),
                "{profile}"
            );
        }
        let err = sign_in_error(
            "http",
            &[(vars::OAUTH_ENDPOINT, "http://oauth.example.com")],
        )
        .await;
        assert_eq!(
            err.message(),
            "/home/me/.aliyun/config.json, profile `http`: ALIBABA_CLOUD_OAUTH_ENDPOINT: refusing \
             plain http to http://oauth.example.com: credentials would cross the network \
             unencrypted; use https, or opt in with MSE_AUTH_INSECURE_ALLOW_HTTP=true (CLI: \
             --insecure-allow-http)"
        );
    }
}
