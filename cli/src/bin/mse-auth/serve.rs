//! `mse-auth serve`: a credentials URI on 127.0.0.1 serving the chain's cached credentials (spec §8).

use crate::common::{shutdown_signal, CliResult, Globals};
use crate::credentials::{credentials_uri_json, provider, PROVIDERS};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use mse_auth_providers::{vars, CredentialsProvider, SharedCredentialsProvider};
use serde_json::json;
use std::convert::Infallible;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// Length of the random path token.
const TOKEN_LEN: usize = 32;
/// How long open connections may take to finish after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(5);

/// Serve the chain's credentials as a credentials URI on 127.0.0.1, for programs using other Alibaba
/// Cloud SDKs.
///
/// Prints `export ALIBABA_CLOUD_CREDENTIALS_URI=http://127.0.0.1:<port>/<token>` on stdout, then
/// answers `GET /<token>` with `{"Code":"Success","AccessKeyId":…,"AccessKeySecret":…,
/// "SecurityToken":…,"Expiration":"YYYY-MM-DDTHH:MM:SSZ"}` from a refresh cache, so refreshed
/// credentials are served as soon as the cache has them. Any other path gets 404, any other method 405.
/// It listens on the loopback address only; the random path token keeps other local users from
/// guessing the URL, so treat the printed URL as a secret. Only STS credentials can be served (the
/// format requires a SecurityToken and an Expiration): when the chain yields a long-term AccessKey,
/// serve refuses to start; use a RAM role profile to hand out temporary credentials instead. Stops
/// gracefully on Ctrl-C or SIGTERM.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mse-auth serve                                   # a free port; prints the URL to use
  mse-auth serve --port 8090 --profile prod-role
  eval \"$(mse-auth serve --port 8090 | head -n1)\"   # (in another shell: the command keeps running)")]
pub struct Args {
    /// The port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// The URL path token (letters, digits, `-`, `_`); default: 32 random characters.
    #[arg(long, value_name = "TOKEN")]
    pub path_token: Option<String>,
    /// Serve only this provider of the default chain instead of the whole chain.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(PROVIDERS))]
    pub provider: Option<String>,
}

struct State {
    provider: SharedCredentialsProvider,
    path: String,
}

/// 32 random letters and digits from the operating system's generator.
fn random_token() -> CliResult<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut token = String::with_capacity(TOKEN_LEN);
    let mut buf = [0u8; 64];
    // Rejection sampling keeps every character equally likely; 64 bytes almost always suffice.
    for _ in 0..16 {
        getrandom::fill(&mut buf)
            .map_err(|e| format!("no random numbers for the path token: {e}"))?;
        for b in buf {
            if usize::from(b) < ALPHABET.len() * 4 {
                token.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
                if token.len() == TOKEN_LEN {
                    return Ok(token);
                }
            }
        }
    }
    Err("no random numbers for the path token".into())
}

fn check_token(token: &str) -> CliResult<()> {
    if token.is_empty()
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err("--path-token must be made of letters, digits, `-` and `_`".into());
    }
    Ok(())
}

/// Compares without stopping at the first difference, so response times do not reveal the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn reply(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn handle(
    request: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if !same(request.uri().path().as_bytes(), state.path.as_bytes()) {
        tracing::debug!(status = 404, "request for another path");
        let body = json!({"Code": "NotFound", "Message": "not found"}).to_string();
        return Ok(reply(StatusCode::NOT_FOUND, body));
    }
    if request.method() != Method::GET {
        let body = json!({"Code": "MethodNotAllowed", "Message": "only GET"}).to_string();
        let mut response = reply(StatusCode::METHOD_NOT_ALLOWED, body);
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
        return Ok(response);
    }
    let answer = match state.provider.provide_credentials().await {
        Ok(credentials) => credentials_uri_json(&credentials).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    Ok(match answer {
        Ok(body) => {
            tracing::debug!(status = 200, "served credentials");
            reply(StatusCode::OK, body)
        }
        Err(message) => {
            tracing::warn!(status = 503, %message, "no credentials to serve");
            let body = json!({"Code": "CredentialsUnavailable", "Message": message}).to_string();
            reply(StatusCode::SERVICE_UNAVAILABLE, body)
        }
    })
}

/// Runs `mse-auth serve`.
pub async fn run(globals: &Globals, args: Args) -> CliResult {
    let token = match args.path_token {
        Some(token) => {
            check_token(&token)?;
            token
        }
        None => random_token()?,
    };
    let provider = provider(globals, args.provider.as_deref())?;
    // Fail fast: nothing to serve, or credentials the format cannot carry.
    let first = {
        let _spinner = globals.spinner("resolving credentials…");
        provider.provide_credentials().await?
    };
    credentials_uri_json(&first)?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, args.port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    let addr = listener.local_addr()?;
    // Handlers first: a signal right after the URL is printed must stop the server gracefully.
    let shutdown = shutdown_signal();
    println!("export {}=http://{addr}/{token}", vars::CREDENTIALS_URI);
    eprintln!(
        "mse-auth: serving credentials from {} ({}) on http://{addr}/<token>; Ctrl-C stops",
        first.provider_path(),
        first.masked_access_key_id()
    );
    drop(first);
    let state = Arc::new(State {
        provider,
        path: format!("/{token}"),
    });
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let state = Arc::clone(&state);
                    connections.spawn(async move {
                        let service = service_fn(move |request| handle(request, Arc::clone(&state)));
                        let _ = http1::Builder::new()
                            .keep_alive(false)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                // E.g. out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    eprintln!("mse-auth: shutting down");
    let drained = tokio::time::timeout(DRAIN, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.abort_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_alphanumeric_and_compared_in_full() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        assert!(same(b"/abc", b"/abc"));
        assert!(!same(b"/abc", b"/abd"));
        assert!(!same(b"/abc", b"/abcd"));
        assert!(check_token("ok_token-1").is_ok());
        assert!(check_token("no/slash").is_err());
        assert!(check_token("").is_err());
    }
}
