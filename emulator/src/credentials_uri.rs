//! A credentials URI (spec §8): `GET /credentials/<token>` answers a fresh STS credential.

use std::time::SystemTime;

use serde_json::json;

use super::reply::Reply;
use super::state::State;
use super::Endpoint;

/// `GET /credentials/<path_token>`.
pub(crate) fn credentials(state: &State, path_token: &str, now: SystemTime) -> Reply {
    if path_token != state.uri_token {
        return Reply::json(
            404,
            &json!({"Code": "NotFound", "Message": "The credentials URI is not found."}),
        );
    }
    let issued = state.issue(
        Endpoint::CredentialsUri,
        state.lifetime(None),
        None,
        None,
        now,
    );
    Reply::json(
        200,
        &json!({
            "Code": "Success",
            "AccessKeyId": issued.access_key_id,
            "AccessKeySecret": issued.access_key_secret,
            "SecurityToken": issued.security_token,
            "Expiration": issued.expiration_text,
        }),
    )
}
