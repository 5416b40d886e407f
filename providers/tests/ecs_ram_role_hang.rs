//! `ecs_ram_role` against a metadata service that accepts connections and never answers: the load
//! gives up after the token `PUT`'s budget plus the token-less `GET`'s, and the error states that
//! total, not one request's budget.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use mse_auth_emulator::{Emulator, Endpoint, Fault};
use mse_auth_providers::http::Timeouts;
use mse_auth_providers::os::Env;
use mse_auth_providers::{vars, Context, CredentialsError, CredentialsProvider};
use mse_auth_providers::{EcsRamRoleProvider, ErrorKind};

const ROLE: &str = "EcsRamRoleTest";
/// 200 ms connect + 200 ms read: one request's budget is 400 ms.
const BUDGET: Timeouts = Timeouts::new(Duration::from_millis(200), Duration::from_millis(200));

fn provider(endpoint: String, env: &[(&str, &str)]) -> EcsRamRoleProvider {
    EcsRamRoleProvider::builder()
        .metadata_endpoint(endpoint)
        .timeouts(BUDGET)
        .context(Context::default().with_env(Env::from_pairs(env.iter().copied())))
        .build_uncached()
        .expect("valid settings")
}

/// Loads, expecting an error, and returns it with how long the load took.
async fn timed_err(provider: &EcsRamRoleProvider) -> (CredentialsError, Duration) {
    let start = Instant::now();
    match provider.provide_credentials().await {
        Ok(creds) => panic!("expected an error, got {creds:?}"),
        Err(err) => (err, start.elapsed()),
    }
}

/// `elapsed` covers `stated` (the error does not understate the wait) and is not far above it.
fn assert_wait(elapsed: Duration, stated: Duration) {
    assert!(
        elapsed >= stated.mul_f64(0.9) && elapsed < stated + Duration::from_millis(1000),
        "took {elapsed:?}, the error says {stated:?}"
    );
}

#[tokio::test]
async fn a_silent_service_times_out_stating_the_token_put_and_the_get_together() {
    // A listener that never calls accept(): the kernel completes connections and takes requests,
    // nothing ever answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    for env in [vec![], vec![(vars::ECS_METADATA, ROLE)]] {
        let (err, elapsed) = timed_err(&provider(endpoint.clone(), &env)).await;
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
        assert_eq!(err.timeout(), Some(BUDGET.total() * 2), "{env:?}");
        assert_eq!(err.to_string(), "ecs_ram_role: timed out after 800ms");
        assert_wait(elapsed, BUDGET.total() * 2);
    }
    // Without the IMDSv1 fallback only the token PUT is sent: one budget.
    let env = [(vars::ECS_METADATA, ROLE), (vars::IMDSV1_DISABLED, "true")];
    let (err, elapsed) = timed_err(&provider(endpoint, &env)).await;
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert_eq!(err.timeout(), Some(BUDGET.total()));
    assert_eq!(err.to_string(), "ecs_ram_role: timed out after 400ms");
    assert_wait(elapsed, BUDGET.total());
}

#[tokio::test]
async fn an_emulator_hanging_on_every_call_times_out_stating_the_total() {
    let emulator = Emulator::start().await.expect("emulator starts");
    emulator.set_imds_role(ROLE);
    emulator.inject_fault(Endpoint::ImdsToken, Fault::Hang, 1);
    emulator.inject_fault(Endpoint::ImdsCredentials, Fault::Hang, 1);
    let env = [(vars::ECS_METADATA, ROLE)];
    let (err, elapsed) = timed_err(&provider(emulator.ecs_metadata_endpoint(), &env)).await;
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert_eq!(err.to_string(), "ecs_ram_role: timed out after 800ms");
    assert_wait(elapsed, BUDGET.total() * 2);
    assert_eq!(emulator.calls(Endpoint::ImdsToken), 1);
    // The GET without a token that timed out is not repeated.
    assert_eq!(emulator.calls(Endpoint::ImdsCredentials), 1);
}
