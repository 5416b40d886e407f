//! OAuth of the Alibaba Cloud CLI (spec §10): `POST /v1/token` (a refresh-token grant) and
//! `POST /v1/exchange` (STS credentials for an access token).
//!
//! `/v1/token` takes a form body (`application/x-www-form-urlencoded`) with `grant_type=refresh_token`,
//! `refresh_token`, `client_id` (one of the CLI's two, [`OAUTH_CLIENT_IDS`](super::OAUTH_CLIENT_IDS)) and
//! `Timestamp` (`YYYY-MM-DDTHH:MM:SSZ`). The refresh token must be one of
//! [`Emulator::oauth_add_refresh_token`](super::Emulator::oauth_add_refresh_token) or one this
//! endpoint issued (then for the client it was issued to), and not already used: each grant spends
//! it and answers a new pair, `{"access_token", "refresh_token", "expires_in", "token_type": "Bearer"}`
//! ([`Emulator::set_oauth_token_lifetime`](super::Emulator::set_oauth_token_lifetime), default 3600 s),
//! recorded in [`Emulator::oauth_issued`](super::Emulator::oauth_issued).
//!
//! `/v1/exchange` takes `Authorization: Bearer <access token>` (issued here or added with
//! [`Emulator::oauth_add_access_token`](super::Emulator::oauth_add_access_token), unexpired by the
//! emulator's clock) and `Content-Type: application/json`, and answers a fresh STS credential at the
//! top level: `{"AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration", "RequestId"}`, the
//! spelling the official Python client requires.
//!
//! Refusals have the OAuth 2.0 shape `{"error", "error_description"}` (RFC 6749 §5.2, RFC 6750 §3;
//! the emulator's assumption, no source documents the service's errors): `/v1/token` answers 400
//! `invalid_request` (content type, missing parameter, bad `Timestamp`), `unsupported_grant_type`,
//! `invalid_client` (not the CLI's client id) or `invalid_grant` (unknown, spent or another client's
//! refresh token); `/v1/exchange` answers 401 `invalid_request` (no bearer token) or `invalid_token`
//! (unknown or expired) and 400 `invalid_request` (content type).

use std::time::{Duration, SystemTime};

use hyper::header::{HeaderMap, CONTENT_TYPE};
use serde_json::json;

use super::reply::Reply;
use super::server::{bearer, media_type};
use super::state::{parse_utc, random_string, request_id, OAuthRefresh, State};
use super::{Endpoint, IssuedOAuthTokens, OAUTH_CLIENT_IDS};

/// Lifetime of issued access tokens unless configured (the official clients' default `expires_in`).
pub(crate) const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// A refusal in the OAuth 2.0 shape.
pub(crate) fn error(status: u16, code: &str, description: &str) -> Reply {
    Reply::json(
        status,
        &json!({ "error": code, "error_description": description }),
    )
}

fn invalid_request(description: &str) -> Reply {
    error(400, "invalid_request", description)
}

/// `POST /v1/token`.
pub(crate) fn token(state: &State, headers: &HeaderMap, body: &[u8], now: SystemTime) -> Reply {
    match try_token(state, headers, body, now) {
        Ok(reply) | Err(reply) => reply,
    }
}

fn try_token(
    state: &State,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<Reply, Reply> {
    if media_type(headers, CONTENT_TYPE).as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(invalid_request(
            "The Content-Type must be application/x-www-form-urlencoded.",
        ));
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| invalid_request(&format!("The parameter {name} is required.")))
    };
    if param("grant_type")? != "refresh_token" {
        return Err(error(
            400,
            "unsupported_grant_type",
            "Only the refresh_token grant is supported.",
        ));
    }
    let client_id = param("client_id")?;
    if !OAUTH_CLIENT_IDS.contains(&client_id) {
        return Err(error(400, "invalid_client", "The client_id is unknown."));
    }
    if parse_utc(param("Timestamp")?).is_none() {
        return Err(invalid_request(
            "The Timestamp must be YYYY-MM-DDTHH:MM:SSZ (UTC).",
        ));
    }
    let refresh_token = param("refresh_token")?;
    let lifetime = {
        let mut inner = state.lock();
        let lifetime = inner.oauth_token_lifetime.unwrap_or(DEFAULT_TOKEN_LIFETIME);
        let Some(grant) = inner.oauth_refresh_tokens.get_mut(refresh_token) else {
            return Err(error(400, "invalid_grant", "The refresh token is invalid."));
        };
        if grant.spent {
            return Err(error(
                400,
                "invalid_grant",
                "The refresh token has already been used.",
            ));
        }
        if grant.client_id.as_deref().is_some_and(|c| c != client_id) {
            return Err(error(
                400,
                "invalid_grant",
                "The refresh token was issued to another client.",
            ));
        }
        grant.spent = true;
        lifetime
    };
    let issued = IssuedOAuthTokens {
        access_token: format!("oauth-at-{}", random_string(40)),
        refresh_token: format!("oauth-rt-{}", random_string(40)),
        expires_in: lifetime.as_secs().max(1),
        expiration: now + Duration::from_secs(lifetime.as_secs().max(1)),
        client_id: client_id.to_owned(),
    };
    {
        let mut inner = state.lock();
        if inner.oauth_access_tokens.len() >= 100_000 {
            inner
                .oauth_access_tokens
                .retain(|_, expires| *expires > now);
        }
        inner
            .oauth_access_tokens
            .insert(issued.access_token.clone(), issued.expiration);
        inner.oauth_refresh_tokens.insert(
            issued.refresh_token.clone(),
            OAuthRefresh {
                client_id: Some(client_id.to_owned()),
                spent: false,
            },
        );
        inner.oauth_issued.push(issued.clone());
    }
    Ok(Reply::json(
        200,
        &json!({
            "access_token": issued.access_token,
            "refresh_token": issued.refresh_token,
            "expires_in": issued.expires_in,
            "token_type": "Bearer",
        }),
    ))
}

/// `POST /v1/exchange`.
pub(crate) fn exchange(state: &State, headers: &HeaderMap, now: SystemTime) -> Reply {
    let Some(token) = bearer(headers) else {
        return error(
            401,
            "invalid_request",
            "The request carries no access token (Authorization: Bearer).",
        );
    };
    let expires = state.lock().oauth_access_tokens.get(token).copied();
    match expires {
        None => return error(401, "invalid_token", "The access token is invalid."),
        Some(at) if at <= now => {
            return error(401, "invalid_token", "The access token has expired.")
        }
        Some(_) => {}
    }
    if media_type(headers, CONTENT_TYPE).as_deref() != Some("application/json") {
        return invalid_request("The Content-Type must be application/json.");
    }
    let issued = state.issue(
        Endpoint::OAuthExchange,
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
            "SecurityToken": issued.security_token,
            "Expiration": issued.expiration_text,
            "RequestId": request_id(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::format_utc;
    use hyper::header::{HeaderValue, AUTHORIZATION};

    fn form() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        h
    }

    fn grant(refresh_token: &str, client_id: &str, now: SystemTime) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", client_id),
                ("Timestamp", &format_utc(now)),
            ])
            .finish()
    }

    fn oauth_error(reply: &Reply) -> (u16, String) {
        (
            reply.status,
            reply.json_body()["error"].as_str().unwrap_or("").to_owned(),
        )
    }

    #[test]
    fn a_refresh_token_is_spent_once_and_the_new_one_is_bound_to_its_client() {
        let state = State::new(Default::default());
        let now = SystemTime::now();
        state.lock().oauth_refresh_tokens.insert(
            "rt".into(),
            OAuthRefresh {
                client_id: None,
                spent: false,
            },
        );
        let cn = OAUTH_CLIENT_IDS[0];
        let reply = token(&state, &form(), grant("rt", cn, now).as_bytes(), now);
        assert_eq!(reply.status, 200, "{}", reply.body);
        let body = reply.json_body();
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body["token_type"], "Bearer");
        let again = token(&state, &form(), grant("rt", cn, now).as_bytes(), now);
        assert_eq!(oauth_error(&again), (400, "invalid_grant".into()));
        let next = body["refresh_token"].as_str().unwrap();
        let other = token(
            &state,
            &form(),
            grant(next, OAUTH_CLIENT_IDS[1], now).as_bytes(),
            now,
        );
        assert_eq!(oauth_error(&other), (400, "invalid_grant".into()));
        assert_eq!(
            token(&state, &form(), grant(next, cn, now).as_bytes(), now).status,
            200
        );

        let mut exchange_headers = HeaderMap::new();
        let bearer = format!("Bearer {}", body["access_token"].as_str().unwrap());
        exchange_headers.insert(AUTHORIZATION, HeaderValue::from_str(&bearer).unwrap());
        exchange_headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert_eq!(exchange(&state, &exchange_headers, now).status, 200);
        let late = now + Duration::from_secs(3600);
        assert_eq!(
            oauth_error(&exchange(&state, &exchange_headers, late)),
            (401, "invalid_token".into())
        );
    }

    #[test]
    fn bad_token_requests_are_named() {
        let state = State::new(Default::default());
        let now = SystemTime::now();
        let cases = [
            (
                HeaderMap::new(),
                grant("rt", OAUTH_CLIENT_IDS[0], now),
                "invalid_request",
            ),
            (
                form(),
                "grant_type=password".to_owned(),
                "unsupported_grant_type",
            ),
            (form(), grant("rt", "42", now), "invalid_client"),
            (
                form(),
                grant("rt", OAUTH_CLIENT_IDS[0], now).replace("Timestamp=", "Timestamp=x"),
                "invalid_request",
            ),
            (
                form(),
                "grant_type=refresh_token&client_id=4038181954557748008&refresh_token=rt"
                    .to_owned(),
                "invalid_request",
            ),
            (
                form(),
                grant("unknown", OAUTH_CLIENT_IDS[1], now),
                "invalid_grant",
            ),
        ];
        for (headers, body, expected) in cases {
            let reply = token(&state, &headers, body.as_bytes(), now);
            assert_eq!(oauth_error(&reply), (400, expected.into()), "{body}");
        }
        let reply = exchange(&state, &HeaderMap::new(), now);
        assert_eq!(oauth_error(&reply), (401, "invalid_request".into()));
    }
}
