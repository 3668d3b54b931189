//! The chain's order (botocore's: environment keys, assume-role profile, web identity,
//! profile keys, credential_process, container, instance metadata), each step named in
//! the verbose log and in the "none found" error, and no secret in either.

#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use std::sync::{Arc, Mutex};

use time::Duration;

use crate::sts::{ContainerServer, StsConfig, StsServer, home, manual_clock, provider_with};
use glacier_upload::credentials::{ChainOptions, Log};

const ROLE: &str = "arn:aws:iam::111122223333:role/glacier-writer";
const T0: &str = "2026-03-01T12:00:00Z";

/// Everything configured at once: env keys, a default profile with a role and keys, web
/// identity variables, a container endpoint. Returns the servers and the environment.
struct World {
    sts: StsServer,
    container: ContainerServer,
    _dir: crate::support::TempDir,
    env: glacier_upload::config::MapEnv,
    clock: crate::sts::TestClock,
}

fn world(config: &str, credentials: &str) -> World {
    let (clock, _now) = manual_clock(T0);
    let mut cfg = StsConfig::new();
    cfg.clock = clock.clone();
    cfg.keys = vec![("AKIDPROFILE".into(), "profile-secret".into())];
    cfg.roles = vec![(ROLE.into(), None)];
    cfg.web_tokens = vec!["web-token".into()];
    let sts = StsServer::start(cfg);
    let container = ContainerServer::start("/creds", clock.clone(), Duration::hours(6));
    let (dir, env) = home(config, credentials);
    let token = dir.join("token");
    std::fs::write(&token, "web-token").unwrap();
    let env = env
        .with("AWS_ENDPOINT_URL_STS", &sts.url)
        .with("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap())
        .with("AWS_ROLE_ARN", ROLE)
        .with("AWS_CONTAINER_CREDENTIALS_FULL_URI", &container.uri());
    World {
        sts,
        container,
        _dir: dir,
        env,
        clock,
    }
}

fn used(w: &World, env: &glacier_upload::config::MapEnv) -> (String, Vec<String>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    let log: Log = Arc::new(move |l: &str| sink.lock().unwrap().push(l.to_string()));
    let opts = ChainOptions {
        log: Some(log),
        clock: Some(w.clock.clone()),
        ..ChainOptions::default()
    };
    let p = provider_with(env, None, opts).unwrap();
    let c = p.credentials().unwrap();
    let lines = lines.lock().unwrap().clone();
    for l in &lines {
        assert!(!l.contains(c.secret_access_key()), "{l}");
        assert!(c.session_token().is_none_or(|t| !l.contains(t)), "{l}");
    }
    (p.describe(), lines)
}

const KEYS: &str =
    "[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n";

#[test]
fn environment_keys_come_first() {
    let w = world(
        &format!("[default]\nrole_arn = {ROLE}\nsource_profile = default\n"),
        KEYS,
    );
    let env = w
        .env
        .clone()
        .with("AWS_ACCESS_KEY_ID", "AKIDENV")
        .with("AWS_SECRET_ACCESS_KEY", "env-secret");
    let (describe, lines) = used(&w, &env);
    assert_eq!(describe, "environment variables");
    assert!(
        lines
            .iter()
            .any(|l| l == "credentials: using environment variables"),
        "{lines:?}"
    );
    assert!(w.sts.calls().is_empty() && w.container.requests().is_empty());
}

#[test]
fn an_assume_role_profile_comes_before_web_identity() {
    let w = world(
        &format!("[default]\nrole_arn = {ROLE}\nsource_profile = default\n"),
        KEYS,
    );
    let (describe, _) = used(&w, &w.env);
    assert!(describe.starts_with("role "), "{describe}");
    assert_eq!(w.sts.calls()[0].action, "AssumeRole");
    assert_eq!(w.sts.calls()[0].outcome, "ok");
}

#[test]
fn web_identity_comes_before_profile_keys_and_the_container() {
    let w = world("", KEYS);
    let (describe, lines) = used(&w, &w.env);
    assert!(describe.starts_with("web identity"), "{describe}");
    assert!(
        lines[0].contains("tried environment variables")
            && lines[1].starts_with("credentials: using web identity"),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("fetched from web identity")),
        "{lines:?}"
    );
    assert!(w.container.requests().is_empty());
}

#[test]
fn profile_keys_come_before_the_container_and_the_container_before_imds() {
    let w = world("", KEYS);
    let mut env = w.env.clone();
    env.vars.remove("AWS_WEB_IDENTITY_TOKEN_FILE");
    let (describe, _) = used(&w, &env);
    assert!(
        describe.contains("static keys of profile 'default'"),
        "{describe}"
    );

    let w = world("", "");
    let mut env = w.env.clone();
    env.vars.remove("AWS_WEB_IDENTITY_TOKEN_FILE");
    // IMDS enabled, at a loopback address that would record a request if reached.
    let imds = ContainerServer::start("/latest/api/token", w.clock.clone(), Duration::hours(1));
    env.vars.remove("AWS_EC2_METADATA_DISABLED");
    let env = env.with("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.base);
    let (describe, lines) = used(&w, &env);
    assert!(describe.starts_with("container credentials"), "{describe}");
    assert!(imds.requests().is_empty());
    let tried: Vec<_> = lines.iter().filter(|l| l.contains("tried")).collect();
    assert_eq!(tried.len(), 3, "env, web identity, profile: {lines:?}");
}

#[test]
fn none_found_names_every_step_in_order() {
    let w = world("[default]\nregion = us-east-1\n", "");
    let mut env = w.env.clone();
    for v in [
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        env.vars.remove(v);
    }
    let err = match provider_with(&env, None, ChainOptions::default()) {
        Ok(p) => panic!("expected none found, got {}", p.describe()),
        Err(e) => e,
    };
    let steps = [
        "AWS_ACCESS_KEY_ID",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "profile 'default'",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_EC2_METADATA_DISABLED",
    ];
    let mut at = 0;
    for s in steps {
        let found = err[at..]
            .find(s)
            .unwrap_or_else(|| panic!("{s} missing or out of order: {err}"));
        at += found;
    }
    assert!(err.contains("none found"), "{err}");
}
