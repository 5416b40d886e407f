//! RamRoleArnProvider against the emulator's STS: success, refresh, every refusal and fault, serving
//! unexpired credentials through failed refreshes, chained roles. Every test ends by checking that no
//! secret or token travelled in a URL.

use std::time::{Duration, Instant, SystemTime};

use mse_auth_emulator::{Emulator, Endpoint, Fault, IssuedCredentials, LoggedRequest};
use mse_auth_providers::http::Timeouts;
use mse_auth_providers::os::Env;
use mse_auth_providers::{
    ram_role_arn, Context, Credentials, CredentialsProvider, ErrorKind, RamRoleArnProvider,
    StaticAccessKeyProvider,
};

const AK: &str = "LTAI5tRamRoleArnTest";
const SECRET: &str = "ram-role-arn-test-secret-5f0c";
const ROLE: &str = "acs:ram::123456789012:role/reader";
const OUTER_ROLE: &str = "acs:ram::123456789012:role/writer";
/// A session policy with spaces, so the body encoding and the signature over it are exercised.
const POLICY: &str =
    r#"{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}]}"#;
const EXTERNAL_ID: &str = "ext-id-4d2a";
/// The longest a test waits for a background refresh.
const MAX_WAIT: Duration = Duration::from_secs(5);

async fn emulator() -> Emulator {
    let emulator = Emulator::start().await.expect("start the emulator");
    emulator.add_access_key(AK, SECRET);
    emulator
}

/// A context whose environment is empty: the developer's own variables never leak in.
fn context() -> Context {
    Context::default().with_env(Env::from_pairs::<&str, &str>([]))
}

fn builder_with(emulator: &Emulator, id: &str, secret: &str) -> ram_role_arn::Builder {
    RamRoleArnProvider::builder(ROLE)
        .source(StaticAccessKeyProvider::new(id, secret).expect("static source"))
        .session_name("it-session")
        .sts_endpoint(emulator.sts_endpoint())
        .context(context())
}

fn builder(emulator: &Emulator) -> ram_role_arn::Builder {
    builder_with(emulator, AK, SECRET)
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

fn last_assume_role(emulator: &Emulator) -> LoggedRequest {
    emulator
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.endpoint == Some(Endpoint::AssumeRole))
        .expect("an AssumeRole request")
}

#[tokio::test]
async fn assumes_the_role_with_action_params_in_the_body_and_caches_the_result() {
    let emulator = emulator().await;
    let provider = builder(&emulator)
        .policy(POLICY)
        .external_id(EXTERNAL_ID)
        .duration(Duration::from_secs(900))
        .build()
        .expect("build");

    let creds = provider.provide_credentials().await.expect("credentials");
    assert_eq!(creds.provider_path(), "ram_role_arn/static_ak");
    let issued = emulator.issued();
    assert_eq!(issued.len(), 1);
    assert_issued(&creds, &issued[0]);
    assert_eq!(issued[0].role_arn.as_deref(), Some(ROLE));
    assert_eq!(issued[0].role_session_name.as_deref(), Some("it-session"));

    let request = last_assume_role(&emulator);
    assert_eq!(request.method, "POST");
    let query: Vec<String> = request.query_pairs().into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        query,
        [
            "Action",
            "Version",
            "Format",
            "Timestamp",
            "SignatureMethod",
            "SignatureVersion",
            "SignatureNonce",
            "AccessKeyId",
            "Signature"
        ]
    );
    assert_eq!(
        request.header("x-acs-credentials-provider"),
        Some("static_ak")
    );
    assert_eq!(body_param(&request, "RoleArn").as_deref(), Some(ROLE));
    assert_eq!(body_param(&request, "Policy").as_deref(), Some(POLICY));
    assert_eq!(
        body_param(&request, "ExternalId").as_deref(),
        Some(EXTERNAL_ID)
    );
    assert_eq!(
        body_param(&request, "DurationSeconds").as_deref(),
        Some("900")
    );
    assert_eq!(body_param(&request, "SecurityToken"), None);

    let again = provider.provide_credentials().await.expect("cached");
    assert_eq!(again, creds);
    assert_eq!(emulator.calls(Endpoint::AssumeRole), 1);
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn refreshes_once_the_credentials_expire() {
    let emulator = emulator().await;
    emulator.set_credential_lifetime(Duration::from_secs(2));
    let provider = builder(&emulator).build().expect("build");

    let first = provider.provide_credentials().await.expect("first");
    let expires = first.expiration().expect("STS credentials expire");
    let wait = expires
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
    let issued = emulator.issued();
    assert_issued(&second, issued.last().expect("issued"));
    let calls = emulator.calls(Endpoint::AssumeRole);
    assert!((2..=4).contains(&calls), "{calls} AssumeRole calls");
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn an_unknown_access_key_is_reported_with_code_request_id_and_status() {
    let emulator = emulator().await;
    let provider = builder_with(&emulator, "LTAI5tNobodyKnowsMe", SECRET)
        .build_uncached()
        .expect("build");
    let err = provider.provide_credentials().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.code(), Some("InvalidAccessKeyId.NotFound"));
    assert_eq!(err.status(), Some(404));
    assert!(err.request_id().is_some());
    assert_eq!(
        err.message(),
        "AssumeRole was refused: Specified access key is not found."
    );
    assert_eq!(err.provider_path(), "ram_role_arn");
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn a_wrong_secret_is_named_without_quoting_the_string_to_sign() {
    let emulator = emulator().await;
    let provider = builder_with(&emulator, AK, "not-the-secret")
        .build_uncached()
        .expect("build");
    let err = provider.provide_credentials().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
    assert_eq!(err.status(), Some(400));
    assert!(err.request_id().is_some());
    assert_eq!(
        err.message(),
        "AssumeRole was refused: Specified signature is not matched with our calculation. (STS \
         signed the same string as we did, so the source AccessKey secret is wrong)"
    );
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains("not-the-secret") && !shown.contains("%26"),
        "{shown}"
    );
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn a_503_is_a_provider_error_with_the_upstream_code() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::AssumeRole, Fault::Status(503), 1);
    let provider = builder(&emulator).build_uncached().expect("build");
    let err = provider.provide_credentials().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.code(), Some("ServiceUnavailable"));
    assert_eq!(err.status(), Some(503));
    assert!(err.request_id().is_some());
    assert_eq!(
        err.message(),
        "AssumeRole was refused: The request has failed due to a temporary failure of the server."
    );
    // The next call succeeds: nothing sticks.
    provider.provide_credentials().await.expect("recovered");
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn a_hanging_sts_times_out_within_the_configured_budget() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::AssumeRole, Fault::Hang, 1);
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
    assert_eq!(err.to_string(), "ram_role_arn: timed out after 500ms");
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn garbage_is_a_provider_error_naming_the_problem() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::AssumeRole, Fault::Garbage, 1);
    let provider = builder(&emulator).build_uncached().expect("build");
    let err = provider.provide_credentials().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(
        err.message(),
        "the AssumeRole response is not valid JSON (expected value at line 1 column 1)"
    );
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn an_answer_without_credentials_is_a_provider_error() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::AssumeRole, Fault::MissingFields, 1);
    let provider = builder(&emulator).build_uncached().expect("build");
    let err = provider.provide_credentials().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.message(), "the AssumeRole response lacks Credentials");
    assert!(err.request_id().is_some());
    assert_no_url_leaks(&emulator);
}

#[tokio::test]
async fn a_dropped_connection_is_unhandled_and_names_only_the_origin() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::AssumeRole, Fault::Close, 1);
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
    emulator.inject_fault(Endpoint::AssumeRole, Fault::Status(503), 1_000);

    // The background refresh starts at 70–75 % of the lifetime and fails; the old credentials are
    // served until 90 % of it.
    let deadline = Instant::now() + MAX_WAIT;
    while emulator.calls(Endpoint::AssumeRole) < 2 {
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

#[tokio::test]
async fn a_role_can_be_assumed_with_another_roles_credentials() {
    let emulator = emulator().await;
    let inner = builder(&emulator).build().expect("inner");
    let outer = RamRoleArnProvider::builder(OUTER_ROLE)
        .source(inner)
        .session_name("outer-session")
        .sts_endpoint(emulator.sts_endpoint())
        .context(context())
        .build()
        .expect("outer");

    let creds = outer.provide_credentials().await.expect("chained");
    assert_eq!(creds.provider_path(), "ram_role_arn/ram_role_arn/static_ak");
    let issued = emulator.issued();
    assert_eq!(issued.len(), 2);
    assert_issued(&creds, &issued[1]);
    assert_eq!(issued[1].role_arn.as_deref(), Some(OUTER_ROLE));

    // The outer call was signed with the inner STS credentials; their token went in the body.
    let request = last_assume_role(&emulator);
    assert_eq!(
        request.header("x-acs-credentials-provider"),
        Some("ram_role_arn/static_ak")
    );
    assert_eq!(
        request.query_param("AccessKeyId").as_deref(),
        Some(issued[0].access_key_id.as_str())
    );
    assert_eq!(request.query_param("SecurityToken"), None);
    assert_eq!(
        body_param(&request, "SecurityToken").as_deref(),
        Some(issued[0].security_token.as_str())
    );
    assert_no_url_leaks(&emulator);
}
