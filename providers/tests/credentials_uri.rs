//! `credentials_uri` against the emulator (and a canned server for answers the emulator does not
//! give): success, refresh, every failure, and no secret from the URI in any error or `Debug`.

mod support;

use std::time::{Duration, Instant, SystemTime};

use mse_auth_emulator::{Emulator, Endpoint, Fault, IssuedCredentials};
use mse_auth_providers::http::Timeouts;
use mse_auth_providers::os::Env;
use mse_auth_providers::{credentials_uri, vars};
use mse_auth_providers::{Context, Credentials, CredentialsError, CredentialsProvider};
use mse_auth_providers::{CredentialsUriProvider, ErrorKind};
use support::{closed_port, Canned};

async fn emulator() -> Emulator {
    Emulator::start().await.expect("emulator starts")
}

fn context(env: &[(&str, &str)]) -> Context {
    Context::default().with_env(Env::from_pairs(env.iter().copied()))
}

fn builder(uri: &str) -> credentials_uri::Builder {
    CredentialsUriProvider::builder(uri).context(context(&[]))
}

fn provider(emulator: &Emulator) -> CredentialsUriProvider {
    builder(&emulator.credentials_uri())
        .build_uncached()
        .expect("valid URI")
}

/// The secret part of the emulator's URI: the random path token.
fn path_token(emulator: &Emulator) -> String {
    let uri = emulator.credentials_uri();
    uri.rsplit('/').next().unwrap_or_default().to_owned()
}

async fn load_err(provider: &impl CredentialsProvider) -> CredentialsError {
    match provider.provide_credentials().await {
        Ok(creds) => panic!("expected an error, got {creds:?}"),
        Err(err) => err,
    }
}

/// Checks that neither the error's Display, its Debug nor its sources show `secret`.
fn assert_hides(err: &CredentialsError, secret: &str) {
    let mut shown = format!("{err} {err:?}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        shown.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    assert!(!shown.contains(secret), "{shown}");
}

fn assert_issued(creds: &Credentials, issued: &IssuedCredentials) {
    assert_eq!(creds.provider_path(), "credentials_uri");
    assert_eq!(creds.access_key_id(), issued.access_key_id);
    assert_eq!(creds.access_key_secret(), issued.access_key_secret);
    assert_eq!(creds.security_token(), Some(issued.security_token.as_str()));
    assert_eq!(creds.expiration(), Some(issued.expiration));
}

fn assert_no_leaks(emulator: &Emulator) {
    assert!(
        emulator.url_leaks().is_empty(),
        "{:?}",
        emulator.url_leaks()
    );
}

#[tokio::test]
async fn gets_the_uri_and_returns_its_credentials() {
    let emulator = emulator().await;
    let creds = provider(&emulator).provide_credentials().await.unwrap();
    assert_issued(&creds, &emulator.issued()[0]);
    let requests = emulator.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(
        requests[0].path_and_query,
        format!("/credentials/{}", path_token(&emulator))
    );
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn from_env_reads_the_uri_and_is_not_loaded_without_it() {
    let emulator = emulator().await;
    let ctx = context(&[(vars::CREDENTIALS_URI, &emulator.credentials_uri())]);
    let creds = CredentialsUriProvider::from_env(&ctx)
        .unwrap()
        .build()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert_issued(&creds, &emulator.issued()[0]);

    let err = CredentialsUriProvider::from_env(&context(&[])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotLoaded);
    assert_eq!(
        err.to_string(),
        "credentials_uri: not loaded: ALIBABA_CLOUD_CREDENTIALS_URI is not set"
    );
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn the_query_string_is_kept() {
    let emulator = emulator().await;
    // The emulator routes on the path; the query must still reach it verbatim.
    let uri = format!("{}?role=app&sig=abc%2Fdef", emulator.credentials_uri());
    builder(&uri)
        .build_uncached()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    let requests = emulator.requests();
    assert!(
        requests[0]
            .path_and_query
            .ends_with("?role=app&sig=abc%2Fdef"),
        "{:?}",
        requests[0].path_and_query
    );
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn both_expiration_forms_are_accepted() {
    // The emulator sends `…SSZ`; a canned server sends `…SS.mmmZ`.
    let emulator = emulator().await;
    let creds = provider(&emulator).provide_credentials().await.unwrap();
    let text = &emulator.issued()[0].expiration_text;
    assert!(text.len() == 20 && text.ends_with('Z'), "{text}");
    assert_issued(&creds, &emulator.issued()[0]);

    let server = Canned::start(|_, _| {
        (
            200,
            r#"{"Code":"Success","AccessKeyId":"STS.canned","AccessKeySecret":"canned-secret",
                "SecurityToken":"canned-token","Expiration":"2099-01-02T03:04:05.678Z"}"#
                .into(),
        )
    })
    .await;
    let creds = builder(&format!("{}/creds", server.base_url()))
        .build_uncached()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    let expected = mse_auth_providers::timestamp::parse_utc("2099-01-02T03:04:05Z").unwrap()
        + Duration::from_millis(678);
    assert_eq!(creds.expiration(), Some(expected));
    assert_eq!(creds.access_key_id(), "STS.canned");
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn a_wrong_path_token_is_404_and_shows_no_path() {
    let emulator = emulator().await;
    let uri = format!("{}/credentials/wrong-sentinel-token", emulator.base_url());
    let err = load_err(&builder(&uri).build_uncached().unwrap()).await;
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.code(), Some("NotFound"));
    assert_eq!(
        err.to_string(),
        format!(
            "credentials_uri: HTTP 404: NotFound: the credentials URI at {} did not answer HTTP 200",
            emulator.base_url()
        )
    );
    assert_hides(&err, "sentinel");
    assert_hides(&err, "/credentials");
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn upstream_error_statuses_are_provider_errors() {
    for (status, code) in [
        (403, "NoPermission"),
        (429, "Throttling"),
        (500, "InternalError"),
        (503, "ServiceUnavailable"),
    ] {
        let emulator = emulator().await;
        emulator.inject_fault(Endpoint::CredentialsUri, Fault::Status(status), 1);
        let err = load_err(&provider(&emulator)).await;
        assert_eq!(err.kind(), ErrorKind::Provider, "{status}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.code(), Some(code));
        assert_eq!(
            err.message(),
            format!(
                "the credentials URI at {} did not answer HTTP 200",
                emulator.base_url()
            )
        );
        assert_hides(&err, &path_token(&emulator));
        assert_no_leaks(&emulator);
    }
}

#[tokio::test]
async fn a_2xx_other_than_200_is_refused() {
    let server = Canned::start(|_, _| {
        (
            203,
            r#"{"Code":"Success","AccessKeyId":"STS.canned","AccessKeySecret":"s",
                "SecurityToken":"t","Expiration":"2099-01-02T03:04:05Z"}"#
                .into(),
        )
    })
    .await;
    let err = load_err(
        &builder(&format!("{}/c", server.base_url()))
            .build_uncached()
            .unwrap(),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.status(), Some(203));
}

#[tokio::test]
async fn a_hang_times_out_within_the_budget() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::CredentialsUri, Fault::Hang, 1);
    let budget = Timeouts::new(Duration::from_millis(300), Duration::from_millis(300));
    let provider = builder(&emulator.credentials_uri())
        .timeouts(budget)
        .build_uncached()
        .unwrap();
    let start = Instant::now();
    let err = load_err(&provider).await;
    let elapsed = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert_eq!(err.timeout(), Some(budget.total()));
    assert_eq!(err.to_string(), "credentials_uri: timed out after 600ms");
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_millis(1500),
        "{elapsed:?}"
    );
    assert_hides(&err, &path_token(&emulator));
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn garbage_is_a_provider_error() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::CredentialsUri, Fault::Garbage, 1);
    let err = load_err(&provider(&emulator)).await;
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(
        err.to_string(),
        "credentials_uri: the credentials response is not JSON (line 1, column 1)"
    );
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn missing_fields_are_named() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::CredentialsUri, Fault::MissingFields, 1);
    let err = load_err(&provider(&emulator)).await;
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(
        err.to_string(),
        "credentials_uri: the credentials response lacks AccessKeyId"
    );
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn code_other_than_success_is_a_provider_error() {
    let server = Canned::start(|_, _| {
        (
            200,
            r#"{"Code":"Expired","AccessKeyId":"STS.canned","AccessKeySecret":"s",
                "SecurityToken":"t","Expiration":"2099-01-02T03:04:05Z"}"#
                .into(),
        )
    })
    .await;
    let err = load_err(
        &builder(&format!("{}/c", server.base_url()))
            .build_uncached()
            .unwrap(),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.code(), Some("Expired"));
    assert_eq!(
        err.to_string(),
        "credentials_uri: Expired: the credentials response has Code `Expired`, not `Success`"
    );
}

#[tokio::test]
async fn a_closed_connection_is_unhandled_showing_only_the_origin() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::CredentialsUri, Fault::Close, 1);
    let err = load_err(&provider(&emulator)).await;
    assert_eq!(err.kind(), ErrorKind::Unhandled, "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "credentials_uri: GET {}: request failed",
            emulator.base_url()
        )
    );
    assert_hides(&err, &path_token(&emulator));
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn nothing_listening_is_unhandled_showing_only_the_origin() {
    let origin = format!("http://127.0.0.1:{}", closed_port());
    let uri = format!("{origin}/credentials/sentinel-token?sig=sentinel");
    let err = load_err(&builder(&uri).build_uncached().unwrap()).await;
    assert_eq!(err.kind(), ErrorKind::Unhandled, "{err}");
    assert_eq!(
        err.to_string(),
        format!("credentials_uri: GET {origin}: could not connect")
    );
    assert_hides(&err, "sentinel");
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused_at_build() {
    let uri = "http://creds.example.com/credentials/sentinel-token?sig=sentinel";
    let err = builder(uri).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    assert_eq!(
        err.to_string(),
        "credentials_uri: invalid configuration: refusing plain http to http://creds.example.com: \
         credentials would cross the network unencrypted; use https, or opt in with \
         MSE_AUTH_INSECURE_ALLOW_HTTP=true (CLI: --insecure-allow-http)"
    );
    assert_hides(&err, "sentinel");
    assert!(builder(uri).allow_http(true).build_uncached().is_ok());
    assert!(builder("https://creds.example.com/c")
        .build_uncached()
        .is_ok());
}

#[tokio::test]
async fn debug_of_builder_provider_and_cache_shows_no_path_or_query() {
    let emulator = emulator().await;
    let uri = format!("{}?sig=sentinel-query", emulator.credentials_uri());
    let token = path_token(&emulator);
    let builder_debug = format!("{:?}", builder(&uri));
    let provider_debug = format!("{:?}", builder(&uri).build_uncached().unwrap());
    let cache = builder(&uri).build().unwrap();
    cache.provide_credentials().await.unwrap();
    let cache_debug = format!("{cache:?}");
    for shown in [builder_debug, provider_debug, cache_debug] {
        assert!(
            !shown.contains(&token) && !shown.contains("sentinel"),
            "{shown}"
        );
    }
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn the_cache_refreshes_after_a_short_lifetime() {
    let emulator = emulator().await;
    emulator.set_credential_lifetime(Duration::from_secs(2));
    let cache = builder(&emulator.credentials_uri()).build().unwrap();
    let first = cache.provide_credentials().await.unwrap();
    assert_issued(&first, &emulator.issued()[0]);
    assert_eq!(cache.provide_credentials().await.unwrap(), first);
    assert_eq!(emulator.calls(Endpoint::CredentialsUri), 1);
    let start = Instant::now();
    let second = loop {
        let creds = cache.provide_credentials().await.unwrap();
        if creds != first {
            break creds;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no refresh within 5 s ({} calls)",
            emulator.calls(Endpoint::CredentialsUri)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(emulator.calls(Endpoint::CredentialsUri), 2);
    assert_issued(&second, &emulator.issued()[1]);
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn unexpired_credentials_are_served_while_refreshes_fail() {
    let emulator = emulator().await;
    emulator.set_credential_lifetime(Duration::from_secs(6));
    let cache = builder(&emulator.credentials_uri()).build().unwrap();
    let first = cache.provide_credentials().await.unwrap();
    emulator.inject_fault(Endpoint::CredentialsUri, Fault::Status(503), 1000);
    let start = Instant::now();
    while emulator.calls(Endpoint::CredentialsUri) < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(6),
            "no refresh attempt within 6 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        SystemTime::now() + Duration::from_millis(500) < first.expiration().unwrap(),
        "the test ran too slowly to show anything"
    );
    assert_eq!(cache.provide_credentials().await.unwrap(), first);
    assert_eq!(emulator.issued().len(), 1);
    assert_no_leaks(&emulator);
}
