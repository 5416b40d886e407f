//! Helpers of the `mse-auth` CLI tests (`cli.rs`, `cli_config.rs`): the binary run as a child process
//! in an empty environment with a temporary HOME, an emulator on a runtime of its own, bounded waits,
//! and children killed on drop.

#![allow(dead_code)] // each test binary uses a different subset

use mse_auth_emulator::loopback::closed_port;
use mse_auth_emulator::Emulator;
use mse_auth_providers::vars;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_mse-auth");
pub const AK_ID: &str = "LTAI5tCliTestKeyId";
pub const AK_SECRET: &str = "sentinel-ak-secret-0042";
pub const STS_TOKEN: &str = "sentinel-sts-token-0042";
pub const ROLE: &str = "acs:ram::1234567890123456:role/cli";
/// Longest a command may run before the test fails.
pub const RUN_LIMIT: Duration = Duration::from_secs(30);

/// A temporary HOME, removed on drop.
pub struct Home(pub PathBuf);

impl Home {
    pub fn new() -> Home {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mse-auth-cli-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("create a temporary HOME");
        Home(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `~/.alibabacloud/credentials` with a `ram_role_arn` default profile.
    pub fn ram_role_profile(&self) {
        let dir = self.0.join(".alibabacloud");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("credentials"),
            format!(
                "[default]\ntype = ram_role_arn\naccess_key_id = {AK_ID}\n\
                 access_key_secret = {AK_SECRET}\nrole_arn = {ROLE}\n"
            ),
        )
        .unwrap();
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An emulator (or canned server) running on a multi-thread runtime of this test, so it keeps serving
/// while the test thread waits for a child process.
pub struct Cloud {
    pub rt: tokio::runtime::Runtime,
    pub emulator: Emulator,
}

impl Cloud {
    pub fn start() -> Cloud {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emulator = rt.block_on(Emulator::start()).unwrap();
        emulator.add_access_key(AK_ID, AK_SECRET);
        Cloud { rt, emulator }
    }

    /// Every secret the emulator issued, and the source secret.
    pub fn secrets(&self) -> Vec<String> {
        let mut all = vec![AK_SECRET.to_string(), STS_TOKEN.to_string()];
        for issued in self.emulator.issued() {
            all.push(issued.access_key_secret);
            all.push(issued.security_token);
        }
        all
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The binary with an empty environment but for HOME and a closed metadata port, plus `env`.
pub fn mse_auth(home: &Home, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("HOME", home.path())
        .env(
            vars::ECS_METADATA_ENDPOINT,
            format!("http://127.0.0.1:{}", closed_port()),
        )
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    cmd
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Fails when any of `secrets` appears in stdout or stderr.
    pub fn assert_no_secret(&self, secrets: &[impl AsRef<str>]) {
        for secret in secrets {
            let secret = secret.as_ref();
            assert!(
                !self.stdout.contains(secret) && !self.stderr.contains(secret),
                "a secret leaked: stdout {:?} stderr {:?}",
                self.stdout,
                self.stderr
            );
        }
    }

    pub fn assert_ok(&self) {
        assert_eq!(
            self.code, 0,
            "stdout {:?} stderr {:?}",
            self.stdout, self.stderr
        );
    }

    /// Exit code 1 and exactly one stderr line `mse-auth: …`; returns that line.
    pub fn assert_one_line_failure(&self) -> &str {
        assert_eq!(
            self.code, 1,
            "stdout {:?} stderr {:?}",
            self.stdout, self.stderr
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{:?}", self.stderr);
        assert!(lines[0].starts_with("mse-auth: "), "{:?}", lines[0]);
        lines[0]
    }
}

/// Runs `cmd` with `args`, feeding `stdin`, within [`RUN_LIMIT`].
pub fn run_with_stdin(mut cmd: Command, args: &[&str], stdin: Option<&str>) -> Output {
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = ChildGuard(cmd.spawn().expect("spawn mse-auth"));
    if let Some(input) = stdin {
        let mut pipe = child.0.stdin.take().unwrap();
        // A command may refuse before reading its input and exit: the pipe is then closed.
        if let Err(e) = pipe.write_all(input.as_bytes()) {
            assert_eq!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe,
                "writing stdin: {e}"
            );
        }
    }
    let mut out = child.0.stdout.take().unwrap();
    let mut err = child.0.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let code = child.wait_within(RUN_LIMIT);
    Output {
        code,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

pub fn run(cmd: Command, args: &[&str]) -> Output {
    run_with_stdin(cmd, args, None)
}

/// Kills the child when dropped (also when a test fails).
pub struct ChildGuard(pub Child);

impl ChildGuard {
    /// The exit code, waiting at most `limit`; panics (and kills) past it.
    pub fn wait_within(&mut self, limit: Duration) -> i32 {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "mse-auth ran longer than {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` (`INT` for Ctrl-C, `TERM`).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.0.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// A long-running child whose stdout lines arrive on a channel.
pub struct Running {
    pub child: ChildGuard,
    pub lines: mpsc::Receiver<String>,
    pub stderr: std::thread::JoinHandle<String>,
}

impl Running {
    pub fn spawn(mut cmd: Command, args: &[&str]) -> Running {
        cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = ChildGuard(cmd.spawn().expect("spawn mse-auth"));
        let stdout = child.0.stdout.take().unwrap();
        let mut stderr = child.0.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        Running {
            child,
            lines,
            stderr,
        }
    }

    /// The next stdout line, within 20 s.
    pub fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a line on stdout within 20 s")
    }

    /// Stdout lines up to and including the first for which `last` holds: at most `max` lines, each
    /// within 20 s.
    pub fn lines_until(&self, max: usize, last: impl Fn(&str) -> bool) -> Vec<String> {
        let mut lines = Vec::new();
        while lines.len() < max {
            let line = self.line();
            let done = last(&line);
            lines.push(line);
            if done {
                return lines;
            }
        }
        panic!("no closing line among the first {max} lines: {lines:#?}");
    }

    /// Interrupts the child (Ctrl-C) and returns its exit code and stderr.
    pub fn stop(self) -> (i32, String) {
        self.stop_with("INT")
    }

    /// Sends `signal` and returns the child's exit code and stderr.
    pub fn stop_with(mut self, signal: &str) -> (i32, String) {
        self.child.signal(signal);
        let code = self.child.wait_within(Duration::from_secs(10));
        (code, self.stderr.join().unwrap())
    }
}

/// The emulator with the KMS master key `key`.
pub fn kms_cloud_with(key: &str) -> Cloud {
    let cloud = Cloud::start();
    cloud.emulator.kms_create_key(key);
    cloud
}

/// The environment of a KMS user: the AccessKey the emulator accepts, its KMS endpoint.
pub fn kms_env(cloud: &Cloud) -> Vec<(&'static str, String)> {
    vec![
        (vars::ACCESS_KEY_ID, AK_ID.to_string()),
        (vars::ACCESS_KEY_SECRET, AK_SECRET.to_string()),
        (vars::KMS_ENDPOINT, cloud.emulator.kms_endpoint()),
    ]
}

/// `mse-auth` in `home` with the owned environment `env`.
pub fn cmd(home: &Home, env: &[(&'static str, String)]) -> Command {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    mse_auth(home, &pairs)
}

/// Every variable `mse-auth emulator` prints, in both formats.
pub const EMULATOR_VARS: [&str; 12] = [
    vars::ACCESS_KEY_ID,
    vars::ACCESS_KEY_SECRET,
    vars::KMS_ENDPOINT,
    vars::SECRET_NAME,
    vars::STS_ENDPOINT,
    vars::ROLE_ARN,
    vars::OIDC_PROVIDER_ARN,
    vars::OIDC_TOKEN_FILE,
    vars::CONFIG_FILE,
    vars::OAUTH_ENDPOINT,
    vars::ECS_METADATA_ENDPOINT,
    vars::CREDENTIALS_URI,
];

/// What `mse-auth emulator` (env format) printed, up to its closing line.
pub struct EmulatorPrintout {
    /// Every line, in order.
    pub lines: Vec<String>,
    /// The `export NAME=value` lines, values unquoted.
    pub exports: HashMap<String, String>,
}

impl EmulatorPrintout {
    /// Reads the printout of `emulator` up to its closing line, the KMS master key.
    pub fn read(emulator: &Running) -> EmulatorPrintout {
        let lines = emulator.lines_until(40, |l| l.starts_with("# KMS master key"));
        let exports = lines
            .iter()
            .filter_map(|l| l.strip_prefix("export "))
            .map(|l| {
                let (name, value) = l.split_once('=').expect(l);
                (name.to_string(), shell_unquote(value))
            })
            .collect();
        EmulatorPrintout { lines, exports }
    }

    /// The comment lines.
    pub fn comments(&self) -> impl Iterator<Item = &str> {
        self.lines
            .iter()
            .map(String::as_str)
            .filter(|l| l.starts_with('#'))
    }

    /// The exports as a child's environment (everything pasted).
    pub fn env(&self) -> Vec<(&str, &str)> {
        self.exports
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// One shell word as `sh` reads it: bare, or in single quotes with `'\''` for a quote.
pub fn shell_unquote(word: &str) -> String {
    match word.strip_prefix('\'').and_then(|w| w.strip_suffix('\'')) {
        Some(inner) => inner.replace("'\\''", "'"),
        None => word.to_string(),
    }
}

/// The call counts `mse-auth emulator` prints on stderr when it stops (`  AssumeRole: 1`).
pub fn emulator_calls(stderr: &str) -> HashMap<String, usize> {
    stderr
        .lines()
        .filter_map(|l| l.trim().split_once(": "))
        .filter_map(|(name, n)| Some((name.to_string(), n.parse().ok()?)))
        .collect()
}

/// The permission bits of `path`.
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}
