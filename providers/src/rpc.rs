//! What every RPC-style (POP) call shares, whatever the product: the layout of a signed POST and the
//! reading of refusals. Used by STS ([`sts`](crate::sts)) and KMS.
//!
//! A call is a POST to `<endpoint>/`: the common parameters (`Action`, `Version`, `Format`,
//! `Timestamp` and, when signed, `SignatureMethod`, `SignatureVersion`, `SignatureNonce`,
//! `AccessKeyId`, `Signature`) travel in the URL query; every action parameter and the source's
//! `SecurityToken` travel in the form body. The RPC v1 signature covers both (spec §2.2).

use crate::endpoint::Endpoint;
use crate::http::{HttpRequest, HttpResponse, Timeouts};
use mse_auth::sign::rpc_v1;
use mse_auth::timestamp::format_utc;
use mse_auth::{Credentials, CredentialsError};
use serde_json::Value;
use std::fmt;
use std::time::SystemTime;
use zeroize::Zeroizing;

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
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: values include tokens.
        let names = |p: &[(&'static str, String)]| p.iter().map(|(k, _)| *k).collect::<Vec<_>>();
        f.debug_struct("Call")
            .field("action", &self.action)
            .field("query", &names(&self.query))
            .field("form", &names(&self.form))
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
        }
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
        HttpRequest::post_form(
            url,
            self.form.iter().map(|(k, v)| (*k, v.as_str())),
            timeouts,
        )
    }
}

/// The marker after which an RPC service (STS, KMS) quotes its string to sign in
/// `SignatureDoesNotMatch` messages. That
/// quote holds every parameter, the security token included, so it is never passed on.
const SERVER_STRING_TO_SIGN: &str = "server string to sign is:";
/// Longest upstream message passed on.
const MAX_MESSAGE: usize = 300;

/// The error of a non-2xx answer of `service` (spec §5.5): `Provider` with the upstream `Code`, `Message`,
/// `RequestId` and the HTTP status; a body that is not the POP error JSON gives a short excerpt.
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
        let excerpt: String = response
            .body_excerpt(120)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        return CredentialsError::provider(
            provider,
            format!("{action} failed with an unexpected body: {excerpt}"),
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
        upstream.chars().take(MAX_MESSAGE).collect::<String>()
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
