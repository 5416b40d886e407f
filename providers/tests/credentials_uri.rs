//! `credentials_uri` against the emulator (and a canned server for answers the emulator does not
//! give): the request, its refusals, and no secret from the URI in any error or `Debug`. Faults, the
//! background refresh and serving unexpired credentials through failed refreshes: `faults.rs`.

mod support;

use std::time::Duration;

use mse_auth_emulator::Emulator;
use mse_auth_providers::os::Env;
use mse_auth_providers::{credentials_uri, vars};
use mse_auth_providers::{Context, CredentialsError, CredentialsProvider};
use mse_auth_providers::{CredentialsUriProvider, ErrorKind};
use support::{assert_hides, assert_issued, closed_port, load_err, Canned, Cloud};

fn builder(uri: &str, ctx: Context) -> credentials_uri::Builder {
    CredentialsUriProvider::builder(uri).context(ctx)
}

fn provider(cloud: &Cloud) -> CredentialsUriProvider {
    builder(&cloud.emulator.credentials_uri(), cloud.context())
        .build_uncached()
        .expect("valid URI")
}

/// The error of a provider whose URI is a canned server answering `respond`.
async fn canned_error(respond: fn(&str, &str) -> (u16, String)) -> CredentialsError {
    let server = Canned::start(respond).await;
    let uri = format!("{}/c", server.base_url());
    load_err(&builder(&uri, support::context()).build_uncached().unwrap()).await
}

/// The secret part of the emulator's URI: the random path token.
fn path_token(emulator: &Emulator) -> String {
    let uri = emulator.credentials_uri();
    uri.rsplit('/').next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn gets_the_uri_and_returns_its_credentials() {
    let cloud = support::cloud().await;
    let emulator = &cloud.emulator;
    let creds = provider(&cloud).provide_credentials().await.unwrap();
    assert_eq!(creds.provider_path(), "credentials_uri");
    assert_issued(&creds, &emulator.issued()[0]);
    let requests = emulator.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(
        requests[0].path_and_query,
        format!("/credentials/{}", path_token(emulator))
    );
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn from_env_reads_the_uri_and_is_not_loaded_without_it() {
    let cloud = support::cloud().await;
    let emulator = &cloud.emulator;
    let uri = emulator.credentials_uri();
    let ctx = cloud
        .context()
        .with_env(Env::from_pairs([(vars::CREDENTIALS_URI, uri.as_str())]));
    support::load_issued(
        &CredentialsUriProvider::from_env(&ctx)
            .unwrap()
            .build()
            .unwrap(),
        emulator,
        0,
    )
    .await;

    let err = CredentialsUriProvider::from_env(&support::context()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotLoaded);
    assert_eq!(
        err.to_string(),
        "credentials_uri: not loaded: ALIBABA_CLOUD_CREDENTIALS_URI is not set"
    );
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn the_query_string_is_kept() {
    let cloud = support::cloud().await;
    let emulator = &cloud.emulator;
    // The emulator routes on the path; the query must still reach it verbatim.
    let uri = format!("{}?role=app&sig=abc%2Fdef", emulator.credentials_uri());
    builder(&uri, cloud.context())
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
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn both_expiration_forms_are_accepted() {
    // The emulator sends `…SSZ`; a canned server sends `…SS.mmmZ`.
    let cloud = support::cloud().await;
    let emulator = &cloud.emulator;
    let creds = provider(&cloud).provide_credentials().await.unwrap();
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
    let creds = builder(&format!("{}/creds", server.base_url()), support::context())
        .build_uncached()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    let expected = mse_auth_providers::timestamp::parse_utc("2099-01-02T03:04:05Z").unwrap()
        + Duration::from_millis(678);
    assert_eq!(creds.expiration(), Some(expected));
    assert_eq!(creds.access_key_id(), "STS.canned");
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn a_wrong_path_token_is_404_and_shows_no_path() {
    let cloud = support::cloud().await;
    let emulator = &cloud.emulator;
    let uri = format!("{}/credentials/wrong-sentinel-token", emulator.base_url());
    let err = load_err(&builder(&uri, cloud.context()).build_uncached().unwrap()).await;
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
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn a_2xx_other_than_200_is_refused() {
    let err = canned_error(|_, _| {
        (
            203,
            r#"{"Code":"Success","AccessKeyId":"STS.canned","AccessKeySecret":"s",
                "SecurityToken":"t","Expiration":"2099-01-02T03:04:05Z"}"#
                .into(),
        )
    })
    .await;
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.status(), Some(203));
}

#[tokio::test]
async fn code_other_than_success_is_a_provider_error() {
    let err = canned_error(|_, _| {
        (
            200,
            r#"{"Code":"Expired","AccessKeyId":"STS.canned","AccessKeySecret":"s",
                "SecurityToken":"t","Expiration":"2099-01-02T03:04:05Z"}"#
                .into(),
        )
    })
    .await;
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.code(), Some("Expired"));
    assert_eq!(
        err.to_string(),
        "credentials_uri: Expired: the credentials response has Code `Expired`, not `Success`"
    );
}

#[tokio::test]
async fn nothing_listening_is_unhandled_showing_only_the_origin() {
    let origin = format!("http://127.0.0.1:{}", closed_port());
    let uri = format!("{origin}/credentials/sentinel-token?sig=sentinel");
    let err = load_err(&builder(&uri, support::context()).build_uncached().unwrap()).await;
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
    let err = builder(uri, support::context()).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    assert_eq!(
        err.to_string(),
        "credentials_uri: invalid configuration: refusing plain http to http://creds.example.com: \
         credentials would cross the network unencrypted; use https, or opt in with \
         MSE_AUTH_INSECURE_ALLOW_HTTP=true (CLI: --insecure-allow-http)"
    );
    assert_hides(&err, "sentinel");
    assert!(builder(uri, support::context())
        .allow_http(true)
        .build_uncached()
        .is_ok());
    assert!(builder("https://creds.example.com/c", support::context())
        .build_uncached()
        .is_ok());
}

#[tokio::test]
async fn debug_of_builder_provider_and_cache_shows_no_path_or_query() {
    let cloud = support::cloud().await;
    let emulator = &cloud.emulator;
    let uri = format!("{}?sig=sentinel-query", emulator.credentials_uri());
    let token = path_token(emulator);
    let builder_debug = format!("{:?}", builder(&uri, cloud.context()));
    let provider_debug = format!(
        "{:?}",
        builder(&uri, cloud.context()).build_uncached().unwrap()
    );
    let cache = builder(&uri, cloud.context()).build().unwrap();
    cache.provide_credentials().await.unwrap();
    let cache_debug = format!("{cache:?}");
    for shown in [builder_debug, provider_debug, cache_debug] {
        assert!(
            !shown.contains(&token) && !shown.contains("sentinel"),
            "{shown}"
        );
    }
    emulator.assert_no_url_leaks();
}
