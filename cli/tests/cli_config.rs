//! `mse-auth config encrypt|decrypt|new-local-key`, run as a child process in an empty environment with a
//! temporary HOME, against the KMS of an emulator running in this process (or of `mse-auth emulator`).
//! Every wait is bounded; children are killed on drop.

mod cli_support;

use cli_support::*;
use mse_auth_emulator::Endpoint;
use mse_auth_providers::kms::KmsClient;
use mse_auth_providers::{vars, StaticAccessKeyProvider};
use serde_json::Value;

const KEY: &str = "alias/cli-config-test";
const PLAIN: &str = "password: sentinel-config-plaintext-0042\nurl: jdbc:mysql://db/app\n";

fn kms_cloud() -> Cloud {
    kms_cloud_with(KEY)
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

/// The Base64 data key inside a KMS `CiphertextBlob`, asked of the emulator's KMS directly.
fn data_key_of(cloud: &Cloud, blob: &str) -> String {
    let client = KmsClient::builder()
        .endpoint(cloud.emulator.kms_endpoint())
        .credentials(StaticAccessKeyProvider::new(AK_ID, AK_SECRET).unwrap())
        .build()
        .unwrap();
    let plain = cloud.rt.block_on(client.decrypt(blob)).unwrap();
    plain.plaintext().to_string()
}

// ---------------------------------------------------------------------------------------------------
// help and usage

#[test]
fn every_config_subcommand_has_help_with_examples() {
    let home = Home::new();
    for args in [
        vec!["config", "--help"],
        vec!["config", "encrypt", "--help"],
        vec!["config", "decrypt", "--help"],
        vec!["config", "new-local-key", "--help"],
    ] {
        let out = run(mse_auth(&home, &[]), &args);
        out.assert_ok();
        assert!(out.stdout.contains("Examples:"), "{args:?}: {}", out.stdout);
    }
    let out = run(mse_auth(&home, &[]), &["config", "decrypt", "--help"]);
    assert!(
        out.stdout
            .contains("Printing the plaintext is this command's purpose"),
        "{}",
        out.stdout
    );
    let out = run(mse_auth(&home, &[]), &["config", "encrypt", "--help"]);
    assert!(out.stdout.contains("--show-secrets"), "{}", out.stdout);
}

#[test]
fn config_usage_errors_exit_2() {
    let home = Home::new();
    for args in [
        vec!["config", "encrypt"],
        vec![
            "config",
            "encrypt",
            "--data-id",
            "cipher-gcm-x",
            "--format",
            "yaml",
        ],
        vec![
            "config",
            "encrypt",
            "--data-id",
            "cipher-gcm-x",
            "--local-key-file",
            "k",
        ],
        vec![
            "config",
            "decrypt",
            "--data-id",
            "cipher-gcm-x",
            "--local-key-name",
            "k",
        ],
        vec!["config", "decrypt", "--data-id", "x", "--in-format", "yaml"],
        vec!["config", "new-local-key", "--name", "k"],
    ] {
        let out = run(mse_auth(&home, &[]), &args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
    }
}

// ---------------------------------------------------------------------------------------------------
// KMS schemes

#[test]
fn kms_schemes_round_trip_through_the_emulators_kms_from_stdin() {
    let cloud = kms_cloud();
    let home = Home::new();
    let env = kms_env(&cloud);
    let mut secrets = cloud.secrets();
    for (data_id, scheme, has_key) in [
        ("cipher-kms-aes-256-db.yaml", "kms-aes-256", true),
        ("cipher-kms-aes-128-db.yaml", "kms-aes-128", true),
        ("cipher-db.yaml", "kms-direct", false),
        ("cipher-gcm-db.yaml", "gcm", false),
    ] {
        let generated = cloud.emulator.calls(Endpoint::KmsGenerateDataKey)
            + cloud.emulator.calls(Endpoint::KmsEncrypt);
        let args = [
            "config",
            "encrypt",
            "--data-id",
            data_id,
            "--namespace",
            "prod",
            "--group",
            "APP",
            "--kms-key-id",
            KEY,
        ];
        let out = run_with_stdin(cmd(&home, &env), &args, Some(PLAIN));
        out.assert_ok();
        out.assert_no_secret(&[PLAIN.trim(), "sentinel-config-plaintext"]);
        out.assert_no_secret(&secrets);
        assert!(out.stderr.is_empty(), "{data_id}: {}", out.stderr);
        assert_eq!(
            cloud.emulator.calls(Endpoint::KmsGenerateDataKey)
                + cloud.emulator.calls(Endpoint::KmsEncrypt),
            generated + 1,
            "{data_id}: one KMS call per encryption"
        );
        let v = json(&out);
        assert_eq!(v["dataId"], data_id);
        assert_eq!(v["group"], "APP");
        assert_eq!(v["namespace"], "prod");
        assert_eq!(v["scheme"], scheme);
        let content = v["content"].as_str().unwrap().to_string();
        let edk = v["encryptedDataKey"].as_str().unwrap().to_string();
        assert_ne!(content, PLAIN);
        assert_eq!(!edk.is_empty(), has_key, "{data_id}: {v:#}");
        if has_key {
            // The data key in clear is never printed, by encrypt or decrypt.
            secrets.push(data_key_of(&cloud, &edk));
        }

        // The JSON back, from a file.
        let file = home.path().join(format!("{data_id}.json"));
        std::fs::write(&file, &out.stdout).unwrap();
        let decrypts = cloud.emulator.calls(Endpoint::KmsDecrypt);
        let out = run(
            cmd(&home, &env),
            &[
                "config",
                "decrypt",
                "--data-id",
                data_id,
                "--namespace",
                "prod",
                "--group",
                "APP",
                "--in",
                file.to_str().unwrap(),
                "--in-format",
                "json",
            ],
        );
        out.assert_ok();
        assert_eq!(out.stdout, PLAIN, "{data_id}: the plaintext, byte for byte");
        assert!(out.stderr.is_empty(), "{data_id}: {}", out.stderr);
        out.assert_no_secret(&secrets);
        assert_eq!(cloud.emulator.calls(Endpoint::KmsDecrypt), decrypts + 1);

        // The content alone, on stdin, with the key as a flag; JSON out.
        let mut args = vec![
            "config",
            "decrypt",
            "--data-id",
            data_id,
            "--namespace",
            "prod",
            "--group",
            "APP",
            "--format",
            "json",
        ];
        if has_key {
            args.extend(["--encrypted-data-key", edk.as_str()]);
        }
        let out = run_with_stdin(cmd(&home, &env), &args, Some(&format!("{content}\n")));
        out.assert_ok();
        let v = json(&out);
        assert_eq!(v["content"], PLAIN);
        assert_eq!(v["scheme"], scheme);
        assert_eq!(v["dataId"], data_id);
        assert!(v.get("encryptedDataKey").is_none(), "{v:#}");
    }

    // Trace logs of a KMS round trip carry no plaintext, data key or AccessKey secret either.
    let args = [
        "-vv",
        "config",
        "encrypt",
        "--data-id",
        "cipher-kms-aes-256-x",
        "--kms-key-id",
        KEY,
    ];
    let out = run_with_stdin(cmd(&home, &env), &args, Some(PLAIN));
    out.assert_ok();
    assert!(!out.stderr.is_empty(), "-vv logs");
    assert!(
        !out.stderr.contains("sentinel-config-plaintext"),
        "{}",
        out.stderr
    );
    let edk = json(&out)["encryptedDataKey"].as_str().unwrap().to_string();
    secrets.push(data_key_of(&cloud, &edk));
    out.assert_no_secret(&secrets);
    let args = [
        "-vv",
        "config",
        "decrypt",
        "--data-id",
        "cipher-kms-aes-256-x",
        "--in-format",
        "json",
    ];
    let out = run_with_stdin(cmd(&home, &env), &args, Some(&out.stdout));
    out.assert_ok();
    assert_eq!(out.stdout, PLAIN);
    assert!(
        !out.stderr.contains("sentinel-config-plaintext"),
        "{}",
        out.stderr
    );
    out.assert_no_secret(&secrets);
}

#[test]
fn envelope_plain_output_is_refused_before_calling_kms() {
    let cloud = kms_cloud();
    let home = Home::new();
    let out = run_with_stdin(
        cmd(&home, &kms_env(&cloud)),
        &[
            "config",
            "encrypt",
            "--data-id",
            "cipher-kms-aes-256-db",
            "--kms-key-id",
            KEY,
            "--format",
            "plain",
        ],
        Some(PLAIN),
    );
    let line = out.assert_one_line_failure();
    assert!(line.contains("--format json"), "{line}");
    assert_eq!(cloud.emulator.calls(Endpoint::KmsGenerateDataKey), 0);

    // Direct KMS has no encryptedDataKey: plain output is the ciphertext line.
    let out = run_with_stdin(
        cmd(&home, &kms_env(&cloud)),
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
        Some(PLAIN),
    );
    out.assert_ok();
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    let out = run_with_stdin(
        cmd(&home, &kms_env(&cloud)),
        &["config", "decrypt", "--data-id", "cipher-db"],
        Some(&out.stdout),
    );
    out.assert_ok();
    assert_eq!(out.stdout, PLAIN);
}

#[test]
fn kms_failures_exit_1_with_the_code() {
    let cloud = kms_cloud();
    let home = Home::new();
    let env = kms_env(&cloud);
    // An unknown master key.
    let out = run_with_stdin(
        cmd(&home, &env),
        &[
            "config",
            "encrypt",
            "--data-id",
            "cipher-kms-aes-256-db",
            "--kms-key-id",
            "alias/nope",
        ],
        Some(PLAIN),
    );
    let line = out.assert_one_line_failure();
    assert!(line.contains("Forbidden.KeyNotFound"), "{line}");
    assert!(line.contains("cipher-kms-aes-256-db"), "{line}");
    out.assert_no_secret(&cloud.secrets());

    // A blob KMS does not accept.
    let out = run_with_stdin(
        cmd(&home, &env),
        &[
            "config",
            "decrypt",
            "--data-id",
            "cipher-kms-aes-256-db",
            "--encrypted-data-key",
            "bm90LWEtYmxvYg==",
        ],
        Some("n0AuZpW4e6ShtLy7k+CCWPox+CP6l6ACWenZqM25al4="),
    );
    let line = out.assert_one_line_failure();
    assert!(line.contains("KMS"), "{line}");
    assert!(line.contains("InvalidParameter"), "{line}");

    // No encryptedDataKey for an envelope config.
    let out = run_with_stdin(
        cmd(&home, &env),
        &["config", "decrypt", "--data-id", "cipher-kms-aes-128-db"],
        Some("n0AuZpW4e6ShtLy7k+CCWPox+CP6l6ACWenZqM25al4="),
    );
    let line = out.assert_one_line_failure();
    assert!(line.contains("no encryptedDataKey"), "{line}");

    // No KMS endpoint at all.
    let out = run_with_stdin(
        mse_auth(
            &home,
            &[
                (vars::ACCESS_KEY_ID, AK_ID),
                (vars::ACCESS_KEY_SECRET, AK_SECRET),
            ],
        ),
        &["config", "encrypt", "--data-id", "cipher-kms-aes-256-db"],
        Some(PLAIN),
    );
    let line = out.assert_one_line_failure();
    assert!(line.contains("no KMS endpoint"), "{line}");
    assert!(line.contains("--kms-region"), "{line}");

    // No credentials: the chain says why.
    let out = run_with_stdin(
        mse_auth(
            &home,
            &[(vars::KMS_ENDPOINT, &cloud.emulator.kms_endpoint())],
        ),
        &["config", "encrypt", "--data-id", "cipher-kms-aes-256-db"],
        Some(PLAIN),
    );
    let line = out.assert_one_line_failure();
    assert!(line.contains("ALIBABA_CLOUD_ACCESS_KEY_ID"), "{line}");
    assert_eq!(cloud.emulator.calls(Endpoint::KmsGenerateDataKey), 1);
}

// ---------------------------------------------------------------------------------------------------
// cipher-gcm- with a local key

fn new_local_key(home: &Home, name: &str) -> (std::path::PathBuf, String) {
    let file = home.path().join(format!("{name}.key"));
    let out = run(
        mse_auth(home, &[]),
        &[
            "config",
            "new-local-key",
            "--name",
            name,
            "--file",
            file.to_str().unwrap(),
        ],
    );
    out.assert_ok();
    let key = std::fs::read_to_string(&file).unwrap().trim().to_string();
    assert_eq!(key.len(), 44, "Base64 of 32 bytes");
    out.assert_no_secret(&[&key]);
    (file, key)
}

#[test]
fn new_local_key_writes_mode_0600_and_never_overwrites() {
    let home = Home::new();
    let (file, key) = new_local_key(&home, "ops-2024");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let out = run(
        mse_auth(&home, &[]),
        &[
            "config",
            "new-local-key",
            "--name",
            "ops-2024",
            "--file",
            file.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let line = out.assert_one_line_failure();
    assert!(line.contains("never overwritten"), "{line}");
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), key);

    let other = home.path().join("other.key");
    let out = run(
        mse_auth(&home, &[]),
        &[
            "config",
            "new-local-key",
            "--name",
            "other",
            "--file",
            other.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    out.assert_ok();
    let v = json(&out);
    assert_eq!(v["name"], "other");
    let other_key = std::fs::read_to_string(&other).unwrap();
    out.assert_no_secret(&[other_key.trim()]);
    assert_ne!(other_key.trim(), key, "every key is fresh");
}

#[test]
fn gcm_with_a_local_key_needs_no_kms_and_binds_the_config() {
    let home = Home::new();
    let (file, key) = new_local_key(&home, "ops");
    let file = file.to_str().unwrap();
    let local = ["--local-key-file", file, "--local-key-name", "ops"];
    let input = home.path().join("db.yaml");
    std::fs::write(&input, PLAIN).unwrap();
    let sealed = home.path().join("db.enc");
    // No AccessKey and no KMS endpoint in the environment: none needed.
    let mut args = vec![
        "config",
        "encrypt",
        "--data-id",
        "cipher-gcm-db",
        "--namespace",
        "prod",
        "--in",
        input.to_str().unwrap(),
        "--out",
        sealed.to_str().unwrap(),
        "--format",
        "plain",
    ];
    args.extend(local);
    let out = run(mse_auth(&home, &[]), &args);
    out.assert_ok();
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "{}",
        out.stderr
    );
    let text = std::fs::read_to_string(&sealed).unwrap();
    assert!(text.starts_with("mseauth:v1:"), "{text}");
    assert!(!text.contains("sentinel-config-plaintext"));

    let decrypt = |data_id: &str, namespace: &str, with_key: bool| {
        let mut args = vec![
            "config",
            "decrypt",
            "--data-id",
            data_id,
            "--namespace",
            namespace,
            "--in",
            sealed.to_str().unwrap(),
        ];
        if with_key {
            args.extend(local);
        }
        run(mse_auth(&home, &[]), &args)
    };
    let out = decrypt("cipher-gcm-db", "prod", true);
    out.assert_ok();
    assert_eq!(out.stdout, PLAIN);
    out.assert_no_secret(&[&key]);

    // Moved to another dataId or namespace: authentication fails, exit 1, one line.
    for (data_id, namespace) in [("cipher-gcm-other", "prod"), ("cipher-gcm-db", "dev")] {
        let out = decrypt(data_id, namespace, true);
        let line = out.assert_one_line_failure();
        assert!(line.contains("authentication failed"), "{line}");
        assert!(line.contains(data_id), "{line}");
        out.assert_no_secret(&[&key, "sentinel-config-plaintext"]);
    }
    // Without the local key.
    let out = decrypt("cipher-gcm-db", "prod", false);
    let line = out.assert_one_line_failure();
    assert!(line.contains("local key \"ops\""), "{line}");
    // Tampered: one character of the ciphertext changed.
    let mut chars: Vec<char> = text.trim().chars().collect();
    let at = chars.len() - 10;
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    let mut args = vec![
        "config",
        "decrypt",
        "--data-id",
        "cipher-gcm-db",
        "--namespace",
        "prod",
    ];
    args.extend(local);
    let out = run_with_stdin(mse_auth(&home, &[]), &args, Some(&tampered));
    let line = out.assert_one_line_failure();
    assert!(line.contains("authentication failed"), "{line}");

    // Decrypted to a file: mode 0600.
    let clear = home.path().join("db.clear");
    let mut args = vec![
        "config",
        "decrypt",
        "--data-id",
        "cipher-gcm-db",
        "--namespace",
        "prod",
        "--in",
        sealed.to_str().unwrap(),
        "--out",
        clear.to_str().unwrap(),
    ];
    args.extend(local);
    let out = run(mse_auth(&home, &[]), &args);
    out.assert_ok();
    assert_eq!(std::fs::read_to_string(&clear).unwrap(), PLAIN);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&clear).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
}

#[test]
fn gcm_under_kms_moved_to_another_group_fails_authentication() {
    let cloud = kms_cloud();
    let home = Home::new();
    let env = kms_env(&cloud);
    let out = run_with_stdin(
        cmd(&home, &env),
        &[
            "config",
            "encrypt",
            "--data-id",
            "cipher-gcm-db",
            "--kms-key-id",
            KEY,
            "--format",
            "plain",
        ],
        Some(PLAIN),
    );
    out.assert_ok();
    let out = run_with_stdin(
        cmd(&home, &env),
        &[
            "config",
            "decrypt",
            "--data-id",
            "cipher-gcm-db",
            "--group",
            "OTHER",
        ],
        Some(&out.stdout),
    );
    let line = out.assert_one_line_failure();
    assert!(line.contains("authentication failed"), "{line}");
    out.assert_no_secret(&["sentinel-config-plaintext"]);
}

// ---------------------------------------------------------------------------------------------------
// cipher-aes- and pass-through

#[test]
fn cipher_aes_prints_its_key_only_with_show_secrets_and_reads_it_only_from_json() {
    let home = Home::new();
    let out = run_with_stdin(
        mse_auth(&home, &[]),
        &["config", "encrypt", "--data-id", "cipher-aes-db"],
        Some(PLAIN),
    );
    let line = out.assert_one_line_failure();
    assert!(line.contains("--show-secrets"), "{line}");

    let out = run_with_stdin(
        mse_auth(&home, &[]),
        &[
            "config",
            "encrypt",
            "--data-id",
            "cipher-aes-db",
            "--show-secrets",
        ],
        Some(PLAIN),
    );
    out.assert_ok();
    out.assert_no_secret(&["sentinel-config-plaintext"]);
    let v = json(&out);
    assert_eq!(v["scheme"], "nacos-aes");
    let key = v["encryptedDataKey"].as_str().unwrap().to_string();
    assert!(!key.is_empty());

    // Not on the command line.
    let content = v["content"].as_str().unwrap();
    let out = run_with_stdin(
        mse_auth(&home, &[]),
        &[
            "config",
            "decrypt",
            "--data-id",
            "cipher-aes-db",
            "--encrypted-data-key",
            &key,
        ],
        Some(content),
    );
    let line = out.assert_one_line_failure();
    assert!(line.contains("JSON input"), "{line}");
    out.assert_no_secret(&[&key]);

    // From the JSON input: the plaintext, and the key is not echoed.
    let sealed = v.to_string();
    let out = run_with_stdin(
        mse_auth(&home, &[]),
        &[
            "config",
            "decrypt",
            "--data-id",
            "cipher-aes-db",
            "--in-format",
            "json",
            "--format",
            "json",
        ],
        Some(&sealed),
    );
    out.assert_ok();
    out.assert_no_secret(&[&key]);
    assert_eq!(json(&out)["content"], PLAIN);
}

#[test]
fn a_plain_data_id_passes_through_verbatim_with_a_note_at_v() {
    let home = Home::new();
    // Encrypt passes it through only when asked (cli_footguns.rs: refused otherwise).
    let out = run_with_stdin(
        mse_auth(&home, &[]),
        &[
            "config",
            "encrypt",
            "--data-id",
            "app.yaml",
            "--format",
            "plain",
            "--allow-plain",
        ],
        Some(PLAIN),
    );
    out.assert_ok();
    assert_eq!(out.stdout, PLAIN);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let out = run_with_stdin(
        mse_auth(&home, &[]),
        &["-v", "config", "decrypt", "--data-id", "app.yaml"],
        Some(PLAIN),
    );
    out.assert_ok();
    assert_eq!(out.stdout, PLAIN);
    assert!(
        out.stderr.contains("passes through unchanged"),
        "{}",
        out.stderr
    );
    // Bad JSON input: one line.
    let out = run_with_stdin(
        mse_auth(&home, &[]),
        &[
            "config",
            "decrypt",
            "--data-id",
            "app.yaml",
            "--in-format",
            "json",
        ],
        Some("{\"nope\": 1}"),
    );
    let line = out.assert_one_line_failure();
    assert!(line.contains("not the JSON of `config encrypt`"), "{line}");
    // A missing input file: one line.
    let out = run(
        mse_auth(&home, &[]),
        &[
            "config",
            "encrypt",
            "--data-id",
            "cipher-gcm-x",
            "--in",
            "/nonexistent/db.yaml",
        ],
    );
    let line = out.assert_one_line_failure();
    assert!(line.contains("/nonexistent/db.yaml"), "{line}");
}

// ---------------------------------------------------------------------------------------------------
// with `mse-auth emulator`

#[test]
fn the_emulators_exports_are_all_config_needs() {
    let home = Home::new();
    let emulator = Running::spawn(mse_auth(&home, &[]), &["emulator"]);
    let printout = EmulatorPrintout::read(&emulator);
    let exports = &printout.exports;
    let key_line = printout.lines.last().unwrap();
    assert!(key_line.contains("alias/acs/mse"), "{key_line}");
    let env: Vec<(&'static str, String)> = [
        vars::KMS_ENDPOINT,
        vars::ACCESS_KEY_ID,
        vars::ACCESS_KEY_SECRET,
    ]
    .into_iter()
    .map(|name| (name, exports[name].clone()))
    .collect();
    let out = run_with_stdin(
        cmd(&home, &env),
        &["config", "encrypt", "--data-id", "cipher-kms-aes-256-db"],
        Some(PLAIN),
    );
    out.assert_ok();
    let out = run_with_stdin(
        cmd(&home, &env),
        &[
            "config",
            "decrypt",
            "--data-id",
            "cipher-kms-aes-256-db",
            "--in-format",
            "json",
        ],
        Some(&out.stdout),
    );
    out.assert_ok();
    assert_eq!(out.stdout, PLAIN);
    // With every export pasted, the chain's credentials (whichever mode answers) are KMS's too.
    let out = run_with_stdin(
        mse_auth(&home, &printout.env()),
        &["config", "encrypt", "--data-id", "cipher-kms-aes-256-db"],
        Some(PLAIN),
    );
    out.assert_ok();
    // Ctrl-C: a clean exit that removes the OIDC token file.
    let token_file = std::path::PathBuf::from(&exports[vars::OIDC_TOKEN_FILE]);
    assert!(token_file.is_file(), "{}", token_file.display());
    let (code, stderr) = emulator.stop();
    assert_eq!(code, 0, "{stderr}");
    assert!(!token_file.exists(), "{}", token_file.display());
    let calls = emulator_calls(&stderr);
    assert_eq!(calls.get("KmsGenerateDataKey"), Some(&2), "{stderr}");
    assert_eq!(calls.get("KmsDecrypt"), Some(&1), "{stderr}");
}
