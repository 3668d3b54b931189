//! What every Glacier command shares, through the real binary against the mock: global
//! flags in any position, a reader that closes stdout early, and how configuration,
//! credential and service failures (bad or missing credentials, no region, plain HTTP to
//! a remote host, clock skew, throttling, 5xx, dropped connections) reach the user: one
//! `glacier: ` line on stderr with the error code and the request ID, and never a secret.

use crate::mock::{Fault, FaultRule, MockConfig, MockGlacier, SECRET_KEY};
use crate::support::{
    Run, TempDir, fails_once, glacier_mock, json, last_request_id, ops, quiet_ok, run_mock,
};

// ---- global flags ----

#[test]
fn global_flags_work_before_and_after_the_subcommand() {
    let m = MockGlacier::start();
    m.create_vault("a");
    m.create_vault("b");
    let before = quiet_ok(&run_mock(&m, &["--json", "vault", "list"])).to_string();
    let middle = quiet_ok(&run_mock(&m, &["vault", "--json", "list"])).to_string();
    let after = quiet_ok(&run_mock(&m, &["vault", "list", "--json"])).to_string();
    assert_eq!(before, after);
    assert_eq!(before, middle);
    assert_eq!(json(&before).as_array().map(Vec::len), Some(2));

    // --region and --endpoint-url from the command line beat the environment.
    let home = TempDir::new("flags");
    let r: Run = glacier_mock(&m, home.path())
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ENDPOINT_URL_GLACIER", "http://127.0.0.1:1")
        .args(["vault", "list", "--region", "us-east-1"])
        .arg(format!("--endpoint-url={}", m.url()))
        .output()
        .expect("run")
        .into();
    let plain = run_mock(&m, &["vault", "list"]);
    assert_eq!(quiet_ok(&r), quiet_ok(&plain));
}

#[test]
fn a_reader_that_closes_stdout_early_ends_the_run_quietly() {
    let m = MockGlacier::start();
    // More table than a pipe buffer holds, so the writer meets the closed pipe.
    for i in 0..1500 {
        m.create_vault(&format!("vault-with-a-long-name-{i:05}"));
    }
    let home = TempDir::new("pipe");
    let mut child = glacier_mock(&m, home.path())
        .args(["vault", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn glacier");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "stderr: {stderr}");
    assert_eq!(stderr, "");
}

// ---- configuration and credentials ----

#[test]
fn wrong_secret_fails_with_the_signature_error_and_a_hint() {
    let m = MockGlacier::start();
    m.create_vault("v");
    let home = TempDir::new("badsecret");
    let r: Run = glacier_mock(&m, home.path())
        .env("AWS_SECRET_ACCESS_KEY", "not-the-right-secret")
        .args(["vault", "describe", "v"])
        .output()
        .expect("run")
        .into();
    let e = fails_once(&r, 1);
    assert!(e.contains("InvalidSignatureException (HTTP 403)"), "{e}");
    assert!(
        e.contains("check the credentials (from environment variables)"),
        "{e}"
    );
    assert!(
        e.contains(&format!("[request ID {}]", last_request_id(&m))),
        "{e}"
    );
    assert!(!e.contains("not-the-right-secret"), "{e}");
    assert_eq!(m.requests().len(), 1, "a 403 is not retried");

    let r: Run = glacier_mock(&m, home.path())
        .env("AWS_ACCESS_KEY_ID", "AKIDUNKNOWN")
        .args(["vault", "list"])
        .output()
        .expect("run")
        .into();
    let e = fails_once(&r, 1);
    assert!(e.contains("UnrecognizedClientException"), "{e}");
    assert!(e.contains("check the credentials"), "{e}");
}

#[test]
fn missing_credentials_say_what_was_tried_and_how_to_fix_it() {
    let m = MockGlacier::start();
    let home = TempDir::new("nocreds");
    let r: Run = glacier_mock(&m, home.path())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["vault", "list"])
        .output()
        .expect("run")
        .into();
    let e = fails_once(&r, 1);
    assert!(e.starts_with("glacier: credentials: none found"), "{e}");
    assert!(e.contains("AWS_ACCESS_KEY_ID"), "{e}");
    assert!(e.contains("--profile"), "{e}");
    assert!(e.contains("disabled by AWS_EC2_METADATA_DISABLED"), "{e}");
    assert!(m.requests().is_empty());

    // Half a key pair is an error of its own.
    let r: Run = glacier_mock(&m, home.path())
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["vault", "list"])
        .output()
        .expect("run")
        .into();
    let e = fails_once(&r, 1);
    assert!(
        e.contains("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"),
        "{e}"
    );
    assert!(m.requests().is_empty());
}

#[test]
fn no_region_is_a_usage_error_saying_how_to_set_one() {
    let m = MockGlacier::start();
    let home = TempDir::new("noregion");
    let r: Run = glacier_mock(&m, home.path())
        .env_remove("AWS_REGION")
        .args(["vault", "list"])
        .output()
        .expect("run")
        .into();
    let e = fails_once(&r, 2);
    assert!(e.contains("no region"), "{e}");
    assert!(e.contains("--region"), "{e}");
    assert!(e.contains("AWS_REGION"), "{e}");
    let r = run_mock(&m, &["vault", "list", "--region", "US_EAST"]);
    let e = fails_once(&r, 2);
    assert!(e.contains("invalid region 'US_EAST' (--region)"), "{e}");
    assert!(m.requests().is_empty());
}

#[test]
fn plain_http_to_a_remote_host_is_refused_before_any_network_access() {
    let m = MockGlacier::start();
    for args in [
        &["vault", "list", "--endpoint-url", "http://example.invalid"][..],
        &[
            "-v",
            "jobs",
            "list",
            "v",
            "--endpoint-url=http://example.invalid:8080/",
        ],
    ] {
        let r = run_mock(&m, args);
        // One line even with --verbose: nothing was sent, so nothing was logged.
        let e = fails_once(&r, 2);
        assert!(e.contains("'http://example.invalid"), "{e}");
        assert!(e.contains("(--endpoint-url)"), "{e}");
        assert!(e.contains("--allow-http"), "{e}");
    }
    let home = TempDir::new("http");
    let r: Run = glacier_mock(&m, home.path())
        .env("AWS_ENDPOINT_URL_GLACIER", "http://example.invalid")
        .args(["vault", "list"])
        .output()
        .expect("run")
        .into();
    let e = fails_once(&r, 2);
    assert!(e.contains("AWS_ENDPOINT_URL_GLACIER"), "{e}");
    assert!(e.contains("--allow-http"), "{e}");
    // Loopback over plain HTTP needs no flag (every other test relies on it), and
    // `localhost` counts as loopback.
    let local = m.url().replace("127.0.0.1", "localhost");
    quiet_ok(&run_mock(&m, &["vault", "list", "--endpoint-url", &local]));
    assert_eq!(m.requests().len(), 1);
}

#[test]
fn clock_skew_is_measured_and_reported() {
    let m = MockGlacier::start_with(MockConfig {
        clock_skew_secs: 3600,
        ..MockConfig::default()
    });
    m.create_vault("v");
    let e = fails_once(&run_mock(&m, &["vault", "describe", "v"]), 1);
    assert!(e.contains("InvalidSignatureException"), "{e}");
    assert!(e.contains("Signature expired"), "{e}");
    // The mock's clock is an hour ahead, so ours is an hour behind (give or take the
    // second boundaries of the two dates).
    let n: i64 = e
        .split("the local clock is ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no measured skew in: {e}"));
    assert!((3598..=3602).contains(&n), "{e}");
    assert!(
        e.contains("s behind Glacier's; fix the system clock"),
        "{e}"
    );
    assert!(
        e.contains(&format!("[request ID {}]", last_request_id(&m))),
        "{e}"
    );
}

// ---- retries ----

#[test]
fn throttling_that_clears_is_retried_to_success() {
    let m = MockGlacier::start();
    m.create_vault("v");
    m.inject(FaultRule::times(Fault::Throttle, Some("DescribeVault"), 2));
    let out = quiet_ok(&run_mock(&m, &["vault", "describe", "v"])).to_string();
    assert!(out.starts_with("vault:           v\n"), "{out}");
    let seen = ops(&m, "DescribeVault");
    let statuses: Vec<u16> = seen.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [400, 400, 200]);
    assert_eq!(seen[0].error_code.as_deref(), Some("ThrottlingException"));
}

#[test]
fn throttling_that_never_clears_stops_at_max_attempts() {
    let m = MockGlacier::start();
    m.create_vault("v");
    m.inject(FaultRule::always(Fault::Throttle, Some("ListVaults")));
    let e = fails_once(&run_mock(&m, &["vault", "list", "--max-attempts", "3"]), 1);
    assert!(e.contains("ListVaults"), "{e}");
    assert!(
        e.contains("ThrottlingException (HTTP 400): Rate exceeded"),
        "{e}"
    );
    assert!(
        e.contains(&format!("[request ID {}]", last_request_id(&m))),
        "{e}"
    );
    assert_eq!(ops(&m, "ListVaults").len(), 3);

    let e = fails_once(&run_mock(&m, &["--max-attempts", "1", "vault", "list"]), 1);
    assert!(e.contains("ThrottlingException"), "{e}");
    assert_eq!(ops(&m, "ListVaults").len(), 4);

    let e = fails_once(&run_mock(&m, &["vault", "list", "--max-attempts", "0"]), 2);
    assert!(e.contains("--max-attempts"), "{e}");
    let e = fails_once(&run_mock(&m, &["vault", "list", "--max-attempts", "x"]), 2);
    assert!(e.contains("--max-attempts 'x'"), "{e}");
    assert_eq!(ops(&m, "ListVaults").len(), 4);
}

#[test]
fn service_unavailable_and_dropped_connections_that_clear_are_retried() {
    let m = MockGlacier::start();
    m.create_vault("v");
    m.inject(FaultRule::times(Fault::Unavailable, Some("ListVaults"), 2));
    m.inject(FaultRule::times(
        Fault::InternalEmpty,
        Some("ListVaults"),
        1,
    ));
    let out = quiet_ok(&run_mock(&m, &["vault", "list"])).to_string();
    assert_eq!(out.lines().count(), 2, "{out}");
    let statuses: Vec<u16> = ops(&m, "ListVaults").iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 500, 200]);

    m.inject(FaultRule::times(Fault::Drop, Some("DescribeVault"), 2));
    let out = quiet_ok(&run_mock(&m, &["vault", "describe", "v"])).to_string();
    assert!(out.starts_with("vault:           v\n"), "{out}");
    let statuses: Vec<u16> = ops(&m, "DescribeVault").iter().map(|r| r.status).collect();
    assert_eq!(statuses, [0, 0, 200], "two dropped, then answered");

    m.inject(FaultRule::times(
        Fault::RequestTimeout,
        Some("DeleteVault"),
        1,
    ));
    quiet_ok(&run_mock(&m, &["-q", "vault", "delete", "v"]));
    let statuses: Vec<u16> = ops(&m, "DeleteVault").iter().map(|r| r.status).collect();
    assert_eq!(statuses, [408, 204]);
}

#[test]
fn a_connection_that_always_drops_fails_after_max_attempts_naming_the_operation() {
    let m = MockGlacier::start();
    m.create_vault("v");
    m.inject(FaultRule::always(Fault::Drop, Some("DescribeVault")));
    let e = fails_once(
        &run_mock(&m, &["vault", "describe", "v", "--max-attempts", "2"]),
        1,
    );
    assert!(e.contains("DescribeVault on vault 'v'"), "{e}");
    assert_eq!(ops(&m, "DescribeVault").len(), 2);
    m.inject(FaultRule::always(Fault::Unavailable, Some("ListVaults")));
    let e = fails_once(&run_mock(&m, &["vault", "list", "--max-attempts", "2"]), 1);
    assert!(e.contains("ServiceUnavailableException (HTTP 503)"), "{e}");
}

// ---- secrets ----

#[test]
fn verbose_logs_requests_and_request_ids_but_never_a_secret() {
    const TOKEN: &str = "FwoGZXIvYXdzEXAMPLE-session-token/with+odd=chars";
    let m = MockGlacier::start_with(MockConfig {
        session_token: Some(TOKEN.into()),
        ..MockConfig::default()
    });
    m.create_vault("v");
    let aid = m.put_archive("v", b"abc", "");
    let home = TempDir::new("verbose");
    let run = |args: &[&str]| -> Run {
        glacier_mock(&m, home.path())
            .env("AWS_SESSION_TOKEN", TOKEN)
            .arg("--verbose")
            .args(args)
            .output()
            .expect("run")
            .into()
    };
    m.inject(FaultRule::times(Fault::Throttle, Some("ListVaults"), 1));
    let runs = [
        (run(&["vault", "list"]), 0),
        (run(&["vault", "describe", "v", "--json"]), 0),
        (run(&["jobs", "list", "v"]), 0),
        (run(&["uploads", "list", "v"]), 0),
        (run(&["vault", "describe", "nope"]), 1),
        (run(&["vault", "delete", "v"]), 1),
        (run(&["archive", "delete", "v", &aid]), 0),
        (run(&["-v", "archive", "delete", "v", &aid]), 1),
    ];
    let mut all_err = String::new();
    for (r, code) in &runs {
        assert_eq!(r.code, *code, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
        for text in [&r.stdout, &r.stderr] {
            assert!(!text.contains(SECRET_KEY), "secret leaked:\n{text}");
            assert!(!text.contains(TOKEN), "session token leaked:\n{text}");
            assert!(!text.contains("Signature="), "signature leaked:\n{text}");
            assert!(!text.contains("panicked"), "{text}");
        }
        assert!(
            r.stderr.lines().all(|l| l.starts_with("glacier: ")),
            "{}",
            r.stderr
        );
        all_err.push_str(&r.stderr);
    }
    // Every request the mock answered shows up in the log with its request ID, and the
    // session token did reach the mock.
    for rec in m.requests() {
        assert!(
            all_err.contains(&format!("[request ID {}]", rec.request_id)),
            "{} {} not logged:\n{all_err}",
            rec.operation,
            rec.request_id
        );
        assert!(
            rec.headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("x-amz-security-token") && v == TOKEN)
        );
    }
    let first = &runs[0].0.stderr;
    assert!(
        first.contains("glacier: > GET /-/vaults (ListVaults, 0 bytes)"),
        "{first}"
    );
    assert!(first.contains("glacier: < 400 ListVaults"), "{first}");
    assert!(first.contains("glacier: retrying ListVaults"), "{first}");
    assert!(first.contains("glacier: < 200 ListVaults"), "{first}");
    // A failure under --verbose ends with the one error line.
    let last = runs[4].0.stderr.lines().last().expect("a line");
    assert!(last.contains("ResourceNotFoundException"), "{last}");
    assert_eq!(
        runs[4]
            .0
            .stderr
            .lines()
            .filter(|l| l.contains("ResourceNotFound"))
            .count(),
        1
    );
}

// ---- help ----

#[test]
fn each_action_has_its_own_help_page_in_both_spellings() {
    let by_flag = crate::support::run_plain(&["vault", "export", "--help"]);
    let by_help = crate::support::run_plain(&["help", "vault", "export"]);
    let page = by_flag.ok();
    assert_eq!(page, by_help.ok());
    assert!(page.starts_with("glacier vault export - "), "{page}");
    assert!(
        page.contains("--storage-class") && page.contains("--shard"),
        "{page}"
    );
    // Only export: not purge's flags, not the other vault actions.
    assert!(!page.contains("--delete-vault"), "{page}");
    assert!(!page.contains("vault describe"), "{page}");
    assert!(page.lines().count() < 80, "{} lines", page.lines().count());
    // With the arguments given too, and for a two-word action of another group.
    let with_args = crate::support::run_plain(&["vault", "export", "photos", "dir", "-h"]);
    assert_eq!(with_args.ok(), page);
    let get = crate::support::run_plain(&["archive", "get", "--help"]);
    assert!(
        get.ok().starts_with("glacier archive get - "),
        "{}",
        get.stdout
    );
    assert!(get.stdout.contains("--chunk-size") && !get.stdout.contains("--tier"));
    // The group's page is an index of its actions.
    let vault = crate::support::run_plain(&["help", "vault"]);
    for action in ["list", "describe", "create", "delete", "export", "purge"] {
        assert!(
            vault.ok().contains(&format!("glacier vault {action}")),
            "{action}"
        );
    }
}

#[test]
fn help_version_works_as_the_overview_lists_it() {
    let r = crate::support::run_plain(&["help", "version"]);
    assert!(r.ok().starts_with("glacier version - "), "{}", r.stdout);
    let overview = crate::support::run_plain(&["help"]);
    assert!(overview.ok().contains("\n  version "));
}

// ---- man page and completions ----

#[test]
fn generate_prints_the_man_page_and_each_completion_script() {
    use crate::support::run_plain;
    let man = run_plain(&["--generate", "man"]);
    assert!(man.ok().starts_with(".TH GLACIER 1"), "{}", man.stdout);
    for kind in ["complete-bash", "complete-zsh", "complete-fish"] {
        let r = run_plain(&["--generate", kind]);
        assert!(r.ok().contains("glacier"), "{kind}");
    }
    let r = run_plain(&["--generate", "complete-tcsh"]);
    assert!(
        r.fails(2).contains("--generate 'complete-tcsh'"),
        "{}",
        r.stderr
    );
    let r = run_plain(&["--generate", "man", "vault"]);
    assert!(
        r.fails(2).contains("unexpected argument 'vault'"),
        "{}",
        r.stderr
    );
}

/// Runs the generated bash completion for the words typed so far (the last one being
/// completed) and returns what it offers.
fn bash_completes(script: &str, typed: &[&str]) -> Vec<String> {
    let words: Vec<String> = typed.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "{script}\nCOMP_WORDS=(glacier {})\nCOMP_CWORD={}\n_glacier\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        words.join(" "),
        typed.len()
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "-c", &program])
        .output()
        .expect("bash runs (the completion under test is for bash)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn the_bash_completion_offers_commands_actions_flags_and_choices() {
    let script = crate::support::run_plain(&["--generate", "complete-bash"])
        .ok()
        .to_string();
    assert!(bash_completes(&script, &[""]).contains(&"vault".to_string()));
    assert_eq!(bash_completes(&script, &["vault", "ex"]), ["export"]);
    // A global flag's value is stepped over when finding the command.
    assert_eq!(
        bash_completes(&script, &["--region", "us-east-1", "vault", "pu"]),
        ["purge"]
    );
    assert_eq!(
        bash_completes(&script, &["vault", "export", "--storage-c"]),
        ["--storage-class"]
    );
    assert_eq!(
        bash_completes(&script, &["vault", "export", "--storage-class", "GLACIER_"]),
        ["GLACIER_IR"]
    );
    assert_eq!(
        bash_completes(&script, &["archive", "init-retrieval", "--tier", "B"]),
        ["Bulk"]
    );
    // purge's flags are not offered to export.
    assert!(bash_completes(&script, &["vault", "export", "--del"]).is_empty());
}
