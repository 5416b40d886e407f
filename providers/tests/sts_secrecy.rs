//! The STS providers, at TRACE level, never log, format or put in a URL a secret, a security token or
//! an OIDC token: a chained RAM role flow, an OIDC flow and a refusal of each.
//!
//! One test in its own binary: `tracing` caches per-callsite interest process-wide, and a thread-local
//! subscriber racing with other tests' first use of a callsite can miss events.

mod support;

use mse_auth::test_util::CapturedLog;

use mse_auth_emulator::Emulator;
use mse_auth_providers::os::{Env, Fs};
use mse_auth_providers::{
    Context, CredentialsProvider, OidcRoleArnProvider, RamRoleArnProvider, StaticAccessKeyProvider,
};

const AK: &str = "LTAI5tSecrecyTestKey";
const SECRET: &str = "sentinel-SECRET-3e9d";
const WRONG_SECRET: &str = "sentinel-WRONG-SECRET-1a7b";
const ROLE: &str = "acs:ram::123456789012:role/reader";
const OUTER_ROLE: &str = "acs:ram::123456789012:role/writer";
const IDP: &str = "acs:ram::123456789012:oidc-provider/rrsa";
const TOKEN_FILE: &str = "/var/run/secrets/rrsa/token";
const OIDC_TOKEN: &str = "sentinel-OIDC-TOKEN-5c2f";
const OTHER_OIDC_TOKEN: &str = "sentinel-OTHER-OIDC-TOKEN-8d04";

fn context() -> Context {
    Context::default()
        .with_env(Env::from_pairs::<&str, &str>([]))
        .with_fs(Fs::from_pairs([(TOKEN_FILE, OIDC_TOKEN)]))
}

fn ram_role(emulator: &Emulator, secret: &str) -> RamRoleArnProvider {
    RamRoleArnProvider::builder(ROLE)
        .source(StaticAccessKeyProvider::new(AK, secret).expect("static source"))
        .sts_endpoint(emulator.sts_endpoint())
        .context(context())
        .build_uncached()
        .expect("build")
}

/// Runs every flow, returning what `Display` and `Debug` showed along the way.
async fn flows(emulator: &Emulator) -> String {
    let inner = RamRoleArnProvider::builder(ROLE)
        .source(StaticAccessKeyProvider::new(AK, SECRET).expect("static source"))
        .sts_endpoint(emulator.sts_endpoint())
        .context(context())
        .build()
        .expect("inner");
    let outer = RamRoleArnProvider::builder(OUTER_ROLE)
        .source(inner)
        .sts_endpoint(emulator.sts_endpoint())
        .context(context())
        .build()
        .expect("outer");
    let chained = outer.provide_credentials().await.expect("chained");
    let mut shown = format!("{chained} {chained:?} {outer:?}");

    let wrong = ram_role(emulator, WRONG_SECRET);
    let err = wrong.provide_credentials().await.unwrap_err();
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
    shown.push_str(&format!(
        "{err} {err:?} {wrong:?} {:?}",
        ram_role(emulator, SECRET)
    ));

    let oidc = OidcRoleArnProvider::builder(ROLE, IDP, TOKEN_FILE)
        .sts_endpoint(emulator.sts_endpoint())
        .context(context())
        .build()
        .expect("oidc");
    let creds = oidc.provide_credentials().await.expect("oidc credentials");
    shown.push_str(&format!("{creds} {creds:?} {oidc:?}"));

    emulator.set_oidc_token(OTHER_OIDC_TOKEN);
    let refused = OidcRoleArnProvider::builder(ROLE, IDP, TOKEN_FILE)
        .sts_endpoint(emulator.sts_endpoint())
        .context(context())
        .build()
        .expect("oidc");
    let err = refused.provide_credentials().await.unwrap_err();
    assert_eq!(err.code(), Some("AuthenticationFail.OIDCToken.Invalid"));
    shown.push_str(&format!("{err} {err:?} {refused:?}"));
    shown
}

#[tokio::test]
async fn no_secret_or_token_reaches_trace_logs_debug_display_or_urls() {
    let log = CapturedLog::default();
    let _guard = tracing::subscriber::set_default(support::trace_subscriber(&log));

    let emulator = Emulator::start().await.expect("start the emulator");
    emulator.add_access_key(AK, SECRET);
    emulator.set_oidc_token(OIDC_TOKEN);
    let shown = flows(&emulator).await;

    let text = log.text();
    for expected in ["assumed role", "assumed role with OIDC", "loading failed"] {
        assert!(
            text.contains(expected),
            "`{expected}` was not logged: {text}"
        );
    }
    let mut secrets: Vec<String> = [SECRET, WRONG_SECRET, OIDC_TOKEN, OTHER_OIDC_TOKEN]
        .map(String::from)
        .to_vec();
    secrets.extend(support::issued_secrets(&emulator, 3));
    support::assert_none_shown(&text, &shown, &secrets);
    emulator.assert_no_url_leaks();
}
