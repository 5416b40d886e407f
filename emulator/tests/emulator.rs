//! The emulator over real HTTP: every endpoint, every error code, every fault.

use std::time::{Duration, SystemTime};

use aws_smithy_async::test_util::ManualTimeSource;
use aws_smithy_async::time::{SystemTimeSource, TimeSource};
use mse_auth::sign::rpc_v1;
use mse_auth_emulator::{Emulator, Endpoint, Fault, LoggedRequest};
use reqwest::{Client, StatusCode};
use serde_json::Value;

const AK: &str = "LTAI5tTestKeyId";
const SECRET: &str = "test-secret-value";
const ROLE_ARN: &str = "acs:ram::123456789012:role/test-role";
const OIDC_PROVIDER_ARN: &str = "acs:ram::123456789012:oidc-provider/test-provider";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.test-oidc-token.sig";

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()
        .expect("reqwest client")
}

/// `YYYY-MM-DDTHH:MM:SSZ` for `t`, computed without the emulator's helpers.
fn timestamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (proleptic Gregorian), enough for a test.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn nonce() -> String {
    format!("{:032x}", fastrand_u128())
}

fn fastrand_u128() -> u128 {
    // Good enough uniqueness for nonces in one test process.
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    (t << 20) ^ u128::from(n)
}

/// Common parameters of a signed AssumeRole.
fn common(access_key_id: &str, security_token: Option<&str>) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = [
        ("Action", "AssumeRole".to_owned()),
        ("Version", "2015-04-01".to_owned()),
        ("Format", "JSON".to_owned()),
        ("Timestamp", timestamp(SystemTime::now())),
        ("SignatureMethod", "HMAC-SHA1".to_owned()),
        ("SignatureVersion", "1.0".to_owned()),
        ("SignatureNonce", nonce()),
        ("AccessKeyId", access_key_id.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if let Some(token) = security_token {
        p.push(("SecurityToken".into(), token.into()));
    }
    p
}

fn action(session: &str, policy: Option<&str>) -> Vec<(String, String)> {
    let mut p = vec![
        ("RoleArn".to_owned(), ROLE_ARN.to_owned()),
        ("RoleSessionName".to_owned(), session.to_owned()),
        ("DurationSeconds".to_owned(), "3600".to_owned()),
    ];
    if let Some(policy) = policy {
        p.push(("Policy".into(), policy.into()));
    }
    p
}

fn sign(
    method: &str,
    query: &[(String, String)],
    body: &[(String, String)],
    secret: &str,
) -> String {
    let all: Vec<(&str, &str)> = query
        .iter()
        .chain(body)
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    rpc_v1::signature(method, &all, secret)
}

fn form(pairs: &[(String, String)]) -> String {
    // RFC 3986 encoding is valid form encoding too.
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                rpc_v1::percent_encode(k),
                rpc_v1::percent_encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Go/Node layout: common parameters and Signature in the query, action parameters in the body.
async fn post_assume_role(
    emulator: &Emulator,
    mut query: Vec<(String, String)>,
    body: Vec<(String, String)>,
    secret: &str,
) -> (StatusCode, Value) {
    let signature = sign("POST", &query, &body, secret);
    query.push(("Signature".into(), signature));
    let response = client()
        .post(format!("{}/?{}", emulator.sts_endpoint(), form(&query)))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-acs-credentials-provider", "static_ak")
        .body(form(&body))
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.expect("JSON body"))
}

/// Java/Python layout: everything in the query of a GET.
async fn get_assume_role(
    emulator: &Emulator,
    mut params: Vec<(String, String)>,
    secret: &str,
) -> (StatusCode, Value) {
    let signature = sign("GET", &params, &[], secret);
    params.push(("Signature".into(), signature));
    // Form style with `+` for spaces, as Java's URLEncoder and Python's urlencode send it.
    let query = reqwest::Url::parse_with_params(&emulator.sts_endpoint(), &params).expect("url");
    let response = client().get(query).send().await.expect("request");
    let status = response.status();
    (status, response.json().await.expect("JSON body"))
}

async fn started() -> Emulator {
    started_on(SystemTimeSource::new()).await
}

/// An emulator on the clock `time`.
async fn started_on(time: impl TimeSource + 'static) -> Emulator {
    let emulator = Emulator::builder()
        .time_source(time)
        .start()
        .await
        .expect("emulator starts");
    emulator.add_access_key(AK, SECRET);
    emulator.set_oidc_token(OIDC_TOKEN);
    emulator
}

/// A manual clock at the real time (requests signed with the real time are within the window).
fn manual_clock() -> ManualTimeSource {
    ManualTimeSource::new(SystemTime::now())
}

/// AccessKeyId, AccessKeySecret and SecurityToken of an STS success body.
fn issued_keys(body: &Value) -> (&str, &str, &str) {
    fn field<'a>(body: &'a Value, name: &str) -> &'a str {
        body["Credentials"][name]
            .as_str()
            .unwrap_or_else(|| panic!("no Credentials.{name}: {body}"))
    }
    (
        field(body, "AccessKeyId"),
        field(body, "AccessKeySecret"),
        field(body, "SecurityToken"),
    )
}

fn code(body: &Value) -> &str {
    body["Code"].as_str().unwrap_or("<no Code>")
}

fn assert_error_shape(body: &Value) {
    for field in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
        assert!(body[field].is_string(), "{field} missing in {body}");
    }
    assert_eq!(body["HostId"], "sts.aliyuncs.com");
}

fn assert_expiration_format(expiration: &str) {
    let b = expiration.as_bytes();
    assert_eq!(b.len(), 20, "{expiration}");
    assert!(
        b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && b[19] == b'Z',
        "{expiration}"
    );
}

// ---------------------------------------------------------------------------------------------
// AssumeRole

#[tokio::test]
async fn assume_role_post_with_form_body_issues_credentials() {
    let emulator = started().await;
    let policy =
        r#"{"Statement": [{"Action": ["*"],"Effect": "Allow","Resource": ["*"]}],"Version":"1"}"#;
    let (status, body) = post_assume_role(
        &emulator,
        common(AK, None),
        action("session-1", Some(policy)),
        SECRET,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let creds = &body["Credentials"];
    let issued = emulator.issued();
    assert_eq!(issued.len(), 1);
    assert_eq!(creds["AccessKeyId"], issued[0].access_key_id.as_str());
    assert_eq!(
        creds["AccessKeySecret"],
        issued[0].access_key_secret.as_str()
    );
    assert_eq!(creds["SecurityToken"], issued[0].security_token.as_str());
    assert_eq!(creds["Expiration"], issued[0].expiration_text.as_str());
    assert!(issued[0].access_key_id.starts_with("STS."));
    assert_expiration_format(&issued[0].expiration_text);
    assert_eq!(issued[0].role_session_name.as_deref(), Some("session-1"));
    assert_eq!(
        body["AssumedRoleUser"]["Arn"],
        "acs:ram::123456789012:role/test-role/session-1"
    );
    assert!(body["AssumedRoleUser"]["AssumedRoleId"]
        .as_str()
        .is_some_and(|id| id.ends_with(":session-1")));
    assert!(body["RequestId"].is_string());
    assert_eq!(emulator.calls(Endpoint::AssumeRole), 1);

    let expires_in = issued[0]
        .expiration
        .duration_since(SystemTime::now())
        .expect("in the future");
    assert!(expires_in > Duration::from_secs(3590) && expires_in <= Duration::from_secs(3601));

    // The log holds the request as received; the policy and role travel in the body only.
    let logged = &emulator.requests()[0];
    assert_eq!(logged.method, "POST");
    assert_eq!(logged.endpoint, Some(Endpoint::AssumeRole));
    assert!(!logged.path_and_query.contains("RoleArn"));
    assert!(logged.body.contains("RoleArn="));
    assert_eq!(
        logged.header("X-ACS-Credentials-Provider"),
        Some("static_ak")
    );
}

#[tokio::test]
async fn assume_role_get_with_everything_in_the_query_issues_credentials() {
    let emulator = started().await;
    let mut params = common(AK, None);
    // A policy with spaces: signed per RFC 3986, sent form-encoded with `+`.
    params.extend(action(
        "me@example.com",
        Some(r#"{"Version": "1", "Statement": []}"#),
    ));
    let (status, body) = get_assume_role(&emulator, params, SECRET).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(emulator.requests()[0].path_and_query.contains('+'));
}

#[tokio::test]
async fn duration_seconds_defaults_to_3600_and_sets_the_lifetime() {
    let emulator = started().await;
    let mut body = action("session-1", None);
    body.retain(|(k, _)| k != "DurationSeconds");
    let (status, _) = post_assume_role(&emulator, common(AK, None), body, SECRET).await;
    assert_eq!(status, StatusCode::OK);
    let mut body = action("session-1", None);
    body[2].1 = "900".into();
    let (status, _) = post_assume_role(&emulator, common(AK, None), body, SECRET).await;
    assert_eq!(status, StatusCode::OK);
    let issued = emulator.issued();
    let left = |i: usize| {
        issued[i]
            .expiration
            .duration_since(SystemTime::now())
            .expect("future")
            .as_secs()
    };
    assert!((3590..=3601).contains(&left(0)));
    assert!((890..=901).contains(&left(1)));
}

#[tokio::test]
async fn signature_off_by_one_character_is_rejected() {
    let emulator = started().await;
    let mut query = common(AK, None);
    let body = action("session-1", None);
    let good = sign("POST", &query, &body, SECRET);
    // Change one character of the Base64 signature.
    let mut chars: Vec<char> = good.chars().collect();
    chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
    let bad: String = chars.into_iter().collect();
    query.push(("Signature".into(), bad));
    let response = client()
        .post(format!("{}/?{}", emulator.sts_endpoint(), form(&query)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&body))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("json");
    assert_error_shape(&body);
    assert_eq!(code(&body), "SignatureDoesNotMatch");
    let message = body["Message"].as_str().expect("message");
    assert!(
        message.starts_with(
            "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&"
        ),
        "{message}"
    );
    assert!(emulator.issued().is_empty());
}

#[tokio::test]
async fn wrong_secret_is_rejected() {
    let emulator = started().await;
    let (status, body) =
        post_assume_role(&emulator, common(AK, None), action("s-1", None), "other").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "SignatureDoesNotMatch");
}

#[tokio::test]
async fn signing_with_the_wrong_method_is_rejected() {
    let emulator = started().await;
    let mut params = common(AK, None);
    params.extend(action("s-1", None));
    let signature = sign("POST", &params, &[], SECRET);
    params.push(("Signature".into(), signature));
    let url = reqwest::Url::parse_with_params(&emulator.sts_endpoint(), &params).expect("url");
    let response = client().get(url).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("json");
    assert_eq!(code(&body), "SignatureDoesNotMatch");
}

#[tokio::test]
async fn unknown_access_key_is_not_found() {
    let emulator = started().await;
    let (status, body) = post_assume_role(
        &emulator,
        common("LTAIunknown", None),
        action("s-1", None),
        SECRET,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error_shape(&body);
    assert_eq!(code(&body), "InvalidAccessKeyId.NotFound");
}

#[tokio::test]
async fn missing_parameters_are_reported_by_name() {
    let emulator = started().await;
    for name in [
        "Timestamp",
        "SignatureNonce",
        "AccessKeyId",
        "Format",
        "Version",
    ] {
        let mut query = common(AK, None);
        query.retain(|(k, _)| k != name);
        let (status, body) = post_assume_role(&emulator, query, action("s-1", None), SECRET).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(code(&body), "MissingParameter", "{name}");
        assert!(
            body["Message"].as_str().unwrap_or("").contains(name),
            "{body}"
        );
    }
    for name in ["RoleArn", "RoleSessionName"] {
        let mut body_params = action("s-1", None);
        body_params.retain(|(k, _)| k != name);
        let (status, body) =
            post_assume_role(&emulator, common(AK, None), body_params, SECRET).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(code(&body), "MissingParameter", "{name}");
    }
    // No Signature at all.
    let mut query = common(AK, None);
    let body = action("s-1", None);
    query.push(("Ignored".into(), "x".into()));
    let response = client()
        .post(format!("{}/?{}", emulator.sts_endpoint(), form(&query)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&body))
        .send()
        .await
        .expect("request");
    let body: Value = response.json().await.expect("json");
    assert_eq!(code(&body), "MissingParameter");
    assert!(body["Message"].as_str().unwrap_or("").contains("Signature"));
}

#[tokio::test]
async fn invalid_parameters_are_rejected() {
    let emulator = started().await;
    let cases: [(&str, &str); 7] = [
        ("RoleSessionName", "a"),
        ("RoleSessionName", "has space"),
        ("RoleSessionName", "abcdefghijklmnopqrstuvwxyz0123456"), // 33 chars
        ("DurationSeconds", "899"),
        ("DurationSeconds", "abc"),
        ("RoleArn", "not-an-arn"),
        ("Policy", "{not json"),
    ];
    for (name, value) in cases {
        let mut body_params = action("s-1", None);
        body_params.retain(|(k, _)| k != name);
        body_params.push((name.into(), value.into()));
        let (status, body) =
            post_assume_role(&emulator, common(AK, None), body_params, SECRET).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}={value}");
        assert_eq!(code(&body), "InvalidParameter", "{name}={value}: {body}");
    }
    for (name, value) in [
        ("Version", "2014-05-26"),
        ("SignatureMethod", "HMAC-SHA256"),
        ("SignatureVersion", "2.0"),
    ] {
        let mut query = common(AK, None);
        query.retain(|(k, _)| k != name);
        query.push((name.into(), value.into()));
        let (status, body) = post_assume_role(&emulator, query, action("s-1", None), SECRET).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}={value}");
        assert_eq!(code(&body), "InvalidParameter", "{name}={value}: {body}");
    }
    assert!(emulator.issued().is_empty());
}

#[tokio::test]
async fn reused_nonce_is_rejected() {
    let emulator = started().await;
    let query = common(AK, None);
    let (status, _) = post_assume_role(&emulator, query.clone(), action("s-1", None), SECRET).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = post_assume_role(&emulator, query, action("s-1", None), SECRET).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error_shape(&body);
    assert_eq!(code(&body), "SignatureNonceUsed");
}

#[tokio::test]
async fn timestamps_outside_fifteen_minutes_are_expired() {
    let emulator = started().await;
    for offset in [-16 * 60_i64, 16 * 60] {
        let t = if offset < 0 {
            SystemTime::now() - Duration::from_secs(offset.unsigned_abs())
        } else {
            SystemTime::now() + Duration::from_secs(offset.unsigned_abs())
        };
        let mut query = common(AK, None);
        query.retain(|(k, _)| k != "Timestamp");
        query.push(("Timestamp".into(), timestamp(t)));
        let (status, body) = post_assume_role(&emulator, query, action("s-1", None), SECRET).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "offset {offset}");
        assert_eq!(code(&body), "InvalidTimeStamp.Expired", "offset {offset}");
    }
    // Ten minutes of skew is fine.
    let mut query = common(AK, None);
    query.retain(|(k, _)| k != "Timestamp");
    query.push((
        "Timestamp".into(),
        timestamp(SystemTime::now() - Duration::from_secs(600)),
    ));
    let (status, _) = post_assume_role(&emulator, query, action("s-1", None), SECRET).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn issued_sts_credentials_can_assume_a_role_with_their_token() {
    let emulator = started().await;
    let (status, first) =
        post_assume_role(&emulator, common(AK, None), action("s-1", None), SECRET).await;
    assert_eq!(status, StatusCode::OK);
    let (id, secret, token) = issued_keys(&first);

    // Chained: STS credentials as the source.
    let (status, body) = post_assume_role(
        &emulator,
        common(id, Some(token)),
        action("s-2", None),
        secret,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Without the token.
    let (status, body) =
        post_assume_role(&emulator, common(id, None), action("s-2", None), secret).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "MissingParameter");

    // With another token.
    let (status, body) = post_assume_role(
        &emulator,
        common(id, Some("CAISwrong")),
        action("s-2", None),
        secret,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "InvalidSecurityToken.MismatchWithAccessKey");

    // A long-term key with a token.
    let (status, body) = post_assume_role(
        &emulator,
        common(AK, Some(token)),
        action("s-2", None),
        SECRET,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "InvalidSecurityToken.MismatchWithAccessKey");
}

#[tokio::test]
async fn expired_sts_credentials_are_rejected_as_source() {
    let time = manual_clock();
    let emulator = started_on(time.clone()).await;
    emulator.set_credential_lifetime(Duration::from_secs(1));
    let (status, first) =
        post_assume_role(&emulator, common(AK, None), action("s-1", None), SECRET).await;
    assert_eq!(status, StatusCode::OK);
    let issued = &emulator.issued()[0];
    let left = issued
        .expiration
        .duration_since(time.now())
        .unwrap_or_default();
    assert!(
        left <= Duration::from_secs(2),
        "lifetime override: {left:?}"
    );
    let (id, secret, token) = issued_keys(&first);
    // Expired by the emulator's clock (the request's real-time timestamp stays in the window).
    time.set_time(issued.expiration);
    let (status, body) = post_assume_role(
        &emulator,
        common(id, Some(token)),
        action("s-3", None),
        secret,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(code(&body), "InvalidSecurityToken.Expired");
}

#[tokio::test]
async fn every_date_comes_from_the_time_source() {
    // A clock 20 minutes ahead of the real one: requests stamped with the real time are out of the
    // window, requests stamped with the emulator's time are in it.
    let time = ManualTimeSource::new(SystemTime::now() + Duration::from_secs(20 * 60));
    let emulator = started_on(time.clone()).await;
    let (status, body) =
        post_assume_role(&emulator, common(AK, None), action("s-1", None), SECRET).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(code(&body), "InvalidTimeStamp.Expired");
    let mut query = common(AK, None);
    query.retain(|(k, _)| k != "Timestamp");
    query.push(("Timestamp".into(), timestamp(time.now())));
    let (status, body) = post_assume_role(&emulator, query, action("s-1", None), SECRET).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Issued credentials expire DurationSeconds (rounded up to a second) after the emulator's now.
    let issued = &emulator.issued()[0];
    let lifetime = issued
        .expiration
        .duration_since(time.now())
        .expect("expires after now");
    assert!(
        lifetime >= Duration::from_secs(3600) && lifetime < Duration::from_secs(3601),
        "{lifetime:?}"
    );
    // So does the `Expiration` of a MissingFields answer.
    emulator.inject_fault(Endpoint::CredentialsUri, Fault::MissingFields, 1);
    let body: Value = client()
        .get(emulator.credentials_uri())
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(
        body["Expiration"],
        timestamp(time.now() + Duration::from_secs(3600))
    );
}

#[tokio::test]
async fn unknown_action_and_missing_action() {
    let emulator = started().await;
    let response = client()
        .get(format!(
            "{}/?Action=DescribeRegions",
            emulator.sts_endpoint()
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.expect("json");
    assert_eq!(code(&body), "InvalidAction.NotFound");
    let response = client()
        .get(emulator.sts_endpoint())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(emulator.calls(Endpoint::AssumeRole), 0);
}

// ---------------------------------------------------------------------------------------------
// AssumeRoleWithOIDC

fn oidc_params(token: &str) -> Vec<(String, String)> {
    [
        ("Action", "AssumeRoleWithOIDC"),
        ("Version", "2015-04-01"),
        ("Format", "JSON"),
        ("RoleArn", ROLE_ARN),
        ("OIDCProviderArn", OIDC_PROVIDER_ARN),
        ("OIDCToken", token),
        ("RoleSessionName", "oidc-session"),
        ("DurationSeconds", "3600"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

async fn post_oidc(emulator: &Emulator, params: &[(String, String)]) -> (StatusCode, Value) {
    let (query, body): (Vec<_>, Vec<_>) = params
        .iter()
        .cloned()
        .partition(|(k, _)| matches!(k.as_str(), "Action" | "Version" | "Format"));
    let response = client()
        .post(format!("{}/?{}", emulator.sts_endpoint(), form(&query)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&body))
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn assume_role_with_oidc_post_and_get() {
    let emulator = started().await;
    let (status, body) = post_oidc(&emulator, &oidc_params(OIDC_TOKEN)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["Credentials"]["AccessKeyId"],
        emulator.issued()[0].access_key_id.as_str()
    );
    assert_eq!(emulator.issued()[0].endpoint, Endpoint::AssumeRoleWithOidc);
    // The token stayed out of the URL.
    let logged = &emulator.requests()[0];
    assert!(!logged.path_and_query.contains(OIDC_TOKEN));
    assert!(logged.body.contains("OIDCToken="));

    // Python style: GET with everything in the query.
    let url = reqwest::Url::parse_with_params(&emulator.sts_endpoint(), oidc_params(OIDC_TOKEN))
        .expect("url");
    let response = client().get(url).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(emulator.calls(Endpoint::AssumeRoleWithOidc), 2);
    // ...which the log makes visible.
    assert_eq!(
        emulator.requests()[1].query_param("OIDCToken").as_deref(),
        Some(OIDC_TOKEN)
    );
}

#[tokio::test]
async fn oidc_token_must_match_and_can_change() {
    let emulator = started().await;
    let (status, body) = post_oidc(&emulator, &oidc_params("wrong")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error_shape(&body);
    assert_eq!(code(&body), "AuthenticationFail.OIDCToken.Invalid");

    emulator.set_oidc_token("rotated-token");
    let (status, _) = post_oidc(&emulator, &oidc_params(OIDC_TOKEN)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = post_oidc(&emulator, &oidc_params("rotated-token")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn oidc_required_parameters() {
    let emulator = started().await;
    for name in ["RoleArn", "OIDCProviderArn", "OIDCToken", "RoleSessionName"] {
        let mut params = oidc_params(OIDC_TOKEN);
        params.retain(|(k, _)| k != name);
        let (status, body) = post_oidc(&emulator, &params).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(code(&body), "MissingParameter", "{name}");
    }
    let mut params = oidc_params(OIDC_TOKEN);
    params.retain(|(k, _)| k != "DurationSeconds");
    params.push(("DurationSeconds".into(), "100".into()));
    let (status, body) = post_oidc(&emulator, &params).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "InvalidParameter");
}

// ---------------------------------------------------------------------------------------------
// ECS metadata

const TOKEN_TTL: &str = "X-aliyun-ecs-metadata-token-ttl-seconds";
const TOKEN: &str = "X-aliyun-ecs-metadata-token";
const ROLE_PATH: &str = "/latest/meta-data/ram/security-credentials/";

async fn imds_token(emulator: &Emulator, ttl: &str) -> reqwest::Response {
    client()
        .put(format!(
            "{}/latest/api/token",
            emulator.ecs_metadata_endpoint()
        ))
        .header(TOKEN_TTL, ttl)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn imds_v2_flow_token_role_credentials() {
    let emulator = started().await;
    emulator.set_imds_role("MyEcsRole");
    let response = imds_token(&emulator, "21600").await;
    assert_eq!(response.status(), StatusCode::OK);
    let token = response.text().await.expect("token");
    assert!(!token.is_empty());

    let base = emulator.ecs_metadata_endpoint();
    let response = client()
        .get(format!("{base}{ROLE_PATH}"))
        .header("x-aliyun-ecs-metadata-token", &token) // lower-case works too
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let role = response.text().await.expect("role");
    assert_eq!(role, "MyEcsRole");

    let response = client()
        .get(format!("{base}{ROLE_PATH}{role}"))
        .header(TOKEN, &token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["Code"], "Success");
    let issued = &emulator.issued()[0];
    assert_eq!(issued.endpoint, Endpoint::ImdsCredentials);
    assert_eq!(body["AccessKeyId"], issued.access_key_id.as_str());
    assert_eq!(body["AccessKeySecret"], issued.access_key_secret.as_str());
    assert_eq!(body["SecurityToken"], issued.security_token.as_str());
    assert_eq!(body["Expiration"], issued.expiration_text.as_str());
    assert_expiration_format(body["LastUpdated"].as_str().expect("LastUpdated"));
    assert_eq!(emulator.calls(Endpoint::ImdsToken), 1);
    assert_eq!(emulator.calls(Endpoint::ImdsRole), 1);
    assert_eq!(emulator.calls(Endpoint::ImdsCredentials), 1);
}

#[tokio::test]
async fn imds_token_ttl_is_validated() {
    let emulator = started().await;
    for bad in ["0", "21601", "x"] {
        assert_eq!(
            imds_token(&emulator, bad).await.status(),
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    let response = client()
        .put(format!(
            "{}/latest/api/token",
            emulator.ecs_metadata_endpoint()
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // GET on the token path is not allowed.
    let response = client()
        .get(format!(
            "{}/latest/api/token",
            emulator.ecs_metadata_endpoint()
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn imds_v1_allowed_unless_token_required_and_bad_tokens_refused() {
    let time = manual_clock();
    let emulator = started_on(time.clone()).await;
    let url = format!("{}{ROLE_PATH}", emulator.ecs_metadata_endpoint());
    // v1 (no token): allowed by default.
    let response = client().get(&url).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    // A forged token is refused even in optional mode.
    let response = client()
        .get(&url)
        .header(TOKEN, "forged")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // v1 disabled.
    emulator.set_imds_token_required(true);
    let response = client().get(&url).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let creds_url = format!("{url}{}", "EmulatorEcsRole");
    let response = client().get(&creds_url).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let token = imds_token(&emulator, "60")
        .await
        .text()
        .await
        .expect("token");
    let response = client()
        .get(&creds_url)
        .header(TOKEN, &token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    // A token is refused once its TTL has passed on the emulator's clock.
    let short = imds_token(&emulator, "1")
        .await
        .text()
        .await
        .expect("token");
    let response = client()
        .get(&url)
        .header(TOKEN, &short)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    time.advance(Duration::from_secs(1));
    let response = client()
        .get(&url)
        .header(TOKEN, &short)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn imds_unknown_role_is_not_found() {
    let emulator = started().await;
    let response = client()
        .get(format!(
            "{}{ROLE_PATH}NoSuchRole",
            emulator.ecs_metadata_endpoint()
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(emulator.issued().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Credentials URI

#[tokio::test]
async fn credentials_uri_serves_credentials_and_404_for_wrong_token() {
    let emulator = started().await;
    emulator.set_credential_lifetime(Duration::from_secs(1200));
    let response = client()
        .get(emulator.credentials_uri())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["Code"], "Success");
    let issued = &emulator.issued()[0];
    assert_eq!(issued.endpoint, Endpoint::CredentialsUri);
    assert_eq!(body["AccessKeyId"], issued.access_key_id.as_str());
    assert_eq!(body["AccessKeySecret"], issued.access_key_secret.as_str());
    assert_eq!(body["SecurityToken"], issued.security_token.as_str());
    assert_eq!(body["Expiration"], issued.expiration_text.as_str());
    let left = issued
        .expiration
        .duration_since(SystemTime::now())
        .expect("future")
        .as_secs();
    assert!((1190..=1201).contains(&left), "{left}");

    let response = client()
        .get(format!("{}/credentials/wrong-token", emulator.base_url()))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(emulator.calls(Endpoint::CredentialsUri), 2);
    assert_eq!(emulator.issued().len(), 1);
}

#[tokio::test]
async fn credentials_uri_has_a_random_token() {
    let a = Emulator::start().await.expect("start");
    let b = Emulator::start().await.expect("start");
    let token = |e: &Emulator| e.credentials_uri().rsplit('/').next().map(str::to_owned);
    assert_ne!(token(&a), token(&b));
    assert!(token(&a).is_some_and(|t| t.len() >= 16));
}

// ---------------------------------------------------------------------------------------------
// Faults

#[tokio::test]
async fn status_fault_answers_error_json_then_recovers() {
    let emulator = started().await;
    emulator.inject_fault(Endpoint::CredentialsUri, Fault::Status(503), 2);
    for _ in 0..2 {
        let response = client()
            .get(emulator.credentials_uri())
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body: Value = response.json().await.expect("json");
        assert_eq!(code(&body), "ServiceUnavailable");
        assert!(body["Message"].is_string() && body["RequestId"].is_string());
    }
    let response = client()
        .get(emulator.credentials_uri())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(emulator.calls(Endpoint::CredentialsUri), 3);
}

#[tokio::test]
async fn status_fault_on_sts_has_the_sts_error_shape() {
    let emulator = started().await;
    emulator.inject_fault(Endpoint::AssumeRole, Fault::Status(500), 1);
    let (status, body) =
        post_assume_role(&emulator, common(AK, None), action("s-1", None), SECRET).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_error_shape(&body);
    assert_eq!(code(&body), "InternalError");
}

#[tokio::test]
async fn garbage_fault_is_200_and_not_json() {
    let emulator = started().await;
    emulator.inject_fault(Endpoint::ImdsCredentials, Fault::Garbage, 1);
    let response = client()
        .get(format!(
            "{}{ROLE_PATH}EmulatorEcsRole",
            emulator.ecs_metadata_endpoint()
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("body");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
}

#[tokio::test]
async fn close_fault_drops_the_connection_without_a_response() {
    let emulator = started().await;
    emulator.inject_fault(Endpoint::CredentialsUri, Fault::Close, 1);
    let err = client()
        .get(emulator.credentials_uri())
        .send()
        .await
        .expect_err("the connection is closed");
    assert!(!err.is_timeout(), "{err:?}");
    assert!(
        err.is_request() || err.is_connect() || err.to_string().contains("error sending request"),
        "{err:?}"
    );
    assert_eq!(emulator.calls(Endpoint::CredentialsUri), 1);
    // The next request is served normally.
    let response = client()
        .get(emulator.credentials_uri())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn hang_fault_times_the_client_out() {
    let emulator = started().await;
    emulator.inject_fault(Endpoint::ImdsToken, Fault::Hang, 1);
    let client = Client::builder()
        .timeout(Duration::from_millis(300))
        .no_proxy()
        .build()
        .expect("client");
    let started = std::time::Instant::now();
    let err = client
        .put(format!(
            "{}/latest/api/token",
            emulator.ecs_metadata_endpoint()
        ))
        .header(TOKEN_TTL, "21600")
        .send()
        .await
        .expect_err("hangs");
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(emulator.calls(Endpoint::ImdsToken), 1);
}

#[tokio::test]
async fn delay_fault_answers_normally_after_the_delay() {
    let emulator = started().await;
    emulator.inject_fault(
        Endpoint::ImdsRole,
        Fault::Delay(Duration::from_millis(300)),
        1,
    );
    let started = std::time::Instant::now();
    let response = client()
        .get(format!("{}{ROLE_PATH}", emulator.ecs_metadata_endpoint()))
        .send()
        .await
        .expect("request");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.expect("body"), "EmulatorEcsRole");
}

#[tokio::test]
async fn missing_fields_fault_omits_the_credentials() {
    let emulator = started().await;
    emulator.inject_fault(Endpoint::AssumeRoleWithOidc, Fault::MissingFields, 1);
    emulator.inject_fault(Endpoint::CredentialsUri, Fault::MissingFields, 1);
    let (status, body) = post_oidc(&emulator, &oidc_params(OIDC_TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("Credentials").is_none(), "{body}");
    let body: Value = client()
        .get(emulator.credentials_uri())
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert!(body.get("AccessKeyId").is_none(), "{body}");
    assert_eq!(body["Code"], "Success");
}

#[tokio::test]
async fn faults_queue_in_order() {
    let emulator = started().await;
    emulator.inject_fault(Endpoint::CredentialsUri, Fault::Status(429), 1);
    emulator.inject_fault(Endpoint::CredentialsUri, Fault::Status(500), 1);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(
            client()
                .get(emulator.credentials_uri())
                .send()
                .await
                .expect("request")
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [429, 500, 200]);
}

// ---------------------------------------------------------------------------------------------
// Lifecycle and logging

#[tokio::test]
async fn drop_stops_the_server() {
    let emulator = started().await;
    let url = emulator.credentials_uri();
    assert!(client().get(&url).send().await.is_ok());
    drop(emulator);
    // The abort takes effect at the task's next poll; allow a few scheduler turns (bounded).
    let mut refused = false;
    for _ in 0..50 {
        tokio::task::yield_now().await;
        let fresh = Client::builder()
            .timeout(Duration::from_millis(500))
            .no_proxy()
            .pool_max_idle_per_host(0)
            .build()
            .expect("client");
        if fresh.get(&url).send().await.is_err() {
            refused = true;
            break;
        }
    }
    assert!(refused, "the listener still answers after drop");
}

#[tokio::test]
async fn drop_ends_hanging_connections() {
    let emulator = started().await;
    emulator.inject_fault(Endpoint::CredentialsUri, Fault::Hang, 1);
    let url = emulator.credentials_uri();
    let pending = tokio::spawn(async move {
        Client::builder()
            .timeout(Duration::from_secs(10))
            .no_proxy()
            .build()
            .expect("client")
            .get(url)
            .send()
            .await
    });
    // Until the request has arrived (bounded: the scheduler turns it takes, and 5 s).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    for _ in 0..100_000 {
        if emulator.calls(Endpoint::CredentialsUri) == 1 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(emulator.calls(Endpoint::CredentialsUri), 1, "no request");
    let started = std::time::Instant::now();
    drop(emulator);
    let result = pending.await.expect("join");
    let err = result.expect_err("no response after drop");
    assert!(!err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn every_request_is_logged_with_headers_and_body() {
    let emulator = started().await;
    let _ = client()
        .post(format!("{}/nowhere?x=1", emulator.base_url()))
        .header("X-Custom", "value")
        .body("hello")
        .send()
        .await
        .expect("request");
    let log: Vec<LoggedRequest> = emulator.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].method, "POST");
    assert_eq!(log[0].path_and_query, "/nowhere?x=1");
    assert_eq!(log[0].endpoint, None);
    assert_eq!(log[0].header("x-custom"), Some("value"));
    assert_eq!(log[0].body, "hello");
}

#[tokio::test]
async fn issued_debug_output_hides_secrets() {
    let emulator = started().await;
    let _ = client()
        .get(emulator.credentials_uri())
        .send()
        .await
        .expect("request");
    let issued = &emulator.issued()[0];
    let debug = format!("{issued:?}");
    assert!(!debug.contains(&issued.access_key_secret));
    assert!(!debug.contains(&issued.security_token));
    assert!(debug.contains(&issued.access_key_id));
}

#[test]
fn timestamp_helper_is_correct() {
    assert_eq!(
        timestamp(SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200)),
        "2024-01-01T00:00:00Z"
    );
    assert_eq!(
        timestamp(SystemTime::UNIX_EPOCH + Duration::from_secs(951_827_696)),
        "2000-02-29T12:34:56Z"
    );
}

#[tokio::test]
async fn url_leaks_reports_secrets_in_urls_without_echoing_them() {
    let emulator = Emulator::start().await.unwrap();
    emulator.add_access_key("LTAI5tLeakCheck", "leak-check-secret");
    emulator.set_oidc_token("leak-check-oidc-token");
    let client = reqwest::Client::new();
    let base = emulator.base_url();
    client
        .get(format!(
            "{base}/?Action=AssumeRoleWithOIDC&OIDCToken=leak-check-oidc-token"
        ))
        .send()
        .await
        .unwrap();
    client
        .get(format!("{base}/?Action=AssumeRole"))
        .send()
        .await
        .unwrap();
    let leaks = emulator.url_leaks();
    assert_eq!(
        leaks,
        vec!["GET / carried an OIDC token in its URL".to_string()]
    );
}
