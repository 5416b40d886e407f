//! The one RPC path of every RPC-style (POP) product, STS and KMS alike: [`send`] signs a [`Call`],
//! sends it and reads the answer; [`signing_credentials`] resolves who signs it.
//!
//! A call is a POST to `<endpoint>/`: the common parameters (`Action`, `Version`, `Format`,
//! `Timestamp` and, when signed, `SignatureMethod`, `SignatureVersion`, `SignatureNonce`,
//! `AccessKeyId`, `Signature`) travel in the URL query; every action parameter and the source's
//! `SecurityToken` travel in the form body. The RPC v1 signature covers both (spec §2.2). The
//! `Signature` is in the query, as the official Go and Node clients send it; it is not a secret, and
//! it signs a timestamp and a nonce that the service accepts once.

use crate::endpoint::{Endpoint, Product};
use crate::http::{HttpRequest, HttpResponse, Timeouts, TransportErrorKind};
use crate::Context;
use mse_auth::error::escape_untrusted;
use mse_auth::sign::rpc_v1;
use mse_auth::timestamp::format_utc;
use mse_auth::{
    Credentials, CredentialsError, CredentialsProvider, ErrorKind, Result,
    SharedCredentialsProvider,
};
use serde_json::Value;
use std::fmt;
use std::time::SystemTime;
use zeroize::Zeroizing;

/// Who makes a call, to which product, where.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Target<'a> {
    /// The provider (or client) named in errors.
    pub(crate) provider: &'static str,
    pub(crate) product: Product,
    pub(crate) endpoint: &'a Endpoint,
    pub(crate) timeouts: Timeouts,
}

/// A failed call: the error, and whether trying again may succeed (a transport timeout or refused
/// connection, or a 5xx answer).
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: CredentialsError,
    pub(crate) transient: bool,
}

impl From<Failure> for CredentialsError {
    fn from(failure: Failure) -> Self {
        failure.error
    }
}

/// Signs `call` with `signer` (anonymous when `None`), sends it to `to` and returns the body of a 2xx
/// answer; any other answer becomes the product's error ([`upstream_error`]). The body is wiped when
/// dropped: it may hold secrets.
pub(crate) async fn send(
    ctx: &Context,
    to: Target<'_>,
    mut call: Call,
    signer: Option<&Credentials>,
) -> std::result::Result<Zeroizing<Vec<u8>>, Failure> {
    let signed = signer.map(|source| call.sign(source, &new_nonce()));
    let action = call.action;
    let response = ctx
        .http()
        .send(call.into_request(to.endpoint, to.timeouts))
        .await
        .map_err(|e| Failure {
            transient: matches!(
                e.kind(),
                TransportErrorKind::Timeout | TransportErrorKind::Connect
            ),
            error: e.into_credentials_error(to.provider),
        })?;
    if response.is_success() {
        return Ok(Zeroizing::new(response.body));
    }
    let error = upstream_error(
        to.provider,
        to.product.name(),
        action,
        &response,
        signed.as_deref().map(String::as_str),
    );
    let transient = response.status >= 500;
    drop(Zeroizing::new(response.body));
    Err(Failure { error, transient })
}

/// The credentials that sign calls of `provider`, from `source`. A source that is not configured is
/// a configuration error here: the caller *is* configured, and cannot work without it. `what` names
/// them in that message (`source credentials`).
pub(crate) async fn signing_credentials(
    provider: &'static str,
    source: &SharedCredentialsProvider,
    what: &str,
) -> Result<Credentials> {
    match source.provide_credentials().await {
        Ok(credentials) => Ok(credentials),
        Err(err) if err.kind() == ErrorKind::NotLoaded => {
            Err(CredentialsError::invalid_configuration(
                format!("{provider}/{}", err.provider_path()),
                format!("the {what} are not available: {}", err.message()),
            )
            .with_source(err))
        }
        Err(err) => Err(err.in_provider(provider)),
    }
}

/// A fresh `SignatureNonce`: 32 random hex characters.
pub(crate) fn new_nonce() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

/// The parameters of one RPC call, split the way they travel: `query` in the URL (nothing secret),
/// `form` in the POST body.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Call {
    pub(crate) action: &'static str,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) form: Vec<(&'static str, String)>,
    headers: Vec<(&'static str, String)>,
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: values include tokens.
        let names = |p: &[(&'static str, String)]| p.iter().map(|(k, _)| *k).collect::<Vec<_>>();
        f.debug_struct("Call")
            .field("action", &self.action)
            .field("query", &names(&self.query))
            .field("form", &names(&self.form))
            .field("headers", &names(&self.headers))
            .finish()
    }
}

impl Call {
    /// A call of `action` of API `version` with the unsigned common parameters, timestamped `now`.
    pub(crate) fn for_api(version: &'static str, action: &'static str, now: SystemTime) -> Self {
        Self {
            action,
            query: vec![
                ("Action", action.to_owned()),
                ("Version", version.to_owned()),
                ("Format", "JSON".to_owned()),
                ("Timestamp", format_utc(now)),
            ],
            form: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Adds a request header.
    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Adds a body parameter.
    pub(crate) fn form(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.form.push((key, value.into()));
        self
    }

    /// Adds a body parameter when `value` is set and not empty.
    pub(crate) fn form_opt(self, key: &'static str, value: Option<&str>) -> Self {
        match value.filter(|v| !v.is_empty()) {
            Some(value) => self.form(key, value),
            None => self,
        }
    }

    /// Signs with `source` (RPC v1, method POST, over query and body): adds the signature parameters
    /// to the query and the source's `SecurityToken` to the body. Returns the string that was signed,
    /// to diagnose `SignatureDoesNotMatch`.
    pub(crate) fn sign(&mut self, source: &Credentials, nonce: &str) -> Zeroizing<String> {
        self.query.extend([
            ("SignatureMethod", rpc_v1::SIGNATURE_METHOD.to_owned()),
            ("SignatureVersion", rpc_v1::SIGNATURE_VERSION.to_owned()),
            ("SignatureNonce", nonce.to_owned()),
            ("AccessKeyId", source.access_key_id().to_owned()),
        ]);
        if let Some(token) = source.security_token() {
            self.form.push(("SecurityToken", token.to_owned()));
        }
        let string_to_sign = Zeroizing::new(self.string_to_sign());
        let signature = rpc_v1::sign_string_to_sign(&string_to_sign, source.access_key_secret());
        self.query.push(("Signature", signature));
        string_to_sign
    }

    /// The RPC v1 string to sign of every parameter but `Signature`.
    fn string_to_sign(&self) -> String {
        let params: Vec<(&str, &str)> = self
            .query
            .iter()
            .chain(&self.form)
            .filter(|(k, _)| *k != "Signature")
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        rpc_v1::string_to_sign("POST", &params)
    }

    /// The POST to `<endpoint>/`.
    pub(crate) fn into_request(self, endpoint: &Endpoint, timeouts: Timeouts) -> HttpRequest {
        let mut url = endpoint.url("/");
        url.query_pairs_mut()
            .extend_pairs(self.query.iter().map(|(k, v)| (*k, v.as_str())));
        let request = HttpRequest::post_form(
            url,
            self.form.iter().map(|(k, v)| (*k, v.as_str())),
            timeouts,
        );
        self.headers
            .into_iter()
            .fold(request, |request, (name, value)| {
                request.header(name, value)
            })
    }
}

/// The marker after which an RPC service (STS, KMS) quotes its string to sign in
/// `SignatureDoesNotMatch` messages. That
/// quote holds every parameter, the security token included, so it is never passed on.
const SERVER_STRING_TO_SIGN: &str = "server string to sign is:";
/// Longest upstream message passed on.
const MAX_MESSAGE: usize = 300;

/// The error of a non-2xx answer of `service` (spec §5.5): `Provider` with the upstream `Code`, `Message`,
/// `RequestId` and the HTTP status; a body that is not the POP error JSON gives a short excerpt. All of
/// it comes from outside, so all of it is cut short and escaped ([`escape_untrusted`]): an escape
/// sequence, a bell or a carriage return in an answer never reaches a terminal raw.
pub(crate) fn upstream_error(
    provider: &'static str,
    service: &str,
    action: &str,
    response: &HttpResponse,
    signed: Option<&str>,
) -> CredentialsError {
    let json: Option<Value> = serde_json::from_slice(&response.body).ok();
    let text = |key: &str| {
        json.as_ref()
            .and_then(|j| j.get(key))
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let Some(code) = text("Code") else {
        // Line breaks read as spaces; every other control character is escaped.
        let excerpt = response.body_excerpt(120).replace(['\n', '\r', '\t'], " ");
        return CredentialsError::provider(
            provider,
            format!(
                "{action} failed with an unexpected body: {}",
                escape_untrusted(&excerpt, 120)
            ),
        )
        .with_status(response.status);
    };
    let upstream = text("Message").unwrap_or("(no message)");
    let (upstream, server_signed) = match upstream.split_once(SERVER_STRING_TO_SIGN) {
        Some((before, after)) => (before.trim_end(), Some(after)),
        None => (upstream, None),
    };
    let mut message = format!(
        "{action} was refused: {}",
        escape_untrusted(upstream, MAX_MESSAGE)
    );
    if code == "SignatureDoesNotMatch" && server_signed.is_some() && server_signed == signed {
        message.push_str(&format!(
            " ({service} signed the same string as we did, so the source AccessKey secret is wrong)"
        ));
    }
    let err = CredentialsError::provider(provider, message)
        .with_code(code)
        .with_status(response.status);
    match text("RequestId") {
        Some(id) => err.with_request_id(id),
        None => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const P: &str = "test_provider";

    fn source(token: Option<&str>) -> Credentials {
        let b = Credentials::builder()
            .access_key_id("testid")
            .access_key_secret("testsecret");
        match token {
            Some(t) => b.security_token(t).build().unwrap(),
            None => b.build().unwrap(),
        }
    }

    #[test]
    fn signed_call_matches_the_spec_vector_and_keeps_action_params_in_the_body() {
        // spec §2.2, "AssumeRole vector", POST.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200); // 2024-01-01T00:00:00Z
        let mut call = Call::for_api("2015-04-01", "AssumeRole", now)
            .form("RoleArn", "acs:ram::123456789012:role/test")
            .form("RoleSessionName", "session-1")
            .form("DurationSeconds", "3600")
            .form_opt(
                "Policy",
                Some(r#"{"Statement": [{"Action": ["*"],"Effect": "Allow","Resource": ["*"]}],"Version":"1"}"#),
            )
            .form_opt("ExternalId", Some(""));
        call.sign(&source(None), "0123456789abcdef0123456789abcdef");
        let get =
            |p: &[(&str, String)], k: &str| p.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
        assert_eq!(
            get(&call.query, "Signature").as_deref(),
            Some("jOulhxYjxn4sWqWuZu8P6qWfyWU=")
        );
        let query: Vec<&str> = call.query.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            query,
            [
                "Action",
                "Version",
                "Format",
                "Timestamp",
                "SignatureMethod",
                "SignatureVersion",
                "SignatureNonce",
                "AccessKeyId",
                "Signature"
            ]
        );
        let form: Vec<&str> = call.form.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            form,
            ["RoleArn", "RoleSessionName", "DurationSeconds", "Policy"]
        );
    }

    #[test]
    fn an_sts_source_token_travels_in_the_body_and_is_signed() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200);
        let mut call =
            Call::for_api("2015-04-01", "AssumeRole", now).form("RoleArn", "acs:ram::1:role/r");
        let signed = call.sign(&source(Some("sentinel-token")), "n");
        assert!(call
            .query
            .iter()
            .all(|(k, v)| *k != "SecurityToken" && !v.contains("sentinel")));
        assert!(call
            .form
            .contains(&("SecurityToken", "sentinel-token".to_owned())));
        assert!(signed.contains("SecurityToken%3Dsentinel-token"));
        let endpoint = Endpoint::parse("https://sts.example.com", false).unwrap();
        let request = call.clone().into_request(&endpoint, Timeouts::STS);
        assert!(
            !request.url().as_str().contains("sentinel"),
            "{}",
            request.url()
        );
        assert!(request
            .url()
            .as_str()
            .starts_with("https://sts.example.com/?Action=AssumeRole&"));
        assert!(!format!("{call:?} {request:?}").contains("sentinel"));
    }

    #[test]
    fn unsigned_calls_carry_only_the_four_common_params_in_the_query() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200);
        let call = Call::for_api("2015-04-01", "AssumeRoleWithOIDC", now).form("OIDCToken", "tok");
        assert_eq!(
            call.query,
            [
                ("Action", "AssumeRoleWithOIDC".to_owned()),
                ("Version", "2015-04-01".to_owned()),
                ("Format", "JSON".to_owned()),
                ("Timestamp", "2024-01-01T00:00:00Z".to_owned()),
            ]
        );
        let n = new_nonce();
        assert_eq!(n.len(), 32);
        assert!(n.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(n, new_nonce());
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn error_bodies_map_to_provider_errors_with_code_request_id_and_status() {
        let body = r#"{"RequestId":"6B1C-AA","HostId":"sts.aliyuncs.com","Code":"InvalidAccessKeyId.NotFound",
            "Message":"Specified access key is not found.","Recommend":"https://api.aliyun.com/troubleshoot"}"#;
        let err = upstream_error(P, "STS", "AssumeRole", &response(404, body), None);
        assert_eq!(err.kind(), ErrorKind::Provider);
        assert_eq!(err.code(), Some("InvalidAccessKeyId.NotFound"));
        assert_eq!(err.request_id(), Some("6B1C-AA"));
        assert_eq!(err.status(), Some(404));
        assert_eq!(
            err.to_string(),
            "test_provider: HTTP 404: InvalidAccessKeyId.NotFound: AssumeRole was refused: Specified access \
             key is not found. (RequestId 6B1C-AA)"
        );
    }

    #[test]
    fn the_servers_string_to_sign_is_dropped_and_a_wrong_secret_is_named() {
        let signed = "POST&%2F&AccessKeyId%3Did%26SecurityToken%3Dsentinel";
        let body = format!(
            r#"{{"RequestId":"R","Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation. server string to sign is:{signed}"}}"#
        );
        let err = upstream_error(P, "STS", "AssumeRole", &response(400, &body), Some(signed));
        assert_eq!(
            err.message(),
            "AssumeRole was refused: Specified signature is not matched with our calculation. (STS signed \
             the same string as we did, so the source AccessKey secret is wrong)"
        );
        assert!(!format!("{err} {err:?}").contains("sentinel"));
        let err = upstream_error(
            P,
            "STS",
            "AssumeRole",
            &response(400, &body),
            Some("POST&%2F&other"),
        );
        assert_eq!(
            err.message(),
            "AssumeRole was refused: Specified signature is not matched with our calculation."
        );
    }

    #[test]
    fn upstream_code_message_and_request_id_reach_no_terminal_raw() {
        let hostile = "\u{1b}[31mred\u{1b}[0m\u{7}\roverwritten\u{1b}]0;title\u{7}";
        let body = serde_json::json!({
            "Code": format!("Denied{hostile}"),
            "Message": format!("{hostile}{}", "m".repeat(1000)),
            "RequestId": format!("R-{hostile}"),
        })
        .to_string();
        let err = upstream_error(P, "STS", "AssumeRole", &response(403, &body), None);
        let escaped = "\\x1b[31mred\\x1b[0m\\x07\\roverwritten\\x1b]0;title\\x07";
        assert_eq!(err.code(), Some(format!("Denied{escaped}").as_str()));
        assert_eq!(err.request_id(), Some(format!("R-{escaped}").as_str()));
        assert!(
            err.message()
                .starts_with(&format!("AssumeRole was refused: {escaped}mmm")),
            "{err}"
        );
        // 300 characters of the message are kept: the 41 of `hostile` and 259 `m`.
        assert!(
            err.message().ends_with(&format!("{}…", "m".repeat(259))),
            "{err}"
        );
        let shown = format!("{err} {err:?}");
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
        let long_id =
            serde_json::json!({"Code": "C", "Message": "m", "RequestId": "r".repeat(10_000)})
                .to_string();
        let err = upstream_error(P, "KMS", "GetSecretValue", &response(400, &long_id), None);
        assert_eq!(err.request_id().map(|id| id.chars().count()), Some(129));
        let err = upstream_error(
            P,
            "STS",
            "AssumeRole",
            &response(502, "<h1>\u{1b}[5mBad\u{7}</h1>\r\n"),
            None,
        );
        assert_eq!(
            err.message(),
            "AssumeRole failed with an unexpected body: <h1>\\x1b[5mBad\\x07</h1>  "
        );
    }

    #[test]
    fn non_json_error_bodies_give_status_and_a_short_single_line_excerpt() {
        let body = format!("<html>\n<h1>502 Bad Gateway</h1>{}</html>", "x".repeat(500));
        let err = upstream_error(P, "STS", "AssumeRoleWithOIDC", &response(502, &body), None);
        assert_eq!(err.kind(), ErrorKind::Provider);
        assert_eq!(err.status(), Some(502));
        assert_eq!(err.code(), None);
        assert!(err.message().starts_with(
            "AssumeRoleWithOIDC failed with an unexpected body: <html> <h1>502 Bad Gateway</h1>xxx"
        ), "{err}");
        assert!(err.message().len() < 200, "{err}");
    }
}
