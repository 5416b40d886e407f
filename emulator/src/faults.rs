//! Fault injection: what the next requests to an endpoint get instead of a normal answer.

use std::time::{Duration, SystemTime};

use serde_json::json;

use super::reply::Reply;
use super::state::{format_utc, random_string, request_id};
use super::{cloud_sso, oauth, Endpoint, KMS_HOST_ID, STS_HOST_ID};

/// A fault to inject with [`Emulator::inject_fault`](super::Emulator::inject_fault).
///
/// Each faulty request is still counted in [`Emulator::calls`](super::Emulator::calls) and logged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this HTTP status and a real-looking error JSON (`Code`, `Message`, `RequestId`;
    /// for the OAuth endpoints `error` and `error_description`).
    /// A value that is not a valid status code becomes 500. For KMS, 429 is `Rejected.Throttling` and
    /// 503 `ServiceUnavailableTemporary`.
    Status(u16),
    /// Never answer: the connection stays open until the client gives up or the emulator is dropped
    /// (at most [`HANG_LIMIT`] of real time, whatever the emulator's time source, then the connection
    /// is closed without a response).
    Hang,
    /// Answer 200 with a body that is not JSON.
    Garbage,
    /// Close the TCP connection without sending any response.
    Close,
    /// Answer normally after this delay of real time (capped at [`HANG_LIMIT`]).
    Delay(Duration),
    /// Answer 200 with JSON that lacks the credentials (`Credentials` for STS, `AccessKeyId` for the
    /// metadata service, the credentials URI, CloudSSO (in `CloudCredential`) and the OAuth
    /// exchange; `access_token` and `refresh_token` for the OAuth token endpoint; an empty body for
    /// the IMDS token and role name; only `RequestId` for KMS; no `accessToken` for a Nacos login, an
    /// empty body for a Nacos config read).
    MissingFields,
}

/// The longest a [`Fault::Hang`] or [`Fault::Delay`] holds a connection.
pub const HANG_LIMIT: Duration = Duration::from_secs(120);

/// The error JSON for [`Fault::Status`]: the endpoint's own shape (OAuth: `error`,
/// `error_description`; the others: `Code`, `Message`, `RequestId`).
pub(crate) fn status_reply(endpoint: Endpoint, status: u16) -> Reply {
    if matches!(endpoint, Endpoint::OAuthToken | Endpoint::OAuthExchange) {
        let (code, description) = match status {
            400 => (
                "invalid_request",
                "The request is missing a parameter or is malformed.",
            ),
            401 => ("invalid_token", "The access token is invalid."),
            403 => ("access_denied", "The request is denied."),
            429 | 503 => (
                "temporarily_unavailable",
                "The service is temporarily unavailable.",
            ),
            _ => ("server_error", "The server met an unexpected condition."),
        };
        return oauth::error(status, code, description);
    }
    let (code, message) = match status {
        // KMS names its recoverable refusals (spec §9.3).
        429 if endpoint.is_kms() => (
            "Rejected.Throttling",
            "Request was denied due to user flow control.",
        ),
        503 if endpoint.is_kms() => (
            "ServiceUnavailableTemporary",
            "The service is temporarily unavailable.",
        ),
        400 => ("InvalidParameter", "The specified parameter is not valid."),
        401 => ("Unauthorized", "The request is not authorized."),
        403 => (
            "NoPermission",
            "You are not authorized to do this action. You should be authorized by RAM.",
        ),
        404 => ("NotFound", "The specified resource is not found."),
        429 => ("Throttling", "Request was denied due to user flow control."),
        500 => (
            "InternalError",
            "The request processing has failed due to some unknown error.",
        ),
        503 => (
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        ),
        _ => ("UnknownError", "The request has failed."),
    };
    if endpoint == Endpoint::CloudSsoCredentials {
        return cloud_sso::error(status, code, message);
    }
    let host = match endpoint {
        Endpoint::AssumeRole | Endpoint::AssumeRoleWithOidc => STS_HOST_ID,
        e if e.is_kms() => KMS_HOST_ID,
        _ => "100.100.100.200",
    };
    Reply::pop_error(status, host, code, message)
}

/// The body for [`Fault::Garbage`].
pub(crate) fn garbage_reply() -> Reply {
    Reply {
        status: 200,
        content_type: "text/html;charset=utf-8",
        body: "<html><body>502 Bad Gateway {not json".to_owned(),
    }
}

/// The body for [`Fault::MissingFields`]; `now` is the emulator's time (for the `Expiration`).
pub(crate) fn missing_fields_reply(endpoint: Endpoint, now: SystemTime) -> Reply {
    match endpoint {
        Endpoint::AssumeRole | Endpoint::AssumeRoleWithOidc => Reply::json(
            200,
            &json!({
                "RequestId": request_id(),
                "AssumedRoleUser": {
                    "Arn": "acs:ram::123456789012:role/emulator/session",
                    "AssumedRoleId": "300000000000000000:session",
                },
            }),
        ),
        Endpoint::ImdsCredentials | Endpoint::CredentialsUri => Reply::json(
            200,
            &json!({
                "Code": "Success",
                "AccessKeySecret": random_string(44),
                "SecurityToken": format!("CAIS{}", random_string(64)),
                "Expiration": format_utc(now + Duration::from_secs(3600)),
            }),
        ),
        Endpoint::ImdsToken | Endpoint::ImdsRole => Reply::text(200, ""),
        Endpoint::KmsGetSecretValue
        | Endpoint::KmsGenerateDataKey
        | Endpoint::KmsEncrypt
        | Endpoint::KmsDecrypt => Reply::json(200, &json!({ "RequestId": request_id() })),
        Endpoint::NacosLogin => {
            Reply::json(200, &json!({ "tokenTtl": 18000, "globalAdmin": false }))
        }
        Endpoint::NacosGetConfig => Reply::text(200, ""),
        Endpoint::CloudSsoCredentials => Reply::json(
            200,
            &json!({
                "RequestId": request_id(),
                "CloudCredential": {
                    "AccessKeySecret": random_string(44),
                    "SecurityToken": format!("CAIS{}", random_string(64)),
                    "Expiration": format_utc(now + Duration::from_secs(3600)),
                },
            }),
        ),
        Endpoint::OAuthToken => {
            Reply::json(200, &json!({ "token_type": "Bearer", "expires_in": 3600 }))
        }
        Endpoint::OAuthExchange => Reply::json(
            200,
            &json!({
                "AccessKeySecret": random_string(44),
                "SecurityToken": format!("CAIS{}", random_string(64)),
                "Expiration": format_utc(now + Duration::from_secs(3600)),
                "RequestId": request_id(),
            }),
        ),
    }
}
