//! The `mse-auth` CLI refuses footguns, each with exit code 1 and a one-line message saying what to do:
//! a dataId that selects no encryption scheme (or a mistyped one), empty input, oversized input and
//! direct-KMS contents (before any KMS call), a Nacos login without a password, and a multi-server
//! login failure that does not name every server. Run as a child process in an empty environment
//! against an emulator in this process; every wait is bounded.

mod cli_support;

use cli_support::*;
use mse_auth_emulator::loopback::closed_port;
use mse_auth_emulator::{Endpoint, Fault};
use serde_json::Value;
use std::process::Stdio;

const KEY: &str = "alias/cli-footguns-test";
const PLAIN: &str = "password: sentinel-footgun-plaintext-0042\n";
const NACOS_PASSWORD: &str = "sentinel-footgun-nacos-password";

fn kms_cloud() -> Cloud {
    kms_cloud_with(KEY)
}

/// Exit 1, one line, nothing on stdout, no plaintext anywhere; returns the line.
fn refused(out: &Output) -> String {
    let line = out.assert_one_line_failure().to_string();
    assert!(out.stdout.is_empty(), "{:?}", out.stdout);
    out.assert_no_secret(&["sentinel-footgun-plaintext"]);
    line
}

fn encrypt(home: &Home, data_id: &str, extra: &[&str]) -> Output {
    let mut args = vec!["config", "encrypt", "--data-id", data_id];
    args.extend(extra);
    run_with_stdin(mse_auth(home, &[]), &args, Some(PLAIN))
}

// ---------------------------------------------------------------------------------------------------
// dataIds

#[test]
fn encrypt_refuses_a_data_id_that_selects_no_scheme_and_names_the_near_miss() {
    let home = Home::new();
    let plain_hint = "pass --allow-plain to store it unencrypted";
    let cases = [
        (
            "ciper-db.yaml",
            format!(
                "mse-auth: the dataId `ciper-db.yaml` selects no encryption scheme (did you mean \
                 `cipher-`?); {plain_hint}"
            ),
        ),
        (
            "Cipher-db.yaml",
            format!(
                "mse-auth: the dataId `Cipher-db.yaml` selects no encryption scheme (did you mean \
                 `cipher-`?); {plain_hint}"
            ),
        ),
        (
            "CIPHER-KMS-AES-256-db.yaml",
            format!(
                "mse-auth: the dataId `CIPHER-KMS-AES-256-db.yaml` selects no encryption scheme \
                 (did you mean `cipher-kms-aes-256-`?); {plain_hint}"
            ),
        ),
        (
            "cipher_kms-aes-256-db.yaml",
            format!(
                "mse-auth: the dataId `cipher_kms-aes-256-db.yaml` selects no encryption scheme \
                 (did you mean `cipher-kms-aes-256-`?); {plain_hint}"
            ),
        ),
        (
            "app.yaml",
            format!(
                "mse-auth: the dataId `app.yaml` selects no encryption scheme (encrypted dataIds \
                 start with cipher-kms-aes-256-, cipher-kms-aes-128-, cipher-gcm-, cipher-aes- or \
                 cipher-); {plain_hint}"
            ),
        ),
        (
            "cipher-",
            format!(
                "mse-auth: the dataId `cipher-` selects no encryption scheme (a cipher- dataId \
                 needs a name after the prefix, e.g. `cipher-db.yaml`); {plain_hint}"
            ),
        ),
        (
            " cipher-db.yaml",
            "mse-auth: the dataId ` cipher-db.yaml` has leading or trailing whitespace, which \
             Nacos does not accept in a dataId (did you mean `cipher-db.yaml`?)"
                .to_string(),
        ),
        (
            "cipher-kms-aes-256-db.yaml ",
            "mse-auth: the dataId `cipher-kms-aes-256-db.yaml ` has leading or trailing \
             whitespace, which Nacos does not accept in a dataId (did you mean \
             `cipher-kms-aes-256-db.yaml`?)"
                .to_string(),
        ),
        (
            "cipher-kms-aes256-db.yaml",
            "mse-auth: the dataId `cipher-kms-aes256-db.yaml` selects direct KMS encryption (any \
             other `cipher-…`), but looks like a mistyped `cipher-kms-aes-256-`: fix the dataId, \
             or pass --allow-near-miss to encrypt it with direct KMS"
                .to_string(),
        ),
    ];
    for (data_id, expected) in &cases {
        let out = encrypt(&home, data_id, &["--format", "plain"]);
        assert_eq!(refused(&out), *expected, "{data_id:?}");
    }

    // --allow-plain passes the content through, byte for byte, also for a near miss.
    for data_id in ["app.yaml", "Cipher-db.yaml"] {
        let out = encrypt(&home, data_id, &["--format", "plain", "--allow-plain"]);
        out.assert_ok();
        assert_eq!(out.stdout, PLAIN, "{data_id}");
    }
    let out = encrypt(&home, "app.yaml", &["--allow-plain"]);
    out.assert_ok();
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["scheme"], "none");
    assert_eq!(v["content"], PLAIN);
}

#[test]
fn allow_near_miss_encrypts_with_the_scheme_the_data_id_selects() {
    let cloud = kms_cloud();
    let home = Home::new();
    let args = [
        "config",
        "encrypt",
        "--data-id",
        "cipher-kms-aes256-db.yaml",
        "--kms-key-id",
        KEY,
        "--allow-near-miss",
    ];
    let out = run_with_stdin(cmd(&home, &kms_env(&cloud)), &args, Some(PLAIN));
    out.assert_ok();
    out.assert_no_secret(&["sentinel-footgun-plaintext"]);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["scheme"], "kms-direct");
    assert_eq!(cloud.emulator.calls(Endpoint::KmsEncrypt), 1);
    assert_eq!(cloud.emulator.calls(Endpoint::KmsGenerateDataKey), 0);
}

#[test]
fn decrypt_refuses_empty_input_and_near_miss_data_ids() {
    let home = Home::new();
    let decrypt = |data_id: &str, extra: &[&str], stdin: Option<&str>| {
        let mut args = vec!["config", "decrypt", "--data-id", data_id];
        args.extend(extra);
        run_with_stdin(mse_auth(&home, &[]), &args, stdin)
    };
    // 0 bytes (stdin closed or empty), or only whitespace; any dataId, any input format.
    for (data_id, extra, stdin) in [
        ("cipher-gcm-db", &[][..], None),
        ("cipher-gcm-db", &[][..], Some("")),
        ("cipher-kms-aes-256-db", &[][..], Some(" \n\t\r\n")),
        ("cipher-db", &["--in-format", "json"][..], Some("\n")),
        ("app.yaml", &[][..], Some("")),
    ] {
        let out = decrypt(data_id, extra, stdin);
        assert_eq!(
            refused(&out),
            "mse-auth: the input is empty: nothing to decrypt",
            "{data_id} {stdin:?}"
        );
    }
    let out = decrypt(
        "cipher-gcm-db",
        &["--in-format", "json"],
        Some(r#"{"content": "  ", "encryptedDataKey": ""}"#),
    );
    assert_eq!(
        refused(&out),
        "mse-auth: the input's content is empty: nothing to decrypt"
    );

    // Encrypting nothing is refused too.
    let out = run_with_stdin(
        mse_auth(&home, &[]),
        &["config", "encrypt", "--data-id", "cipher-gcm-db"],
        Some(" \n"),
    );
    assert_eq!(
        refused(&out),
        "mse-auth: the input is empty: nothing to encrypt (Nacos does not publish an empty config)"
    );

    // A mistyped dataId would print the stored (encrypted) content as if it were the plaintext.
    let out = decrypt("Cipher-db.yaml", &[], Some("c2VhbGVk"));
    assert_eq!(
        refused(&out),
        "mse-auth: the dataId `Cipher-db.yaml` selects no encryption scheme (did you mean \
         `cipher-`?), so its content would pass through as stored; pass --allow-plain to print it \
         anyway"
    );
    let out = decrypt("Cipher-db.yaml", &["--allow-plain"], Some("c2VhbGVk"));
    out.assert_ok();
    assert_eq!(out.stdout, "c2VhbGVk");
    // An ordinary plain dataId still passes through (see cli_config.rs).
    let out = decrypt("app.yaml", &[], Some(PLAIN));
    out.assert_ok();
    assert_eq!(out.stdout, PLAIN);
    let out = decrypt("cipher-db ", &[], Some("c2VhbGVk"));
    assert!(refused(&out).contains("leading or trailing whitespace"));
}

// ---------------------------------------------------------------------------------------------------
// sizes

#[test]
fn direct_kms_size_limits_are_checked_before_any_kms_call() {
    let cloud = kms_cloud();
    let home = Home::new();
    let env = kms_env(&cloud);
    let calls = |endpoint| cloud.emulator.calls(endpoint);

    // Plaintext over 6 KB.
    let over = "x".repeat(6 * 1024 + 1);
    let out = run_with_stdin(
        cmd(&home, &env),
        &[
            "config",
            "encrypt",
            "--data-id",
            "cipher-db",
            "--kms-key-id",
            KEY,
        ],
        Some(&over),
    );
    assert_eq!(
        refused(&out),
        "mse-auth: config cipher-db: the content is 6145 bytes; direct KMS encryption (a cipher- \
         dataId without kms-aes-128/256) takes at most 6144: use a cipher-kms-aes-256- or \
         cipher-gcm- dataId"
    );
    assert_eq!(calls(Endpoint::KmsEncrypt), 0);

    // A ciphertext over 16 KiB.
    let blob = "A".repeat(16 * 1024 + 1);
    let out = run_with_stdin(
        cmd(&home, &env),
        &["config", "decrypt", "--data-id", "cipher-db"],
        Some(&blob),
    );
    assert_eq!(
        refused(&out),
        "mse-auth: config cipher-db: the content is 16385 bytes; a direct KMS ciphertext (a \
         cipher- dataId without kms-aes-128/256) is at most 16384 bytes of Base64, what KMS \
         Encrypt makes of 6144 bytes of text: is it the config in clear, or the wrong dataId?"
    );
    assert_eq!(calls(Endpoint::KmsDecrypt), 0);

    // The largest plaintext round-trips: its real ciphertext is well under the bound.
    let at_limit = "y".repeat(6 * 1024);
    let out = run_with_stdin(
        cmd(&home, &env),
        &[
            "config",
            "encrypt",
            "--data-id",
            "cipher-db",
            "--kms-key-id",
            KEY,
            "--format",
            "plain",
        ],
        Some(&at_limit),
    );
    out.assert_ok();
    assert!(
        out.stdout.len() < 16 * 1024 / 2 + 1024,
        "{}",
        out.stdout.len()
    );
    let out = run_with_stdin(
        cmd(&home, &env),
        &["config", "decrypt", "--data-id", "cipher-db"],
        Some(&out.stdout),
    );
    out.assert_ok();
    assert_eq!(out.stdout, at_limit);
    assert_eq!(
        (calls(Endpoint::KmsEncrypt), calls(Endpoint::KmsDecrypt)),
        (1, 1)
    );
}

#[test]
fn input_over_10_mib_is_refused_from_a_file_and_from_stdin() {
    let cloud = kms_cloud();
    let home = Home::new();
    let env = kms_env(&cloud);
    let expected = "mse-auth: the input is larger than 10 MiB (10485760 bytes), the most `config` \
                    reads (a Nacos server takes at most 10 MiB by default)";
    // 20 MB in a (sparse) file: refused by its size, before reading.
    let big = home.path().join("big.enc");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(20 * 1024 * 1024)
        .unwrap();
    let big = big.to_str().unwrap();
    for op in ["encrypt", "decrypt"] {
        let out = run(
            cmd(&home, &env),
            &["config", op, "--data-id", "cipher-db", "--in", big],
        );
        assert_eq!(refused(&out), expected, "{op}");
    }
    // One byte over the limit on stdin: read up to the limit, then refused.
    let over = home.path().join("over.enc");
    std::fs::File::create(&over)
        .unwrap()
        .set_len(10 * 1024 * 1024 + 1)
        .unwrap();
    let mut command = cmd(&home, &env);
    command.stdin(Stdio::from(std::fs::File::open(&over).unwrap()));
    let out = run(command, &["config", "decrypt", "--data-id", "cipher-db"]);
    assert_eq!(refused(&out), expected);
    assert_eq!(
        (
            cloud.emulator.calls(Endpoint::KmsDecrypt),
            cloud.emulator.calls(Endpoint::KmsEncrypt)
        ),
        (0, 0)
    );
}

// ---------------------------------------------------------------------------------------------------
// nacos login

#[test]
fn nacos_login_refuses_an_empty_password_before_sending_anything() {
    let cloud = Cloud::start();
    cloud.emulator.nacos_add_user("nacos", NACOS_PASSWORD);
    let home = Home::new();
    let server = cloud.emulator.nacos_server_addr();
    let args = ["nacos", "login", "--server", &server, "--username", "nacos"];
    let from_env = "mse-auth: no Nacos password: set NACOS_CLIENT_PASSWORD or pipe it in with \
                    --password-stdin (it is never taken as an argument; Nacos refuses a login \
                    with an empty password)";
    for env in [&[][..], &[("NACOS_CLIENT_PASSWORD", "")][..]] {
        let out = run(mse_auth(&home, env), &args);
        assert_eq!(out.assert_one_line_failure(), from_env, "{env:?}");
    }
    let mut stdin_args = args.to_vec();
    stdin_args.push("--password-stdin");
    for stdin in [None, Some(""), Some("\n"), Some("\r\nsecond-line\n")] {
        let out = run_with_stdin(mse_auth(&home, &[]), &stdin_args, stdin);
        assert_eq!(
            out.assert_one_line_failure(),
            "mse-auth: the password is empty: --password-stdin reads it from the first line of \
             standard input, and that line is empty (Nacos refuses a login with an empty password)",
            "{stdin:?}"
        );
    }
    // A blank user name is no user name.
    let out = run(
        mse_auth(&home, &[("NACOS_CLIENT_PASSWORD", NACOS_PASSWORD)]),
        &["nacos", "login", "--server", &server, "--username", " "],
    );
    assert!(out.assert_one_line_failure().contains("no Nacos user name"));
    assert_eq!(cloud.emulator.calls(Endpoint::NacosLogin), 0);

    // With the password, the same login works.
    let out = run(
        mse_auth(&home, &[("NACOS_CLIENT_PASSWORD", NACOS_PASSWORD)]),
        &args,
    );
    out.assert_ok();
    out.assert_no_secret(&[NACOS_PASSWORD]);
    assert_eq!(cloud.emulator.calls(Endpoint::NacosLogin), 1);
}

#[test]
fn nacos_login_names_every_failing_server_with_its_reason() {
    let cloud = Cloud::start();
    cloud.emulator.nacos_add_user("nacos", NACOS_PASSWORD);
    cloud
        .emulator
        .inject_fault(Endpoint::NacosLogin, Fault::Hang, 1);
    let refusing = closed_port();
    let home = Home::new();
    let servers = format!(
        "{},127.0.0.1:{refusing}",
        cloud.emulator.nacos_server_addr()
    );
    // The hanging server costs its whole budget (3 s connect + 5 s answer), within RUN_LIMIT.
    let out = run(
        mse_auth(&home, &[("NACOS_CLIENT_PASSWORD", NACOS_PASSWORD)]),
        &[
            "nacos",
            "login",
            "--server",
            &servers,
            "--username",
            "nacos",
        ],
    );
    let line = out.assert_one_line_failure();
    assert_eq!(
        line,
        format!(
            "mse-auth: nacos_login: login failed on 2 servers: {}: timed out after 8s (no \
             answer); http://127.0.0.1:{refusing}: could not connect (connection refused)",
            cloud.emulator.base_url()
        )
    );
    out.assert_no_secret(&[NACOS_PASSWORD]);
    assert_eq!(cloud.emulator.calls(Endpoint::NacosLogin), 1);
}
