//! OidcRoleArnProvider against the emulator's STS: success, refresh, token rotation, every refusal and
//! fault, serving unexpired credentials through failed refreshes. Every test ends by checking that no
//! secret or token travelled in a URL.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use mse_auth_emulator::{Emulator, Endpoint, Fault, IssuedCredentials, LoggedRequest};
use mse_auth_providers::http::Timeouts;
use mse_auth_providers::os::{Env, Fs};
use mse_auth_providers::{
    oidc_role_arn, vars, Context, Credentials, CredentialsProvider, ErrorKind, OidcRoleArnProvider,
};

const ROLE: &str = "acs:ram::123456789012:role/app";
const IDP: &str = "acs:ram::123456789012:oidc-provider/ack-rrsa-test";
const TOKEN_FILE: &str = "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token";
/// Ends with a newline, as projected tokens may: it must be sent as it is.
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.oidc-it-token.c2lnbmF0dXJl\n";
/// The longest a test waits for a background refresh.
const MAX_WAIT: Duration = Duration::from_secs(5);

async fn emulator() -> Emulator {
    let emulator = Emulator::start().await.expect("start the emulator");
    emulator.set_oidc_token(TOKEN);
    emulator
}

/// An empty environment and an in-memory file system holding the token.
fn context() -> Context {
    Context::default()
        .with_env(Env::from_pairs::<&str, &str>([]))
        .with_fs(Fs::from_pairs([(TOKEN_FILE, TOKEN)]))
}

fn builder(emulator: &Emulator) -> oidc_role_arn::Builder {
    OidcRoleArnProvider::builder(ROLE, IDP, TOKEN_FILE)
        .session_name("pod-session")
        .sts_endpoint(emulator.sts_endpoint())
        .context(context())
}

fn assert_no_url_leaks(emulator: &Emulator) {
    assert!(
        emulator.url_leaks().is_empty(),
        "{:?}",
        emulator.url_leaks()
    );
}

fn assert_issued(creds: &Credentials, issued: &IssuedCredentials) {
    assert_eq!(creds.access_key_id(), issued.access_key_id);
    assert_eq!(creds.access_key_secret(), issued.access_key_secret);
    assert_eq!(creds.security_token(), Some(issued.security_token.as_str()));
    assert_eq!(creds.expiration(), Some(issued.expiration));
}

fn body_param(request: &LoggedRequest, name: &str) -> Option<String> {
    form_urlencoded::parse(request.body.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
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
    let emulator = emulator().await;
    let provider = builder(&emulator).build().expect("build");

    let creds = provider.provide_credentials().await.expect("credentials");
    assert_eq!(creds.provider_path(), "oidc_role_arn");
    let issued = emulator.issued();
    assert_eq!(issued.len(), 1);
    assert_issued(&creds, &issued[0]);
    assert_eq!(issued[0].role_session_name.as_deref(), Some("pod-session"));

    let requests = oidc_requests(&emulator);
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    let query: Vec<String> = request.query_pairs().into_iter().map(|(k, _)| k).collect();
    assert_eq!(query, ["Action", "Version", "Format", "Timestamp"]);
    assert_eq!(body_param(request, "OIDCToken").as_deref(), Some(TOKEN));
    assert_eq!(body_param(request, "OIDCProviderArn").as_deref(), Some(IDP));
    assert_eq!(body_param(request, "RoleArn").as_deref(), Some(ROLE));
    assert_eq!(
        body_param(request, "DurationSeconds").as_deref(),
        Some("3600")
    );

    assert_eq!(provider.provide_credentials().await.expect("cached"), creds);
    assert_eq!(emulator.calls(Endpoint::AssumeRoleWithOidc), 1);
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn from_env_reads_the_three_variables_and_the_session_name() {
    let emulator = emulator().await;
    let ctx = Context::default()
        .with_env(Env::from_pairs([
            (vars::ROLE_ARN, ROLE),
            (vars::OIDC_PROVIDER_ARN, IDP),
            (vars::OIDC_TOKEN_FILE, TOKEN_FILE),
            (vars::ROLE_SESSION_NAME, "env-session"),
            (vars::STS_ENDPOINT, emulator.sts_endpoint().as_str()),
        ]))
        .with_fs(Fs::from_pairs([(TOKEN_FILE, TOKEN)]));
    let provider = OidcRoleArnProvider::from_env(&ctx)
        .expect("configured")
        .build()
        .expect("build");
    provider.provide_credentials().await.expect("credentials");
    assert_eq!(
        emulator.issued()[0].role_session_name.as_deref(),
        Some("env-session")
    );
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn refreshes_once_the_credentials_expire() {
    let emulator = emulator().await;
    emulator.set_credential_lifetime(Duration::from_secs(2));
    let provider = builder(&emulator).build().expect("build");

    let first = provider.provide_credentials().await.expect("first");
    let wait = first
        .expiration()
        .expect("expires")
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        + Duration::from_millis(100);
    assert!(
        wait <= MAX_WAIT,
        "lifetime longer than configured: {wait:?}"
    );
    tokio::time::sleep(wait).await;

    let second = provider.provide_credentials().await.expect("refreshed");
    assert_ne!(second.access_key_id(), first.access_key_id());
    assert!(second.expiration().expect("expires") > SystemTime::now());
    assert_issued(&second, emulator.issued().last().expect("issued"));
    let calls = emulator.calls(Endpoint::AssumeRoleWithOidc);
    assert!((2..=4).contains(&calls), "{calls} AssumeRoleWithOIDC calls");
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn a_rotated_token_file_is_sent_by_the_next_refresh() {
    let emulator = emulator().await;
    emulator.set_credential_lifetime(Duration::from_secs(2));
    let file = TempTokenFile::new(TOKEN);
    let provider = OidcRoleArnProvider::builder(ROLE, IDP, file.path())
        .sts_endpoint(emulator.sts_endpoint())
        .context(Context::default().with_env(Env::from_pairs::<&str, &str>([])))
        .build()
        .expect("build");
    let first = provider.provide_credentials().await.expect("first");

    let rotated = "eyJhbGciOiJSUzI1NiJ9.rotated-token.c2lnbmF0dXJl";
    file.write(rotated);
    emulator.set_oidc_token(rotated);
    let wait = first
        .expiration()
        .expect("expires")
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        + Duration::from_millis(100);
    assert!(
        wait <= MAX_WAIT,
        "lifetime longer than configured: {wait:?}"
    );
    tokio::time::sleep(wait).await;

    let second = provider.provide_credentials().await.expect("refreshed");
    assert_ne!(second.access_key_id(), first.access_key_id());
    let tokens: Vec<Option<String>> = oidc_requests(&emulator)
        .iter()
        .map(|r| body_param(r, "OIDCToken"))
        .collect();
    assert_eq!(tokens.first().cloned().flatten().as_deref(), Some(TOKEN));
    assert_eq!(tokens.last().cloned().flatten().as_deref(), Some(rotated));
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn a_wrong_token_is_reported_with_code_request_id_and_status() {
    let emulator = emulator().await;
    emulator.set_oidc_token("a-different-token");
    let provider = builder(&emulator).build_uncached().expect("build");
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
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn a_missing_token_file_is_invalid_configuration_naming_the_path() {
    let emulator = emulator().await;
    let missing = std::env::temp_dir().join(format!(
        "mse-auth-oidc-it-missing-{}-{:016x}",
        std::process::id(),
        fastrand::u64(..)
    ));
    let provider = OidcRoleArnProvider::builder(ROLE, IDP, &missing)
        .sts_endpoint(emulator.sts_endpoint())
        .context(Context::default().with_env(Env::from_pairs::<&str, &str>([])))
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
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn a_503_is_a_provider_error_with_the_upstream_code() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::AssumeRoleWithOidc, Fault::Status(503), 1);
    let provider = builder(&emulator).build_uncached().expect("build");
    let err = provider.provide_credentials().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.code(), Some("ServiceUnavailable"));
    assert_eq!(err.status(), Some(503));
    assert!(err.request_id().is_some());
    assert_eq!(
        err.message(),
        "AssumeRoleWithOIDC was refused: The request has failed due to a temporary failure of the \
         server."
    );
    provider.provide_credentials().await.expect("recovered");
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn a_hanging_sts_times_out_within_the_configured_budget() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::AssumeRoleWithOidc, Fault::Hang, 1);
    let budget = Timeouts::new(Duration::from_millis(200), Duration::from_millis(300));
    let provider = builder(&emulator)
        .timeouts(budget)
        .build_uncached()
        .expect("build");
    let started = Instant::now();
    let err = provider.provide_credentials().await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(err.timeout(), Some(budget.total()));
    assert_eq!(err.to_string(), "oidc_role_arn: timed out after 500ms");
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn garbage_is_a_provider_error_naming_the_problem() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::AssumeRoleWithOidc, Fault::Garbage, 1);
    let provider = builder(&emulator).build_uncached().expect("build");
    let err = provider.provide_credentials().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(
        err.message(),
        "the AssumeRoleWithOIDC response is not valid JSON (expected value at line 1 column 1)"
    );
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn an_answer_without_credentials_is_a_provider_error() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::AssumeRoleWithOidc, Fault::MissingFields, 1);
    let provider = builder(&emulator).build_uncached().expect("build");
    let err = provider.provide_credentials().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(
        err.message(),
        "the AssumeRoleWithOIDC response lacks Credentials"
    );
    assert!(err.request_id().is_some());
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn a_dropped_connection_is_unhandled_and_names_only_the_origin() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::AssumeRoleWithOidc, Fault::Close, 1);
    let provider = builder(&emulator).build_uncached().expect("build");
    let err = provider.provide_credentials().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unhandled);
    assert_eq!(
        err.message(),
        format!("POST {}: request failed", emulator.sts_endpoint())
    );
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn unexpired_credentials_are_still_served_when_a_refresh_fails() {
    let emulator = emulator().await;
    emulator.set_credential_lifetime(Duration::from_secs(4));
    let provider = builder(&emulator).build().expect("build");
    let first = provider.provide_credentials().await.expect("first");
    emulator.inject_fault(Endpoint::AssumeRoleWithOidc, Fault::Status(503), 1_000);

    let deadline = Instant::now() + MAX_WAIT;
    while emulator.calls(Endpoint::AssumeRoleWithOidc) < 2 {
        assert!(
            Instant::now() < deadline,
            "no background refresh within {MAX_WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let served = provider.provide_credentials().await.expect("still served");
    assert!(SystemTime::now() < first.expiration().expect("expires"));
    assert_eq!(served, first);
    assert_eq!(emulator.issued().len(), 1);
    assert_no_url_leaks(&emulator);
}
