//! Nacos username/password login (spec §A.1–A.3, §G.3): `/nacos/v3/auth/user/login`,
//! `/nacos/v1/auth/users/login` and `/nacos/v1/auth/login`, GET or POST, parameters in the query, the
//! form body or split between them. Success answers `{"accessToken", "tokenTtl", "globalAdmin",
//! "username"}`; a wrong user or password answers 403 `unknown user!`, as rnacos does.
//!
//! And one token-checked data request, the config open API `GET /nacos/v1/cs/configs?dataId=&group=`
//! (spec §1.1, §A.7–A.8): the token is read as Nacos reads it (`Authorization: Bearer <token>`, else an
//! `accessToken` parameter, else an `accessToken` header) and checked against the tokens this emulator
//! issued, their expiry by the emulator's clock, and [`Emulator::nacos_revoke_tokens`](crate::Emulator::nacos_revoke_tokens).
//! A refused token gets 403 with Nacos's JSON error body and reason: `user not found!` (no token),
//! `token invalid!` (unknown), `Invalid signature` (revoked, as after the server's token secret
//! changed, spec §A.9), `token expired!`.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use serde_json::json;

use super::reply::Reply;
use super::state::{random_string, State};

/// The login paths, under the default context path `/nacos`.
pub(crate) const LOGIN_PATHS: [&str; 3] = [
    "/nacos/v3/auth/user/login",
    "/nacos/v1/auth/users/login",
    "/nacos/v1/auth/login",
];

/// The config open API (Nacos 1.x/2.x `ConfigController`).
pub(crate) const CONFIG_PATH: &str = "/nacos/v1/cs/configs";

/// Token lifetime unless configured (the Nacos default).
pub(crate) const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(18_000);

/// Past this many tokens, those that expired an hour ago are forgotten (bounded memory).
const TOKEN_MEMORY: usize = 100_000;

/// The Nacos side of the emulator's state: issued tokens and stored configs.
#[derive(Default)]
pub(crate) struct Nacos {
    /// Issued token → its expiry and serial.
    tokens: HashMap<String, Issued>,
    /// Serial of the next token issued.
    next_serial: u64,
    /// Tokens with a serial below this are revoked.
    revoked_below: u64,
    /// (group, dataId) → content.
    configs: HashMap<(String, String), String>,
}

struct Issued {
    expires: SystemTime,
    serial: u64,
}

impl Nacos {
    /// Every token issued, for [`Emulator::url_leaks`](crate::Emulator::url_leaks).
    pub(crate) fn tokens(&self) -> impl Iterator<Item = &str> {
        self.tokens.keys().map(String::as_str)
    }

    /// Refuses every token issued so far.
    pub(crate) fn revoke_all(&mut self) {
        self.revoked_below = self.next_serial;
    }

    /// Stores a config for [`get_config`].
    pub(crate) fn put_config(&mut self, data_id: &str, group: &str, content: &str) {
        self.configs
            .insert((group.to_owned(), data_id.to_owned()), content.to_owned());
    }

    fn issue(&mut self, ttl: Duration, now: SystemTime) -> String {
        if self.tokens.len() >= TOKEN_MEMORY {
            let horizon = now.checked_sub(Duration::from_secs(3600)).unwrap_or(now);
            self.tokens.retain(|_, t| t.expires > horizon);
        }
        let token = random_string(64);
        let serial = self.next_serial;
        self.next_serial += 1;
        self.tokens.insert(
            token.clone(),
            Issued {
                expires: now + ttl,
                serial,
            },
        );
        token
    }

    /// Why `token` is refused at `now`, or `None` when it is valid (valid through its expiry second,
    /// as Nacos checks `exp >= now`).
    fn refusal(&self, token: Option<&str>, now: SystemTime) -> Option<&'static str> {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Some("user not found!");
        };
        let Some(issued) = self.tokens.get(token) else {
            return Some("token invalid!");
        };
        if issued.serial < self.revoked_below {
            Some("Invalid signature")
        } else if now > issued.expires {
            Some("token expired!")
        } else {
            None
        }
    }
}

/// A login with `params` (query ∪ form body).
pub(crate) fn login(state: &State, params: &[(String, String)]) -> Reply {
    let get = |name: &str| param(params, name);
    let (Some(user), Some(password)) = (get("username"), get("password")) else {
        return Reply::text(403, "unknown user!");
    };
    let now = state.now();
    let mut inner = state.lock();
    if inner.nacos_users.get(user).map(String::as_str) != Some(password) {
        return Reply::text(403, "unknown user!");
    }
    let ttl = inner.nacos_token_ttl.unwrap_or(DEFAULT_TOKEN_TTL);
    let token = inner.nacos.issue(ttl, now);
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

/// `GET /nacos/v1/cs/configs`: the token is checked first (Nacos's auth filter runs before the
/// controller), then the config is looked up by `dataId` and `group` (`tenant` is ignored).
/// `authorization` and `access_token_header` are the request's `Authorization` and `accessToken`
/// headers.
pub(crate) fn get_config(
    state: &State,
    params: &[(String, String)],
    authorization: Option<&str>,
    access_token_header: Option<&str>,
    now: SystemTime,
) -> Reply {
    let bearer = authorization.and_then(|v| v.strip_prefix("Bearer "));
    let token = bearer
        .or_else(|| param(params, "accessToken"))
        .or(access_token_header);
    let inner = state.lock();
    if let Some(reason) = inner.nacos.refusal(token, now) {
        return forbidden(reason);
    }
    let (Some(data_id), Some(group)) = (param(params, "dataId"), param(params, "group")) else {
        return Reply::text(
            400,
            "caused: Required request parameter 'dataId' and 'group' are not present;",
        );
    };
    match inner
        .nacos
        .configs
        .get(&(group.to_owned(), data_id.to_owned()))
    {
        Some(content) => Reply::text(200, content.clone()),
        None => Reply::text(404, "config data not exist"),
    }
}

/// Nacos's 403 (`resp.sendError(403, reason)` rendered by Spring Boot, spec §A.8).
fn forbidden(reason: &str) -> Reply {
    Reply::json(
        403,
        &json!({
            "status": 403,
            "error": "Forbidden",
            "message": reason,
            "path": CONFIG_PATH,
        }),
    )
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_async::test_util::ManualTimeSource;
    use aws_smithy_async::time::SharedTimeSource;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn token_of(reply: &Reply) -> String {
        reply.json_body()["accessToken"]
            .as_str()
            .expect("a token")
            .to_owned()
    }

    #[test]
    fn tokens_are_refused_when_unknown_revoked_or_expired() {
        let time =
            ManualTimeSource::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        let state = State::new(SharedTimeSource::new(time));
        state.lock().nacos_users.insert("u".into(), "p".into());
        state.lock().nacos_token_ttl = Some(Duration::from_secs(5));
        state.lock().nacos.put_config("d", "g", "content");
        let query = pairs(&[("dataId", "d"), ("group", "g")]);
        let login = pairs(&[("username", "u"), ("password", "p")]);
        let first = token_of(&login_ok(&state, &login));
        let now = state.now();
        let get = |token: Option<&str>, at: SystemTime| get_config(&state, &query, None, token, at);
        assert_eq!(get(Some(&first), now), Reply::text(200, "content"));
        let message = |r: Reply| (r.status, r.json_body()["message"].clone());
        assert_eq!(message(get(None, now)), (403, json!("user not found!")));
        assert_eq!(
            message(get(Some("nope"), now)),
            (403, json!("token invalid!"))
        );
        assert_eq!(get(Some(&first), now + Duration::from_secs(5)).status, 200);
        assert_eq!(
            message(get(Some(&first), now + Duration::from_millis(5_001))),
            (403, json!("token expired!"))
        );
        state.lock().nacos.revoke_all();
        assert_eq!(
            message(get(Some(&first), now)),
            (403, json!("Invalid signature"))
        );
        let second = token_of(&login_ok(&state, &login));
        assert_eq!(
            get(Some(&second), now).status,
            200,
            "issued after the revocation"
        );
    }

    #[test]
    fn the_token_is_read_as_nacos_reads_it() {
        let state = State::new(SharedTimeSource::default());
        state.lock().nacos_users.insert("u".into(), "p".into());
        let good = token_of(&login_ok(
            &state,
            &pairs(&[("username", "u"), ("password", "p")]),
        ));
        let now = state.now();
        let with = |auth: Option<&str>, param: Option<&str>, header: Option<&str>| {
            let mut p = pairs(&[("dataId", "missing"), ("group", "g")]);
            if let Some(t) = param {
                p.push(("accessToken".into(), t.into()));
            }
            get_config(&state, &p, auth, header, now).status
        };
        let bearer = format!("Bearer {good}");
        // Authorization first, then the parameter, then the header; 404: authorised, no such config.
        assert_eq!(with(Some(&bearer), Some("bad"), Some("bad")), 404);
        assert_eq!(with(None, Some(&good), Some("bad")), 404);
        assert_eq!(with(None, Some("bad"), Some(&good)), 403);
        assert_eq!(with(None, None, Some(&good)), 404);
        assert_eq!(with(Some("Basic x"), None, Some(&good)), 404);
        let missing = get_config(&state, &[], None, Some(&good), now);
        assert_eq!(missing.status, 400);
    }

    fn login_ok(state: &State, params: &[(String, String)]) -> Reply {
        let reply = login(state, params);
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply
    }
}
