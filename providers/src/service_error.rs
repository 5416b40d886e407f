//! The refusals of the JSON services behind the CLI's sign-in modes, as [`CredentialsError`]s: the
//! HTTP status, and the code, message and request id the error body gives, each checked, escaped
//! and cut. Used by [`CloudSsoProvider`](crate::CloudSsoProvider) and
//! [`OAuthProvider`](crate::OAuthProvider).
//!
//! Two body shapes are read (no official source documents either service's errors; these are the
//! usual ones): the Alibaba Cloud shape `{"Code", "Message", "RequestId"}` (CloudSSO; `code`,
//! `message`, `requestId` too) and the OAuth 2.0 shape `{"error", "error_description"}` (RFC 6749
//! §5.2, RFC 6750 §3). Nothing else of the body is shown: a server that answers garbage gets its
//! status named, not its body quoted. A message that quotes a token the request carried is not shown
//! either.

use mse_auth::error::escape_untrusted;
use mse_auth::CredentialsError;
use serde::Deserialize;

/// Longest code or request id taken from a body.
const MAX_CODE: usize = 64;
/// Longest server message shown, in characters.
const MAX_MESSAGE: usize = 200;

/// What an error body says; every field optional, so that a body of another shape is still read for
/// what it has. Fields the services put credentials in are not read.
#[derive(Deserialize, Default)]
struct ErrorJson {
    #[serde(rename = "Code")]
    code_pascal: Option<String>,
    #[serde(rename = "code")]
    code_camel: Option<String>,
    error: Option<String>,
    #[serde(rename = "Message")]
    message_pascal: Option<String>,
    #[serde(rename = "message")]
    message_camel: Option<String>,
    error_description: Option<String>,
    #[serde(rename = "RequestId")]
    request_id_pascal: Option<String>,
    #[serde(rename = "requestId")]
    request_id_camel: Option<String>,
}

/// The parts of an error body worth showing.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ServiceError {
    /// `Code` / `code` / `error`, when it is made of code characters.
    pub(crate) code: Option<String>,
    /// `Message` / `message` / `error_description`, escaped and cut; `None` when it quoted a token
    /// the request carried.
    pub(crate) message: Option<String>,
    /// `RequestId` / `requestId`, when it is made of id characters.
    pub(crate) request_id: Option<String>,
}

fn plausible(value: &str, extra: &[char]) -> bool {
    !value.is_empty()
        && value.len() <= MAX_CODE
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
}

impl ServiceError {
    /// Reads an error body; `sent` are the tokens the request carried, which no shown message may
    /// quote.
    pub(crate) fn read(body: &[u8], sent: &[&str]) -> Self {
        let json: ErrorJson = serde_json::from_slice(body).unwrap_or_default();
        let code = [json.code_pascal, json.code_camel, json.error]
            .into_iter()
            .flatten()
            .find(|c| plausible(c, &['.', '_', '-', ':']));
        let message = [
            json.message_pascal,
            json.message_camel,
            json.error_description,
        ]
        .into_iter()
        .flatten()
        .map(|m| m.trim().to_owned())
        .find(|m| !m.is_empty())
        .filter(|m| !sent.iter().any(|t| !t.is_empty() && m.contains(t)))
        .map(|m| escape_untrusted(&m, MAX_MESSAGE));
        let request_id = [json.request_id_pascal, json.request_id_camel]
            .into_iter()
            .flatten()
            .find(|id| plausible(id, &['-']));
        Self {
            code,
            message,
            request_id,
        }
    }

    /// The error of `provider`: `what` (e.g. "the CloudSSO service at https://… refused the
    /// credentials request"), then what the server said, then `hint` (how to fix it), if any.
    pub(crate) fn into_error(
        self,
        provider: &'static str,
        what: &str,
        hint: Option<&str>,
    ) -> CredentialsError {
        let mut message = what.to_owned();
        if let Some(said) = &self.message {
            message.push_str(&format!(" (it says: {said})"));
        }
        if let Some(hint) = hint {
            message.push_str(&format!("; {hint}"));
        }
        let mut err = CredentialsError::provider(provider, message);
        if let Some(code) = self.code {
            err = err.with_code(code);
        }
        if let Some(id) = self.request_id {
            err = err.with_request_id(id);
        }
        err
    }
}

/// "refused" for a 4xx status, "failed" otherwise: what a service did with a request.
pub(crate) fn verb(status: u16) -> &'static str {
    if (400..500).contains(&status) {
        "refused"
    } else {
        "failed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_are_read() {
        let e = ServiceError::read(
            br#"{"RequestId":"5D7C-11","Code":"InvalidAccessToken.Expired","Message":"The access token is expired."}"#,
            &[],
        );
        assert_eq!(
            e,
            ServiceError {
                code: Some("InvalidAccessToken.Expired".into()),
                message: Some("The access token is expired.".into()),
                request_id: Some("5D7C-11".into()),
            }
        );
        let e = ServiceError::read(
            br#"{"error":"invalid_grant","error_description":"The refresh token was already used."}"#,
            &[],
        );
        assert_eq!(e.code.as_deref(), Some("invalid_grant"));
        assert_eq!(
            e.message.as_deref(),
            Some("The refresh token was already used.")
        );
        assert_eq!(e.request_id, None);
    }

    #[test]
    fn odd_codes_long_or_hostile_messages_and_garbage_are_tamed() {
        let e = ServiceError::read(
            format!(
                r#"{{"Code":"has spaces /and?query","Message":"\u001b[31m{}","RequestId":"id with space"}}"#,
                "m".repeat(300)
            )
            .as_bytes(),
            &[],
        );
        assert_eq!(e.code, None);
        assert_eq!(e.request_id, None);
        let message = e.message.unwrap();
        assert!(message.starts_with("\\x1b[31mmmm"), "{message}");
        assert!(message.ends_with('…'), "{message}");
        assert_eq!(
            ServiceError::read(b"<html>502", &[]),
            ServiceError::default()
        );
        assert_eq!(
            ServiceError::read(br#"{"error":7}"#, &[]),
            ServiceError::default()
        );
    }

    #[test]
    fn a_message_quoting_a_sent_token_is_not_shown() {
        let body =
            br#"{"error":"invalid_grant","error_description":"unknown refresh token sentinel-rt"}"#;
        let e = ServiceError::read(body, &["", "sentinel-rt"]);
        assert_eq!(e.code.as_deref(), Some("invalid_grant"));
        assert_eq!(e.message, None);
        let err = e.into_error("oauth", "the OAuth service refused", Some("log in again"));
        assert_eq!(
            err.to_string(),
            "oauth: invalid_grant: the OAuth service refused; log in again"
        );
    }

    #[test]
    fn the_error_names_what_failed_what_the_server_said_and_the_fix() {
        let err = ServiceError::read(
            br#"{"Code":"NoPermission","Message":"denied","RequestId":"ABC-1"}"#,
            &[],
        )
        .into_error(
            "cloud_sso",
            "the CloudSSO service refused the request",
            None,
        )
        .with_status(403);
        assert_eq!(
            err.to_string(),
            "cloud_sso: HTTP 403: NoPermission: the CloudSSO service refused the request (it says: \
             denied) (RequestId ABC-1)"
        );
        assert_eq!(
            (verb(401), verb(500), verb(302)),
            ("refused", "failed", "failed")
        );
    }
}
