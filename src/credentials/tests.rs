//! Unit tests of the credential sources, the cache and the chain.

use super::*;
use crate::config::Resolved;
use crate::config::test_support::TempDir;
use crate::config::{MapEnv, Settings, resolve};
use crate::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN";

fn resolved(env: &MapEnv, profile: Option<&str>) -> Resolved {
    let s = Settings {
        region: Some("us-east-1".into()),
        profile: profile.map(str::to_string),
        ..Settings::default()
    };
    resolve(&s, env).unwrap()
}

/// A home with the given config and credentials files, IMDS disabled.
fn home(config: &str, credentials: &str) -> (TempDir, MapEnv) {
    let dir = TempDir::new("creds");
    dir.write(".aws/config", config);
    dir.write(".aws/credentials", credentials);
    let env = MapEnv::new()
        .with_home(dir.path())
        .with("AWS_EC2_METADATA_DISABLED", "true");
    (dir, env)
}

fn chain_err(env: &MapEnv, profile: Option<&str>) -> String {
    match chain(&resolved(env, profile), env) {
        Ok(p) => panic!("expected an error, got {}", p.describe()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn debug_never_shows_secret_or_token() {
    let c = Credentials::new("AKIDEXAMPLE", SECRET, Some(TOKEN.to_string()), None);
    let dbg = format!("{c:?}");
    assert!(dbg.contains("AKIDEXAMPLE"), "{dbg}");
    assert!(!dbg.contains(SECRET) && !dbg.contains("wJalr"), "{dbg}");
    assert!(!dbg.contains(TOKEN) && !dbg.contains("IQoJ"), "{dbg}");
    let dbg = format!("{:#?}", Static::new(c.clone(), "x"));
    assert!(!dbg.contains(SECRET) && !dbg.contains(TOKEN), "{dbg}");
    assert_eq!(c.secret_access_key(), SECRET);
    assert_eq!(c.session_token(), Some(TOKEN));
}

#[test]
fn env_keys_win_over_default_profile() {
    let (_d, env) = home(
        "",
        "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = FILESECRET\n",
    );
    let env = env
        .with("AWS_ACCESS_KEY_ID", "ENVKEY")
        .with("AWS_SECRET_ACCESS_KEY", "ENVSECRET")
        .with("AWS_SESSION_TOKEN", "ENVTOKEN");
    let p = chain(&resolved(&env, None), &env).unwrap();
    assert_eq!(p.describe(), "environment variables");
    let c = p.credentials().unwrap();
    assert_eq!(
        (c.access_key_id.as_str(), c.secret_access_key()),
        ("ENVKEY", "ENVSECRET")
    );
    assert_eq!(c.session_token(), Some("ENVTOKEN"));
}

#[test]
fn default_profile_keys_when_no_env() {
    let (dir, env) = home(
        "[default]\naws_access_key_id = CFGKEY\naws_secret_access_key = CFGSECRET\n",
        "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = FILESECRET\n\
         aws_session_token = FILETOKEN\n",
    );
    let p = chain(&resolved(&env, None), &env).unwrap();
    assert!(
        p.describe().contains("profile 'default'"),
        "{}",
        p.describe()
    );
    assert!(
        p.describe()
            .contains(&dir.path().join(".aws/credentials").display().to_string())
    );
    let c = p.credentials().unwrap();
    assert_eq!(
        (c.access_key_id.as_str(), c.secret_access_key()),
        ("FILEKEY", "FILESECRET")
    );
    assert_eq!(c.session_token(), Some("FILETOKEN"));
    // Keys only in the config file count too.
    let (_d, env) = home(
        "[default]\naws_access_key_id = CFGKEY\naws_secret_access_key = CFGSECRET\n",
        "",
    );
    let c = chain(&resolved(&env, None), &env)
        .unwrap()
        .credentials()
        .unwrap();
    assert_eq!(c.access_key_id, "CFGKEY");
}

#[test]
fn explicit_profile_wins_over_env() {
    let (_d, env) = home(
        "",
        "[work]\naws_access_key_id = WORKKEY\naws_secret_access_key = WORKSECRET\n",
    );
    let env = env
        .with("AWS_ACCESS_KEY_ID", "ENVKEY")
        .with("AWS_SECRET_ACCESS_KEY", "ENVSECRET");
    let c = chain(&resolved(&env, Some("work")), &env)
        .unwrap()
        .credentials()
        .unwrap();
    assert_eq!(c.access_key_id, "WORKKEY");
    let env = env.with("AWS_PROFILE", "work");
    let c = chain(&resolved(&env, None), &env)
        .unwrap()
        .credentials()
        .unwrap();
    assert_eq!(c.access_key_id, "WORKKEY");
}

#[test]
fn explicit_profile_without_credentials_never_falls_back() {
    let (_d, env) = home("[profile r]\nsso_session = corp\n", "");
    let env = env
        .with("AWS_ACCESS_KEY_ID", "ENVKEY")
        .with("AWS_SECRET_ACCESS_KEY", "ENVSECRET");
    let msg = chain_err(&env, Some("r"));
    assert!(msg.contains("profile 'r' has no credentials"), "{msg}");
    assert!(
        msg.contains("sso_session") && msg.contains("export-credentials"),
        "{msg}"
    );
}

#[test]
fn half_a_key_pair_is_an_error_naming_the_missing_half() {
    let (_d, env) = home("", "");
    let msg = chain_err(&env.clone().with("AWS_ACCESS_KEY_ID", "K"), None);
    assert!(msg.contains("AWS_SECRET_ACCESS_KEY is not"), "{msg}");
    let msg = chain_err(&env.with("AWS_SECRET_ACCESS_KEY", SECRET), None);
    assert!(
        msg.contains("AWS_ACCESS_KEY_ID is not") && !msg.contains(SECRET),
        "{msg}"
    );
    let (_d, env) = home("", "[default]\naws_access_key_id = K\n");
    let msg = chain_err(&env, None);
    assert!(msg.contains("no aws_secret_access_key"), "{msg}");
}

#[test]
fn nothing_found_lists_what_was_tried() {
    let (_d, env) = home("[default]\nregion = us-east-1\n", "");
    let msg = chain_err(&env, None);
    for needle in [
        "AWS_ACCESS_KEY_ID",
        "profile 'default'",
        "AWS_EC2_METADATA_DISABLED",
        "aws configure",
        &*format!("pass {} NAME", crate::error::Setting::Profile),
    ] {
        assert!(msg.contains(needle), "{needle} missing from: {msg}");
    }
}

// ---- credential_process ----

/// A profile whose credential_process is a script with `body`.
fn process_env(body: &str) -> (TempDir, MapEnv) {
    let (dir, env) = home("", "");
    let script = dir.write("creds.sh", &format!("#!/bin/sh\n{body}\n"));
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir.write(
        ".aws/config",
        &format!("[default]\ncredential_process = {}\n", script.display()),
    );
    (dir, env)
}

fn process_err(body: &str) -> String {
    let (_d, env) = process_env(body);
    let p = chain(&resolved(&env, None), &env).unwrap();
    p.credentials().unwrap_err().to_string()
}

#[test]
fn credential_process_success() {
    let (_d, env) = process_env(&format!(
        "cat <<'EOF'\n{{\"Version\": 1, \"AccessKeyId\": \"PROCKEY\", \"SecretAccessKey\": \
         \"{SECRET}\", \"SessionToken\": \"{TOKEN}\", \"Expiration\": \
         \"2030-01-02T03:04:05Z\"}}\nEOF"
    ));
    let p = chain(&resolved(&env, None), &env).unwrap();
    assert_eq!(p.describe(), "credential_process of profile 'default'");
    let c = p.credentials().unwrap();
    assert_eq!(
        (c.access_key_id.as_str(), c.secret_access_key()),
        ("PROCKEY", SECRET)
    );
    assert_eq!(c.session_token(), Some(TOKEN));
    assert_eq!(
        c.expiration,
        Some(OffsetDateTime::parse("2030-01-02T03:04:05Z", &Rfc3339).unwrap())
    );
    // Long-term keys from a process: no token, no expiration.
    let (_d, env) =
        process_env("echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}'");
    let c = chain(&resolved(&env, None), &env)
        .unwrap()
        .credentials()
        .unwrap();
    assert_eq!((c.session_token(), c.expiration), (None, None));
}

#[test]
fn credential_process_gets_no_stdin() {
    // `cat` with our stdin would block; with none it prints nothing.
    let msg = process_err("cat; exit 4");
    assert!(msg.contains("exit status: 4"), "{msg}");
}

#[test]
fn credential_process_failure_shows_status_and_first_stderr_line_only() {
    let msg = process_err(&format!(
        "echo '{SECRET}'\necho '' >&2\necho 'token expired: run mfa-login' >&2\n\
         echo 'second line' >&2\nexit 3"
    ));
    assert!(
        msg.contains("credential_process of profile 'default'"),
        "{msg}"
    );
    assert!(msg.contains("exit status: 3"), "{msg}");
    assert!(msg.contains("token expired: run mfa-login"), "{msg}");
    assert!(
        !msg.contains("second line") && !msg.contains(SECRET),
        "{msg}"
    );
}

#[test]
fn credential_process_bad_output() {
    let msg = process_err(&format!(
        "echo '{{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"{SECRET}\"'"
    ));
    assert!(msg.contains("not JSON") && !msg.contains(SECRET), "{msg}");
    let msg = process_err(&format!("echo '{SECRET}'"));
    assert!(msg.contains("not JSON") && !msg.contains(SECRET), "{msg}");
    let msg = process_err(&format!(
        "echo '{{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"{SECRET}\"}}'"
    ));
    assert!(msg.contains("Version") && !msg.contains(SECRET), "{msg}");
    let msg = process_err("echo '{\"Version\": 1, \"AccessKeyId\": \"A\"}'");
    assert!(msg.contains("SecretAccessKey"), "{msg}");
    let msg = process_err(
        "echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":\"soon\"}'",
    );
    assert!(msg.contains("Expiration"), "{msg}");
}

#[test]
fn explicit_profile_uses_its_credential_process_after_static_keys() {
    let (dir, env) =
        process_env("echo '{\"Version\":1,\"AccessKeyId\":\"PROC\",\"SecretAccessKey\":\"S\"}'");
    let script = dir.path().join("creds.sh");
    dir.write(
        ".aws/config",
        &format!("[profile p]\ncredential_process = {}\n", script.display()),
    );
    let c = chain(&resolved(&env, Some("p")), &env)
        .unwrap()
        .credentials()
        .unwrap();
    assert_eq!(c.access_key_id, "PROC");
    dir.write(
        ".aws/credentials",
        "[p]\naws_access_key_id = STATIC\naws_secret_access_key = S\n",
    );
    let c = chain(&resolved(&env, Some("p")), &env)
        .unwrap()
        .credentials()
        .unwrap();
    assert_eq!(c.access_key_id, "STATIC");
}

// ---- Cached ----

/// Counts fetches and hands out credentials expiring at `expires_at(n)`.
struct Counting {
    calls: Arc<Mutex<u32>>,
    expires_at: Box<dyn Fn(u32) -> OffsetDateTime + Send + Sync>,
    fail_after: Option<u32>,
}

impl Provider for Counting {
    fn credentials(&self) -> Result<Credentials> {
        let mut n = self.calls.lock().unwrap();
        *n += 1;
        if self.fail_after.is_some_and(|f| *n > f) {
            return Err(Error::Credentials("source down".into()));
        }
        Ok(Credentials::new(
            format!("KEY{n}"),
            "S",
            Some("T".into()),
            Some((self.expires_at)(*n)),
        ))
    }
    fn describe(&self) -> String {
        "counting".into()
    }
}

fn t0() -> OffsetDateTime {
    OffsetDateTime::parse("2025-06-01T12:00:00Z", &Rfc3339).unwrap()
}

fn cached(
    expires_at: impl Fn(u32) -> OffsetDateTime + Send + Sync + 'static,
    fail_after: Option<u32>,
) -> (Cached, Arc<Mutex<u32>>, Arc<Mutex<OffsetDateTime>>) {
    let calls = Arc::new(Mutex::new(0));
    let now = Arc::new(Mutex::new(t0()));
    let clock_now = Arc::clone(&now);
    let c = Cached::with_clock(
        Box::new(Counting {
            calls: Arc::clone(&calls),
            expires_at: Box::new(expires_at),
            fail_after,
        }),
        Arc::new(move || *clock_now.lock().unwrap()),
    );
    (c, calls, now)
}

#[test]
fn cached_refreshes_only_inside_the_window() {
    let hour = time::Duration::hours(1);
    let (c, calls, now) = cached(move |n| t0() + hour * n as i32, None);
    assert_eq!(c.credentials().unwrap().access_key_id, "KEY1");
    assert_eq!(c.describe(), "counting");
    *now.lock().unwrap() = t0() + hour - REFRESH_WINDOW - time::Duration::seconds(1);
    assert_eq!(c.credentials().unwrap().access_key_id, "KEY1");
    assert_eq!(*calls.lock().unwrap(), 1);
    *now.lock().unwrap() = t0() + hour - REFRESH_WINDOW;
    assert_eq!(c.credentials().unwrap().access_key_id, "KEY2");
    assert_eq!(*calls.lock().unwrap(), 2);
    // KEY2 expires at t0 + 2h: good until its own window.
    *now.lock().unwrap() = t0() + hour * 2 - REFRESH_WINDOW - time::Duration::seconds(1);
    assert_eq!(c.credentials().unwrap().access_key_id, "KEY2");
    assert_eq!(*calls.lock().unwrap(), 2);
}

#[test]
fn cached_keeps_working_credentials_when_a_refresh_fails() {
    let hour = time::Duration::hours(1);
    let (c, calls, now) = cached(move |_| t0() + hour, Some(1));
    assert_eq!(c.credentials().unwrap().access_key_id, "KEY1");
    *now.lock().unwrap() = t0() + hour - time::Duration::minutes(1);
    assert_eq!(c.credentials().unwrap().access_key_id, "KEY1");
    assert_eq!(*calls.lock().unwrap(), 2);
    *now.lock().unwrap() = t0() + hour;
    assert!(
        c.credentials()
            .unwrap_err()
            .to_string()
            .contains("source down")
    );
}

#[test]
fn cached_does_not_refetch_short_lived_credentials_on_every_call() {
    // A source that only ever has credentials with 2 minutes left.
    let (c, calls, now) = cached(|_| t0() + time::Duration::minutes(2), None);
    c.credentials().unwrap();
    *now.lock().unwrap() = t0() + time::Duration::seconds(29);
    c.credentials().unwrap();
    assert_eq!(*calls.lock().unwrap(), 1);
    *now.lock().unwrap() = t0() + time::Duration::seconds(30);
    c.credentials().unwrap();
    assert_eq!(*calls.lock().unwrap(), 2);
}

#[test]
fn cached_refreshes_as_soon_as_credentials_enter_the_window_even_just_after_a_fetch() {
    // Fetched with 5 min 2 s left: fresh for 2 s, then refreshed at once (the
    // short-lived guard is only for credentials already inside the window when fetched).
    let (c, calls, now) = cached(
        |n| t0() + REFRESH_WINDOW + time::Duration::seconds(2 * n as i64),
        None,
    );
    c.credentials().unwrap();
    *now.lock().unwrap() = t0() + time::Duration::seconds(1);
    assert_eq!(c.credentials().unwrap().access_key_id, "KEY1");
    *now.lock().unwrap() = t0() + time::Duration::seconds(2);
    assert_eq!(c.credentials().unwrap().access_key_id, "KEY2");
    assert_eq!(*calls.lock().unwrap(), 2);
}

// ---- IMDSv2, against a loopback server of our own ----

#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Route = Box<dyn Fn(&Request) -> (u16, String) + Send>;

/// A one-request-per-connection HTTP server on 127.0.0.1:0 that records what it gets.
/// Its thread ends with the test process.
fn serve(route: Route) -> (String, Arc<Mutex<Vec<Request>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&log);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or_default().to_string();
            let path = parts.next().unwrap_or_default().to_string();
            let mut headers = Vec::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    headers.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
            let req = Request {
                method,
                path,
                headers,
            };
            let (status, body) = route(&req);
            seen.lock().unwrap().push(req);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, log)
}

fn imds_route(role_list: (u16, &'static str)) -> Route {
    Box::new(move |req: &Request| {
        let token_ok = req.header("x-aws-ec2-metadata-token") == Some("TOKEN-abc");
        match (req.method.as_str(), req.path.as_str()) {
            ("PUT", "/latest/api/token") => (200, "TOKEN-abc".into()),
            (_, _) if !token_ok => (401, String::new()),
            ("GET", "/latest/meta-data/iam/security-credentials/") => {
                (role_list.0, role_list.1.into())
            }
            ("GET", "/latest/meta-data/iam/security-credentials/my-role") => (
                200,
                format!(
                    "{{\"Code\":\"Success\",\"LastUpdated\":\"2025-06-01T11:00:00Z\",\
                     \"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAIMDS\",\
                     \"SecretAccessKey\":\"{SECRET}\",\"Token\":\"{TOKEN}\",\
                     \"Expiration\":\"2025-06-01T18:00:00Z\"}}"
                ),
            ),
            _ => (404, String::new()),
        }
    })
}

fn imds_env(endpoint: &str) -> (TempDir, MapEnv) {
    let (d, env) = home("", "");
    let mut env = env.with("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint);
    env.vars.remove("AWS_EC2_METADATA_DISABLED");
    (d, env)
}

#[test]
fn imdsv2_token_then_role_then_credentials() {
    let (url, log) = serve(imds_route((200, "my-role\nother-role\n")));
    let (_d, env) = imds_env(&format!("{url}/"));
    let p = chain(&resolved(&env, None), &env).unwrap();
    assert!(p.describe().contains("IMDSv2") && p.describe().contains(&url));
    let c = p.credentials().unwrap();
    assert_eq!(c.access_key_id, "ASIAIMDS");
    assert_eq!(c.secret_access_key(), SECRET);
    assert_eq!(c.session_token(), Some(TOKEN));
    assert_eq!(
        c.expiration,
        Some(OffsetDateTime::parse("2025-06-01T18:00:00Z", &Rfc3339).unwrap())
    );
    let log = log.lock().unwrap().clone();
    let lines: Vec<_> = log
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        lines,
        [
            "PUT /latest/api/token",
            "GET /latest/meta-data/iam/security-credentials/",
            "GET /latest/meta-data/iam/security-credentials/my-role",
        ]
    );
    assert_eq!(
        log[0].header("x-aws-ec2-metadata-token-ttl-seconds"),
        Some("21600")
    );
    for get in &log[1..] {
        assert_eq!(get.header("x-aws-ec2-metadata-token"), Some("TOKEN-abc"));
    }
}

#[test]
fn imds_without_a_role_is_nothing_found() {
    let (url, _log) = serve(imds_route((404, "")));
    let (_d, env) = imds_env(&url);
    let msg = chain(&resolved(&env, None), &env)
        .unwrap()
        .credentials()
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("none found") && msg.contains("no IAM role"),
        "{msg}"
    );
    assert!(msg.contains("AWS_ACCESS_KEY_ID"), "{msg}");
}

#[test]
fn imds_unreachable_is_nothing_found_quickly() {
    // A port that was just free: nothing listens, so the connection is refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_d, env) = imds_env(&format!("http://127.0.0.1:{port}"));
    let start = std::time::Instant::now();
    let msg = chain(&resolved(&env, None), &env)
        .unwrap()
        .credentials()
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("none found") && msg.contains("unreachable"),
        "{msg}"
    );
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn imds_disabled_sends_nothing() {
    let (url, log) = serve(imds_route((200, "my-role")));
    let (_d, env) = imds_env(&url);
    let env = env.with("AWS_EC2_METADATA_DISABLED", "TRUE");
    let msg = chain_err(&env, None);
    assert!(msg.contains("AWS_EC2_METADATA_DISABLED"), "{msg}");
    assert!(log.lock().unwrap().is_empty());
}

#[test]
fn imds_is_not_consulted_when_an_earlier_source_yields() {
    let (url, log) = serve(imds_route((200, "my-role")));
    let (_d, env) = imds_env(&url);
    let env = env
        .with("AWS_ACCESS_KEY_ID", "ENVKEY")
        .with("AWS_SECRET_ACCESS_KEY", "ENVSECRET");
    let c = chain(&resolved(&env, None), &env)
        .unwrap()
        .credentials()
        .unwrap();
    assert_eq!(c.access_key_id, "ENVKEY");
    assert!(log.lock().unwrap().is_empty());
}
