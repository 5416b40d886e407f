//! Bad input end to end: boolean switches the official SDKs would ignore, explicit files that are
//! missing, credentials with control characters, endless token files, and hostile servers whose
//! answers carry escape sequences — against the emulator and canned loopback servers.

mod support;

use mse_auth::test_util::CapturedLog;
use mse_auth_emulator::{Emulator, Endpoint};
use mse_auth_providers::kms::KmsClient;
use mse_auth_providers::nacos::NacosLogin;
use mse_auth_providers::os::{Env, Fs};
use mse_auth_providers::{
    vars, Context, CredentialsError, CredentialsProvider, CredentialsUriProvider, DefaultChain,
    ErrorKind, KmsRotatingProvider, OidcRoleArnProvider, RamRoleArnProvider,
    StaticAccessKeyProvider,
};
use support::{closed_port, Canned};

const AK: &str = "LTAI5tBadInput";
const SECRET: &str = "bad-input-secret-sentinel";
const ROLE: &str = "acs:ram::1234567890:role/bad-input";
const IDP: &str = "acs:ram::1234567890:oidc-provider/bad-input";

/// The text a terminal would show: no raw control character may be in it.
fn assert_no_raw_controls(err: &CredentialsError) {
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.chars().any(char::is_control),
        "raw control characters reach the terminal: {shown:?}"
    );
}

fn context(env: &[(&str, &str)], files: Vec<(&str, Vec<u8>)>) -> Context {
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let mut pairs: Vec<(String, String)> = vec![("HOME".into(), "/home/bad".into())];
    if !env.iter().any(|(k, _)| *k == vars::ECS_METADATA_ENDPOINT) {
        pairs.push((vars::ECS_METADATA_ENDPOINT.into(), closed));
    }
    pairs.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Context::default()
        .with_env(Env::from_pairs(pairs))
        .with_fs(Fs::from_pairs(files))
}

async fn chain_error(ctx: Context) -> CredentialsError {
    let err = DefaultChain::builder()
        .context(ctx)
        .build_chain()
        .provide_credentials()
        .await
        .unwrap_err();
    assert_no_raw_controls(&err);
    err
}

// ---- booleans -----------------------------------------------------------------------------------

#[tokio::test]
async fn ecs_metadata_disabled_1_yes_on_keep_the_chain_away_from_the_metadata_service() {
    let emulator = Emulator::start().await.unwrap();
    for value in ["1", "yes", "on", " true", "TRUE"] {
        let err = chain_error(context(
            &[
                (vars::ECS_METADATA_DISABLED, value),
                (
                    vars::ECS_METADATA_ENDPOINT,
                    &emulator.ecs_metadata_endpoint(),
                ),
            ],
            vec![],
        ))
        .await;
        assert_eq!(err.kind(), ErrorKind::NotLoaded, "{value:?}: {err}");
        assert!(
            err.message()
                .contains("ecs_ram_role: disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED"),
            "{value:?}: {err}"
        );
    }
    assert_eq!(emulator.calls(Endpoint::ImdsToken), 0);
    assert_eq!(emulator.calls(Endpoint::ImdsRole), 0);
}

#[tokio::test]
async fn an_unreadable_switch_stops_the_chain_naming_the_variable() {
    let emulator = Emulator::start().await.unwrap();
    let err = chain_error(context(
        &[
            (vars::ECS_METADATA_DISABLED, "disable"),
            (
                vars::ECS_METADATA_ENDPOINT,
                &emulator.ecs_metadata_endpoint(),
            ),
        ],
        vec![],
    ))
    .await;
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    assert_eq!(
        err.to_string(),
        "default/ecs_ram_role: invalid configuration: ALIBABA_CLOUD_ECS_METADATA_DISABLED must be \
         true or false (also 1/0, yes/no, on/off, in any case), not `disable`"
    );
    assert_eq!(emulator.calls(Endpoint::ImdsToken), 0);

    let err = chain_error(context(&[(vars::CLI_PROFILE_DISABLED, "sure")], vec![])).await;
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    assert_eq!(
        err.to_string(),
        "default/cli_profile: invalid configuration: ALIBABA_CLOUD_CLI_PROFILE_DISABLED must be \
         true or false (also 1/0, yes/no, on/off, in any case), not `sure`"
    );

    let err = chain_error(context(&[(vars::IMDSV1_DISABLED, "v2only")], vec![])).await;
    assert_eq!(err.provider_path(), "default/ecs_ram_role");
    assert!(
        err.message()
            .starts_with("ALIBABA_CLOUD_IMDSV1_DISABLED must be true or false"),
        "{err}"
    );
}

#[tokio::test]
async fn cli_profile_disabled_takes_the_boolean_words() {
    let config = br#"{"current": "p", "profiles": [{"name": "p", "mode": "AK",
        "access_key_id": "LTAI5tCli", "access_key_secret": "cli-secret"}]}"#;
    for value in ["1", "on", "Yes"] {
        let err = chain_error(context(
            &[
                (vars::CLI_PROFILE_DISABLED, value),
                (vars::ECS_METADATA_DISABLED, "true"),
            ],
            vec![("/home/bad/.aliyun/config.json", config.to_vec())],
        ))
        .await;
        assert_eq!(err.kind(), ErrorKind::NotLoaded, "{value}: {err}");
        assert!(
            err.message()
                .contains("cli_profile: disabled by ALIBABA_CLOUD_CLI_PROFILE_DISABLED"),
            "{err}"
        );
    }
}

// ---- explicit files ---------------------------------------------------------------------------

#[tokio::test]
async fn a_missing_explicit_file_stops_the_chain_for_either_variable() {
    let err = chain_error(context(&[(vars::CONFIG_FILE, "/etc/nope.json")], vec![])).await;
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    assert_eq!(
        err.to_string(),
        "default/cli_profile: invalid configuration: the CLI config /etc/nope.json (from \
         ALIBABA_CLOUD_CONFIG_FILE) does not exist"
    );
    let err = chain_error(context(
        &[(vars::CREDENTIALS_FILE, "/etc/nope.ini")],
        vec![],
    ))
    .await;
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    assert_eq!(
        err.to_string(),
        "default/profile: invalid configuration: the credentials file /etc/nope.ini (from \
         ALIBABA_CLOUD_CREDENTIALS_FILE) does not exist"
    );
}

// ---- control characters -------------------------------------------------------------------------

#[tokio::test]
async fn environment_credentials_that_are_padded_or_hold_controls_stop_the_chain() {
    for (value, problem) in [
        (
            " bad-input-secret-sentinel",
            "has leading or trailing whitespace: remove it",
        ),
        (
            "bad-input-secret-sentinel\u{1b}[31m",
            "holds a control character (a tab, a newline or another): remove it",
        ),
        ("   ", "holds only whitespace: set a value, or unset it"),
    ] {
        let err = chain_error(context(
            &[(vars::ACCESS_KEY_ID, AK), (vars::ACCESS_KEY_SECRET, value)],
            vec![],
        ))
        .await;
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            format!(
                "default/env: invalid configuration: ALIBABA_CLOUD_ACCESS_KEY_SECRET {problem}"
            )
        );
        assert!(!format!("{err:?}").contains("sentinel"));
    }
}

#[tokio::test]
async fn nul_and_esc_in_an_ini_secret_are_refused_with_the_line() {
    let ini = b"[default]\naccess_key_id = LTAI5tIni\naccess_key_secret = bad-input-secret-sentinel\x00\x1b[2J\n";
    let err = chain_error(context(
        &[],
        vec![("/home/bad/.alibabacloud/credentials", ini.to_vec())],
    ))
    .await;
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    assert_eq!(
        err.to_string(),
        "default/profile: invalid configuration: /home/bad/.alibabacloud/credentials is not a valid \
         ini file: line 3: the value of `access_key_secret` holds a control character (a tab, NUL, \
         ESC or another)"
    );
    assert!(!format!("{err:?}").contains("sentinel"));
}

#[tokio::test]
async fn a_kms_secret_holding_control_characters_is_refused_naming_the_field() {
    let emulator = Emulator::start().await.unwrap();
    emulator.add_access_key(AK, SECRET);
    emulator.kms_put_secret(
        "ak-with-escape",
        "RAMCredentials",
        r#"{"AccessKeyId":"LTAI5tKms","AccessKeySecret":"kms-sentinel\u001b[31m"}"#,
    );
    let ctx = context(&[], vec![]);
    let kms = KmsClient::builder()
        .endpoint(emulator.kms_endpoint())
        .credentials(StaticAccessKeyProvider::new(AK, SECRET).unwrap())
        .context(ctx.clone())
        .build()
        .unwrap();
    let err = KmsRotatingProvider::builder("ak-with-escape")
        .kms(kms)
        .context(ctx)
        .build_uncached()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider, "{err}");
    assert_eq!(
        err.message(),
        "the AccessKeySecret in the SecretData of `ak-with-escape` holds a control character"
    );
    assert!(!format!("{err:?}").contains("sentinel"));
}

// ---- OIDC token files ---------------------------------------------------------------------------

#[tokio::test]
async fn whitespace_and_endless_token_files_never_reach_sts() {
    let emulator = Emulator::start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("mse-auth-oidc-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let blank = dir.join("blank-token");
    std::fs::write(&blank, " \n\t\n").unwrap();
    let mut cases = vec![(
        blank.clone(),
        format!(
            "the OIDC token file {} is empty (only whitespace)",
            blank.display()
        ),
    )];
    if cfg!(unix) {
        cases.push((
            "/dev/zero".into(),
            "cannot read the OIDC token file /dev/zero: it is larger than 64 KiB".into(),
        ));
    }
    for (file, message) in cases {
        let err = OidcRoleArnProvider::builder(ROLE, IDP, &file)
            .sts_endpoint(emulator.sts_endpoint())
            .context(Context::default().with_env(Env::from_pairs::<&str, &str>([])))
            .build_uncached()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(err.message(), message);
    }
    assert_eq!(emulator.calls(Endpoint::AssumeRoleWithOidc), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- hostile servers ----------------------------------------------------------------------------

const HOSTILE: &str = "\u{1b}[31mred\u{1b}[0m\u{7}\rrewritten";
const ESCAPED: &str = "\\x1b[31mred\\x1b[0m\\x07\\rrewritten";

fn hostile_sts(_: &str, _: &str) -> (u16, String) {
    let body = serde_json::json!({
        "Code": format!("NoPermission{HOSTILE}"),
        "Message": format!("You are not authorized{HOSTILE}{}", "!".repeat(5000)),
        "RequestId": format!("REQ-{HOSTILE}"),
    });
    (403, body.to_string())
}

#[tokio::test]
async fn sts_error_fields_are_escaped_and_bounded() {
    let server = Canned::start(hostile_sts).await;
    let err = RamRoleArnProvider::builder(ROLE)
        .source(StaticAccessKeyProvider::new(AK, SECRET).unwrap())
        .sts_endpoint(server.base_url())
        .context(Context::default().with_env(Env::from_pairs::<&str, &str>([])))
        .build_uncached()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.code(), Some(format!("NoPermission{ESCAPED}").as_str()));
    assert_eq!(err.request_id(), Some(format!("REQ-{ESCAPED}").as_str()));
    assert!(
        err.message().starts_with(&format!(
            "AssumeRole was refused: You are not authorized{ESCAPED}!!!"
        )),
        "{err}"
    );
    assert!(err.message().ends_with('…'), "{err}");
    assert!(err.to_string().len() < 700, "{}", err.to_string().len());
    assert_no_raw_controls(&err);
}

fn hostile_uri(_: &str, _: &str) -> (u16, String) {
    (
        200,
        format!(r#"{{"Code":"Fail{}"}}"#, "\\u001b]0;pwned\\u0007"),
    )
}

#[tokio::test]
async fn a_credentials_uri_code_is_escaped() {
    let server = Canned::start(hostile_uri).await;
    let err = CredentialsUriProvider::builder(format!("{}/creds", server.base_url()))
        .context(Context::default().with_env(Env::from_pairs::<&str, &str>([])))
        .build_uncached()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.code(), Some("Fail\\x1b]0;pwned\\x07"));
    assert_eq!(
        err.message(),
        "the credentials response has Code `Fail\\x1b]0;pwned\\x07`, not `Success`"
    );
    assert_no_raw_controls(&err);
}

fn hostile_nacos(_: &str, _: &str) -> (u16, String) {
    (
        403,
        format!("user not found{HOSTILE}\n{}", "x".repeat(1000)),
    )
}

#[tokio::test]
async fn a_nacos_login_refusal_body_is_escaped() {
    let server = Canned::start(hostile_nacos).await;
    let err = NacosLogin::builder(server.base_url())
        .username("nacos")
        .password("sentinel-password")
        .context(Context::default().with_env(Env::from_pairs::<&str, &str>([])))
        .build()
        .unwrap()
        .token()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    // Line breaks read as spaces; the other controls are escaped.
    let said = "(server said: user not found\\x1b[31mred\\x1b[0m\\x07 rewritten xxx";
    assert!(
        err.message().contains(&format!(
            "login refused: wrong user name or password? {said}"
        )),
        "{err}"
    );
    assert_no_raw_controls(&err);
    assert!(!format!("{err:?}").contains("sentinel"));
}

// ---- the plain-http opt-in ----------------------------------------------------------------------

#[tokio::test]
async fn the_insecure_opt_in_lets_remote_http_through_and_logs_a_warning_naming_the_origin() {
    let log = CapturedLog::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let uri = "http://creds.example.internal:8080/path/sentinel-token?t=sentinel";
    let env = |allow: &str| {
        Context::default().with_env(Env::from_pairs([
            (vars::CREDENTIALS_URI, uri),
            (vars::INSECURE_ALLOW_HTTP, allow),
        ]))
    };
    let err = CredentialsUriProvider::from_env(&env("false"))
        .unwrap()
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "credentials_uri: invalid configuration: refusing plain http to \
         http://creds.example.internal:8080: credentials would cross the network unencrypted; use \
         https, or opt in with MSE_AUTH_INSECURE_ALLOW_HTTP=true (CLI: --insecure-allow-http)"
    );
    assert!(log.text().is_empty(), "{}", log.text());
    CredentialsUriProvider::from_env(&env("true"))
        .unwrap()
        .build()
        .unwrap();
    let text = log.text();
    assert!(text.contains("WARN"), "{text}");
    assert!(
        text.contains("plain http allowed by an explicit opt-in"),
        "{text}"
    );
    assert!(
        text.contains("endpoint=http://creds.example.internal:8080"),
        "{text}"
    );
    assert!(!text.contains("sentinel"), "{text}");
    // Loopback needs no opt-in and logs nothing.
    let before = log.text().len();
    CredentialsUriProvider::builder("http://127.0.0.1:9/c")
        .build_uncached()
        .unwrap();
    assert_eq!(log.text().len(), before);
}
