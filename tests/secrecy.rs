//! Secrets and tokens never reach `Debug`, `Display` or error messages.

use mse_auth::os::Env;
use mse_auth::{
    vars, Credentials, CredentialsError, CredentialsProvider, EnvironmentProvider, ProviderChain,
    SharedCredentialsProvider, StaticAccessKeyProvider, StaticStsProvider,
};
use std::time::Duration;

const SECRET: &str = "sentinel-SECRET-7c1e";
const TOKEN: &str = "sentinel-TOKEN-d93a";

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} shows the secret: {text}");
    assert!(!text.contains(TOKEN), "{what} shows the token: {text}");
}

fn assert_error_clean(err: &CredentialsError) {
    assert_clean("error Display", &err.to_string());
    assert_clean("error Debug", &format!("{err:?}"));
    assert_clean("error Debug (pretty)", &format!("{err:#?}"));
}

#[test]
fn credentials_providers_and_every_error_kind_hide_secrets() {
    let creds = Credentials::builder()
        .access_key_id("STS.sentinel-id-000111")
        .access_key_secret(SECRET)
        .security_token(TOKEN)
        .build()
        .unwrap();
    assert_clean("credentials Debug", &format!("{creds:?} {creds:#?}"));
    assert_clean("credentials Display", &creds.to_string());

    let sts = StaticStsProvider::new("id", SECRET, TOKEN).unwrap();
    let ak = StaticAccessKeyProvider::new("id", SECRET).unwrap();
    let env = Env::from_pairs([
        (vars::ACCESS_KEY_SECRET, SECRET),
        (vars::SECURITY_TOKEN, TOKEN),
    ]);
    let env_provider = EnvironmentProvider::with_env(env.clone());
    let chain = ProviderChain::first_try(env_provider.clone()).or_else(sts.clone());
    let shared = SharedCredentialsProvider::new(chain.clone());
    for (what, debug) in [
        ("static sts", format!("{sts:?}")),
        ("static ak", format!("{ak:?}")),
        ("env", format!("{env:?} {env_provider:?}")),
        ("chain", format!("{chain:?} {shared:?}")),
    ] {
        assert_clean(what, &debug);
    }

    // Errors built from inputs that hold secrets, one of each kind.
    let errors = [
        Credentials::new(SECRET, "", "static_ak").unwrap_err(),
        Credentials::builder()
            .access_key_id("id")
            .access_key_secret(SECRET)
            .security_token("")
            .build()
            .unwrap_err(),
        futures_ready(env_provider.provide_credentials()).unwrap_err(),
        futures_ready(shared.provide_credentials()).unwrap_err(),
        CredentialsError::not_loaded("env", "not set"),
        CredentialsError::timed_out("ecs_ram_role", Duration::from_secs(1)),
        CredentialsError::provider("ram_role_arn", "denied")
            .with_code("NoPermission")
            .with_request_id("r-1")
            .with_status(403),
        CredentialsError::unhandled("credentials_uri", "connection reset")
            .with_source(std::io::Error::other("peer closed")),
    ];
    let kinds: std::collections::HashSet<_> = errors.iter().map(CredentialsError::kind).collect();
    assert_eq!(kinds.len(), 5, "every kind is covered");
    for err in &errors {
        assert_error_clean(err);
    }
}

fn futures_ready<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    match std::pin::pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("expected a ready future"),
    }
}
