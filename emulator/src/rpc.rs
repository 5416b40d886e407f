//! What the emulated RPC services (STS, KMS) share: parameter lookup, the standard refusals, and the
//! check of a request signed with RPC signature v1 (common parameters, timestamp window, AccessKey
//! and security token, signature, nonce replay).

use std::time::{Duration, SystemTime};

use mse_auth::sign::rpc_v1;

use super::reply::Reply;
use super::state::{parse_utc, KnownKey, State};

/// Accepted clock skew of `Timestamp`.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// Request parameters, decoded, query first then form body.
pub(crate) type Params = [(String, String)];

/// The first value of `key`.
pub(crate) fn get<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The refusals of one service, each carrying its `HostId`.
#[derive(Clone, Copy)]
pub(crate) struct Service {
    pub(crate) host_id: &'static str,
}

impl Service {
    pub(crate) fn error(self, status: u16, code: &str, message: &str) -> Reply {
        Reply::pop_error(status, self.host_id, code, message)
    }

    pub(crate) fn missing(self, name: &str) -> Reply {
        self.error(
            400,
            "MissingParameter",
            &format!(
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
            ),
        )
    }

    pub(crate) fn invalid(self, name: &str) -> Reply {
        self.error(
            400,
            "InvalidParameter",
            &format!("The specified parameter \"{name}\" is not valid."),
        )
    }

    /// The non-empty value of `name`, else `MissingParameter`.
    pub(crate) fn required<'a>(self, params: &'a Params, name: &str) -> Result<&'a str, Reply> {
        match get(params, name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(self.missing(name)),
        }
    }

    fn mismatched_token(self) -> Reply {
        self.error(
            403,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey.",
        )
    }

    /// Checks a request signed with RPC v1 as the real gateway does, common parameters first: their
    /// presence, the signature method and version, the timestamp (±15 min of `now`), the AccessKeyId
    /// (long-term keys, or issued STS keys with their `SecurityToken`), the signature over every
    /// parameter (`method` included), then the nonce. `Action` and `Version` are the caller's.
    pub(crate) fn verify_signed(
        self,
        state: &State,
        method: &str,
        params: &Params,
        now: SystemTime,
    ) -> Result<(), Reply> {
        for name in [
            "Format",
            "Version",
            "Timestamp",
            "SignatureMethod",
            "SignatureVersion",
            "SignatureNonce",
            "AccessKeyId",
            "Signature",
        ] {
            self.required(params, name)?;
        }
        if get(params, "SignatureMethod") != Some(rpc_v1::SIGNATURE_METHOD) {
            return Err(self.invalid("SignatureMethod"));
        }
        if get(params, "SignatureVersion") != Some(rpc_v1::SIGNATURE_VERSION) {
            return Err(self.invalid("SignatureVersion"));
        }
        let timestamp = self.required(params, "Timestamp")?;
        let Some(at) = parse_utc(timestamp) else {
            return Err(self.error(
                400,
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted.",
            ));
        };
        let skew = now
            .duration_since(at)
            .or_else(|_| at.duration_since(now))
            .unwrap_or_default();
        if skew > MAX_SKEW {
            return Err(self.error(
                400,
                "InvalidTimeStamp.Expired",
                "Specified time stamp or date value is expired.",
            ));
        }

        let access_key_id = self.required(params, "AccessKeyId")?;
        let token = get(params, "SecurityToken");
        let secret = match state.known_key(access_key_id) {
            None => {
                return Err(self.error(
                    404,
                    "InvalidAccessKeyId.NotFound",
                    "Specified access key is not found.",
                ))
            }
            Some(KnownKey::LongTerm { secret }) => {
                if token.is_some_and(|t| !t.is_empty()) {
                    return Err(self.mismatched_token());
                }
                secret
            }
            Some(KnownKey::Sts(key)) => {
                let Some(token) = token.filter(|t| !t.is_empty()) else {
                    return Err(self.missing("SecurityToken"));
                };
                if token != key.security_token {
                    return Err(self.mismatched_token());
                }
                if key.expires <= now {
                    return Err(self.error(
                        400,
                        "InvalidSecurityToken.Expired",
                        "Specified SecurityToken is expired.",
                    ));
                }
                key.secret
            }
        };

        let signed: Vec<(&str, &str)> = params
            .iter()
            .filter(|(k, _)| k != "Signature")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let string_to_sign = rpc_v1::string_to_sign(method, &signed);
        let expected = rpc_v1::sign_string_to_sign(&string_to_sign, &secret);
        if get(params, "Signature") != Some(expected.as_str()) {
            return Err(self.error(
                400,
                "SignatureDoesNotMatch",
                &format!(
                    "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
                ),
            ));
        }
        if !state.use_nonce(self.required(params, "SignatureNonce")?, now) {
            return Err(self.error(
                400,
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            ));
        }
        Ok(())
    }
}
