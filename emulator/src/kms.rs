//! KMS (API version `2016-01-20`): `GetSecretValue` of RAM-credential secrets with rotation, and
//! `GenerateDataKey`, `Encrypt`, `Decrypt` under emulator-held AES-256 master keys.
//!
//! Requests are signed RPC v1 calls, checked exactly as STS checks them ([`super::rpc`]). A
//! `CiphertextBlob` is Base64 of `1 | kind | len(key id) | key id | nonce (12) | AES-256-GCM
//! ciphertext and tag`, the header being the associated data: `Decrypt` finds the key in the blob,
//! and a tampered or foreign blob fails authentication.

use std::time::{Duration, SystemTime};

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::json;

use super::reply::Reply;
use super::rpc::{get, Params, Service};
use super::state::{format_utc, random_string, request_id, KmsKey, KmsSecret, State};
use super::{Endpoint, KMS_HOST_ID};

/// The only API version the emulator speaks.
const VERSION: &str = "2016-01-20";
/// `Encrypt` accepts at most 6 KB of plaintext.
pub(crate) const MAX_PLAINTEXT: usize = 6 * 1024;
const KMS: Service = Service {
    host_id: KMS_HOST_ID,
};
const BLOB_VERSION: u8 = 1;
const KIND_TEXT: u8 = 0;
const KIND_DATA_KEY: u8 = 1;
/// Plaintexts shorter than this are not watched for in URLs (they would match by chance).
const MIN_WATCHED: usize = 8;

/// The endpoint of a KMS action name.
pub(crate) fn endpoint(action: &str) -> Option<Endpoint> {
    match action {
        "GetSecretValue" => Some(Endpoint::KmsGetSecretValue),
        "GenerateDataKey" => Some(Endpoint::KmsGenerateDataKey),
        "Encrypt" => Some(Endpoint::KmsEncrypt),
        "Decrypt" => Some(Endpoint::KmsDecrypt),
        _ => None,
    }
}

/// Handles a signed KMS call routed to `endpoint`.
pub(crate) fn handle(
    state: &State,
    method: &str,
    endpoint: Endpoint,
    params: &Params,
    now: SystemTime,
) -> Reply {
    match try_handle(state, method, endpoint, params, now) {
        Ok(reply) | Err(reply) => reply,
    }
}

fn try_handle(
    state: &State,
    method: &str,
    endpoint: Endpoint,
    params: &Params,
    now: SystemTime,
) -> Result<Reply, Reply> {
    KMS.verify_signed(state, method, params, now)?;
    if get(params, "Version") != Some(VERSION) {
        return Err(KMS.invalid("Version"));
    }
    if !get(params, "Format").is_some_and(|f| f.eq_ignore_ascii_case("JSON")) {
        return Err(KMS.invalid("Format"));
    }
    match endpoint {
        Endpoint::KmsGetSecretValue => get_secret_value(state, params),
        Endpoint::KmsGenerateDataKey => generate_data_key(state, params),
        Endpoint::KmsEncrypt => encrypt(state, params),
        Endpoint::KmsDecrypt => decrypt(state, params),
        _ => Err(KMS.invalid("Action")),
    }
}

fn secret_not_found() -> Reply {
    KMS.error(
        404,
        "Forbidden.ResourceNotFound",
        "The specified resource is not found.",
    )
}

fn key_not_found() -> Reply {
    KMS.error(
        404,
        "Forbidden.KeyNotFound",
        "The specified Key is not found.",
    )
}

fn get_secret_value(state: &State, params: &Params) -> Result<Reply, Reply> {
    let name = KMS.required(params, "SecretName")?;
    let secret = state
        .lock()
        .kms_secrets
        .get(name)
        .cloned()
        .ok_or_else(secret_not_found)?;
    let version_id = format!("v{}", secret.version);
    if get(params, "VersionStage").is_some_and(|s| s != "ACSCurrent")
        || get(params, "VersionId").is_some_and(|v| v != version_id)
    {
        return Err(secret_not_found());
    }
    let time = |t: Option<SystemTime>| t.map(format_utc);
    let mut body = json!({
        "RequestId": request_id(),
        "SecretName": name,
        "VersionId": version_id,
        "CreateTime": format_utc(secret.created),
        "SecretData": secret.secret_data,
        "SecretDataType": "text",
        "VersionStages": { "VersionStage": ["ACSCurrent"] },
        "SecretType": secret.secret_type,
        "AutomaticRotation": if secret.rotation_interval.is_some() { "Enabled" } else { "Disabled" },
    });
    if let Some(interval) = secret.rotation_interval {
        body["RotationInterval"] = json!(format!("{}s", interval.as_secs()));
    }
    if let Some(next) = time(secret.next_rotation) {
        body["NextRotationDate"] = json!(next);
    }
    if let Some(last) = time(secret.last_rotation) {
        body["LastRotationDate"] = json!(last);
    }
    if get(params, "FetchExtendedConfig").is_some_and(|f| f.eq_ignore_ascii_case("true"))
        && secret.secret_type == "RAMCredentials"
    {
        body["ExtendedConfig"] = json!(json!({"SecretSubType": "RamUserAccessKey"}).to_string());
    }
    Ok(Reply::json(200, &body))
}

fn master_key(state: &State, key_id: &str) -> Result<KmsKey, Reply> {
    state
        .lock()
        .kms_keys
        .get(key_id)
        .cloned()
        .ok_or_else(key_not_found)
}

fn key_reply(key_id: &str, key: &KmsKey, fields: serde_json::Value) -> Reply {
    let mut body = json!({
        "RequestId": request_id(),
        "KeyId": key_id,
        "KeyVersionId": key.version_id,
    });
    if let (Some(body), Some(fields)) = (body.as_object_mut(), fields.as_object()) {
        body.extend(fields.clone());
    }
    Reply::json(200, &body)
}

fn generate_data_key(state: &State, params: &Params) -> Result<Reply, Reply> {
    let key_id = KMS.required(params, "KeyId")?;
    let len = match get(params, "KeySpec") {
        None | Some("AES_256") => 32,
        Some("AES_128") => 16,
        Some(_) => return Err(KMS.invalid("KeySpec")),
    };
    let key = master_key(state, key_id)?;
    let data_key: Vec<u8> = std::iter::repeat_with(|| fastrand::u8(..))
        .take(len)
        .collect();
    let blob = seal(key_id, &key, KIND_DATA_KEY, &data_key);
    let plaintext = BASE64.encode(&data_key);
    watch(state, "a KMS data key", &plaintext);
    watch(state, "a CiphertextBlob", &blob);
    Ok(key_reply(
        key_id,
        &key,
        json!({ "Plaintext": plaintext, "CiphertextBlob": blob }),
    ))
}

fn encrypt(state: &State, params: &Params) -> Result<Reply, Reply> {
    let key_id = KMS.required(params, "KeyId")?;
    let plaintext = KMS.required(params, "Plaintext")?;
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(KMS.invalid("Plaintext"));
    }
    let key = master_key(state, key_id)?;
    let blob = seal(key_id, &key, KIND_TEXT, plaintext.as_bytes());
    watch(state, "a KMS plaintext", plaintext);
    watch(state, "a CiphertextBlob", &blob);
    Ok(key_reply(key_id, &key, json!({ "CiphertextBlob": blob })))
}

fn decrypt(state: &State, params: &Params) -> Result<Reply, Reply> {
    let blob = KMS.required(params, "CiphertextBlob")?;
    let (key_id, kind, plaintext) =
        open(state, blob).ok_or_else(|| KMS.invalid("CiphertextBlob"))?;
    let key = master_key(state, &key_id)?;
    let plaintext = match kind {
        KIND_DATA_KEY => BASE64.encode(&plaintext),
        _ => String::from_utf8(plaintext).map_err(|_| KMS.invalid("CiphertextBlob"))?,
    };
    Ok(key_reply(&key_id, &key, json!({ "Plaintext": plaintext })))
}

fn watch(state: &State, what: &'static str, value: &str) {
    if value.len() >= MIN_WATCHED {
        state.lock().kms_sensitive.push((what, value.to_owned()));
    }
}

fn header(key_id: &str, kind: u8) -> Vec<u8> {
    let mut header = vec![BLOB_VERSION, kind, key_id.len() as u8];
    header.extend_from_slice(key_id.as_bytes());
    header
}

/// Encrypts `plaintext` under `key`; key ids are at most 255 bytes ([`super::Emulator::kms_create_key`]).
fn seal(key_id: &str, key: &KmsKey, kind: u8, plaintext: &[u8]) -> String {
    let header = header(key_id, kind);
    let nonce: [u8; 12] = std::array::from_fn(|_| fastrand::u8(..));
    let sealed = Aes256Gcm::new(&key.material.into())
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &header,
            },
        )
        .unwrap_or_default();
    let mut blob = header;
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&sealed);
    BASE64.encode(blob)
}

/// The key id, kind and plaintext of a blob this emulator made; `None` for anything else.
fn open(state: &State, blob: &str) -> Option<(String, u8, Vec<u8>)> {
    let bytes = BASE64.decode(blob.trim()).ok()?;
    let (&[version, kind, len], rest) = bytes.split_first_chunk::<3>()?;
    if version != BLOB_VERSION || rest.len() < usize::from(len) + 12 + 16 {
        return None;
    }
    let (key_id, rest) = rest.split_at(usize::from(len));
    let key_id = std::str::from_utf8(key_id).ok()?.to_owned();
    let (nonce, sealed) = rest.split_at(12);
    let key = state.lock().kms_keys.get(&key_id).cloned()?;
    let header = header(&key_id, kind);
    let plaintext = Aes256Gcm::new(&key.material.into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: &header,
            },
        )
        .ok()?;
    Some((key_id, kind, plaintext))
}

/// A new random master key.
pub(crate) fn new_key() -> KmsKey {
    KmsKey {
        material: std::array::from_fn(|_| fastrand::u8(..)),
        version_id: format!(
            "{}-{}-{}-{}-{}",
            random_string(8),
            random_string(4),
            random_string(4),
            random_string(4),
            random_string(12)
        )
        .to_ascii_lowercase(),
    }
}

/// `SecretData` of a RAM-credential secret (spec §9.1).
pub(crate) fn ram_secret_data(access_key_id: &str, secret: &str, generated: SystemTime) -> String {
    json!({
        "AccessKeyId": access_key_id,
        "AccessKeySecret": secret,
        "GenerateTimestamp": format_utc(generated),
    })
    .to_string()
}

/// A RAM-credential secret at version 1.
pub(crate) fn ram_secret(
    access_key_id: &str,
    secret: &str,
    rotation_interval: Duration,
    next_rotation: SystemTime,
    now: SystemTime,
) -> KmsSecret {
    KmsSecret {
        secret_type: "RAMCredentials".to_owned(),
        secret_data: ram_secret_data(access_key_id, secret, now),
        version: 1,
        created: now,
        rotation_interval: Some(rotation_interval),
        next_rotation: Some(next_rotation),
        last_rotation: Some(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_with_key(key_id: &str) -> State {
        let state = State::new(Default::default());
        state.lock().kms_keys.insert(key_id.to_owned(), new_key());
        state
    }

    #[test]
    fn blobs_round_trip_and_name_their_key() {
        let state = state_with_key("k1");
        let key = master_key(&state, "k1").unwrap();
        let blob = seal("k1", &key, KIND_TEXT, b"hello world");
        assert_eq!(
            open(&state, &blob),
            Some(("k1".to_owned(), KIND_TEXT, b"hello world".to_vec()))
        );
    }

    #[test]
    fn tampered_truncated_and_foreign_blobs_do_not_open() {
        let state = state_with_key("k1");
        let key = master_key(&state, "k1").unwrap();
        let blob = BASE64
            .decode(seal("k1", &key, KIND_DATA_KEY, &[7; 32]))
            .unwrap();
        for i in [1, 5, blob.len() - 1] {
            let mut bad = blob.clone();
            bad[i] ^= 1;
            assert_eq!(open(&state, &BASE64.encode(&bad)), None, "byte {i}");
        }
        assert_eq!(open(&state, &BASE64.encode(&blob[..20])), None);
        assert_eq!(open(&state, "not base64 %%"), None);
        let other = state_with_key("k1"); // same id, other material
        assert_eq!(open(&other, &BASE64.encode(&blob)), None);
    }
}
