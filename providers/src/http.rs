//! The HTTP layer: one shared reqwest client family (rustls, certificates always verified, redirects
//! off), per-call timeouts, bounded response bodies, and errors that never show a path, query or token.
//!
//! Proxies from `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` are honoured, except for calls made with
//! [`Proxy::Never`] (instance metadata is never proxied: spec §6.2, §15.14).
//!
//! ```no_run
//! use mse_auth_providers::http::{HttpClient, HttpRequest, Proxy, Timeouts};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let url = reqwest::Url::parse("http://127.0.0.1:8080/health")?;
//! let response = HttpClient::shared()
//!     .send(HttpRequest::get(url, Timeouts::URI).proxy(Proxy::Never))
//!     .await?;
//! assert_eq!(response.status, 200);
//! # Ok(()) }
//! ```

use crate::endpoint::origin;
use reqwest::{Method, Url};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Largest response body read; anything longer is an error (no credential response is near it).
pub const MAX_BODY: usize = 1024 * 1024;

/// The `User-Agent` of every request: `mse-auth/<version> (<os>; <arch>)`.
pub fn user_agent() -> &'static str {
    static UA: OnceLock<String> = OnceLock::new();
    UA.get_or_init(|| {
        format!(
            "mse-auth/{} ({}; {})",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        )
    })
}

/// Connect and read budgets of one kind of call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timeouts {
    /// Budget for establishing the connection.
    pub connect: Duration,
    /// Budget for the response once connected.
    pub read: Duration,
}

impl Timeouts {
    /// STS (AssumeRole, AssumeRoleWithOIDC): 5 s connect, 10 s read (spec §5.1).
    pub const STS: Self = Self::new(Duration::from_secs(5), Duration::from_secs(10));
    /// Credentials URI: 5 s connect, 10 s read (spec §8).
    pub const URI: Self = Self::new(Duration::from_secs(5), Duration::from_secs(10));
    /// CloudSSO `/cloud-credentials`: 5 s connect, 10 s read, as the official clients (spec §10).
    pub const CLOUD_SSO: Self = Self::new(Duration::from_secs(5), Duration::from_secs(10));
    /// OAuth `/v1/token` and `/v1/exchange`: 5 s connect, 10 s read, as the official clients (spec §10).
    pub const OAUTH: Self = Self::new(Duration::from_secs(5), Duration::from_secs(10));
    /// ECS instance metadata: 1 s connect, 1 s read (spec §6.2).
    pub const METADATA: Self = Self::new(Duration::from_secs(1), Duration::from_secs(1));

    /// Custom budgets.
    pub const fn new(connect: Duration, read: Duration) -> Self {
        Self { connect, read }
    }

    /// The whole budget of one call: connect + read.
    pub fn total(&self) -> Duration {
        self.connect + self.read
    }
}

/// Whether a call may go through the environment's proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Proxy {
    /// Honour `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY`.
    #[default]
    FromEnvironment,
    /// Connect directly (instance metadata).
    Never,
}

/// One request. Secrets belong in headers or in the body, never in `url`; an `Authorization` header
/// is marked sensitive, so the HTTP stack never logs its value.
#[derive(Clone)]
pub struct HttpRequest {
    method: Method,
    url: Url,
    headers: Vec<(&'static str, String)>,
    /// The body and its `Content-Type`.
    body: Option<(&'static str, String)>,
    timeouts: Timeouts,
    proxy: Proxy,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| *n).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("origin", &origin(&self.url))
            .field("headers", &names)
            .finish_non_exhaustive()
    }
}

impl HttpRequest {
    /// A request with no body.
    pub fn new(method: Method, url: Url, timeouts: Timeouts) -> Self {
        Self {
            method,
            url,
            headers: Vec::new(),
            body: None,
            timeouts,
            proxy: Proxy::FromEnvironment,
        }
    }

    /// A GET.
    pub fn get(url: Url, timeouts: Timeouts) -> Self {
        Self::new(Method::GET, url, timeouts)
    }

    /// A POST with an `application/x-www-form-urlencoded` body of `pairs`.
    pub fn post_form<'a>(
        url: Url,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        timeouts: Timeouts,
    ) -> Self {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Self {
            body: Some(("application/x-www-form-urlencoded", body)),
            ..Self::new(Method::POST, url, timeouts)
        }
    }

    /// A POST with an `application/json` body (which may be empty).
    ///
    /// ```
    /// use mse_auth_providers::http::{HttpRequest, Timeouts};
    /// let url = reqwest::Url::parse("https://signin.example.com/cloud-credentials").unwrap();
    /// let request = HttpRequest::post_json(url, r#"{"AccountId":"1"}"#, Timeouts::URI)
    ///     .header("Authorization", "Bearer example-token");
    /// assert!(!format!("{request:?}").contains("example-token"));
    /// ```
    pub fn post_json(url: Url, json: impl Into<String>, timeouts: Timeouts) -> Self {
        Self {
            body: Some(("application/json", json.into())),
            ..Self::new(Method::POST, url, timeouts)
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Sets the proxy rule.
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = proxy;
        self
    }

    /// The URL (tests and signers read it).
    pub fn url(&self) -> &Url {
        &self.url
    }
}

/// A response: status and the whole body.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// The body (at most [`MAX_BODY`] bytes).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// `true` for 200–299.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text, lossily, cut to `max` characters: for error messages of upstreams whose bodies
    /// carry no secrets (error JSON).
    pub fn body_excerpt(&self, max: usize) -> String {
        String::from_utf8_lossy(&self.body)
            .chars()
            .take(max)
            .collect()
    }
}

/// What went wrong below HTTP. The message ([`Display`](fmt::Display)) is one line naming
/// `scheme://host[:port]` only.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    budget: Duration,
    source: Option<Arc<reqwest::Error>>,
}

/// Kinds of [`TransportError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (refused, unreachable, DNS, TLS handshake).
    Connect,
    /// The budget ran out.
    Timeout,
    /// The response body exceeded [`MAX_BODY`].
    BodyTooLarge,
    /// Anything else (connection closed mid-response, protocol error).
    Other,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl TransportError {
    /// What kind of failure.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The budget that ran out, for timeouts; the request's total budget otherwise.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// `true` when the connection itself could not be made: refused, unreachable, or a connect
    /// timeout (which is also of kind [`Timeout`](TransportErrorKind::Timeout)).
    pub fn is_connect(&self) -> bool {
        self.kind == TransportErrorKind::Connect
            || self.source.as_ref().is_some_and(|s| s.is_connect())
    }

    /// The matching [`CredentialsError`](mse_auth::CredentialsError) for `provider`: `TimedOut` for
    /// timeouts, `Unhandled` otherwise, with this error as the source.
    pub fn into_credentials_error(
        self,
        provider: impl Into<std::borrow::Cow<'static, str>>,
    ) -> mse_auth::CredentialsError {
        match self.kind {
            TransportErrorKind::Timeout => {
                mse_auth::CredentialsError::timed_out(provider, self.budget)
            }
            _ => mse_auth::CredentialsError::unhandled(provider, self.message.clone())
                .with_source(self),
        }
    }
}

/// A family of reqwest clients, one per (connect timeout, proxy rule), created on first use and shared.
/// Clones share the family.
#[derive(Clone, Default)]
pub struct HttpClient {
    clients: Arc<Mutex<HashMap<(Duration, Proxy), reqwest::Client>>>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HttpClient")
    }
}

impl HttpClient {
    /// The process-wide client family.
    pub fn shared() -> Self {
        static SHARED: OnceLock<HttpClient> = OnceLock::new();
        SHARED.get_or_init(HttpClient::default).clone()
    }

    fn client(&self, connect: Duration, proxy: Proxy) -> Result<reqwest::Client, reqwest::Error> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(client) = clients.get(&(connect, proxy)) {
            return Ok(client.clone());
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(connect)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(user_agent())
            .https_only(false)
            .tls_built_in_root_certs(true);
        if proxy == Proxy::Never {
            builder = builder.no_proxy();
        }
        let client = builder.build()?;
        clients.insert((connect, proxy), client.clone());
        Ok(client)
    }

    /// Sends `request` and reads the whole body. Any status is a response; only transport failures are
    /// errors.
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let where_to = origin(&request.url);
        let budget = request.timeouts.total();
        let fail = |kind, what: &str, source: Option<reqwest::Error>| TransportError {
            kind,
            message: format!("{} {where_to}: {what}", request.method),
            budget,
            source: source.map(|e| Arc::new(e.without_url())),
        };
        let classify = |e: reqwest::Error, stage: &str| {
            let kind = if e.is_timeout() {
                TransportErrorKind::Timeout
            } else if e.is_connect() {
                TransportErrorKind::Connect
            } else {
                TransportErrorKind::Other
            };
            let what = match kind {
                TransportErrorKind::Timeout => format!("no answer within {budget:?}"),
                TransportErrorKind::Connect => "could not connect".to_string(),
                _ => format!("{stage} failed"),
            };
            fail(kind, &what, Some(e))
        };
        let client = self
            .client(request.timeouts.connect, request.proxy)
            .map_err(|e| {
                fail(
                    TransportErrorKind::Other,
                    "could not build the HTTP client",
                    Some(e),
                )
            })?;
        let mut builder = client
            .request(request.method.clone(), request.url.clone())
            .timeout(budget);
        for (name, value) in &request.headers {
            match reqwest::header::HeaderValue::from_str(value) {
                Ok(mut value) if name.eq_ignore_ascii_case("authorization") => {
                    value.set_sensitive(true);
                    builder = builder.header(*name, value);
                }
                // reqwest reports a bad value when the request is sent, naming no value.
                _ => builder = builder.header(*name, value),
            }
        }
        if let Some((content_type, body)) = &request.body {
            builder = builder.header("Content-Type", *content_type);
            // An empty body still says so, as the official clients' POSTs do (some servers refuse
            // a POST without a length).
            builder = if body.is_empty() {
                builder.header("Content-Length", "0")
            } else {
                builder.body(body.clone())
            };
        }
        let mut response = builder.send().await.map_err(|e| classify(e, "request"))?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| classify(e, "reading the response"))?
        {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(fail(
                    TransportErrorKind::BodyTooLarge,
                    &format!("the response is larger than {MAX_BODY} bytes"),
                    None,
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse { status, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_names_mse_auth_and_its_version() {
        assert!(user_agent().starts_with(&format!("mse-auth/{} (", env!("CARGO_PKG_VERSION"))));
    }

    #[test]
    fn debug_of_a_request_shows_no_body_path_query_or_header_values() {
        let url = Url::parse("https://sts.example.com/p/sentinel-path?q=sentinel-query").unwrap();
        let req = HttpRequest::post_form(url, [("OIDCToken", "sentinel-token")], Timeouts::STS)
            .header("x-acs-credentials-provider", "sentinel-header");
        let shown = format!("{req:?}");
        assert!(!shown.contains("sentinel"), "{shown}");
        assert!(shown.contains("https://sts.example.com"), "{shown}");
    }

    #[tokio::test]
    async fn refused_connections_are_connect_errors_naming_only_the_origin() {
        // Bind then drop to find a closed loopback port.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = Url::parse(&format!(
            "http://127.0.0.1:{port}/secret/path?token=sentinel"
        ))
        .unwrap();
        let err = HttpClient::shared()
            .send(HttpRequest::get(url, Timeouts::METADATA).proxy(Proxy::Never))
            .await
            .unwrap_err();
        assert_eq!(err.kind, TransportErrorKind::Connect);
        assert_eq!(
            err.to_string(),
            format!("GET http://127.0.0.1:{port}: could not connect")
        );
        let full = format!("{err:?} {}", err.clone().into_credentials_error("x"));
        assert!(
            !full.contains("sentinel") && !full.contains("/secret/path"),
            "{full}"
        );
    }
}
