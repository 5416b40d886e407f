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
//! assert_eq!(fs.read_to_string("/home/me/.aliyun/config.json").unwrap(), "{}");
//! assert!(fs.read_to_string("/nope").is_err());
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The environment: the real one, or a fixed set of variables.
#[derive(Clone, Default)]
pub struct Env(Option<Arc<HashMap<String, String>>>);

impl Env {
    /// The process environment, read at each call.
    pub fn real() -> Self {
        Self(None)
    }

    /// A fixed environment holding exactly these variables.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(Some(Arc::new(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )))
    }

    /// The value of `name`; an unset, empty or non-UTF-8 variable is `None` (the official SDKs treat
    /// empty as unset). Values are not trimmed.
    pub fn get(&self, name: &str) -> Option<String> {
        let value = match &self.0 {
            None => std::env::var(name).ok(),
            Some(map) => map.get(name).cloned(),
        };
        value.filter(|v| !v.is_empty())
    }

    /// `true` when `name` is `true` in any letter case (the official SDKs' rule); anything else is false.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// The user's home directory (`HOME`, else `USERPROFILE`).
    pub fn home_dir(&self) -> Option<PathBuf> {
        self.get("HOME")
            .or_else(|| self.get("USERPROFILE"))
            .map(PathBuf::from)
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("Env::Real"),
            // Names only: values may be secrets.
            Some(map) => {
                let mut names: Vec<&String> = map.keys().collect();
                names.sort();
                f.debug_tuple("Env::Fake").field(&names).finish()
            }
        }
    }
}

/// The file system: the real one, or a fixed set of files.
#[derive(Clone, Default)]
pub struct Fs(Option<Arc<HashMap<PathBuf, Vec<u8>>>>);

impl Fs {
    /// The real file system.
    pub fn real() -> Self {
        Self(None)
    }

    /// A fixed file system holding exactly these files.
    pub fn from_pairs<P: Into<PathBuf>, C: Into<Vec<u8>>>(
        files: impl IntoIterator<Item = (P, C)>,
    ) -> Self {
        Self(Some(Arc::new(
            files
                .into_iter()
                .map(|(p, c)| (p.into(), c.into()))
                .collect(),
        )))
    }

    /// Reads a whole file.
    pub fn read(&self, path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
        let path = path.as_ref();
        match &self.0 {
            None => std::fs::read(path),
            Some(files) => files.get(path).cloned().ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, "no such file (in-memory fs)")
            }),
        }
    }

    /// Reads a whole UTF-8 file.
    pub fn read_to_string(&self, path: impl AsRef<Path>) -> io::Result<String> {
        String::from_utf8(self.read(path)?)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the file is not UTF-8"))
    }
}

impl fmt::Debug for Fs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("Fs::Real"),
            Some(files) => {
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
    fn flag_is_case_insensitive_true_only() {
        let env = Env::from_pairs([("A", "TRUE"), ("B", "yes"), ("C", "1"), ("D", "True")]);
        assert!(env.flag("A") && env.flag("D"));
        assert!(!env.flag("B") && !env.flag("C") && !env.flag("MISSING"));
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
}
