//! A real Nacos-compatible server for tests: `rnacos` 0.8.8, started on loopback ports with auth on, a
//! fresh data directory and an empty working directory (it reads `./.env`), ready once an admin login
//! returns a token, restarted with a fresh data dir when it panics at start-up (spec §G.3: about 3 starts
//! in 20 on 2 cores), killed and cleaned up on drop.
//!
//! Install it with `cargo install rnacos --version 0.8.8 --locked` (`scripts/test.sh` does). A missing
//! binary fails the test, saying so: no silent skip.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Admin user created by rnacos on first start.
pub const ADMIN: (&str, &str) = ("admin", "admin");

/// A running rnacos.
pub struct Rnacos {
    child: Child,
    dir: PathBuf,
    /// HTTP port (open API, login).
    pub http_port: u16,
    /// gRPC port (SDK).
    pub grpc_port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
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

impl Rnacos {
    /// Starts rnacos with tokens living `token_ttl` seconds; panics, saying why, if it cannot be
    /// made ready in 3 attempts.
    pub fn start(token_ttl: u64) -> Rnacos {
        let bin = binary();
        let mut last = String::new();
        for attempt in 1..=3 {
            let mut server = Self::spawn(&bin, token_ttl, attempt);
            match server.wait_ready(Duration::from_secs(20)) {
                Ok(()) => return server,
                Err(why) => last = format!("attempt {attempt}: {why}"),
            }
        }
        panic!("rnacos did not become ready: {last}");
    }

    fn spawn(bin: &Path, token_ttl: u64, attempt: u32) -> Rnacos {
        let dir = std::env::temp_dir().join(format!(
            "mse-auth-rnacos-{}-{}-{attempt}",
            std::process::id(),
            free_port()
        ));
        let work = dir.join("work");
        std::fs::create_dir_all(&work).expect("create the rnacos working directory");
        let (http_port, grpc_port, console_port) = (free_port(), free_port(), free_port());
        let log = std::fs::File::create(dir.join("rnacos.log")).expect("create the rnacos log");
        let child = Command::new(bin)
            .current_dir(&work)
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
        }
    }

    /// Ready = an admin login returns a token. A panic in the log or an exit means a failed start.
    fn wait_ready(&mut self, budget: Duration) -> Result<(), String> {
        let deadline = Instant::now() + budget;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("rnacos exited ({status}): {}", self.log_tail()));
            }
            if self.log().contains("panicked") {
                return Err(format!("rnacos panicked at start-up: {}", self.log_tail()));
            }
            if self.admin_token().is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!(
            "no admin login within {budget:?}: {}",
            self.log_tail()
        ))
    }

    /// `http://127.0.0.1:<http port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// An admin token, by a blocking login (fixture use only).
    pub fn admin_token(&self) -> Option<String> {
        let body = format!("username={}&password={}", ADMIN.0, ADMIN.1);
        let (status, text) = http(self.http_port, "POST", "/nacos/v1/auth/users/login", &body)?;
        if status != 200 {
            return None;
        }
        let json: serde_json::Value = serde_json::from_str(&text).ok()?;
        json.get("accessToken")?.as_str().map(str::to_string)
    }

    /// Publishes a config over the open API with `token`; returns the HTTP status.
    pub fn publish(&self, token: &str, data_id: &str, group: &str, content: &str) -> u16 {
        let body = form(&[
            ("dataId", data_id),
            ("group", group),
            ("content", content),
            ("accessToken", token),
        ]);
        http(self.http_port, "POST", "/nacos/v1/cs/configs", &body).map_or(0, |(s, _)| s)
    }

    /// Reads a config over the open API, with `token` if given: (status, body).
    pub fn read(&self, token: Option<&str>, data_id: &str, group: &str) -> (u16, String) {
        let mut pairs = vec![("dataId", data_id), ("group", group)];
        if let Some(token) = token {
            pairs.push(("accessToken", token));
        }
        let path = format!("/nacos/v1/cs/configs?{}", form(&pairs));
        http(self.http_port, "GET", &path, "").unwrap_or((0, String::new()))
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
