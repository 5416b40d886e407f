//! Entry points into the crate's internal parsers for the fuzz targets in `fuzz/`.
//!
//! **Unstable, for fuzzing only.** Compiled only with the `fuzzing` feature (off by default), hidden from
//! the docs, and free to change or disappear in any release: applications must not use it. Each
//! function feeds its input to one parser with fixed, offline settings (an in-memory environment and
//! file system, no network) and drops what the parser built, keeping only its error, so that a target
//! can check what the error shows.

use crate::context::Context;
use crate::http::HttpResponse;
use crate::kms::{DataKey, Decrypted, Encrypted, KeySpec, SecretValue};
use crate::{CliProfileProvider, ProfileProvider};
use mse_auth::os::{Env, Fs};
use mse_auth::{CredentialsError, Result};
use std::borrow::Cow;
use std::time::{Duration, SystemTime};

/// Where the profile targets' file lives in the in-memory file system.
const PROFILE_PATH: &str = "/fuzz/config";

/// An offline context: no environment variables, one file, a fixed clock; the HTTP client is never used.
fn offline(text: &str) -> Context {
    Context::default()
        .with_env(Env::from_pairs(std::iter::empty::<(String, String)>()))
        .with_fs(Fs::from_pairs([(PROFILE_PATH, text.as_bytes().to_vec())]))
}

/// The ini credentials file `text`, profile `profile` (else `default`): parsed, checked and turned into
/// its provider (not called).
pub fn profile_ini(text: &str, profile: Option<&str>) -> Result<()> {
    let mut builder = ProfileProvider::builder()
        .context(offline(text))
        .path(PROFILE_PATH);
    if let Some(profile) = profile {
        builder = builder.profile(profile);
    }
    builder.build().resolve().map(drop)
}

/// The CLI `config.json` `text`, profile `profile` (else its `current`): parsed, checked and turned into
/// its provider (not called).
pub fn cli_config_json(text: &str, profile: Option<&str>) -> Result<()> {
    let mut builder = CliProfileProvider::builder()
        .context(offline(text))
        .path(PROFILE_PATH);
    if let Some(profile) = profile {
        builder = builder.profile(profile);
    }
    builder.build().resolve().map(drop)
}

/// The ECS metadata / credentials URI credentials JSON.
pub fn credentials_json(body: &[u8]) -> Result<()> {
    crate::json_credentials::parse_credentials(body, "fuzz").map(drop)
}

/// The `Code` of an ECS metadata / credentials URI error body.
pub fn credentials_json_error_code(body: &[u8]) -> Option<String> {
    crate::json_credentials::error_code(body)
}

/// A 2xx STS `AssumeRole` body.
pub fn sts_assume_role(body: &[u8]) -> Result<()> {
    crate::sts::parse_credentials("fuzz", "AssumeRole", body, Cow::Borrowed("fuzz")).map(drop)
}

/// The error of a non-2xx POP answer (`status`, `body`), with the string we signed (`signed`).
pub fn upstream_error(status: u16, body: &[u8], signed: Option<&str>) -> CredentialsError {
    let response = HttpResponse {
        status,
        body: body.to_vec(),
    };
    crate::rpc::upstream_error("fuzz", "STS", "AssumeRole", &response, signed)
}

/// A 2xx KMS `GetSecretValue` body.
pub fn kms_get_secret_value(body: &[u8]) -> Result<()> {
    SecretValue::parse(body).map(drop)
}

/// A 2xx KMS `GenerateDataKey` body for a key of `spec`.
pub fn kms_generate_data_key(body: &[u8], spec: KeySpec) -> Result<()> {
    DataKey::parse(body, spec).map(drop)
}

/// A 2xx KMS `Encrypt` body.
pub fn kms_encrypt(body: &[u8]) -> Result<()> {
    Encrypted::parse(body).map(drop)
}

/// A 2xx KMS `Decrypt` body, then its plaintext Base64-decoded as a data key.
pub fn kms_decrypt(body: &[u8]) -> Result<()> {
    Decrypted::parse(body)?
        .plaintext_bytes_from_base64()
        .map(drop)
}

/// A Nacos login answer (`status`, `body`) from `origin`.
pub fn nacos_login(status: u16, body: &[u8], origin: &str) -> Result<()> {
    let response = HttpResponse {
        status,
        body: body.to_vec(),
    };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    crate::nacos::login::parse_login(&response, origin, now, 0).map(drop)
}

/// A `process_command` split into words as the External provider splits it; `Err` is the message of
/// a command that cannot be split (it shows no part of the text).
pub fn external_command_words(text: &str) -> std::result::Result<Vec<String>, String> {
    crate::command_line::split(text).map_err(|e| e.to_string())
}

/// A `process_command` checked as the External provider's builder checks it (nothing is run).
pub fn external_command(text: &str) -> Result<()> {
    crate::ExternalProcessProvider::builder(text)
        .context(offline(""))
        .build_uncached()
        .map(drop)
}

/// The stdout of an External command.
pub fn external_output(stdout: &[u8]) -> Result<()> {
    crate::external_process::parse_output(stdout, "fuzz")
        .map(drop)
        .map_err(|problem| CredentialsError::provider("fuzz", problem))
}
