//! OidcRoleArnProvider against the emulator's STS: the request, token rotation, refusals. Every test
//! ends by checking that no secret or token travelled in a URL. Faults, the background refresh and
//! serving unexpired credentials through failed refreshes: `faults.rs`.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use mse_auth_emulator::{Emulator, Endpoint, LoggedRequest};
use mse_auth_providers::os::{Env, Fs};
use mse_auth_providers::{
    oidc_role_arn, vars, Context, CredentialsProvider, ErrorKind, OidcRoleArnProvider,
};
use support::{assert_issued, Cloud};

const ROLE: &str = "acs:ram::123456789012:role/app";
const IDP: &str = "acs:ram::123456789012:oidc-provider/ack-rrsa-test";
const TOKEN_FILE: &str = "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token";
/// Ends with a newline, as projected tokens may: it must be sent as it is.
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.oidc-it-token.c2lnbmF0dXJl\n";

async fn cloud() -> Cloud {
    let cloud = support::cloud().await;
    cloud.emulator.set_oidc_token(TOKEN);
    cloud
}

/// An empty environment and an in-memory file system holding the token.
fn context(cloud: &Cloud) -> Context {
    cloud
        .context()
        .with_fs(Fs::from_pairs([(TOKEN_FILE, TOKEN)]))
}

fn builder(cloud: &Cloud) -> oidc_role_arn::Builder {
    OidcRoleArnProvider::builder(ROLE, IDP, TOKEN_FILE)
        .session_name("pod-session")
        .sts_endpoint(cloud.emulator.sts_endpoint())
        .context(context(cloud))
}

fn oidc_requests(emulator: &Emulator) -> Vec<LoggedRequest> {
    emulator
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Some(Endpoint::AssumeRoleWithOidc))
        .collect()
}

/// A token file under the system temp dir, removed on drop.
struct TempTokenFile(PathBuf);

impl TempTokenFile {
    fn new(content: &str) -> Self {
        let name = format!(
            "mse-auth-oidc-it-{}-{:016x}",
            std::process::id(),
            fastrand::u64(..)
        );
        let file = Self(std::env::temp_dir().join(name));
        file.write(content);
        file
    }

    fn write(&self, content: &str) {
        std::fs::write(&self.0, content).expect("write the token file");
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempTokenFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test]
async fn assumes_the_role_anonymously_with_the_token_in_the_body() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let provider = builder(&cloud).build().expect("build");

    let creds = provider.provide_credentials().await.expect("credentials");
    assert_eq!(creds.provider_path(), "oidc_role_arn");
    let issued = emulator.issued();
    assert_eq!(issued.len(), 1);
    assert_issued(&creds, &issued[0]);
    assert_eq!(issued[0].role_session_name.as_deref(), Some("pod-session"));

    let requests = oidc_requests(emulator);
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    let query: Vec<String> = request.query_pairs().into_iter().map(|(k, _)| k).collect();
    assert_eq!(query, ["Action", "Version", "Format", "Timestamp"]);
    assert_eq!(request.body_param("OIDCToken").as_deref(), Some(TOKEN));
    assert_eq!(request.body_param("OIDCProviderArn").as_deref(), Some(IDP));
    assert_eq!(request.body_param("RoleArn").as_deref(), Some(ROLE));
    assert_eq!(
        request.body_param("DurationSeconds").as_deref(),
        Some("3600")
    );

    assert_eq!(provider.provide_credentials().await.expect("cached"), creds);
    assert_eq!(emulator.calls(Endpoint::AssumeRoleWithOidc), 1);
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn from_env_reads_the_three_variables_and_the_session_name() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let ctx = context(&cloud).with_env(Env::from_pairs([
        (vars::ROLE_ARN, ROLE),
        (vars::OIDC_PROVIDER_ARN, IDP),
        (vars::OIDC_TOKEN_FILE, TOKEN_FILE),
        (vars::ROLE_SESSION_NAME, "env-session"),
        (vars::STS_ENDPOINT, emulator.sts_endpoint().as_str()),
    ]));
    let provider = OidcRoleArnProvider::from_env(&ctx)
        .expect("configured")
        .build()
        .expect("build");
    provider.provide_credentials().await.expect("credentials");
    assert_eq!(
        emulator.issued()[0].role_session_name.as_deref(),
        Some("env-session")
    );
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn a_rotated_token_file_is_sent_by_the_next_refresh() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let lifetime = Duration::from_secs(100);
    emulator.set_credential_lifetime(lifetime);
    let file = TempTokenFile::new(TOKEN);
    let provider = OidcRoleArnProvider::builder(ROLE, IDP, file.path())
        .sts_endpoint(emulator.sts_endpoint())
        .context(cloud.context())
        .build()
        .expect("build");
    let first = provider.provide_credentials().await.expect("first");

    let rotated = "eyJhbGciOiJSUzI1NiJ9.rotated-token.c2lnbmF0dXJl";
    file.write(rotated);
    emulator.set_oidc_token(rotated);
    // Past the background refresh (at 70–75 % of the lifetime), before expiry.
    cloud.advance(lifetime * 76 / 100).await;
    let second = support::refreshed(&provider, &first).await;
    assert_issued(&second, &emulator.issued()[1]);
    let tokens: Vec<Option<String>> = oidc_requests(emulator)
        .iter()
        .map(|r| r.body_param("OIDCToken"))
        .collect();
    assert_eq!(tokens.first().cloned().flatten().as_deref(), Some(TOKEN));
    assert_eq!(tokens.last().cloned().flatten().as_deref(), Some(rotated));
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn a_wrong_token_is_reported_with_code_request_id_and_status() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    emulator.set_oidc_token("a-different-token");
    let provider = builder(&cloud).build_uncached().expect("build");
    let err = provider.provide_credentials().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.code(), Some("AuthenticationFail.OIDCToken.Invalid"));
    assert_eq!(err.status(), Some(400));
    assert!(err.request_id().is_some());
    assert_eq!(
        err.message(),
        "AssumeRoleWithOIDC was refused: The specified OIDC token is invalid."
    );
    assert!(!format!("{err} {err:?}").contains("oidc-it-token"));
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn a_missing_token_file_is_invalid_configuration_naming_the_path() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let missing = std::env::temp_dir().join(format!(
        "mse-auth-oidc-it-missing-{}-{:016x}",
        std::process::id(),
        fastrand::u64(..)
    ));
    let provider = OidcRoleArnProvider::builder(ROLE, IDP, &missing)
        .sts_endpoint(emulator.sts_endpoint())
        .context(cloud.context())
        .build_uncached()
        .expect("build");
    let err = provider.provide_credentials().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    assert!(
        err.message().starts_with(&format!(
            "cannot read the OIDC token file {}: ",
            missing.display()
        )),
        "{err}"
    );
    assert_eq!(emulator.calls(Endpoint::AssumeRoleWithOidc), 0);
    emulator.assert_no_url_leaks();
}
