//! A real Nacos-compatible server for tests: `rnacos` 0.8.8, started on loopback ports
//! (`RNACOS_SDK_HOST` and `RNACOS_CONSOLE_HOST` are 127.0.0.1) with auth on, in an empty working
//! directory (it reads `./.env`), ready once an admin login returns a token, killed and cleaned up on
//! drop.
//!
//! # The seed
//!
//! On a fresh data directory rnacos 0.8.8 panics at start-up on 1 in 3 to 2 in 3 starts
//! (`raft/filestore/raftapply.rs:421`): its raft auto-init writes the node's address to the state
//! machine before the state machine's actors are wired together, and a panicked server answers every
//! login with "Mailbox has closed". On a data directory that has seen one clean start the raft group
//! is already initialised, the node becomes leader at once and writes nothing at start-up (it
//! updates its stored address 5 s later), so the race is not run. Hence, once per test process (the
//! first [`Rnacos::start`]; concurrent ones wait for it):
//!
//! 1. rnacos is started on a fresh data directory until a start is clean (an admin login returns a
//!    token), at most [`SEED_ATTEMPTS`] times, each given [`START_BUDGET`];
//! 2. that server is stopped with SIGTERM (rnacos shuts down gracefully) and its data directory is
//!    kept as the seed;
//! 3. every [`Rnacos::start`] then runs rnacos on a fresh recursive copy of the seed, on new ports,
//!    restarting from a new copy, at most [`COPY_ATTEMPTS`] times, when a start is not ready.
//!
//! What the data directory holds after the seed start: `index` (raft term, membership: node 1 alone,
//! and node 1's address, `127.0.0.1:<gRPC port of the seed>`), `log_1` (the raft log, 1 MiB
//! preallocated: that membership and address, the admin user, the login limiter and the token of
//! the seed's login), `ns_instance_meta/` (naming metadata: a version, an empty `s0/`) and `db_lock`
//! (an empty file that rnacos `flock`s: the lock is not copied). Only the stored address names a
//! port, and nothing binds or dials it in a one-node group: the node id is 1 on every start, writes
//! are routed to the leader by id (here the local node), and 5 s after start-up rnacos rewrites the
//! address to the new gRPC port (seen in `index`). Logins, publishing and reading configs on copies
//! are checked by `tests/rnacos_fixture.rs`; the SDK tests use the copies' gRPC ports.
//!
//! # Files and clean-up
//!
//! Everything lives under `<temp dir>/mse-auth-rnacos-<pid>/`: `seed/` and one directory per server
//! (`work/`, the empty working directory, `data/` and `rnacos.log`), removed with its server on drop.
//! Rust runs no destructor for a static at process exit, so the seed outlives its test process:
//! instead, making a seed removes the `mse-auth-rnacos-<pid>*` directories of processes that are no
//! longer running. A seed is small (its 1 MiB raft log is sparse: 32 KiB on disk); a directory whose
//! pid was reused by a live process waits for a later run.
//!
//! Install rnacos with `cargo install rnacos --version 0.8.8 --locked` (`scripts/test.sh` does) or
//! point `RNACOS_BIN` at it. A missing binary fails the test, saying so: no silent skip.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Admin user created by rnacos on first start.
pub const ADMIN: (&str, &str) = ("admin", "admin");

/// Fresh-directory starts tried to make the seed. About 1 in 3 (idle) to 2 in 3 (loaded) of them
/// panic, each found out within a second or so: 20 leave a chance of 0.7^20 < 1e-3 of no seed.
pub const SEED_ATTEMPTS: u32 = 20;
/// Starts from a copy of the seed tried by one [`Rnacos::start`].
pub const COPY_ATTEMPTS: u32 = 5;
/// How long one start may take to become ready.
pub const START_BUDGET: Duration = Duration::from_secs(20);
/// How long rnacos may take to exit after SIGTERM.
const STOP_BUDGET: Duration = Duration::from_secs(10);
/// Poll interval while waiting for the external process.
const POLL: Duration = Duration::from_millis(100);
/// Name prefix of the per-process directories under the temp dir.
const DIR_PREFIX: &str = "mse-auth-rnacos-";

/// The seed of this process, made by the first start.
static SEED: OnceLock<Result<Seed, String>> = OnceLock::new();
/// Numbers the server directories of this process.
static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

/// The data directory of a clean start, copied for every server.
#[derive(Debug)]
pub struct Seed {
    /// `<process dir>/seed`.
    pub data: PathBuf,
    /// Fresh-directory starts it took (1 = the first was clean).
    pub attempts: u32,
}

/// A running rnacos.
pub struct Rnacos {
    child: Child,
    dir: PathBuf,
    /// HTTP port (open API, login).
    pub http_port: u16,
    /// gRPC port (SDK).
    pub grpc_port: u16,
    /// Copies of the seed this start took (1 = the first was ready).
    pub attempts: u32,
}

/// `N` distinct free loopback ports: all are held bound until all are picked, so none repeats.
fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: [TcpListener; N] = std::array::from_fn(|_| {
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0")
    });
    listeners.map(|l| l.local_addr().expect("local addr").port())
}

fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("RNACOS_BIN") {
        return PathBuf::from(path);
    }
    let from_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("rnacos"))
            .find(|p| p.is_file())
    });
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .map(|h| h.join("bin").join("rnacos"));
    from_path
        .or(cargo_home.filter(|p| p.is_file()))
        .unwrap_or_else(|| {
            panic!(
                "the rnacos server is not installed: run `cargo install rnacos --version 0.8.8 --locked` \
                 (scripts/test.sh does) or set RNACOS_BIN"
            )
        })
}

/// `<temp dir>/mse-auth-rnacos-<pid>`: everything this process starts lives here.
fn process_dir() -> PathBuf {
    std::env::temp_dir().join(format!("{DIR_PREFIX}{}", std::process::id()))
}

/// A new, empty, numbered directory under [`process_dir`].
fn fresh_dir(kind: &str) -> PathBuf {
    let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
    let dir = process_dir().join(format!("{kind}-{n}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("work")).expect("create the rnacos working directory");
    dir
}

/// The seed of this process, made on first use; panics, saying why, if no start was clean.
pub fn seed() -> &'static Seed {
    match SEED.get_or_init(make_seed) {
        Ok(seed) => seed,
        Err(why) => panic!("no clean rnacos start to seed the data directories: {why}"),
    }
}

/// Starts rnacos on fresh data directories until a start is clean, stops it and keeps its data.
fn make_seed() -> Result<Seed, String> {
    remove_stale_dirs();
    let bin = binary();
    let data = process_dir().join("seed");
    let mut failures = Vec::new();
    for attempt in 1..=SEED_ATTEMPTS {
        let dir = fresh_dir("seed-start");
        let mut server = Rnacos::spawn(&bin, dir, 3600, attempt);
        let clean = server
            .wait_ready(START_BUDGET)
            .and_then(|()| server.stop(STOP_BUDGET));
        match clean {
            Ok(()) => {
                let _ = std::fs::remove_dir_all(&data);
                std::fs::rename(server.dir.join("data"), &data)
                    .map_err(|e| format!("keep the seed data directory: {e}"))?;
                return Ok(Seed {
                    data,
                    attempts: attempt,
                });
            }
            Err(why) => {
                eprintln!("rnacos seed: fresh start {attempt} failed: {why}");
                failures.push(format!("start {attempt}: {why}"));
            }
        }
    }
    Err(failures.join("; "))
}

/// Removes the directories of earlier test processes that are no longer running (best effort).
fn remove_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(dir_pid) else {
            continue;
        };
        if pid != std::process::id() && !process_alive(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The pid in `mse-auth-rnacos-<pid>` (or `mse-auth-rnacos-<pid>-…`, the earlier naming).
fn dir_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(DIR_PREFIX)?;
    rest.split('-').next()?.parse().ok()
}

/// Whether a process with this pid runs (`/proc` on Linux, `kill -0` elsewhere).
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        return Path::new("/proc").join(pid.to_string()).exists();
    }
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Copies the directory tree `from` to `to` (files and directories; rnacos writes nothing else).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

impl Rnacos {
    /// Starts rnacos with tokens living `token_ttl` seconds on a copy of the seed; panics, saying
    /// why, if it cannot be made ready.
    pub fn start(token_ttl: u64) -> Rnacos {
        Self::try_start(token_ttl)
            .unwrap_or_else(|why| panic!("rnacos did not become ready: {why}"))
    }

    /// [`Rnacos::start`], returning why it failed instead of panicking (except for a missing
    /// binary or seed).
    pub fn try_start(token_ttl: u64) -> Result<Rnacos, String> {
        let seed = seed();
        let bin = binary();
        let mut failures = Vec::new();
        for attempt in 1..=COPY_ATTEMPTS {
            let dir = fresh_dir("server");
            copy_tree(&seed.data, &dir.join("data"))
                .map_err(|e| format!("copy the seed data directory: {e}"))?;
            let mut server = Self::spawn(&bin, dir, token_ttl, attempt);
            match server.wait_ready(START_BUDGET) {
                Ok(()) => return Ok(server),
                Err(why) => {
                    eprintln!("rnacos: start {attempt} from a seed copy failed: {why}");
                    failures.push(format!("start {attempt}: {why}"));
                }
            }
        }
        Err(failures.join("; "))
    }

    /// Runs rnacos in `dir/work` on `dir/data` with new loopback ports, logging to `dir/rnacos.log`.
    fn spawn(bin: &Path, dir: PathBuf, token_ttl: u64, attempts: u32) -> Rnacos {
        let [http_port, grpc_port, console_port] = free_ports();
        let log = std::fs::File::create(dir.join("rnacos.log")).expect("create the rnacos log");
        let child = Command::new(bin)
            .current_dir(dir.join("work"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RNACOS_SDK_HOST", "127.0.0.1")
            .env("RNACOS_CONSOLE_HOST", "127.0.0.1")
            .env("RNACOS_HTTP_PORT", http_port.to_string())
            .env("RNACOS_GRPC_PORT", grpc_port.to_string())
            .env("RNACOS_HTTP_CONSOLE_PORT", console_port.to_string())
            .env("RNACOS_ENABLE_OPEN_API_AUTH", "true")
            .env("RNACOS_API_LOGIN_TIMEOUT", token_ttl.to_string())
            .env("RNACOS_DATA_DIR", dir.join("data"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        Rnacos {
            child,
            dir,
            http_port,
            grpc_port,
            attempts,
        }
    }

    /// Ready = an admin login returns a token. An exit, a panic in the log or a "Mailbox has
    /// closed" answer (what a panicked rnacos says) means a failed start.
    fn wait_ready(&mut self, budget: Duration) -> Result<(), String> {
        let deadline = Instant::now() + budget;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("rnacos exited ({status}): {}", self.log_tail()));
            }
            if let Some(panic) = panic_line(&self.log()) {
                return Err(format!("rnacos panicked at start-up: {panic}"));
            }
            match self.login() {
                Login::Token(_) => return Ok(()),
                Login::Broken(body) => return Err(format!("rnacos answers {body:?}")),
                Login::NotYet => std::thread::sleep(POLL),
            }
        }
        Err(format!(
            "no admin login within {budget:?}: {}",
            self.log_tail()
        ))
    }

    /// Stops rnacos with SIGTERM (it shuts down gracefully) and waits up to `budget` for its exit.
    fn stop(&mut self, budget: Duration) -> Result<(), String> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        if !sent.as_ref().is_ok_and(|s| s.success()) {
            return Err(format!("`kill -TERM {pid}` failed: {sent:?}"));
        }
        let deadline = Instant::now() + budget;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Ok(());
            }
            std::thread::sleep(POLL);
        }
        Err(format!("rnacos did not exit within {budget:?} of SIGTERM"))
    }

    /// `http://127.0.0.1:<http port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// An admin token, by a blocking login (fixture use only).
    pub fn admin_token(&self) -> Option<String> {
        match self.login() {
            Login::Token(token) => Some(token),
            Login::NotYet | Login::Broken(_) => None,
        }
    }

    /// One blocking admin login.
    fn login(&self) -> Login {
        let body = format!("username={}&password={}", ADMIN.0, ADMIN.1);
        let Some((status, text)) =
            http(self.http_port, "POST", "/nacos/v1/auth/users/login", &body)
        else {
            return Login::NotYet;
        };
        if text.contains("Mailbox has closed") {
            return Login::Broken(text);
        }
        if status != 200 {
            return Login::NotYet;
        }
        serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|json| json.get("accessToken")?.as_str().map(str::to_string))
            .map_or(Login::NotYet, Login::Token)
    }

    /// Publishes a config over the open API with `token`; returns the HTTP status.
    pub fn publish(&self, token: &str, data_id: &str, group: &str, content: &str) -> u16 {
        self.publish_in(token, "", data_id, group, content)
    }

    /// Publishes a config into namespace `tenant` (`""`: public) over the open API with `token`;
    /// returns the HTTP status.
    pub fn publish_in(
        &self,
        token: &str,
        tenant: &str,
        data_id: &str,
        group: &str,
        content: &str,
    ) -> u16 {
        let body = form(&[
            ("dataId", data_id),
            ("group", group),
            ("tenant", tenant),
            ("content", content),
            ("accessToken", token),
        ]);
        http(self.http_port, "POST", "/nacos/v1/cs/configs", &body).map_or(0, |(s, _)| s)
    }

    /// Reads a config over the open API, with `token` if given: (status, body).
    pub fn read(&self, token: Option<&str>, data_id: &str, group: &str) -> (u16, String) {
        self.read_in(token, "", data_id, group)
    }

    /// Reads a config of namespace `tenant` over the open API, with `token` if given: (status,
    /// body).
    pub fn read_in(
        &self,
        token: Option<&str>,
        tenant: &str,
        data_id: &str,
        group: &str,
    ) -> (u16, String) {
        let mut pairs = vec![("dataId", data_id), ("group", group), ("tenant", tenant)];
        if let Some(token) = token {
            pairs.push(("accessToken", token));
        }
        let path = format!("/nacos/v1/cs/configs?{}", form(&pairs));
        http(self.http_port, "GET", &path, "").unwrap_or((0, String::new()))
    }

    /// Every config of namespace `tenant` over the open API (`search=accurate`, pages of 100, at
    /// most 100 pages): (group, dataId, content), sorted.
    pub fn configs_in(&self, token: &str, tenant: &str) -> Vec<(String, String, String)> {
        let mut all = Vec::new();
        for page in 1..=100 {
            let page_no = page.to_string();
            let query = form(&[
                ("search", "accurate"),
                ("dataId", ""),
                ("group", ""),
                ("tenant", tenant),
                ("pageNo", &page_no),
                ("pageSize", "100"),
                ("accessToken", token),
            ]);
            let (status, body) = http(
                self.http_port,
                "GET",
                &format!("/nacos/v1/cs/configs?{query}"),
                "",
            )
            .unwrap_or((0, String::new()));
            assert_eq!(status, 200, "listing configs: {body}");
            let json: serde_json::Value = serde_json::from_str(&body).expect("a config page");
            let items = json["pageItems"].as_array().cloned().unwrap_or_default();
            for item in &items {
                let field = |name: &str| item[name].as_str().unwrap_or_default().to_string();
                all.push((field("group"), field("dataId"), field("content")));
            }
            if items.len() < 100 {
                break;
            }
        }
        all.sort();
        all
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("rnacos.log")).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let log = self.log();
        let start = log.len().saturating_sub(400);
        log.get(start..).unwrap_or_default().replace('\n', " | ")
    }
}

/// The line of `log` that reports a panic, if any.
fn panic_line(log: &str) -> Option<&str> {
    log.lines().find(|line| line.contains("panicked"))
}

/// What an admin login got.
enum Login {
    /// A token: the server is ready.
    Token(String),
    /// No connection, a 403 (the first second) or no token yet.
    NotYet,
    /// The answer of a panicked server ("Mailbox has closed"): it never becomes ready.
    Broken(String),
}

impl Drop for Rnacos {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A minimal blocking HTTP/1.1 exchange with 127.0.0.1 (fixture use: no runtime needed).
fn http(port: u16, method: &str, path: &str, form_body: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form_body}",
        form_body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, dechunk(&text, body)))
}

/// Undoes `Transfer-Encoding: chunked` when the server used it.
fn dechunk(head: &str, body: String) -> String {
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return body;
    }
    let mut out = String::new();
    let mut rest = body.as_str();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}
