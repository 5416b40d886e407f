//! `mse-auth serve` as a child process against the emulator, and against hostile local clients on raw
//! sockets: idle and half-sent connections, thousands of idle connections beside a legitimate client,
//! a hung upstream past the credentials' cut-off, weak path tokens, credentials the format cannot carry,
//! and the help's examples run as pasted. Every wait is bounded; every server listens on 127.0.0.1 only;
//! children are killed on drop.

mod cli_support;

use cli_support::*;
use mse_auth_emulator::{Endpoint, Fault};
use mse_auth_providers::timestamp::parse_utc;
use mse_auth_providers::{vars, CredentialsProvider, CredentialsUriProvider};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// A path token that passes the rules: long, varied, two kinds of characters or more.
const GIVEN_TOKEN: &str = "given-Token_0123456789";
/// The limits `serve --help` documents.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_MAX_CONNECTIONS: usize = 512;

fn env_ak<'a>() -> Vec<(&'a str, &'a str)> {
    vec![
        (vars::ACCESS_KEY_ID, AK_ID),
        (vars::ACCESS_KEY_SECRET, AK_SECRET),
    ]
}

/// The URL from `export ALIBABA_CLOUD_CREDENTIALS_URI=<url>`.
fn exported_uri(line: &str) -> String {
    line.strip_prefix(&format!("export {}=", vars::CREDENTIALS_URI))
        .unwrap_or_else(|| panic!("not the URI export line: {line}"))
        .to_string()
}

/// The address and the path of `http://127.0.0.1:<port>/<token>`.
fn split_uri(uri: &str) -> (SocketAddr, String) {
    let rest = uri.strip_prefix("http://").expect(uri);
    let (host, token) = rest.split_once('/').expect(uri);
    (host.parse().expect(uri), format!("/{token}"))
}

/// `serve` with a ram_role_arn profile on the emulator's STS; returns it with its URI.
fn serve(cloud: &Cloud, home: &Home, args: &[&str]) -> (Running, String) {
    home.ram_role_profile();
    let sts = cloud.emulator.sts_endpoint();
    let mut all = vec!["serve"];
    all.extend_from_slice(args);
    let server = Running::spawn(mse_auth(home, &[(vars::STS_ENDPOINT, sts.as_str())]), &all);
    let uri = exported_uri(&server.line());
    (server, uri)
}

/// One `GET path` on a new connection, at most `limit`: the status, the body and how long it took.
fn get(addr: SocketAddr, path: &str, limit: Duration) -> (u16, serde_json::Value, Duration) {
    let start = Instant::now();
    let mut stream = TcpStream::connect_timeout(&addr, limit).expect("connect to serve");
    stream.set_read_timeout(Some(limit)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .unwrap_or_else(|e| panic!("no whole answer within {limit:?}: {e} (got {answer:?})"));
    let elapsed = start.elapsed();
    let status = answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let (_, body) = answer.split_once("\r\n\r\n").expect("headers end");
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    (status, body, elapsed)
}

/// Opens `n` connections to `addr`; fails saying so when this process runs out of descriptors.
fn open_connections(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|i| {
            TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap_or_else(|e| {
                panic!("connection {i} of {n} failed: {e} (raise `ulimit -n` above {n} + 100)")
            })
        })
        .collect()
}

/// Whether the peer has closed `stream`, waiting until `deadline` at most.
fn closed_by(stream: &mut TcpStream, deadline: Instant) -> bool {
    let left = deadline.saturating_duration_since(Instant::now());
    stream
        .set_read_timeout(Some(left.max(Duration::from_millis(1))))
        .unwrap();
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => panic!("serve sent bytes on a connection without a request"),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
        Err(e) if e.kind() == ErrorKind::ConnectionReset => true,
        Err(e) => panic!("unexpected read error: {e}"),
    }
}

#[test]
fn serve_hands_out_the_chains_credentials_and_their_refreshes() {
    let cloud = Cloud::start();
    cloud
        .emulator
        .set_credential_lifetime(Duration::from_secs(4));
    let home = Home::new();
    home.ram_role_profile();
    let sts = cloud.emulator.sts_endpoint();
    let server = Running::spawn(
        mse_auth(&home, &[(vars::STS_ENDPOINT, sts.as_str())]),
        &["serve"],
    );
    let uri = exported_uri(&server.line());
    let (base, token) = uri.rsplit_once('/').unwrap();
    assert!(base.starts_with("http://127.0.0.1:"), "{uri}");
    assert_eq!(token.len(), 32);
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()), "{token}");

    let provider = CredentialsUriProvider::builder(uri.clone())
        .build_uncached()
        .unwrap();
    let first = cloud
        .rt
        .block_on(provider.provide_credentials())
        .expect("our credentials URI provider accepts what serve sends");
    let issued = cloud.emulator.issued();
    assert_eq!(first.access_key_id(), issued[0].access_key_id);
    assert_eq!(
        first.security_token(),
        Some(issued[0].security_token.as_str())
    );

    // A wrong token, another path, another method.
    let http = reqwest::Client::new();
    let status = |method: reqwest::Method, url: String| {
        cloud
            .rt
            .block_on(http.request(method, url).send())
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(
        status(reqwest::Method::GET, format!("{base}/{}", "x".repeat(32))),
        404
    );
    assert_eq!(status(reqwest::Method::GET, format!("{base}/")), 404);
    assert_eq!(status(reqwest::Method::GET, format!("{uri}/more")), 404);
    assert_eq!(status(reqwest::Method::POST, uri.clone()), 405);

    // The cache refreshes 4-second credentials ahead of expiry; serve picks that up (bounded: 6 s).
    let deadline = Instant::now() + Duration::from_secs(6);
    let refreshed = loop {
        let c = cloud.rt.block_on(provider.provide_credentials()).unwrap();
        if c.access_key_id() != first.access_key_id() {
            break c;
        }
        assert!(
            Instant::now() < deadline,
            "serve kept handing out the first credentials for 6 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(cloud
        .emulator
        .issued()
        .iter()
        .any(|i| i.access_key_id == refreshed.access_key_id()));

    let secrets = cloud.secrets();
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "Ctrl-C is a graceful stop: {stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");
    for secret in &secrets {
        assert!(!stderr.contains(secret.as_str()), "{stderr}");
    }
    assert!(
        !stderr.contains(token),
        "the path token is printed once, on stdout: {stderr}"
    );
}

#[test]
fn serve_takes_a_given_path_token_and_refuses_long_term_keys() {
    let cloud = Cloud::start();
    let home = Home::new();
    home.ram_role_profile();
    let sts = cloud.emulator.sts_endpoint();
    let server = Running::spawn(
        mse_auth(&home, &[(vars::STS_ENDPOINT, sts.as_str())]),
        &["serve", "--path-token", GIVEN_TOKEN],
    );
    let uri = exported_uri(&server.line());
    assert!(uri.ends_with(&format!("/{GIVEN_TOKEN}")), "{uri}");
    let creds = cloud
        .rt
        .block_on(
            CredentialsUriProvider::builder(uri)
                .build_uncached()
                .unwrap()
                .provide_credentials(),
        )
        .unwrap();
    assert!(creds.is_sts());
    let (code, stderr) = server.stop_with("TERM");
    assert_eq!(code, 0, "SIGTERM is a graceful stop too: {stderr}");

    let out = run(mse_auth(&home, &env_ak()), &["serve"]);
    let line = out.assert_one_line_failure();
    assert!(line.contains("long-term AccessKey"), "{line}");
    out.assert_no_secret(&[AK_SECRET]);
    let out = run(
        mse_auth(&home, &env_ak()),
        &["serve", "--path-token", "a/b"],
    );
    out.assert_one_line_failure();
}

#[test]
fn serve_refuses_weak_path_tokens_saying_why() {
    let home = Home::new();
    for (token, why) in [
        ("a", "--path-token is too short (1 characters)"),
        ("given-token_1", "--path-token is too short (13 characters)"),
        (
            "aaaaaaaaaaaaaaaaaaaa",
            "--path-token has only 1 different characters",
        ),
        (
            "abcdefghijklmnopqrst",
            "--path-token uses only one kind of character",
        ),
    ] {
        let out = run(
            mse_auth(&home, &env_ak()),
            &["serve", "--path-token", token],
        );
        let line = out.assert_one_line_failure();
        assert!(line.starts_with(&format!("mse-auth: {why}: ")), "{line}");
        for rule in [
            "all that keeps other local users from the credentials",
            "at least 16 characters, at least 8 different ones",
            "lowercase letters, uppercase letters, digits, `-`/`_`",
            "leave --path-token out for 32 random characters",
        ] {
            assert!(line.contains(rule), "{line}");
        }
        assert!(out.stdout.is_empty(), "nothing served: {}", out.stdout);
    }
}

#[test]
fn serve_refuses_a_static_sts_token_saying_it_has_no_expiration() {
    let home = Home::new();
    let mut env = env_ak();
    env.push((vars::SECURITY_TOKEN, STS_TOKEN));
    let out = run(mse_auth(&home, &env), &["serve"]);
    let line = out.assert_one_line_failure();
    assert_eq!(
        line,
        "mse-auth: default/env produced a static STS token (e.g. ALIBABA_CLOUD_SECURITY_TOKEN set with \
         an AccessKey), which has no expiration, and the credentials URI format requires one \
         (Expiration); use a RAM role (e.g. a ram_role_arn profile), whose credentials carry their \
         expiration"
    );
    out.assert_no_secret(&[AK_SECRET, STS_TOKEN]);
}

#[test]
fn serve_closes_idle_and_half_sent_connections_at_the_header_timeout() {
    const N: usize = 100;
    let cloud = Cloud::start();
    let home = Home::new();
    let (server, uri) = serve(&cloud, &home, &[]);
    let (addr, path) = split_uri(&uri);
    let start = Instant::now();
    let mut idle = open_connections(addr, N);
    let mut half_sent = open_connections(addr, N);
    for stream in &mut half_sent {
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: 127").as_bytes())
            .unwrap();
    }
    // A kept-alive connection after one answer, and one trickling its headers a byte at a time.
    let mut kept = TcpStream::connect(addr).unwrap();
    write!(kept, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut answer = [0u8; 4096];
    kept.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let n = kept.read(&mut answer).unwrap();
    assert!(answer[..n].starts_with(b"HTTP/1.1 200 OK\r\n"));
    let mut trickle = TcpStream::connect(addr).unwrap();
    let trickler = std::thread::spawn(move || {
        for byte in format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .bytes()
            .take(20)
        {
            if trickle.write_all(&[byte]).is_err() {
                return (trickle, true);
            }
            std::thread::sleep(Duration::from_millis(400));
        }
        (trickle, false)
    });
    let opened = start.elapsed();

    let deadline = start + opened + HEADER_READ_TIMEOUT + Duration::from_secs(2);
    for (kind, streams) in [("idle", &mut idle), ("half-sent", &mut half_sent)] {
        for (i, stream) in streams.iter_mut().enumerate() {
            assert!(
                closed_by(stream, deadline),
                "{kind} connection {i} still open {:?} after it opened",
                start.elapsed()
            );
        }
    }
    let first_closed = start.elapsed();
    assert!(
        first_closed >= HEADER_READ_TIMEOUT - Duration::from_millis(500),
        "closed after {first_closed:?}: before the header timeout, so not by it"
    );
    assert!(closed_by(&mut kept, deadline), "the kept-alive connection");
    let (mut trickle, write_failed) = trickler.join().unwrap();
    assert!(
        write_failed || closed_by(&mut trickle, deadline),
        "the trickling connection"
    );

    // serve itself is unharmed.
    let (status, _, _) = get(addr, &split_uri(&uri).1, Duration::from_secs(1));
    assert_eq!(status, 200);
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn serve_answers_within_1s_while_2000_idle_connections_are_open() {
    const N: usize = 2000;
    let cloud = Cloud::start();
    let home = Home::new();
    let (server, uri) = serve(&cloud, &home, &[]);
    let (addr, path) = split_uri(&uri);
    let start = Instant::now();
    let mut idle = open_connections(addr, N);
    eprintln!("opened {N} in {:?}", start.elapsed());
    let (status, body, took) = get(addr, &path, Duration::from_secs(1));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Code"], "Success");
    assert!(took < Duration::from_secs(1), "{took:?}");
    // serve kept at most its cap open: it closed the oldest idle connections to make room, one more
    // for the client just answered.
    let deadline = Instant::now() + Duration::from_secs(2);
    let made_room = N - DEFAULT_MAX_CONNECTIONS + 1;
    for (i, stream) in idle.iter_mut().take(made_room).enumerate() {
        assert!(
            closed_by(stream, deadline),
            "idle connection {i} still open"
        );
    }
    assert!(
        start.elapsed() < HEADER_READ_TIMEOUT,
        "took {:?}: too slow to tell closing for room from the header timeout",
        start.elapsed()
    );
    drop(idle);
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn serve_answers_503_within_the_answer_timeout_once_the_credentials_pass_their_cut_off() {
    let cloud = Cloud::start();
    cloud
        .emulator
        .set_credential_lifetime(Duration::from_secs(4));
    let home = Home::new();
    let (server, uri) = serve(&cloud, &home, &[]);
    let issued_at = Instant::now();
    let (addr, path) = split_uri(&uri);
    // From now on STS accepts and never answers: the refresh at 70–75 % of the lifetime hangs.
    cloud
        .emulator
        .inject_fault(Endpoint::AssumeRole, Fault::Hang, 10);
    let mut served = 0;
    let (body, took) = loop {
        assert!(
            issued_at.elapsed() < Duration::from_secs(8),
            "still 200 {:?} after the 4-second credentials were issued",
            issued_at.elapsed()
        );
        let (status, body, took) = get(addr, &path, ANSWER_TIMEOUT + Duration::from_secs(3));
        if status != 200 {
            assert_eq!(status, 503, "{body}");
            break (body, took);
        }
        // Before the cut-off: at once, and never expired.
        assert!(took < Duration::from_secs(1), "{took:?}");
        let expiration = parse_utc(body["Expiration"].as_str().unwrap()).unwrap();
        assert!(expiration > SystemTime::now(), "served expired: {body}");
        served += 1;
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(served > 0, "the first credentials were served");
    assert_eq!(body["Code"], "CredentialsTimedOut", "{body}");
    assert_eq!(
        body["Message"],
        "no valid credentials within 5s; the refresh goes on, retry shortly"
    );
    assert!(
        took >= ANSWER_TIMEOUT - Duration::from_millis(200)
            && took < ANSWER_TIMEOUT + Duration::from_millis(1500),
        "the 503 took {took:?}"
    );
    let secrets = cloud.secrets();
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
    for secret in &secrets {
        assert!(!stderr.contains(secret.as_str()), "{stderr}");
    }
}

/// Kills a process by id when dropped (the `serve` an example started in the background).
struct KillOnDrop(Option<String>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = &self.0 {
            let _ = Command::new("kill").arg(pid).stderr(Stdio::null()).status();
        }
    }
}

#[test]
fn serve_help_examples_fit_80_columns_and_work_when_pasted() {
    let home = Home::new();
    let out = run(mse_auth(&home, &[("COLUMNS", "80")]), &["serve", "--help"]);
    out.assert_ok();
    for line in out.stdout.lines() {
        assert!(
            line.chars().count() <= 80,
            "wider than 80 columns: {line:?}"
        );
    }
    let examples: Vec<&str> = out
        .stdout
        .split("Examples:\n")
        .nth(1)
        .expect("an Examples section")
        .lines()
        .map(str::trim)
        .collect();
    let background = examples
        .iter()
        .position(|l| l.starts_with("# In the background"))
        .expect("the background example");
    let [start, wait, stop] = [1, 2, 3].map(|i| examples[background + i]);
    assert!(start.ends_with('&'), "{start}");
    assert!(stop.starts_with("kill $!"), "{stop}");

    let cloud = Cloud::start();
    home.ram_role_profile();
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let sts = cloud.emulator.sts_endpoint();
    for shell in ["sh", "bash"] {
        // The example's lines as pasted; between waiting and stopping, report the URI and wait for
        // this test to have used it.
        let script = format!(
            "{start}\n{wait}\necho \"$! ${uri_var}\"\nread -r _\n{stop}\necho \"done $f\"\n",
            uri_var = vars::CREDENTIALS_URI
        );
        let mut child = ChildGuard(
            Command::new(shell)
                .args(["-c", &script])
                .env_clear()
                .env("HOME", home.path())
                .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
                .env(vars::STS_ENDPOINT, &sts)
                .env(vars::ECS_METADATA_ENDPOINT, "http://127.0.0.1:9")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("{shell} is needed to run the help's examples: {e}")),
        );
        let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            while let Some(Ok(line)) = lines.next() {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let reported = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("{shell}: the example never set the URI"));
        let (pid, uri) = reported.split_once(' ').unwrap();
        let _serve = KillOnDrop(Some(pid.to_string()));
        assert!(
            uri.starts_with("http://127.0.0.1:"),
            "{shell}: {reported:?}"
        );
        let creds = cloud
            .rt
            .block_on(
                CredentialsUriProvider::builder(uri.to_string())
                    .build_uncached()
                    .unwrap()
                    .provide_credentials(),
            )
            .unwrap();
        assert!(creds.is_sts());
        child.0.stdin.take().unwrap().write_all(b"\n").unwrap();
        let done = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        let file = done.strip_prefix("done ").expect(&done);
        assert!(
            !std::path::Path::new(file).exists(),
            "{shell}: {file} left behind"
        );
        assert_eq!(child.wait_within(Duration::from_secs(10)), 0, "{shell}");
        // `kill $!` stopped serve: its port no longer answers (bounded wait for the graceful stop).
        let (addr, _) = split_uri(uri);
        let deadline = Instant::now() + Duration::from_secs(8);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "{shell}: serve still listens after kill"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn serve_under_a_low_file_limit_lowers_its_cap_says_so_and_keeps_answering() {
    const LIMIT: usize = 128;
    const N: usize = 400;
    let cloud = Cloud::start();
    let home = Home::new();
    home.ram_role_profile();
    let sts = cloud.emulator.sts_endpoint();
    // `sh` lowers the open-file limit, then becomes mse-auth with the test environment.
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        &format!("ulimit -n {LIMIT} && exec \"$0\" serve"),
        BIN,
    ])
    .env_clear()
    .env("HOME", home.path())
    .env(vars::STS_ENDPOINT, &sts)
    .env(vars::ECS_METADATA_ENDPOINT, "http://127.0.0.1:9")
    .stdin(Stdio::null());
    let server = Running::spawn(cmd, &[]);
    let uri = exported_uri(&server.line());
    let (addr, path) = split_uri(&uri);
    let idle = open_connections(addr, N);
    let (status, body, took) = get(addr, &path, Duration::from_secs(1));
    assert_eq!(status, 200, "{body}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    drop(idle);
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "{stderr}");
    let warning = stderr
        .lines()
        .find(|l| l.contains("keeping at most"))
        .unwrap_or_else(|| panic!("no word of running out of descriptors: {stderr}"));
    assert!(
        warning.starts_with("mse-auth: accepting failed with ")
            && warning.ends_with("raise `ulimit -n` or lower --max-connections"),
        "{warning}"
    );
}
