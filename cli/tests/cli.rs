//! The `mse-auth` binary, run as a child process in a controlled environment: an empty environment, a
//! temporary HOME, the metadata endpoint at a closed loopback port, and the STS endpoint at an emulator
//! running in this process. Every wait is bounded; every server listens on 127.0.0.1 only; children are
//! killed on drop.

mod cli_support;

use cli_support::*;
use mse_auth_emulator::loopback::Canned;
use mse_auth_emulator::Endpoint;
use mse_auth_providers::{
    vars, CredentialsProvider, CredentialsUriProvider, KmsClient, KmsRotatingProvider,
    RamRoleArnProvider, SharedCredentialsProvider, StaticAccessKeyProvider,
};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// `export NAME='value'` and `unset NAME` lines as (name, Some(value)) / (name, None).
fn parse_env_lines(text: &str) -> Vec<(String, Option<String>)> {
    text.lines()
        .map(|line| {
            if let Some(name) = line.strip_prefix("unset ") {
                return (name.to_string(), None);
            }
            let rest = line.strip_prefix("export ").expect(line);
            let (name, value) = rest.split_once('=').expect(line);
            let value = value
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .expect(line)
                .replace("'\\''", "'");
            (name.to_string(), Some(value))
        })
        .collect()
}

fn env_ak<'a>() -> Vec<(&'a str, &'a str)> {
    vec![
        (vars::ACCESS_KEY_ID, AK_ID),
        (vars::ACCESS_KEY_SECRET, AK_SECRET),
    ]
}

// ---------------------------------------------------------------------------------------------------
// help and usage

#[test]
fn every_subcommand_has_help_with_examples() {
    let home = Home::new();
    for args in [
        vec!["--help"],
        vec!["credentials", "--help"],
        vec!["explain", "--help"],
        vec!["nacos", "--help"],
        vec!["nacos", "login", "--help"],
        vec!["nacos", "sign", "--help"],
        vec!["serve", "--help"],
        vec!["emulator", "--help"],
        vec!["tour", "--help"],
    ] {
        let out = run(mse_auth(&home, &[]), &args);
        out.assert_ok();
        assert!(out.stdout.contains("Examples:"), "{args:?}: {}", out.stdout);
    }
    let out = run(mse_auth(&home, &[]), &["credentials", "--help"]);
    assert!(out.stdout.contains("--show-secrets"), "{}", out.stdout);
    assert!(
        out.stdout.contains("handing them over"),
        "the help must say why env and credentials-uri print secrets: {}",
        out.stdout
    );
}

#[test]
fn a_usage_error_exits_2() {
    let home = Home::new();
    let out = run(mse_auth(&home, &[]), &["credentials", "--format", "yaml"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let out = run(mse_auth(&home, &[]), &["credentials", "--provider", "nope"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
}

// ---------------------------------------------------------------------------------------------------
// credentials

#[test]
fn credentials_from_the_environment_are_masked() {
    let home = Home::new();
    let out = run(mse_auth(&home, &env_ak()), &["credentials"]);
    out.assert_ok();
    out.assert_no_secret(&[AK_SECRET, AK_ID]);
    assert!(out.stdout.contains("default/env"), "{}", out.stdout);
    assert!(out.stdout.contains("LTA****yId"), "{}", out.stdout);
    assert!(
        out.stdout.contains("AccessKey (long-term)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("never expires"), "{}", out.stdout);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    // -v logs to stderr, still without the secret.
    let out = run(mse_auth(&home, &env_ak()), &["-vv", "credentials"]);
    out.assert_ok();
    out.assert_no_secret(&[AK_SECRET]);
}

#[test]
fn show_secrets_prints_them() {
    let home = Home::new();
    let mut env = env_ak();
    env.push((vars::SECURITY_TOKEN, STS_TOKEN));
    let out = run(mse_auth(&home, &env), &["credentials", "--show-secrets"]);
    out.assert_ok();
    assert!(out.stdout.contains(AK_SECRET), "{}", out.stdout);
    assert!(out.stdout.contains(STS_TOKEN), "{}", out.stdout);
    assert!(out.stdout.contains(AK_ID), "{}", out.stdout);
}

#[test]
fn json_format_parses_back_masked_unless_asked() {
    let home = Home::new();
    let out = run(
        mse_auth(&home, &env_ak()),
        &["credentials", "--format", "json"],
    );
    out.assert_ok();
    out.assert_no_secret(&[AK_SECRET, AK_ID]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["provider_path"], "default/env");
    assert_eq!(v["type"], "access_key");
    assert_eq!(v["access_key_id_masked"], "LTA****yId");
    assert!(v["expiration"].is_null() && v["seconds_left"].is_null());
    assert!(v.get("access_key_secret").is_none());

    let out = run(
        mse_auth(&home, &env_ak()),
        &["credentials", "--format", "json", "--show-secrets"],
    );
    out.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["access_key_id"], AK_ID);
    assert_eq!(v["access_key_secret"], AK_SECRET);
    assert!(v["security_token"].is_null());
}

#[test]
fn env_format_lines_parse_back() {
    let home = Home::new();
    let out = run(
        mse_auth(&home, &env_ak()),
        &["credentials", "--format", "env"],
    );
    out.assert_ok();
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    assert_eq!(
        parse_env_lines(&out.stdout),
        [
            (vars::ACCESS_KEY_ID.to_string(), Some(AK_ID.to_string())),
            (
                vars::ACCESS_KEY_SECRET.to_string(),
                Some(AK_SECRET.to_string())
            ),
            (vars::SECURITY_TOKEN.to_string(), None),
        ]
    );
    // STS credentials export the token; a quote in a value survives the shell quoting.
    let secret = "it's-a-sentinel";
    let env = [
        (vars::ACCESS_KEY_ID, "STS.CliTestId"),
        (vars::ACCESS_KEY_SECRET, secret),
        (vars::SECURITY_TOKEN, STS_TOKEN),
    ];
    let out = run(mse_auth(&home, &env), &["credentials", "--format", "env"]);
    out.assert_ok();
    let lines = parse_env_lines(&out.stdout);
    assert_eq!(lines[1].1.as_deref(), Some(secret));
    assert_eq!(
        lines[2],
        (
            vars::SECURITY_TOKEN.to_string(),
            Some(STS_TOKEN.to_string())
        )
    );
    // And `sh` agrees.
    let script = format!(
        "{}\nprintf '%s' \"$ALIBABA_CLOUD_ACCESS_KEY_SECRET\"",
        out.stdout
    );
    let shell = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&shell.stdout), secret);
}

/// The body the canned credentials URI serves.
static SERVED: OnceLock<String> = OnceLock::new();

fn serve_captured(_: &str, _: &str) -> (u16, String) {
    (200, SERVED.get().cloned().unwrap_or_default())
}

#[test]
fn credentials_uri_format_is_what_our_credentials_uri_provider_accepts() {
    let cloud = Cloud::start();
    let home = Home::new();
    home.ram_role_profile();
    let sts = cloud.emulator.sts_endpoint();
    let env = [(vars::STS_ENDPOINT, sts.as_str())];
    let out = run(
        mse_auth(&home, &env),
        &["credentials", "--format", "credentials-uri"],
    );
    out.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let issued = cloud.emulator.issued().pop().expect("one AssumeRole");
    assert_eq!(v["Code"], "Success");
    assert_eq!(v["AccessKeyId"], issued.access_key_id.as_str());
    assert_eq!(v["AccessKeySecret"], issued.access_key_secret.as_str());
    assert_eq!(v["SecurityToken"], issued.security_token.as_str());
    assert_eq!(v["Expiration"], issued.expiration_text.as_str());
    // Served as is, our provider takes it.
    SERVED.set(out.stdout.clone()).unwrap();
    let creds = cloud.rt.block_on(async {
        let server = Canned::start(serve_captured).await;
        CredentialsUriProvider::builder(format!("{}/creds", server.base_url()))
            .build_uncached()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap()
    });
    assert_eq!(creds.access_key_id(), issued.access_key_id);
    assert_eq!(creds.security_token(), Some(issued.security_token.as_str()));
    assert_eq!(creds.expiration(), Some(issued.expiration));

    // A long-term key cannot be carried by the format: refused, without the secret.
    let out = run(
        mse_auth(&home, &env_ak()),
        &["credentials", "--format", "credentials-uri"],
    );
    let line = out.assert_one_line_failure();
    assert!(line.contains("long-term AccessKey"), "{line}");
    out.assert_no_secret(&[AK_SECRET]);
}

#[test]
fn a_ram_role_profile_through_the_emulator_shows_the_winning_path() {
    let cloud = Cloud::start();
    let home = Home::new();
    home.ram_role_profile();
    let sts = cloud.emulator.sts_endpoint();
    let out = run(
        mse_auth(&home, &[(vars::STS_ENDPOINT, sts.as_str())]),
        &["credentials"],
    );
    out.assert_ok();
    assert!(
        out.stdout
            .contains("default/profile/ram_role_arn/static_ak"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("STS (temporary)"), "{}", out.stdout);
    let issued = cloud.emulator.issued().pop().unwrap();
    assert!(
        out.stdout.contains(&issued.expiration_text),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains(&issued.access_key_id),
        "{}",
        out.stdout
    );
    out.assert_no_secret(&cloud.secrets());
    assert_eq!(cloud.emulator.calls(Endpoint::AssumeRole), 1);
    // --provider asks that one provider only.
    let out = run(
        mse_auth(&home, &[(vars::STS_ENDPOINT, sts.as_str())]),
        &["credentials", "--provider", "profile"],
    );
    out.assert_ok();
    assert!(
        out.stdout.contains("profile/ram_role_arn/static_ak"),
        "{}",
        out.stdout
    );
    // --profile selects a profile the file does not have: a clear failure.
    let out = run(
        mse_auth(&home, &[(vars::STS_ENDPOINT, sts.as_str())]),
        &[
            "--profile",
            "missing",
            "credentials",
            "--provider",
            "profile",
        ],
    );
    let line = out.assert_one_line_failure();
    assert!(line.contains("missing"), "{line}");
}

#[test]
fn nothing_configured_exits_1_with_a_one_line_cause() {
    let home = Home::new();
    let out = run(mse_auth(&home, &[]), &["credentials"]);
    let line = out.assert_one_line_failure();
    assert!(
        line.starts_with(
            "mse-auth: default: not loaded: none of the 6 providers in the chain loaded credentials"
        ),
        "{line}"
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

// ---------------------------------------------------------------------------------------------------
// explain

const PROVIDERS: [&str; 7] = [
    "kms_rotating",
    "env",
    "oidc_role_arn",
    "cli_profile",
    "profile",
    "ecs_ram_role",
    "credentials_uri",
];

#[test]
fn explain_shows_every_provider_with_its_reason_and_no_secret() {
    let cloud = Cloud::start();
    let home = Home::new();
    home.ram_role_profile();
    let sts = cloud.emulator.sts_endpoint();
    let mut env = env_ak();
    env.push((vars::STS_ENDPOINT, sts.as_str()));
    let out = run(mse_auth(&home, &env), &["explain"]);
    out.assert_ok();
    out.assert_no_secret(&cloud.secrets());
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("#"), "{}", out.stdout);
    for (i, name) in PROVIDERS.iter().enumerate() {
        let row = lines[i + 1];
        let fields: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(fields[1], *name, "{row}");
        let expected = match *name {
            "env" => "loaded",
            "profile" => "loaded",
            _ => "not configured",
        };
        assert!(row.contains(expected), "{name}: {row}");
    }
    assert!(
        lines[1].contains("ALIBABA_CLOUD_SECRET_NAME is not set"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("2*"),
        "the chain's pick is marked: {}",
        lines[2]
    );
    assert!(lines[3].contains("ALIBABA_CLOUD_ROLE_ARN"), "{}", lines[3]);
    assert!(
        lines[5].contains("profile/ram_role_arn/static_ak"),
        "{}",
        lines[5]
    );
    assert!(lines[6].contains("instance metadata"), "{}", lines[6]);
    assert!(lines[7].contains("is not set"), "{}", lines[7]);
    assert_eq!(lines.last(), Some(&"the default chain uses env"));

    let out = run(mse_auth(&home, &env), &["explain", "--format", "json"]);
    out.assert_ok();
    out.assert_no_secret(&cloud.secrets());
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let names: Vec<&str> = v["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, PROVIDERS);
    assert_eq!(v["chosen"], "env");
    assert_eq!(v["providers"][4]["loaded"], true);
    assert_eq!(v["providers"][2]["configured"], false);
    assert_eq!(v["providers"][0]["configured"], false);
}

#[test]
fn a_secret_name_makes_credentials_and_explain_answer_with_the_kms_rotated_key() {
    const KEPT_ID: &str = "LTAI5tCliKeptKey";
    const KEPT_SECRET: &str = "cli-kept-secret-sentinel";
    let cloud = Cloud::start();
    let next = std::time::SystemTime::now() + Duration::from_secs(3600);
    cloud.emulator.kms_put_ram_secret(
        "cli-ram-user-ak",
        KEPT_ID,
        KEPT_SECRET,
        Duration::from_secs(86_400),
        next,
    );
    let home = Home::new();
    let mut env = kms_env(&cloud);
    env.push((vars::SECRET_NAME, "cli-ram-user-ak".to_string()));
    let out = run(
        cmd(&home, &env),
        &[
            "credentials",
            "--provider",
            "kms_rotating",
            "--format",
            "json",
            "--show-secrets",
        ],
    );
    out.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["provider_path"], "kms_rotating/env");
    assert_eq!(v["access_key_id"], KEPT_ID);
    assert_eq!(v["access_key_secret"], KEPT_SECRET);
    assert_eq!(v["type"], "access_key");

    // The whole chain answers from the secret too, and says so.
    let out = run(cmd(&home, &env), &["credentials", "--format", "json"]);
    out.assert_ok();
    out.assert_no_secret(&[KEPT_SECRET, AK_SECRET]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["provider_path"], "default/kms_rotating/env");

    let out = run(cmd(&home, &env), &["explain"]);
    out.assert_ok();
    out.assert_no_secret(&[KEPT_SECRET, AK_SECRET]);
    let kms_row = out.stdout.lines().nth(1).unwrap();
    assert!(kms_row.starts_with("1*"), "{}", out.stdout);
    assert!(
        kms_row.contains("ALIBABA_CLOUD_SECRET_NAME from KMS at http://127.0.0.1:"),
        "{kms_row}"
    );
    assert!(kms_row.contains("via kms_rotating/env"), "{kms_row}");
    assert!(
        out.stdout
            .ends_with("the default chain uses kms_rotating\n"),
        "{}",
        out.stdout
    );

    // A secret KMS does not have stops the chain with KMS's code; the environment key is not used.
    env.retain(|(k, _)| *k != vars::SECRET_NAME);
    env.push((vars::SECRET_NAME, "no-such-secret".to_string()));
    let out = run(cmd(&home, &env), &["credentials"]);
    let line = out.assert_one_line_failure();
    assert!(line.contains("Forbidden.ResourceNotFound"), "{line}");
    assert!(line.contains("default/kms_rotating/kms"), "{line}");
}

#[test]
fn explain_reports_a_broken_provider_and_an_empty_chain() {
    let home = Home::new();
    // Half of the environment pair: configured but broken, which stops the chain.
    let out = run(
        mse_auth(&home, &[(vars::ACCESS_KEY_ID, AK_ID)]),
        &["explain"],
    );
    out.assert_ok();
    let env_row = out.stdout.lines().nth(2).unwrap();
    assert!(
        env_row.contains("failed (InvalidConfiguration)"),
        "{env_row}"
    );
    assert!(out.stdout.contains("stops at env"), "{}", out.stdout);

    let out = run(mse_auth(&home, &[]), &["explain"]);
    out.assert_ok();
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.contains("not configured"))
            .count(),
        7,
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .ends_with("nothing loaded: no provider of the default chain is configured\n"));
}

// ---------------------------------------------------------------------------------------------------
// nacos

const NACOS_TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.sentinel-nacos-token-0042";
const NACOS_PASSWORD: &str = "sentinel-nacos-password";

fn nacos3(method: &str, path: &str) -> (u16, String) {
    if method == "POST"
        && path.starts_with("/nacos/v3/auth/user/login?username=nacos")
        && !path.contains("password")
    {
        (
            200,
            format!(r#"{{"accessToken":"{NACOS_TOKEN}","tokenTtl":18000,"globalAdmin":true}}"#),
        )
    } else {
        (404, "not found".into())
    }
}

fn refusing(_: &str, _: &str) -> (u16, String) {
    (403, "unknown user!".into())
}

#[test]
fn nacos_login_prints_the_ttl_and_a_masked_token() {
    let rt = runtime();
    let server = rt.block_on(Canned::start(nacos3));
    let url = server.base_url();
    let home = Home::new();
    let env = [("NACOS_CLIENT_PASSWORD", NACOS_PASSWORD)];
    let args = ["nacos", "login", "--server", &url, "--username", "nacos"];
    let out = run(mse_auth(&home, &env), &args);
    out.assert_ok();
    out.assert_no_secret(&[NACOS_TOKEN, NACOS_PASSWORD]);
    assert!(out.stdout.contains("5h 0m 0s"), "{}", out.stdout);
    assert!(
        out.stdout.contains("eyJh**** (46 characters)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(&url), "{}", out.stdout);

    let mut shown = args.to_vec();
    shown.extend(["--show-secrets", "--format", "json"]);
    let out = run(mse_auth(&home, &env), &shown);
    out.assert_ok();
    out.assert_no_secret(&[NACOS_PASSWORD]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["access_token"], NACOS_TOKEN);
    assert_eq!(v["ttl_seconds"], 18000);

    // The password from standard input.
    let mut stdin_args = args.to_vec();
    stdin_args.push("--password-stdin");
    let out = run_with_stdin(
        mse_auth(&home, &[]),
        &stdin_args,
        Some(&format!("{NACOS_PASSWORD}\n")),
    );
    out.assert_ok();
    out.assert_no_secret(&[NACOS_TOKEN, NACOS_PASSWORD]);
}

#[test]
fn nacos_login_failures_exit_1_with_one_line() {
    let rt = runtime();
    let server = rt.block_on(Canned::start(refusing));
    let url = server.base_url();
    let home = Home::new();
    let env = [("NACOS_CLIENT_PASSWORD", NACOS_PASSWORD)];
    let out = run(
        mse_auth(&home, &env),
        &["nacos", "login", "--server", &url, "--username", "nacos"],
    );
    let line = out.assert_one_line_failure();
    assert!(line.contains("login refused"), "{line}");
    out.assert_no_secret(&[NACOS_PASSWORD]);

    let out = run(mse_auth(&home, &env), &["nacos", "login", "--server", &url]);
    let line = out.assert_one_line_failure();
    assert!(line.contains("no Nacos user name"), "{line}");
    let out = run(mse_auth(&home, &env), &["nacos", "login"]);
    let line = out.assert_one_line_failure();
    assert!(line.contains("NACOS_CLIENT_SERVER_ADDRESS"), "{line}");
}

/// Spec §B.7 vectors (as in `src/sign/spas.rs`): AK `LTAI5tNacos`, SK `testSecretKey`, 1700000000000.
const NACOS_SIGN_ENV: [(&str, &str); 2] = [
    ("NACOS_CLIENT_ACCESS_KEY", "LTAI5tNacos"),
    ("NACOS_CLIENT_SECRET_KEY", "testSecretKey"),
];

#[test]
fn nacos_sign_reproduces_the_spec_vectors() {
    let home = Home::new();
    let ts = ["--timestamp", "1700000000000"];
    let mut args = vec![
        "nacos",
        "sign",
        "config",
        "--namespace",
        "public-ns",
        "--group",
        "DEFAULT_GROUP",
    ];
    args.extend(ts);
    let out = run(mse_auth(&home, &NACOS_SIGN_ENV), &args);
    out.assert_ok();
    out.assert_no_secret(&["testSecretKey"]);
    assert!(
        out.stdout.contains("public-ns+DEFAULT_GROUP+1700000000000"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Spas-Signature  M94BteNZnXlyatO/bgdd4tIe7xg="),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Spas-AccessKey  LTAI5tNacos"),
        "{}",
        out.stdout
    );

    let mut args = vec!["nacos", "sign", "config", "--format", "json"];
    args.extend(ts);
    let out = run(mse_auth(&home, &NACOS_SIGN_ENV), &args);
    out.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        v["identity"]["Spas-Signature"],
        "9hagMjeuVp9Xgs7ynJWed1ATjjU="
    );
    assert_eq!(v["string_to_sign"], "DEFAULT_GROUP+1700000000000");
    assert_eq!(v["signing"], "v1");

    let mut args = vec![
        "nacos",
        "sign",
        "naming",
        "--service",
        "svc",
        "--format",
        "json",
    ];
    args.extend(ts);
    let out = run(mse_auth(&home, &NACOS_SIGN_ENV), &args);
    out.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["identity"]["signature"], "FOs8upgdj/4BGiqjBfSo+lJZnis=");
    assert_eq!(v["identity"]["data"], "1700000000000@@DEFAULT_GROUP@@svc");
    assert_eq!(v["identity"]["ak"], "LTAI5tNacos");

    let mut args = vec!["nacos", "sign", "naming", "--service", "svc", "--group", ""];
    args.extend(ts);
    let out = run(mse_auth(&home, &NACOS_SIGN_ENV), &args);
    out.assert_ok();
    assert!(
        out.stdout.contains("5+Z8mEz0+6c75PLErfm2F3pEurQ="),
        "{}",
        out.stdout
    );

    // v4 (spec §B.7: 2024-01-01, cn-hangzhou, mse-nacos).
    let out = run(
        mse_auth(&home, &NACOS_SIGN_ENV),
        &[
            "nacos",
            "sign",
            "config",
            "--region",
            "cn-hangzhou",
            "--timestamp",
            "1704110400000",
            "--format",
            "json",
        ],
    );
    out.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["signing"], "v4");
    assert_eq!(v["identity"]["signatureVersion"], "v4");
}

#[test]
fn nacos_sign_with_chain_sts_credentials_masks_the_token_unless_asked() {
    let home = Home::new();
    let env = [
        (vars::ACCESS_KEY_ID, "LTAI5tNacos"),
        (vars::ACCESS_KEY_SECRET, "testSecretKey"),
        (vars::SECURITY_TOKEN, STS_TOKEN),
    ];
    let args = [
        "nacos",
        "sign",
        "config",
        "--namespace",
        "public-ns",
        "--timestamp",
        "1700000000000",
    ];
    let out = run(mse_auth(&home, &env), &args);
    out.assert_ok();
    out.assert_no_secret(&["testSecretKey", STS_TOKEN]);
    assert!(out.stdout.contains("default/env"), "{}", out.stdout);
    assert!(
        out.stdout.contains("M94BteNZnXlyatO/bgdd4tIe7xg="),
        "{}",
        out.stdout
    );
    let mut shown = args.to_vec();
    shown.push("--show-secrets");
    let out = run(mse_auth(&home, &env), &shown);
    out.assert_ok();
    assert!(out.stdout.contains(STS_TOKEN), "{}", out.stdout);
    out.assert_no_secret(&["testSecretKey"]);
    // Half of the NACOS_CLIENT pair is an error.
    let out = run(
        mse_auth(&home, &NACOS_SIGN_ENV[..1]),
        &["nacos", "sign", "config"],
    );
    out.assert_one_line_failure();
}

// ---------------------------------------------------------------------------------------------------
// emulator

/// Each mode of the emulator's menu: the `--provider` its comment line names, and the path that
/// `mse-auth credentials --provider …` reports with every export pasted.
const EMULATOR_MODES: [(&str, &str); 7] = [
    ("env", "env"),
    ("kms_rotating", "kms_rotating/env"),
    ("oidc_role_arn", "oidc_role_arn"),
    ("cli_profile", "cli_profile/cloud_sso"),
    ("profile", "profile/ram_role_arn/static_ak"),
    ("ecs_ram_role", "ecs_ram_role"),
    ("credentials_uri", "credentials_uri"),
];

/// `mse-auth credentials --format json` in `home` with `env`: the reported provider path.
fn provider_path(home: &Home, env: &[(&str, &str)], args: &[&str]) -> String {
    let mut argv = vec!["credentials", "--format", "json"];
    argv.extend_from_slice(args);
    let out = run(mse_auth(home, env), &argv);
    out.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect(&out.stdout);
    v["provider_path"].as_str().expect(&out.stdout).to_string()
}

#[test]
fn emulator_prints_a_menu_of_every_mode_that_works_and_cleans_up_on_sigterm() {
    let home = Home::new();
    let emulator = Running::spawn(mse_auth(&home, &[]), &["emulator", "--lifetime", "120"]);
    let printout = EmulatorPrintout::read(&emulator);
    let exports = &printout.exports;
    let mut names: Vec<&str> = exports.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut expected = EMULATOR_VARS.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected, "{:#?}", printout.lines);

    // A menu: one comment line per mode, naming the `--provider` that reaches it, in 80 columns.
    for (provider, _) in EMULATOR_MODES {
        let heading = format!(": --provider {provider}");
        let headings = printout.comments().filter(|l| l.ends_with(&heading));
        assert_eq!(headings.count(), 1, "{provider}: {:#?}", printout.lines);
    }
    for line in printout.comments() {
        assert!(line.len() <= 80, "{} columns: {line}", line.len());
    }
    for name in [
        vars::STS_ENDPOINT,
        vars::ECS_METADATA_ENDPOINT,
        vars::KMS_ENDPOINT,
    ] {
        assert!(exports[name].starts_with("http://127.0.0.1:"), "{name}");
    }

    // The token file: private, and it holds the token AssumeRoleWithOIDC accepts (used below).
    let token_file = std::path::PathBuf::from(&exports[vars::OIDC_TOKEN_FILE]);
    let token_dir = token_file.parent().unwrap().to_path_buf();
    assert!(token_file.is_file(), "{}", token_file.display());
    #[cfg(unix)]
    {
        assert_eq!(mode(&token_file), 0o600);
        assert_eq!(mode(&token_dir), 0o700);
    }
    let token = std::fs::read_to_string(&token_file).unwrap();
    assert!(!token.is_empty() && !token.ends_with('\n'), "{token:?}");

    // Issued credentials honour --lifetime.
    let rt = runtime();
    let creds = rt
        .block_on(
            CredentialsUriProvider::builder(exports[vars::CREDENTIALS_URI].clone())
                .build_uncached()
                .unwrap()
                .provide_credentials(),
        )
        .unwrap();
    let left = creds
        .expiration()
        .unwrap()
        .duration_since(std::time::SystemTime::now())
        .unwrap();
    // 120 s from issue, rounded to whole seconds.
    assert!(left <= Duration::from_secs(121), "{left:?}");

    // Everything pasted: each mode answers `--provider` (RAM role ARN from an ini profile holding
    // the printed key and role), and the whole chain answers from one of them.
    let ini = home.path().join(".alibabacloud");
    std::fs::create_dir_all(&ini).unwrap();
    std::fs::write(
        ini.join("credentials"),
        format!(
            "[default]\ntype = ram_role_arn\naccess_key_id = {}\naccess_key_secret = {}\nrole_arn = {}\n",
            exports[vars::ACCESS_KEY_ID],
            exports[vars::ACCESS_KEY_SECRET],
            exports[vars::ROLE_ARN],
        ),
    )
    .unwrap();
    let env = printout.env();
    for (provider, path) in EMULATOR_MODES {
        assert_eq!(provider_path(&home, &env, &["--provider", provider]), path);
    }
    // The demo config's OAuth profile: a refresh and an exchange, the new tokens written back into
    // the config (in the emulator's private directory, removed with it).
    let mut oauth_env = env.clone();
    oauth_env.push((vars::PROFILE, "oauth"));
    assert_eq!(
        provider_path(&home, &oauth_env, &["--provider", "cli_profile"]),
        "cli_profile/oauth"
    );
    let config = std::fs::read_to_string(&exports[vars::CONFIG_FILE]).unwrap();
    assert!(config.contains("\"sts_expiration\""), "{config}");
    // The secret name makes the chain answer from the KMS-rotated key, read with the printed key.
    assert_eq!(provider_path(&home, &env, &[]), "default/kms_rotating/env");

    // The KMS-rotated AccessKey: read with the printed key; the emulator's STS and KMS accept it.
    let kms = |source: SharedCredentialsProvider| {
        KmsClient::builder()
            .endpoint(exports[vars::KMS_ENDPOINT].clone())
            .shared_credentials(source)
            .build()
            .unwrap()
    };
    let demo_key = SharedCredentialsProvider::new(
        StaticAccessKeyProvider::new(
            exports[vars::ACCESS_KEY_ID].clone(),
            exports[vars::ACCESS_KEY_SECRET].clone(),
        )
        .unwrap(),
    );
    let rotated = rt
        .block_on(
            KmsRotatingProvider::builder(exports[vars::SECRET_NAME].clone())
                .kms(kms(demo_key))
                .build_uncached()
                .unwrap()
                .provide_credentials(),
        )
        .unwrap();
    assert_eq!(rotated.provider_path(), "kms_rotating/static_ak");
    assert_ne!(rotated.access_key_id(), exports[vars::ACCESS_KEY_ID]);
    assert!(!printout
        .lines
        .iter()
        .any(|l| l.contains(rotated.access_key_secret())));
    let rotated_key = SharedCredentialsProvider::new(
        StaticAccessKeyProvider::new(rotated.access_key_id(), rotated.access_key_secret()).unwrap(),
    );
    let assumed = rt
        .block_on(
            RamRoleArnProvider::builder(exports[vars::ROLE_ARN].clone())
                .source(rotated_key.clone())
                .sts_endpoint(exports[vars::STS_ENDPOINT].clone())
                .build_uncached()
                .unwrap()
                .provide_credentials(),
        )
        .unwrap();
    assert!(assumed.is_sts(), "{assumed}");
    rt.block_on(kms(rotated_key).get_secret_value(&exports[vars::SECRET_NAME]))
        .unwrap();

    // SIGTERM: a clean exit, the token file and its directory gone, the calls counted.
    let (code, stderr) = emulator.stop_with("TERM");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !token_dir.exists(),
        "{} is left behind",
        token_dir.display()
    );
    let calls = emulator_calls(&stderr);
    assert_eq!(calls.get("AssumeRoleWithOidc"), Some(&1), "{stderr}");
    assert_eq!(calls.get("CredentialsUri"), Some(&2), "{stderr}");
    assert_eq!(calls.get("ImdsCredentials"), Some(&1), "{stderr}");
    assert_eq!(calls.get("AssumeRole"), Some(&2), "{stderr}");
    assert!(calls.get("KmsGetSecretValue") >= Some(&2), "{stderr}");
}

#[test]
fn emulator_json_carries_every_variable_and_the_token_file_goes_on_ctrl_c() {
    let home = Home::new();
    let emulator = Running::spawn(mse_auth(&home, &[]), &["emulator", "--format", "json"]);
    let line = emulator.line();
    let v: serde_json::Value = serde_json::from_str(&line).expect(&line);
    for name in EMULATOR_VARS {
        assert!(
            v[name].as_str().is_some_and(|s| !s.is_empty()),
            "{name}: {v}"
        );
    }
    let token_file = std::path::PathBuf::from(v[vars::OIDC_TOKEN_FILE].as_str().unwrap());
    assert_eq!(
        std::fs::read_to_string(&token_file).unwrap(),
        v["oidc_token"].as_str().unwrap()
    );
    #[cfg(unix)]
    assert_eq!(mode(&token_file), 0o600);
    let (code, stderr) = emulator.stop();
    assert_eq!(code, 0, "{stderr}");
    assert!(!token_file.parent().unwrap().exists(), "{stderr}");
}

// ---------------------------------------------------------------------------------------------------
// tour

#[test]
fn tour_walks_every_mode_on_an_in_process_emulator() {
    let home = Home::new();
    let tour_secrets = [
        "tour-source-secret",
        "sts-secret",
        "sts-token",
        "tour-rotated-secret",
        "tour-nacos-password",
        "db.password=tour-secret",
        "tour-external-secret",
        "tour-cloud-sso-access-token",
        "tour-oauth-refresh-token",
    ];
    let out = run(mse_auth(&home, &[]), &["tour"]);
    out.assert_ok();
    out.assert_no_secret(&tour_secrets);
    assert!(!out.stdout.contains("FAILED"), "{}", out.stdout);
    for path in [
        "ram_role_arn/ram_role_arn/static_ak",
        "oidc_role_arn",
        "ecs_ram_role",
        "credentials_uri",
        "cli_profile/ram_role_arn/static_ak",
        "cli_profile/cloud_sso",
        "cli_profile/oauth",
        "cli_profile/external",
        "profile/oidc_role_arn",
        "default/env",
        "kms_rotating/static_ak",
        "default/kms_rotating/env",
        "Nacos login",
        "config cipher-kms-aes-256-db.properties",
        "config cipher-gcm-db.properties",
    ] {
        assert!(out.stdout.contains(path), "{path}: {}", out.stdout);
    }
    assert!(
        out.stdout.contains("secrets in URLs: none"),
        "{}",
        out.stdout
    );

    let out = run(mse_auth(&home, &[]), &["tour", "--format", "json"]);
    out.assert_ok();
    out.assert_no_secret(&tour_secrets);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let stops = v["stops"].as_array().unwrap();
    assert_eq!(stops.len(), 16);
    assert!(stops.iter().all(|s| s["ok"] == true), "{v:#}");
    let checks = v["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 5, "a Nacos login and four config round trips");
    assert!(checks.iter().all(|c| c["ok"] == true), "{v:#}");
    assert_eq!(v["url_leaks"].as_array().map(Vec::len), Some(0));
}
