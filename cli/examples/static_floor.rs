//! The floor for `mse-auth serve`'s benchmark (BENCHMARKS.md): a bare hyper 1 HTTP/1.1 server on
//! 127.0.0.1 answering every request with the same credentials-URI-sized JSON, on the same runtime
//! (Tokio multi-thread, one worker per core) and with keep-alive, but without serve's limits, token
//! check or credentials cache.
//!
//! ```text
//! cargo run --release -p mse-auth-cli --example static_floor -- [PORT]
//! ```
//!
//! Prints `http://127.0.0.1:<port>/` and serves until Ctrl-C.

#![allow(clippy::print_stdout)]

use std::convert::Infallible;
use std::net::Ipv4Addr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::Response;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

/// The length of what serve answers for the emulator's credentials.
const BODY_LEN: usize = 503;

/// A credentials-URI answer padded (in the token) to [`BODY_LEN`] bytes.
fn body() -> Bytes {
    let json = |token: &str| {
        format!(
            "{{\"AccessKeyId\":\"STS.emulatorFloorAccessKey\",\"AccessKeySecret\":\
             \"emulator-floor-access-key-secret\",\"Code\":\"Success\",\"Expiration\":\
             \"2030-01-01T00:00:00Z\",\"SecurityToken\":\"{token}\"}}"
        )
    };
    let pad = BODY_LEN.saturating_sub(json("").len());
    Bytes::from(json(&"t".repeat(pad)))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::args()
        .nth(1)
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(0);
    let body = body();
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    println!("http://{}/", listener.local_addr()?);
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            accepted = listener.accept() => if let Ok((stream, _)) = accepted {
                tokio::spawn(serve(stream, body.clone()));
            },
        }
    }
}

/// Answers every request on `stream` with `body`, keeping the connection alive.
async fn serve(stream: TcpStream, body: Bytes) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |_request| {
        let mut response = Response::new(Full::new(body.clone()));
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        std::future::ready(Ok::<_, Infallible>(response))
    });
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
