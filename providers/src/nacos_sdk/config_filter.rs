//! [`MseConfigFilter`]: nacos-sdk's `ConfigFilter` on a [`ConfigCipher`].
//!
//! On publish it encrypts the content of a `cipher-…` dataId and sets the request's `encryptedDataKey`
//! (empty for schemes without one); on read and on listener notifications it decrypts with the
//! `encryptedDataKey` the server returned. Other dataIds and blank contents pass through untouched
//! (spec §C.0, §G.2), and so does anything an earlier filter wrote.
//!
//! The trait is `async` in nacos-sdk 0.8.3, so the cipher (and KMS) is awaited directly: no bridge, no
//! blocking of a runtime worker. Unwrapped KMS data keys are cached by the cipher, so reading the same
//! config again does not call KMS.
//!
//! # When it fails
//!
//! nacos-sdk's filter cannot return an error. A failure is logged once, at `warn`, with the dataId,
//! group, namespace and the [`CipherError`]'s kind and message (never content or keys), counted in
//! [`MseConfigFilter::failures`], and then:
//! - **publish**: the content, the `encryptedDataKey` *and the dataId* are emptied, so neither the
//!   plaintext of a `cipher-` config nor an empty content ever lands on the config being published.
//!   Nacos and MSE refuse a blank dataId and content, so `publish_config` fails; a server that validates
//!   nothing (rnacos) answers `Ok(true)` and at worst keeps an empty entry under a blank dataId, while
//!   the real config keeps its previous version. Watch the log or [`MseConfigFilter::failures`].
//! - **read / listen**: the content handed to the caller is empty: never the ciphertext dressed up as
//!   plaintext. nacos-sdk keeps the ciphertext in its cache and filters every read again, so the next read
//!   after a transient KMS failure decrypts normally.
//!
//! An envelope config (`cipher-kms-aes-128-`, `cipher-kms-aes-256-`) read from a server that drops
//! `encryptedDataKey` (rnacos, spec §G.3) fails this way with
//! [`MissingDataKey`](mse_auth::cipher::CipherErrorKind::MissingDataKey); use `cipher-gcm-` there.
//!
//! A caller that runs the filter itself, outside nacos-sdk's chain, can use
//! [`MseConfigFilter::try_encrypt`] and [`MseConfigFilter::try_decrypt`]: they return the failure and
//! leave the request or response as it was, so the caller can stop before publishing and say why
//! (`mse-auth nacos config` does).

use async_trait::async_trait;
use mse_auth::cipher::{CipherError, ConfigCipher, Scheme};
use nacos_sdk::api::plugin::{ConfigFilter, ConfigReq, ConfigResp};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::NAME;

/// nacos-sdk's `ConfigFilter` for encrypted configs; see the [module docs](crate::nacos_sdk). Cheap to clone:
/// clones share the cipher and the failure count.
#[derive(Clone)]
pub struct MseConfigFilter {
    cipher: Arc<ConfigCipher>,
    failures: Arc<AtomicU64>,
}

impl fmt::Debug for MseConfigFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MseConfigFilter")
            .field("cipher", &self.cipher)
            .field("failures", &self.failures())
            .finish()
    }
}

fn needs_cipher(data_id: &str, content: &str) -> bool {
    Scheme::for_data_id(data_id).is_encrypted() && !content.trim().is_empty()
}

impl MseConfigFilter {
    /// A filter encrypting and decrypting with `cipher`.
    pub fn new(cipher: Arc<ConfigCipher>) -> Self {
        Self {
            cipher,
            failures: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many configs failed to encrypt or decrypt since this filter was made.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// The publish side: encrypts `req` in place; on failure logs, counts and empties it (content,
    /// `encryptedDataKey` and dataId), so nothing readable is published.
    pub async fn encrypt(&self, req: &mut ConfigReq) {
        if let Err(e) = self.try_encrypt(req).await {
            self.failed("encrypt", &req.data_id, &req.group, &req.namespace, &e);
            req.content.clear();
            req.encrypted_data_key.clear();
            req.data_id.clear();
        }
    }

    /// The read side: decrypts `resp` in place; on failure empties its content.
    pub async fn decrypt(&self, resp: &mut ConfigResp) {
        if let Err(e) = self.try_decrypt(resp).await {
            self.failed("decrypt", &resp.data_id, &resp.group, &resp.namespace, &e);
            resp.content.clear();
        }
    }

    /// Encrypts `req` in place as [`encrypt`](Self::encrypt) does, but returns a failure instead of
    /// emptying the request, logging it and counting it: for callers that can stop before
    /// publishing (nacos-sdk's filter chain cannot). `req` is left as it was on failure. Other
    /// dataIds and blank contents pass through untouched.
    pub async fn try_encrypt(&self, req: &mut ConfigReq) -> Result<(), CipherError> {
        if !needs_cipher(&req.data_id, &req.content) {
            return Ok(());
        }
        let sealed = self
            .cipher
            .encrypt(&req.namespace, &req.group, &req.data_id, &req.content)
            .await?;
        req.content = sealed.content;
        req.encrypted_data_key = sealed.encrypted_data_key;
        Ok(())
    }

    /// Decrypts `resp` in place as [`decrypt`](Self::decrypt) does, but returns a failure (and
    /// leaves `resp` as it was) instead of emptying the content, logging it and counting it: for
    /// callers that report why a config cannot be read.
    pub async fn try_decrypt(&self, resp: &mut ConfigResp) -> Result<(), CipherError> {
        if !needs_cipher(&resp.data_id, &resp.content) {
            return Ok(());
        }
        resp.content = self
            .cipher
            .decrypt(
                &resp.namespace,
                &resp.group,
                &resp.data_id,
                &resp.content,
                &resp.encrypted_data_key,
            )
            .await?;
        Ok(())
    }

    fn failed(&self, what: &str, data_id: &str, group: &str, namespace: &str, e: &CipherError) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        let outcome = if what == "encrypt" {
            "the request was emptied (content and dataId) so nothing is published"
        } else {
            "the caller gets an empty content"
        };
        tracing::warn!(
            name = NAME,
            data_id,
            group,
            namespace,
            kind = ?e.kind(),
            error = %e,
            "cannot {what} the config; {outcome}"
        );
    }
}

#[async_trait]
impl ConfigFilter for MseConfigFilter {
    async fn filter(
        &self,
        config_req: Option<&mut ConfigReq>,
        config_resp: Option<&mut ConfigResp>,
    ) {
        if let Some(req) = config_req {
            self.encrypt(req).await;
        }
        if let Some(resp) = config_resp {
            self.decrypt(resp).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mse_auth::cipher::gcm::LocalKey;
    use mse_auth::cipher::CipherErrorKind;
    use mse_auth::test_util::FakeKms;

    fn req(data_id: &str, content: &str) -> ConfigReq {
        ConfigReq::new(
            data_id.into(),
            "G".into(),
            "ns".into(),
            content.into(),
            String::new(),
        )
    }

    fn resp(data_id: &str, content: &str, key: &str) -> ConfigResp {
        ConfigResp::new(
            data_id.into(),
            "G".into(),
            "ns".into(),
            content.into(),
            key.into(),
        )
    }

    fn local() -> MseConfigFilter {
        let key = LocalKey::new("test-key", &[7u8; 32]).unwrap();
        MseConfigFilter::new(Arc::new(ConfigCipher::builder().local_key(key).build()))
    }

    #[tokio::test]
    async fn plain_data_ids_and_blank_contents_pass_through_untouched() {
        let f = local();
        for (data_id, content) in [
            ("app.yaml", "password: x"),
            ("cipher-gcm-app", "  "),
            ("cipher-", "x"),
        ] {
            let mut r = req(data_id, content);
            r.encrypted_data_key = "set-by-an-earlier-filter".into();
            f.filter(Some(&mut r), None).await;
            assert_eq!(
                (r.content.as_str(), r.encrypted_data_key.as_str()),
                (content, "set-by-an-earlier-filter")
            );
            let mut r = resp(data_id, content, "k");
            f.filter(None, Some(&mut r)).await;
            assert_eq!(
                (r.content.as_str(), r.encrypted_data_key.as_str()),
                (content, "k")
            );
        }
        assert_eq!(f.failures(), 0);
    }

    #[tokio::test]
    async fn gcm_round_trips_through_the_filter() {
        let f = local();
        let mut r = req("cipher-gcm-app", "password: sentinel-plain");
        f.filter(Some(&mut r), None).await;
        assert!(!r.content.contains("sentinel-plain"));
        assert_eq!(r.encrypted_data_key, "");
        let mut back = resp("cipher-gcm-app", &r.content, "");
        f.filter(None, Some(&mut back)).await;
        assert_eq!(back.content, "password: sentinel-plain");
    }

    #[tokio::test]
    async fn envelope_schemes_round_trip_with_the_data_key() {
        let kms = Arc::new(FakeKms::new("alias/test"));
        let f = MseConfigFilter::new(Arc::new(
            ConfigCipher::builder().data_key_service(kms).build(),
        ));
        for data_id in [
            "cipher-kms-aes-128-app",
            "cipher-kms-aes-256-app",
            "cipher-app",
        ] {
            let mut r = req(data_id, "password: sentinel-plain");
            f.filter(Some(&mut r), None).await;
            assert!(!r.content.contains("sentinel-plain"), "{data_id}");
            assert_eq!(
                r.encrypted_data_key.is_empty(),
                data_id == "cipher-app",
                "{data_id}"
            );
            let mut back = resp(data_id, &r.content, &r.encrypted_data_key);
            f.filter(None, Some(&mut back)).await;
            assert_eq!(back.content, "password: sentinel-plain", "{data_id}");
        }
        assert_eq!(f.failures(), 0);
    }

    #[tokio::test]
    async fn a_failed_publish_empties_the_request_instead_of_sending_plaintext() {
        let kms = Arc::new(FakeKms::new("alias/test"));
        kms.fail_with(
            CipherError::kms("The specified Key is not enabled.")
                .with_code("Forbidden.KeyNotEnabled"),
        );
        let f = MseConfigFilter::new(Arc::new(
            ConfigCipher::builder().data_key_service(kms).build(),
        ));
        let mut r = req("cipher-kms-aes-256-app", "password: sentinel-plain");
        f.filter(Some(&mut r), None).await;
        assert_eq!(
            (
                r.data_id.as_str(),
                r.content.as_str(),
                r.encrypted_data_key.as_str()
            ),
            ("", "", "")
        );
        assert_eq!(f.failures(), 1);
        // No KMS at all: the same.
        let f = MseConfigFilter::new(Arc::new(ConfigCipher::builder().build()));
        let mut r = req("cipher-app", "password: sentinel-plain");
        f.filter(Some(&mut r), None).await;
        assert_eq!((r.data_id.as_str(), r.content.as_str()), ("", ""));
    }

    #[tokio::test]
    async fn the_try_variants_return_the_failure_and_leave_the_config_as_it_was() {
        let f = MseConfigFilter::new(Arc::new(ConfigCipher::builder().build()));
        let mut r = req("cipher-kms-aes-256-app", "password: sentinel-plain");
        let err = f.try_encrypt(&mut r).await.unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::NotConfigured);
        assert_eq!(
            (r.data_id.as_str(), r.content.as_str()),
            ("cipher-kms-aes-256-app", "password: sentinel-plain")
        );
        let mut back = resp("cipher-kms-aes-256-app", "c2lwaGVy", "");
        let err = f.try_decrypt(&mut back).await.unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::MissingDataKey);
        assert_eq!(back.content, "c2lwaGVy");
        assert_eq!(f.failures(), 0, "the caller has the error: nothing counted");

        let g = local();
        let mut r = req("cipher-gcm-app", "password: sentinel-plain");
        g.try_encrypt(&mut r).await.unwrap();
        assert!(r.content.starts_with("mseauth:v1:"));
        let mut back = resp("cipher-gcm-app", &r.content, "");
        g.try_decrypt(&mut back).await.unwrap();
        assert_eq!(back.content, "password: sentinel-plain");
    }

    #[tokio::test]
    async fn a_failed_read_hands_over_an_empty_content_not_ciphertext() {
        let f = local();
        let mut r = req("cipher-gcm-app", "password: sentinel-plain");
        f.filter(Some(&mut r), None).await;
        // Moved to another dataId: authentication fails.
        let mut moved = resp("cipher-gcm-other", &r.content, "");
        f.filter(None, Some(&mut moved)).await;
        assert_eq!(moved.content, "");
        // An envelope config without its data key (rnacos drops it).
        let kms = Arc::new(FakeKms::new("alias/test"));
        let g = MseConfigFilter::new(Arc::new(
            ConfigCipher::builder().data_key_service(kms).build(),
        ));
        let mut r = req("cipher-kms-aes-128-app", "x");
        g.filter(Some(&mut r), None).await;
        let mut dropped = resp("cipher-kms-aes-128-app", &r.content, "");
        g.filter(None, Some(&mut dropped)).await;
        assert_eq!(dropped.content, "");
        assert_eq!((f.failures(), g.failures()), (1, 1));
        // The kind the log line reports.
        let err = ConfigCipher::builder()
            .build()
            .decrypt("ns", "G", "cipher-kms-aes-128-app", &r.content, "")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::MissingDataKey);
    }
}
