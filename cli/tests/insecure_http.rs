//! `--insecure-allow-http` and `MSE_AUTH_INSECURE_ALLOW_HTTP`: the only ways to send credentials over
//! plain http to a host that is not loopback, each endpoint let through reported on stderr.

mod cli_support;

use cli_support::*;
use mse_auth_emulator::loopback::closed_port;
use mse_auth_providers::vars;

/// A credentials URI on `0.0.0.0` (not a loopback address, so plain http needs the opt-in) at a port
/// where nothing listens, so the run ends at once whatever the opt-in lets through.
fn remote_http_uri() -> (String, String) {
    let origin = format!("http://0.0.0.0:{}", closed_port());
    (format!("{origin}/credentials/sentinel-path-token"), origin)
}

#[test]
fn without_the_opt_in_plain_http_is_refused_naming_the_variable_and_the_flag() {
    let home = Home::new();
    let (uri, origin) = remote_http_uri();
    let out = run(
        mse_auth(&home, &[(vars::CREDENTIALS_URI, &uri)]),
        &["credentials", "--provider", "credentials_uri"],
    );
    let line = out.assert_one_line_failure();
    assert_eq!(
        line,
        format!(
            "mse-auth: credentials_uri: invalid configuration: refusing plain http to {origin}: \
             credentials would cross the network unencrypted; use https, or opt in with \
             MSE_AUTH_INSECURE_ALLOW_HTTP=true (CLI: --insecure-allow-http)"
        )
    );
    assert!(!out.stderr.contains("sentinel"), "{}", out.stderr);
}

#[test]
fn the_flag_and_the_variable_let_it_through_with_a_warning_naming_only_the_origin() {
    let home = Home::new();
    let (uri, origin) = remote_http_uri();
    let runs = [
        run(
            mse_auth(&home, &[(vars::CREDENTIALS_URI, &uri)]),
            &[
                "--insecure-allow-http",
                "credentials",
                "--provider",
                "credentials_uri",
            ],
        ),
        run(
            mse_auth(
                &home,
                &[
                    (vars::CREDENTIALS_URI, &uri),
                    (vars::INSECURE_ALLOW_HTTP, "yes"),
                ],
            ),
            &["credentials", "--provider", "credentials_uri"],
        ),
    ];
    for out in runs {
        // Let through, the request fails at the closed port.
        assert_eq!(
            out.code, 1,
            "stdout {:?} stderr {:?}",
            out.stdout, out.stderr
        );
        assert!(
            !out.stderr.contains("refusing plain http"),
            "{}",
            out.stderr
        );
        let warning = out
            .stderr
            .lines()
            .find(|l| l.contains("WARN"))
            .unwrap_or_else(|| panic!("no warning on stderr: {}", out.stderr));
        assert!(
            warning.contains("plain http allowed by an explicit opt-in")
                && warning.contains(&format!("endpoint={origin}")),
            "{warning}"
        );
        let last = out.stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with(&format!("mse-auth: credentials_uri: GET {origin}")),
            "{last}"
        );
        assert!(!out.stderr.contains("sentinel"), "{}", out.stderr);
    }
}

#[test]
fn an_unreadable_opt_in_value_is_an_error_naming_the_variable() {
    let home = Home::new();
    let (uri, _) = remote_http_uri();
    let out = run(
        mse_auth(
            &home,
            &[
                (vars::CREDENTIALS_URI, &uri),
                (vars::INSECURE_ALLOW_HTTP, "please"),
            ],
        ),
        &["credentials", "--provider", "credentials_uri"],
    );
    let line = out.assert_one_line_failure();
    assert_eq!(
        line,
        "mse-auth: credentials_uri: invalid configuration: MSE_AUTH_INSECURE_ALLOW_HTTP must be true \
         or false (also 1/0, yes/no, on/off, in any case), not `please`"
    );
}

#[test]
fn the_flag_is_in_the_help() {
    let home = Home::new();
    let out = run(mse_auth(&home, &[]), &["--help"]);
    out.assert_ok();
    assert!(
        out.stdout.contains("--insecure-allow-http"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("MSE_AUTH_INSECURE_ALLOW_HTTP"),
        "{}",
        out.stdout
    );
}
