//! `mse-auth nacos config` end to end: the binary against a real rnacos 0.8.8 (auth on, 127.0.0.1;
//! the providers' fixture, shared by path) and the emulator's KMS, with what the server stores read
//! raw over the open API.
//!
//! rnacos drops `encryptedDataKey` (spec §G.3), so the envelope schemes cannot round-trip here: this
//! file shows that `publish` refuses to leave such a config behind; their round trip, re-encryption
//! and rollback are covered by the unit tests on a server double that keeps the key
//! (`src/bin/mse-auth/nacos/config/memory.rs` says why a double rather than a gRPC Nacos).

mod cli_support;
#[allow(dead_code)]
#[path = "../../providers/tests/support/rnacos.rs"]
mod rnacos;

use cli_support::{cmd, kms_cloud_with, kms_env, ChildGuard, Cloud, Home, Output, AK_SECRET};
use mse_auth_emulator::{Endpoint, Fault};
use mse_auth_providers::cipher::gcm::{KeySource, Sealed};
use mse_auth_providers::cipher::{ConfigCipher, DataKeyService};
use mse_auth_providers::kms::KmsClient;
use mse_auth_providers::kms_data_keys::KmsDataKeys;
use mse_auth_providers::StaticAccessKeyProvider;
use rnacos::{Rnacos, ADMIN};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

const KMS_KEY: &str = "alias/mse-auth-ops";
const GROUP: &str = "DEFAULT_GROUP";
const SECRET: &str = "db.password = sentinel-plaintext-7731\n";
/// The longest one reencrypt run of the 51-config namespace may take (about 5 server calls per
/// config; a loaded 2-core machine).
const LONG_RUN: Duration = Duration::from_secs(300);

/// A server, a KMS, a HOME with a local key file, and the CLI's environment.
struct Setup {
    server: Rnacos,
    cloud: Cloud,
    home: Home,
    key_file: PathBuf,
    env: Vec<(&'static str, String)>,
}

impl Setup {
    fn new() -> Setup {
        let server = Rnacos::start(3600);
        let cloud = kms_cloud_with(KMS_KEY);
        let home = Home::new();
        let key_file = home.path().join("ops.key");
        let mut env = kms_env(&cloud);
        env.push((
            "NACOS_CLIENT_SERVER_ADDRESS",
            format!("127.0.0.1:{}", server.http_port),
        ));
        env.push(("NACOS_CLIENT_USERNAME", ADMIN.0.to_string()));
        env.push(("NACOS_CLIENT_PASSWORD", ADMIN.1.to_string()));
        let setup = Setup {
            server,
            cloud,
            home,
            key_file,
            env,
        };
        let out = setup.run(
            &[
                "config",
                "new-local-key",
                "--name",
                "ops-2024",
                "--file",
                setup.key_file.to_str().unwrap(),
            ],
            None,
        );
        out.assert_ok();
        setup
    }

    /// `mse-auth <args> --grpc-port <port>` (for `nacos config …`), within the usual limit.
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        if args.windows(2).any(|w| w == ["nacos", "config"]) {
            all.extend(["--grpc-port".into(), self.server.grpc_port.to_string()]);
        }
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        cli_support::run_with_stdin(cmd(&self.home, &self.env), &all, stdin)
    }

    /// Like [`run`](Self::run), for the long `reencrypt` runs: within [`LONG_RUN`].
    fn run_long(&self, args: &[&str]) -> Output {
        let mut child = self.spawn(args);
        let mut out = child.0.stdout.take().unwrap();
        let mut err = child.0.stderr.take().unwrap();
        let out = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        let err = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let code = child.wait_within(LONG_RUN);
        Output {
            code,
            stdout: out.join().unwrap(),
            stderr: err.join().unwrap(),
        }
    }

    fn spawn(&self, args: &[&str]) -> ChildGuard {
        let mut command = cmd(&self.home, &self.env);
        command
            .args(args)
            .args(["--grpc-port", &self.server.grpc_port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        ChildGuard(command.spawn().expect("spawn mse-auth"))
    }

    fn local_key_args(&self) -> Vec<String> {
        vec![
            "--local-key-file".into(),
            self.key_file.to_str().unwrap().into(),
            "--local-key-name".into(),
            "ops-2024".into(),
        ]
    }

    fn token(&self) -> String {
        self.server.admin_token().expect("an admin token")
    }

    /// What the server stores, over the open API: (status, content).
    fn raw(&self, namespace: &str, data_id: &str) -> (u16, String) {
        self.server
            .read_in(Some(&self.token()), namespace, data_id, GROUP)
    }

    /// Every config of `namespace` as stored: dataId → content.
    fn snapshot(&self, namespace: &str) -> BTreeMap<String, String> {
        self.server
            .configs_in(&self.token(), namespace)
            .into_iter()
            .map(|(_, data_id, content)| (data_id, content))
            .collect()
    }

    /// The emulator's KMS as the library sees it, to make and check ciphertexts in the test.
    fn kms(&self) -> Arc<KmsDataKeys> {
        let client = KmsClient::builder()
            .endpoint(self.cloud.emulator.kms_endpoint())
            .credentials(
                StaticAccessKeyProvider::new(cli_support::AK_ID, cli_support::AK_SECRET).unwrap(),
            )
            .build()
            .unwrap();
        Arc::new(KmsDataKeys::new(client).key_id(KMS_KEY))
    }

    fn cipher(&self) -> ConfigCipher {
        ConfigCipher::builder().data_key_service(self.kms()).build()
    }
}

fn args<'a>(base: &[&'a str], extra: &'a [String]) -> Vec<&'a str> {
    base.iter()
        .copied()
        .chain(extra.iter().map(String::as_str))
        .collect()
}

#[test]
fn publish_then_get_round_trips_every_scheme_rnacos_keeps_and_the_server_holds_ciphertext() {
    let s = Setup::new();
    let ns = "ops-e2e";
    let local = s.local_key_args();
    let kms: Vec<String> = vec!["--kms-key-id".into(), KMS_KEY.into()];
    for (data_id, keys) in [
        ("cipher-gcm-local.yaml", &local),
        ("cipher-gcm-kms.yaml", &kms),
        ("cipher-direct.properties", &kms),
    ] {
        let base = [
            "nacos",
            "config",
            "publish",
            "--namespace",
            ns,
            "--data-id",
            data_id,
        ];
        let out = s.run(&args(&base, keys), Some(SECRET));
        out.assert_ok();
        assert!(
            out.stdout.contains("created, read back and decrypted"),
            "{}",
            out.stdout
        );
        out.assert_no_secret(&["sentinel-plaintext"]);

        let (status, stored) = s.raw(ns, data_id);
        assert_eq!(status, 200, "{data_id}");
        assert!(
            !stored.contains("sentinel-plaintext"),
            "{data_id}: {stored}"
        );
        if data_id.starts_with("cipher-gcm-") {
            assert!(stored.starts_with("mseauth:v1:"), "{data_id}: {stored}");
        }

        let base = [
            "nacos",
            "config",
            "get",
            "--namespace",
            ns,
            "--data-id",
            data_id,
        ];
        let out = s.run(&args(&base, keys), None);
        out.assert_ok();
        assert_eq!(out.stdout, SECRET, "{data_id}");

        let out = s.run(&[&base[..], &["--raw"][..]].concat(), None);
        out.assert_ok();
        let raw: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(raw["content"], stored.as_str(), "{data_id}");
        assert_eq!(raw["encryptedDataKey"], "", "{data_id}");
        assert_eq!(raw["md5"].as_str().unwrap().len(), 32, "{data_id}");
    }

    // Reading with the wrong local key: an error naming the cause, no content.
    let wrong = s.home.path().join("wrong.key");
    s.run(
        &[
            "config",
            "new-local-key",
            "--name",
            "ops-2024",
            "--file",
            wrong.to_str().unwrap(),
        ],
        None,
    )
    .assert_ok();
    let out = s.run(
        &[
            "nacos",
            "config",
            "get",
            "--namespace",
            ns,
            "--data-id",
            "cipher-gcm-local.yaml",
            "--local-key-file",
            wrong.to_str().unwrap(),
            "--local-key-name",
            "ops-2024",
        ],
        None,
    );
    let line = out.assert_one_line_failure();
    assert!(
        line.contains("cannot decrypt config cipher-gcm-local.yaml"),
        "{line}"
    );
    assert!(out.stdout.is_empty());

    // An envelope config written by another client: rnacos kept the content, not the data key.
    let envelope = "cipher-kms-aes-256-other.yaml";
    assert_eq!(
        s.server
            .publish_in(&s.token(), ns, envelope, GROUP, "c2VhbGVkLWJ5LWFub3RoZXI="),
        200
    );
    let out = s.run(
        &[
            "nacos",
            "config",
            "get",
            "--namespace",
            ns,
            "--data-id",
            envelope,
        ],
        None,
    );
    let line = out.assert_one_line_failure();
    assert!(
        line.contains("the server returned no encryptedDataKey"),
        "{line}"
    );

    // The listing: schemes and where each key is.
    let out = s.run(
        &[
            "nacos",
            "config",
            "list",
            "--namespace",
            ns,
            "--format",
            "json",
        ],
        None,
    );
    out.assert_ok();
    let listed: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let keys: Vec<(String, String, String)> = listed["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["dataId"].as_str().unwrap().to_string(),
                c["scheme"].as_str().unwrap().to_string(),
                format!(
                    "{} {}",
                    c["key"].as_str().unwrap(),
                    c["keyId"].as_str().unwrap_or("")
                ),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            (
                "cipher-direct.properties".into(),
                "kms-direct".into(),
                "not-needed ".into()
            ),
            (
                "cipher-gcm-kms.yaml".into(),
                "gcm".into(),
                format!("embedded {KMS_KEY}")
            ),
            (
                "cipher-gcm-local.yaml".into(),
                "gcm".into(),
                "embedded ops-2024".into()
            ),
            (envelope.into(), "kms-aes-256".into(), "missing ".into()),
        ]
    );

    // An envelope config cannot live on rnacos (it drops encryptedDataKey): refused, nothing left.
    let out = s.run(
        &[
            "nacos",
            "config",
            "publish",
            "--namespace",
            ns,
            "--data-id",
            "cipher-kms-aes-256-db.yaml",
            "--kms-key-id",
            KMS_KEY,
        ],
        Some(SECRET),
    );
    let line = out.assert_one_line_failure();
    assert!(
        line.contains("came back without its encryptedDataKey"),
        "{line}"
    );
    assert!(line.ends_with("the new config was removed"), "{line}");
    assert_eq!(s.raw(ns, "cipher-kms-aes-256-db.yaml").0, 404);
    s.cloud.emulator.assert_no_url_leaks();
}

#[test]
fn publish_if_unchanged_refuses_a_config_changed_since_it_was_read() {
    let s = Setup::new();
    let ns = "ops-cas";
    let local = s.local_key_args();
    let publish = |text: &str, extra: &[&str]| {
        let base = [
            "nacos",
            "config",
            "publish",
            "--namespace",
            ns,
            "--data-id",
            "cipher-gcm-db.yaml",
        ];
        let mut all = args(&base, &local);
        all.extend_from_slice(extra);
        s.run(&all, Some(text))
    };
    publish("v: 1\n", &[]).assert_ok();
    let out = s.run(
        &[
            "nacos",
            "config",
            "get",
            "--namespace",
            ns,
            "--data-id",
            "cipher-gcm-db.yaml",
            "--raw",
        ],
        None,
    );
    out.assert_ok();
    let read: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let md5 = read["md5"].as_str().unwrap().to_string();

    // Someone else writes in between.
    assert_eq!(
        s.server
            .publish_in(&s.token(), ns, "cipher-gcm-db.yaml", GROUP, "someone-else"),
        200
    );
    let out = publish("v: 2\n", &["--if-unchanged", &md5]);
    let line = out.assert_one_line_failure();
    assert!(line.contains("changed since it was read"), "{line}");
    assert!(line.contains("nothing was published"), "{line}");
    assert_eq!(
        s.raw(ns, "cipher-gcm-db.yaml"),
        (200, "someone-else".into())
    );

    // With the MD5 of what is there now, it goes through.
    let out = s.run(
        &[
            "nacos",
            "config",
            "get",
            "--namespace",
            ns,
            "--data-id",
            "cipher-gcm-db.yaml",
            "--raw",
            "--format",
            "plain",
        ],
        None,
    );
    out.assert_ok();
    assert_eq!(out.stdout, "someone-else\n");
    let current: serde_json::Value = serde_json::from_str(
        &s.run(
            &[
                "nacos",
                "config",
                "get",
                "--namespace",
                ns,
                "--data-id",
                "cipher-gcm-db.yaml",
                "--raw",
            ],
            None,
        )
        .stdout,
    )
    .unwrap();
    let out = publish(
        "v: 2\n",
        &["--if-unchanged", current["md5"].as_str().unwrap()],
    );
    out.assert_ok();
    assert!(out.stdout.contains("updated"), "{}", out.stdout);
    let base = [
        "nacos",
        "config",
        "get",
        "--namespace",
        ns,
        "--data-id",
        "cipher-gcm-db.yaml",
    ];
    assert_eq!(s.run(&args(&base, &local), None).stdout, "v: 2\n");
}

/// The plaintext of config `n` of the 50.
fn text(n: usize) -> String {
    format!("app.n = {n:02}\ndb.password = sentinel-plaintext-{n:02}\n")
}

fn data_id(n: usize) -> String {
    format!("cipher-app-{n:02}.properties")
}

#[test]
fn reencrypt_moves_fifty_configs_to_gcm_dry_run_first_then_interrupted_then_finished() {
    let s = Setup::new();
    let ns = "ops-migrate";
    let cipher = s.cipher();
    let rt = &s.cloud.rt;
    let token = s.token();
    for n in 1..=50 {
        let sealed = rt
            .block_on(cipher.encrypt(ns, GROUP, &data_id(n), &text(n)))
            .unwrap();
        assert_eq!(
            s.server
                .publish_in(&token, ns, &data_id(n), GROUP, &sealed.content),
            200
        );
    }
    // Corrupt: not a KMS ciphertext.
    let corrupt = "cipher-corrupt.properties";
    assert_eq!(
        s.server
            .publish_in(&token, ns, corrupt, GROUP, "this is not a KMS ciphertext"),
        200
    );
    let before = s.snapshot(ns);
    assert_eq!(before.len(), 51);
    let reencrypt = [
        "nacos",
        "config",
        "reencrypt",
        "--namespace",
        ns,
        "--to",
        "gcm",
        "--kms-key-id",
        KMS_KEY,
    ];

    // 1. A dry run changes nothing.
    let out = s.run_long(&[&reencrypt[..], &["--dry-run"][..]].concat());
    assert_eq!(
        out.code, 1,
        "the corrupt config fails: {}{}",
        out.stdout, out.stderr
    );
    assert!(
        out.stdout.contains(&format!(
            "dry run, nothing written: 50 would be re-encrypted into gcm, 0 skipped, 1 failed, of \
             51 cipher- configs in namespace \"{ns}\""
        )),
        "{}",
        out.stdout
    );
    assert_eq!(s.snapshot(ns), before, "a dry run writes nothing");

    // 2. Killed half-way: the 26th config's GenerateDataKey hangs (the first 25 answer normally).
    let kms = &s.cloud.emulator;
    let generated = kms.calls(Endpoint::KmsGenerateDataKey);
    kms.inject_fault(
        Endpoint::KmsGenerateDataKey,
        Fault::Delay(Duration::ZERO),
        25,
    );
    kms.inject_fault(Endpoint::KmsGenerateDataKey, Fault::Hang, 1);
    let mut child = s.spawn(&reencrypt);
    let deadline = Instant::now() + LONG_RUN;
    while kms.calls(Endpoint::KmsGenerateDataKey) < generated + 26 {
        assert!(
            child.0.try_wait().unwrap().is_none(),
            "reencrypt ended before it was killed"
        );
        assert!(Instant::now() < deadline, "the 26th config was not reached");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.signal("KILL");
    child.wait_within(Duration::from_secs(10));
    let halfway = s.snapshot(ns);
    let moved: Vec<&String> = halfway
        .keys()
        .filter(|d| d.starts_with("cipher-gcm-"))
        .collect();
    assert_eq!(moved.len(), 25, "{moved:?}");
    for (data_id, content) in &before {
        assert_eq!(halfway.get(data_id), Some(content), "{data_id} untouched");
    }

    // 3. The second run finishes: 25 done, 25 already done, the corrupt one reported and kept.
    let out = s.run_long(&reencrypt);
    println!("the second run's summary:\n{}", out.stdout);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(&format!(
            "25 re-encrypted into gcm, 25 skipped, 1 failed, of 51 cipher- configs in namespace \
             \"{ns}\""
        )),
        "{}",
        out.stdout
    );
    let corrupt_row = out
        .stdout
        .lines()
        .find(|l| l.contains(corrupt))
        .expect("a row for the corrupt config");
    assert!(corrupt_row.starts_with("failed"), "{corrupt_row}");
    assert!(corrupt_row.contains("cannot decrypt it"), "{corrupt_row}");
    assert!(corrupt_row.ends_with("left untouched"), "{corrupt_row}");
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.contains("already re-encrypted"))
            .count(),
        25
    );
    assert!(
        out.stderr
            .ends_with("mse-auth: 1 of 51 configs failed (see the summary)\n"),
        "{}",
        out.stderr
    );
    let after = s.snapshot(ns);
    assert_eq!(after.len(), 101);
    assert_eq!(after[corrupt], "this is not a KMS ciphertext");
    for n in 1..=50 {
        let target = format!("cipher-gcm-app-{n:02}.properties");
        let stored = &after[&target];
        let plain = rt
            .block_on(cipher.decrypt(ns, GROUP, &target, stored, ""))
            .unwrap_or_else(|e| panic!("{target}: {e}"));
        assert_eq!(
            plain,
            text(n),
            "{target} holds the plaintext, encrypted once"
        );
        assert_eq!(
            after[&data_id(n)],
            before[&data_id(n)],
            "the old config stays"
        );
    }

    // 4. --delete-old removes the old configs now that their copies are checked.
    let out = s.run_long(&[&reencrypt[..], &["--delete-old", "--format", "json"][..]].concat());
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let summary: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        summary["summary"],
        serde_json::json!({"done": 50, "wouldDo": 0, "skipped": 0, "failed": 1, "notStarted": 0})
    );
    let last = s.snapshot(ns);
    let left: Vec<&String> = last
        .keys()
        .filter(|d| !d.starts_with("cipher-gcm-"))
        .collect();
    assert_eq!(left, [corrupt]);
    s.cloud.emulator.assert_no_url_leaks();
}

/// The 64-hex-character runs of `text` (rnacos tokens look like that).
fn hex_runs(text: &str) -> Vec<String> {
    let mut runs = Vec::new();
    let mut current = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_hexdigit() {
            current.push(c);
        } else {
            if current.len() >= 64 {
                runs.push(current.clone());
            }
            current.clear();
        }
    }
    runs
}

#[test]
fn no_plaintext_data_key_password_or_token_reaches_logs_or_errors_at_vv() {
    let s = Setup::new();
    let ns = "ops-secrecy";
    let local = s.local_key_args();
    let kms: Vec<String> = vec!["--kms-key-id".into(), KMS_KEY.into()];
    let mut seen = String::new();
    let mut keep = |out: &Output, with_stdout: bool| {
        seen.push_str(&out.stderr);
        if with_stdout {
            seen.push_str(&out.stdout);
        }
    };
    for (data_id, keys) in [
        ("cipher-gcm-local.yaml", &local),
        ("cipher-gcm-kms.yaml", &kms),
        ("cipher-direct.properties", &kms),
    ] {
        let base = [
            "-vv",
            "nacos",
            "config",
            "publish",
            "--namespace",
            ns,
            "--data-id",
            data_id,
        ];
        let out = s.run(&args(&base, keys), Some(SECRET));
        out.assert_ok();
        keep(&out, true);
        let base = [
            "-vv",
            "nacos",
            "config",
            "get",
            "--namespace",
            ns,
            "--data-id",
            data_id,
        ];
        let out = s.run(&args(&base, keys), None);
        out.assert_ok();
        assert_eq!(out.stdout, SECRET, "get prints the plaintext: its purpose");
        keep(&out, false);
    }
    // Failures: a wrong password, a config that does not decrypt, an envelope refused.
    let mut wrong_env = s.env.clone();
    wrong_env.retain(|(k, _)| *k != "NACOS_CLIENT_PASSWORD");
    wrong_env.push(("NACOS_CLIENT_PASSWORD", "sentinel-wrong-password".into()));
    let out = cli_support::run(
        cmd(&s.home, &wrong_env),
        &[
            "-vv",
            "nacos",
            "config",
            "list",
            "--namespace",
            ns,
            "--grpc-port",
            &s.server.grpc_port.to_string(),
        ],
    );
    assert_eq!(out.code, 1);
    keep(&out, true);
    let out = s.run(
        &[
            "-vv",
            "nacos",
            "config",
            "get",
            "--namespace",
            ns,
            "--data-id",
            "cipher-gcm-local.yaml",
        ],
        None,
    );
    assert_eq!(out.code, 1, "no local key given");
    keep(&out, true);
    let base = [
        "-vv",
        "nacos",
        "config",
        "publish",
        "--namespace",
        ns,
        "--data-id",
        "cipher-kms-aes-128-x.yaml",
    ];
    let out = s.run(&args(&base, &kms), Some(SECRET));
    assert_eq!(out.code, 1);
    keep(&out, true);
    // cipher-direct moves, cipher-gcm-local (the old local key) is rotated to KMS, cipher-gcm-kms
    // is already there.
    let old_local: Vec<String> = vec![
        "--kms-key-id".into(),
        KMS_KEY.into(),
        "--old-local-key-file".into(),
        s.key_file.to_str().unwrap().into(),
        "--old-local-key-name".into(),
        "ops-2024".into(),
    ];
    let base = [
        "-vv",
        "nacos",
        "config",
        "reencrypt",
        "--namespace",
        ns,
        "--to",
        "gcm",
        "--delete-old",
    ];
    let out = s.run(&args(&base, &old_local), None);
    keep(&out, true);
    out.assert_ok();
    let out = s.run(&["-vv", "nacos", "config", "list", "--namespace", ns], None);
    out.assert_ok();
    keep(&out, true);

    // The data keys of the KMS-wrapped cipher-gcm- configs, unwrapped here.
    let kms_keys = s.kms();
    let mut data_keys = Vec::new();
    for (_, data_id, content) in s.server.configs_in(&s.token(), ns) {
        let sealed = Sealed::parse(&content).unwrap_or_else(|e| panic!("{data_id}: {e}"));
        if sealed.wrapped_key().source == KeySource::Kms {
            let blob = std::str::from_utf8(sealed.wrapped_key().wrapped).unwrap();
            let key = s.cloud.rt.block_on(kms_keys.decrypt(blob)).unwrap();
            data_keys.push(key.to_string());
        }
    }
    assert_eq!(
        data_keys.len(),
        3,
        "the two moved configs and cipher-gcm-kms.yaml"
    );
    let local_key = std::fs::read_to_string(&s.key_file).unwrap();
    assert!(
        seen.contains("mse_auth::nacos::config"),
        "the logs were captured: {seen}"
    );
    for secret in [
        "sentinel-plaintext",
        "sentinel-wrong-password",
        AK_SECRET,
        local_key.trim(),
    ]
    .into_iter()
    .chain(data_keys.iter().map(String::as_str))
    {
        assert!(!seen.contains(secret), "{secret:?} reached the output");
    }
    assert!(
        !seen.contains(ADMIN.1),
        "the password (and user) {:?} reached the output",
        ADMIN.1
    );
    assert_eq!(
        hex_runs(&seen),
        Vec::<String>::new(),
        "a token reached the output"
    );
    s.cloud.emulator.assert_no_url_leaks();
}

#[test]
fn refusals_come_before_anything_is_sent() {
    let home = Home::new();
    let env: Vec<(&'static str, String)> = vec![
        ("NACOS_CLIENT_SERVER_ADDRESS", "127.0.0.1:1".into()),
        ("NACOS_CLIENT_USERNAME", "ops".into()),
        ("NACOS_CLIENT_PASSWORD", "sentinel-password".into()),
    ];
    let run =
        |a: &[&str], stdin: Option<&str>| cli_support::run_with_stdin(cmd(&home, &env), a, stdin);
    let cases: [(&[&str], Option<&str>, &str); 5] = [
        (
            &[
                "nacos",
                "config",
                "publish",
                "--data-id",
                "cipher-gcm-a",
                "--password-stdin",
            ],
            Some("pw\n"),
            "the content must come from --file",
        ),
        (
            &["nacos", "config", "reencrypt", "--to", "gcm"],
            None,
            "give --namespace",
        ),
        (
            &[
                "nacos",
                "config",
                "get",
                "--data-id",
                "cipher-gcm-a",
                "--server",
                "https://nacos.example.com",
            ],
            None,
            "built here without TLS",
        ),
        (
            &[
                "nacos",
                "config",
                "publish",
                "--data-id",
                "Cipher-gcm-a",
                "--file",
                "/dev/null",
            ],
            None,
            "did you mean `cipher-gcm-`?",
        ),
        (
            &[
                "nacos",
                "config",
                "reencrypt",
                "--namespace",
                "prod",
                "--to",
                "kms-direct",
            ],
            None,
            "needs KMS",
        ),
    ];
    for (a, stdin, expected) in cases {
        let out = run(a, stdin);
        let line = out.assert_one_line_failure();
        assert!(line.contains(expected), "{a:?}: {line}");
        out.assert_no_secret(&["sentinel-password"]);
    }
    // The password is never an argument.
    let out = run(&["nacos", "config", "list", "--password", "x"], None);
    assert_eq!(out.code, 2, "{}", out.stderr);
}
