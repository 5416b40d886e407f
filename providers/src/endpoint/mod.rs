//! Endpoints given as a host (`sts.cn-hangzhou.aliyuncs.com`) or a URL (`http://127.0.0.1:8080`), and
//! where the RPC products are ([`EndpointSettings`], [`Product`]).
//!
//! `https` is the default. Plain `http` is accepted only for loopback addresses and the ECS metadata
//! address `100.100.100.200`, unless the caller opts in explicitly: credentials must not cross a network
//! in clear text by accident. The opt-ins: `allow_http(true)` on a builder (or `true` here), the
//! environment variable `MSE_AUTH_INSECURE_ALLOW_HTTP=true` ([`vars::INSECURE_ALLOW_HTTP`], read by
//! every provider for every endpoint: STS, KMS, ECS metadata, credentials URI, CloudSSO, OAuth), or the CLI's
//! `--insecure-allow-http`, which sets that variable. Each plain-http endpoint an opt-in lets through
//! is logged at `warn`, naming its origin.
//!
//! ```
//! use mse_auth_providers::endpoint::Endpoint;
//!
//! let sts = Endpoint::parse("sts.cn-hangzhou.aliyuncs.com", false).unwrap();
//! assert_eq!(sts.origin(), "https://sts.cn-hangzhou.aliyuncs.com");
//! let local = Endpoint::parse("http://127.0.0.1:8080", false).unwrap();
//! assert_eq!(local.url("/latest/api/token").as_str(), "http://127.0.0.1:8080/latest/api/token");
//! assert!(Endpoint::parse("http://sts.example.com", false).is_err()); // needs the opt-in
//! assert!(Endpoint::parse("http://sts.example.com", true).is_ok());
//! ```

use mse_auth::os::Env;
use mse_auth::{vars, Result};
use reqwest::Url;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

mod settings;

pub use settings::{EndpointSettings, Product};

/// The ECS instance metadata address.
pub const METADATA_ADDRESS: Ipv4Addr = Ipv4Addr::new(100, 100, 100, 200);

/// A parsed, checked base URL.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    base: Url,
}

/// Why an endpoint or URL was refused. The message shows at most `scheme://host[:port]`: paths and
/// queries may carry tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointError(String);

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EndpointError {}

impl Endpoint {
    /// Parses a host or a `scheme://host[:port]` URL (a path other than `/`, a query or user info are
    /// refused). `allow_http` permits plain `http` to any host.
    pub fn parse(value: &str, allow_http: bool) -> std::result::Result<Self, EndpointError> {
        Self::parse_with_default_scheme(value, "https", allow_http)
    }

    /// As [`parse`](Self::parse), but a bare host means `default_scheme://host`: `http` for a service
    /// that speaks plain HTTP only, such as the ECS instance metadata service. The http rule still
    /// applies: plain `http` to a host that is not loopback or `100.100.100.200` needs `allow_http`.
    ///
    /// ```
    /// use mse_auth_providers::endpoint::Endpoint;
    ///
    /// let imds = Endpoint::parse_with_default_scheme("127.0.0.1:8080", "http", false).unwrap();
    /// assert_eq!(imds.origin(), "http://127.0.0.1:8080");
    /// assert!(Endpoint::parse_with_default_scheme("10.0.0.8", "http", false).is_err());
    /// ```
    pub fn parse_with_default_scheme(
        value: &str,
        default_scheme: &str,
        allow_http: bool,
    ) -> std::result::Result<Self, EndpointError> {
        let value = value.trim();
        let url = if value.contains("://") {
            parse_url(value)?
        } else {
            parse_url(&format!("{default_scheme}://{value}"))?
        };
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(EndpointError(format!(
                "the endpoint {} must be a host or scheme://host[:port], without a path or query",
                origin(&url)
            )));
        }
        check_url(&url, allow_http)?;
        Ok(Self { base: url })
    }

    /// The endpoint at the origin (`scheme://host[:port]`) of a full URL, whose path, query and
    /// fragment are dropped: e.g. the CloudSSO service of a sign-in URL. The URL follows the same
    /// `http` rule as [`parse`](Self::parse).
    ///
    /// ```
    /// use mse_auth_providers::endpoint::Endpoint;
    /// let sso = Endpoint::origin_of("https://signin-cn-shanghai.alibabacloudsso.com/d-123/login", false)?;
    /// assert_eq!(sso.url("/cloud-credentials").as_str(), "https://signin-cn-shanghai.alibabacloudsso.com/cloud-credentials");
    /// assert!(Endpoint::origin_of("http://sso.example.com/login", false).is_err());
    /// # Ok::<(), mse_auth_providers::endpoint::EndpointError>(())
    /// ```
    pub fn origin_of(value: &str, allow_http: bool) -> std::result::Result<Self, EndpointError> {
        let mut url = parse_url(value.trim())?;
        check_url(&url, allow_http)?;
        url.set_path("/");
        url.set_query(None);
        url.set_fragment(None);
        Ok(Self { base: url })
    }

    /// The URL of `path` on this endpoint.
    pub fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        url.set_path(path);
        url
    }

    /// `scheme://host[:port]`, for messages.
    pub fn origin(&self) -> String {
        origin(&self.base)
    }

    /// `true` for plain `http`.
    pub fn is_http(&self) -> bool {
        self.base.scheme() == "http"
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Endpoint").field(&self.origin()).finish()
    }
}

fn parse_url(value: &str) -> std::result::Result<Url, EndpointError> {
    let url = Url::parse(value).map_err(|e| {
        EndpointError(format!(
            "`{}` is not a valid URL or host: {e}",
            shown(value)
        ))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(EndpointError(format!(
            "the URL {} must not carry user info",
            origin(&url)
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(EndpointError(format!("`{}` has no host", shown(value))));
    }
    Ok(url)
}

/// The scheme and authority of a value, for an error message: paths and queries may carry tokens.
fn shown(value: &str) -> String {
    let (scheme, rest) = value.split_once("://").unwrap_or(("", value));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let cut = mse_auth::error::escape_untrusted(authority, 80);
    if scheme.is_empty() {
        cut
    } else {
        format!("{}://{cut}", mse_auth::error::escape_untrusted(scheme, 20))
    }
}

/// Checks a full URL (e.g. a credentials URI, path and query allowed): `https`, or `http` to loopback or
/// the metadata address, or `http` anywhere with `allow_http`.
pub fn check_url(url: &Url, allow_http: bool) -> std::result::Result<(), EndpointError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_local(url) => Ok(()),
        "http" if allow_http => {
            tracing::warn!(
                endpoint = %origin(url),
                "plain http allowed by an explicit opt-in: credentials cross the network unencrypted"
            );
            Ok(())
        }
        "http" => Err(EndpointError(format!(
            "refusing plain http to {}: credentials would cross the network unencrypted; use https, \
             or opt in with {}=true (CLI: --insecure-allow-http)",
            origin(url),
            vars::INSECURE_ALLOW_HTTP
        ))),
        other => Err(EndpointError(format!(
            "unsupported scheme `{other}` in {}: use https",
            origin(url)
        ))),
    }
}

/// `true` when `MSE_AUTH_INSECURE_ALLOW_HTTP` opts in to plain `http` to any host; an unreadable
/// value is `InvalidConfiguration` of `provider` naming the variable.
pub fn insecure_allow_http(env: &Env, provider: &'static str) -> Result<bool> {
    env.get_bool(vars::INSECURE_ALLOW_HTTP)
        .map(|v| v.unwrap_or(false))
        .map_err(|e| e.invalid_configuration(provider))
}

/// Parses and checks a full URL, path and query allowed.
pub fn parse_full_url(value: &str, allow_http: bool) -> std::result::Result<Url, EndpointError> {
    let url = parse_url(value.trim())?;
    check_url(&url, allow_http)?;
    Ok(url)
}

fn is_local(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip == METADATA_ADDRESS,
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// `scheme://host[:port]` of a URL: what messages may show.
pub fn origin(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_become_https_and_urls_keep_their_port() {
        let e = Endpoint::parse("sts-vpc.cn-shanghai.aliyuncs.com", false).unwrap();
        assert_eq!(
            e.url("/").as_str(),
            "https://sts-vpc.cn-shanghai.aliyuncs.com/"
        );
        let e = Endpoint::parse("https://sts.example.com:8443/", false).unwrap();
        assert_eq!(e.origin(), "https://sts.example.com:8443");
        assert!(!e.is_http());
    }

    #[test]
    fn plain_http_only_to_loopback_metadata_or_with_opt_in() {
        for ok in [
            "http://127.0.0.1:1",
            "http://127.8.9.10",
            "http://localhost:8080",
            "http://[::1]:9",
            "http://100.100.100.200",
        ] {
            assert!(Endpoint::parse(ok, false).unwrap().is_http(), "{ok}");
        }
        let err = Endpoint::parse("http://10.0.0.5:80", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "refusing plain http to http://10.0.0.5: credentials would cross the network unencrypted; \
             use https, or opt in with MSE_AUTH_INSECURE_ALLOW_HTTP=true (CLI: --insecure-allow-http)"
        );
        assert!(Endpoint::parse("http://10.0.0.5", true).is_ok());
    }

    #[test]
    fn paths_queries_user_info_and_odd_schemes_are_refused_without_echoing_them() {
        let err = Endpoint::parse("https://sts.example.com/x?token=sentinel", false).unwrap_err();
        assert!(!err.to_string().contains("sentinel"), "{err}");
        assert!(err.to_string().contains("without a path or query"), "{err}");
        let err = Endpoint::parse("https://user:sentinel@sts.example.com", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the URL https://sts.example.com must not carry user info"
        );
        let err = Endpoint::parse("ftp://sts.example.com", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported scheme `ftp` in ftp://sts.example.com: use https"
        );
        assert!(Endpoint::parse("", false).is_err());
        let err = parse_full_url("http://bad host/sentinel-path", false).unwrap_err();
        assert!(!err.to_string().contains("sentinel"), "{err}");
        let err = parse_full_url("https://user:sentinel@/x", false).unwrap_err();
        assert!(!err.to_string().contains("sentinel"), "{err}");
        assert!(Endpoint::parse("http://", false).is_err());
    }

    #[test]
    fn a_bare_host_takes_the_default_scheme_given_and_still_follows_the_http_rule() {
        let e = Endpoint::parse_with_default_scheme("127.0.0.1:8080", "http", false).unwrap();
        assert_eq!(e.origin(), "http://127.0.0.1:8080");
        assert!(e.is_http());
        let e = Endpoint::parse_with_default_scheme("100.100.100.200", "http", false).unwrap();
        assert_eq!(e.url("/latest").as_str(), "http://100.100.100.200/latest");
        let e =
            Endpoint::parse_with_default_scheme("https://md.example.com", "http", false).unwrap();
        assert!(!e.is_http(), "an explicit scheme wins");
        let err = Endpoint::parse_with_default_scheme("10.0.0.8", "http", false).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("refusing plain http to http://10.0.0.8:"),
            "{err}"
        );
        assert!(Endpoint::parse_with_default_scheme("10.0.0.8", "http", true).is_ok());
    }

    #[test]
    fn the_opt_in_variable_is_a_boolean_naming_itself_when_unreadable() {
        let read =
            |v: &str| insecure_allow_http(&Env::from_pairs([(vars::INSECURE_ALLOW_HTTP, v)]), "p");
        assert!(read("true").unwrap() && read("1").unwrap() && read(" YES").unwrap());
        assert!(!read("false").unwrap() && !read("").unwrap());
        assert!(!insecure_allow_http(&Env::from_pairs::<&str, &str>([]), "p").unwrap());
        let err = read("please").unwrap_err();
        assert_eq!(err.kind(), mse_auth::ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "p: invalid configuration: MSE_AUTH_INSECURE_ALLOW_HTTP must be true or false (also 1/0, \
             yes/no, on/off, in any case), not `please`"
        );
    }

    #[test]
    fn origins_of_full_urls_drop_path_and_query_and_follow_the_http_rule() {
        let e = Endpoint::origin_of(" http://127.0.0.1:9/d-1/login?x=sentinel#f ", false).unwrap();
        assert_eq!(
            e.url("/cloud-credentials").as_str(),
            "http://127.0.0.1:9/cloud-credentials"
        );
        assert_eq!(format!("{e:?}"), "Endpoint(\"http://127.0.0.1:9\")");
        let err =
            Endpoint::origin_of("http://sso.example.com/login?t=sentinel", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "refusing plain http to http://sso.example.com: credentials would cross the network \
             unencrypted; use https, or opt in with MSE_AUTH_INSECURE_ALLOW_HTTP=true (CLI: \
             --insecure-allow-http)"
        );
        assert!(Endpoint::origin_of("http://sso.example.com/login", true).is_ok());
        let err =
            Endpoint::origin_of("https://user:sentinel@sso.example.com/x", false).unwrap_err();
        assert!(!err.to_string().contains("sentinel"), "{err}");
        assert!(Endpoint::origin_of("not a url", false).is_err());
    }

    #[test]
    fn full_urls_keep_path_and_query_but_follow_the_http_rule() {
        let url = parse_full_url("http://127.0.0.1:9/credentials/abc?x=1", false).unwrap();
        assert_eq!(url.path(), "/credentials/abc");
        let err =
            parse_full_url("http://creds.internal/secret-path?t=sentinel", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "refusing plain http to http://creds.internal: credentials would cross the network \
             unencrypted; use https, or opt in with MSE_AUTH_INSECURE_ALLOW_HTTP=true (CLI: \
             --insecure-allow-http)"
        );
    }
}
