//! The credentials JSON that the ECS metadata service and a credentials URI answer with (spec §6.4,
//! §8.2): `{"Code": "Success", "AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}`, and
//! the `Code` of their error bodies. Used by [`EcsRamRoleProvider`](crate::EcsRamRoleProvider) and
//! [`CredentialsUriProvider`](crate::CredentialsUriProvider); its checks of the four STS fields
//! ([`sts_credentials`]) and of a JSON body's shape ([`parse_json`]) also by
//! [`CloudSsoProvider`](crate::CloudSsoProvider) and [`OAuthProvider`](crate::OAuthProvider).

use mse_auth::credentials::check_text;
use mse_auth::error::escape_untrusted;
use mse_auth::timestamp::parse_utc;
use mse_auth::{Credentials, CredentialsError, Result};
use serde::Deserialize;
use std::borrow::Cow;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The credentials JSON shared by the credentials URI and the ECS metadata service. Every field is
/// optional here so that a missing one becomes a clear error; the secrets are wiped on drop.
#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(rename_all = "PascalCase")]
struct CredentialsJson {
    code: Option<String>,
    access_key_id: Option<String>,
    access_key_secret: Option<String>,
    security_token: Option<String>,
    expiration: Option<String>,
}

/// Longest upstream `Code` shown in a message.
const MAX_CODE: usize = 64;

/// Parses `{"Code": "Success", "AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}` into
/// credentials reported by `provider`. Every problem is a [`Provider`](crate::ErrorKind::Provider)
/// error naming what is wrong; no value other than `Code` and `Expiration` is ever shown.
pub(crate) fn parse_credentials(body: &[u8], provider: &'static str) -> Result<Credentials> {
    const WHAT: &str = "the credentials response";
    let json: CredentialsJson = parse_json(body, WHAT, provider)?;
    match json.code.as_deref() {
        Some("Success") => {}
        Some(code) => {
            let code = escape_untrusted(code, MAX_CODE);
            return Err(CredentialsError::provider(
                provider,
                format!("{WHAT} has Code `{code}`, not `Success`"),
            )
            .with_code(code));
        }
        None => {
            return Err(CredentialsError::provider(
                provider,
                format!("{WHAT} lacks Code"),
            ))
        }
    }
    sts_credentials(
        WHAT,
        [
            ("AccessKeyId", json.access_key_id.as_deref()),
            ("AccessKeySecret", json.access_key_secret.as_deref()),
            ("SecurityToken", json.security_token.as_deref()),
            ("Expiration", json.expiration.as_deref()),
        ],
        provider,
    )
}

/// Parses a JSON response, `what` in messages ("the credentials response"). A body that is not JSON
/// names the line and column; one of the wrong shape says so without quoting it (serde's "invalid
/// type" messages quote the value, which may be a secret).
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    body: &[u8],
    what: &str,
    provider: &'static str,
) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        CredentialsError::provider(
            provider,
            match e.classify() {
                serde_json::error::Category::Data => {
                    format!("{what} is not a JSON object of string fields")
                }
                _ => format!(
                    "{what} is not JSON (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            },
        )
    })
}

/// Credentials from the four STS fields of a response, `(name, value)` in the order id, secret,
/// security token, expiration; `what` names the response in messages. Absent or empty fields are
/// named all at once; a control character in a credential, or an `Expiration` in neither
/// `YYYY-MM-DDTHH:MM:SSZ` nor `YYYY-MM-DDTHH:MM:SS.mmmZ`, is named too. No value but the expiration
/// is ever shown.
pub(crate) fn sts_credentials(
    what: &str,
    fields: [(&str, Option<&str>); 4],
    provider: &'static str,
) -> Result<Credentials> {
    let unusable = |why: String| CredentialsError::provider(provider, why);
    fn present(value: Option<&str>) -> Option<&str> {
        value.filter(|v| !v.is_empty())
    }
    let [(_, id), (_, secret), (_, token), (expiration_name, expiration)] = fields;
    let (Some(id), Some(secret), Some(token), Some(expiration)) = (
        present(id),
        present(secret),
        present(token),
        present(expiration),
    ) else {
        let missing: Vec<&str> = fields
            .iter()
            .filter(|(_, value)| present(*value).is_none())
            .map(|(name, _)| *name)
            .collect();
        return Err(unusable(format!("{what} lacks {}", missing.join(", "))));
    };
    for ((name, _), value) in fields.iter().zip([id, secret, token]) {
        if let Err(problem) = check_text(value) {
            return Err(unusable(format!("{what}'s {name} {problem}")));
        }
    }
    let expiration = parse_utc(expiration)
        .map_err(|e| unusable(format!("{what} has a bad {expiration_name}: {e}")).with_source(e))?;
    Credentials::builder()
        .access_key_id(id)
        .access_key_secret(secret)
        .security_token(token)
        .expiration(expiration)
        .provider_path(Cow::Borrowed(provider))
        .build()
}

/// The `Code` of an error JSON body, when it has a short one made of code characters.
pub(crate) fn error_code(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct ErrorJson {
        #[serde(rename = "Code")]
        code: Option<String>,
    }
    let code = serde_json::from_slice::<ErrorJson>(body).ok()?.code?;
    let plausible = !code.is_empty()
        && code.len() <= MAX_CODE
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    plausible.then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mse_auth::ErrorKind;
    use std::time::{Duration, SystemTime};

    const OK: &str = r#"{"Code":"Success","AccessKeyId":"STS.id","AccessKeySecret":"sentinel-secret",
        "SecurityToken":"sentinel-token","Expiration":"2023-11-14T22:13:20Z","LastUpdated":"x"}"#;

    fn parse(body: &str) -> Result<Credentials> {
        parse_credentials(body.as_bytes(), "credentials_uri")
    }

    fn provider_error(body: &str) -> CredentialsError {
        let err = parse(body).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Provider, "{err}");
        assert!(!format!("{err:?}").contains("sentinel"), "{err:?}");
        err
    }

    #[test]
    fn a_success_response_becomes_sts_credentials() {
        let creds = parse(OK).unwrap();
        assert_eq!(creds.access_key_id(), "STS.id");
        assert_eq!(creds.access_key_secret(), "sentinel-secret");
        assert_eq!(creds.security_token(), Some("sentinel-token"));
        assert_eq!(creds.provider_path(), "credentials_uri");
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(creds.expiration(), Some(at));
    }

    #[test]
    fn millisecond_expirations_are_accepted() {
        let body = OK.replace("20Z", "20.250Z");
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        assert_eq!(parse(&body).unwrap().expiration(), Some(at));
    }

    #[test]
    fn code_other_than_success_is_refused_with_the_code() {
        let err = provider_error(&OK.replace("\"Success\"", "\"Failed\""));
        assert_eq!(err.code(), Some("Failed"));
        assert_eq!(
            err.to_string(),
            "credentials_uri: Failed: the credentials response has Code `Failed`, not `Success`"
        );
        let err = provider_error(&OK.replace("\"Code\":\"Success\",", ""));
        assert_eq!(err.message(), "the credentials response lacks Code");
    }

    #[test]
    fn hostile_codes_are_escaped_and_cut() {
        let body = OK.replace(
            "\"Success\"",
            &format!("\"\\u001b[31m{}\\u0007\"", "F".repeat(100)),
        );
        let err = provider_error(&body);
        let code = format!("\\x1b[31m{}…", "F".repeat(59));
        assert_eq!(err.code(), Some(code.as_str()));
        assert_eq!(
            err.message(),
            format!("the credentials response has Code `{code}`, not `Success`")
        );
        assert!(!format!("{err} {err:?}").chars().any(char::is_control));
    }

    #[test]
    fn control_characters_in_credentials_are_refused_naming_the_field() {
        for (field, from, to) in [
            ("AccessKeyId", "\"STS.id\"", "\"STS.\\u001b[2Jid\""),
            (
                "AccessKeySecret",
                "\"sentinel-secret\"",
                "\"sentinel-secret\\u0000\"",
            ),
            (
                "SecurityToken",
                "\"sentinel-token\"",
                "\"sentinel-token\\n\"",
            ),
        ] {
            let err = provider_error(&OK.replace(from, to));
            assert_eq!(
                err.message(),
                format!("the credentials response's {field} holds a control character")
            );
        }
    }

    #[test]
    fn every_missing_or_empty_field_is_named() {
        let body = r#"{"Code":"Success","AccessKeyId":"","AccessKeySecret":"sentinel-secret"}"#;
        assert_eq!(
            provider_error(body).message(),
            "the credentials response lacks AccessKeyId, SecurityToken, Expiration"
        );
    }

    #[test]
    fn garbage_and_wrong_types_are_errors_that_quote_nothing() {
        let err = provider_error("<html>502 {not json");
        assert_eq!(
            err.message(),
            "the credentials response is not JSON (line 1, column 1)"
        );
        let err = provider_error(r#""sentinel-secret""#);
        assert_eq!(
            err.message(),
            "the credentials response is not a JSON object of string fields"
        );
        let err = provider_error(&OK.replace("\"sentinel-token\"", "[\"sentinel-token\"]"));
        assert_eq!(
            err.message(),
            "the credentials response is not a JSON object of string fields"
        );
        provider_error("");
    }

    #[test]
    fn a_bad_expiration_is_named() {
        let err = provider_error(&OK.replace("2023-11-14T22:13:20Z", "2023-11-14 22:13:20"));
        assert!(
            err.message().starts_with(
                "the credentials response has a bad Expiration: `2023-11-14 22:13:20`"
            ),
            "{err}"
        );
    }

    #[test]
    fn error_codes_are_taken_only_when_plausible() {
        assert_eq!(
            error_code(br#"{"Code":"NotFound","Message":"x"}"#).as_deref(),
            Some("NotFound")
        );
        assert_eq!(error_code(br#"{"Code":"has spaces /path?token"}"#), None);
        assert_eq!(error_code(b"not json"), None);
        assert_eq!(error_code(br#"{"Message":"x"}"#), None);
    }
}
