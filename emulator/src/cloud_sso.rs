//! CloudSSO (spec §10): `POST /cloud-credentials` with `Authorization: Bearer <access token>` and
//! the JSON body `{"AccountId", "AccessConfigurationId"}` answers
//! `{"RequestId", "CloudCredential": {"AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}}`.
//!
//! The access tokens it takes are those of
//! [`Emulator::cloud_sso_add_access_token`](super::Emulator::cloud_sso_add_access_token), each until
//! its expiry (by the emulator's clock) and for its one account and access configuration.
//!
//! Refusals are the emulator's assumption (no source documents CloudSSO's errors): the Alibaba Cloud
//! shape `{"RequestId", "Code", "Message"}`, HTTP 401 for the token (`MissingAccessToken`,
//! `InvalidAccessToken`, `InvalidAccessToken.Expired`) and 400 for the request
//! (`InvalidParameter.ContentType`, `InvalidParameter.Accept`, `InvalidParameter.Body`,
//! `MissingParameter.AccountId`, `MissingParameter.AccessConfigurationId`,
//! `InvalidParameter.AccountId`, `InvalidParameter.AccessConfigurationId`).

use std::time::SystemTime;

use hyper::header::{HeaderMap, ACCEPT, CONTENT_TYPE};
use serde_json::{json, Value};

use super::reply::Reply;
use super::server::{bearer, media_type};
use super::state::{request_id, State};
use super::Endpoint;

/// A refusal in CloudSSO's (assumed) shape.
pub(crate) fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({ "RequestId": request_id(), "Code": code, "Message": message }),
    )
}

/// `POST /cloud-credentials`.
pub(crate) fn credentials(
    state: &State,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Reply {
    match try_credentials(state, headers, body, now) {
        Ok(reply) | Err(reply) => reply,
    }
}

fn try_credentials(
    state: &State,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<Reply, Reply> {
    let Some(token) = bearer(headers) else {
        return Err(error(
            401,
            "MissingAccessToken",
            "The request carries no access token (Authorization: Bearer).",
        ));
    };
    let grant = state.lock().cloud_sso_tokens.get(token).cloned();
    let Some(grant) = grant else {
        return Err(error(
            401,
            "InvalidAccessToken",
            "The specified access token is invalid.",
        ));
    };
    if grant.expires <= now {
        return Err(error(
            401,
            "InvalidAccessToken.Expired",
            "The specified access token has expired.",
        ));
    }
    if media_type(headers, CONTENT_TYPE).as_deref() != Some("application/json") {
        return Err(error(
            400,
            "InvalidParameter.ContentType",
            "The Content-Type must be application/json.",
        ));
    }
    if let Some(accept) = media_type(headers, ACCEPT) {
        if accept != "application/json" && accept != "*/*" {
            return Err(error(
                400,
                "InvalidParameter.Accept",
                "The response can only be application/json.",
            ));
        }
    }
    let Ok(Value::Object(params)) = serde_json::from_slice::<Value>(body) else {
        return Err(error(
            400,
            "InvalidParameter.Body",
            "The request body must be a JSON object.",
        ));
    };
    let field = |name: &str| {
        params
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                error(
                    400,
                    &format!("MissingParameter.{name}"),
                    &format!("The parameter {name} is required."),
                )
            })
    };
    let (account, config) = (field("AccountId")?, field("AccessConfigurationId")?);
    if account != grant.account_id {
        return Err(error(
            400,
            "InvalidParameter.AccountId",
            "The specified account is not assigned to this user.",
        ));
    }
    if config != grant.access_config {
        return Err(error(
            400,
            "InvalidParameter.AccessConfigurationId",
            "The specified access configuration is not assigned to this user in this account.",
        ));
    }
    let issued = state.issue(
        Endpoint::CloudSsoCredentials,
        state.lifetime(None),
        None,
        None,
        now,
    );
    Ok(Reply::json(
        200,
        &json!({
            "RequestId": request_id(),
            "CloudCredential": {
                "AccessKeyId": issued.access_key_id,
                "AccessKeySecret": issued.access_key_secret,
                "SecurityToken": issued.security_token,
                "Expiration": issued.expiration_text,
            },
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::SsoGrant;
    use hyper::header::{HeaderValue, AUTHORIZATION};
    use std::time::Duration;

    fn state(now: SystemTime) -> State {
        let state = State::new(Default::default());
        state.lock().cloud_sso_tokens.insert(
            "tok".into(),
            SsoGrant {
                expires: now + Duration::from_secs(60),
                account_id: "123".into(),
                access_config: "ac-1".into(),
            },
        );
        state
    }

    fn headers(pairs: &[(hyper::header::HeaderName, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(n, v)| (n.clone(), HeaderValue::from_static(v)))
            .collect()
    }

    /// Headers, body, time, and the expected status and `Code`.
    type Case<'a> = (
        &'a [(hyper::header::HeaderName, &'static str)],
        &'a [u8],
        SystemTime,
        (u16, &'a str),
    );

    fn code(reply: &Reply) -> (u16, String) {
        (
            reply.status,
            reply.json_body()["Code"].as_str().unwrap_or("").to_owned(),
        )
    }

    #[test]
    fn each_refusal_has_its_status_and_code() {
        let now = SystemTime::now();
        let state = state(now);
        let good = [
            (AUTHORIZATION, "Bearer tok"),
            (CONTENT_TYPE, "application/json"),
            (ACCEPT, "application/json"),
        ];
        let body = br#"{"AccountId":"123","AccessConfigurationId":"ac-1"}"#;
        let reply = credentials(&state, &headers(&good), body, now);
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(reply.json_body()["CloudCredential"]["AccessKeyId"]
            .as_str()
            .is_some_and(|id| id.starts_with("STS.")));
        let cases: [Case; 8] = [
            (&good[1..], body, now, (401, "MissingAccessToken")),
            (
                &[
                    (AUTHORIZATION, "Bearer other"),
                    (CONTENT_TYPE, "application/json"),
                ],
                body,
                now,
                (401, "InvalidAccessToken"),
            ),
            (
                &good,
                body,
                now + Duration::from_secs(60),
                (401, "InvalidAccessToken.Expired"),
            ),
            (
                &[(AUTHORIZATION, "bearer tok"), (CONTENT_TYPE, "text/plain")],
                body,
                now,
                (400, "InvalidParameter.ContentType"),
            ),
            (
                &[
                    (AUTHORIZATION, "Bearer tok"),
                    (CONTENT_TYPE, "application/json"),
                    (ACCEPT, "text/html"),
                ],
                body,
                now,
                (400, "InvalidParameter.Accept"),
            ),
            (&good, b"[]", now, (400, "InvalidParameter.Body")),
            (
                &good,
                br#"{"AccountId":"123"}"#,
                now,
                (400, "MissingParameter.AccessConfigurationId"),
            ),
            (
                &good,
                br#"{"AccountId":"9","AccessConfigurationId":"ac-1"}"#,
                now,
                (400, "InvalidParameter.AccountId"),
            ),
        ];
        for (h, body, at, (status, c)) in cases {
            let reply = credentials(&state, &headers(h), body, at);
            assert_eq!(code(&reply), (status, c.to_owned()), "{}", reply.body);
        }
    }
}
