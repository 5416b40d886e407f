//! RamRoleArnProvider against the emulator's STS: the request, caching, refusals, chained roles. Every
//! test ends by checking that no secret or token travelled in a URL. Faults, the background refresh
//! and serving unexpired credentials through failed refreshes: `faults.rs`.

mod support;

use std::time::Duration;

use mse_auth_emulator::{Emulator, Endpoint, LoggedRequest};
use mse_auth_providers::{
    ram_role_arn, CredentialsProvider, ErrorKind, RamRoleArnProvider, StaticAccessKeyProvider,
};
use support::{assert_issued, Cloud};

const AK: &str = "LTAI5tRamRoleArnTest";
const SECRET: &str = "ram-role-arn-test-secret-5f0c";
const ROLE: &str = "acs:ram::123456789012:role/reader";
const OUTER_ROLE: &str = "acs:ram::123456789012:role/writer";
/// A session policy with spaces, so the body encoding and the signature over it are exercised.
const POLICY: &str =
    r#"{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}]}"#;
const EXTERNAL_ID: &str = "ext-id-4d2a";

async fn cloud() -> Cloud {
    let cloud = support::cloud().await;
    cloud.emulator.add_access_key(AK, SECRET);
    cloud
}

fn builder_with(cloud: &Cloud, id: &str, secret: &str) -> ram_role_arn::Builder {
    RamRoleArnProvider::builder(ROLE)
        .source(StaticAccessKeyProvider::new(id, secret).expect("static source"))
        .session_name("it-session")
        .sts_endpoint(cloud.emulator.sts_endpoint())
        .context(cloud.context())
}

fn builder(cloud: &Cloud) -> ram_role_arn::Builder {
    builder_with(cloud, AK, SECRET)
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
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let provider = builder(&cloud)
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

    let request = last_assume_role(emulator);
    assert_eq!(request.method, "POST");
    let query: Vec<String> = request.query_pairs().into_iter().map(|(k, _)| k).collect();
    assert_eq!(query, support::SIGNED_QUERY);
    assert_eq!(
        request.header("x-acs-credentials-provider"),
        Some("static_ak")
    );
    assert_eq!(request.body_param("RoleArn").as_deref(), Some(ROLE));
    assert_eq!(request.body_param("Policy").as_deref(), Some(POLICY));
    assert_eq!(
        request.body_param("ExternalId").as_deref(),
        Some(EXTERNAL_ID)
    );
    assert_eq!(
        request.body_param("DurationSeconds").as_deref(),
        Some("900")
    );
    assert_eq!(request.body_param("SecurityToken"), None);

    let again = provider.provide_credentials().await.expect("cached");
    assert_eq!(again, creds);
    assert_eq!(emulator.calls(Endpoint::AssumeRole), 1);
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn an_unknown_access_key_is_reported_with_code_request_id_and_status() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let provider = builder_with(&cloud, "LTAI5tNobodyKnowsMe", SECRET)
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
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn a_wrong_secret_is_named_without_quoting_the_string_to_sign() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let provider = builder_with(&cloud, AK, "not-the-secret")
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
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn a_role_can_be_assumed_with_another_roles_credentials() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let inner = builder(&cloud).build().expect("inner");
    let outer = RamRoleArnProvider::builder(OUTER_ROLE)
        .source(inner)
        .session_name("outer-session")
        .sts_endpoint(emulator.sts_endpoint())
        .context(cloud.context())
        .build()
        .expect("outer");

    let creds = outer.provide_credentials().await.expect("chained");
    assert_eq!(creds.provider_path(), "ram_role_arn/ram_role_arn/static_ak");
    let issued = emulator.issued();
    assert_eq!(issued.len(), 2);
    assert_issued(&creds, &issued[1]);
    assert_eq!(issued[1].role_arn.as_deref(), Some(OUTER_ROLE));

    // The outer call was signed with the inner STS credentials; their token went in the body.
    let request = last_assume_role(emulator);
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
        request.body_param("SecurityToken").as_deref(),
        Some(issued[0].security_token.as_str())
    );
    emulator.assert_no_url_leaks();
}
