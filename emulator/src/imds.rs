//! ECS instance metadata service (spec §6.2–6.3): IMDSv2 token, role name, role credentials.
//!
//! Tokens are enforced like the real service: a presented token must be one the emulator issued and
//! that has not expired (else 401); with [`Emulator::set_imds_token_required`](super::Emulator::set_imds_token_required)
//! GETs without a token are refused too (IMDSv1 disabled).

use std::time::{Duration, SystemTime};

use serde_json::json;

use super::reply::Reply;
use super::state::{format_utc, random_string, State};
use super::Endpoint;

/// Header carrying the requested token lifetime on `PUT /latest/api/token`.
pub(crate) const TOKEN_TTL_HEADER: &str = "x-aliyun-ecs-metadata-token-ttl-seconds";
/// Header carrying the token on metadata GETs.
pub(crate) const TOKEN_HEADER: &str = "x-aliyun-ecs-metadata-token";
/// Largest token lifetime the service grants (6 h).
const MAX_TOKEN_TTL: u64 = 21_600;
/// Tokens kept before expired ones are pruned.
const TOKEN_CAPACITY: usize = 10_000;

/// `PUT /latest/api/token`.
pub(crate) fn put_token(state: &State, ttl: Option<&str>, now: SystemTime) -> Reply {
    let ttl = match ttl.map(|t| t.trim().parse::<u64>()) {
        Some(Ok(n)) if (1..=MAX_TOKEN_TTL).contains(&n) => n,
        Some(_) => return Reply::text(400, "invalid X-aliyun-ecs-metadata-token-ttl-seconds"),
        None => return Reply::text(400, "missing X-aliyun-ecs-metadata-token-ttl-seconds"),
    };
    let token = random_string(56);
    let mut inner = state.lock();
    if inner.imds_tokens.len() >= TOKEN_CAPACITY {
        inner.imds_tokens.retain(|_, expires| *expires > now);
    }
    inner
        .imds_tokens
        .insert(token.clone(), now + Duration::from_secs(ttl));
    Reply::text(200, token)
}

/// Checks the token header of a metadata GET.
fn check_token(state: &State, token: Option<&str>, now: SystemTime) -> Result<(), Reply> {
    let inner = state.lock();
    match token {
        Some(token) => match inner.imds_tokens.get(token) {
            Some(expires) if *expires > now => Ok(()),
            _ => Err(Reply::text(401, "Unauthorized")),
        },
        None if inner.imds_token_required => Err(Reply::text(401, "Unauthorized")),
        None => Ok(()),
    }
}

/// `GET /latest/meta-data/ram/security-credentials/`: the role name, as text.
pub(crate) fn role_name(state: &State, token: Option<&str>, now: SystemTime) -> Reply {
    if let Err(reply) = check_token(state, token, now) {
        return reply;
    }
    Reply::text(200, state.lock().imds_role.clone())
}

/// `GET /latest/meta-data/ram/security-credentials/<role>`: a fresh credential for the role.
pub(crate) fn credentials(
    state: &State,
    role: &str,
    token: Option<&str>,
    now: SystemTime,
) -> Reply {
    if let Err(reply) = check_token(state, token, now) {
        return reply;
    }
    // The role name may be set with surrounding whitespace (to test that clients trim it).
    if state.lock().imds_role.trim() != role {
        return Reply::text(404, "Not Found");
    }
    let issued = state.issue(
        Endpoint::ImdsCredentials,
        state.lifetime(None),
        None,
        None,
        now,
    );
    Reply::json(
        200,
        &json!({
            "AccessKeyId": issued.access_key_id,
            "AccessKeySecret": issued.access_key_secret,
            "Expiration": issued.expiration_text,
            "SecurityToken": issued.security_token,
            "LastUpdated": format_utc(now),
            "Code": "Success",
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_ttl_must_be_in_range() {
        let state = State::new(Default::default());
        let now = SystemTime::now();
        for bad in ["0", "21601", "-1", "abc", ""] {
            assert_eq!(put_token(&state, Some(bad), now).status, 400, "{bad:?}");
        }
        assert_eq!(put_token(&state, None, now).status, 400);
        assert_eq!(put_token(&state, Some("21600"), now).status, 200);
        assert_eq!(put_token(&state, Some("1"), now).status, 200);
    }

    #[test]
    fn expired_token_is_refused() {
        let state = State::new(Default::default());
        let now = SystemTime::now();
        let token = put_token(&state, Some("1"), now).body;
        assert_eq!(role_name(&state, Some(&token), now).status, 200);
        let later = now + Duration::from_secs(2);
        assert_eq!(role_name(&state, Some(&token), later).status, 401);
        assert_eq!(role_name(&state, Some("forged"), now).status, 401);
    }
}
