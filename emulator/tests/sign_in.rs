//! The CLI's sign-in services over real HTTP: CloudSSO `/cloud-credentials`, OAuth `/v1/token` and
//! `/v1/exchange` — what they take, what they refuse, their faults, counts and the URL-leak check.

use std::time::{Duration, SystemTime};

use aws_smithy_async::test_util::ManualTimeSource;
use aws_smithy_async::time::TimeSource;
use mse_auth_emulator::{Emulator, Endpoint, Fault, OAUTH_CLIENT_IDS};
use reqwest::Client;
use serde_json::{json, Value};

const SSO_TOKEN: &str = "sso-access-token-7f3a";
const ACCOUNT: &str = "1234567890123456";
const ACCESS_CONFIG: &str = "ac-emulator";
const REFRESH_TOKEN: &str = "oauth-refresh-token-19c2";

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()
        .expect("reqwest client")
}

async fn manual() -> (ManualTimeSource, Emulator) {
    let time = ManualTimeSource::new(SystemTime::now());
    let emulator = Emulator::builder()
        .time_source(time.clone())
        .start()
        .await
        .expect("start");
    (time, emulator)
}

fn origin(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("http");
    format!("http://{}", rest.split('/').next().unwrap_or_default())
}

async fn sso(emulator: &Emulator, token: &str, body: Value) -> (u16, Value) {
    let response = client()
        .post(format!(
            "{}/cloud-credentials",
            origin(&emulator.cloud_sso_sign_in_url())
        ))
        .header("Accept", "application/json")
        .header("Authorization", format!("Bearer {token}"))
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn sso_body() -> Value {
    json!({"AccountId": ACCOUNT, "AccessConfigurationId": ACCESS_CONFIG})
}

#[tokio::test]
async fn cloud_sso_issues_credentials_for_a_known_unexpired_token() {
    let (time, emulator) = manual().await;
    let url = emulator.cloud_sso_sign_in_url();
    assert!(
        url.starts_with(&emulator.base_url()) && url.ends_with("/login"),
        "{url}"
    );
    emulator.cloud_sso_add_access_token(
        SSO_TOKEN,
        time.now() + Duration::from_secs(600),
        ACCOUNT,
        ACCESS_CONFIG,
    );
    let (status, body) = sso(&emulator, SSO_TOKEN, sso_body()).await;
    assert_eq!(status, 200, "{body}");
    let issued = emulator.issued();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].endpoint, Endpoint::CloudSsoCredentials);
    let c = &body["CloudCredential"];
    assert_eq!(c["AccessKeyId"], issued[0].access_key_id.as_str());
    assert_eq!(c["AccessKeySecret"], issued[0].access_key_secret.as_str());
    assert_eq!(c["SecurityToken"], issued[0].security_token.as_str());
    assert_eq!(c["Expiration"], issued[0].expiration_text.as_str());
    assert!(body["RequestId"].is_string());

    let wrong_config = json!({"AccountId": ACCOUNT, "AccessConfigurationId": "ac-other"});
    let (status, body) = sso(&emulator, SSO_TOKEN, wrong_config).await;
    assert_eq!(
        (status, &body["Code"]),
        (400, &json!("InvalidParameter.AccessConfigurationId"))
    );
    let (status, body) = sso(&emulator, "unknown", sso_body()).await;
    assert_eq!((status, &body["Code"]), (401, &json!("InvalidAccessToken")));
    time.advance(Duration::from_secs(600));
    let (status, body) = sso(&emulator, SSO_TOKEN, sso_body()).await;
    assert_eq!(
        (status, &body["Code"]),
        (401, &json!("InvalidAccessToken.Expired"))
    );
    assert_eq!(emulator.calls(Endpoint::CloudSsoCredentials), 4);
    let get = client()
        .get(format!("{}/cloud-credentials", emulator.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status().as_u16(), 405);
    emulator.assert_no_url_leaks();
}

async fn token(emulator: &Emulator, refresh_token: &str, client_id: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", client_id),
        ("Timestamp", "2024-01-01T00:00:00Z"),
    ];
    let response = client()
        .post(format!("{}/v1/token", emulator.oauth_endpoint()))
        .form(&form)
        .send()
        .await
        .expect("send");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn exchange(emulator: &Emulator, access_token: &str) -> (u16, Value) {
    let response = client()
        .post(format!("{}/v1/exchange", emulator.oauth_endpoint()))
        .header("Content-Type", "application/json")
        .header("Authorization", format!("Bearer {access_token}"))
        .send()
        .await
        .expect("send");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn oauth_rotates_refresh_tokens_and_exchanges_unexpired_access_tokens() {
    let (time, emulator) = manual().await;
    emulator.oauth_add_refresh_token(REFRESH_TOKEN);
    emulator.set_oauth_token_lifetime(Duration::from_secs(1800));
    let (status, body) = token(&emulator, REFRESH_TOKEN, OAUTH_CLIENT_IDS[1]).await;
    assert_eq!(status, 200, "{body}");
    let issued = emulator.oauth_issued();
    assert_eq!(issued.len(), 1);
    assert_eq!(body["access_token"], issued[0].access_token.as_str());
    assert_eq!(body["refresh_token"], issued[0].refresh_token.as_str());
    assert_eq!(
        (body["expires_in"].as_u64(), issued[0].expires_in),
        (Some(1800), 1800)
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(issued[0].client_id, OAUTH_CLIENT_IDS[1]);
    assert!(!format!("{issued:?}").contains(&issued[0].access_token));

    let (status, body) = token(&emulator, REFRESH_TOKEN, OAUTH_CLIENT_IDS[1]).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")));
    assert_eq!(
        body["error_description"],
        "The refresh token has already been used."
    );

    let (status, body) = exchange(&emulator, &issued[0].access_token).await;
    assert_eq!(status, 200, "{body}");
    let sts = &emulator.issued()[0];
    assert_eq!(sts.endpoint, Endpoint::OAuthExchange);
    assert_eq!(body["AccessKeyId"], sts.access_key_id.as_str());
    assert_eq!(body["Expiration"], sts.expiration_text.as_str());

    time.advance(Duration::from_secs(1800));
    let (status, body) = exchange(&emulator, &issued[0].access_token).await;
    assert_eq!((status, &body["error"]), (401, &json!("invalid_token")));
    let (status, _) = token(&emulator, &issued[0].refresh_token, OAUTH_CLIENT_IDS[1]).await;
    assert_eq!(status, 200);
    assert_eq!(emulator.calls(Endpoint::OAuthToken), 3);
    assert_eq!(emulator.calls(Endpoint::OAuthExchange), 2);

    emulator.oauth_add_access_token("added-at", time.now() + Duration::from_secs(5));
    assert_eq!(exchange(&emulator, "added-at").await.0, 200);
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn faults_answer_in_each_services_error_shape() {
    let (time, emulator) = manual().await;
    emulator.cloud_sso_add_access_token(
        SSO_TOKEN,
        time.now() + Duration::from_secs(600),
        ACCOUNT,
        ACCESS_CONFIG,
    );
    emulator.oauth_add_refresh_token(REFRESH_TOKEN);
    emulator.inject_fault(Endpoint::CloudSsoCredentials, Fault::Status(503), 1);
    emulator.inject_fault(Endpoint::CloudSsoCredentials, Fault::MissingFields, 1);
    emulator.inject_fault(Endpoint::OAuthToken, Fault::Status(500), 1);
    emulator.inject_fault(Endpoint::OAuthToken, Fault::MissingFields, 1);
    emulator.inject_fault(Endpoint::OAuthExchange, Fault::MissingFields, 1);

    let (status, body) = sso(&emulator, SSO_TOKEN, sso_body()).await;
    assert_eq!((status, &body["Code"]), (503, &json!("ServiceUnavailable")));
    assert!(body["RequestId"].is_string() && body["Message"].is_string());
    let (status, body) = sso(&emulator, SSO_TOKEN, sso_body()).await;
    assert_eq!(status, 200);
    assert!(
        body["CloudCredential"]["AccessKeyId"].is_null()
            && body["CloudCredential"]["SecurityToken"].is_string()
    );

    let (status, body) = token(&emulator, REFRESH_TOKEN, OAUTH_CLIENT_IDS[0]).await;
    assert_eq!((status, &body["error"]), (500, &json!("server_error")));
    let (status, body) = token(&emulator, REFRESH_TOKEN, OAUTH_CLIENT_IDS[0]).await;
    assert_eq!(status, 200);
    assert!(body["access_token"].is_null() && body["refresh_token"].is_null());
    // Faults answer in place of the service: the refresh token is still unspent.
    let (status, body) = token(&emulator, REFRESH_TOKEN, OAUTH_CLIENT_IDS[0]).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = exchange(&emulator, body["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert!(body["AccessKeyId"].is_null() && body["AccessKeySecret"].is_string());
    assert_eq!(emulator.calls(Endpoint::OAuthToken), 3);
}

#[tokio::test]
async fn tokens_in_urls_are_reported_as_leaks() {
    let emulator = Emulator::start().await.expect("start");
    emulator.oauth_add_refresh_token(REFRESH_TOKEN);
    emulator.cloud_sso_add_access_token(
        SSO_TOKEN,
        SystemTime::now() + Duration::from_secs(60),
        ACCOUNT,
        ACCESS_CONFIG,
    );
    client()
        .post(format!(
            "{}/v1/token?refresh_token={REFRESH_TOKEN}",
            emulator.oauth_endpoint()
        ))
        .send()
        .await
        .unwrap();
    client()
        .post(format!(
            "{}/cloud-credentials?t={SSO_TOKEN}",
            emulator.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        emulator.url_leaks(),
        [
            "POST /v1/token carried an OAuth refresh token in its URL",
            "POST /cloud-credentials carried a CloudSSO access token in its URL",
        ]
    );
}
