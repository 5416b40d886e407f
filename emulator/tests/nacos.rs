//! The emulator's Nacos side over real HTTP: login, the token-checked config read, revocation,
//! expiry on the emulator's clock, faults, and separate call counts.

use std::time::{Duration, SystemTime};

use aws_smithy_async::test_util::ManualTimeSource;
use mse_auth_emulator::{Emulator, Endpoint, Fault};
use reqwest::{Client, StatusCode};
use serde_json::Value;

const USER: &str = "nacos";
const PASSWORD: &str = "sentinel-emulator-password";
const GROUP: &str = "DEFAULT_GROUP";

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()
        .expect("reqwest client")
}

async fn started(time: ManualTimeSource) -> Emulator {
    let emulator = Emulator::builder()
        .time_source(time)
        .start()
        .await
        .expect("emulator");
    emulator.nacos_add_user(USER, PASSWORD);
    emulator.nacos_put_config("app.yaml", GROUP, "k: v");
    emulator
}

async fn login(emulator: &Emulator) -> (StatusCode, String) {
    let response = client()
        .post(format!("{}/nacos/v3/auth/user/login", emulator.base_url()))
        .query(&[("username", USER)])
        .form(&[("password", PASSWORD)])
        .send()
        .await
        .expect("login request");
    (
        response.status(),
        response.text().await.expect("login body"),
    )
}

async fn token(emulator: &Emulator) -> String {
    let (status, body) = login(emulator).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body: Value = serde_json::from_str(&body).expect("login JSON");
    body["accessToken"].as_str().expect("a token").to_owned()
}

/// Reads `app.yaml` with `token` in the `accessToken` header (kept out of the URL).
async fn read(emulator: &Emulator, token: &str) -> (StatusCode, String) {
    let response = client()
        .get(format!("{}/nacos/v1/cs/configs", emulator.base_url()))
        .query(&[("dataId", "app.yaml"), ("group", GROUP)])
        .header("accessToken", token)
        .send()
        .await
        .expect("config request");
    (response.status(), response.text().await.expect("body"))
}

fn message(body: &str) -> String {
    let body: Value = serde_json::from_str(body).expect("a JSON error body");
    assert_eq!(body["status"], 403);
    assert_eq!(body["error"], "Forbidden");
    body["message"].as_str().expect("a message").to_owned()
}

#[tokio::test]
async fn a_token_reads_configs_until_revoked_and_a_new_login_reads_again() {
    let emulator = started(ManualTimeSource::new(SystemTime::now())).await;
    let first = token(&emulator).await;
    assert_eq!(
        read(&emulator, &first).await,
        (StatusCode::OK, "k: v".into())
    );
    emulator.nacos_revoke_tokens();
    let (status, body) = read(&emulator, &first).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(message(&body), "Invalid signature");
    let second = token(&emulator).await;
    assert_ne!(first, second);
    assert_eq!(read(&emulator, &second).await.0, StatusCode::OK);
    assert_eq!(read(&emulator, &first).await.0, StatusCode::FORBIDDEN);
    let (status, body) = read(&emulator, "not-a-token").await;
    assert_eq!(
        (status, message(&body)),
        (StatusCode::FORBIDDEN, "token invalid!".into())
    );
    // Logins and data requests are counted apart; none of them carried the token in its URL.
    assert_eq!(emulator.calls(Endpoint::NacosLogin), 2);
    assert_eq!(emulator.calls(Endpoint::NacosGetConfig), 5);
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn tokens_expire_on_the_emulators_clock() {
    let time = ManualTimeSource::new(SystemTime::now());
    let emulator = started(time.clone()).await;
    emulator.set_nacos_token_ttl(Duration::from_secs(20));
    let token = token(&emulator).await;
    time.advance(Duration::from_secs(20));
    assert_eq!(read(&emulator, &token).await.0, StatusCode::OK);
    time.advance(Duration::from_secs(1));
    let (status, body) = read(&emulator, &token).await;
    assert_eq!(
        (status, message(&body)),
        (StatusCode::FORBIDDEN, "token expired!".into())
    );
}

#[tokio::test]
async fn the_token_may_come_as_a_bearer_header_or_a_parameter_and_a_missing_one_is_refused() {
    let emulator = started(ManualTimeSource::new(SystemTime::now())).await;
    let token = token(&emulator).await;
    let url = format!("{}/nacos/v1/cs/configs", emulator.base_url());
    let query = [("dataId", "app.yaml"), ("group", GROUP)];
    let bearer = client()
        .get(&url)
        .query(&query)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
    let anonymous = client().get(&url).query(&query).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::FORBIDDEN);
    assert_eq!(message(&anonymous.text().await.unwrap()), "user not found!");
    let other = client()
        .get(&url)
        .query(&[("dataId", "other.yaml"), ("group", GROUP)])
        .header("accessToken", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    assert_eq!(other.text().await.unwrap(), "config data not exist");
    let post = client()
        .post(&url)
        .query(&query)
        .header("accessToken", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    // The open API carries the token in the query; the emulator reports that as a leak.
    let in_url = client()
        .get(&url)
        .query(&[
            ("dataId", "app.yaml"),
            ("group", GROUP),
            ("accessToken", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(in_url.status(), StatusCode::OK);
    let leaks = emulator.url_leaks();
    assert_eq!(
        leaks,
        ["GET /nacos/v1/cs/configs carried a Nacos token in its URL"]
    );
    assert!(!leaks[0].contains(&token));
}

#[tokio::test]
async fn faults_hit_logins_and_config_reads_separately() {
    let emulator = started(ManualTimeSource::new(SystemTime::now())).await;
    emulator.inject_fault(Endpoint::NacosLogin, Fault::Status(503), 1);
    emulator.inject_fault(Endpoint::NacosLogin, Fault::MissingFields, 1);
    assert_eq!(login(&emulator).await.0, StatusCode::SERVICE_UNAVAILABLE);
    let (status, body) = login(&emulator).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("accessToken"), "{body}");
    let token = token(&emulator).await;
    emulator.inject_fault(Endpoint::NacosGetConfig, Fault::Status(500), 1);
    assert_eq!(
        read(&emulator, &token).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(read(&emulator, &token).await.0, StatusCode::OK);
    assert_eq!(emulator.calls(Endpoint::NacosLogin), 3);
    assert_eq!(emulator.calls(Endpoint::NacosGetConfig), 2);
}
