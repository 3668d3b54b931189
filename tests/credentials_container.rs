//! The container credentials provider against a loopback endpoint (tests/sts/) that
//! checks the authorization token: relative and full URIs, the token from its variable
//! or re-read from its file at each refresh, the hosts a plain-HTTP full URI may name,
//! and that the token never reaches an error.

#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use time::Duration;

use crate::sts::{ContainerServer, home, manual_clock, provider, provider_with};
use glacier_upload::config::MapEnv;
use glacier_upload::credentials::{ChainOptions, Container, REFRESH_WINDOW};

const T0: &str = "2026-03-01T12:00:00Z";

#[test]
fn relative_uri_is_served_from_the_agent_address() {
    let (clock, _now) = manual_clock(T0);
    let server = ContainerServer::start("/v2/credentials/7d1c", clock.clone(), Duration::hours(6));
    let (_dir, env) = home("", "");
    let env = env.with(
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "/v2/credentials/7d1c",
    );
    // Without an override it is the ECS agent's address.
    let p = provider(&env, None, &clock).unwrap();
    assert!(
        p.describe()
            .contains("http://169.254.170.2/v2/credentials/7d1c"),
        "{}",
        p.describe()
    );
    let opts = ChainOptions {
        clock: Some(clock.clone()),
        container_base: Some(server.base.clone()),
        ..ChainOptions::default()
    };
    let c = provider_with(&env, None, opts)
        .unwrap()
        .credentials()
        .unwrap();
    let issued = server.issued();
    assert_eq!(c.access_key_id, issued[0].access_key_id);
    assert_eq!(c.secret_access_key(), issued[0].secret);
    assert_eq!(c.session_token(), Some(issued[0].token.as_str()));
    assert_eq!(c.expiration, Some(issued[0].expiration));
    let req = &server.requests()[0];
    assert_eq!(req.header("authorization"), None);
}

#[test]
fn full_uri_sends_the_token_and_a_wrong_one_is_refused_without_showing_it() {
    let (clock, _now) = manual_clock(T0);
    let server = ContainerServer::start("/v1/credentials", clock.clone(), Duration::hours(6));
    server.set_tokens(&["Basic pod-identity-token-1"]);
    let (_dir, env) = home("", "");
    let env = env.with("AWS_CONTAINER_CREDENTIALS_FULL_URI", &server.uri());
    let ok = env.clone().with(
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "Basic pod-identity-token-1",
    );
    provider(&ok, None, &clock).unwrap().credentials().unwrap();
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Basic pod-identity-token-1")
    );

    let bad = env.with(
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "Basic forged-token-value",
    );
    let err = provider(&bad, None, &clock)
        .unwrap()
        .credentials()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HTTP 401") && err.contains(&server.uri()),
        "{err}"
    );
    assert!(!err.contains("forged-token-value"), "{err}");
}

#[test]
fn token_file_wins_and_is_reread_at_each_refresh() {
    let (clock, now) = manual_clock(T0);
    let server = ContainerServer::start("/v1/credentials", clock.clone(), Duration::hours(1));
    server.set_tokens(&["file-token-1"]);
    let (dir, env) = home("", "");
    let file = dir.join("eks-pod-identity-token");
    std::fs::write(&file, "file-token-1").unwrap();
    let env = env
        .with("AWS_CONTAINER_CREDENTIALS_FULL_URI", &server.uri())
        .with("AWS_CONTAINER_AUTHORIZATION_TOKEN", "value-token-ignored")
        .with(
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            file.to_str().unwrap(),
        );
    let p = provider(&env, None, &clock).unwrap();
    let first = p.credentials().unwrap();
    *now.lock().unwrap() += Duration::minutes(30);
    assert_eq!(p.credentials().unwrap().access_key_id, first.access_key_id);
    assert_eq!(server.requests().len(), 1);

    std::fs::write(&file, "file-token-2").unwrap();
    server.set_tokens(&["file-token-2"]);
    *now.lock().unwrap() = first.expiration.unwrap() - REFRESH_WINDOW;
    let second = p.credentials().unwrap();
    assert_ne!(second.access_key_id, first.access_key_id);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].header("authorization"), Some("file-token-2"));

    // A token that spans lines is refused before anything is sent.
    std::fs::write(&file, "line-one\nline-two").unwrap();
    *now.lock().unwrap() = second.expiration.unwrap() + Duration::seconds(1);
    let err = p.credentials().unwrap_err().to_string();
    assert!(
        err.contains("spans lines") && !err.contains("line-one"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn full_uri_hosts_the_sdks_allow() {
    let at = |uri: &str| {
        Container::from_env(&MapEnv::new().with("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri))
    };
    for ok in [
        "http://127.0.0.1:51679/creds",
        "http://127.1.2.3/creds",
        "http://localhost:8080/creds",
        "http://[::1]:80/creds",
        "http://169.254.170.2/v2/credentials/x",
        "http://169.254.170.23/v1/credentials",
        "http://[fd00:ec2::23]/v1/credentials",
        "https://creds.example.com/anything",
    ] {
        assert!(at(ok).unwrap().is_some(), "{ok} should be allowed");
    }
    for bad in [
        "http://10.0.0.5/creds",
        "http://169.254.169.254/latest",
        "http://creds.example.com/creds",
        "http://[fd00:ec2::24]/creds",
        "ftp://127.0.0.1/creds",
        "not a url",
    ] {
        let err = at(bad).unwrap_err().to_string();
        assert!(
            err.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
            "{bad}: {err}"
        );
    }
    let err = at("http://10.0.0.5/creds").unwrap_err().to_string();
    assert!(err.contains("not allowed over plain HTTP"), "{err}");

    // The relative form wins and must be a path.
    let env = MapEnv::new()
        .with("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/x")
        .with("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.0.0.5/");
    assert!(
        Container::from_env(&env)
            .unwrap_err()
            .to_string()
            .contains("must start with '/'")
    );
}
