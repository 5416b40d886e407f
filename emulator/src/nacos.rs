//! Nacos username/password login (spec §A.1–A.3, §G.3): `/nacos/v3/auth/user/login`,
//! `/nacos/v1/auth/users/login` and `/nacos/v1/auth/login`, GET or POST, parameters in the query, the
//! form body or split between them. Success answers `{"accessToken", "tokenTtl", "globalAdmin",
//! "username"}`; a wrong user or password answers 403 `unknown user!`, as rnacos does.

use std::time::Duration;

use serde_json::json;

use super::reply::Reply;
use super::state::{random_string, State};

/// The login paths, under the default context path `/nacos`.
pub(crate) const LOGIN_PATHS: [&str; 3] = [
    "/nacos/v3/auth/user/login",
    "/nacos/v1/auth/users/login",
    "/nacos/v1/auth/login",
];

/// Token lifetime unless configured (the Nacos default).
pub(crate) const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(18_000);

/// A login with `params` (query ∪ form body).
pub(crate) fn login(state: &State, params: &[(String, String)]) -> Reply {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (Some(user), Some(password)) = (get("username"), get("password")) else {
        return Reply::text(403, "unknown user!");
    };
    let mut inner = state.lock();
    if inner.nacos_users.get(user).map(String::as_str) != Some(password) {
        return Reply::text(403, "unknown user!");
    }
    let token = random_string(64);
    inner.nacos_tokens.push(token.clone());
    let ttl = inner.nacos_token_ttl.unwrap_or(DEFAULT_TOKEN_TTL);
    Reply::json(
        200,
        &json!({
            "accessToken": token,
            "tokenTtl": ttl.as_secs(),
            "globalAdmin": user == "nacos",
            "username": user,
        }),
    )
}
