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
//! No file at the default paths → [`NotLoaded`](mse_auth::ErrorKind::NotLoaded); a file named by
//! `ALIBABA_CLOUD_CREDENTIALS_FILE` or [`Builder::path`] that is missing, larger than 1 MiB
//! ([`PROFILE_FILE_LIMIT`]) or not UTF-8 → [`InvalidConfiguration`](mse_auth::ErrorKind::InvalidConfiguration)
//! naming the variable and the path. A malformed file, an unknown type or a missing key →
//! `InvalidConfiguration` naming the file, the profile, the line where there is one, and the problem,
//! never a value. A section with `enable = false` is skipped. The file is read on the first load; the
//! provider it describes is then kept (and refreshes itself).
//!
//! The format, line by line: blank lines and lines starting with `#` or `;` are ignored; `[name]`
//! starts a section; `key = value` or `key: value` sets a key (split at the first `=` or `:`, as the
//! official Python client's `configparser` and the Go client's ini reader do, both sides trimmed, one
//! pair of surrounding `"` or `'` removed, backslashes kept as written; `role_arn = acs:ram::…` splits
//! at its `=`). Anything else is an error naming the line: a line without `=` or `:`, a key before the first section, a key set twice in a section, and a
//! control character (tab, NUL, ESC …) in a key, value or section name. `enable` and `enable_vpc`
//! are booleans: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, any case.
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
use mse_auth::error::escape_untrusted;
use mse_auth::os::{parse_bool, PROFILE_FILE_LIMIT};
use mse_auth::{
    vars, Credentials, CredentialsError, CredentialsProvider, ProvideCredentials, Result,
    SharedCredentialsProvider,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::OnceCell;
use zeroize::Zeroizing;

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
        let text = Zeroizing::new(text);
        let explicit = match &self.profile {
            Some(profile) => Some(profile.clone()),
            None => env
                .get_checked(vars::PROFILE)
                .map_err(|e| e.invalid_configuration(NAME))?,
        };
        let name = explicit.clone().unwrap_or_else(|| "default".to_string());
        let shown = path.display().to_string();
        let shown_name = escape_untrusted(&name, MAX_SHOWN);
        let ini = IniFile::parse(&text).map_err(|problem| {
            CredentialsError::invalid_configuration(
                NAME,
                format!("{shown} is not a valid ini file: {problem}"),
            )
        })?;
        drop(text);
        let bad = |problem: String| {
            CredentialsError::invalid_configuration(
                NAME,
                format!("{shown}, profile `{shown_name}`: {problem}"),
            )
        };
        let Some(section) = ini.sections.get(name.as_str()) else {
            let reason = format!("{shown} has no [{shown_name}] section");
            return Err(match explicit {
                Some(_) => CredentialsError::invalid_configuration(NAME, reason),
                None => CredentialsError::not_loaded(NAME, reason),
            });
        };
        let entry = |key: &str| {
            section
                .get(key)
                .filter(|(v, _)| !v.is_empty())
                .map(|(v, line)| (v.as_str(), *line))
        };
        let get = |key: &str| entry(key).map(|(v, _)| v);
        let boolean = |key: &str| -> Result<Option<bool>> {
            match entry(key) {
                None => Ok(None),
                Some((v, line)) => parse_bool(v).map(Some).ok_or_else(|| {
                    bad(format!(
                        "line {line}: `{key}` must be true or false (also 1/0, yes/no, on/off), not \
                         `{}`",
                        escape_untrusted(v, MAX_SHOWN)
                    ))
                }),
            }
        };
        if boolean("enable")? == Some(false) {
            return Err(CredentialsError::not_loaded(
                NAME,
                format!("{shown}, profile `{shown_name}` is disabled (enable = false)"),
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
                duration: match entry("duration_seconds") {
                    None => None,
                    Some((v, line)) => Some(Duration::from_secs(v.parse().map_err(|_| {
                        bad(format!(
                            "line {line}: `duration_seconds` must be a whole number of seconds, not \
                             `{}`",
                            escape_untrusted(v, MAX_SHOWN)
                        ))
                    })?)),
                },
                policy: get("policy").map(str::to_string),
                external_id: get("external_id").map(str::to_string),
                sts_region: get("sts_region").map(str::to_string),
                vpc: boolean("enable_vpc")?,
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
                    "unsupported type `{}` (use access_key, ecs_ram_role, ram_role_arn or oidc_role_arn)",
                    escape_untrusted(other, MAX_SHOWN)
                )))
            }
        };
        mode.build(&self.ctx)
            .map_err(|e| bad(e.message().to_string()))
    }

    /// The file to read: the explicit path, `ALIBABA_CLOUD_CREDENTIALS_FILE`, or the first of
    /// `~/.alibabacloud/credentials` and `~/.alibabacloud/credentials.ini` that exists. A file named
    /// explicitly (in code or by the variable) must exist.
    fn read_file(&self) -> Result<(PathBuf, String)> {
        let env = self.ctx.env();
        let named = match &self.path {
            Some(path) => Some((path.clone(), "the configured path")),
            None => env
                .get_checked(vars::CREDENTIALS_FILE)
                .map_err(|e| e.invalid_configuration(NAME))?
                .map(|path| (PathBuf::from(path), vars::CREDENTIALS_FILE)),
        };
        if let Some((path, source)) = named {
            return read(&self.ctx, &path)
                .map(|text| (path.clone(), text))
                .map_err(|e| {
                    let shown = path.display();
                    let problem = match e.kind() {
                        std::io::ErrorKind::NotFound => "does not exist".to_string(),
                        _ => format!("cannot be read: {e}"),
                    };
                    CredentialsError::invalid_configuration(
                        NAME,
                        format!("the credentials file {shown} (from {source}) {problem}"),
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

/// Longest text from a file or the environment quoted in a message (escaped).
const MAX_SHOWN: usize = 64;

fn read(ctx: &Context, path: &Path) -> std::io::Result<String> {
    ctx.fs().read_to_string_limited(path, PROFILE_FILE_LIMIT)
}

/// The ini credentials file, parsed: each section's keys, with the value and the line it is on.
///
/// The grammar, line by line (`\n` or `\r\n`; a UTF-8 byte-order mark is skipped):
/// - blank, or `#` / `;` first (after spaces): ignored;
/// - `[name]`: starts section `name` (trimmed); a second `[name]` adds to the first;
/// - `key = value`: split at the first `=`, both sides trimmed; a value wrapped in one pair of `"` or
///   `'` loses them; backslashes are kept as written (no escapes);
/// - anything else — a line without `=`, `= value`, a key before the first section — is an error
///   naming the line, as are a control character (tab, NUL, ESC …) inside a key, value or section
///   name and a key set twice in one section. No error quotes a value.
struct IniFile {
    sections: HashMap<String, HashMap<String, (Zeroizing<String>, usize)>>,
}

impl IniFile {
    /// Parses `text`; the error is `line N: problem`.
    fn parse(text: &str) -> std::result::Result<Self, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut sections: HashMap<String, HashMap<String, (Zeroizing<String>, usize)>> =
            HashMap::new();
        let mut current: Option<String> = None;
        for (index, raw) in text.split('\n').enumerate() {
            let line = index + 1;
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix('[') {
                let Some(name) = rest.strip_suffix(']') else {
                    return Err(format!(
                        "line {line}: a section header must be `[name]` alone on its line"
                    ));
                };
                let name = name.trim();
                if name.is_empty() {
                    return Err(format!("line {line}: the section name is empty"));
                }
                if name.chars().any(char::is_control) {
                    return Err(format!(
                        "line {line}: the section name holds a control character"
                    ));
                }
                sections.entry(name.to_owned()).or_default();
                current = Some(name.to_owned());
                continue;
            }
            let Some((key, value)) = trimmed.split_once(['=', ':']) else {
                return Err(format!(
                    "line {line} has no `=`: write `key = value`, a `[section]` header or a `#` comment"
                ));
            };
            let key = key.trim();
            if key.is_empty() {
                return Err(format!("line {line} has no key before `=` or `:`"));
            }
            if key.chars().any(char::is_control) {
                return Err(format!("line {line}: the key holds a control character"));
            }
            let shown_key = escape_untrusted(key, MAX_SHOWN);
            if value.chars().any(char::is_control) {
                return Err(format!(
                    "line {line}: the value of `{shown_key}` holds a control character (a tab, NUL, \
                     ESC or another)"
                ));
            }
            let Some(section) = current.as_ref() else {
                return Err(format!(
                    "line {line}: `{shown_key}` is outside any section: put a `[name]` header above it"
                ));
            };
            let keys = sections.entry(section.clone()).or_default();
            if let Some((_, first)) = keys.get(key) {
                return Err(format!(
                    "line {line}: `{shown_key}` is set again in [{section}] (first on line {first})"
                ));
            }
            keys.insert(
                key.to_owned(),
                (Zeroizing::new(unquote(value.trim()).to_owned()), line),
            );
        }
        Ok(Self { sections })
    }
}

/// `value` without one pair of surrounding `"` or `'`.
fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
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
        assert_eq!(
            err.to_string(),
            "profile: invalid configuration: the credentials file /etc/creds (from \
             ALIBABA_CLOUD_CREDENTIALS_FILE) does not exist"
        );
        let ctx = Context::default()
            .with_env(Env::from_pairs([HOME]))
            .with_fs(Fs::from_pairs(Vec::<(&str, &str)>::new()));
        let err = ProfileProvider::builder()
            .path("/etc/creds2")
            .context(ctx)
            .build()
            .provide_credentials()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "profile: invalid configuration: the credentials file /etc/creds2 (from the configured \
             path) does not exist"
        );
    }

    #[tokio::test]
    async fn malformed_files_name_the_file_the_profile_and_the_problem() {
        let cases: &[(&str, &str)] = &[
            ("[default\naccess_key_id = a\n", "/f is not a valid ini file: line 1: a section header must be `[name]` alone on its line"),
            ("[default]\ntype = access_key\naccess_key_id = a\n", "/f, profile `default`: type `access_key` needs `access_key_secret`"),
            ("[default]\ntype = rsa_key_pair\n", "/f, profile `default`: unsupported type `rsa_key_pair`"),
            ("[default]\ntype = ram_role_arn\naccess_key_id = a\naccess_key_secret = sentinel-secret\n", "/f, profile `default`: type `ram_role_arn` needs `role_arn`"),
            ("[default]\ntype = oidc_role_arn\nrole_arn = r\noidc_token_file_path = /t\n", "/f, profile `default`: type `oidc_role_arn` needs `oidc_provider_arn`"),
            ("[default]\ntype = ram_role_arn\naccess_key_id = a\naccess_key_secret = s\nrole_arn = r\nduration_seconds = soon\n", "/f, profile `default`: line 6: `duration_seconds` must be a whole number of seconds, not `soon`"),
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

    async fn error_of(text: &[u8], env: &[(&str, &str)]) -> CredentialsError {
        let ctx = Context::default()
            .with_env(Env::from_pairs(
                env.iter().copied().chain([(vars::CREDENTIALS_FILE, "/f")]),
            ))
            .with_fs(Fs::from_pairs([("/f", text.to_vec())]));
        let err = ProfileProvider::builder()
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
    async fn a_line_without_equals_is_reported_with_its_number_not_misread() {
        let text = b"[default]\ntype = access_key\naccess_key_id\naccess_key_secret = sentinel\n";
        let err = error_of(text, &[]).await;
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "profile: invalid configuration: /f is not a valid ini file: line 3 has no `=`: write \
             `key = value`, a `[section]` header or a `#` comment"
        );
        // A pasted secret alone on a line is reported, not echoed.
        let text = b"[default]\naccess_key_id = a\naccess_key_secret = b\nsentinel-secret\n";
        let err = error_of(text, &[]).await;
        assert!(
            err.message().ends_with(
                "line 4 has no `=`: write `key = value`, a `[section]` header or a `#` comment"
            ),
            "{err}"
        );
        let err = error_of(b"[default]\n = sentinel\n", &[]).await;
        assert_eq!(
            err.message(),
            "/f is not a valid ini file: line 2 has no key before `=` or `:`"
        );
        let err = error_of(b"access_key_id = sentinel\n[default]\n", &[]).await;
        assert_eq!(
            err.message(),
            "/f is not a valid ini file: line 1: `access_key_id` is outside any section: put a \
             `[name]` header above it"
        );
        let err = error_of(
            b"[default]\naccess_key_id = a\n\naccess_key_id = sentinel\n",
            &[],
        )
        .await;
        assert_eq!(
            err.message(),
            "/f is not a valid ini file: line 4: `access_key_id` is set again in [default] (first on \
             line 2)"
        );
        let err = error_of(b"[]\n", &[]).await;
        assert_eq!(
            err.message(),
            "/f is not a valid ini file: line 1: the section name is empty"
        );
    }

    #[tokio::test]
    async fn control_characters_in_values_keys_and_sections_are_refused_naming_the_line() {
        for (text, message) in [
            (&b"[default]\naccess_key_id = a\naccess_key_secret = sentinel\x00x\n"[..], "line 3: the value of `access_key_secret` holds a control character (a tab, NUL, ESC or another)"),
            (b"[default]\naccess_key_id = sentinel\x1b[31m\naccess_key_secret = b\n", "line 2: the value of `access_key_id` holds a control character (a tab, NUL, ESC or another)"),
            (b"[default]\naccess_key_id = a\naccess_key_secret = sen\ttinel\n", "line 3: the value of `access_key_secret` holds a control character (a tab, NUL, ESC or another)"),
            (b"[default]\naccess_key_id = a\naccess_key_secret = sentinel\rover\n", "line 3: the value of `access_key_secret` holds a control character (a tab, NUL, ESC or another)"),
            (b"[default]\nacc\x07ess = a\n", "line 2: the key holds a control character"),
            (b"[def\x1bault]\n", "line 1: the section name holds a control character"),
        ] {
            let err = error_of(text, &[]).await;
            assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
            assert_eq!(err.message(), format!("/f is not a valid ini file: {message}"));
        }
    }

    #[tokio::test]
    async fn crlf_bom_quotes_comments_and_indentation_are_read() {
        let text = "\u{feff}; comment\r\n  [prod]  \r\n\ttype = access_key\r\naccess_key_id = \"LTAI5tQuoted\"\r\naccess_key_secret='s = t'\r\n# end\r\n";
        let c = provider(
            &[(vars::CREDENTIALS_FILE, "/f"), (vars::PROFILE, "prod")],
            &[("/f", text)],
        )
        .provide_credentials()
        .await
        .unwrap();
        assert_eq!(
            (c.access_key_id(), c.access_key_secret()),
            ("LTAI5tQuoted", "s = t")
        );
    }

    #[tokio::test]
    async fn a_colon_separates_like_an_equals_sign_whichever_comes_first() {
        let text =
            "[default]\ntype: access_key\naccess_key_id:LTAI5tColon\naccess_key_secret = a:b=c\n";
        let c = provider(&[(vars::CREDENTIALS_FILE, "/f")], &[("/f", text)])
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(
            (c.access_key_id(), c.access_key_secret()),
            ("LTAI5tColon", "a:b=c")
        );
        let text = "[default]\naccess_key_id: LTAI5tColon\naccess_key_secret: x=y:z\n";
        let c = provider(&[(vars::CREDENTIALS_FILE, "/f")], &[("/f", text)])
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(c.access_key_secret(), "x=y:z");
        let err = error_of(b"[default]\n: sentinel\n", &[]).await;
        assert_eq!(
            err.message(),
            "/f is not a valid ini file: line 2 has no key before `=` or `:`"
        );
    }

    #[tokio::test]
    async fn enable_and_enable_vpc_are_booleans() {
        for off in ["false", "0", "no", "OFF"] {
            let text =
                format!("[default]\nenable = {off}\naccess_key_id = a\naccess_key_secret = b\n");
            let err = error_of(text.as_bytes(), &[]).await;
            assert_eq!(err.kind(), ErrorKind::NotLoaded, "{off}");
        }
        let text = b"[default]\nenable = 1\naccess_key_id = a\naccess_key_secret = b\n";
        let ctx = Context::default()
            .with_env(Env::from_pairs([(vars::CREDENTIALS_FILE, "/f")]))
            .with_fs(Fs::from_pairs([("/f", text.to_vec())]));
        assert!(ProfileProvider::builder()
            .context(ctx)
            .build()
            .provide_credentials()
            .await
            .is_ok());
        let err = error_of(
            b"[default]\nenable = maybe\naccess_key_id = a\naccess_key_secret = b\n",
            &[],
        )
        .await;
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.message(),
            "/f, profile `default`: line 2: `enable` must be true or false (also 1/0, yes/no, on/off), \
             not `maybe`"
        );
        let text = b"[default]\ntype = ram_role_arn\naccess_key_id = a\naccess_key_secret = b\nrole_arn = acs:ram::1:role/r\nenable_vpc = vpc\n";
        let err = error_of(text, &[]).await;
        assert_eq!(
            err.message(),
            "/f, profile `default`: line 6: `enable_vpc` must be true or false (also 1/0, yes/no, \
             on/off), not `vpc`"
        );
    }

    #[tokio::test]
    async fn large_and_non_utf8_files_are_refused_naming_the_file() {
        let mut big = b"[default]\naccess_key_id = a\naccess_key_secret = sentinel\n".to_vec();
        big.resize(PROFILE_FILE_LIMIT as usize + 1, b'#');
        let err = error_of(&big, &[]).await;
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "profile: invalid configuration: the credentials file /f (from \
             ALIBABA_CLOUD_CREDENTIALS_FILE) cannot be read: it is larger than 1024 KiB"
        );
        let err = error_of(
            b"[default]\naccess_key_id = a\naccess_key_secret = sentinel\xff\n",
            &[],
        )
        .await;
        assert_eq!(
            err.to_string(),
            "profile: invalid configuration: the credentials file /f (from \
             ALIBABA_CLOUD_CREDENTIALS_FILE) cannot be read: it is not UTF-8 text (line 3)"
        );
        // At the default path too.
        let ctx = Context::default()
            .with_env(Env::from_pairs([HOME]))
            .with_fs(Fs::from_pairs([(
                "/home/me/.alibabacloud/credentials",
                big,
            )]));
        let err = ProfileProvider::builder()
            .context(ctx)
            .build()
            .provide_credentials()
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "profile: invalid configuration: the credentials file /home/me/.alibabacloud/credentials \
             cannot be read: it is larger than 1024 KiB"
        );
    }

    #[tokio::test]
    async fn profile_names_and_quoted_values_are_escaped() {
        let file = b"[default]\naccess_key_id = a\naccess_key_secret = b\n";
        let err = error_of(file, &[(vars::PROFILE, "pr\u{1b}[31mod\u{7}")]).await;
        assert_eq!(
            err.to_string(),
            "profile: invalid configuration: /f has no [pr\\x1b[31mod\\x07] section"
        );
        let long = format!("[default]\ntype = {}\n", "t".repeat(500));
        let err = error_of(long.as_bytes(), &[]).await;
        assert!(
            err.message()
                .contains(&format!("unsupported type `{}…`", "t".repeat(64))),
            "{err}"
        );
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
