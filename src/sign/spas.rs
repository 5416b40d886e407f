//! Nacos AccessKey request signing ("Spas"), v1 and v4, as the Java client does it (spec §B.4–B.7; where
//! the official clients disagree, the Java rules: spec §G.1).
//!
//! A config request carries `Spas-AccessKey`, `Timestamp` (epoch milliseconds), `Spas-Signature` =
//! Base64(HMAC-SHA1(signing key, `resource + "+" + timestamp`)), plus `Spas-SecurityToken` for STS
//! credentials and `signatureVersion: v4` when a signing region is set. A naming request carries `ak`,
//! `data` = `timestamp@@group@@service` and `signature`. With a region, the signing key is the v4 key
//! derived from the secret, the UTC date, the region and a product code (default `mse-nacos`).
//! The names are spelled exactly so: gRPC header maps are case-sensitive.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use mse_auth::sign::spas::{config_identity, SpasOptions};
//! use mse_auth::Credentials;
//!
//! let creds = Credentials::new("LTAI5tNacosKey", "testSecretKey", "static_ak")?;
//! let now = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_000);
//! let identity = config_identity(&creds, &SpasOptions::default(), "public-ns", "DEFAULT_GROUP", now);
//! assert_eq!(identity.get("Spas-AccessKey"), Some("LTAI5tNacosKey"));
//! assert_eq!(identity.get("Timestamp"), Some("1700000000000"));
//! assert_eq!(identity.get("Spas-Signature"), Some("M94BteNZnXlyatO/bgdd4tIe7xg="));
//! assert!(!format!("{identity:?}").contains("M94Bte")); // Debug hides signatures and tokens
//! # Ok::<(), mse_auth::CredentialsError>(())
//! ```

use crate::credentials::Credentials;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;
use std::borrow::Cow;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

/// The product code of the v4 key derivation used by the Java client and MSE (Go uses `mse`).
pub const DEFAULT_PRODUCT: &str = "mse-nacos";

/// Header names, exactly as the Java client spells them.
pub mod names {
    /// Config: the AccessKey id.
    pub const ACCESS_KEY: &str = "Spas-AccessKey";
    /// Config: epoch milliseconds.
    pub const TIMESTAMP: &str = "Timestamp";
    /// Config: the signature.
    pub const SIGNATURE: &str = "Spas-Signature";
    /// Config and naming: the STS security token.
    pub const SECURITY_TOKEN: &str = "Spas-SecurityToken";
    /// Config and naming: `v4` when the key is derived with a region.
    pub const SIGNATURE_VERSION: &str = "signatureVersion";
    /// Naming: the AccessKey id.
    pub const NAMING_ACCESS_KEY: &str = "ak";
    /// Naming: the signed data.
    pub const NAMING_DATA: &str = "data";
    /// Naming: the signature.
    pub const NAMING_SIGNATURE: &str = "signature";
}

/// Signing settings: the v4 region (none = v1) and product code.
#[derive(Debug, Clone)]
pub struct SpasOptions {
    region_id: Option<String>,
    product: Cow<'static, str>,
}

impl Default for SpasOptions {
    fn default() -> Self {
        Self {
            region_id: None,
            product: Cow::Borrowed(DEFAULT_PRODUCT),
        }
    }
}

impl SpasOptions {
    /// v4 signing for `region_id` (e.g. `cn-hangzhou`); an empty region means v1.
    pub fn region(mut self, region_id: impl Into<String>) -> Self {
        self.region_id = Some(region_id.into()).filter(|r| !r.is_empty());
        self
    }

    /// The v4 product code (default [`DEFAULT_PRODUCT`]).
    pub fn product(mut self, product: impl Into<Cow<'static, str>>) -> Self {
        self.product = product.into();
        self
    }

    /// The v4 region, if any.
    pub fn region_id(&self) -> Option<&str> {
        self.region_id.as_deref()
    }
}

/// The string whose UTF-8 bytes key the HMAC-SHA1: the secret (v1) or the Base64 v4 key. Wiped on drop;
/// `Debug` hides it.
pub struct SigningKey(Zeroizing<String>);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(** redacted **)")
    }
}

impl SigningKey {
    /// v1: the secret itself.
    pub fn v1(secret: &str) -> Self {
        Self(Zeroizing::new(secret.to_string()))
    }

    /// v4: Base64 of HMAC-SHA256 chained over `date` (`yyyyMMdd`, UTC), region, product and
    /// `aliyun_v4_request`, starting from the key `"aliyun_v4" + secret` (spec §B.6).
    pub fn v4(secret: &str, date: &str, region_id: &str, product: &str) -> Self {
        let first = Zeroizing::new(format!("aliyun_v4{secret}"));
        let mut key = hmac_sha256(first.as_bytes(), date.as_bytes());
        for part in [region_id, product, "aliyun_v4_request"] {
            key = hmac_sha256(&key, part.as_bytes());
        }
        Self(Zeroizing::new(STANDARD.encode(&*key)))
    }

    /// The key for `secret` under `options` at `now` (v4 when a region is set).
    pub fn new(secret: &str, options: &SpasOptions, now: SystemTime) -> Self {
        match options.region_id() {
            None => Self::v1(secret),
            Some(region) => Self::v4(secret, &utc_date(now), region, &options.product),
        }
    }

    /// Base64(HMAC-SHA1(key, data)).
    pub fn sign(&self, data: &str) -> String {
        let mut mac = <Hmac<Sha1>>::new_from_slice(self.0.as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(data.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut mac = <Hmac<Sha256>>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(msg);
    Zeroizing::new(mac.finalize().into_bytes().to_vec())
}

/// `yyyyMMdd` of `now` in UTC.
fn utc_date(now: SystemTime) -> String {
    let date = time::OffsetDateTime::from(now).date();
    format!(
        "{:04}{:02}{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

fn millis(now: SystemTime) -> u128 {
    now.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

/// The signed resource of a config request (Java ≥ 3.0.2): `tenant+group`, `group`, `tenant+` or "".
pub fn config_resource(tenant: &str, group: &str) -> String {
    match (tenant.trim().is_empty(), group.trim().is_empty()) {
        (true, true) => String::new(),
        (true, false) => group.to_string(),
        (false, _) => format!("{tenant}+{group}"),
    }
}

/// The signed data of a naming request: `timestamp@@groupedServiceName`, or the bare timestamp without a
/// service. The service is grouped as `group@@service` unless it already contains `@@` or the group is
/// blank (Java `NamingUtils.getGroupedNameOptional`).
pub fn naming_data(timestamp_ms: u128, service_name: &str, group: &str) -> String {
    if service_name.is_empty() {
        return timestamp_ms.to_string();
    }
    if service_name.contains("@@") || group.trim().is_empty() {
        format!("{timestamp_ms}@@{service_name}")
    } else {
        format!("{timestamp_ms}@@{group}@@{service_name}")
    }
}

/// An ordered set of identity entries (header or gRPC map entries). `Debug` shows the names and the
/// AccessKey id, never a signature or token.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Identity(Vec<(&'static str, String)>);

impl Identity {
    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// All entries, in order.
    pub fn entries(&self) -> &[(&'static str, String)] {
        &self.0
    }

    /// `true` when there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn push(&mut self, name: &'static str, value: String) {
        self.0.push((name, value));
    }
}

impl IntoIterator for Identity {
    type Item = (&'static str, String);
    type IntoIter = std::vec::IntoIter<(&'static str, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |(name, value): &(&'static str, String)| match *name {
            names::ACCESS_KEY
            | names::NAMING_ACCESS_KEY
            | names::TIMESTAMP
            | names::NAMING_DATA
            | names::SIGNATURE_VERSION => (*name, value.clone()),
            _ => (*name, "** redacted **".to_string()),
        };
        f.debug_map().entries(self.0.iter().map(shown)).finish()
    }
}

fn common(identity: &mut Identity, credentials: &Credentials, options: &SpasOptions) {
    if let Some(token) = credentials.security_token() {
        identity.push(names::SECURITY_TOKEN, token.to_string());
    }
    if options.region_id().is_some() {
        identity.push(names::SIGNATURE_VERSION, "v4".to_string());
    }
}

/// The identity of a config request for `tenant` (namespace) and `group` at `now` (spec §B.4).
pub fn config_identity(
    credentials: &Credentials,
    options: &SpasOptions,
    tenant: &str,
    group: &str,
    now: SystemTime,
) -> Identity {
    let mut identity = Identity::default();
    common(&mut identity, credentials, options);
    let timestamp = millis(now).to_string();
    let resource = config_resource(tenant, group);
    let data = if resource.is_empty() {
        timestamp.clone()
    } else {
        format!("{resource}+{timestamp}")
    };
    let key = SigningKey::new(credentials.access_key_secret(), options, now);
    identity.push(names::ACCESS_KEY, credentials.access_key_id().to_string());
    identity.push(names::TIMESTAMP, timestamp);
    identity.push(names::SIGNATURE, key.sign(&data));
    identity
}

/// The identity of a naming request for `service_name` in `group` at `now` (spec §B.5).
pub fn naming_identity(
    credentials: &Credentials,
    options: &SpasOptions,
    service_name: &str,
    group: &str,
    now: SystemTime,
) -> Identity {
    let mut identity = Identity::default();
    common(&mut identity, credentials, options);
    let data = naming_data(millis(now), service_name, group);
    let key = SigningKey::new(credentials.access_key_secret(), options, now);
    identity.push(names::NAMING_SIGNATURE, key.sign(&data));
    identity.push(names::NAMING_DATA, data);
    identity.push(
        names::NAMING_ACCESS_KEY,
        credentials.access_key_id().to_string(),
    );
    identity
}

#[cfg(test)]
mod tests {
    //! Vectors: spec §B.7 (computed with Python hmac/hashlib, reproduced by nacos-sdk-python and npm
    //! nacos per §G.1) and §G.1 (the blank-group naming vector).
    use super::*;
    use std::time::Duration;

    const SK: &str = "testSecretKey";
    const TS: u64 = 1_700_000_000_000;

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    fn creds(token: Option<&str>) -> Credentials {
        let b = Credentials::builder()
            .access_key_id("LTAI5tNacos")
            .access_key_secret(SK);
        match token {
            Some(t) => b.security_token(t),
            None => b,
        }
        .build()
        .unwrap()
    }

    #[test]
    fn config_signatures_match_the_spec_vectors() {
        let key = SigningKey::v1(SK);
        assert_eq!(
            key.sign("public-ns+DEFAULT_GROUP+1700000000000"),
            "M94BteNZnXlyatO/bgdd4tIe7xg="
        );
        assert_eq!(
            key.sign("DEFAULT_GROUP+1700000000000"),
            "9hagMjeuVp9Xgs7ynJWed1ATjjU="
        );
        assert_eq!(key.sign("1700000000000"), "h+T9jQUl+nAlNWnixWaJ8pS6n5o=");
        let c = creds(None);
        let o = SpasOptions::default();
        let id = config_identity(&c, &o, "", "DEFAULT_GROUP", at(TS));
        assert_eq!(
            id.get(names::SIGNATURE),
            Some("9hagMjeuVp9Xgs7ynJWed1ATjjU=")
        );
        let id = config_identity(&c, &o, "", "", at(TS));
        assert_eq!(
            id.get(names::SIGNATURE),
            Some("h+T9jQUl+nAlNWnixWaJ8pS6n5o=")
        );
        assert_eq!(id.get(names::SECURITY_TOKEN), None);
        assert_eq!(id.get(names::SIGNATURE_VERSION), None);
    }

    #[test]
    fn naming_signatures_match_the_spec_vectors() {
        assert_eq!(
            naming_data(u128::from(TS), "svc", "DEFAULT_GROUP"),
            "1700000000000@@DEFAULT_GROUP@@svc"
        );
        assert_eq!(naming_data(u128::from(TS), "svc", ""), "1700000000000@@svc");
        assert_eq!(
            naming_data(u128::from(TS), "G@@svc", "DEFAULT_GROUP"),
            "1700000000000@@G@@svc"
        );
        assert_eq!(
            naming_data(u128::from(TS), "", "DEFAULT_GROUP"),
            "1700000000000"
        );
        let id = naming_identity(
            &creds(None),
            &SpasOptions::default(),
            "svc",
            "DEFAULT_GROUP",
            at(TS),
        );
        assert_eq!(
            id.get(names::NAMING_SIGNATURE),
            Some("FOs8upgdj/4BGiqjBfSo+lJZnis=")
        );
        assert_eq!(
            id.get(names::NAMING_DATA),
            Some("1700000000000@@DEFAULT_GROUP@@svc")
        );
        assert_eq!(id.get(names::NAMING_ACCESS_KEY), Some("LTAI5tNacos"));
        let id = naming_identity(&creds(None), &SpasOptions::default(), "svc", "", at(TS));
        assert_eq!(
            id.get(names::NAMING_SIGNATURE),
            Some("5+Z8mEz0+6c75PLErfm2F3pEurQ=")
        );
    }

    #[test]
    fn v4_keys_and_signatures_match_the_spec_vectors() {
        let key = SigningKey::v4(SK, "20240101", "cn-hangzhou", "mse-nacos");
        assert_eq!(
            key.0.as_str(),
            "kLvW8fy5auwaAT7tR8jnmrtiseaTKv+FjL7FOx2xB5g="
        );
        assert_eq!(
            key.sign("public-ns+DEFAULT_GROUP+1700000000000"),
            "uOFZt0jaO8BXCFPa17PilkoFlT0="
        );
        let go = SigningKey::v4(SK, "20240101", "cn-hangzhou", "mse");
        assert_eq!(
            go.0.as_str(),
            "kkag9DuRYjFnxYeY2ebXO31XvX2CdZ5VgXmEmEqFfPk="
        );
        // Through the identity: the date comes from `now` (2024-01-01T12:00:00Z).
        let noon = at(1_704_110_400_000);
        let o = SpasOptions::default().region("cn-hangzhou");
        let id = config_identity(&creds(None), &o, "public-ns", "DEFAULT_GROUP", noon);
        let expected = key.sign("public-ns+DEFAULT_GROUP+1704110400000");
        assert_eq!(id.get(names::SIGNATURE), Some(expected.as_str()));
        assert_eq!(id.get(names::SIGNATURE_VERSION), Some("v4"));
        let id = config_identity(
            &creds(None),
            &o.product("mse"),
            "public-ns",
            "DEFAULT_GROUP",
            noon,
        );
        assert_eq!(
            id.get(names::SIGNATURE),
            Some(go.sign("public-ns+DEFAULT_GROUP+1704110400000").as_str())
        );
    }

    #[test]
    fn resource_rule_follows_java() {
        assert_eq!(config_resource("", ""), "");
        assert_eq!(config_resource("", "G"), "G");
        assert_eq!(config_resource("ns", "G"), "ns+G");
        assert_eq!(config_resource("ns", ""), "ns+");
        assert_eq!(config_resource("  ", "G"), "G");
    }

    #[test]
    fn sts_credentials_add_the_token_and_names_are_spelled_exactly() {
        let id = config_identity(
            &creds(Some("sentinel-token")),
            &SpasOptions::default().region("cn-hangzhou"),
            "ns",
            "G",
            at(TS),
        );
        let names: Vec<&str> = id.entries().iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "Spas-SecurityToken",
                "signatureVersion",
                "Spas-AccessKey",
                "Timestamp",
                "Spas-Signature"
            ]
        );
        assert_eq!(id.get("Spas-SecurityToken"), Some("sentinel-token"));
        let shown = format!("{id:?}");
        assert!(!shown.contains("sentinel-token"), "{shown}");
        assert!(
            !shown.contains(id.get(names::SIGNATURE).unwrap()),
            "{shown}"
        );
        assert!(shown.contains("LTAI5tNacos"), "{shown}");
        let id = naming_identity(
            &creds(Some("sentinel-token")),
            &SpasOptions::default(),
            "svc",
            "G",
            at(TS),
        );
        let names: Vec<&str> = id.entries().iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["Spas-SecurityToken", "signature", "data", "ak"]);
        assert!(!format!("{:?}", SigningKey::v1(SK)).contains(SK));
    }

    #[test]
    fn empty_region_means_v1() {
        let o = SpasOptions::default().region("");
        assert_eq!(o.region_id(), None);
    }
}
