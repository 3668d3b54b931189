//! Web identity and assume-role profiles against a loopback STS (tests/sts/) that checks
//! the web identity token and recomputes each AssumeRole signature: each provider,
//! refresh before expiry on an injected clock, token file rotation, the refusals
//! (mfa_serial, source_profile loops), the STS endpoint settings, and that no secret or
//! token reaches an error.

#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use time::Duration;

use crate::sts::{
    ContainerServer, KeyRing, StsConfig, StsServer, TestClock, home, manual_clock, provider,
};
use glacier_upload::credentials::{REFRESH_WINDOW, Sts};

const ROLE: &str = "arn:aws:iam::111122223333:role/glacier-writer";
const ROLE_B: &str = "arn:aws:iam::111122223333:role/hop";
const KEY: &str = "AKIDSOURCEEXAMPLE";
const SECRET: &str = "source/secret/wJalrXUtnFEMIK7MDENGbPxRfiCY";
const T0: &str = "2026-03-01T12:00:00Z";

fn sts(clock: &TestClock, roles: &[(&str, Option<&str>)]) -> StsServer {
    let mut cfg = StsConfig::new();
    cfg.clock = clock.clone();
    cfg.keys = vec![(KEY.into(), SECRET.into())];
    cfg.roles = roles
        .iter()
        .map(|(r, e)| (r.to_string(), e.map(str::to_string)))
        .collect();
    StsServer::start(cfg)
}

#[test]
fn web_identity_from_env_rereads_the_token_file_at_each_refresh() {
    let (clock, now) = manual_clock(T0);
    let server = sts(&clock, &[(ROLE, None)]);
    server.set_web_tokens(&["eyJ.token-one.sig"]);
    let (dir, env) = home("", "");
    let token_file = dir.join("token");
    std::fs::write(&token_file, "eyJ.token-one.sig\n").unwrap();
    let env = env
        .with("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap())
        .with("AWS_ROLE_ARN", ROLE)
        .with("AWS_ROLE_SESSION_NAME", "ci-run-7")
        .with("AWS_ENDPOINT_URL_STS", &server.url);
    let p = provider(&env, None, &clock).unwrap();
    assert!(p.describe().contains(ROLE), "{}", p.describe());
    assert!(p.describe().contains("token"), "{}", p.describe());

    let first = p.credentials().unwrap();
    let issued = server.issued();
    assert_eq!(first.access_key_id, issued[0].access_key_id);
    assert_eq!(first.secret_access_key(), issued[0].secret);
    assert_eq!(first.session_token(), Some(issued[0].token.as_str()));
    assert_eq!(first.expiration, Some(issued[0].expiration));
    let calls = server.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].action, "AssumeRoleWithWebIdentity");
    assert_eq!(calls[0].outcome, "ok");
    assert_eq!(
        calls[0].param("WebIdentityToken"),
        Some("eyJ.token-one.sig")
    );
    assert_eq!(calls[0].param("RoleSessionName"), Some("ci-run-7"));
    assert_eq!(calls[0].access_key_id, None, "unsigned");

    // Still fresh: no call.
    *now.lock().unwrap() += Duration::minutes(50);
    assert_eq!(p.credentials().unwrap().access_key_id, first.access_key_id);
    assert_eq!(server.calls().len(), 1);

    // The kubelet rotates the token; the old one is no longer accepted.
    std::fs::write(&token_file, "eyJ.token-two.sig").unwrap();
    server.set_web_tokens(&["eyJ.token-two.sig"]);
    *now.lock().unwrap() = issued[0].expiration - REFRESH_WINDOW + Duration::seconds(1);
    let second = p.credentials().unwrap();
    assert_ne!(second.access_key_id, first.access_key_id);
    let calls = server.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].outcome, "ok");
    assert_eq!(
        calls[1].param("WebIdentityToken"),
        Some("eyJ.token-two.sig")
    );
}

#[test]
fn web_identity_profile_uses_the_services_sts_endpoint() {
    let (clock, _now) = manual_clock(T0);
    let server = sts(&clock, &[(ROLE, None)]);
    server.set_web_tokens(&["tok-profile"]);
    let (dir, env) = home("", "");
    let token_file = dir.join("tok");
    std::fs::write(&token_file, "tok-profile").unwrap();
    let config = format!(
        "[profile pod]\nweb_identity_token_file = {}\nrole_arn = {ROLE}\n\
         role_session_name = pod-session\nservices = local\n\n[services local]\nsts =\n  \
         endpoint_url = {}\n",
        token_file.display(),
        server.url
    );
    std::fs::write(dir.join(".aws/config"), config).unwrap();
    let c = provider(&env, Some("pod"), &clock)
        .unwrap()
        .credentials()
        .unwrap();
    assert_eq!(c.access_key_id, server.issued()[0].access_key_id);
    assert_eq!(
        server.calls()[0].param("RoleSessionName"),
        Some("pod-session")
    );
}

#[test]
fn assume_role_is_signed_with_the_source_profile_keys_and_sends_its_parameters() {
    let (clock, now) = manual_clock(T0);
    let server = sts(&clock, &[(ROLE, Some("ext-4242"))]);
    let config = format!(
        "[profile app]\nrole_arn = {ROLE}\nsource_profile = base\nexternal_id = ext-4242\n\
         duration_seconds = 1800\nrole_session_name = nightly\n"
    );
    let creds = format!("[base]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n");
    let (_dir, env) = home(&config, &creds);
    let env = env.with("AWS_ENDPOINT_URL_STS", &server.url);
    let p = provider(&env, Some("app"), &clock).unwrap();
    assert!(
        p.describe().contains(ROLE) && p.describe().contains("profile 'base'"),
        "{}",
        p.describe()
    );
    let c = p.credentials().unwrap();
    let calls = server.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].outcome, "ok", "STS verified the signature");
    assert_eq!(calls[0].action, "AssumeRole");
    assert_eq!(calls[0].access_key_id.as_deref(), Some(KEY));
    assert_eq!(calls[0].param("ExternalId"), Some("ext-4242"));
    assert_eq!(calls[0].param("DurationSeconds"), Some("1800"));
    assert_eq!(calls[0].param("RoleSessionName"), Some("nightly"));
    assert_eq!(
        c.expiration,
        Some(*now.lock().unwrap() + Duration::seconds(1800))
    );

    // Refreshed before expiry during a long run, signed at the new time.
    *now.lock().unwrap() += Duration::minutes(20);
    assert_eq!(p.credentials().unwrap().access_key_id, c.access_key_id);
    *now.lock().unwrap() += Duration::minutes(6);
    let again = p.credentials().unwrap();
    assert_ne!(again.access_key_id, c.access_key_id);
    assert_eq!(server.calls().len(), 2);
    assert_eq!(server.calls()[1].outcome, "ok");
}

#[test]
fn a_source_profile_chain_signs_each_hop_with_the_previous_role() {
    let (clock, _now) = manual_clock(T0);
    let server = sts(&clock, &[(ROLE, None), (ROLE_B, None)]);
    let config = format!(
        "[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n\n\
         [profile b]\nrole_arn = {ROLE_B}\nsource_profile = base\n"
    );
    let creds = format!("[base]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n");
    let (_dir, env) = home(&config, &creds);
    let env = env.with("AWS_ENDPOINT_URL_STS", &server.url);
    let c = provider(&env, Some("a"), &clock)
        .unwrap()
        .credentials()
        .unwrap();
    let calls = server.calls();
    let issued = server.issued();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].param("RoleArn"), Some(ROLE_B));
    assert_eq!(calls[0].access_key_id.as_deref(), Some(KEY));
    assert_eq!(calls[1].param("RoleArn"), Some(ROLE));
    assert_eq!(
        calls[1].access_key_id.as_deref(),
        Some(issued[0].access_key_id.as_str()),
        "the second hop is signed with the first role's keys and token"
    );
    assert!(calls.iter().all(|c| c.outcome == "ok"), "{calls:?}");
    assert_eq!(c.access_key_id, issued[1].access_key_id);
}

#[test]
fn credential_source_environment_and_ecs_container() {
    let (clock, _now) = manual_clock(T0);
    let server = sts(&clock, &[(ROLE, None)]);
    let config = format!("[profile env]\nrole_arn = {ROLE}\ncredential_source = Environment\n");
    let (_dir, env) = home(&config, "");
    let env = env.with("AWS_ENDPOINT_URL_STS", &server.url);
    let missing = provider(&env, Some("env"), &clock).err().unwrap();
    assert!(
        missing.contains("credential_source = Environment"),
        "{missing}"
    );
    let with_keys = env
        .clone()
        .with("AWS_ACCESS_KEY_ID", KEY)
        .with("AWS_SECRET_ACCESS_KEY", SECRET);
    provider(&with_keys, Some("env"), &clock)
        .unwrap()
        .credentials()
        .unwrap();
    assert_eq!(server.calls()[0].access_key_id.as_deref(), Some(KEY));
    assert_eq!(server.calls()[0].outcome, "ok");

    // The container's temporary keys sign the AssumeRole with their session token.
    let container = ContainerServer::start("/creds", clock.clone(), Duration::hours(6));
    let ring: KeyRing = Default::default();
    container.share_keys(ring.clone());
    let mut cfg = StsConfig::new();
    cfg.clock = clock.clone();
    cfg.roles = vec![(ROLE.into(), None)];
    cfg.trusted = Some(ring);
    let server = StsServer::start(cfg);
    let config = format!("[profile ecs]\nrole_arn = {ROLE}\ncredential_source = EcsContainer\n");
    let (_dir, env) = home(&config, "");
    let env = env
        .with("AWS_ENDPOINT_URL_STS", &server.url)
        .with("AWS_CONTAINER_CREDENTIALS_FULL_URI", &container.uri());
    let p = provider(&env, Some("ecs"), &clock).unwrap();
    assert!(
        p.describe().contains("container credentials"),
        "{}",
        p.describe()
    );
    let c = p.credentials().unwrap();
    let calls = server.calls();
    assert_eq!(calls[0].outcome, "ok", "{calls:?}");
    assert_eq!(
        calls[0].access_key_id.as_deref(),
        Some(container.issued()[0].access_key_id.as_str())
    );
    assert_eq!(c.access_key_id, server.issued()[0].access_key_id);
}

#[test]
fn refusals_mfa_serial_loops_and_missing_sources() {
    let (clock, _now) = manual_clock(T0);
    let server = sts(&clock, &[(ROLE, None)]);
    let config = format!(
        "[profile mfa]\nrole_arn = {ROLE}\nsource_profile = base\n\
         mfa_serial = arn:aws:iam::111122223333:mfa/me\n\n\
         [profile x]\nrole_arn = {ROLE}\nsource_profile = y\n\n\
         [profile y]\nrole_arn = {ROLE_B}\nsource_profile = x\n\n\
         [profile lonely]\nrole_arn = {ROLE}\n\n\
         [profile both]\nrole_arn = {ROLE}\nsource_profile = base\ncredential_source = Environment\n\n\
         [profile ghost]\nrole_arn = {ROLE}\nsource_profile = nowhere\n\n\
         [profile self]\nrole_arn = {ROLE}\nsource_profile = self\n\n\
         [profile long]\nrole_arn = {ROLE}\nsource_profile = base\nduration_seconds = 99999\n"
    );
    let creds = format!("[base]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n");
    let (_dir, env) = home(&config, &creds);
    let env = env.with("AWS_ENDPOINT_URL_STS", &server.url);
    let err = |profile: &str| provider(&env, Some(profile), &clock).err().unwrap();

    let mfa = err("mfa");
    assert!(
        mfa.contains("mfa_serial") && mfa.contains("terminal") && mfa.contains("not supported"),
        "{mfa}"
    );
    let cycle = err("x");
    assert!(
        cycle.contains("loop") && cycle.contains("x -> y -> x"),
        "{cycle}"
    );
    assert!(err("lonely").contains("neither source_profile nor credential_source"));
    assert!(err("both").contains("both source_profile and credential_source"));
    assert!(err("ghost").contains("source_profile 'nowhere'"));
    assert!(err("self").contains("its own source_profile"));
    assert!(err("long").contains("duration_seconds"));
    assert!(server.calls().is_empty(), "nothing reached STS");
    for msg in [mfa, cycle] {
        assert!(!msg.contains(SECRET), "{msg}");
    }
}

#[test]
fn sts_refusals_carry_the_code_but_never_the_token_or_secret() {
    let (clock, _now) = manual_clock(T0);
    let server = sts(&clock, &[(ROLE, None)]);
    server.set_web_tokens(&["the-only-valid-token"]);
    let (dir, env) = home("", "");
    let token_file = dir.join("token");
    std::fs::write(&token_file, "eyJ.stale-token.sig").unwrap();
    let env = env
        .with("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap())
        .with("AWS_ROLE_ARN", ROLE)
        .with("AWS_ENDPOINT_URL_STS", &server.url);
    let err = provider(&env, None, &clock)
        .unwrap()
        .credentials()
        .unwrap_err()
        .to_string();
    assert!(err.contains("InvalidIdentityToken"), "{err}");
    assert!(err.contains(&server.url), "names the endpoint: {err}");
    assert!(!err.contains("stale-token"), "{err}");

    // A wrong secret: STS recomputes the signature and refuses it.
    let creds =
        format!("[base]\naws_access_key_id = {KEY}\naws_secret_access_key = not-{SECRET}\n");
    let config = format!("[profile app]\nrole_arn = {ROLE}\nsource_profile = base\n");
    let (_dir, env) = home(&config, &creds);
    let env = env.with("AWS_ENDPOINT_URL_STS", &server.url);
    let err = provider(&env, Some("app"), &clock)
        .unwrap()
        .credentials()
        .unwrap_err()
        .to_string();
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
    assert!(!err.contains(SECRET), "{err}");
}

#[test]
fn sts_endpoint_settings_in_order() {
    use glacier_upload::config::{MapEnv, Profile};
    let profile = Profile::new("default", false);
    let at =
        |env: &MapEnv| Sts::resolve("eu-west-1", env, &profile, None).map(|s| s.url().to_string());
    assert_eq!(
        at(&MapEnv::new()).unwrap(),
        "https://sts.eu-west-1.amazonaws.com"
    );
    assert_eq!(
        Sts::resolve("cn-north-1", &MapEnv::new(), &profile, None)
            .unwrap()
            .url(),
        "https://sts.cn-north-1.amazonaws.com.cn"
    );
    let env = MapEnv::new().with("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    assert_eq!(at(&env).unwrap(), "http://127.0.0.1:9");
    let env = env.with("AWS_ENDPOINT_URL_STS", "https://sts.example.test");
    assert_eq!(at(&env).unwrap(), "https://sts.example.test");
    let env = MapEnv::new().with("AWS_ENDPOINT_URL_STS", "http://sts.example.test");
    let err = at(&env).unwrap_err().to_string();
    assert!(
        err.contains("AWS_ENDPOINT_URL_STS") && err.contains("plain-HTTP"),
        "{err}"
    );
}

#[test]
fn throttling_and_outages_are_retried_and_refusals_are_not() {
    let (clock, _now) = manual_clock(T0);
    let server = sts(&clock, &[(ROLE, None)]);
    server.set_web_tokens(&["tok"]);
    let (dir, env) = home("", "");
    let token_file = dir.join("token");
    std::fs::write(&token_file, "tok").unwrap();
    let env = env
        .with("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap())
        .with("AWS_ROLE_ARN", ROLE)
        .with("AWS_ENDPOINT_URL_STS", &server.url);
    let p = provider(&env, None, &clock).unwrap();
    server.fail_next(&[(400, "Throttling"), (503, "ServiceUnavailable")]);
    p.credentials().unwrap();
    let outcomes: Vec<_> = server.calls().into_iter().map(|c| c.outcome).collect();
    assert_eq!(outcomes, ["Throttling", "ServiceUnavailable", "ok"]);

    let p = provider(&env, None, &clock).unwrap();
    server.fail_next(&[(403, "AccessDenied")]);
    let err = p.credentials().unwrap_err().to_string();
    assert!(err.contains("HTTP 403 AccessDenied"), "{err}");
    assert_eq!(server.calls().len(), 4, "a refusal is not retried");
}
