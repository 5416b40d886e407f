//! The ini credentials file, `~/.alibabacloud/credentials` (or `credentials.ini`). Provider name
//! `profile`; credentials report `profile/<inner>`, e.g. `profile/ram_role_arn/static_ak`.
//!
//! Reads `ALIBABA_CLOUD_CREDENTIALS_FILE` (the file's path) and `ALIBABA_CLOUD_PROFILE` (the section;
//! default `default`). Section types (spec §11.3):
//!
//! | `type` | keys |
//! |---|---|
//! | `access_key` | `access_key_id`, `access_key_secret` |
//! | `ecs_ram_role` | `role_name` (optional: discovered) |
//! | `ram_role_arn` | `access_key_id`, `access_key_secret`, `role_arn`, optional `role_session_name`, `policy`, `external_id`, `duration_seconds`, `sts_region`, `enable_vpc` |
//! | `oidc_role_arn` | `role_arn`, `oidc_provider_arn`, `oidc_token_file_path`, optional `role_session_name`, `policy`, `duration_seconds`, `sts_region`, `enable_vpc` |
//!
//! No file → [`NotLoaded`](mse_auth::ErrorKind::NotLoaded). A malformed file, an unknown type or a
//! missing key → [`InvalidConfiguration`](mse_auth::ErrorKind::InvalidConfiguration) naming the file,
//! the profile and the problem. A section with `enable = false` is skipped. The file is read on the
//! first load; the provider it describes is then kept (and refreshes itself).
//!
//! ```no_run
//! use mse_auth_providers::{CredentialsProvider, ProfileProvider};
//! # async fn demo() -> Result<(), mse_auth_providers::CredentialsError> {
//! let creds = ProfileProvider::builder().profile("prod").build().provide_credentials().await?;
//! println!("{}", creds.provider_path()); // e.g. profile/static_ak
//! # Ok(()) }
//! ```

use crate::context::Context;
use crate::profile_mode::{Mode, RoleSettings};
use ini::Ini;
use mse_auth::{
    vars, Credentials, CredentialsError, CredentialsProvider, ProvideCredentials, Result,
    SharedCredentialsProvider,
};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::OnceCell;

/// Provider name reported in credential paths.
pub const NAME: &str = "profile";

/// Credentials from a section of the ini credentials file.
#[derive(Debug)]
pub struct ProfileProvider {
    ctx: Context,
    path: Option<PathBuf>,
    profile: Option<String>,
    inner: OnceCell<SharedCredentialsProvider>,
}

/// Settings of a [`ProfileProvider`].
#[derive(Debug, Default)]
pub struct Builder {
    ctx: Option<Context>,
    path: Option<PathBuf>,
    profile: Option<String>,
}

impl ProfileProvider {
    /// Settings; by default the file and profile come from the environment.
    pub fn builder() -> Builder {
        Builder::default()
    }

    async fn load(&self) -> Result<Credentials> {
        crate::profile_mode::serve(&self.inner, NAME, || self.resolve()).await
    }

    pub(crate) fn resolve(&self) -> Result<SharedCredentialsProvider> {
        let env = self.ctx.env();
        let (path, text) = self.read_file()?;
        let explicit = self.profile.clone().or_else(|| env.get(vars::PROFILE));
        let name = explicit.clone().unwrap_or_else(|| "default".to_string());
        let shown = path.display().to_string();
        let bad = |problem: String| {
            CredentialsError::invalid_configuration(
                NAME,
                format!("{shown}, profile `{name}`: {problem}"),
            )
        };
        let ini = Ini::load_from_str(&text).map_err(|e| {
            CredentialsError::invalid_configuration(
                NAME,
                format!("{shown} is not a valid ini file: {}", e.msg_at()),
            )
        })?;
        let Some(section) = ini.section(Some(name.as_str())) else {
            let reason = format!("{shown} has no [{name}] section");
            return Err(match explicit {
                Some(_) => CredentialsError::invalid_configuration(NAME, reason),
                None => CredentialsError::not_loaded(NAME, reason),
            });
        };
        let get = |key: &str| section.get(key).map(str::trim).filter(|v| !v.is_empty());
        if get("enable").is_some_and(|v| v.eq_ignore_ascii_case("false")) {
            return Err(CredentialsError::not_loaded(
                NAME,
                format!("{shown}, profile `{name}` is disabled (enable = false)"),
            ));
        }
        let need = |key: &str, kind: &str| {
            get(key)
                .map(str::to_string)
                .ok_or_else(|| bad(format!("type `{kind}` needs `{key}`")))
        };
        let role = |kind: &str| -> Result<RoleSettings> {
            Ok(RoleSettings {
                role_arn: need("role_arn", kind)?,
                session_name: get("role_session_name").map(str::to_string),
                duration: match get("duration_seconds") {
                    None => None,
                    Some(v) => Some(Duration::from_secs(v.parse().map_err(|_| {
                        bad(format!(
                            "`duration_seconds` must be a whole number of seconds, not `{v}`"
                        ))
                    })?)),
                },
                policy: get("policy").map(str::to_string),
                external_id: get("external_id").map(str::to_string),
                sts_region: get("sts_region").map(str::to_string),
                vpc: get("enable_vpc").map(|v| v.eq_ignore_ascii_case("true")),
            })
        };
        let mode = match get("type").unwrap_or("access_key") {
            "access_key" => Mode::AccessKey {
                id: need("access_key_id", "access_key")?,
                secret: need("access_key_secret", "access_key")?,
            },
            "ecs_ram_role" => Mode::EcsRamRole {
                role_name: get("role_name").map(str::to_string),
            },
            "ram_role_arn" => Mode::RamRoleArn {
                source: Box::new(Mode::AccessKey {
                    id: need("access_key_id", "ram_role_arn")?,
                    secret: need("access_key_secret", "ram_role_arn")?,
                }),
                role: role("ram_role_arn")?,
            },
            "oidc_role_arn" => Mode::Oidc {
                role: role("oidc_role_arn")?,
                provider_arn: need("oidc_provider_arn", "oidc_role_arn")?,
                token_file: PathBuf::from(need("oidc_token_file_path", "oidc_role_arn")?),
            },
            other => {
                return Err(bad(format!(
                    "unsupported type `{other}` (use access_key, ecs_ram_role, ram_role_arn or oidc_role_arn)"
                )))
            }
        };
        mode.build(&self.ctx)
            .map_err(|e| bad(e.message().to_string()))
    }

    /// The file to read: the explicit path, `ALIBABA_CLOUD_CREDENTIALS_FILE`, or the first of
    /// `~/.alibabacloud/credentials` and `~/.alibabacloud/credentials.ini` that exists.
    fn read_file(&self) -> Result<(PathBuf, String)> {
        let env = self.ctx.env();
        let named = self
            .path
            .clone()
            .or_else(|| env.get(vars::CREDENTIALS_FILE).map(PathBuf::from));
        if let Some(path) = named {
            return read(&self.ctx, &path)
                .map(|text| (path.clone(), text))
                .map_err(|e| {
                    CredentialsError::invalid_configuration(
                        NAME,
                        format!(
                            "the credentials file {} cannot be read: {e}",
                            path.display()
                        ),
                    )
                });
        }
        let Some(home) = env.home_dir() else {
            return Err(CredentialsError::not_loaded(
                NAME,
                "no home directory (HOME is not set)",
            ));
        };
        let dir = home.join(".alibabacloud");
        for candidate in [dir.join("credentials"), dir.join("credentials.ini")] {
            match read(&self.ctx, &candidate) {
                Ok(text) => return Ok((candidate, text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(CredentialsError::invalid_configuration(
                        NAME,
                        format!(
                            "the credentials file {} cannot be read: {e}",
                            candidate.display()
                        ),
                    ))
                }
            }
        }
        Err(CredentialsError::not_loaded(
            NAME,
            format!(
                "no credentials file at {}/credentials or credentials.ini",
                dir.display()
            ),
        ))
    }
}

fn read(ctx: &Context, path: &Path) -> std::io::Result<String> {
    ctx.fs().read_to_string(path)
}

impl CredentialsProvider for ProfileProvider {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        ProvideCredentials::boxed(self.load())
    }
}

impl Builder {
    /// The file to read (default: `ALIBABA_CLOUD_CREDENTIALS_FILE`, else `~/.alibabacloud/credentials`,
    /// else `~/.alibabacloud/credentials.ini`).
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The section to use (default: `ALIBABA_CLOUD_PROFILE`, else `default`).
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
    pub fn build(self) -> ProfileProvider {
        ProfileProvider {
            ctx: self.ctx.unwrap_or_default(),
            path: self.path,
            profile: self.profile,
            inner: OnceCell::new(),
        }
    }
}

trait MsgAt {
    fn msg_at(&self) -> String;
}

impl MsgAt for ini::ParseError {
    fn msg_at(&self) -> String {
        format!("line {}: {}", self.line, self.msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mse_auth::os::{Env, Fs};
    use mse_auth::ErrorKind;

    fn provider(env: &[(&str, &str)], files: &[(&str, &str)]) -> ProfileProvider {
        let ctx = Context::default()
            .with_env(Env::from_pairs(env.iter().copied()))
            .with_fs(Fs::from_pairs(
                files.iter().map(|(p, c)| (*p, c.as_bytes().to_vec())),
            ));
        ProfileProvider::builder().context(ctx).build()
    }

    const HOME: (&str, &str) = ("HOME", "/home/me");

    #[tokio::test]
    async fn access_key_profile_from_the_default_file() {
        let p = provider(
            &[HOME],
            &[(
                "/home/me/.alibabacloud/credentials",
                "[default]\nenable = true\ntype = access_key\naccess_key_id = LTAI5tIni\naccess_key_secret = ini-secret\n",
            )],
        );
        let c = p.provide_credentials().await.unwrap();
        assert_eq!(c.provider_path(), "profile/static_ak");
        assert_eq!(
            (c.access_key_id(), c.access_key_secret()),
            ("LTAI5tIni", "ini-secret")
        );
    }

    #[tokio::test]
    async fn credentials_ini_and_the_profile_env_var_are_honoured() {
        let p = provider(
            &[HOME, (vars::PROFILE, "prod")],
            &[(
                "/home/me/.alibabacloud/credentials.ini",
                "# comment\n[default]\naccess_key_id = a\naccess_key_secret = b\n[prod]\naccess_key_id = LTAI5tProd\naccess_key_secret = p\n",
            )],
        );
        assert_eq!(
            p.provide_credentials().await.unwrap().access_key_id(),
            "LTAI5tProd"
        );
    }

    #[tokio::test]
    async fn no_file_is_not_loaded() {
        let err = provider(&[HOME], &[])
            .provide_credentials()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotLoaded);
        assert_eq!(
            err.to_string(),
            "profile: not loaded: no credentials file at /home/me/.alibabacloud/credentials or credentials.ini"
        );
    }

    #[tokio::test]
    async fn a_named_file_that_is_missing_is_invalid_configuration() {
        let err = provider(&[HOME, (vars::CREDENTIALS_FILE, "/etc/creds")], &[])
            .provide_credentials()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert!(
            err.to_string().starts_with(
                "profile: invalid configuration: the credentials file /etc/creds cannot be read: "
            ),
            "{err}"
        );
    }

    #[tokio::test]
    async fn malformed_files_name_the_file_the_profile_and_the_problem() {
        let cases: &[(&str, &str)] = &[
            ("[default\naccess_key_id = a\n", "/f is not a valid ini file: line 3: expecting"),
            ("[default]\ntype = access_key\naccess_key_id = a\n", "/f, profile `default`: type `access_key` needs `access_key_secret`"),
            ("[default]\ntype = rsa_key_pair\n", "/f, profile `default`: unsupported type `rsa_key_pair`"),
            ("[default]\ntype = ram_role_arn\naccess_key_id = a\naccess_key_secret = sentinel-secret\n", "/f, profile `default`: type `ram_role_arn` needs `role_arn`"),
            ("[default]\ntype = oidc_role_arn\nrole_arn = r\noidc_token_file_path = /t\n", "/f, profile `default`: type `oidc_role_arn` needs `oidc_provider_arn`"),
            ("[default]\ntype = ram_role_arn\naccess_key_id = a\naccess_key_secret = s\nrole_arn = r\nduration_seconds = soon\n", "/f, profile `default`: `duration_seconds` must be a whole number of seconds, not `soon`"),
        ];
        for (text, expected) in cases {
            let err = provider(&[(vars::CREDENTIALS_FILE, "/f")], &[("/f", text)])
                .provide_credentials()
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidConfiguration, "{text}");
            assert!(err.to_string().contains(expected), "{err} lacks {expected}");
            assert!(!format!("{err:?}").contains("sentinel-secret"));
        }
    }

    #[tokio::test]
    async fn missing_sections_and_disabled_profiles() {
        let file = [(
            "/f",
            "[default]\nenable = false\naccess_key_id = a\naccess_key_secret = b\n",
        )];
        let err = provider(&[(vars::CREDENTIALS_FILE, "/f")], &file)
            .provide_credentials()
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "profile: not loaded: /f, profile `default` is disabled (enable = false)"
        );
        let err = provider(
            &[(vars::CREDENTIALS_FILE, "/f"), (vars::PROFILE, "nope")],
            &file,
        )
        .provide_credentials()
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "profile: invalid configuration: /f has no [nope] section"
        );
    }
}
