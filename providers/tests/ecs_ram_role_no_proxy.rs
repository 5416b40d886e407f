//! Instance metadata is never fetched through a proxy (spec §6.2, §15.14), even when the process
//! environment names one. Its own test binary: it sets process-wide proxy variables.

mod support;

use mse_auth_emulator::{Emulator, Endpoint};
use mse_auth_providers::http::{HttpClient, HttpRequest, Timeouts};
use mse_auth_providers::os::Env;
use mse_auth_providers::{vars, Context, CredentialsProvider, CredentialsUriProvider};
use mse_auth_providers::{EcsRamRoleProvider, ErrorKind};

const ROLE: &str = "EcsRamRoleTest";

#[test]
fn metadata_calls_ignore_a_dead_proxy_that_breaks_proxied_calls() {
    // Set before any thread of this binary starts, and before the HTTP client reads them.
    let dead_proxy = format!("http://127.0.0.1:{}", support::closed_port());
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        std::env::set_var(name, &dead_proxy);
    }
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let emulator = Emulator::start().await.expect("emulator starts");
        emulator.set_imds_role(ROLE);
        // A fresh client family, created after the proxy variables were set.
        let http = HttpClient::default();
        let ctx = Context::default()
            .with_env(Env::from_pairs([(vars::ECS_METADATA, ROLE)]))
            .with_http(http.clone());

        let creds = EcsRamRoleProvider::builder()
            .metadata_endpoint(emulator.ecs_metadata_endpoint())
            .context(ctx.clone())
            .build()
            .expect("valid settings")
            .provide_credentials()
            .await
            .expect("metadata calls connect directly");
        assert_eq!(creds.access_key_id(), emulator.issued()[0].access_key_id);
        assert_eq!(emulator.calls(Endpoint::ImdsToken), 1);
        assert_eq!(emulator.calls(Endpoint::ImdsCredentials), 1);

        // The control: the same client family, asked to honour the environment, goes to the dead proxy.
        let url = reqwest::Url::parse(&emulator.credentials_uri()).expect("URL");
        let proxied = http.send(HttpRequest::get(url, Timeouts::URI)).await;
        assert!(proxied.is_err(), "a proxied call reached the emulator");
        let err = CredentialsUriProvider::builder(emulator.credentials_uri())
            .context(ctx)
            .build_uncached()
            .expect("valid URI")
            .provide_credentials()
            .await
            .expect_err("the credentials URI honours the (dead) proxy");
        assert_eq!(err.kind(), ErrorKind::Unhandled, "{err}");
        assert_eq!(emulator.calls(Endpoint::CredentialsUri), 0);
        emulator.assert_no_url_leaks();
    });
}
