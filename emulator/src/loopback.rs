//! Loopback peers for client tests, beside the emulator: a canned HTTP server for answers the emulator
//! does not give, a port where nothing listens, and an address that never completes a connection.
//! All bind 127.0.0.1 only and stop when dropped.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use mse_auth_emulator::loopback::Canned;
//!
//! let server = Canned::start(|_method, _path| (404, "{}".to_owned())).await;
//! assert!(server.base_url().starts_with("http://127.0.0.1:"));
//! # }
//! ```
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::JoinHandle;

/// A loopback server answering every request with `respond(method, path)` = (status, body), one
/// request per connection. Stops when dropped.
#[derive(Debug)]
pub struct Canned {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Canned {
    /// Starts the server on `127.0.0.1:0`.
    pub async fn start(respond: fn(&str, &str) -> (u16, String)) -> Canned {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head);
                    let mut first = head.lines().next().unwrap_or_default().split(' ');
                    let (method, path) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
                    let (status, body) = respond(method, path);
                    let response = format!(
                        "HTTP/1.1 {status} Canned\r\nContent-Type: application/json\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Canned { addr, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Canned {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback port with nothing listening (bound, then released).
pub fn closed_port() -> u16 {
    StdListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// A loopback listener that never accepts and whose accept queue is full, so new connections are
/// never completed: the client's connect times out, as at a metadata address where nothing answers.
/// Keep it alive while it is used.
#[derive(Debug)]
pub struct Unanswered {
    /// Where it listens.
    pub addr: SocketAddr,
    _listener: tokio::net::TcpListener,
    _queued: Vec<StdStream>,
}

impl Unanswered {
    /// Binds it on `127.0.0.1:0` and fills its accept queue.
    pub fn start() -> Unanswered {
        let socket = TcpSocket::new_v4().expect("socket");
        socket
            .bind((Ipv4Addr::LOCALHOST, 0).into())
            .expect("bind 127.0.0.1:0");
        let addr = socket.local_addr().expect("local addr");
        let listener = socket.listen(0).expect("listen");
        let mut queued = Vec::new();
        // Fill the queue until a connect no longer completes (bounded).
        for _ in 0..16 {
            match StdStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(stream) => queued.push(stream),
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
                    return Unanswered {
                        addr,
                        _listener: listener,
                        _queued: queued,
                    }
                }
                Err(e) => panic!("unexpected connect error while filling the accept queue: {e}"),
            }
        }
        panic!(
            "the accept queue of a listen(0) socket never filled: cannot simulate a silent address"
        );
    }
}
