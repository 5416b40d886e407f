//! A list of Nacos servers and the context path, normalised as the Java client does (spec §A.2).
//!
//! ```
//! use mse_auth_providers::nacos::ServerList;
//!
//! let list = ServerList::parse("127.0.0.1, https://nacos.example.com:9443/", "nacos/").unwrap();
//! assert_eq!(list.url(0, "/v3/auth/user/login").as_str(), "http://127.0.0.1:8848/nacos/v3/auth/user/login");
//! assert_eq!(list.url(1, "/v1/cs/configs").as_str(), "https://nacos.example.com:9443/nacos/v1/cs/configs");
//! ```

use crate::endpoint::Endpoint;
use reqwest::Url;
use std::fmt;

/// The default Nacos server port.
pub const DEFAULT_PORT: u16 = 8848;
/// The default context path.
pub const DEFAULT_CONTEXT_PATH: &str = "/nacos";

/// Servers, in the order they are tried, and the context path.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerList {
    servers: Vec<Endpoint>,
    context_path: String,
}

impl fmt::Debug for ServerList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerList")
            .field("servers", &self.servers)
            .field("context_path", &self.context_path)
            .finish()
    }
}

impl ServerList {
    /// Parses comma-separated servers (`host`, `host:port`, `http(s)://host[:port]`; port 8848 when none
    /// is given) and a context path (blank or `/` → none; a leading `/` is added, a trailing one dropped).
    /// Nacos servers commonly speak plain http inside a private network, so http is accepted.
    pub fn parse(servers: &str, context_path: &str) -> Result<Self, String> {
        let mut parsed = Vec::new();
        for entry in servers.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let with_scheme = if entry.contains("://") {
                entry.to_string()
            } else {
                format!("http://{entry}")
            };
            let mut url = Url::parse(&with_scheme)
                .map_err(|e| format!("`{entry}` is not a server address: {e}"))?;
            if url.port().is_none() && !entry.contains("://") {
                let _ = url.set_port(Some(DEFAULT_PORT));
            }
            let endpoint = Endpoint::parse(url.as_str(), true).map_err(|e| e.to_string())?;
            parsed.push(endpoint);
        }
        if parsed.is_empty() {
            return Err("no Nacos server address given".to_string());
        }
        Ok(Self {
            servers: parsed,
            context_path: normalize_context_path(context_path),
        })
    }

    /// How many servers there are.
    pub fn len(&self) -> usize {
        self.servers.len()
    }

    /// `true` when there are none (never, once parsed).
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// The URL of `path` under the context path on server `index`.
    pub fn url(&self, index: usize, path: &str) -> Url {
        self.servers[index].url(&format!("{}{path}", self.context_path))
    }

    /// `scheme://host:port` of server `index`, for messages.
    pub fn origin(&self, index: usize) -> String {
        self.servers[index].origin()
    }

    /// The normalised context path (`""` or `/something`).
    pub fn context_path(&self) -> &str {
        &self.context_path
    }
}

fn normalize_context_path(path: &str) -> String {
    let trimmed = path.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_paths_are_normalised() {
        for (given, expected) in [
            ("", ""),
            ("/", ""),
            ("nacos", "/nacos"),
            ("/nacos/", "/nacos"),
            (" /a/b ", "/a/b"),
        ] {
            assert_eq!(normalize_context_path(given), expected, "{given:?}");
        }
    }

    #[test]
    fn servers_get_a_scheme_and_the_default_port() {
        let list = ServerList::parse("10.0.0.1,10.0.0.2:9000,http://h:80", "").unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list.origin(0), "http://10.0.0.1:8848");
        assert_eq!(list.origin(1), "http://10.0.0.2:9000");
        assert_eq!(list.url(2, "/v1/x").as_str(), "http://h/v1/x");
    }

    #[test]
    fn bad_lists_are_errors() {
        assert_eq!(
            ServerList::parse(" , ", "/nacos").unwrap_err(),
            "no Nacos server address given"
        );
        assert!(ServerList::parse("http://", "").is_err());
        assert!(ServerList::parse("ftp://h", "")
            .unwrap_err()
            .contains("unsupported scheme"));
    }
}
