//! What the two STS providers share: where STS is, how a call is laid out on the wire, how answers and
//! refusals are read, and the rules for session names and durations.
//!
//! Used by [`RamRoleArnProvider`](crate::RamRoleArnProvider) (`AssumeRole`, signed) and
//! [`OidcRoleArnProvider`](crate::OidcRoleArnProvider) (`AssumeRoleWithOIDC`, anonymous). It has no
//! provider name of its own; errors carry the name of the provider that made the call.
//!
//! # Endpoint (spec §5.2)
//! [`EndpointSettings::resolve`] picks, in this order:
//! 1. the endpoint set in code ([`EndpointSettings::endpoint`]);
//! 2. `ALIBABA_CLOUD_STS_ENDPOINT` (ours: a host or a `scheme://host[:port]` URL);
//! 3. `<prefix>.<region>.aliyuncs.com` when a region is known — from code, else
//!    `ALIBABA_CLOUD_STS_REGION` — with prefix `sts-vpc` when VPC is on (from code, else
//!    `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true`) and `sts` otherwise;
//! 4. `sts.aliyuncs.com` (the VPC switch needs a region and is ignored without one).
//!
//! Always `https`; plain `http` only to loopback, or anywhere after an explicit
//! [`allow_http`](EndpointSettings::allow_http).
//!
//! # Wire (spec §2.2, §5.3, §7.3)
//! A POST to `<endpoint>/`: the common parameters (`Action`, `Version`, `Format`, `Timestamp` and,
//! for a signed call, `SignatureMethod`, `SignatureVersion`, `SignatureNonce`, `AccessKeyId`,
//! `Signature`) in the URL query; everything else — role, session, policy, OIDC token and the
//! source's `SecurityToken` — in the form body, so no token or policy ever travels in a URL. The
//! signature covers query and body together.
//!
//! ```
//! use mse_auth_providers::os::Env;
//! use mse_auth_providers::sts::EndpointSettings;
//!
//! let env = Env::from_pairs([("ALIBABA_CLOUD_STS_REGION", "cn-hangzhou")]);
//! let endpoint = EndpointSettings::default().vpc(true).resolve("ram_role_arn", &env)?;
//! assert_eq!(endpoint.origin(), "https://sts-vpc.cn-hangzhou.aliyuncs.com");
//! # Ok::<(), mse_auth_providers::CredentialsError>(())
//! ```

use crate::endpoint::Endpoint;
use crate::http::HttpResponse;
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

/// Where STS is, as configured in code; unset parts fall back to the environment in
/// [`resolve`](Self::resolve). See the [module docs](self) for the order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointSettings {
    endpoint: Option<String>,
    region: Option<String>,
    vpc: Option<bool>,
    allow_http: bool,
}

impl EndpointSettings {
    /// An explicit endpoint: a host (`sts.cn-hangzhou.aliyuncs.com`) or a `scheme://host[:port]` URL.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The STS region, e.g. `cn-hangzhou`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// `true` for the VPC endpoint `sts-vpc.<region>.aliyuncs.com`, `false` to ignore
    /// `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED`.
    pub fn vpc(mut self, vpc: bool) -> Self {
        self.vpc = Some(vpc);
        self
    }

    /// Permits a plain `http` endpoint that is not loopback. Credentials then cross the network
    /// unencrypted: only for private test deployments.
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// The endpoint these settings select in `env`. An unusable endpoint or region is
    /// `InvalidConfiguration` of `provider`, naming where the value came from.
    pub fn resolve(&self, provider: &'static str, env: &Env) -> Result<Endpoint> {
        let explicit = match non_empty(self.endpoint.as_deref()) {
            Some(value) => Some((value.to_owned(), "the configured STS endpoint")),
            None => env.get(vars::STS_ENDPOINT).map(|v| (v, vars::STS_ENDPOINT)),
        };
        if let Some((value, origin)) = explicit {
            return Endpoint::parse(&value, self.allow_http).map_err(|e| {
                CredentialsError::invalid_configuration(provider, format!("{origin}: {e}"))
            });
        }
        let region = match non_empty(self.region.as_deref()) {
            Some(region) => Some((region.to_owned(), "the configured STS region")),
            None => env.get(vars::STS_REGION).map(|r| (r, vars::STS_REGION)),
        };
        let host = match region {
            Some((region, origin)) => {
                check_region(provider, &region, origin)?;
                let vpc = self
                    .vpc
                    .unwrap_or_else(|| env.flag(vars::VPC_ENDPOINT_ENABLED));
                let prefix = if vpc { "sts-vpc" } else { "sts" };
                format!("{prefix}.{region}.aliyuncs.com")
            }
            None => DEFAULT_ENDPOINT.to_owned(),
        };
        Endpoint::parse(&host, false)
            .map_err(|e| CredentialsError::invalid_configuration(provider, e.to_string()))
    }
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// Region ids are lower-case letters, digits and dashes (`cn-hangzhou`, `ap-southeast-1`).
pub(crate) fn check_region(provider: &'static str, region: &str, origin: &str) -> Result<()> {
    let ok = region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        return Ok(());
    }
    let shown: String = region.chars().take(40).collect();
    Err(CredentialsError::invalid_configuration(
        provider,
        format!("{origin} `{shown}` is not a region id (lower-case letters, digits and `-`, e.g. cn-hangzhou)"),
    ))
}

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
    let shown: String = name.chars().take(40).collect();
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
    let name = configured
        .filter(|n| !n.is_empty())
        .or_else(|| env.get(vars::ROLE_SESSION_NAME))
        .unwrap_or_else(|| default_session_name(now));
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
    env.get(var).ok_or_else(|| {
        CredentialsError::invalid_configuration(
            provider,
            format!("the {what} is empty: pass it to the builder or set {var}"),
        )
    })
}

/// A fresh `SignatureNonce`.
pub(crate) use crate::rpc::new_nonce;
/// The parameters of one STS call (see [`rpc::Call`](crate::rpc::Call)).
pub(crate) use crate::rpc::Call;

impl Call {
    /// An STS call of `action` (API version [`API_VERSION`]) with the unsigned common parameters,
    /// timestamped `now`.
    pub(crate) fn new(action: &'static str, now: SystemTime) -> Self {
        Self::for_api(API_VERSION, action, now)
    }
}

/// Turns an STS answer into credentials reported as `path`, or into the matching error of
/// `provider`. `signed` is the string the client signed, if any.
pub(crate) fn read_response(
    provider: &'static str,
    action: &str,
    response: &HttpResponse,
    path: Cow<'static, str>,
    signed: Option<&str>,
) -> Result<Credentials> {
    if response.is_success() {
        parse_credentials(provider, action, &response.body, path)
    } else {
        Err(upstream_error(provider, action, response, signed))
    }
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
        Some(v) if !v.is_empty() => Ok(v),
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

/// The error of a non-2xx STS answer (spec §5.5); see [`rpc::upstream_error`](crate::rpc::upstream_error).
pub(crate) fn upstream_error(
    provider: &'static str,
    action: &str,
    response: &HttpResponse,
    signed: Option<&str>,
) -> CredentialsError {
    crate::rpc::upstream_error(provider, "STS", action, response, signed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Timeouts;
    use mse_auth::ErrorKind;

    const P: &str = "test_provider";

    type EnvPairs = [(&'static str, &'static str)];

    fn resolve(settings: EndpointSettings, env: &EnvPairs) -> Result<String> {
        settings
            .resolve(P, &Env::from_pairs(env.iter().copied()))
            .map(|e| e.origin())
    }

    #[test]
    fn endpoint_resolution_follows_spec_5_2() {
        let d = EndpointSettings::default;
        let cases: &[(EndpointSettings, &EnvPairs, &str)] = &[
            (d(), &[], "https://sts.aliyuncs.com"),
            (
                d().region("cn-hangzhou"),
                &[],
                "https://sts.cn-hangzhou.aliyuncs.com",
            ),
            (
                d().region("cn-hangzhou").vpc(true),
                &[],
                "https://sts-vpc.cn-hangzhou.aliyuncs.com",
            ),
            // VPC without a region is ignored.
            (d().vpc(true), &[], "https://sts.aliyuncs.com"),
            (
                d(),
                &[
                    (vars::STS_REGION, "cn-beijing"),
                    (vars::VPC_ENDPOINT_ENABLED, "TRUE"),
                ],
                "https://sts-vpc.cn-beijing.aliyuncs.com",
            ),
            (
                d(),
                &[(vars::VPC_ENDPOINT_ENABLED, "true")],
                "https://sts.aliyuncs.com",
            ),
            // Code wins over the environment, for region and VPC alike.
            (
                d().region("cn-shanghai").vpc(false),
                &[
                    (vars::STS_REGION, "cn-beijing"),
                    (vars::VPC_ENDPOINT_ENABLED, "true"),
                ],
                "https://sts.cn-shanghai.aliyuncs.com",
            ),
            (
                d(),
                &[
                    (vars::STS_ENDPOINT, "sts.example.internal"),
                    (vars::STS_REGION, "cn-beijing"),
                ],
                "https://sts.example.internal",
            ),
            (
                d().endpoint("http://127.0.0.1:9000"),
                &[(vars::STS_ENDPOINT, "sts.example.internal")],
                "http://127.0.0.1:9000",
            ),
            (
                d().endpoint("http://10.1.2.3:80").allow_http(true),
                &[],
                "http://10.1.2.3",
            ),
        ];
        for (settings, env, expected) in cases {
            assert_eq!(
                resolve(settings.clone(), env).as_deref().ok(),
                Some(*expected),
                "{settings:?} {env:?}"
            );
        }
    }

    #[test]
    fn unusable_endpoints_and_regions_are_invalid_configuration_naming_their_origin() {
        let err = resolve(
            EndpointSettings::default(),
            &[(vars::STS_ENDPOINT, "http://10.1.2.3")],
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert!(
            err.to_string().starts_with(&format!(
                "{P}: invalid configuration: {}: refusing plain http",
                vars::STS_ENDPOINT
            )),
            "{err}"
        );
        let err = resolve(EndpointSettings::default().region("cn-hangzhou/evil"), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "test_provider: invalid configuration: the configured STS region `cn-hangzhou/evil` is not \
             a region id (lower-case letters, digits and `-`, e.g. cn-hangzhou)"
        );
    }

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
        let mut call = Call::new("AssumeRole", now)
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
        let mut call = Call::new("AssumeRole", now).form("RoleArn", "acs:ram::1:role/r");
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
        let call = Call::new("AssumeRoleWithOIDC", now).form("OIDCToken", "tok");
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
    fn a_complete_answer_becomes_credentials() {
        let body = r#"{"RequestId":"R1","Credentials":{"AccessKeyId":"STS.abc","AccessKeySecret":"s3cr3t",
            "SecurityToken":"tok","Expiration":"2015-04-09T11:52:19Z"}}"#;
        let c = read_response(
            P,
            "AssumeRole",
            &response(200, body),
            "p/static_ak".into(),
            None,
        )
        .unwrap();
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
            let err =
                read_response(P, "AssumeRole", &response(200, body), "p".into(), None).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Provider, "{body}");
            assert_eq!(err.message(), message, "{body}");
            assert!(!format!("{err} {err:?}").contains("sentinel"), "{err:?}");
        }
        let err = read_response(
            P,
            "AssumeRole",
            &response(200, r#"{"RequestId":"R9"}"#),
            "p".into(),
            None,
        )
        .unwrap_err();
        assert_eq!(err.request_id(), Some("R9"));
    }

    #[test]
    fn error_bodies_map_to_provider_errors_with_code_request_id_and_status() {
        let body = r#"{"RequestId":"6B1C-AA","HostId":"sts.aliyuncs.com","Code":"InvalidAccessKeyId.NotFound",
            "Message":"Specified access key is not found.","Recommend":"https://api.aliyun.com/troubleshoot"}"#;
        let err =
            read_response(P, "AssumeRole", &response(404, body), "p".into(), None).unwrap_err();
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
        let err = upstream_error(P, "AssumeRole", &response(400, &body), Some(signed));
        assert_eq!(
            err.message(),
            "AssumeRole was refused: Specified signature is not matched with our calculation. (STS signed \
             the same string as we did, so the source AccessKey secret is wrong)"
        );
        assert!(!format!("{err} {err:?}").contains("sentinel"));
        let err = upstream_error(
            P,
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
    fn non_json_error_bodies_give_status_and_a_short_single_line_excerpt() {
        let body = format!("<html>\n<h1>502 Bad Gateway</h1>{}</html>", "x".repeat(500));
        let err = upstream_error(P, "AssumeRoleWithOIDC", &response(502, &body), None);
        assert_eq!(err.kind(), ErrorKind::Provider);
        assert_eq!(err.status(), Some(502));
        assert_eq!(err.code(), None);
        assert!(err.message().starts_with(
            "AssumeRoleWithOIDC failed with an unexpected body: <html> <h1>502 Bad Gateway</h1>xxx"
        ), "{err}");
        assert!(err.message().len() < 200, "{err}");
    }
}
