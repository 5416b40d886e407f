//! `mse-auth serve`: a credentials URI on 127.0.0.1 serving the chain's cached credentials (spec §8),
//! built to withstand other local users: every phase of a connection has a time bound, connections are
//! capped without starving the ones inside a request, answers never wait past a bound and never carry
//! credentials past their cut-off, and the path token must be hard to guess.

use crate::common::{random_alphanumeric, shutdown_signal, CliResult, Globals};
use crate::credentials::{credentials_uri_json, provider, PROVIDERS};
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use mse_auth_providers::timestamp::format_utc;
use mse_auth_providers::{
    vars, Credentials, CredentialsError, CredentialsProvider, SharedCredentialsProvider,
};
use serde_json::json;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::ErrorKind;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// Length of the random path token.
const TOKEN_LEN: usize = 32;
/// A given path token needs at least this many characters …
const MIN_TOKEN_LEN: usize = 16;
/// … at least this many different ones …
const MIN_TOKEN_DISTINCT: usize = 8;
/// … from at least this many of: lowercase letters, uppercase letters, digits, `-`/`_`.
const MIN_TOKEN_CLASSES: usize = 2;
/// How long open connections may take to finish after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(5);
/// From a connection's opening, or the end of its previous answer, to the end of its request's
/// headers; so also how long an idle keep-alive connection stays open.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a request waits for credentials before it is answered 503 (the refresh goes on).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);
/// A connection is closed this long after it opened or after its latest request's headers arrived,
/// whichever is later, e.g. a client that stops reading its answers.
const EXCHANGE_LIMIT: Duration = Duration::from_secs(15);
/// Default cap on open connections: below the common 1024 file-descriptor limit.
const DEFAULT_MAX_CONNECTIONS: u32 = 512;
/// Request headers larger than this are refused (431).
const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Connections the kernel may hold before serve accepts them (capped by `net.core.somaxconn`).
const ACCEPT_QUEUE: u32 = 4096;
/// When accepting runs out of file descriptors, the cap drops to this many below the sockets open,
/// so the next accepts find descriptors free.
const FD_RESERVE: usize = 16;
/// How long a new connection waits for an idle one to close when all places are taken.
const ROOM_WAIT: Duration = Duration::from_secs(1);
/// Pause after a failed accept (e.g. out of file descriptors), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

/// Serve the chain's credentials as a credentials URI on 127.0.0.1, for programs using other Alibaba
/// Cloud SDKs.
///
/// Prints `export ALIBABA_CLOUD_CREDENTIALS_URI=http://127.0.0.1:<port>/<token>` on stdout, then
/// answers `GET /<token>` with `{"Code":"Success","AccessKeyId":…,"AccessKeySecret":…,
/// "SecurityToken":…,"Expiration":"YYYY-MM-DDTHH:MM:SSZ"}` from a refresh cache, so refreshed
/// credentials are served as soon as the cache has them. Any other path gets 404, any other method 405.
/// It listens on the loopback address only; the path token is all that keeps other local users from
/// the credentials, so treat the printed URL as a secret. Stops gracefully on Ctrl-C or SIGTERM.
///
/// Only STS credentials can be served (the format requires a SecurityToken and an Expiration): serve
/// refuses to start when the chain yields a long-term AccessKey or a static STS token, which has no
/// expiration; use a RAM role profile to hand out temporary credentials instead.
///
/// Credentials are never served at or after their cut-off (their expiration less min(60 s, 10 % of
/// their lifetime)), nor once their expiration has passed. Without valid credentials the answer is 503
/// with {"Code":…,"Message":…} and Retry-After: 1. Codes: CredentialsTimedOut (none within 5 s; the
/// refresh goes on, so retry), CredentialsUnavailable (the chain failed; the message says why),
/// CredentialsExpired.
///
/// Limits: a request's headers must arrive within 5 s of the connection opening or of the previous
/// answer, so an idle keep-alive connection is closed after 5 s; headers are at most 16 KiB; a request
/// is answered within 5 s; a connection is closed 15 s after its latest request arrived (e.g. a client
/// that stops reading); at most --max-connections are open. When all are taken, a new connection
/// closes the one open longest that is not inside a request (and waits up to 1 s for it to be gone),
/// or, if every one is inside a request, is closed at once.
/// When accepting fails for want of file descriptors (`ulimit -n` below --max-connections), serve
/// lowers its cap to 16 below the connections then open, closes idle ones down to it, says so on
/// stderr, and pauses 20 ms.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mse-auth serve                    # a free port; prints the URL to use
  mse-auth serve --port 8090 --profile prod-role
  # In the background, pointing this shell at it (sh, bash, zsh):
  f=$(mktemp); mse-auth serve > \"$f\" &
  while kill -0 $! 2>/dev/null && [ ! -s \"$f\" ]; do sleep 0.1; done; . \"$f\"
  kill $!; rm \"$f\"                  # later: stops it")]
pub struct Args {
    /// The port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// The URL path token: letters, digits, `-` and `_`; at least 16 characters, 8 different ones, from
    /// two or more of lowercase, uppercase, digits and `-`/`_` (e.g. `openssl rand -hex 16`); default:
    /// 32 random letters and digits.
    #[arg(long, value_name = "TOKEN")]
    pub path_token: Option<String>,
    /// Serve only this provider of the default chain instead of the whole chain.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(PROVIDERS))]
    pub provider: Option<String>,
    /// Most connections open at once; keep it below the file-descriptor limit (`ulimit -n`).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS,
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub max_connections: u32,
}

/// The bounds a connection lives by (see [`Args`]).
#[derive(Debug, Clone, Copy)]
struct Limits {
    header_read: Duration,
    exchange: Duration,
}

const LIMITS: Limits = Limits {
    header_read: HEADER_READ_TIMEOUT,
    exchange: EXCHANGE_LIMIT,
};

type Outcome = Result<Credentials, CredentialsError>;

/// A credentials call running apart from the requests waiting for it, so a request that gives up
/// does not cancel the refresh.
struct Flight {
    outcome: watch::Receiver<Option<Outcome>>,
    task: JoinHandle<()>,
}

struct State {
    provider: SharedCredentialsProvider,
    path: String,
    answer_timeout: Duration,
    flight: Mutex<Option<Flight>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Why a request gets no credentials: the `Code` and `Message` of the 503.
#[derive(Debug)]
struct Unavailable {
    code: &'static str,
    message: String,
}

impl Unavailable {
    fn failed(message: impl Into<String>) -> Self {
        Self {
            code: "CredentialsUnavailable",
            message: message.into(),
        }
    }
}

impl State {
    fn new(provider: SharedCredentialsProvider, token: &str, answer_timeout: Duration) -> Self {
        Self {
            provider,
            path: format!("/{token}"),
            answer_timeout,
            flight: Mutex::new(None),
        }
    }

    /// The cached credentials at once, or those of a refresh within the answer timeout.
    async fn credentials(&self) -> Result<Credentials, Unavailable> {
        let cached = self.provider.provide_credentials();
        if cached.is_ready() {
            return cached.await.map_err(|e| Unavailable::failed(e.to_string()));
        }
        drop(cached); // not polled: nothing started
        let mut outcome = self.flight();
        let done = async { outcome.wait_for(Option::is_some).await.map(|o| o.clone()) };
        match tokio::time::timeout(self.answer_timeout, done).await {
            Ok(Ok(Some(Ok(credentials)))) => Ok(credentials),
            Ok(Ok(Some(Err(e)))) => Err(Unavailable::failed(e.to_string())),
            Ok(Ok(None)) => Err(Unavailable::failed(
                "the credentials refresh gave no answer",
            )),
            Ok(Err(_)) => Err(Unavailable::failed(
                "the credentials refresh stopped without an answer",
            )),
            Err(_) => Err(Unavailable {
                code: "CredentialsTimedOut",
                message: format!(
                    "no valid credentials within {:?}; the refresh goes on, retry shortly",
                    self.answer_timeout
                ),
            }),
        }
    }

    /// The credentials call under way, or a new one: at most one runs at a time.
    fn flight(&self) -> watch::Receiver<Option<Outcome>> {
        let mut flight = lock(&self.flight);
        if let Some(running) = flight.as_ref().filter(|f| !f.task.is_finished()) {
            return running.outcome.clone();
        }
        let (tx, rx) = watch::channel(None);
        let provider = self.provider.clone();
        let task = tokio::spawn(async move {
            let outcome = provider.provide_credentials().await;
            tx.send_replace(Some(outcome));
        });
        *flight = Some(Flight {
            outcome: rx.clone(),
            task,
        });
        rx
    }
}

/// The 200 body for `credentials`, unless their expiration has passed at `now` (belt and braces: the
/// cache already stops serving them at their cut-off).
fn body_for(credentials: &Credentials, now: SystemTime) -> Result<Bytes, Unavailable> {
    if let Some(expiration) = credentials.expiration().filter(|e| *e <= now) {
        return Err(Unavailable {
            code: "CredentialsExpired",
            message: format!(
                "the credentials from {} expired at {}, which is not after now ({}): not served",
                credentials.provider_path(),
                format_utc(expiration),
                format_utc(now)
            ),
        });
    }
    LAST_ANSWER.with_borrow_mut(|last| {
        if let Some((_, body)) = last.as_ref().filter(|(c, _)| c == credentials) {
            return Ok(body.clone());
        }
        let body = Bytes::from(
            credentials_uri_json(credentials).map_err(|e| Unavailable::failed(e.to_string()))?,
        );
        *last = Some((credentials.clone(), body.clone()));
        Ok(body)
    })
}

thread_local! {
    /// The last 200 body this thread made, reused while the cache hands out the same credentials
    /// (most often its very copy, so the comparison is one pointer).
    static LAST_ANSWER: RefCell<Option<(Credentials, Bytes)>> = const { RefCell::new(None) };
}

/// 32 random letters and digits from the operating system's generator.
fn random_token() -> CliResult<String> {
    random_alphanumeric(TOKEN_LEN).map_err(|e| format!("cannot make the path token: {e}").into())
}

/// Accepts a given path token only if it is made of the URL-safe characters and hard to guess. The
/// message never repeats the token.
fn check_token(token: &str) -> CliResult<()> {
    const WHY: &str =
        "the path token is all that keeps other local users from the credentials, so \
         it must have at least 16 characters, at least 8 different ones, from at least two of: \
         lowercase letters, uppercase letters, digits, `-`/`_` (e.g. `openssl rand -hex 16`); or \
         leave --path-token out for 32 random characters";
    if token.is_empty()
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err("--path-token must be made of letters, digits, `-` and `_`".into());
    }
    if token.len() < MIN_TOKEN_LEN {
        return Err(format!(
            "--path-token is too short ({} characters): {WHY}",
            token.len()
        )
        .into());
    }
    let mut seen = [false; 128];
    token.bytes().for_each(|b| seen[usize::from(b)] = true);
    let distinct = seen.iter().filter(|s| **s).count();
    if distinct < MIN_TOKEN_DISTINCT {
        return Err(format!("--path-token has only {distinct} different characters: {WHY}").into());
    }
    let classes: [fn(&u8) -> bool; 4] = [
        u8::is_ascii_lowercase,
        u8::is_ascii_uppercase,
        u8::is_ascii_digit,
        |b| *b == b'-' || *b == b'_',
    ];
    let used = classes
        .iter()
        .filter(|class| token.bytes().any(|b| class(&b)))
        .count();
    if used < MIN_TOKEN_CLASSES {
        return Err(format!("--path-token uses only one kind of character: {WHY}").into());
    }
    Ok(())
}

/// Compares without stopping at the first difference, so response times do not reveal the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn handle<B>(request: Request<B>, state: &State) -> Response<Full<Bytes>> {
    if !same(request.uri().path().as_bytes(), state.path.as_bytes()) {
        tracing::debug!(status = 404, "request for another path");
        let body = json!({"Code": "NotFound", "Message": "not found"}).to_string();
        return reply(StatusCode::NOT_FOUND, body);
    }
    if request.method() != Method::GET {
        let body = json!({"Code": "MethodNotAllowed", "Message": "only GET"}).to_string();
        let mut response = reply(StatusCode::METHOD_NOT_ALLOWED, body);
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
        return response;
    }
    let answer = state
        .credentials()
        .await
        .and_then(|credentials| body_for(&credentials, SystemTime::now()));
    match answer {
        Ok(body) => {
            tracing::debug!(status = 200, "served credentials");
            reply(StatusCode::OK, body)
        }
        Err(why) => {
            tracing::warn!(status = 503, code = why.code, message = %why.message, "no credentials to serve");
            let body = json!({"Code": why.code, "Message": why.message}).to_string();
            let mut response = reply(StatusCode::SERVICE_UNAVAILABLE, body);
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}

/// One open connection, as the table and its own task see it.
struct Slot {
    /// Its requests inside the handler; a connection with none may be closed to make room.
    busy: AtomicUsize,
    /// When it is closed unless a request arrives first.
    deadline: Mutex<Instant>,
    /// Close at once: its place went to a newer connection.
    close: Notify,
    /// Finish the request under way, then close: serve is stopping.
    drain: Notify,
}

impl Slot {
    fn new(deadline: Instant) -> Self {
        Self {
            busy: AtomicUsize::new(0),
            deadline: Mutex::new(deadline),
            close: Notify::new(),
            drain: Notify::new(),
        }
    }

    fn deadline(&self) -> Instant {
        *lock(&self.deadline)
    }

    /// A request arrived: busy until the guard drops, and `exchange` more time for the connection.
    fn enter(self: &Arc<Self>, exchange: Duration) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        *lock(&self.deadline) = Instant::now() + exchange;
        Busy(Arc::clone(self))
    }
}

struct Busy(Arc<Slot>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The connections of one `serve`: which are open and which of those are inside a request.
struct Connections {
    table: Mutex<Table>,
    /// Signalled each time a connection's socket has closed.
    freed: Notify,
}

/// The connections not yet told to close, in the order they were accepted, and how many sockets
/// are open (those plus the ones closing): the file descriptors in use.
struct Table {
    /// The cap on open sockets: --max-connections, lowered when descriptors run out.
    max: usize,
    next: u64,
    open: BTreeMap<u64, Arc<Slot>>,
    sockets: usize,
}

impl Connections {
    fn new(max: usize) -> Self {
        Self {
            table: Mutex::new(Table {
                max,
                next: 0,
                open: BTreeMap::new(),
                sockets: 0,
            }),
            freed: Notify::new(),
        }
    }

    /// Room for one more connection: at once below the cap; else after the oldest connection that is
    /// not inside a request has closed (within `wait`). `false` when every open connection is inside
    /// a request, or room did not come within `wait`. At a cap of 64 or more, a few more of the oldest
    /// idle ones (up to 1/64 of the cap, at most 8) are closed at the same time, so that a flood of
    /// new connections is not accepted one closed socket at a time.
    async fn make_room(&self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            {
                let mut table = lock(&self.table);
                if table.sockets < table.max {
                    return true;
                }
                let batch = (table.max / 64).clamp(1, 8);
                if table.open.len() >= table.max && !table.close_oldest_idle() {
                    return false;
                }
                while table.open.len() + batch > table.max && table.close_oldest_idle() {}
            }
            if tokio::time::timeout_at(deadline, self.freed.notified())
                .await
                .is_err()
            {
                return false;
            }
        }
    }

    /// Registers a new connection (after [`make_room`](Self::make_room)); it counts as open until the
    /// returned guard drops, which must come after its socket has closed.
    fn admit(self: &Arc<Self>, exchange: Duration) -> (Arc<Slot>, Registered) {
        let mut table = lock(&self.table);
        let id = table.next;
        table.next += 1;
        table.sockets += 1;
        let slot = Arc::new(Slot::new(Instant::now() + exchange));
        table.open.insert(id, Arc::clone(&slot));
        let registered = Registered {
            connections: Arc::clone(self),
            id,
        };
        (slot, registered)
    }

    /// Accepting failed for want of resources (file descriptors): from now on keep at most
    /// [`FD_RESERVE`] fewer sockets than are open, closing the oldest idle connections down to that.
    /// Returns how many were open, and the new cap if it is lower than before.
    fn shrink(&self) -> (usize, Option<usize>) {
        let mut table = lock(&self.table);
        let open = table.sockets;
        let cap = open.saturating_sub(FD_RESERVE).max(1);
        let lowered = (cap < table.max).then(|| {
            table.max = cap;
            cap
        });
        while table.open.len() > table.max && table.close_oldest_idle() {}
        (open, lowered)
    }

    fn drain_all(&self) {
        for slot in lock(&self.table).open.values() {
            slot.drain.notify_one();
        }
    }
}

impl Table {
    /// Tells the connection open longest that is not inside a request to close, and forgets it;
    /// `false` when there is none.
    fn close_oldest_idle(&mut self) -> bool {
        let idle = self
            .open
            .iter()
            .find(|(_, slot)| slot.busy.load(Ordering::Acquire) == 0)
            .map(|(id, _)| *id);
        match idle.and_then(|id| self.open.remove(&id)) {
            Some(slot) => {
                slot.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// One open socket of [`Connections`]; dropping it says the socket has closed.
struct Registered {
    connections: Arc<Connections>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        {
            let mut table = lock(&self.connections.table);
            table.open.remove(&self.id);
            table.sockets -= 1;
        }
        self.connections.freed.notify_one();
    }
}

/// Serves one connection until it ends, is closed by the table, or passes its deadline.
async fn serve_connection<I>(io: I, state: Arc<State>, slot: Arc<Slot>, limits: Limits)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = {
        let slot = Arc::clone(&slot);
        service_fn(move |request| {
            let busy = slot.enter(limits.exchange);
            let state = Arc::clone(&state);
            async move {
                let response = handle(request, &state).await;
                drop(busy);
                Ok::<_, Infallible>(response)
            }
        })
    };
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .max_buf_size(MAX_HEADER_BYTES)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let mut draining = false;
    loop {
        let deadline = slot.deadline();
        tokio::select! {
            _ = conn.as_mut() => return,
            () = slot.close.notified() => return,
            () = slot.drain.notified(), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(deadline) => {
                if slot.deadline() <= Instant::now() {
                    tracing::debug!("closing a connection at its deadline");
                    return;
                }
            }
        }
    }
}

/// A listener on 127.0.0.1:`port` with a long accept queue, so a burst of connections (a flood from
/// another local user) is not dropped by the kernel, which would hold a legitimate client back by a
/// SYN retransmission (1 s or more) before serve sees it.
fn listen(port: u16) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind((Ipv4Addr::LOCALHOST, port).into())?;
    socket.listen(ACCEPT_QUEUE)
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
    let listener =
        listen(args.port).map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
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
    let state = Arc::new(State::new(provider, &token, ANSWER_TIMEOUT));
    let open = Arc::new(Connections::new(args.max_connections as usize));
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    if open.make_room(ROOM_WAIT).await {
                        let _ = stream.set_nodelay(true);
                        let (slot, registered) = open.admit(LIMITS.exchange);
                        let state = Arc::clone(&state);
                        connections.spawn(async move {
                            serve_connection(TokioIo::new(stream), state, slot, LIMITS).await;
                            drop(registered); // after the socket closed with the connection
                        });
                    } else {
                        tracing::debug!("every connection is inside a request: closing a new one");
                    }
                }
                // The client gave up before it was accepted: nothing wrong here.
                Err(e) if matches!(
                    e.kind(),
                    ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::Interrupted
                ) => {}
                // Out of file descriptors (or memory): hold fewer connections, back off, no spinning.
                Err(e) => {
                    if let (sockets, Some(cap)) = open.shrink() {
                        eprintln!(
                            "mse-auth: accepting failed with {sockets} connections open ({e}): \
                             keeping at most {cap} open from now on; raise `ulimit -n` or lower \
                             --max-connections"
                        );
                    }
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    eprintln!("mse-auth: shutting down");
    open.drain_all();
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
    use mse_auth_providers::ProvideCredentials;
    use std::sync::atomic::AtomicU32;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn tokens_are_random_alphanumeric_and_compared_in_full() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        check_token(&a).expect("a random token passes the given-token rules");
        assert!(same(b"/abc", b"/abc"));
        assert!(!same(b"/abc", b"/abd"));
        assert!(!same(b"/abc", b"/abcd"));
    }

    #[test]
    fn given_tokens_must_be_long_varied_and_url_safe() {
        for ok in [
            "0123456789abcdef",                     // `openssl rand -hex 8`
            "3f2b8c1e-9d4a-4e7b-8a6f-2c5d1e0b9a7c", // uuidgen
            "given-token_1-Long",
        ] {
            check_token(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        let why = |token: &str| check_token(token).unwrap_err().to_string();
        assert!(why("a").starts_with("--path-token is too short (1 characters): "));
        assert!(why("given-token_1").contains("too short (13 characters)"));
        assert!(why("abababab12121212").contains("only 4 different characters"));
        assert!(why("abcdefghijklmnopqrstuvwxyz").contains("only one kind of character"));
        assert!(why("01234567890123456789").contains("only one kind of character"));
        let rules = why("a");
        for part in [
            "at least 16 characters",
            "8 different",
            "two of",
            "leave --path-token out",
        ] {
            assert!(rules.contains(part), "{rules}");
        }
        for bad in ["no/slash-at-all-0123", "", "ünïcödé-token-0123456"] {
            assert_eq!(
                why(bad),
                "--path-token must be made of letters, digits, `-` and `_`"
            );
        }
        // The message never repeats the token.
        let secretish = "Zq9Zq9Zq9Zq9Zq9Zq9";
        assert!(!why(secretish).contains(secretish));
    }

    fn sts(expires_in: Duration) -> Credentials {
        Credentials::builder()
            .access_key_id("STS.id")
            .access_key_secret("sts-secret")
            .security_token("sts-token")
            .expiration(SystemTime::now() + expires_in)
            .provider_path("test")
            .build()
            .unwrap()
    }

    #[test]
    fn credentials_past_their_expiration_are_refused() {
        let c = sts(Duration::from_secs(600));
        let now = SystemTime::now();
        let body = body_for(&c, now).unwrap();
        assert_eq!(body, credentials_uri_json(&c).unwrap());
        // Made once per thread while the credentials stay the same.
        assert_eq!(
            body_for(&c.unshared_copy(), now).unwrap().as_ptr(),
            body.as_ptr()
        );
        let other = sts(Duration::from_secs(600));
        assert_ne!(body_for(&other, now).unwrap().as_ptr(), body.as_ptr());
        let later = c.expiration().unwrap();
        let err = body_for(&c, later).unwrap_err();
        assert_eq!(err.code, "CredentialsExpired");
        assert!(err.message.contains("expired at"), "{}", err.message);
        assert!(!err.message.contains("sts-secret") && !err.message.contains("sts-token"));
    }

    /// A provider that answers after `delay` (on Tokio's clock), counting its calls.
    #[derive(Debug)]
    struct Slow {
        delay: Duration,
        calls: Arc<AtomicU32>,
    }

    impl CredentialsProvider for Slow {
        fn provide_credentials(&self) -> ProvideCredentials<'_> {
            ProvideCredentials::boxed(async move {
                self.calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(self.delay).await;
                Ok(sts(Duration::from_secs(3600)))
            })
        }
    }

    fn slow_state(delay: Duration) -> (Arc<State>, Arc<AtomicU32>) {
        let calls = Arc::new(AtomicU32::new(0));
        let provider = SharedCredentialsProvider::new(Slow {
            delay,
            calls: Arc::clone(&calls),
        });
        let state = State::new(provider, "t0123456789abcdefXYZ", ANSWER_TIMEOUT);
        (Arc::new(state), calls)
    }

    fn get(path: &str) -> Request<()> {
        Request::get(path).body(()).unwrap()
    }

    async fn body_of(response: Response<Full<Bytes>>) -> serde_json::Value {
        use http_body_util::BodyExt;
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_refresh_is_a_503_after_the_answer_timeout_and_goes_on_for_later_requests() {
        let (state, calls) = slow_state(Duration::from_secs(8));
        let start = Instant::now();
        // Two requests at once share one refresh; both give up at the answer timeout.
        let (a, b) = tokio::join!(
            handle(get("/t0123456789abcdefXYZ"), &state),
            handle(get("/t0123456789abcdefXYZ"), &state)
        );
        assert_eq!(start.elapsed(), ANSWER_TIMEOUT);
        for response in [a, b] {
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers()[RETRY_AFTER], "1");
            let body = body_of(response).await;
            assert_eq!(body["Code"], "CredentialsTimedOut");
            assert_eq!(
                body["Message"],
                "no valid credentials within 5s; the refresh goes on, retry shortly"
            );
        }
        // The refresh was not cancelled: a request arriving later waits only for the rest of it.
        let response = handle(get("/t0123456789abcdefXYZ"), &state).await;
        assert_eq!(start.elapsed(), Duration::from_secs(8));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body_of(response).await["Code"], "Success");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_chain_is_a_503_naming_the_cause() {
        let provider = SharedCredentialsProvider::new(
            mse_auth_providers::StaticAccessKeyProvider::new("LTAI5tServeTestId", "ak-secret")
                .unwrap(),
        );
        let state = State::new(provider, "t0123456789abcdefXYZ", ANSWER_TIMEOUT);
        let response = handle(get("/t0123456789abcdefXYZ"), &state).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = body_of(response).await;
        assert_eq!(body["Code"], "CredentialsUnavailable");
        let message = body["Message"].as_str().unwrap();
        assert!(message.contains("long-term AccessKey"), "{message}");
        assert!(!message.contains("ak-secret"), "{message}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_house_closes_the_oldest_idle_connection_and_never_a_busy_one() {
        let open = Arc::new(Connections::new(3));
        let mut admitted: Vec<_> = (0..3).map(|_| open.admit(EXCHANGE_LIMIT)).collect();
        let busy = admitted[0].0.enter(EXCHANGE_LIMIT);
        // Full: room comes once the oldest idle connection (the second) has closed its socket.
        let (second, second_socket) = admitted.remove(1);
        let start = Instant::now();
        let closes = async {
            second.close.notified().await;
            tokio::time::sleep(Duration::from_millis(10)).await;
            drop(second_socket);
        };
        let (room, ()) = tokio::join!(open.make_room(ROOM_WAIT), closes);
        assert!(room);
        assert_eq!(start.elapsed(), Duration::from_millis(10));
        assert!(!notified(&admitted[0].0.close));
        admitted.push(open.admit(EXCHANGE_LIMIT));
        // Every connection inside a request: no room, at once.
        let _busy = [
            admitted[1].0.enter(EXCHANGE_LIMIT),
            admitted[2].0.enter(EXCHANGE_LIMIT),
        ];
        let start = Instant::now();
        assert!(!open.make_room(ROOM_WAIT).await);
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert!(!notified(&admitted[0].0.close));
        // The first leaves its request and is told to close, but its socket stays open: no room
        // after the wait.
        drop(busy);
        assert!(!open.make_room(ROOM_WAIT).await);
        assert_eq!(start.elapsed(), ROOM_WAIT);
        assert!(notified(&admitted[0].0.close));
        // Once it has closed there is room, at once.
        drop(admitted.remove(0));
        assert!(open.make_room(ROOM_WAIT).await);
        assert_eq!(start.elapsed(), ROOM_WAIT);
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_is_made_room_for_a_few_connections_at_a_time() {
        let open = Arc::new(Connections::new(128));
        // Each connection closes its socket as soon as it is told to.
        let tasks: Vec<_> = (0..128)
            .map(|_| {
                let (slot, socket) = open.admit(EXCHANGE_LIMIT);
                tokio::spawn(async move {
                    slot.close.notified().await;
                    drop(socket);
                })
            })
            .collect();
        assert!(open.make_room(ROOM_WAIT).await);
        tokio::task::yield_now().await;
        // 128 / 64 = 2 at once: the two oldest; the next connection finds room without closing more.
        assert!(tasks[0].is_finished() && tasks[1].is_finished());
        assert!(tasks[2..].iter().all(|t| !t.is_finished()));
        let _next = open.admit(EXCHANGE_LIMIT);
        assert!(open.make_room(ROOM_WAIT).await);
        assert!(tasks[2..].iter().all(|t| !t.is_finished()));
    }

    #[test]
    fn out_of_descriptors_the_cap_drops_below_the_open_sockets() {
        let open = Arc::new(Connections::new(DEFAULT_MAX_CONNECTIONS as usize));
        let mut admitted: Vec<_> = (0..40).map(|_| Some(open.admit(EXCHANGE_LIMIT))).collect();
        let busy = |i: usize| admitted[i].as_ref().unwrap().0.enter(EXCHANGE_LIMIT);
        let _busy = [busy(0), busy(30)];
        // Closes the sockets the cap told to close.
        let close_told = |admitted: &mut Vec<Option<(Arc<Slot>, Registered)>>| {
            let mut closed = Vec::new();
            for (i, entry) in admitted.iter_mut().enumerate() {
                if entry
                    .as_ref()
                    .is_some_and(|(slot, _)| notified(&slot.close))
                {
                    *entry = None;
                    closed.push(i);
                }
            }
            closed
        };
        assert_eq!(open.shrink(), (40, Some(40 - FD_RESERVE)));
        // The oldest idle ones; the busy one among them stays.
        assert_eq!(
            close_told(&mut admitted),
            (1..=FD_RESERVE).collect::<Vec<_>>()
        );
        // Again, and again: never below one, never a busy connection.
        assert_eq!(open.shrink(), (24, Some(8)));
        assert_eq!(close_told(&mut admitted).len(), 16);
        assert_eq!(open.shrink(), (8, Some(1)));
        assert_eq!(close_told(&mut admitted).len(), 6);
        assert_eq!(open.shrink(), (2, None));
        assert!(admitted[0].is_some() && admitted[30].is_some());
        assert_eq!(admitted.iter().flatten().count(), 2);
    }

    /// Whether `notify` holds a permit (consuming it).
    fn notified(notify: &Notify) -> bool {
        let mut waiting = Box::pin(notify.notified());
        waiting.as_mut().enable()
    }

    /// `serve_connection` on one end of an in-memory pipe of `buffer` bytes; the other end returned.
    fn pipe(state: Arc<State>, buffer: usize) -> (tokio::io::DuplexStream, JoinHandle<()>) {
        let (client, server) = tokio::io::duplex(buffer);
        let slot = Arc::new(Slot::new(Instant::now() + LIMITS.exchange));
        let task = tokio::spawn(serve_connection(TokioIo::new(server), state, slot, LIMITS));
        (client, task)
    }

    #[tokio::test(start_paused = true)]
    async fn idle_half_sent_and_kept_alive_connections_close_at_the_header_timeout() {
        let (state, _) = slow_state(Duration::ZERO);
        let start = Instant::now();
        let (_idle, idle) = pipe(Arc::clone(&state), 4096);
        let (mut half, half_sent) = pipe(Arc::clone(&state), 4096);
        half.write_all(b"GET /t0123456789abcdefXYZ HTTP/1.1\r\nHost: 127")
            .await
            .unwrap();
        idle.await.unwrap();
        assert_eq!(start.elapsed(), HEADER_READ_TIMEOUT);
        half_sent.await.unwrap();
        assert_eq!(start.elapsed(), HEADER_READ_TIMEOUT);
        // After an answer, the wait for the next request is bounded the same way.
        let (mut kept, kept_alive) = pipe(Arc::clone(&state), 4096);
        kept.write_all(b"GET /t0123456789abcdefXYZ HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut answer = vec![0u8; 4096];
        let n = kept.read(&mut answer).await.unwrap();
        assert!(answer[..n].starts_with(b"HTTP/1.1 200 OK\r\n"));
        let answered = Instant::now();
        kept_alive.await.unwrap();
        assert_eq!(answered.elapsed(), HEADER_READ_TIMEOUT);
        assert_eq!(kept.read(&mut answer).await.unwrap(), 0, "closed");
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_stops_reading_is_closed_at_the_exchange_limit() {
        let (state, _) = slow_state(Duration::ZERO);
        let start = Instant::now();
        // A 64-byte pipe: the first answer already fills it, and the client never reads.
        let (mut client, task) = pipe(state, 64);
        let request: &[u8] = b"GET /t0123456789abcdefXYZ HTTP/1.1\r\nHost: x\r\n\r\n";
        client.write_all(request).await.unwrap();
        task.await.unwrap();
        assert_eq!(start.elapsed(), EXCHANGE_LIMIT);
    }
}
