//! What the subcommands share: global flags, output formats, the spinner, masking, time left, shell
//! quoting and shutdown signals.

use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use mse_auth_providers::os::Env;
use mse_auth_providers::{vars, Context, Credentials, DefaultChain};
use std::io::IsTerminal;
use std::time::{Duration, SystemTime};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// What a subcommand returns: a failure is printed as one line `mse-auth: <cause>`.
pub type CliResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Flags every subcommand accepts.
#[derive(Debug, clap::Args)]
pub struct Globals {
    /// Profile name for both profile files (~/.aliyun/config.json, ~/.alibabacloud/credentials);
    /// default: ALIBABA_CLOUD_PROFILE, then the files' own default.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Log what happens to stderr (-v debug, -vv trace). Logs never contain secrets.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// INSECURE: permit plain http to any host for every endpoint (STS, KMS, ECS metadata,
    /// credentials URI); credentials then cross the network unencrypted. For private test
    /// deployments only. Same as MSE_AUTH_INSECURE_ALLOW_HTTP=true; each endpoint it lets through is
    /// logged as a warning on stderr.
    #[arg(long, global = true)]
    pub insecure_allow_http: bool,
}

impl Globals {
    /// Installs the stderr logger when `-v` is given, or at `warn` with `--insecure-allow-http` or
    /// `MSE_AUTH_INSECURE_ALLOW_HTTP=true` (so that each plain-http endpoint it lets through is
    /// reported).
    pub fn init_tracing(&self) {
        let insecure = self.context().env().flag(vars::INSECURE_ALLOW_HTTP);
        let level = match self.verbose {
            0 if insecure => tracing::Level::WARN,
            0 => return,
            1 => tracing::Level::DEBUG,
            _ => tracing::Level::TRACE,
        };
        // nacos-sdk's own log is left out at every level: it prints a response's payload when it
        // cannot parse it, and a config's payload can carry its encryptedDataKey (for cipher-aes-, the
        // key itself). `nacos config` logs each server call itself.
        let targets = Targets::new()
            .with_default(level)
            .with_target("nacos_sdk", LevelFilter::OFF);
        tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::stderr().is_terminal()),
            )
            .with(targets)
            .init();
    }

    /// The context every provider and client of a command uses: the process environment, with
    /// `MSE_AUTH_INSECURE_ALLOW_HTTP=true` on top when `--insecure-allow-http` is given.
    pub fn context(&self) -> Context {
        let ctx = Context::default();
        if self.insecure_allow_http {
            ctx.with_env(Env::real().with_var(vars::INSECURE_ALLOW_HTTP, "true"))
        } else {
            ctx
        }
    }

    /// The default chain's settings: [`context`](Self::context), `--profile`.
    pub fn chain(&self) -> mse_auth_providers::default_chain::Builder {
        let builder = DefaultChain::builder().context(self.context());
        match &self.profile {
            Some(p) => builder.profile(p.clone()),
            None => builder,
        }
    }

    /// A spinner on stderr while `message` is under way, shown only on a terminal and without `-v`.
    pub fn spinner(&self, message: &str) -> Spinner {
        if self.verbose > 0 || !std::io::stderr().is_terminal() {
            return Spinner(None);
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
            bar.set_style(style);
        }
        bar.set_message(message.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        Spinner(Some(bar))
    }
}

/// A terminal spinner, cleared when dropped.
pub struct Spinner(Option<ProgressBar>);

impl Globals {
    /// A progress bar on stderr counting `len` steps, shown only on a terminal and without `-v`.
    pub fn progress(&self, len: u64) -> Progress {
        if self.verbose > 0 || !std::io::stderr().is_terminal() {
            return Progress::hidden();
        }
        let bar = ProgressBar::new(len);
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress(Some(bar))
    }
}

/// A terminal progress bar (or nothing, off a terminal), cleared when dropped.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// No bar at all.
    pub fn hidden() -> Progress {
        Progress(None)
    }

    /// Shows `message` (what is under way: never a secret).
    pub fn message(&self, message: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(message.to_string());
        }
    }

    /// One step done.
    pub fn step(&self) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// `table` (for people) or `json` (for programs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned rows for people.
    #[default]
    Table,
    /// One JSON object.
    Json,
}

/// Prints `rows` as `name   value` lines, names padded to the longest.
pub fn print_rows(rows: &[(&str, String)]) {
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, value) in rows {
        println!("{name:<width$}  {value}");
    }
}

/// Prints `header` and `rows` as left-aligned columns (the last column is not padded).
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut out = String::new();
        for (cell, w) in cells.zip(&widths) {
            let pad = w.saturating_sub(cell.chars().count());
            out.push_str(cell);
            out.push_str(&" ".repeat(pad + 2));
        }
        println!("{}", out.trim_end());
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
}

/// Hides a token: its first characters (at most 4, and only when it is long) and its length.
pub fn mask_token(token: &str) -> String {
    let len = token.chars().count();
    let keep = if len >= 32 { 4 } else { 0 };
    let head: String = token.chars().take(keep).collect();
    format!("{head}**** ({len} characters)")
}

/// `1h 2m 3s` until `expiration`, `expired` once past it, `never expires` for `None`.
pub fn time_left(expiration: Option<SystemTime>) -> String {
    match expiration {
        None => "never expires".into(),
        Some(at) => match at.duration_since(SystemTime::now()) {
            Ok(left) => human_duration(left),
            Err(_) => "expired".into(),
        },
    }
}

/// Seconds until `expiration` (negative once past it).
pub fn seconds_left(expiration: SystemTime) -> i64 {
    match expiration.duration_since(SystemTime::now()) {
        Ok(left) => i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
        Err(past) => -i64::try_from(past.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// `1h 2m 3s`, `2m 3s`, `3s`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}h {m}m {s}s")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// `STS (temporary)` or `AccessKey (long-term)`.
pub fn kind(credentials: &Credentials) -> &'static str {
    if credentials.is_sts() {
        "STS (temporary)"
    } else {
        "AccessKey (long-term)"
    }
}

/// `value` quoted for a POSIX shell: `'...'`, with `'` written as `'\''`.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// `len` random letters and digits from the operating system's generator, each equally likely.
pub fn random_alphanumeric(len: usize) -> CliResult<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    // Rejection sampling keeps every character equally likely; a round keeps 62 of 64 bytes on
    // average, so 16 rounds per 64 characters are plenty.
    for _ in 0..16 * (len / 64 + 1) {
        if out.len() == len {
            return Ok(out);
        }
        getrandom::fill(&mut buf).map_err(|e| format!("no random numbers: {e}"))?;
        for b in buf {
            if usize::from(b) < ALPHABET.len() * 4 {
                out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
                if out.len() == len {
                    return Ok(out);
                }
            }
        }
    }
    Err("no random numbers".into())
}

/// A future that resolves when the process receives Ctrl-C (SIGINT) or SIGTERM. The handlers are
/// installed when this is called, not when the future is first polled: call it before telling anyone
/// that the process is ready, or a signal sent right after that would kill it unhandled.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let handlers = signal(SignalKind::terminate())
            .and_then(|term| signal(SignalKind::interrupt()).map(|interrupt| (term, interrupt)));
        async move {
            match handlers {
                Ok((mut term, mut interrupt)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = interrupt.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_allow_http_sets_the_opt_in_variable_of_the_context() {
        let globals = |insecure_allow_http| Globals {
            profile: None,
            verbose: 0,
            insecure_allow_http,
        };
        let env = globals(true).context().env().clone();
        assert_eq!(env.get_bool(vars::INSECURE_ALLOW_HTTP), Ok(Some(true)));
        let shown = format!("{env:?}");
        assert!(shown.contains("MSE_AUTH_INSECURE_ALLOW_HTTP"), "{shown}");
        let env = globals(false).context().env().clone();
        assert!(!format!("{env:?}").contains("MSE_AUTH_INSECURE_ALLOW_HTTP"));
    }

    #[test]
    fn tokens_are_masked_and_durations_read_well() {
        let token = "eyJhbGciOiJIUzI1NiJ9.sentinel-nacos-token-payload";
        let masked = mask_token(token);
        assert_eq!(masked, "eyJh**** (49 characters)");
        assert_eq!(mask_token("short"), "**** (5 characters)");
        assert_eq!(human_duration(Duration::from_secs(3723)), "1h 2m 3s");
        assert_eq!(human_duration(Duration::from_secs(61)), "1m 1s");
        assert_eq!(shell_quote("a'b"), "'a'\\''b'");
    }
}
