//! Our authenticated config cipher: AES-256-GCM with the wrapped data key carried inside the ciphertext,
//! for `cipher-gcm-…` configs.
//!
//! # Why another scheme
//! The MSE envelope ([`kms_aes`](super::kms_aes)) is AES-ECB without authentication, and it keeps its
//! data key in the config's `encryptedDataKey`, which some servers drop (rnacos 0.8.8 never stores it,
//! spec §G.3): such a config cannot be read back. This scheme
//! * encrypts with AES-256-GCM under a fresh 32-byte data key and a random 96-bit nonce per publish;
//! * authenticates the tenant, group and dataId with the content (additional authenticated data), so a
//!   ciphertext copied into another config fails to decrypt instead of silently yielding the wrong config;
//! * carries the wrapped data key and the id of the key that wrapped it inside the ciphertext, so it needs
//!   nothing from the server but the content (`encryptedDataKey` stays empty).
//!
//! # Format (version 1)
//! ```text
//! mseauth:v1:<standard Base64 with padding of:>
//!   version      u8     = 1
//!   key source   u8     = 1 KMS (wrapped key = the KMS CiphertextBlob, ASCII)
//!                         2 local key (wrapped key = nonce(12) ‖ AES-256-GCM(master key, data key) ‖ tag(16))
//!   key id len   u8     1..=255
//!   key id       UTF-8  KMS key id / alias / ARN, or the local key's name
//!   wrapped len  u16 BE 1..=65535
//!   wrapped key  bytes
//!   nonce        12 bytes
//!   ciphertext ‖ tag (16 bytes)
//! ```
//! Everything before the nonce is the *header*. The content's AAD is
//! `"mseauth:v1\0" ‖ header ‖ len32(tenant) ‖ tenant ‖ len32(group) ‖ group ‖ len32(dataId) ‖ dataId`
//! (lengths u32 big-endian), so changing any header byte (key id, wrapped key …) also fails
//! authentication. The local key wrap uses AAD `"mseauth:v1:local-wrap\0" ‖ len8(name) ‖ name`.
//! The default namespace is the same config whichever way a client names it: tenant `public` is
//! authenticated as the empty tenant, and an empty group as `DEFAULT_GROUP`.
//!
//! # Why the dataId prefix is `cipher-gcm-`
//! How other clients dispatch on a dataId (spec §C.0, §C.2):
//! * Java MSE extension and nacos-sdk-python: `startsWith` on `cipher-kms-aes-128`, `cipher-kms-aes-256`,
//!   then any `cipher-` ⇒ direct KMS. Go: needs the `cipher-` prefix, then the plugin name with the
//!   longest substring match, `cipher` ⇒ direct KMS.
//! * Open-source Nacos core: `cipher-<algorithm>-…`, plugin looked up by the second token (`gcm`); no
//!   such plugin ⇒ pass-through.
//!
//! So an MSE client (Java, Go, Python) reading a `cipher-gcm-` config calls KMS `Decrypt` on our
//! `mseauth:v1:` text, which is not a KMS blob: KMS refuses and the client's `getConfig` fails, loudly.
//! A plain Nacos client hands the `mseauth:v1:…` text to the application: visible, and never mistaken for
//! the plaintext. Going the other way, an MSE client *publishing* to a `cipher-gcm-` dataId still
//! encrypts (direct KMS), and our reader then refuses the result loudly ("not an mseauth ciphertext")
//! rather than falling back to KMS: a fallback would let anyone who can write the config swap in a
//! KMS ciphertext from another config, which is exactly what the AAD binding is there to stop.
//! A prefix outside `cipher-` (say `mseauth-gcm-`) would be worse: every other client would treat it as a
//! plain config and *publish plaintext* into it without a word. A prefix under `cipher-kms-aes-…` would be
//! misread as an envelope config. Avoid dataIds that also contain `cipher-kms-aes-128`/`-256` further on:
//! Go matches those substrings anywhere.
//!
//! # Example
//! ```
//! use mse_auth::cipher::gcm::{self, ConfigAad, LocalKey};
//!
//! let master = LocalKey::new("ops-2024", &[7u8; 32])?;
//! let aad = ConfigAad::new("prod", "DEFAULT_GROUP", "cipher-gcm-db.yaml");
//! let text = master.seal(&aad, "password: s3cret")?;
//! assert!(text.starts_with("mseauth:v1:"));
//!
//! // Read: parse first, learn how the data key was wrapped, unwrap it, then open.
//! let sealed = gcm::Sealed::parse(&text)?;
//! assert_eq!(sealed.wrapped_key().key_id, "ops-2024");
//! let data_key = master.unwrap(sealed.wrapped_key().wrapped)?;
//! assert_eq!(sealed.open(&data_key, &aad)?, "password: s3cret");
//!
//! // Moved to another config: refused.
//! let other = ConfigAad::new("prod", "DEFAULT_GROUP", "cipher-gcm-other.yaml");
//! assert!(sealed.open(&data_key, &other).is_err());
//! # Ok::<(), mse_auth::cipher::CipherError>(())
//! ```

use super::{utf8, CipherError, CipherErrorKind, B64};
use aes_gcm::aead::{rand_core::RngCore, Aead, AeadCore, AeadInPlace, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use std::fmt;
use std::ops::Range;
use zeroize::Zeroizing;

/// The dataId prefix of this scheme.
pub const DATA_ID_PREFIX: &str = "cipher-gcm-";
/// What every version-1 ciphertext starts with.
pub const TEXT_PREFIX: &str = "mseauth:v1:";

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const CONTENT_DOMAIN: &[u8] = b"mseauth:v1\0";
const WRAP_DOMAIN: &[u8] = b"mseauth:v1:local-wrap\0";
const LOCAL_WRAPPED_LEN: usize = NONCE_LEN + 32 + TAG_LEN;

/// How the data key of a ciphertext is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeySource {
    /// By KMS: the wrapped key is the `CiphertextBlob` of `GenerateDataKey`; KMS `Decrypt` unwraps it.
    Kms,
    /// By a local 32-byte master key ([`LocalKey`]), with AES-256-GCM.
    Local,
}

impl KeySource {
    fn byte(self) -> u8 {
        match self {
            KeySource::Kms => 1,
            KeySource::Local => 2,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(KeySource::Kms),
            2 => Some(KeySource::Local),
            _ => None,
        }
    }
}

/// A wrapped data key and what wrapped it: the part of the header a reader needs to get the data key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrappedKey<'a> {
    /// Who wrapped the data key.
    pub source: KeySource,
    /// The KMS key id (or alias, ARN), or the local key's name: 1 to 255 bytes.
    pub key_id: &'a str,
    /// The wrapped data key: 1 to 65,535 bytes. Not secret.
    pub wrapped: &'a [u8],
}

/// The config a ciphertext belongs to; authenticated with the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigAad<'a> {
    /// The namespace id; `""` and `"public"` are the same.
    pub tenant: &'a str,
    /// The group; `""` means `DEFAULT_GROUP`.
    pub group: &'a str,
    /// The dataId.
    pub data_id: &'a str,
}

impl<'a> ConfigAad<'a> {
    /// The config `data_id` in `group` of namespace `tenant`.
    pub fn new(tenant: &'a str, group: &'a str, data_id: &'a str) -> Self {
        Self {
            tenant,
            group,
            data_id,
        }
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        let tenant = if self.tenant == "public" {
            ""
        } else {
            self.tenant
        };
        let group = if self.group.is_empty() {
            "DEFAULT_GROUP"
        } else {
            self.group
        };
        for field in [tenant, group, self.data_id] {
            // Config names are far below 4 GiB; saturate rather than wrap if one were not.
            let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(field.as_bytes());
        }
    }
}

/// A fresh random AES-256 data key from the operating system's generator.
pub fn generate_data_key() -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(key.as_mut());
    key
}

/// Encrypts `content` under `data_key` for the config `aad`, with `key` (the wrapped data key and
/// what wrapped it) in the header. Returns the `mseauth:v1:` text.
pub fn seal(
    data_key: &[u8; 32],
    key: &WrappedKey<'_>,
    aad: &ConfigAad<'_>,
    content: &str,
) -> Result<String, CipherError> {
    let key_id_len = u8::try_from(key.key_id.len())
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            CipherError::new(
                CipherErrorKind::InvalidInput,
                format!(
                    "the key id is {} bytes long; it must be 1 to 255",
                    key.key_id.len()
                ),
            )
        })?;
    let wrapped_len = u16::try_from(key.wrapped.len())
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            CipherError::new(
                CipherErrorKind::InvalidInput,
                format!(
                    "the wrapped data key is {} bytes long; it must be 1 to 65535",
                    key.wrapped.len()
                ),
            )
        })?;

    let header_len = 3 + key.key_id.len() + 2 + key.wrapped.len();
    let mut blob = Vec::with_capacity(header_len + NONCE_LEN + content.len() + TAG_LEN);
    blob.push(VERSION);
    blob.push(key.source.byte());
    blob.push(key_id_len);
    blob.extend_from_slice(key.key_id.as_bytes());
    blob.extend_from_slice(&wrapped_len.to_be_bytes());
    blob.extend_from_slice(key.wrapped);

    let aad_bytes = content_aad(&blob, aad);
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    blob.extend_from_slice(&nonce);
    // Encrypt in place in the output buffer: no intermediate copy of the content.
    let start = blob.len();
    blob.extend_from_slice(content.as_bytes());
    let tag = Aes256Gcm::new(data_key.into())
        .encrypt_in_place_detached(&nonce, &aad_bytes, &mut blob[start..])
        .map_err(|_| {
            CipherError::new(
                CipherErrorKind::TooLarge,
                "the content is too large for AES-GCM",
            )
        })?;
    blob.extend_from_slice(&tag);

    let mut text = String::with_capacity(TEXT_PREFIX.len() + blob.len().div_ceil(3) * 4);
    text.push_str(TEXT_PREFIX);
    B64.encode_string(&blob, &mut text);
    Ok(text)
}

fn content_aad(header: &[u8], aad: &ConfigAad<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        CONTENT_DOMAIN.len()
            + header.len()
            + 12
            + aad.tenant.len()
            + aad.group.len()
            + aad.data_id.len()
            + 13,
    );
    out.extend_from_slice(CONTENT_DOMAIN);
    out.extend_from_slice(header);
    aad.encode_into(&mut out);
    out
}

/// A parsed `mseauth:v1:` ciphertext: its header can be read before the data key is known.
#[derive(Clone)]
pub struct Sealed {
    blob: Vec<u8>,
    source: KeySource,
    key_id: Range<usize>,
    wrapped: Range<usize>,
    header_end: usize,
}

impl Sealed {
    /// Parses the text (surrounding ASCII whitespace ignored). Checks the format, not the
    /// authenticity: that happens in [`open`](Self::open).
    pub fn parse(text: &str) -> Result<Self, CipherError> {
        let text = text.trim_ascii();
        let Some(rest) = text.strip_prefix("mseauth:") else {
            return Err(CipherError::encoding(
                "not an mseauth ciphertext: a cipher-gcm- config must start with `mseauth:v1:` \
                 (was it written by another client, or stored in clear?)",
            ));
        };
        let Some(b64) = rest.strip_prefix("v1:") else {
            return Err(CipherError::new(
                CipherErrorKind::UnsupportedVersion,
                "unknown mseauth ciphertext version: this library reads mseauth:v1",
            ));
        };
        let blob = B64
            .decode(b64)
            .map_err(|_| CipherError::encoding("the mseauth:v1 ciphertext is not valid Base64"))?;
        Self::from_blob(blob)
    }

    fn from_blob(blob: Vec<u8>) -> Result<Self, CipherError> {
        let truncated = || CipherError::truncated("the mseauth:v1 ciphertext is truncated");
        let (&version, _) = blob.split_first().ok_or_else(truncated)?;
        if version != VERSION {
            return Err(CipherError::new(
                CipherErrorKind::UnsupportedVersion,
                format!(
                    "unknown mseauth ciphertext format version {version}: this library reads 1"
                ),
            ));
        }
        let source_byte = *blob.get(1).ok_or_else(truncated)?;
        let source = KeySource::from_byte(source_byte).ok_or_else(|| {
            CipherError::new(
                CipherErrorKind::UnsupportedVersion,
                format!("unknown key source {source_byte} in the mseauth:v1 header"),
            )
        })?;
        let key_id_len = usize::from(*blob.get(2).ok_or_else(truncated)?);
        if key_id_len == 0 {
            return Err(CipherError::encoding(
                "the mseauth:v1 header is malformed: empty key id",
            ));
        }
        let key_id = 3..3 + key_id_len;
        let len_at = key_id.end;
        let wrapped_len = blob
            .get(len_at..len_at + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or_else(truncated)?;
        if wrapped_len == 0 {
            return Err(CipherError::encoding(
                "the mseauth:v1 header is malformed: empty wrapped data key",
            ));
        }
        let wrapped = len_at + 2..len_at + 2 + wrapped_len;
        let header_end = wrapped.end;
        if blob.len() < header_end + NONCE_LEN + TAG_LEN {
            return Err(truncated());
        }
        if std::str::from_utf8(&blob[key_id.clone()]).is_err() {
            return Err(CipherError::encoding(
                "the mseauth:v1 header is malformed: the key id is not UTF-8",
            ));
        }
        Ok(Self {
            blob,
            source,
            key_id,
            wrapped,
            header_end,
        })
    }

    /// The wrapped data key and what wrapped it.
    pub fn wrapped_key(&self) -> WrappedKey<'_> {
        WrappedKey {
            source: self.source,
            // Checked in `from_blob`.
            key_id: std::str::from_utf8(&self.blob[self.key_id.clone()]).unwrap_or_default(),
            wrapped: &self.blob[self.wrapped.clone()],
        }
    }

    /// Decrypts and authenticates the content with the unwrapped `data_key`, for the config `aad`.
    pub fn open(&self, data_key: &[u8; 32], aad: &ConfigAad<'_>) -> Result<String, CipherError> {
        let (header, rest) = self.blob.split_at(self.header_end);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let aad_bytes = content_aad(header, aad);
        let plain = Aes256Gcm::new(data_key.into())
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad_bytes,
                },
            )
            .map_err(|_| CipherError::authentication_failed())?;
        utf8(Zeroizing::new(plain))
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.wrapped_key();
        f.debug_struct("Sealed")
            .field("source", &key.source)
            .field("key_id", &key.key_id)
            .field("wrapped_len", &key.wrapped.len())
            .field(
                "ciphertext_len",
                &(self.blob.len() - self.header_end - NONCE_LEN),
            )
            .finish()
    }
}

/// A local 32-byte master key with a name, for GCM configs without KMS. It wraps each config's data key
/// with AES-256-GCM; its name goes into the ciphertext as the key id. Wiped from memory on drop;
/// `Debug` shows only the name.
#[derive(Clone)]
pub struct LocalKey {
    name: String,
    key: Zeroizing<[u8; 32]>,
}

impl LocalKey {
    /// A master key named `name` (1 to 255 bytes) from 32 raw bytes.
    pub fn new(name: impl Into<String>, key: &[u8]) -> Result<Self, CipherError> {
        let name = name.into();
        if name.is_empty() || name.len() > 255 {
            return Err(CipherError::new(
                CipherErrorKind::InvalidInput,
                format!(
                    "the local key name is {} bytes long; it must be 1 to 255",
                    name.len()
                ),
            ));
        }
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| CipherError::key_length("the local master key", key.len(), "32"))?;
        Ok(Self {
            name,
            key: Zeroizing::new(key),
        })
    }

    /// A master key from its standard Base64 form (44 characters).
    pub fn from_base64(name: impl Into<String>, key_b64: &str) -> Result<Self, CipherError> {
        let key = Zeroizing::new(super::b64_decode("the local master key", key_b64)?);
        Self::new(name, &key)
    }

    /// A fresh random master key named `name`.
    pub fn generate(name: impl Into<String>) -> Result<Self, CipherError> {
        Self::new(name, generate_data_key().as_ref())
    }

    /// The name, stored as the key id of what it seals.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key in standard Base64, to store it somewhere safe. Handle with care.
    pub fn expose_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(B64.encode(self.key.as_ref()))
    }

    fn wrap_aad(&self) -> Vec<u8> {
        let mut aad = Vec::with_capacity(WRAP_DOMAIN.len() + 1 + self.name.len());
        aad.extend_from_slice(WRAP_DOMAIN);
        aad.push(self.name.len() as u8); // checked ≤ 255 in `new`
        aad.extend_from_slice(self.name.as_bytes());
        aad
    }

    /// Wraps a data key: `nonce ‖ AES-256-GCM(master key, data key) ‖ tag`, 60 bytes.
    pub fn wrap(&self, data_key: &[u8; 32]) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = self.wrap_aad();
        let sealed = Aes256Gcm::new(self.key.as_ref().into())
            .encrypt(
                &nonce,
                Payload {
                    msg: data_key,
                    aad: &aad,
                },
            )
            .expect("AES-GCM encrypts 32 bytes");
        let mut out = Vec::with_capacity(LOCAL_WRAPPED_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Unwraps a data key wrapped by [`wrap`](Self::wrap) with this key.
    pub fn unwrap(&self, wrapped: &[u8]) -> Result<Zeroizing<[u8; 32]>, CipherError> {
        if wrapped.len() != LOCAL_WRAPPED_LEN {
            return Err(CipherError::truncated(format!(
                "the locally wrapped data key is {} bytes long; expected {LOCAL_WRAPPED_LEN}",
                wrapped.len()
            )));
        }
        let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
        let aad = self.wrap_aad();
        let plain = Zeroizing::new(
            Aes256Gcm::new(self.key.as_ref().into())
                .decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: sealed,
                        aad: &aad,
                    },
                )
                .map_err(|_| {
                    CipherError::new(
                        CipherErrorKind::AuthenticationFailed,
                        format!(
                            "the data key does not unwrap with local key {:?}: a different key \
                             under the same name, or a tampered ciphertext",
                            self.name
                        ),
                    )
                })?,
        );
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&plain);
        Ok(key)
    }

    /// Seals `content` for `aad` under a fresh data key wrapped with this master key.
    pub fn seal(&self, aad: &ConfigAad<'_>, content: &str) -> Result<String, CipherError> {
        let data_key = generate_data_key();
        let wrapped = self.wrap(&data_key);
        seal(
            &data_key,
            &WrappedKey {
                source: KeySource::Local,
                key_id: &self.name,
                wrapped: &wrapped,
            },
            aad,
            content,
        )
    }

    /// Opens a ciphertext sealed with [`seal`](Self::seal) by a key of this name.
    pub fn open(&self, text: &str, aad: &ConfigAad<'_>) -> Result<String, CipherError> {
        let sealed = Sealed::parse(text)?;
        let data_key = self.unwrap_for(&sealed)?;
        sealed.open(&data_key, aad)
    }

    /// The data key of `sealed`, after checking it was wrapped locally under this key's name.
    pub fn unwrap_for(&self, sealed: &Sealed) -> Result<Zeroizing<[u8; 32]>, CipherError> {
        let key = sealed.wrapped_key();
        if key.source != KeySource::Local {
            return Err(CipherError::new(
                CipherErrorKind::NotConfigured,
                "the data key of this ciphertext is wrapped by KMS, not by a local key",
            ));
        }
        if key.key_id != self.name {
            return Err(CipherError::new(
                CipherErrorKind::NotConfigured,
                format!(
                    "the data key was wrapped with local key {:?}, but this cipher has {:?}",
                    key.key_id, self.name
                ),
            ));
        }
        self.unwrap(key.wrapped)
    }
}

impl fmt::Debug for LocalKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [0x11; 32];
    const AAD: ConfigAad<'static> = ConfigAad {
        tenant: "prod",
        group: "DEFAULT_GROUP",
        data_id: "cipher-gcm-db.yaml",
    };

    fn kms_key() -> WrappedKey<'static> {
        WrappedKey {
            source: KeySource::Kms,
            key_id: "alias/acs/mse",
            wrapped: b"S01TQ2lwaGVydGV4dEJsb2I=",
        }
    }

    fn blob_of(text: &str) -> Vec<u8> {
        B64.decode(text.strip_prefix(TEXT_PREFIX).unwrap()).unwrap()
    }

    fn text_of(blob: &[u8]) -> String {
        format!("{TEXT_PREFIX}{}", B64.encode(blob))
    }

    #[test]
    fn layout_matches_the_documented_format() {
        let text = seal(&KEY, &kms_key(), &AAD, "abc").unwrap();
        let blob = blob_of(&text);
        let id = b"alias/acs/mse";
        let wrapped = b"S01TQ2lwaGVydGV4dEJsb2I=";
        assert_eq!(blob[0], 1, "version");
        assert_eq!(blob[1], 1, "key source KMS");
        assert_eq!(usize::from(blob[2]), id.len());
        assert_eq!(&blob[3..3 + id.len()], id);
        let at = 3 + id.len();
        assert_eq!(
            usize::from(u16::from_be_bytes([blob[at], blob[at + 1]])),
            wrapped.len()
        );
        assert_eq!(&blob[at + 2..at + 2 + wrapped.len()], wrapped);
        let header_end = at + 2 + wrapped.len();
        assert_eq!(blob.len(), header_end + NONCE_LEN + 3 + TAG_LEN);

        // Reproduce the ciphertext from the documented AAD with the raw AEAD.
        let nonce = &blob[header_end..header_end + NONCE_LEN];
        let mut aad = b"mseauth:v1\0".to_vec();
        aad.extend_from_slice(&blob[..header_end]);
        for f in ["prod", "DEFAULT_GROUP", "cipher-gcm-db.yaml"] {
            aad.extend_from_slice(&(f.len() as u32).to_be_bytes());
            aad.extend_from_slice(f.as_bytes());
        }
        let plain = Aes256Gcm::new((&KEY).into())
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: &blob[header_end + NONCE_LEN..],
                    aad: &aad,
                },
            )
            .unwrap();
        assert_eq!(plain, b"abc");
    }

    #[test]
    fn round_trips_and_exposes_the_header() {
        for content in ["", "x", "配置🔐", &"y".repeat(50 * 1024)] {
            let text = seal(&KEY, &kms_key(), &AAD, content).unwrap();
            let sealed = Sealed::parse(&text).unwrap();
            assert_eq!(sealed.wrapped_key(), kms_key());
            assert_eq!(sealed.open(&KEY, &AAD).unwrap(), content);
        }
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let a = seal(&KEY, &kms_key(), &AAD, "same").unwrap();
        let b = seal(&KEY, &kms_key(), &AAD, "same").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn default_namespace_and_group_spellings_are_the_same_config() {
        let text = seal(
            &KEY,
            &kms_key(),
            &ConfigAad::new("", "", "cipher-gcm-a"),
            "v",
        )
        .unwrap();
        let sealed = Sealed::parse(&text).unwrap();
        let same = ConfigAad::new("public", "DEFAULT_GROUP", "cipher-gcm-a");
        assert_eq!(sealed.open(&KEY, &same).unwrap(), "v");
    }

    #[test]
    fn aad_fields_cannot_be_shifted_into_each_other() {
        let text = seal(
            &KEY,
            &kms_key(),
            &ConfigAad::new("ab", "c", "cipher-gcm-x"),
            "v",
        )
        .unwrap();
        let sealed = Sealed::parse(&text).unwrap();
        let shifted = ConfigAad::new("a", "bc", "cipher-gcm-x");
        let err = sealed.open(&KEY, &shifted).unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::AuthenticationFailed);
    }

    #[test]
    fn wrong_key_fails_authentication() {
        let text = seal(&KEY, &kms_key(), &AAD, "secret-value").unwrap();
        let err = Sealed::parse(&text)
            .unwrap()
            .open(&[0x12; 32], &AAD)
            .unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::AuthenticationFailed);
        assert_eq!(
            err.to_string(),
            "authentication failed: the ciphertext was tampered with, the key is wrong, \
             or it belongs to another config (tenant, group or dataId)"
        );
        assert!(!err.to_string().contains("secret-value"));
    }

    #[test]
    fn bad_texts_give_clear_errors() {
        let cases: [(&str, CipherErrorKind, &str); 5] = [
            (
                "password: s3cret",
                CipherErrorKind::InvalidEncoding,
                "not an mseauth ciphertext: a cipher-gcm- config must start with `mseauth:v1:` \
                 (was it written by another client, or stored in clear?)",
            ),
            (
                "mseauth:v2:AAAA",
                CipherErrorKind::UnsupportedVersion,
                "unknown mseauth ciphertext version: this library reads mseauth:v1",
            ),
            (
                "mseauth:v1:***",
                CipherErrorKind::InvalidEncoding,
                "the mseauth:v1 ciphertext is not valid Base64",
            ),
            (
                "mseauth:v1:",
                CipherErrorKind::Truncated,
                "the mseauth:v1 ciphertext is truncated",
            ),
            (
                "mseauth:v1:AgE=",
                CipherErrorKind::UnsupportedVersion,
                "unknown mseauth ciphertext format version 2: this library reads 1",
            ),
        ];
        for (text, kind, message) in cases {
            let err = Sealed::parse(text).unwrap_err();
            assert_eq!(err.kind(), kind, "{text}");
            assert_eq!(err.to_string(), message, "{text}");
        }
        let err = Sealed::parse(&text_of(&[1, 9, 1, b'k'])).unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::UnsupportedVersion);
        assert_eq!(
            err.to_string(),
            "unknown key source 9 in the mseauth:v1 header"
        );
        let err = Sealed::parse(&text_of(&[1, 1, 0, 0])).unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::InvalidEncoding);
        assert_eq!(
            err.to_string(),
            "the mseauth:v1 header is malformed: empty key id"
        );
        let err = Sealed::parse(&text_of(&[1, 1, 1, b'k', 0, 0])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the mseauth:v1 header is malformed: empty wrapped data key"
        );
        let mut blob = vec![1, 1, 1, 0xff, 0, 1, 7];
        blob.extend_from_slice(&[0; NONCE_LEN + TAG_LEN]);
        let err = Sealed::parse(&text_of(&blob)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the mseauth:v1 header is malformed: the key id is not UTF-8"
        );
    }

    #[test]
    fn every_truncation_is_refused() {
        let text = seal(&KEY, &kms_key(), &AAD, "truncate me").unwrap();
        let blob = blob_of(&text);
        for len in 0..blob.len() {
            let err = match Sealed::parse(&text_of(&blob[..len])) {
                Err(err) => err,
                Ok(sealed) => sealed.open(&KEY, &AAD).unwrap_err(),
            };
            assert!(
                matches!(
                    err.kind(),
                    CipherErrorKind::Truncated | CipherErrorKind::AuthenticationFailed
                ),
                "{len}: {err}"
            );
        }
    }

    #[test]
    fn seal_refuses_unusable_key_ids_and_wrapped_keys() {
        let long = "k".repeat(256);
        let mut key = kms_key();
        key.key_id = &long;
        let err = seal(&KEY, &key, &AAD, "v").unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::InvalidInput);
        assert_eq!(
            err.to_string(),
            "the key id is 256 bytes long; it must be 1 to 255"
        );
        let mut key = kms_key();
        key.wrapped = b"";
        let err = seal(&KEY, &key, &AAD, "v").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the wrapped data key is 0 bytes long; it must be 1 to 65535"
        );
    }

    #[test]
    fn local_key_wraps_seals_and_checks_its_name() {
        let master = LocalKey::new("ops", &[3; 32]).unwrap();
        let text = master.seal(&AAD, "配置🔐").unwrap();
        assert_eq!(master.open(&text, &AAD).unwrap(), "配置🔐");
        let sealed = Sealed::parse(&text).unwrap();
        assert_eq!(sealed.wrapped_key().source, KeySource::Local);
        assert_eq!(sealed.wrapped_key().wrapped.len(), LOCAL_WRAPPED_LEN);

        let other_name = LocalKey::new("dev", &[3; 32]).unwrap();
        let err = other_name.open(&text, &AAD).unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::NotConfigured);
        assert_eq!(
            err.to_string(),
            "the data key was wrapped with local key \"ops\", but this cipher has \"dev\""
        );

        let same_name_other_key = LocalKey::new("ops", &[4; 32]).unwrap();
        let err = same_name_other_key.open(&text, &AAD).unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::AuthenticationFailed);
        assert_eq!(
            err.to_string(),
            "the data key does not unwrap with local key \"ops\": a different key under the same \
             name, or a tampered ciphertext"
        );

        let kms_text = seal(&KEY, &kms_key(), &AAD, "v").unwrap();
        let err = master.open(&kms_text, &AAD).unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::NotConfigured);
        assert_eq!(
            err.to_string(),
            "the data key of this ciphertext is wrapped by KMS, not by a local key"
        );

        let err = master.unwrap(&[0; 10]).unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::Truncated);
        assert_eq!(
            err.to_string(),
            "the locally wrapped data key is 10 bytes long; expected 60"
        );
    }

    #[test]
    fn local_key_construction_is_checked_and_debug_hides_the_key() {
        let err = LocalKey::new("ops", &[0; 16]).unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::InvalidKeyLength);
        assert_eq!(
            err.to_string(),
            "the local master key is 16 bytes long; expected 32"
        );
        let err = LocalKey::new("", &[0; 32]).unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::InvalidInput);
        assert_eq!(
            err.to_string(),
            "the local key name is 0 bytes long; it must be 1 to 255"
        );
        let key = LocalKey::generate("ops").unwrap();
        let again = LocalKey::from_base64("ops", &key.expose_base64()).unwrap();
        let text = key.seal(&AAD, "v").unwrap();
        assert_eq!(again.open(&text, &AAD).unwrap(), "v");
        let debug = format!("{key:?}");
        assert_eq!(debug, "LocalKey { name: \"ops\", .. }");
        assert!(!debug.contains(key.expose_base64().as_str()));

        let sealed = Sealed::parse(&text).unwrap();
        assert_eq!(
            format!("{sealed:?}"),
            "Sealed { source: Local, key_id: \"ops\", wrapped_len: 60, ciphertext_len: 17 }"
        );
    }
}
