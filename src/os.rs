//! [`Env`] and [`Fs`]: the process environment and the file system, real or in memory.
//!
//! Providers read the outside world only through these, so tests run with exactly the variables and
//! files they declare and never touch the developer's own `~/.alibabacloud`.
//!
//! ```
//! use mse_auth::os::{Env, Fs};
//!
//! let env = Env::from_pairs([("ALIBABA_CLOUD_PROFILE", "prod"), ("EMPTY", "")]);
//! assert_eq!(env.get("ALIBABA_CLOUD_PROFILE").as_deref(), Some("prod"));
//! assert_eq!(env.get("EMPTY"), None); // empty counts as unset
//!
//! let fs = Fs::from_pairs([("/home/me/.aliyun/config.json", "{}")]);
//! assert_eq!(fs.read_to_string_limited("/home/me/.aliyun/config.json", 1024).unwrap(), "{}");
//! assert!(fs.read_to_string_limited("/nope", 1024).is_err());
//! ```
//!
//! # Reading variables
//! - [`Env::get`]: lenient; unset, empty and non-UTF-8 are all `None`.
//! - [`Env::get_checked`]: unset or empty is `None`; a non-UTF-8 value is an [`EnvError`] naming the
//!   variable. What the providers use for settings (paths, ARNs, endpoints, names).
//! - [`Env::get_credential`]: as `get_checked`, and also refuses a value that is only whitespace, has
//!   leading or trailing whitespace, or holds a control character (a tab, a newline, NUL, ESC …). For
//!   AccessKey ids, secrets and security tokens. Errors name the variable, never the value.
//! - [`Env::get_bool`]: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, in any case, surrounding
//!   whitespace ignored; anything else is an [`EnvError`] naming the variable and the accepted values.
//!
//! ```
//! use mse_auth::os::Env;
//!
//! let env = Env::from_pairs([("ON", " Yes "), ("BAD", "maybe"), ("KEY", "id ")]);
//! assert_eq!(env.get_bool("ON").unwrap(), Some(true));
//! assert_eq!(env.get_bool("UNSET").unwrap(), None);
//! assert_eq!(
//!     env.get_bool("BAD").unwrap_err().to_string(),
//!     "BAD must be true or false (also 1/0, yes/no, on/off, in any case), not `maybe`"
//! );
//! assert_eq!(
//!     env.get_credential("KEY").unwrap_err().to_string(),
//!     "KEY has leading or trailing whitespace: remove it"
//! );
//! ```
//!
//! # Size limits
//! Every file the library reads goes through [`Fs::read_to_string_limited`], which reads at most
//! `limit + 1` bytes, so a huge file, `/dev/zero` or a pipe that never ends costs at most the limit in
//! memory and is refused ("it is larger than 1024 KiB"). A file that is not UTF-8 is refused naming the
//! line of the first bad byte. The limits:
//!
//! | file | limit |
//! |---|---|
//! | ini credentials file (`ALIBABA_CLOUD_CREDENTIALS_FILE`, `~/.alibabacloud/credentials[.ini]`) | 1 MiB ([`PROFILE_FILE_LIMIT`]) |
//! | CLI config (`ALIBABA_CLOUD_CONFIG_FILE`, `~/.aliyun/config.json`) | 1 MiB ([`PROFILE_FILE_LIMIT`]) |
//! | OIDC token file (`ALIBABA_CLOUD_OIDC_TOKEN_FILE`, profile `oidc_token_file[_path]`) | 64 KiB ([`TOKEN_FILE_LIMIT`]) |
//!
//! Opening a named pipe (FIFO) that no process writes to waits for a writer, as any reader of it
//! does; the limit bounds what is read once one writes.

use crate::error::{escape_untrusted, CredentialsError};
use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use zeroize::{Zeroize, Zeroizing};

/// Most bytes read from a profile file: the ini credentials file and the CLI `config.json` (1 MiB;
/// real ones are a few KiB).
pub const PROFILE_FILE_LIMIT: u64 = 1024 * 1024;

/// Most bytes read from an OIDC token file (64 KiB; a Kubernetes service account token is about
/// 1 KiB).
pub const TOKEN_FILE_LIMIT: u64 = 64 * 1024;

/// The environment: the real one, or a fixed set of variables; either with values set on top
/// ([`Env::with_var`]).
#[derive(Clone, Default)]
pub struct Env {
    /// `None`: the process environment.
    fake: Option<Arc<HashMap<String, OsString>>>,
    /// Values that win over `fake` or the process environment.
    overrides: Option<Arc<HashMap<String, OsString>>>,
}

impl Env {
    /// The process environment, read at each call.
    pub fn real() -> Self {
        Self::default()
    }

    /// A fixed environment holding exactly these variables.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self::from_os_pairs(pairs.into_iter().map(|(k, v)| (k, v.into())))
    }

    /// A fixed environment holding exactly these variables, whose values need not be UTF-8 (to test
    /// what providers do with such a value).
    pub fn from_os_pairs<K: Into<String>, V: Into<OsString>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            fake: Some(Arc::new(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            )),
            overrides: None,
        }
    }

    /// The same environment with `name` set to `value`, whatever the underlying environment holds
    /// (e.g. a command-line flag that sets what a variable would).
    ///
    /// ```
    /// use mse_auth::os::Env;
    /// let env = Env::from_pairs([("A", "1")]).with_var("A", "2").with_var("B", "3");
    /// assert_eq!((env.get("A").as_deref(), env.get("B").as_deref()), (Some("2"), Some("3")));
    /// ```
    pub fn with_var(mut self, name: impl Into<String>, value: impl Into<OsString>) -> Self {
        let overrides = self.overrides.get_or_insert_with(Default::default);
        Arc::make_mut(overrides).insert(name.into(), value.into());
        self
    }

    /// The raw value of `name`.
    fn raw(&self, name: &str) -> Option<OsString> {
        if let Some(value) = self.overrides.as_ref().and_then(|o| o.get(name)) {
            return Some(value.clone());
        }
        match &self.fake {
            None => std::env::var_os(name),
            Some(map) => map.get(name).cloned(),
        }
    }

    /// The value of `name`; an unset, empty or non-UTF-8 variable is `None` (the official SDKs treat
    /// empty as unset). Values are not trimmed. Prefer [`get_checked`](Self::get_checked), which
    /// reports a non-UTF-8 value instead of hiding it.
    pub fn get(&self, name: &str) -> Option<String> {
        self.get_checked(name).ok().flatten()
    }

    /// The value of `name`: `None` when unset or empty; an [`EnvError`] naming the variable when the
    /// value is not UTF-8. Values are not trimmed.
    pub fn get_checked(&self, name: &str) -> Result<Option<String>, EnvError> {
        match self.raw(name) {
            None => Ok(None),
            Some(value) => match value.into_string() {
                Ok(value) if value.is_empty() => Ok(None),
                Ok(value) => Ok(Some(value)),
                Err(mut raw) => {
                    raw.zeroize_os();
                    Err(EnvError::new(name, EnvProblem::NotUnicode))
                }
            },
        }
    }

    /// A credential (AccessKey id, secret, security token) from `name`: as
    /// [`get_checked`](Self::get_checked), and refused when it is only whitespace, has leading or
    /// trailing whitespace, or holds a control character. Errors name the variable, never the value.
    pub fn get_credential(&self, name: &str) -> Result<Option<String>, EnvError> {
        let Some(mut value) = self.get_checked(name)? else {
            return Ok(None);
        };
        let problem = if value.trim().is_empty() {
            Some(EnvProblem::OnlyWhitespace)
        } else if value.chars().any(char::is_control) {
            Some(EnvProblem::ControlCharacter)
        } else if value.trim() != value {
            Some(EnvProblem::Padded)
        } else {
            None
        };
        match problem {
            None => Ok(Some(value)),
            Some(problem) => {
                value.zeroize();
                Err(EnvError::new(name, problem))
            }
        }
    }

    /// A boolean variable: `None` when unset or empty; `true`/`false`, `1`/`0`, `yes`/`no`,
    /// `on`/`off` in any case, surrounding whitespace ignored ([`parse_bool`]); anything else is an
    /// [`EnvError`] naming the variable and the accepted values.
    pub fn get_bool(&self, name: &str) -> Result<Option<bool>, EnvError> {
        let Some(value) = self.get_checked(name)? else {
            return Ok(None);
        };
        match parse_bool(&value) {
            Some(flag) => Ok(Some(flag)),
            None if value.trim().is_empty() => Ok(None),
            None => Err(EnvError::new(
                name,
                EnvProblem::NotABoolean(escape_untrusted(&value, 24)),
            )),
        }
    }

    /// `true` when `name` holds a true value as [`get_bool`](Self::get_bool) reads it; unset, false
    /// and unreadable values are all `false`. Prefer `get_bool`, which reports a value it cannot read.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get_bool(name), Ok(Some(true)))
    }

    /// The user's home directory (`HOME`, else `USERPROFILE`).
    pub fn home_dir(&self) -> Option<PathBuf> {
        self.get("HOME")
            .or_else(|| self.get("USERPROFILE"))
            .map(PathBuf::from)
    }
}

/// Wipes a non-UTF-8 value that is dropped (it may be a secret).
trait ZeroizeOs {
    fn zeroize_os(&mut self);
}

impl ZeroizeOs for OsString {
    fn zeroize_os(&mut self) {
        let mut bytes = std::mem::take(self).into_encoded_bytes();
        bytes.zeroize();
    }
}

/// Reads a boolean setting: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, in any case, surrounding
/// whitespace ignored. Anything else is `None`.
///
/// ```
/// use mse_auth::os::parse_bool;
/// assert_eq!(parse_bool(" TRUE "), Some(true));
/// assert_eq!(parse_bool("off"), Some(false));
/// assert_eq!(parse_bool("enabled"), None);
/// ```
pub fn parse_bool(value: &str) -> Option<bool> {
    let value = value.trim();
    let is = |word: &str| value.eq_ignore_ascii_case(word);
    if is("true") || is("1") || is("yes") || is("on") {
        Some(true)
    } else if is("false") || is("0") || is("no") || is("off") {
        Some(false)
    } else {
        None
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: values may be secrets.
        fn names(map: &HashMap<String, OsString>) -> Vec<&String> {
            let mut names: Vec<&String> = map.keys().collect();
            names.sort();
            names
        }
        let mut d = match &self.fake {
            None => f.debug_tuple("Env::Real"),
            Some(map) => {
                let mut d = f.debug_tuple("Env::Fake");
                d.field(&names(map));
                d
            }
        };
        if let Some(overrides) = &self.overrides {
            d.field(&names(overrides));
        }
        d.finish()
    }
}

/// Why an environment variable's value cannot be used. The message names the variable and the
/// problem, never the value (but for a boolean that is not one, shown escaped and cut short).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvError {
    name: String,
    problem: EnvProblem,
}

/// What is wrong with a variable's value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvProblem {
    /// The value is not UTF-8.
    NotUnicode,
    /// The value is only whitespace.
    OnlyWhitespace,
    /// The value has leading or trailing whitespace.
    Padded,
    /// The value holds a control character (tab, newline, NUL, ESC …).
    ControlCharacter,
    /// A boolean variable holds something else; the value, escaped and cut short.
    NotABoolean(String),
}

impl EnvError {
    fn new(name: &str, problem: EnvProblem) -> Self {
        Self {
            name: name.to_owned(),
            problem,
        }
    }

    /// The variable.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &EnvProblem {
        &self.problem
    }

    /// The error as an [`InvalidConfiguration`](crate::ErrorKind::InvalidConfiguration) of `provider`:
    /// a variable that is set but unusable is a misconfiguration, and stops a chain.
    pub fn invalid_configuration(
        &self,
        provider: impl Into<Cow<'static, str>>,
    ) -> CredentialsError {
        CredentialsError::invalid_configuration(provider, self.to_string())
    }
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match &self.problem {
            EnvProblem::NotUnicode => {
                write!(f, "{name} is not valid UTF-8: set it to text, or unset it")
            }
            EnvProblem::OnlyWhitespace => {
                write!(f, "{name} holds only whitespace: set a value, or unset it")
            }
            EnvProblem::Padded => write!(f, "{name} has leading or trailing whitespace: remove it"),
            EnvProblem::ControlCharacter => write!(
                f,
                "{name} holds a control character (a tab, a newline or another): remove it"
            ),
            EnvProblem::NotABoolean(shown) => write!(
                f,
                "{name} must be true or false (also 1/0, yes/no, on/off, in any case), not `{shown}`"
            ),
        }
    }
}

impl std::error::Error for EnvError {}

/// The file system: the real one, or a set of files in memory (which [`rewrite`](Fs::rewrite) can
/// change; clones share them).
#[derive(Clone, Default)]
pub struct Fs(Option<Arc<Mutex<Files>>>);

/// In-memory files by path.
type Files = HashMap<PathBuf, Vec<u8>>;

impl Fs {
    /// The real file system.
    pub fn real() -> Self {
        Self(None)
    }

    /// A fixed file system holding exactly these files.
    pub fn from_pairs<P: Into<PathBuf>, C: Into<Vec<u8>>>(
        files: impl IntoIterator<Item = (P, C)>,
    ) -> Self {
        Self(Some(Arc::new(Mutex::new(
            files
                .into_iter()
                .map(|(p, c)| (p.into(), c.into()))
                .collect(),
        ))))
    }

    /// Reads a whole file, however large. The library itself reads only through
    /// [`read_limited`](Self::read_limited).
    pub fn read(&self, path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
        let path = path.as_ref();
        match &self.0 {
            None => std::fs::read(path),
            Some(files) => lock(files).get(path).cloned().ok_or_else(not_found),
        }
    }

    /// Reads a file of at most `limit` bytes: at most `limit + 1` bytes are read, so a huge file, a
    /// device such as `/dev/zero` or an endless pipe is refused without exhausting memory. A larger
    /// file is an error of kind [`FileTooLarge`](io::ErrorKind::FileTooLarge), "it is larger than
    /// N KiB". What was read of a refused file is wiped.
    pub fn read_limited(&self, path: impl AsRef<Path>, limit: u64) -> io::Result<Vec<u8>> {
        let path = path.as_ref();
        let files = match &self.0 {
            None => return read_real_limited(path, limit),
            Some(files) => lock(files),
        };
        let bytes = files.get(path).ok_or_else(not_found)?;
        if bytes.len() as u64 > limit {
            return Err(too_large(limit));
        }
        Ok(bytes.clone())
    }

    /// Reads a UTF-8 file of at most `limit` bytes ([`read_limited`](Self::read_limited)). Content
    /// that is not UTF-8 is an error of kind [`InvalidData`](io::ErrorKind::InvalidData) naming the
    /// line of the first bad byte ("it is not UTF-8 text (line 3)"), and is wiped.
    pub fn read_to_string_limited(&self, path: impl AsRef<Path>, limit: u64) -> io::Result<String> {
        utf8(self.read_limited(path, limit)?)
    }

    /// Reads a whole UTF-8 file, however large. The library itself reads only through
    /// [`read_to_string_limited`](Self::read_to_string_limited).
    pub fn read_to_string(&self, path: impl AsRef<Path>) -> io::Result<String> {
        utf8(self.read(path)?)
    }

    /// Replaces the content of an existing UTF-8 file of at most `limit` bytes with `edit`'s answer
    /// to it, in one step that leaves at `path` either the old file or the new one, never a mix. The
    /// library's one write: the CLI's `config.json`, after an OAuth token refresh.
    ///
    /// On the real file system (symlinks in `path` resolved, so a linked file stays linked):
    /// 1. an in-process lock serialises the process's rewrites;
    /// 2. on Unix, an advisory `flock(2)` on the file, which the official Python and Go clients take
    ///    too, keeps out other processes; it is tried without waiting, and when another process holds
    ///    it the call fails with [`WouldBlock`](io::ErrorKind::WouldBlock), changing nothing;
    /// 3. the file is read as [`read_to_string_limited`](Self::read_to_string_limited) reads it, and
    ///    `edit`'s bytes go into a new file in the same directory (mode 0600 on Unix: the file holds
    ///    secrets), are flushed to disk, and that file is renamed over `path`.
    ///
    /// In memory, the same under the file set's lock. An error of `edit` is returned as it is and
    /// nothing is written; the old and the new content are wiped from memory afterwards.
    ///
    /// ```
    /// use mse_auth::os::Fs;
    ///
    /// let fs = Fs::from_pairs([("/home/me/.aliyun/config.json", "{\"current\": \"a\"}")]);
    /// fs.rewrite("/home/me/.aliyun/config.json", 1024, |old| Ok(old.replace("\"a\"", "\"b\"").into_bytes()))?;
    /// let now = fs.read_to_string_limited("/home/me/.aliyun/config.json", 1024)?;
    /// assert_eq!(now, "{\"current\": \"b\"}");
    /// assert!(fs.rewrite("/nope", 1024, |_| Ok(Vec::new())).is_err()); // the file must exist
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn rewrite(
        &self,
        path: impl AsRef<Path>,
        limit: u64,
        edit: impl FnOnce(&str) -> io::Result<Vec<u8>>,
    ) -> io::Result<()> {
        let path = path.as_ref();
        let Some(files) = &self.0 else {
            return rewrite_real(path, limit, edit);
        };
        let mut files = lock(files);
        let bytes = files.get(path).ok_or_else(not_found)?;
        if bytes.len() as u64 > limit {
            return Err(too_large(limit));
        }
        let old = Zeroizing::new(utf8(bytes.clone())?);
        let new = edit(&old)?;
        if let Some(mut replaced) = files.insert(path.to_path_buf(), new) {
            replaced.zeroize();
        }
        Ok(())
    }
}

/// The in-memory files, even if a panicking test thread poisoned their lock.
fn lock(files: &Mutex<Files>) -> MutexGuard<'_, Files> {
    files.lock().unwrap_or_else(PoisonError::into_inner)
}

/// [`Fs::rewrite`] on the real file system.
fn rewrite_real(
    path: &Path,
    limit: u64,
    edit: impl FnOnce(&str) -> io::Result<Vec<u8>>,
) -> io::Result<()> {
    static REWRITES: Mutex<()> = Mutex::new(());
    let _serial = REWRITES.lock().unwrap_or_else(PoisonError::into_inner);
    let path = std::fs::canonicalize(path)?;
    // Held until the new file is in place; closing it releases the advisory lock.
    let _locked = lock_file(&path)?;
    let old = Zeroizing::new(utf8(read_real_limited(&path, limit)?)?);
    let new = Zeroizing::new(edit(&old)?);
    replace_file(&path, &new)
}

/// Opens `path` and takes its advisory lock without waiting; retries when the file was replaced
/// between the open and the lock (the lock would then guard a file no longer at `path`).
#[cfg(unix)]
fn lock_file(path: &Path) -> io::Result<std::fs::File> {
    use rustix::fs::{flock, FlockOperation};
    use std::os::unix::fs::MetadataExt;
    for _ in 0..3 {
        let file = std::fs::File::open(path)?;
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "another process holds its lock (it is being written)",
                ))
            }
            Err(e) => return Err(e.into()),
        }
        let (held, current) = (file.metadata()?, std::fs::metadata(path)?);
        if held.dev() == current.dev() && held.ino() == current.ino() {
            return Ok(file);
        }
    }
    Err(io::Error::other("another process keeps replacing it"))
}

#[cfg(not(unix))]
fn lock_file(_path: &Path) -> io::Result<()> {
    Ok(())
}

/// Writes `contents` to a new file beside `path` (mode 0600 on Unix), flushes it and renames it over
/// `path`; the new file is removed if any step fails.
fn replace_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let temp = dir.join(format!(
        "{}.tmp-{}-{:016x}",
        name.to_string_lossy(),
        std::process::id(),
        fastrand::u64(..)
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temp).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, path)
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    // The rename itself reaches the disk with the directory.
    #[cfg(unix)]
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn not_found() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "no such file (in-memory fs)")
}

fn too_large(limit: u64) -> io::Error {
    let shown = if limit.is_multiple_of(1024) {
        format!("{} KiB", limit / 1024)
    } else {
        format!("{limit} bytes")
    };
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!("it is larger than {shown}"),
    )
}

fn read_real_limited(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let hint = match file.metadata() {
        // A regular file says how long it is: refuse a long one without reading it.
        Ok(meta) if meta.is_file() && meta.len() > limit => return Err(too_large(limit)),
        Ok(meta) if meta.is_file() => meta.len() + 1,
        // Devices and pipes say nothing useful; start small.
        _ => 8 * 1024,
    };
    let mut bytes = Vec::with_capacity(usize::try_from(hint.min(limit + 1)).unwrap_or(0));
    let read = file.take(limit.saturating_add(1)).read_to_end(&mut bytes);
    if let Err(e) = read {
        bytes.zeroize();
        return Err(e);
    }
    if bytes.len() as u64 > limit {
        bytes.zeroize();
        return Err(too_large(limit));
    }
    Ok(bytes)
}

/// The bytes as text, or an error naming the line of the first byte that is not UTF-8.
fn utf8(bytes: Vec<u8>) -> io::Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let mut bytes = e.into_bytes();
        let message = if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
            "it is UTF-16 text: save it as UTF-8".to_owned()
        } else {
            let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
            format!("it is not UTF-8 text (line {line})")
        };
        bytes.zeroize();
        io::Error::new(io::ErrorKind::InvalidData, message)
    })
}

impl fmt::Debug for Fs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("Fs::Real"),
            Some(files) => {
                let files = lock(files);
                let mut paths: Vec<&PathBuf> = files.keys().collect();
                paths.sort();
                f.debug_tuple("Fs::Fake").field(&paths).finish()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_reads_the_boolean_words_and_is_false_otherwise() {
        let env = Env::from_pairs([
            ("A", "TRUE"),
            ("B", "yes"),
            ("C", "1"),
            ("D", " On "),
            ("E", "maybe"),
            ("F", "false"),
        ]);
        assert!(env.flag("A") && env.flag("B") && env.flag("C") && env.flag("D"));
        assert!(!env.flag("E") && !env.flag("F") && !env.flag("MISSING"));
    }

    #[test]
    fn booleans_accept_the_usual_words_and_refuse_the_rest_naming_the_variable() {
        for (value, expected) in [
            ("true", true),
            ("True", true),
            (" true", true),
            ("1", true),
            ("YES", true),
            ("on", true),
            ("false", false),
            ("0", false),
            ("No", false),
            ("OFF\n", false),
        ] {
            let env = Env::from_pairs([("V", value)]);
            assert_eq!(env.get_bool("V"), Ok(Some(expected)), "{value:?}");
        }
        let env = Env::from_pairs([("V", ""), ("W", "  ")]);
        assert_eq!(env.get_bool("V"), Ok(None));
        assert_eq!(env.get_bool("W"), Ok(None));
        assert_eq!(env.get_bool("UNSET"), Ok(None));
        for (value, shown) in [
            ("2", "2"),
            ("enabled", "enabled"),
            ("t\u{1b}[31m", "t\\x1b[31m"),
        ] {
            let err = Env::from_pairs([("V", value)]).get_bool("V").unwrap_err();
            assert_eq!(err.name(), "V");
            assert_eq!(
                err.to_string(),
                format!(
                    "V must be true or false (also 1/0, yes/no, on/off, in any case), not `{shown}`"
                )
            );
        }
        let long = "y".repeat(100);
        let err = Env::from_pairs([("V", long.as_str())])
            .get_bool("V")
            .unwrap_err();
        assert!(err.to_string().ends_with(&format!("`{}…`", "y".repeat(24))));
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_values_are_errors_naming_the_variable() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![b's', 0xff, b'x']);
        let env = Env::from_os_pairs([("ALIBABA_CLOUD_ACCESS_KEY_ID", bad)]);
        let err = env.get_checked("ALIBABA_CLOUD_ACCESS_KEY_ID").unwrap_err();
        assert_eq!(err.problem(), &EnvProblem::NotUnicode);
        assert_eq!(
            err.to_string(),
            "ALIBABA_CLOUD_ACCESS_KEY_ID is not valid UTF-8: set it to text, or unset it"
        );
        assert_eq!(
            env.get_credential("ALIBABA_CLOUD_ACCESS_KEY_ID"),
            Err(err.clone())
        );
        assert_eq!(env.get_bool("ALIBABA_CLOUD_ACCESS_KEY_ID"), Err(err));
        // The lenient getter keeps its old answer.
        assert_eq!(env.get("ALIBABA_CLOUD_ACCESS_KEY_ID"), None);
    }

    #[test]
    fn credentials_refuse_whitespace_padding_and_control_characters() {
        let cases = [
            ("   ", "S holds only whitespace: set a value, or unset it"),
            ("\t\n", "S holds only whitespace: set a value, or unset it"),
            (
                " sentinel",
                "S has leading or trailing whitespace: remove it",
            ),
            (
                "sentinel ",
                "S has leading or trailing whitespace: remove it",
            ),
            (
                "sentinel\n",
                "S holds a control character (a tab, a newline or another): remove it",
            ),
            (
                "sent\tinel",
                "S holds a control character (a tab, a newline or another): remove it",
            ),
            (
                "sent\u{1b}inel",
                "S holds a control character (a tab, a newline or another): remove it",
            ),
            (
                "sent\u{0}inel",
                "S holds a control character (a tab, a newline or another): remove it",
            ),
        ];
        for (value, message) in cases {
            let env = Env::from_pairs([("S", value)]);
            let err = env.get_credential("S").unwrap_err();
            assert_eq!(err.to_string(), message, "{value:?}");
            assert!(!format!("{err:?}").contains("sentinel"), "{err:?}");
            let err = err.invalid_configuration("env");
            assert_eq!(err.kind(), crate::ErrorKind::InvalidConfiguration);
            assert_eq!(
                err.to_string(),
                format!("env: invalid configuration: {message}")
            );
        }
        let env = Env::from_pairs([("S", "in side"), ("E", "")]);
        assert_eq!(env.get_credential("S"), Ok(Some("in side".to_owned())));
        assert_eq!(env.get_credential("E"), Ok(None));
    }

    #[test]
    fn overrides_win_and_show_by_name_only() {
        let env = Env::from_pairs([("A", "fake"), ("SECRET", "sentinel-value")])
            .with_var("A", "override")
            .with_var("B", "sentinel-override");
        assert_eq!(env.get("A").as_deref(), Some("override"));
        assert_eq!(env.get("B").as_deref(), Some("sentinel-override"));
        let shown = format!("{env:?}");
        assert_eq!(shown, r#"Env::Fake(["A", "SECRET"], ["A", "B"])"#);
        let real = Env::real().with_var("MSE_AUTH_TEST_ONLY_OVERRIDE", "1");
        assert_eq!(real.get_bool("MSE_AUTH_TEST_ONLY_OVERRIDE"), Ok(Some(true)));
        assert_eq!(
            format!("{real:?}"),
            r#"Env::Real(["MSE_AUTH_TEST_ONLY_OVERRIDE"])"#
        );
        // Clones do not share later overrides.
        let base = Env::from_pairs([("A", "1")]);
        let changed = base.clone().with_var("A", "2");
        assert_eq!(
            (base.get("A").as_deref(), changed.get("A").as_deref()),
            (Some("1"), Some("2"))
        );
    }

    #[test]
    fn debug_shows_names_not_values() {
        let env = Env::from_pairs([("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "sentinel-value")]);
        let shown = format!("{env:?}");
        assert!(shown.contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET"));
        assert!(!shown.contains("sentinel-value"));
        let fs = Fs::from_pairs([("/token", "sentinel-value")]);
        assert!(!format!("{fs:?}").contains("sentinel-value"));
    }

    #[test]
    fn home_dir_falls_back_to_userprofile() {
        assert_eq!(
            Env::from_pairs([("USERPROFILE", "C:\\Users\\me")]).home_dir(),
            Some(PathBuf::from("C:\\Users\\me"))
        );
        assert_eq!(Env::from_pairs([("X", "y")]).home_dir(), None);
    }

    #[test]
    fn missing_and_non_utf8_files_are_errors() {
        let fs = Fs::from_pairs([("/bin", vec![0xff, 0xfe])]);
        assert_eq!(fs.read("/x").unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!(
            fs.read_to_string("/bin").unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }

    #[test]
    fn in_memory_reads_are_bounded_too() {
        let fs = Fs::from_pairs([
            ("/small", b"abc".to_vec()),
            ("/big", vec![b'a'; 2049]),
            ("/exact", vec![b'a'; 2048]),
        ]);
        assert_eq!(fs.read_to_string_limited("/small", 3).unwrap(), "abc");
        assert_eq!(fs.read_limited("/exact", 2048).unwrap().len(), 2048);
        let err = fs.read_limited("/big", 2048).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(err.to_string(), "it is larger than 2 KiB");
        let err = fs.read_limited("/small", 2).unwrap_err();
        assert_eq!(err.to_string(), "it is larger than 2 bytes");
        assert_eq!(
            fs.read_limited("/none", 10).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn in_memory_rewrites_edit_what_clones_read_and_keep_files_on_errors() {
        let fs = Fs::from_pairs([("/c.json", "old"), ("/big", "0123456789")]);
        let clone = fs.clone();
        fs.rewrite("/c.json", 100, |old| {
            assert_eq!(old, "old");
            Ok(b"new".to_vec())
        })
        .unwrap();
        assert_eq!(clone.read_to_string_limited("/c.json", 100).unwrap(), "new");
        let err = fs
            .rewrite("/c.json", 100, |_| Err(io::Error::other("refused")))
            .unwrap_err();
        assert_eq!(err.to_string(), "refused");
        assert_eq!(fs.read_to_string("/c.json").unwrap(), "new");
        let err = fs.rewrite("/none", 100, |_| Ok(Vec::new())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let err = fs.rewrite("/big", 5, |_| Ok(Vec::new())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
    }

    /// A fresh directory under the system's temporary directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "mse-auth-os-{tag}-{}-{:08x}",
                std::process::id(),
                fastrand::u32(..)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn real_rewrites_replace_the_file_whole_and_leave_no_temporary_file() {
        let dir = TempDir::new("rewrite");
        let path = dir.0.join("config.json");
        std::fs::write(&path, "{\"a\": 1}").unwrap();
        let fs = Fs::real();
        fs.rewrite(&path, 1024, |old| Ok(format!("{old}!").into_bytes()))
            .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\": 1}!");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
        let err = fs
            .rewrite(&path, 1024, |_| Err(io::Error::other("refused")))
            .unwrap_err();
        assert_eq!(err.to_string(), "refused");
        let err = fs.rewrite(&path, 3, |_| Ok(Vec::new())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\": 1}!");
        let err = fs
            .rewrite(dir.0.join("missing.json"), 1024, |_| Ok(Vec::new()))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(entries(&dir.0), ["config.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn real_rewrites_follow_symlinks_and_yield_to_another_holder_of_the_lock() {
        let dir = TempDir::new("rewrite-lock");
        let target = dir.0.join("real.json");
        let link = dir.0.join("config.json");
        std::fs::write(&target, "one").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let fs = Fs::real();
        fs.rewrite(&link, 1024, |_| Ok(b"two".to_vec())).unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "two");

        // flock(2) locks belong to an open file: another open of the file holds it apart.
        let holder = std::fs::File::open(&target).unwrap();
        rustix::fs::flock(&holder, rustix::fs::FlockOperation::LockExclusive).unwrap();
        let err = fs
            .rewrite(&link, 1024, |_| Ok(b"three".to_vec()))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(
            err.to_string(),
            "another process holds its lock (it is being written)"
        );
        drop(holder);
        fs.rewrite(&link, 1024, |_| Ok(b"three".to_vec())).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "three");
        assert_eq!(entries(&dir.0), ["config.json", "real.json"]);
    }

    #[test]
    fn non_utf8_content_names_the_line() {
        let fs = Fs::from_pairs([
            ("/ini", b"[default]\nid = a\nsecret = \xff\xfe\n".to_vec()),
            ("/first", b"\xc3".to_vec()),
            ("/utf16", b"\xff\xfe[\x00d\x00".to_vec()),
        ]);
        let err = fs.read_to_string_limited("/ini", 100).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(err.to_string(), "it is not UTF-8 text (line 3)");
        let err = fs.read_to_string_limited("/first", 100).unwrap_err();
        assert_eq!(err.to_string(), "it is not UTF-8 text (line 1)");
        let err = fs.read_to_string_limited("/utf16", 100).unwrap_err();
        assert_eq!(err.to_string(), "it is UTF-16 text: save it as UTF-8");
    }
}
