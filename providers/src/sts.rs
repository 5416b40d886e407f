//! What the two STS providers share: the API version, the rules for session names and durations, and
//! the reading of an answer's credentials. The call itself goes the crate's one RPC path (sign, send,
//! read); the endpoint comes from [`EndpointSettings`](crate::endpoint::EndpointSettings)
//! with [`Product::STS`](crate::endpoint::Product::STS).
//!
//! Used by [`RamRoleArnProvider`](crate::RamRoleArnProvider) (`AssumeRole`, signed) and
//! [`OidcRoleArnProvider`](crate::OidcRoleArnProvider) (`AssumeRoleWithOIDC`, anonymous). It has no
//! provider name of its own; errors carry the name of the provider that made the call.
//!
//! # Wire (spec §2.2, §5.3, §7.3)
//! A POST to `<endpoint>/`: the common parameters in the URL query; everything else — role, session,
//! policy, OIDC token and the source's `SecurityToken` — in the form body, so no token or policy ever
//! travels in a URL. The signature covers query and body together.
//!
//! ```
//! use mse_auth_providers::sts::{check_session_name, default_session_name};
//! use std::time::{Duration, SystemTime};
//!
//! let name = default_session_name(SystemTime::UNIX_EPOCH + Duration::from_secs(1));
//! assert_eq!(name, "mse-auth-1000");
//! assert!(check_session_name("ram_role_arn", &name).is_ok());
//! assert!(check_session_name("ram_role_arn", "a b").is_err());
//! ```

use mse_auth::credentials::check_text;
use mse_auth::error::escape_untrusted;
use mse_auth::os::Env;
use mse_auth::timestamp::parse_utc;
use mse_auth::{vars, Credentials, CredentialsError, Result};
use serde_json::Value;
use std::borrow::Cow;
use std::time::{Duration, SystemTime};

/// The STS API version every call names.
pub const API_VERSION: &str = "2015-04-01";
/// The endpoint when neither an endpoint nor a region is configured.
pub const DEFAULT_ENDPOINT: &str = "sts.aliyuncs.com";
/// Session lifetime asked for unless configured.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(3600);
/// The shortest session STS grants; shorter durations are refused when the provider is built.
pub const MIN_DURATION: Duration = Duration::from_secs(900);
/// Prefix of generated role session names, followed by the Unix time in milliseconds.
pub const SESSION_NAME_PREFIX: &str = "mse-auth-";
/// Header naming the provider of the source credentials (as the Go and Node clients send it).
pub(crate) const PROVIDER_HEADER: &str = "x-acs-credentials-provider";

/// `mse-auth-<unix millis>`: 22 characters, valid for STS until the year 2286.
pub fn default_session_name(now: SystemTime) -> String {
    let millis = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    format!("{SESSION_NAME_PREFIX}{millis}")
}

/// Checks a role session name: 2–32 characters of `A-Z a-z 0-9 . @ _ -` (spec §5.1).
pub fn check_session_name(provider: &'static str, name: &str) -> Result<()> {
    let valid = (2..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'@' | b'_' | b'-'));
    if valid {
        return Ok(());
    }
    let shown = escape_untrusted(name, 40);
    Err(CredentialsError::invalid_configuration(
        provider,
        format!(
            "the role session name `{shown}` must be 2 to 32 characters of A-Z, a-z, 0-9, `.`, `@`, `_` and `-`"
        ),
    ))
}

/// Checks a session duration: at least [`MIN_DURATION`] (the upper bound is the role's
/// MaxSessionDuration, which only STS knows).
pub fn check_duration(provider: &'static str, duration: Duration) -> Result<()> {
    if duration >= MIN_DURATION {
        return Ok(());
    }
    Err(CredentialsError::invalid_configuration(
        provider,
        format!(
            "the session duration {}s is too short: STS grants sessions of {}s or more",
            duration.as_secs(),
            MIN_DURATION.as_secs()
        ),
    ))
}

/// The role session name: configured, else `ALIBABA_CLOUD_ROLE_SESSION_NAME`, else generated; checked.
pub(crate) fn session_name(
    provider: &'static str,
    configured: Option<String>,
    env: &Env,
    now: SystemTime,
) -> Result<String> {
    let name = match configured.filter(|n| !n.is_empty()) {
        Some(name) => name,
        None => env
            .get_checked(vars::ROLE_SESSION_NAME)
            .map_err(|e| e.invalid_configuration(provider))?
            .unwrap_or_else(|| default_session_name(now)),
    };
    check_session_name(provider, &name)?;
    Ok(name)
}

/// A value set in code, else the environment variable `var`, else `InvalidConfiguration`.
pub(crate) fn required(
    provider: &'static str,
    configured: String,
    env: &Env,
    var: &str,
    what: &str,
) -> Result<String> {
    if !configured.is_empty() {
        return Ok(configured);
    }
    env.get_checked(var)
        .map_err(|e| e.invalid_configuration(provider))?
        .ok_or_else(|| {
            CredentialsError::invalid_configuration(
                provider,
                format!("the {what} is empty: pass it to the builder or set {var}"),
            )
        })
}

/// Reads `Credentials{AccessKeyId, AccessKeySecret, SecurityToken, Expiration}` of a 2xx body
/// (spec §5.4). Every failure is `Provider`; messages never quote the body (it may hold secrets).
pub(crate) fn parse_credentials(
    provider: &'static str,
    action: &str,
    body: &[u8],
    path: Cow<'static, str>,
) -> Result<Credentials> {
    let json: Value = serde_json::from_slice(body).map_err(|e| {
        CredentialsError::provider(
            provider,
            format!("the {action} response is not valid JSON ({e})"),
        )
    })?;
    let request_id = json.get("RequestId").and_then(Value::as_str);
    let fail = |message: String| {
        let err = CredentialsError::provider(provider, message);
        match request_id {
            Some(id) => err.with_request_id(id),
            None => err,
        }
    };
    let Some(creds) = json.get("Credentials").filter(|c| c.is_object()) else {
        return Err(fail(format!("the {action} response lacks Credentials")));
    };
    let field = |name: &str| match creds.get(name).and_then(Value::as_str) {
        Some(v) if !v.is_empty() => match check_text(v) {
            Ok(()) => Ok(v),
            Err(problem) => Err(fail(format!(
                "the {action} response's Credentials.{name} {problem}"
            ))),
        },
        _ => Err(fail(format!(
            "the {action} response lacks Credentials.{name}"
        ))),
    };
    let (id, secret, token, expiration) = (
        field("AccessKeyId")?,
        field("AccessKeySecret")?,
        field("SecurityToken")?,
        field("Expiration")?,
    );
    let expiration = parse_utc(expiration).map_err(|e| {
        fail(format!(
            "the {action} response has an unreadable Credentials.Expiration: {e}"
        ))
    })?;
    Credentials::builder()
        .access_key_id(id)
        .access_key_secret(secret)
        .security_token(token)
        .expiration(expiration)
        .provider_path(path)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mse_auth::ErrorKind;

    const P: &str = "test_provider";

    #[test]
    fn session_names_are_2_to_32_safe_characters() {
        for ok in ["ab", "a.b@c_d-e", &"x".repeat(32)] {
            assert!(check_session_name(P, ok).is_ok(), "{ok}");
        }
        for bad in ["a", "", "has space", &"x".repeat(33), "ünï", "a/b"] {
            let err = check_session_name(P, bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidConfiguration, "{bad}");
            assert!(err.message().contains("2 to 32 characters"), "{err}");
        }
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(default_session_name(now), "mse-auth-1700000000123");
        assert!(check_session_name(P, &default_session_name(SystemTime::now())).is_ok());
    }

    #[test]
    fn session_name_comes_from_code_then_env_then_clock() {
        let env = Env::from_pairs([(vars::ROLE_SESSION_NAME, "from-env")]);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(5);
        assert_eq!(
            session_name(P, Some("mine".into()), &env, now).unwrap(),
            "mine"
        );
        assert_eq!(session_name(P, None, &env, now).unwrap(), "from-env");
        assert_eq!(
            session_name(
                P,
                Some(String::new()),
                &Env::from_pairs::<&str, &str>([]),
                now
            )
            .unwrap(),
            "mse-auth-5000"
        );
        assert!(session_name(
            P,
            None,
            &Env::from_pairs([(vars::ROLE_SESSION_NAME, "x")]),
            now
        )
        .is_err());
    }

    #[test]
    fn durations_under_900_seconds_are_refused() {
        assert!(check_duration(P, MIN_DURATION).is_ok());
        let err = check_duration(P, Duration::from_secs(899)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "test_provider: invalid configuration: the session duration 899s is too short: STS \
             grants sessions of 900s or more"
        );
    }

    #[test]
    fn a_complete_answer_becomes_credentials() {
        let body = r#"{"RequestId":"R1","Credentials":{"AccessKeyId":"STS.abc","AccessKeySecret":"s3cr3t",
            "SecurityToken":"tok","Expiration":"2015-04-09T11:52:19Z"}}"#;
        let c = parse_credentials(P, "AssumeRole", body.as_bytes(), "p/static_ak".into()).unwrap();
        assert_eq!(c.provider_path(), "p/static_ak");
        assert_eq!(
            (c.access_key_id(), c.access_key_secret(), c.security_token()),
            ("STS.abc", "s3cr3t", Some("tok"))
        );
        assert_eq!(
            c.expiration(),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_428_580_339))
        );
    }

    #[test]
    fn incomplete_or_garbled_answers_are_provider_errors_that_quote_no_body() {
        let cases = [
            ("<html>sentinel", "the AssumeRole response is not valid JSON (expected value at line 1 column 1)"),
            (r#"{"RequestId":"R1"}"#, "the AssumeRole response lacks Credentials"),
            (
                r#"{"Credentials":{"AccessKeyId":"a","AccessKeySecret":"sentinel","Expiration":"2015-04-09T11:52:19Z"}}"#,
                "the AssumeRole response lacks Credentials.SecurityToken",
            ),
            (
                r#"{"Credentials":{"AccessKeyId":"a","AccessKeySecret":"sentinel","SecurityToken":"sentinel","Expiration":5}}"#,
                "the AssumeRole response lacks Credentials.Expiration",
            ),
            (
                r#"{"Credentials":{"AccessKeyId":"","AccessKeySecret":"sentinel","SecurityToken":"t","Expiration":"x"}}"#,
                "the AssumeRole response lacks Credentials.AccessKeyId",
            ),
            (
                r#"{"Credentials":{"AccessKeyId":"a","AccessKeySecret":"sentinel","SecurityToken":"t","Expiration":"tomorrow"}}"#,
                "the AssumeRole response has an unreadable Credentials.Expiration: `tomorrow` is not a UTC \
                 timestamp of the form YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DDTHH:MM:SS.mmmZ",
            ),
        ];
        for (body, message) in cases {
            let err = parse_credentials(P, "AssumeRole", body.as_bytes(), "p".into()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Provider, "{body}");
            assert_eq!(err.message(), message, "{body}");
            assert!(!format!("{err} {err:?}").contains("sentinel"), "{err:?}");
        }
        let err =
            parse_credentials(P, "AssumeRole", br#"{"RequestId":"R9"}"#, "p".into()).unwrap_err();
        assert_eq!(err.request_id(), Some("R9"));
    }

    #[test]
    fn control_characters_in_answered_credentials_are_refused_naming_the_field() {
        for (field, value) in [
            ("AccessKeyId", "STS.\u{1b}[31m"),
            ("AccessKeySecret", "sentinel\u{0}"),
            ("SecurityToken", "sentinel\n"),
            ("SecurityToken", "sentinel\t2"),
        ] {
            let mut creds = serde_json::json!({"AccessKeyId": "STS.a", "AccessKeySecret": "s",
                "SecurityToken": "t", "Expiration": "2015-04-09T11:52:19Z"});
            creds[field] = Value::from(value);
            let body = serde_json::json!({"RequestId": "R\u{7}", "Credentials": creds}).to_string();
            let err = parse_credentials(P, "AssumeRole", body.as_bytes(), "p".into()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Provider, "{body}");
            assert_eq!(
                err.message(),
                format!("the AssumeRole response's Credentials.{field} holds a control character")
            );
            assert_eq!(err.request_id(), Some("R\\x07"));
            assert!(!format!("{err} {err:?}").contains("sentinel"), "{err:?}");
        }
    }
}
