//! Credentials printed by a command: the CLI profile mode `External` (`process_command`). Provider
//! name `external`; credentials of a CLI profile report `cli_profile/external`.
//!
//! Wire-compatible with the official Python client (`alibabacloud-credentials` 1.0.12,
//! `provider/external.py`; spec §10): a command written for it works here unless it relies on one of
//! the differences listed below.
//!
//! # The command
//! It is split into words as Python's `shlex.split` splits it (quotes and backslash escapes, no
//! comments; one difference, below) and run **without a shell**: pipes, redirections, `$VAR` and `~`
//! mean nothing unless the command runs a shell itself (`sh -c '…'`). It inherits the process
//! environment and working directory; its stdin is `/dev/null`, so it cannot prompt.
//!
//! It must exit with status 0 within the timeout (default 60 s, [`DEFAULT_TIMEOUT`]). On a timeout
//! it is killed together with every process it started (on Unix it runs in a process group of its
//! own, and the whole group is killed), and the caller gets the error at once, even if a process that
//! left the group keeps the output open. The command counts as running until its stdout and stderr
//! are closed: a background process that keeps them open makes it time out.
//!
//! # Its output
//! Stdout, at most 64 KiB ([`STDOUT_LIMIT`]), is one JSON object:
//!
//! ```json
//! {"mode": "StsToken", "access_key_id": "STS.NUg…", "access_key_secret": "…",
//!  "sts_token": "CAIS…", "expiration": "2025-06-01T12:00:00Z"}
//! ```
//!
//! `access_key_id` and `access_key_secret` must not be empty; mode `StsToken` needs `sts_token` (any
//! other mode, or none, is accepted, and a non-empty `sts_token` is used whatever the mode, as Python
//! does); `expiration` is UTC `YYYY-MM-DDTHH:MM:SSZ` (`.mmm` milliseconds are accepted too), or
//! absent, `null` or empty for credentials that do not expire. Other keys are ignored. Stderr is read
//! and counted, never kept (at most 1 MiB, [`STDERR_LIMIT`]).
//!
//! # Caching: no expiration, no cache
//! Credentials with an expiration are cached ([`Builder::build`]) and refreshed in the background
//! before they expire; they are served until 180 s before their expiration (10 % of their lifetime
//! when that is shorter), the official clients' refresh point, and a failed refresh leaves them in
//! service until then. Credentials **without** an expiration are not cached: the command runs again
//! on every call, as the official clients run it, so that a command that rotates or revokes keys is
//! always asked. Callers that arrive while a run is under way share its result.
//!
//! # Errors
//! A bad command (empty, an unclosed quote, a trailing backslash, a NUL) or a zero timeout fails
//! [`Builder::build`] with [`InvalidConfiguration`](crate::ErrorKind::InvalidConfiguration). When
//! it runs: a program that cannot be started, or that exits with another status than 0, is
//! [`Unhandled`](crate::ErrorKind::Unhandled); one that runs past the timeout is
//! [`TimedOut`](crate::ErrorKind::TimedOut); output that is too long, not JSON or not usable
//! credentials is [`Provider`](crate::ErrorKind::Provider). Messages name the profile (for a CLI
//! profile), the program (the first word only: arguments may hold secrets) and the problem. They never
//! show what the command printed, not even its stderr (the Python client shows stderr; it may hold
//! secrets): they say how many bytes it wrote there and suggest running the command by hand.
//!
//! # Differences from the Python client
//! - Credentials are never written back into `~/.aliyun/config.json` (Python and Go store them in the
//!   profile): the file is only read.
//! - On Windows Python hands the command to the shell; here it is split and run without one
//!   everywhere.
//! - Backslash-newline is a line continuation (Python's `shlex` keeps the newline in the word).
//! - The command's stdin is `/dev/null` (Python's inherits the caller's), and errors never show its
//!   stderr (Python's quote it).
//! - An `expiration` must have two-digit fields (`strptime` also takes `2025-6-1T1:02:03Z`).
//!
//! Running a command needs a Tokio runtime with I/O enabled (`#[tokio::main]` enables it).
//!
//! ```
//! # #[cfg(unix)]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), mse_auth_providers::CredentialsError> {
//! use mse_auth_providers::{CredentialsProvider, ExternalProcessProvider};
//! use std::time::Duration;
//!
//! let provider = ExternalProcessProvider::builder(
//!     r#"echo '{"mode": "AK", "access_key_id": "LTAI5tExampleId", "access_key_secret": "example-secret"}'"#,
//! )
//! .timeout(Duration::from_secs(10))
//! .build()?;
//! let creds = provider.provide_credentials().await?; // runs `echo`, and again on the next call
//! assert_eq!(creds.provider_path(), "external");
//! assert_eq!(creds.access_key_id(), "LTAI5tExampleId");
//! # Ok(()) }
//! # #[cfg(not(unix))]
//! # fn main() {}
//! ```

use crate::command_line::split;
use crate::context::Context;
use aws_smithy_async::future::timeout::Timeout;
use aws_smithy_async::rt::sleep::{AsyncSleep, SharedAsyncSleep};
use mse_auth::credentials::check_text;
use mse_auth::error::escape_untrusted;
use mse_auth::timestamp::parse_utc;
use mse_auth::{Credentials, CredentialsError, CredentialsProvider, ProvideCredentials};
use mse_auth::{RefreshCache, Result};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;
use std::io;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Provider name reported in credential paths.
pub const NAME: &str = "external";

/// How long the command may run, unless [`Builder::timeout`] says otherwise: 60 s, as the official
/// clients allow.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The most the command may print to stdout, in bytes (64 KiB); more is an error.
pub const STDOUT_LIMIT: usize = 64 * 1024;

/// The most the command may print to stderr, in bytes (1 MiB); more is an error. Stderr is only
/// counted, never kept.
pub const STDERR_LIMIT: usize = 1024 * 1024;

/// Longest program name shown in a message, in characters (escaped).
const MAX_SHOWN: usize = 128;

/// How long past the command's own timeout the refresh cache lets a load run: the command's timeout
/// fires first, with the better message.
const CACHE_SLACK: Duration = Duration::from_secs(5);

/// The cache's expiry margin, `min(180 s, 10 % of the lifetime)`: the official clients refresh
/// 180 s before the expiration.
const EXPIRY_MARGIN: Duration = Duration::from_secs(180);

/// Runs a command that prints credentials as JSON; see the [module docs](self). Every
/// `provide_credentials` runs the command once: [`Builder::build`] returns it cached
/// ([`CachedExternalProcessProvider`]), [`Builder::build_uncached`] bare, for composition and tests.
pub struct ExternalProcessProvider {
    /// The program and its arguments. The arguments may hold secrets: never formatted.
    argv: Zeroizing<Vec<String>>,
    /// The program and, when there are arguments, ` …`, escaped and in backticks, for messages.
    shown: String,
    /// Where the command was configured (a CLI config file and profile), for messages.
    origin: Option<String>,
    timeout: Duration,
    sleep: SharedAsyncSleep,
}

impl fmt::Debug for ExternalProcessProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExternalProcessProvider")
            .field("command", &self.shown)
            .field("origin", &self.origin)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ExternalProcessProvider {
    /// Settings for a provider that runs `command`, a command line split as the
    /// [module docs](self) say (e.g. `/usr/local/bin/fetch-credentials --profile prod`).
    pub fn builder(command: impl Into<String>) -> Builder {
        Builder {
            command: Zeroizing::new(command.into()),
            timeout: DEFAULT_TIMEOUT,
            context: None,
            origin: None,
        }
    }

    async fn load(&self) -> Result<Credentials> {
        let stdout = self.run().await?;
        let credentials = parse_output(&stdout, NAME).map_err(|problem| {
            self.error(
                CredentialsError::provider,
                format!("the command {} {problem}", self.shown),
            )
        })?;
        tracing::debug!(
            provider = NAME,
            command = %self.shown,
            expires = credentials.expiration().is_some(),
            "the command printed credentials"
        );
        Ok(credentials)
    }

    /// Runs the command and returns its stdout, once it has exited with status 0 and closed its
    /// output. On every other outcome the process group is killed (see [`ProcessGroup`]).
    async fn run(&self) -> Result<Zeroizing<Vec<u8>>> {
        let mut command = tokio::process::Command::new(&self.argv[0]);
        command
            .args(&self.argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command.spawn().map_err(|e| {
            self.error(
                CredentialsError::unhandled,
                format!("cannot start the command {}: {e}", self.shown),
            )
            .with_source(e)
        })?;
        // Declared after `child`, so dropped before it: the group is killed while the command's
        // process id is still ours (not yet reaped).
        let mut group = ProcessGroup::of(&child);
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(self.error(
                CredentialsError::unhandled,
                format!("the command {} started without its pipes", self.shown),
            ));
        };
        let stderr_bytes = AtomicUsize::new(0);
        let work = async {
            let (stdout, ()) =
                tokio::try_join!(read_stdout(stdout), count_stderr(stderr, &stderr_bytes))?;
            // Reaped only once its output is closed: until then a timeout may still kill the group.
            let status = child.wait().await.map_err(Failure::Wait)?;
            Ok::<_, Failure>((stdout, status))
        };
        let outcome = Timeout::new(work, self.sleep.sleep(self.timeout)).await;
        let stderr_note = || stderr_note(stderr_bytes.load(Ordering::Relaxed));
        match outcome {
            Ok(Ok((stdout, status))) => {
                group.reaped();
                if status.success() {
                    Ok(stdout)
                } else {
                    Err(self.error(
                        CredentialsError::unhandled,
                        format!(
                            "the command {} {}; {}",
                            self.shown,
                            ended(status),
                            stderr_note()
                        ),
                    ))
                }
            }
            Ok(Err(failure)) => Err(self.failure(failure)),
            Err(_elapsed) => Err(self.error(
                |provider, message| {
                    CredentialsError::timed_out_waiting(provider, self.timeout, message)
                },
                format!(
                    "the command {} did not finish and was killed, with every process it \
                     started; {}",
                    self.shown,
                    stderr_note()
                ),
            )),
        }
        // `group` is dropped here, before `child`: unless the command was reaped, its group is killed.
    }

    fn failure(&self, failure: Failure) -> CredentialsError {
        let shown = &self.shown;
        match failure {
            Failure::StdoutTooLarge => self.error(
                CredentialsError::provider,
                format!(
                    "the command {shown} printed more than {} KiB to stdout",
                    STDOUT_LIMIT / 1024
                ),
            ),
            Failure::StderrTooLarge => self.error(
                CredentialsError::provider,
                format!(
                    "the command {shown} printed more than {} KiB to stderr",
                    STDERR_LIMIT / 1024
                ),
            ),
            Failure::Read(e) => self
                .error(
                    CredentialsError::unhandled,
                    format!("cannot read the output of the command {shown}: {e}"),
                )
                .with_source(e),
            Failure::Wait(e) => self
                .error(
                    CredentialsError::unhandled,
                    format!("cannot wait for the command {shown}: {e}"),
                )
                .with_source(e),
        }
    }

    /// An error of `kind` (a constructor), its message prefixed with where the command was
    /// configured.
    fn error(
        &self,
        kind: impl FnOnce(&'static str, String) -> CredentialsError,
        message: String,
    ) -> CredentialsError {
        match &self.origin {
            Some(origin) => kind(NAME, format!("{origin}: {message}")),
            None => kind(NAME, message),
        }
    }
}

impl CredentialsProvider for ExternalProcessProvider {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        ProvideCredentials::boxed(self.load())
    }
}

/// What went wrong while the command ran, before its exit status was known.
enum Failure {
    StdoutTooLarge,
    StderrTooLarge,
    Read(io::Error),
    Wait(io::Error),
}

/// Reads the command's stdout to its end into one buffer of [`STDOUT_LIMIT`] + 1 bytes, allocated
/// once (so no copy of a secret is left behind in freed memory) and wiped when dropped.
async fn read_stdout(mut pipe: impl AsyncRead + Unpin) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let mut buffer = Zeroizing::new(vec![0u8; STDOUT_LIMIT + 1]);
    let mut len = 0;
    loop {
        if len == buffer.len() {
            return Err(Failure::StdoutTooLarge);
        }
        match pipe.read(&mut buffer[len..]).await.map_err(Failure::Read)? {
            0 => break,
            n => len += n,
        }
    }
    buffer.truncate(len);
    Ok(buffer)
}

/// Reads the command's stderr to its end, counting the bytes into `count` and keeping none.
async fn count_stderr(
    mut pipe: impl AsyncRead + Unpin,
    count: &AtomicUsize,
) -> Result<(), Failure> {
    let mut chunk = Zeroizing::new([0u8; 4096]);
    loop {
        let n = pipe.read(&mut chunk[..]).await.map_err(Failure::Read)?;
        if n == 0 {
            return Ok(());
        }
        if count.fetch_add(n, Ordering::Relaxed) + n > STDERR_LIMIT {
            return Err(Failure::StderrTooLarge);
        }
    }
}

/// What a message says about the command's stderr: its size only.
fn stderr_note(bytes: usize) -> String {
    match bytes {
        0 => "it printed nothing to stderr".to_string(),
        1 => "it printed 1 byte to stderr, not shown as it may hold secrets: run the command by \
              hand to see it"
            .to_string(),
        n => format!(
            "it printed {n} bytes to stderr, not shown as they may hold secrets: run the command \
             by hand to see them"
        ),
    }
}

/// How the command ended, for a status that is not success: `exited with status 3`.
fn ended(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was ended by signal {signal}");
        }
    }
    format!("failed ({status})")
}

/// The command's process group (on Unix; elsewhere the command alone, by `kill_on_drop`), killed
/// when this is dropped unless the command has been reaped: a reaped process id may be given to
/// another process, whereas an unreaped one stays ours, and so does the group it leads.
struct ProcessGroup {
    id: Option<u32>,
}

impl ProcessGroup {
    fn of(child: &tokio::process::Child) -> Self {
        Self { id: child.id() }
    }

    /// The command has exited and been reaped: its id is no longer ours to signal.
    fn reaped(&mut self) {
        self.id = None;
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            kill_group(id);
        }
    }
}

#[cfg(unix)]
fn kill_group(id: u32) {
    use rustix::process::{kill_process_group, Pid, Signal};
    if let Some(pid) = i32::try_from(id).ok().and_then(Pid::from_raw) {
        // ESRCH means every process of the group has exited already: nothing to do.
        if let Err(e) = kill_process_group(pid, Signal::KILL) {
            if e != rustix::io::Errno::SRCH {
                tracing::debug!(provider = NAME, error = %e, "cannot kill the command's process group");
            }
        }
    }
}

#[cfg(not(unix))]
fn kill_group(_id: u32) {
    // The command itself is killed when its `Child` is dropped (`kill_on_drop`).
}

/// The command's stdout. Every field is optional here so that a missing one becomes a clear error;
/// the secrets are wiped on drop. Other keys are ignored.
#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
struct Output {
    mode: Option<String>,
    access_key_id: Option<String>,
    access_key_secret: Option<String>,
    sts_token: Option<String>,
    expiration: Option<String>,
}

/// A field's value unless it is absent or empty.
fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// Parses the command's stdout into credentials reported by `provider`. `Err` is the problem,
/// worded to follow the command's name (`printed output that is not JSON …`); it never shows a
/// value from the output.
pub(crate) fn parse_output(
    stdout: &[u8],
    provider: &'static str,
) -> std::result::Result<Credentials, String> {
    let output: Output = serde_json::from_slice(stdout).map_err(|e| match e.classify() {
        // serde's "invalid type" messages quote the value, which may be a secret: say only what.
        serde_json::error::Category::Data => {
            "printed JSON that is not one object of string fields \
             (mode, access_key_id, access_key_secret, sts_token, expiration), each at most once"
                .to_string()
        }
        _ => format!(
            "printed output that is not JSON (line {}, column {}), not shown as it may hold \
             secrets: run the command by hand to see it",
            e.line(),
            e.column()
        ),
    })?;
    let (Some(id), Some(secret)) = (
        present(&output.access_key_id),
        present(&output.access_key_secret),
    ) else {
        let missing: Vec<&str> = [
            ("access_key_id", &output.access_key_id),
            ("access_key_secret", &output.access_key_secret),
        ]
        .into_iter()
        .filter(|(_, value)| present(value).is_none())
        .map(|(name, _)| name)
        .collect();
        return Err(format!(
            "printed JSON without {} (absent or empty)",
            missing.join(" and ")
        ));
    };
    let token = present(&output.sts_token);
    if output.mode.as_deref() == Some("StsToken") && token.is_none() {
        return Err("printed mode `StsToken` without an sts_token (absent or empty)".into());
    }
    for (name, value) in [
        ("access_key_id", Some(id)),
        ("access_key_secret", Some(secret)),
        ("sts_token", token),
    ] {
        if let Some(Err(problem)) = value.map(check_text) {
            return Err(format!("printed an {name} that {problem}"));
        }
    }
    let mut builder = Credentials::builder()
        .access_key_id(id)
        .access_key_secret(secret)
        .provider_path(Cow::Borrowed(provider));
    if let Some(token) = token {
        builder = builder.security_token(token);
    }
    if let Some(expiration) = present(&output.expiration) {
        // Not shown: it came from the output, like everything else there.
        let at = parse_utc(expiration).map_err(|_| {
            "printed an expiration that is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ"
                .to_string()
        })?;
        builder = builder.expiration(at);
    }
    builder
        .build()
        .map_err(|e| format!("printed unusable credentials: {}", e.message()))
}

/// Builds an [`ExternalProcessProvider`]; see [`ExternalProcessProvider::builder`].
pub struct Builder {
    command: Zeroizing<String>,
    timeout: Duration,
    context: Option<Context>,
    origin: Option<String>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The command line may hold secrets in its arguments: not shown.
        f.debug_struct("Builder")
            .field("timeout", &self.timeout)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// How long the command may run (default [`DEFAULT_TIMEOUT`], 60 s). Past it, the command and
    /// every process it started are killed, and the load fails with
    /// [`TimedOut`](crate::ErrorKind::TimedOut).
    ///
    /// ```
    /// use mse_auth_providers::ExternalProcessProvider;
    /// use std::time::Duration;
    ///
    /// let provider = ExternalProcessProvider::builder("fetch-credentials --profile prod")
    ///     .timeout(Duration::from_secs(5))
    ///     .build_uncached()?;
    /// # Ok::<(), mse_auth_providers::CredentialsError>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The outside world (default [`Context::default`]): its clock and sleep time the cache and the
    /// timeout. The command itself inherits the process environment, not the context's.
    pub fn context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    /// Where the command was configured, e.g. ``/home/me/.aliyun/config.json, profile `ext` ``:
    /// the errors of its runs begin with it.
    pub(crate) fn origin(mut self, origin: String) -> Self {
        self.origin = Some(origin);
        self
    }

    /// Checks the command and returns the provider behind a cache: credentials with an expiration
    /// are served from it until shortly before they expire, and the command runs again on every call
    /// for credentials without one (see the [module docs](self#caching-no-expiration-no-cache)).
    /// [`InvalidConfiguration`](crate::ErrorKind::InvalidConfiguration) for an empty command, one
    /// that cannot be split (an unclosed quote, a trailing backslash), one holding a NUL, or a zero
    /// timeout.
    ///
    /// ```
    /// use mse_auth_providers::{ErrorKind, ExternalProcessProvider};
    ///
    /// let err = ExternalProcessProvider::builder("fetch-credentials --token 'unclosed").build().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    /// assert_eq!(
    ///     err.to_string(),
    ///     "external: invalid configuration: the command cannot be split into words: a ' quote is not closed"
    /// );
    /// ```
    pub fn build(self) -> Result<CachedExternalProcessProvider> {
        let (ctx, provider) = self.into_parts()?;
        let cache = ctx
            .cache_builder(NAME)
            .load_timeout(provider.timeout.saturating_add(CACHE_SLACK))
            .expiry_margin(EXPIRY_MARGIN, 0.10)
            .build_for(provider);
        Ok(CachedExternalProcessProvider { cache })
    }

    /// Checks the command and returns the provider without a cache (for composition and tests):
    /// every call runs the command.
    pub fn build_uncached(self) -> Result<ExternalProcessProvider> {
        self.into_parts().map(|(_, provider)| provider)
    }

    fn into_parts(self) -> Result<(Context, ExternalProcessProvider)> {
        let invalid = |why: &str| CredentialsError::invalid_configuration(NAME, why.to_string());
        if self.timeout.is_zero() {
            return Err(invalid("the timeout must be more than zero"));
        }
        if self.command.trim().is_empty() {
            return Err(invalid("the command is empty"));
        }
        let argv = Zeroizing::new(split(&self.command).map_err(|e| {
            CredentialsError::invalid_configuration(
                NAME,
                format!("the command cannot be split into words: {e}"),
            )
        })?);
        let Some(program) = argv.first() else {
            return Err(invalid("the command is empty"));
        };
        if program.is_empty() {
            return Err(invalid("the command's program name is empty"));
        }
        if argv.iter().any(|word| word.contains('\0')) {
            return Err(invalid("the command holds a NUL character"));
        }
        let program = escape_untrusted(program, MAX_SHOWN);
        let shown = if argv.len() > 1 {
            format!("`{program} …`")
        } else {
            format!("`{program}`")
        };
        let ctx = self.context.unwrap_or_default();
        let provider = ExternalProcessProvider {
            argv,
            shown,
            origin: self.origin,
            timeout: self.timeout,
            sleep: ctx.sleep().clone(),
        };
        Ok((ctx, provider))
    }
}

/// An [`ExternalProcessProvider`] behind a refresh cache, from [`Builder::build`]: credentials with
/// an expiration come from the cache, while credentials without one are never served from it, so
/// the command runs again on every call; callers that arrive during a run share it. See the
/// [module docs](self#caching-no-expiration-no-cache).
pub struct CachedExternalProcessProvider {
    cache: RefreshCache<Credentials>,
}

impl fmt::Debug for CachedExternalProcessProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedExternalProcessProvider")
            .field("cache", &self.cache)
            .finish()
    }
}

impl CredentialsProvider for CachedExternalProcessProvider {
    #[inline]
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        match self.cache.current() {
            // The last run printed credentials that do not expire: run again (or join the run in
            // flight), and answer with that run's own outcome, its error included.
            Some(last) if last.expiration().is_none() => {
                ProvideCredentials::boxed(self.cache.refresh())
            }
            // Expiring credentials, or nothing yet: the cache's own rules.
            _ => self.cache.provide_credentials(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mse_auth::ErrorKind;
    use std::time::SystemTime;

    fn parse(stdout: &str) -> std::result::Result<Credentials, String> {
        parse_output(stdout.as_bytes(), NAME)
    }

    #[test]
    fn parses_access_keys_and_sts_tokens() {
        let c = parse(
            r#"{"mode": "AK", "access_key_id": "LTAI5tExt", "access_key_secret": "sentinel-s"}"#,
        )
        .unwrap();
        assert_eq!(
            (c.access_key_id(), c.access_key_secret(), c.security_token()),
            ("LTAI5tExt", "sentinel-s", None)
        );
        assert_eq!((c.expiration(), c.provider_path()), (None, "external"));

        let c = parse(
            r#"{"mode": "StsToken", "access_key_id": "STS.ext", "access_key_secret": "s",
                "sts_token": "t", "expiration": "2023-11-14T22:13:20Z", "other": [1, {"x": null}]}"#,
        )
        .unwrap();
        assert_eq!(c.security_token(), Some("t"));
        assert_eq!(
            c.expiration(),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        );
        let c = parse(
            r#"{"access_key_id": "i", "access_key_secret": "s", "expiration": "2023-11-14T22:13:20.500Z"}"#,
        )
        .unwrap();
        assert_eq!(
            c.expiration(),
            Some(SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_500))
        );
    }

    #[test]
    fn follows_python_on_modes_tokens_and_empty_expirations() {
        // Any mode but StsToken is accepted, and a token is used whatever the mode.
        for mode in [r#""AK""#, r#""Other""#, "null"] {
            let c = parse(&format!(
                r#"{{"mode": {mode}, "access_key_id": "i", "access_key_secret": "s", "sts_token": "t"}}"#
            ))
            .unwrap();
            assert_eq!(c.security_token(), Some("t"), "{mode}");
        }
        for expiration in [r#""""#, "null"] {
            let c = parse(&format!(
                r#"{{"access_key_id": "i", "access_key_secret": "s", "sts_token": "", "expiration": {expiration}}}"#
            ))
            .unwrap();
            assert_eq!((c.expiration(), c.security_token()), (None, None));
        }
    }

    #[test]
    fn unusable_output_is_named_without_any_value() {
        let cases = [
            ("", "printed output that is not JSON (line 1, column 0), not shown as it may hold secrets: run the command by hand to see it"),
            ("sentinel", "printed output that is not JSON (line 1, column 1), not shown as it may hold secrets: run the command by hand to see it"),
            (r#"{"access_key_id": "sentinel""#, "printed output that is not JSON (line 1, column 28), not shown as it may hold secrets: run the command by hand to see it"),
            (r#"["sentinel"]"#, "printed JSON that is not one object of string fields (mode, access_key_id, access_key_secret, sts_token, expiration), each at most once"),
            (r#"{"access_key_id": 1, "access_key_secret": "sentinel"}"#, "printed JSON that is not one object of string fields (mode, access_key_id, access_key_secret, sts_token, expiration), each at most once"),
            (r#"{"access_key_id": "i", "access_key_id": "sentinel"}"#, "printed JSON that is not one object of string fields (mode, access_key_id, access_key_secret, sts_token, expiration), each at most once"),
            (r#"{"access_key_id": "sentinel"}"#, "printed JSON without access_key_secret (absent or empty)"),
            (r#"{"access_key_id": "", "access_key_secret": ""}"#, "printed JSON without access_key_id and access_key_secret (absent or empty)"),
            (r#"{"mode": "StsToken", "access_key_id": "i", "access_key_secret": "sentinel"}"#, "printed mode `StsToken` without an sts_token (absent or empty)"),
            (r#"{"mode": "StsToken", "access_key_id": "i", "access_key_secret": "s", "sts_token": ""}"#, "printed mode `StsToken` without an sts_token (absent or empty)"),
            (r#"{"access_key_id": "i", "access_key_secret": "sentinel\n"}"#, "printed an access_key_secret that holds a control character"),
            (r#"{"access_key_id": "i", "access_key_secret": "s", "sts_token": "  "}"#, "printed an sts_token that is only whitespace"),
            (r#"{"access_key_id": "i", "access_key_secret": "s", "expiration": "sentinel"}"#, "printed an expiration that is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ"),
            (r#"{"access_key_id": "i", "access_key_secret": "s", "expiration": "2025-6-1T1:02:03Z"}"#, "printed an expiration that is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ"),
            (r#"{"access_key_id": "i", "access_key_secret": "s", "expiration": 1700000000}"#, "printed JSON that is not one object of string fields (mode, access_key_id, access_key_secret, sts_token, expiration), each at most once"),
        ];
        for (stdout, expected) in cases {
            let problem = parse(stdout).unwrap_err();
            assert_eq!(problem, expected, "{stdout}");
        }
    }

    #[test]
    fn bad_commands_and_timeouts_fail_the_build_without_showing_the_command() {
        let cases = [
            ("", "the command is empty"),
            (" \t\n", "the command is empty"),
            ("\\\n", "the command is empty"),
            ("'' --token sentinel", "the command's program name is empty"),
            ("helper --token 'sentinel", "the command cannot be split into words: a ' quote is not closed"),
            ("helper --token \"sentinel", "the command cannot be split into words: a \" quote is not closed"),
            ("helper --token sentinel\\", "the command cannot be split into words: it ends in a backslash that escapes nothing"),
            ("helper --token sentinel\0", "the command holds a NUL character"),
        ];
        for (command, expected) in cases {
            let err = ExternalProcessProvider::builder(command)
                .build()
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidConfiguration, "{command:?}");
            assert_eq!(
                err.to_string(),
                format!("external: invalid configuration: {expected}")
            );
            assert!(!format!("{err:?}").contains("sentinel"));
        }
        let err = ExternalProcessProvider::builder("helper")
            .timeout(Duration::ZERO)
            .build_uncached()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "external: invalid configuration: the timeout must be more than zero"
        );
    }

    #[test]
    fn debug_shows_the_program_but_never_its_arguments() {
        let builder = ExternalProcessProvider::builder("/opt/bin/helper --token sentinel");
        assert!(!format!("{builder:?}").contains("sentinel"));
        let provider = builder.build_uncached().unwrap();
        let shown = format!("{provider:?}");
        assert!(
            shown.contains("`/opt/bin/helper …`") && !shown.contains("sentinel"),
            "{shown}"
        );
        let provider = ExternalProcessProvider::builder("helper")
            .build_uncached()
            .unwrap();
        assert!(format!("{provider:?}").contains("\"`helper`\""));
        let provider = ExternalProcessProvider::builder("'help\u{1b}[31mer' sentinel")
            .build_uncached()
            .unwrap();
        assert!(
            format!("{provider:?}").contains("`help\\\\x1b[31mer …`"),
            "{provider:?}"
        );
    }

    #[test]
    fn stderr_is_described_by_its_size() {
        assert_eq!(stderr_note(0), "it printed nothing to stderr");
        assert_eq!(
            stderr_note(1),
            "it printed 1 byte to stderr, not shown as it may hold secrets: run the command by hand to see it"
        );
        assert_eq!(
            stderr_note(57),
            "it printed 57 bytes to stderr, not shown as they may hold secrets: run the command by hand to see them"
        );
    }
}
