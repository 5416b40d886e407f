//! STS: `AssumeRole` (signed, spec §2.2, §5.3–5.5) and `AssumeRoleWithOIDC` (anonymous, spec §7.3).
//!
//! Both accept POST with the action parameters in a form body (Go/Node; for AssumeRole the signature
//! covers query and body together) and GET with everything in the query (Java/Python).

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use super::reply::Reply;
use super::rpc::{get, Params, Service};
use super::state::{request_id, State};
use super::{Endpoint, IssuedCredentials, STS_HOST_ID};

/// The only API version the emulator speaks.
const VERSION: &str = "2015-04-01";
/// `DurationSeconds` bounds (the real upper bound is the role's MaxSessionDuration, at most 12 h).
const MIN_DURATION: u64 = 900;
const MAX_DURATION: u64 = 43_200;

const STS: Service = Service {
    host_id: STS_HOST_ID,
};

fn error(status: u16, code: &str, message: &str) -> Reply {
    STS.error(status, code, message)
}

fn invalid(name: &str) -> Reply {
    STS.invalid(name)
}

fn missing(name: &str) -> Reply {
    STS.missing(name)
}

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, Reply> {
    STS.required(params, name)
}

/// `acs:ram::<account id>:role/<role name>`.
fn valid_role_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("acs:ram::") else {
        return false;
    };
    let Some((account, role)) = rest.split_once(":role/") else {
        return false;
    };
    !account.is_empty() && account.bytes().all(|b| b.is_ascii_digit()) && !role.is_empty()
}

/// 2–32 characters of `[A-Za-z0-9.@_-]` (spec §1.5, §5.1).
fn valid_session_name(name: &str) -> bool {
    (2..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'@' | b'_' | b'-'))
}

/// Checks the parameters both STS actions share; returns the role ARN, session name and duration.
fn role_params(params: &Params) -> Result<(&str, &str, Duration), Reply> {
    if get(params, "Version") != Some(VERSION) {
        return Err(match get(params, "Version") {
            None => missing("Version"),
            Some(_) => invalid("Version"),
        });
    }
    if let Some(format) = get(params, "Format") {
        if !format.eq_ignore_ascii_case("JSON") {
            return Err(invalid("Format"));
        }
    }
    let role_arn = required(params, "RoleArn")?;
    if !valid_role_arn(role_arn) {
        return Err(invalid("RoleArn"));
    }
    let session = required(params, "RoleSessionName")?;
    if !valid_session_name(session) {
        return Err(invalid("RoleSessionName"));
    }
    let seconds = match get(params, "DurationSeconds") {
        None => 3600,
        Some(s) => match s.parse::<u64>() {
            Ok(n) if (MIN_DURATION..=MAX_DURATION).contains(&n) => n,
            _ => return Err(invalid("DurationSeconds")),
        },
    };
    if let Some(policy) = get(params, "Policy") {
        if policy.is_empty()
            || policy.len() > 2048
            || serde_json::from_str::<Value>(policy).is_err()
        {
            return Err(invalid("Policy"));
        }
    }
    Ok((role_arn, session, Duration::from_secs(seconds)))
}

/// The success body of both actions (spec §5.4).
fn success(issued: &IssuedCredentials, role_arn: &str, session: &str, oidc: bool) -> Reply {
    let account = role_arn
        .strip_prefix("acs:ram::")
        .and_then(|r| r.split_once(':'))
        .map_or("123456789012", |(a, _)| a);
    let role = role_arn.rsplit('/').next().unwrap_or("role");
    let mut body = json!({
        "RequestId": request_id(),
        "AssumedRoleUser": {
            "Arn": format!("acs:ram::{account}:role/{}/{session}", role.to_ascii_lowercase()),
            "AssumedRoleId": format!("3{}:{session}", fastrand::u64(10u64.pow(16)..10u64.pow(17))),
        },
        "Credentials": {
            "AccessKeyId": issued.access_key_id,
            "AccessKeySecret": issued.access_key_secret,
            "SecurityToken": issued.security_token,
            "Expiration": issued.expiration_text,
        },
    });
    if oidc {
        body["OIDCTokenInfo"] = json!({
            "Subject": "system:serviceaccount:default:emulator",
            "Issuer": "https://oidc.emulator.invalid",
            "ClientIds": "sts.aliyuncs.com",
        });
    }
    Reply::json(200, &body)
}

/// Handles a signed `AssumeRole`. `method` is the wire method, `params` all decoded parameters.
pub(crate) fn assume_role(state: &State, method: &str, params: &Params, now: SystemTime) -> Reply {
    match try_assume_role(state, method, params, now) {
        Ok(reply) | Err(reply) => reply,
    }
}

fn try_assume_role(
    state: &State,
    method: &str,
    params: &Params,
    now: SystemTime,
) -> Result<Reply, Reply> {
    STS.verify_signed(state, method, params, now)?;
    if get(params, "Action") != Some("AssumeRole") {
        return Err(invalid("Action"));
    }
    let (role_arn, session, requested) = role_params(params)?;
    if let Some(external_id) = get(params, "ExternalId") {
        if !(2..=1224).contains(&external_id.len()) {
            return Err(invalid("ExternalId"));
        }
    }
    let lifetime = state.lifetime(Some(requested));
    let issued = state.issue(
        Endpoint::AssumeRole,
        lifetime,
        Some(role_arn),
        Some(session),
        now,
    );
    Ok(success(&issued, role_arn, session, false))
}

/// Handles an anonymous `AssumeRoleWithOIDC`.
pub(crate) fn assume_role_with_oidc(state: &State, params: &Params, now: SystemTime) -> Reply {
    match try_assume_role_with_oidc(state, params, now) {
        Ok(reply) | Err(reply) => reply,
    }
}

fn try_assume_role_with_oidc(
    state: &State,
    params: &Params,
    now: SystemTime,
) -> Result<Reply, Reply> {
    let (role_arn, session, requested) = role_params(params)?;
    let provider = required(params, "OIDCProviderArn")?;
    if !provider.starts_with("acs:ram::") || !provider.contains(":oidc-provider/") {
        return Err(invalid("OIDCProviderArn"));
    }
    let token = required(params, "OIDCToken")?;
    let expected = state.lock().oidc_token.clone();
    if expected.as_deref() != Some(token) {
        return Err(error(
            400,
            "AuthenticationFail.OIDCToken.Invalid",
            "The specified OIDC token is invalid.",
        ));
    }
    let lifetime = state.lifetime(Some(requested));
    let issued = state.issue(
        Endpoint::AssumeRoleWithOidc,
        lifetime,
        Some(role_arn),
        Some(session),
        now,
    );
    Ok(success(&issued, role_arn, session, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{format_utc, random_string};
    use mse_auth::sign::rpc_v1;

    fn nonce() -> String {
        random_string(32)
    }

    fn signed(
        method: &str,
        secret: &str,
        mut params: Vec<(String, String)>,
    ) -> Vec<(String, String)> {
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let signature = rpc_v1::signature(method, &pairs, secret);
        params.push(("Signature".into(), signature));
        params
    }

    fn base(access_key_id: &str, now: SystemTime) -> Vec<(String, String)> {
        [
            ("Action", "AssumeRole".to_owned()),
            ("Version", VERSION.to_owned()),
            ("Format", "JSON".to_owned()),
            ("Timestamp", format_utc(now)),
            ("SignatureMethod", "HMAC-SHA1".to_owned()),
            ("SignatureVersion", "1.0".to_owned()),
            ("SignatureNonce", nonce()),
            ("AccessKeyId", access_key_id.to_owned()),
            ("RoleArn", "acs:ram::123456789012:role/test".to_owned()),
            ("RoleSessionName", "session-1".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    fn state_with_key() -> State {
        let state = State::new(Default::default());
        state
            .lock()
            .access_keys
            .insert("testid".into(), "testsecret".into());
        state
    }

    #[test]
    fn signed_request_gets_credentials() {
        let state = state_with_key();
        let now = SystemTime::now();
        let reply = assume_role(
            &state,
            "POST",
            &signed("POST", "testsecret", base("testid", now)),
            now,
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        let body = reply.json_body();
        assert!(body["Credentials"]["AccessKeyId"]
            .as_str()
            .is_some_and(|id| id.starts_with("STS.")));
        assert_eq!(
            body["AssumedRoleUser"]["Arn"],
            "acs:ram::123456789012:role/test/session-1"
        );
    }

    #[test]
    fn method_is_part_of_the_signature() {
        let state = state_with_key();
        let now = SystemTime::now();
        let reply = assume_role(
            &state,
            "GET",
            &signed("POST", "testsecret", base("testid", now)),
            now,
        );
        assert_eq!(reply.status, 400);
        assert_eq!(reply.json_body()["Code"], "SignatureDoesNotMatch");
        let message = reply.json_body()["Message"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        assert!(
            message.contains("server string to sign is:GET&%2F&"),
            "{message}"
        );
    }

    /// The official Python client signs with `quote_plus`, so a space becomes `+` (`%2B`) where RPC
    /// v1 wants `%20`: for a policy with spaces its signature is not STS's, and STS refuses it. The
    /// same GET signed as specified is accepted. Vectors: spec §2.2 and §2.4.
    #[test]
    fn python_quote_plus_signature_of_a_policy_with_spaces_is_refused() {
        let state = state_with_key();
        let now = crate::state::parse_utc("2024-01-01T00:00:00Z").unwrap();
        let get = |signature: &str| {
            let mut params = base("testid", now);
            for (k, v) in params.iter_mut() {
                match k.as_str() {
                    "Timestamp" => *v = "2024-01-01T00:00:00Z".into(),
                    "SignatureNonce" => *v = "0123456789abcdef0123456789abcdef".into(),
                    _ => {}
                }
            }
            params.push(("DurationSeconds".into(), "3600".into()));
            params.push((
                "Policy".into(),
                r#"{"Statement": [{"Action": ["*"],"Effect": "Allow","Resource": ["*"]}],"Version":"1"}"#
                    .into(),
            ));
            params.push(("Signature".into(), signature.into()));
            assume_role(&state, "GET", &params, now)
        };
        let python = get("FGW7dm2IQxOdRju03lWLPgfxoe8=");
        assert_eq!(python.status, 400, "{}", python.body);
        assert_eq!(python.json_body()["Code"], "SignatureDoesNotMatch");
        let specified = get("nFZzKafqXTpfN81exCd9jDyiY9M=");
        assert_eq!(specified.status, 200, "{}", specified.body);
    }

    #[test]
    fn invalid_session_names_are_rejected() {
        for name in ["a", "has space", "x".repeat(33).as_str(), "ünï"] {
            assert!(!valid_session_name(name), "{name}");
        }
        for name in ["ab", "a.b@c_d-e", "x".repeat(32).as_str()] {
            assert!(valid_session_name(name), "{name}");
        }
    }

    #[test]
    fn role_arn_shape_is_checked() {
        assert!(valid_role_arn("acs:ram::123456789012:role/test"));
        assert!(!valid_role_arn("acs:ram::abc:role/test"));
        assert!(!valid_role_arn("acs:ram::123:user/test"));
        assert!(!valid_role_arn("acs:ram::123:role/"));
    }
}
