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
//!
//! No file, or a file without profiles → [`NotLoaded`](mse_auth::ErrorKind::NotLoaded). Invalid JSON,
//! an unknown mode, a missing field or a `source_profile` cycle →
//! [`InvalidConfiguration`](mse_auth::ErrorKind::InvalidConfiguration) naming the file, the profile and
//! the problem. The default chain skips this provider when `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true`.
//!
//! ```no_run
//! use mse_auth_providers::{CliProfileProvider, CredentialsProvider};
//! # async fn demo() -> Result<(), mse_auth_providers::CredentialsError> {
//! let creds = CliProfileProvider::builder().profile("prod").build().provide_credentials().await?;
//! println!("{}", creds.provider_path()); // e.g. cli_profile/ram_role_arn/static_ak
//! # Ok(()) }
//! ```

use crate::context::Context;
use crate::profile_mode::{Mode, RoleSettings};
use mse_auth::{
    vars, Credentials, CredentialsError, CredentialsProvider, ProvideCredentials, Result,
    SharedCredentialsProvider,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::OnceCell;

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
}

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

    fn path(&self) -> Result<PathBuf> {
        let env = self.ctx.env();
        if let Some(path) = self
            .path
            .clone()
            .or_else(|| env.get(vars::CONFIG_FILE).map(PathBuf::from))
        {
            return Ok(path);
        }
        env.home_dir()
            .map(|home| home.join(".aliyun").join("config.json"))
            .ok_or_else(|| {
                CredentialsError::not_loaded(NAME, "no home directory (HOME is not set)")
            })
    }

    pub(crate) fn resolve(&self) -> Result<SharedCredentialsProvider> {
        let path = self.path()?;
        let shown = path.display().to_string();
        let text = match self.ctx.fs().read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CredentialsError::not_loaded(
                    NAME,
                    format!("no CLI config at {shown}"),
                ))
            }
            Err(e) => {
                return Err(CredentialsError::invalid_configuration(
                    NAME,
                    format!("the CLI config {shown} cannot be read: {e}"),
                ))
            }
        };
        let config: ConfigFile = serde_json::from_str(&text).map_err(|e| {
            CredentialsError::invalid_configuration(
                NAME,
                format!("{shown} is not a valid CLI config: {e}"),
            )
        })?;
        if config.profiles.is_empty() {
            return Err(CredentialsError::not_loaded(
                NAME,
                format!("{shown} has no profiles"),
            ));
        }
        let name = self
            .profile
            .clone()
            .or_else(|| self.ctx.env().get(vars::PROFILE))
            .or_else(|| config.current.clone().filter(|c| !c.is_empty()))
            .unwrap_or_else(|| "default".to_string());
        let mut visited = Vec::new();
        mode_of(&config, &name, &path, &mut visited)?
            .build(&self.ctx)
            .map_err(|e| {
                CredentialsError::invalid_configuration(
                    NAME,
                    format!("{shown}, profile `{name}`: {}", e.message()),
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
    let bad = |problem: String| {
        CredentialsError::invalid_configuration(
            NAME,
            format!("{}, profile `{name}`: {problem}", path.display()),
        )
    };
    if visited.iter().any(|v| v == name) {
        visited.push(name.to_string());
        return Err(bad(format!(
            "source_profile cycle: {}",
            visited.join(" -> ")
        )));
    }
    visited.push(name.to_string());
    let Some(p) = config.profiles.iter().find(|p| p.name == name) else {
        return Err(CredentialsError::invalid_configuration(
            NAME,
            format!("{} has no profile named `{name}`", path.display()),
        ));
    };
    let need = |value: &str, field: &str| {
        some(value).ok_or_else(|| bad(format!("mode `{}` needs `{field}`", p.mode)))
    };
    let role = || -> Result<RoleSettings> {
        Ok(RoleSettings {
            role_arn: need(&p.ram_role_arn, "ram_role_arn")?,
            session_name: some(&p.ram_session_name),
            // 0 means "not set" in files the CLI writes.
            duration: (p.expired_seconds > 0).then(|| Duration::from_secs(p.expired_seconds)),
            policy: some(&p.policy),
            external_id: some(&p.external_id),
            sts_region: some(&p.sts_region),
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
            role_name: some(&p.ram_role_name),
        },
        "OIDC" => Mode::Oidc {
            role: role()?,
            provider_arn: need(&p.oidc_provider_arn, "oidc_provider_arn")?,
            token_file: PathBuf::from(need(&p.oidc_token_file, "oidc_token_file")?),
        },
        "CredentialsURI" => Mode::CredentialsUri {
            uri: need(&p.credentials_uri, "credentials_uri")?,
        },
        other => {
            return Err(bad(format!(
                "unsupported mode `{other}` (use AK, StsToken, RamRoleArn, ChainableRamRoleArn, EcsRamRole, OIDC or CredentialsURI)"
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
        {"name": "weird", "mode": "External", "process_command": "x"},
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
            ("weird", "profile `weird`: unsupported mode `External`"),
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
            err.to_string()
                .contains("/home/me/.aliyun/config.json is not a valid CLI config: invalid type"),
            "{err}"
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
}
