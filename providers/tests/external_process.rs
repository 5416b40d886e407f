//! ExternalProcessProvider (the CLI profile mode `External`) running real commands: small `sh`
//! scripts written into a temp dir. Success, the "no expiration, run again" contract, refresh on the
//! manual clock, every failure shape with its exact message, the kill of the process group on a
//! timeout, and the CLI profile wiring (alone and as the source of a chained role on the emulator).
//!
//! Scripts run as `sh <file>`, never executed directly: exec'ing a file that was just written can
//! fail with "Text file busy" while another test thread forks.
//!
//! Every test logs at TRACE into one captured log, through a global subscriber set before any event
//! (a thread-local one could miss events: `tracing` caches interest per callsite, process-wide), and
//! checks that no secret its script printed, on stdout or on stderr, shows in that log, in an error
//! or in a `Debug` output.

mod support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mse_auth::test_util::CapturedLog;
use mse_auth_emulator::Endpoint;
use mse_auth_providers::os::{Env, Fs};
use mse_auth_providers::timestamp::format_utc;
use mse_auth_providers::{
    external_process, vars, CliProfileProvider, Context, CredentialsError, CredentialsProvider,
    ErrorKind, ExternalProcessProvider,
};
use support::{assert_hides, until};

/// The TRACE log of this test binary.
fn log() -> &'static CapturedLog {
    static LOG: OnceLock<CapturedLog> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = CapturedLog::default();
        tracing::subscriber::set_global_default(support::trace_subscriber(&log))
            .expect("no other global subscriber in this binary");
        log
    })
}

/// None of `secrets` shows in the TRACE log.
#[track_caller]
fn assert_log_hides(secrets: &[&str]) {
    let text = log().text();
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "the TRACE log shows {secret}: {text}"
        );
    }
}

/// A temp dir of scripts, removed on drop.
struct Scripts(PathBuf);

impl Scripts {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "mse-auth-external-{tag}-{}-{:016x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("create the scripts dir");
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `body` as `<name>.sh`, with `$D` replaced by the dir, and returns the command that runs it.
    fn script(&self, name: &str, body: &str) -> String {
        let file = self.path(&format!("{name}.sh"));
        std::fs::write(&file, body.replace("$D", &self.0.display().to_string()))
            .expect("write the script");
        format!("sh '{}'", file.display())
    }

    fn write(&self, name: &str, content: &str) {
        std::fs::write(self.path(name), content).expect("write a file");
    }

    /// How many lines the scripts appended to `runs`.
    fn runs(&self) -> usize {
        std::fs::read_to_string(self.path("runs")).map_or(0, |t| t.lines().count())
    }
}

impl Drop for Scripts {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The error of one call; also checks that neither it, nor the provider's `Debug`, nor the TRACE log
/// shows any of `secrets`.
async fn failure(provider: &impl CredentialsProvider, secrets: &[&str]) -> CredentialsError {
    let err = support::load_err(provider).await;
    let debug = format!("{provider:?}");
    for secret in secrets {
        assert_hides(&err, secret);
        assert!(!debug.contains(secret), "{debug}");
    }
    assert_log_hides(secrets);
    err
}

/// What an error says about stderr when the command printed `bytes` bytes there.
fn stderr_bytes(bytes: usize) -> String {
    format!(
        "it printed {bytes} bytes to stderr, not shown as they may hold secrets: run the command by \
         hand to see them"
    )
}

const SECRET: &str = "sentinel-ext-SECRET-5b1e";
const TOKEN: &str = "sentinel-ext-TOKEN-77c3";
const STDERR: &str = "sentinel-ext-STDERR-0a9d";

#[tokio::test]
async fn access_keys_without_expiration_are_fetched_again_on_every_call() {
    log();
    let scripts = Scripts::new("ak");
    let command = scripts.script(
        "ak",
        r#"echo run >> "$D/runs"
n=$(wc -l < "$D/runs")
echo "diagnostics: sentinel-ext-STDERR-0a9d" >&2
printf '{"mode": "AK", "access_key_id": "LTAI5tExt%s", "access_key_secret": "sentinel-ext-SECRET-5b1e-%s"}\n' "$n" "$n"
"#,
    );
    let provider = ExternalProcessProvider::builder(command)
        .context(support::context())
        .build()
        .expect("build");
    for n in 1..=3 {
        let creds = provider.provide_credentials().await.expect("credentials");
        assert_eq!(creds.access_key_id(), format!("LTAI5tExt{n}"));
        assert_eq!(creds.access_key_secret(), format!("{SECRET}-{n}"));
        assert_eq!((creds.security_token(), creds.expiration()), (None, None));
        assert_eq!(creds.provider_path(), "external");
        assert!(!format!("{creds:?} {creds} {provider:?}").contains(SECRET));
        assert_eq!(scripts.runs(), n, "one run per call");
    }
    let text = log().text();
    assert!(
        text.contains("the command printed credentials"),
        "the TRACE log misses the run: {text}"
    );
    assert_log_hides(&[SECRET, STDERR]);
}

#[tokio::test]
async fn concurrent_callers_share_one_run() {
    log();
    let scripts = Scripts::new("shared");
    // Each run waits (at most 10 s) for the test to let it finish: `go<n>` for the n-th run.
    let command = scripts.script(
        "shared",
        r#"echo run >> "$D/runs"
n=$(wc -l < "$D/runs")
i=0
while [ ! -e "$D/go$n" ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done
printf '{"access_key_id": "LTAI5tShared%s", "access_key_secret": "sentinel-ext-SECRET-5b1e"}' "$n"
"#,
    );
    let provider = Arc::new(
        ExternalProcessProvider::builder(command)
            .context(support::context())
            .build()
            .expect("build"),
    );
    // First nothing is cached, then credentials without expiration: both times one run for all.
    for run in 1..=2 {
        let callers: Vec<_> = (0..8)
            .map(|_| {
                let provider = provider.clone();
                tokio::spawn(async move { provider.provide_credentials().await })
            })
            .collect();
        until("the command has started", async || scripts.runs() == run).await;
        scripts.write(&format!("go{run}"), "");
        for caller in callers {
            let creds = caller.await.expect("join").expect("credentials");
            assert_eq!(creds.access_key_id(), format!("LTAI5tShared{run}"));
        }
        assert_eq!(scripts.runs(), run, "the callers shared one run");
    }
    assert_log_hides(&[SECRET]);
}

#[tokio::test]
async fn sts_credentials_are_cached_until_the_background_refresh_replaces_them() {
    log();
    let clock = support::clock().await;
    let scripts = Scripts::new("sts");
    let command = scripts.script("sts", "echo run >> \"$D/runs\"\ncat \"$D/out.json\"\n");
    let output = |n: u32, expiration| {
        format!(
            r#"{{"mode": "StsToken", "access_key_id": "STS.ext{n}", "access_key_secret": "{SECRET}-{n}",
                "sts_token": "{TOKEN}-{n}", "expiration": "{}"}}"#,
            format_utc(expiration)
        )
    };
    scripts.write(
        "out.json",
        &output(1, clock.now() + Duration::from_secs(3600)),
    );
    // A timeout far beyond the clock advances below: the command runs in real time, and a timer on
    // the manual clock set during an advance would fire within it.
    let provider = ExternalProcessProvider::builder(command)
        .timeout(Duration::from_secs(24 * 3600))
        .context(clock.context())
        .build()
        .expect("build");
    let first = provider.provide_credentials().await.expect("credentials");
    assert_eq!(first.access_key_id(), "STS.ext1");
    assert_eq!(first.security_token(), Some(format!("{TOKEN}-1").as_str()));
    assert!(first.expiration().is_some());
    let again = provider.provide_credentials().await.expect("cached");
    assert_eq!(
        (again, scripts.runs()),
        (first.clone(), 1),
        "served from the cache"
    );

    scripts.write(
        "out.json",
        &output(2, clock.now() + Duration::from_secs(7200)),
    );
    // Past the refresh point (70–75 % of the hour), before the cut-off (180 s before expiry).
    clock.advance(Duration::from_secs(45 * 60 + 1)).await;
    let second = support::refreshed(&provider, &first).await;
    assert_eq!(second.access_key_id(), "STS.ext2");
    assert_eq!(scripts.runs(), 2);
    assert_log_hides(&[SECRET, TOKEN]);
}

#[tokio::test]
async fn a_failed_refresh_leaves_the_credentials_in_service_until_their_cut_off() {
    log();
    let clock = support::clock().await;
    let scripts = Scripts::new("fallback");
    let command = scripts.script(
        "fallback",
        r#"echo run >> "$D/runs"
if [ -e "$D/fail" ]; then printf 'sentinel-ext-STDERR-0a9d' >&2; exit 7; fi
cat "$D/out.json"
"#,
    );
    let expiration = clock.now() + Duration::from_secs(3600);
    scripts.write(
        "out.json",
        &format!(
            r#"{{"mode": "StsToken", "access_key_id": "STS.fallback", "access_key_secret": "{SECRET}",
                "sts_token": "{TOKEN}", "expiration": "{}"}}"#,
            format_utc(expiration)
        ),
    );
    let provider = ExternalProcessProvider::builder(command)
        .timeout(Duration::from_secs(24 * 3600))
        .context(clock.context())
        .build()
        .expect("build");
    let first = provider.provide_credentials().await.expect("credentials");

    scripts.write("fail", "");
    clock.advance(Duration::from_secs(45 * 60 + 1)).await;
    until("the background refresh has run and failed", async || {
        scripts.runs() >= 2 && log().text().contains("exited with status 7")
    })
    .await;
    let served = provider.provide_credentials().await.expect("still valid");
    assert_eq!(served, first, "the unexpired credentials stay in service");

    // Past the cut-off, 180 s before the expiration: nothing valid is left, the error shows.
    clock.advance(Duration::from_secs(13 * 60)).await;
    let err = failure(&provider, &[SECRET, TOKEN, STDERR]).await;
    assert_eq!(err.kind(), ErrorKind::Unhandled);
    assert_eq!(
        err.to_string(),
        format!(
            "external: the command `sh …` exited with status 7; {}",
            stderr_bytes(STDERR.len())
        )
    );
    let text = log().text();
    assert!(text.contains("loading failed"), "{text}");
}

/// One failure shape: the script, the kind, the message after `external: ` and what must stay hidden.
async fn check_failure(name: &str, body: &str, kind: ErrorKind, expected: &str) {
    let scripts = Scripts::new(name);
    let command = scripts.script(name, body);
    let provider = ExternalProcessProvider::builder(command)
        .context(support::context())
        .build()
        .expect("build");
    let err = failure(&provider, &[SECRET, TOKEN, STDERR]).await;
    assert_eq!(err.kind(), kind, "{name}: {err}");
    assert_eq!(err.provider_path(), "external");
    assert_eq!(err.to_string(), format!("external: {expected}"), "{name}");
}

#[tokio::test]
async fn a_non_zero_exit_names_the_status_and_the_size_of_stderr_only() {
    log();
    check_failure(
        "exit",
        r#"printf '{"access_key_id": "LTAI5t", "access_key_secret": "sentinel-ext-SECRET-5b1e"}'
printf 'sentinel-ext-STDERR-0a9d\n' >&2
exit 3
"#,
        ErrorKind::Unhandled,
        &format!(
            "the command `sh …` exited with status 3; {}",
            stderr_bytes(STDERR.len() + 1)
        ),
    )
    .await;
    check_failure(
        "signal",
        "printf 'sentinel-ext-SECRET-5b1e'\nkill -9 $$\n",
        ErrorKind::Unhandled,
        "the command `sh …` was ended by signal 9; it printed nothing to stderr",
    )
    .await;
}

#[tokio::test]
async fn unusable_output_is_a_provider_error_that_shows_none_of_it() {
    log();
    let not_shown = "not shown as it may hold secrets: run the command by hand to see it";
    let cases = [
        (
            "not_json",
            "printf 'sentinel-ext-SECRET-5b1e'".to_string(),
            format!("printed output that is not JSON (line 1, column 1), {not_shown}"),
        ),
        (
            "empty",
            "printf 'sentinel-ext-STDERR-0a9d' >&2".to_string(),
            format!("printed output that is not JSON (line 1, column 0), {not_shown}"),
        ),
        (
            "missing",
            r#"printf '{"mode": "AK", "access_key_id": "LTAI5t", "sts_token": "sentinel-ext-TOKEN-77c3"}'"#
                .to_string(),
            "printed JSON without access_key_secret (absent or empty)".to_string(),
        ),
        (
            "no_token",
            r#"printf '{"mode": "StsToken", "access_key_id": "STS.x", "access_key_secret": "sentinel-ext-SECRET-5b1e"}'"#
                .to_string(),
            "printed mode `StsToken` without an sts_token (absent or empty)".to_string(),
        ),
        (
            "bad_expiration",
            r#"printf '{"access_key_id": "STS.x", "access_key_secret": "s", "sts_token": "t", "expiration": "sentinel-ext-TOKEN-77c3"}'"#
                .to_string(),
            "printed an expiration that is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ"
                .to_string(),
        ),
        (
            "wrong_type",
            r#"printf '{"access_key_id": ["sentinel-ext-SECRET-5b1e"]}'"#.to_string(),
            "printed JSON that is not one object of string fields (mode, access_key_id, \
             access_key_secret, sts_token, expiration), each at most once"
                .to_string(),
        ),
        (
            "big_stdout",
            "yes sentinel-ext-SECRET-5b1e | head -c 70000".to_string(),
            "printed more than 64 KiB to stdout".to_string(),
        ),
        (
            "big_stderr",
            "yes sentinel-ext-STDERR-0a9d | head -c 1100000 >&2".to_string(),
            "printed more than 1024 KiB to stderr".to_string(),
        ),
    ];
    for (name, body, expected) in cases {
        check_failure(
            name,
            &body,
            ErrorKind::Provider,
            &format!("the command `sh …` {expected}"),
        )
        .await;
    }
}

#[tokio::test]
async fn a_program_that_cannot_be_started_is_named_without_its_arguments() {
    log();
    let provider =
        ExternalProcessProvider::builder(format!("/nonexistent/mse-auth-helper --token {SECRET}"))
            .context(support::context())
            .build()
            .expect("build");
    let err = failure(&provider, &[SECRET]).await;
    assert_eq!(err.kind(), ErrorKind::Unhandled);
    assert_eq!(
        err.to_string(),
        "external: cannot start the command `/nonexistent/mse-auth-helper …`: No such file or \
         directory (os error 2)"
    );
    assert!(std::error::Error::source(&err).is_some());

    // Not executable (even for root: exec needs an execute bit).
    let scripts = Scripts::new("noexec");
    scripts.write("helper", "#!/bin/sh\nexit 0\n");
    let helper = scripts.path("helper");
    let provider = ExternalProcessProvider::builder(format!("'{}'", helper.display()))
        .context(support::context())
        .build()
        .expect("build");
    let err = failure(&provider, &[]).await;
    assert_eq!(err.kind(), ErrorKind::Unhandled);
    assert_eq!(
        err.to_string(),
        format!(
            "external: cannot start the command `{}`: Permission denied (os error 13)",
            helper.display()
        )
    );
}

#[tokio::test]
async fn a_short_timeout_kills_a_command_that_sleeps_in_a_grandchild() {
    log();
    let scripts = Scripts::new("timeout");
    let command = scripts.script("sleepy", "sh -c 'exec sleep 100'\n");
    let provider = ExternalProcessProvider::builder(command)
        .timeout(Duration::from_millis(200))
        .context(support::context())
        .build()
        .expect("build");
    let err = failure(&provider, &[]).await;
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(err.timeout(), Some(Duration::from_millis(200)));
    assert_eq!(
        err.to_string(),
        "external: timed out after 200ms: the command `sh …` did not finish and was killed, with \
         every process it started; it printed nothing to stderr"
    );
}

/// `true` once process `pid` has ended (gone, or a zombie waiting to be reaped). Linux only.
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

/// The pid a script wrote into `file`, once it is there.
async fn pid_in(file: &Path) -> u32 {
    let mut pid = None;
    until("the script has written a pid", async || {
        pid = std::fs::read_to_string(file)
            .ok()
            .and_then(|t| t.trim().parse().ok());
        pid.is_some()
    })
    .await;
    pid.expect("a pid")
}

/// The timeout on the manual clock, so the test knows the grandchild runs before it fires.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn on_timeout_the_whole_process_group_is_killed() {
    log();
    let clock = support::clock().await;
    let scripts = Scripts::new("group");
    let command = scripts.script(
        "group",
        "sh -c 'echo $$ > \"$D/grandchild.pid.tmp\"; mv \"$D/grandchild.pid.tmp\" \"$D/grandchild.pid\"; exec sleep 100'\n",
    );
    let provider = Arc::new(
        ExternalProcessProvider::builder(command)
            .context(clock.context())
            .build()
            .expect("build"),
    );
    let call = {
        let provider = provider.clone();
        tokio::spawn(async move { provider.provide_credentials().await })
    };
    let grandchild = pid_in(&scripts.path("grandchild.pid")).await;
    assert!(!ended(grandchild), "the grandchild sleeps");
    clock.advance(external_process::DEFAULT_TIMEOUT).await;
    until("the call returns", async || call.is_finished()).await;
    let err = call.await.expect("join").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(
        err.to_string(),
        "external: timed out after 60s: the command `sh …` did not finish and was killed, with \
         every process it started; it printed nothing to stderr"
    );
    until("the grandchild is killed", async || ended(grandchild)).await;
}

/// A process that leaves the group (a new session) and keeps stdout open cannot hold the caller.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_process_that_escapes_the_group_and_holds_the_pipes_does_not_hold_the_caller() {
    log();
    let clock = support::clock().await;
    let scripts = Scripts::new("escape");
    let command = scripts.script(
        "escape",
        "setsid sh -c 'echo $$ > \"$D/escaped.pid.tmp\"; mv \"$D/escaped.pid.tmp\" \"$D/escaped.pid\"; exec sleep 100' &\nwait\n",
    );
    let provider = Arc::new(
        ExternalProcessProvider::builder(command)
            .timeout(Duration::from_secs(5))
            .context(clock.context())
            .build_uncached()
            .expect("build"),
    );
    let call = {
        let provider = provider.clone();
        tokio::spawn(async move { provider.provide_credentials().await })
    };
    let escaped = pid_in(&scripts.path("escaped.pid")).await;
    clock.advance(Duration::from_secs(5)).await;
    until("the call returns", async || call.is_finished()).await;
    let err = call.await.expect("join").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(!ended(escaped), "it left the group, so it was not killed");
    // Ours to end: it was started by this test's command.
    let killed = std::process::Command::new("kill")
        .args(["-9", &escaped.to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    until("the escaped process is killed", async || ended(escaped)).await;
}

/// A context whose home holds `config` as `~/.aliyun/config.json` (in memory; the scripts are real).
fn profile_context(env: &[(&str, String)], config: String) -> Context {
    let mut pairs = vec![("HOME".to_string(), "/home/ext".to_string())];
    pairs.extend(env.iter().map(|(k, v)| (k.to_string(), v.clone())));
    Context::default()
        .with_env(Env::from_pairs(pairs))
        .with_fs(Fs::from_pairs([("/home/ext/.aliyun/config.json", config)]))
}

#[tokio::test]
async fn a_cli_profile_in_external_mode_reports_cli_profile_external() {
    log();
    let scripts = Scripts::new("profile");
    let ok = scripts.script(
        "ok",
        r#"printf '{"mode": "StsToken", "access_key_id": "STS.profile", "access_key_secret": "sentinel-ext-SECRET-5b1e", "sts_token": "sentinel-ext-TOKEN-77c3"}'"#,
    );
    let broken = scripts.script("broken", "printf 'sentinel-ext-STDERR-0a9d' >&2\nexit 2\n");
    // The commands as JSON strings; a command may span lines with backslash-newline.
    let config = serde_json::json!({
        "current": "ext",
        "profiles": [
            {"name": "ext", "mode": "External", "process_command": ok.replace("sh ", "sh \\\n  ")},
            {"name": "broken", "mode": "External", "process_command": broken},
        ],
    })
    .to_string();
    let creds = CliProfileProvider::builder()
        .context(profile_context(&[], config.clone()))
        .build()
        .provide_credentials()
        .await
        .expect("credentials");
    assert_eq!(creds.provider_path(), "cli_profile/external");
    assert_eq!(creds.access_key_id(), "STS.profile");
    assert_eq!(creds.security_token(), Some(TOKEN));

    let provider = CliProfileProvider::builder()
        .context(profile_context(
            &[(vars::PROFILE, "broken".to_string())],
            config,
        ))
        .build();
    let err = failure(&provider, &[SECRET, TOKEN, STDERR]).await;
    assert_eq!(err.kind(), ErrorKind::Unhandled);
    assert_eq!(err.provider_path(), "cli_profile/external");
    assert_eq!(
        err.to_string(),
        format!(
            "cli_profile/external: /home/ext/.aliyun/config.json, profile `broken`: the command \
             `sh …` exited with status 2; {}",
            stderr_bytes(STDERR.len())
        )
    );
}

#[tokio::test]
async fn an_external_profile_can_be_the_source_of_a_chained_role() {
    log();
    const AK: &str = "LTAI5tExternalSource";
    let emulator = mse_auth_emulator::Emulator::start()
        .await
        .expect("start the emulator");
    emulator.add_access_key(AK, SECRET);
    let scripts = Scripts::new("chained");
    let source = scripts.script(
        "source",
        &format!(
            "echo run >> \"$D/runs\"\nprintf '{{\"mode\": \"AK\", \"access_key_id\": \"{AK}\", \"access_key_secret\": \"{SECRET}\"}}'\n"
        ),
    );
    let config = serde_json::json!({
        "current": "role",
        "profiles": [
            {"name": "source", "mode": "External", "process_command": source},
            {"name": "role", "mode": "ChainableRamRoleArn", "source_profile": "source",
             "ram_role_arn": "acs:ram::123456789012:role/from-external"},
        ],
    })
    .to_string();
    let provider = CliProfileProvider::builder()
        .context(profile_context(
            &[(vars::STS_ENDPOINT, emulator.sts_endpoint())],
            config,
        ))
        .build();
    let creds = provider.provide_credentials().await.expect("credentials");
    assert_eq!(creds.provider_path(), "cli_profile/ram_role_arn/external");
    support::assert_issued(&creds, emulator.issued().last().expect("issued"));
    assert_eq!(emulator.calls(Endpoint::AssumeRole), 1);
    assert_eq!(scripts.runs(), 1);
    // Served from the role's cache: neither STS nor the command is asked again.
    let again = provider.provide_credentials().await.expect("cached");
    assert_eq!(again, creds);
    assert_eq!(
        (emulator.calls(Endpoint::AssumeRole), scripts.runs()),
        (1, 1)
    );
    emulator.assert_no_url_leaks();
    let issued = emulator.issued();
    let mut secrets = vec![SECRET];
    secrets.extend(issued.iter().map(|c| c.access_key_secret.as_str()));
    secrets.extend(issued.iter().map(|c| c.security_token.as_str()));
    assert_log_hides(&secrets);
}
