//! Nacos authentication: username/password login tokens ([`login`]), the server list they use, and the
//! server-to-server identity header ([`server_identity`]).
//!
//! Environment names follow nacos-sdk-rust: `NACOS_CLIENT_SERVER_ADDRESS` (comma-separated servers),
//! `NACOS_CLIENT_USERNAME`, `NACOS_CLIENT_PASSWORD`, `NACOS_CLIENT_NAMESPACE`.

pub mod login;
pub mod server_identity;
pub mod server_list;

pub use login::{NacosLogin, NacosToken, Relogin};
pub use server_identity::ServerIdentity;
pub use server_list::ServerList;

/// Comma-separated Nacos servers: `host[:port]` (port 8848 by default) or `http(s)://host[:port]`.
pub const SERVER_ADDRESS: &str = "NACOS_CLIENT_SERVER_ADDRESS";
/// Login user name; empty means no login.
pub const USERNAME: &str = "NACOS_CLIENT_USERNAME";
/// Login password.
pub const PASSWORD: &str = "NACOS_CLIENT_PASSWORD";
/// The namespace (tenant) id; empty for the public namespace (nacos-sdk-rust's name).
pub const NAMESPACE: &str = "NACOS_CLIENT_NAMESPACE";
