//! Loopback stand-ins for AWS STS and the container credentials endpoint, started by the
//! tests on 127.0.0.1:0, checking what the real ones check.
//!
//! STS ("AssumeRole", "AssumeRoleWithWebIdentity", AWS STS API Reference; "Signing AWS
//! API requests"): Query-protocol `POST /` with a form body; `AssumeRole` must carry a
//! SigV4 signature for service `sts` and this region that verifies (recomputed with the
//! crate's own signer over exactly what arrived) with a key this STS knows, a session
//! token matching a temporary key, and a date within 15 minutes of the server's clock;
//! `AssumeRoleWithWebIdentity` is unsigned and needs a currently valid token. Both refuse
//! a role they do not know, and `AssumeRole` an external ID that does not match. Answers
//! and errors are the XML the reference shows. Issued keys are remembered (so a role can
//! be the source of another) and can be shared with the mock Glacier.
//!
//! The container endpoint is in `container.rs`; `http.rs` is the little HTTP server both
//! run on.
//!
//! One knob no real service has: `lifetime`, the validity of issued credentials, may be
//! shorter than STS's 15-minute minimum so that a refresh happens within a test.

pub mod container;
pub mod http;

pub use container::ContainerServer;

use std::sync::{Arc, Mutex};

use glacier_upload::sigv4;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use http::{Handler, Request, Response};

/// A clock the servers read (shared with the chain under test where it matters).
pub type TestClock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Keys the mock Glacier accepts besides its own: (access key ID, secret, session token).
pub type KeyRing = Arc<Mutex<Vec<(String, String, String)>>>;

/// The real clock.
pub fn real_clock() -> TestClock {
    Arc::new(OffsetDateTime::now_utc)
}

/// A clock a test moves by hand, and the handle to move it.
pub fn manual_clock(start: &str) -> (TestClock, Arc<Mutex<OffsetDateTime>>) {
    let now = Arc::new(Mutex::new(
        OffsetDateTime::parse(start, &Rfc3339).expect("RFC 3339 start"),
    ));
    let read = Arc::clone(&now);
    (Arc::new(move || *read.lock().expect("clock lock")), now)
}

/// Credentials a server issued.
#[derive(Debug, Clone)]
pub struct Issued {
    pub access_key_id: String,
    pub secret: String,
    pub token: String,
    pub expiration: OffsetDateTime,
}

/// One STS call as the server saw it.
#[derive(Debug, Clone)]
pub struct Call {
    /// `Action`.
    pub action: String,
    /// The form parameters.
    pub params: Vec<(String, String)>,
    /// The signing key of an `AssumeRole`.
    pub access_key_id: Option<String>,
    /// `"ok"` or the error code sent.
    pub outcome: String,
}

impl Call {
    /// A form parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the loopback STS accepts.
pub struct StsConfig {
    /// The region signatures must be scoped to.
    pub region: String,
    pub clock: TestClock,
    /// Long-term keys it knows: (access key ID, secret).
    pub keys: Vec<(String, String)>,
    /// Role ARNs that exist, with the external ID each requires.
    pub roles: Vec<(String, Option<String>)>,
    /// Web identity tokens valid now.
    pub web_tokens: Vec<String>,
    /// Validity of issued credentials when the request names no DurationSeconds.
    pub lifetime: Duration,
    /// Where to also register issued keys (the mock Glacier's extra keys).
    pub keyring: Option<KeyRing>,
    /// Temporary keys another service issued that this STS accepts (a container's task
    /// role session, as IAM knows it).
    pub trusted: Option<KeyRing>,
}

impl StsConfig {
    /// Region us-east-1, the real clock, no keys, roles or tokens, one-hour credentials.
    pub fn new() -> StsConfig {
        StsConfig {
            region: "us-east-1".into(),
            clock: real_clock(),
            keys: Vec::new(),
            roles: Vec::new(),
            web_tokens: Vec::new(),
            lifetime: Duration::hours(1),
            keyring: None,
            trusted: None,
        }
    }
}

struct StsState {
    cfg: Mutex<StsConfig>,
    /// Errors to answer the next calls with, first first: (status, code).
    faults: Mutex<Vec<(u16, String)>>,
    issued: Mutex<Vec<Issued>>,
    calls: Mutex<Vec<Call>>,
}

/// A running loopback STS.
pub struct StsServer {
    pub url: String,
    state: Arc<StsState>,
}

impl StsServer {
    /// Starts it on 127.0.0.1:0.
    pub fn start(cfg: StsConfig) -> StsServer {
        let state = Arc::new(StsState {
            cfg: Mutex::new(cfg),
            faults: Mutex::new(Vec::new()),
            issued: Mutex::new(Vec::new()),
            calls: Mutex::new(Vec::new()),
        });
        let s = Arc::clone(&state);
        let handler: Handler = Arc::new(move |req| sts_answer(&s, req));
        StsServer {
            url: http::serve(handler),
            state,
        }
    }

    /// The calls so far.
    pub fn calls(&self) -> Vec<Call> {
        self.state.calls.lock().expect("calls").clone()
    }

    /// The credentials issued so far.
    pub fn issued(&self) -> Vec<Issued> {
        self.state.issued.lock().expect("issued").clone()
    }

    /// Answers the next calls with these errors, in order, before checking anything
    /// (throttling, an outage).
    pub fn fail_next(&self, faults: &[(u16, &str)]) {
        *self.state.faults.lock().expect("faults") =
            faults.iter().map(|(s, c)| (*s, c.to_string())).collect();
    }

    /// Replaces the valid web identity tokens (a rotation revokes the old one).
    pub fn set_web_tokens(&self, tokens: &[&str]) {
        self.state.cfg.lock().expect("cfg").web_tokens =
            tokens.iter().map(|t| t.to_string()).collect();
    }
}

fn xml_error(status: u16, code: &str, message: &str) -> Response {
    Response {
        status,
        content_type: "text/xml",
        body: format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    \
             <Type>Sender</Type>\n    <Code>{code}</Code>\n    <Message>{message}</Message>\n  \
             </Error>\n  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n\
             </ErrorResponse>"
        ),
    }
}

fn sts_answer(state: &StsState, req: &Request) -> Response {
    let params = http::form(&req.body);
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let action = get("Action").unwrap_or_default();
    let mut call = Call {
        action: action.clone(),
        params: params.clone(),
        access_key_id: None,
        outcome: "ok".into(),
    };
    let fault = {
        let mut faults = state.faults.lock().expect("faults");
        (!faults.is_empty()).then(|| faults.remove(0))
    };
    let result = match fault {
        Some((status, code)) => Err(xml_error(status, &code, "Rate exceeded")),
        None => check_sts(state, req, &get, &mut call),
    };
    let resp = match result {
        Ok(issued) => Response {
            status: 200,
            content_type: "text/xml",
            body: format!(
                "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  \
                     <{action}Result>\n    <Credentials>\n      \
                     <SessionToken>{}</SessionToken>\n      \
                     <SecretAccessKey>{}</SecretAccessKey>\n      \
                     <Expiration>{}</Expiration>\n      \
                     <AccessKeyId>{}</AccessKeyId>\n    </Credentials>\n    \
                     <AssumedRoleUser>\n      <Arn>{}</Arn>\n      \
                     <AssumedRoleId>AROA3XFRBF535PLBIFPI4:s3-access-example</AssumedRoleId>\n    \
                     </AssumedRoleUser>\n  </{action}Result>\n  <ResponseMetadata>\n    \
                     <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n  \
                     </ResponseMetadata>\n</{action}Response>",
                issued.token,
                issued.secret,
                issued
                    .expiration
                    .format(&Rfc3339)
                    .expect("format expiration"),
                issued.access_key_id,
                get("RoleArn").unwrap_or_default(),
            ),
        },
        Err(e) => {
            call.outcome = e
                .body
                .split("<Code>")
                .nth(1)
                .and_then(|s| s.split("</Code>").next())
                .unwrap_or("?")
                .to_string();
            e
        }
    };
    state.calls.lock().expect("calls").push(call);
    resp
}

fn check_sts(
    state: &StsState,
    req: &Request,
    get: &dyn Fn(&str) -> Option<String>,
    call: &mut Call,
) -> Result<Issued, Response> {
    if req.method != "POST" || req.target != "/" {
        return Err(xml_error(400, "InvalidAction", "Expected POST /"));
    }
    if get("Version").as_deref() != Some("2011-06-15") {
        return Err(xml_error(
            400,
            "InvalidParameterValue",
            "Version must be 2011-06-15",
        ));
    }
    let cfg = state.cfg.lock().expect("cfg");
    let role = get("RoleArn").unwrap_or_default();
    let session = get("RoleSessionName").unwrap_or_default();
    let session_ok = (2..=64).contains(&session.len())
        && session
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !session_ok {
        return Err(xml_error(400, "ValidationError", "Invalid RoleSessionName"));
    }
    let lifetime = match get("DurationSeconds") {
        None => cfg.lifetime,
        Some(d) => match d.parse::<i64>() {
            Ok(d) if (900..=43_200).contains(&d) => Duration::seconds(d),
            _ => return Err(xml_error(400, "ValidationError", "Invalid DurationSeconds")),
        },
    };
    match get("Action").as_deref() {
        Some("AssumeRoleWithWebIdentity") => {
            if req.header("authorization").is_some() {
                return Err(xml_error(400, "InvalidAction", "This action is unsigned"));
            }
            let token = get("WebIdentityToken").unwrap_or_default();
            if !cfg.web_tokens.contains(&token) {
                return Err(xml_error(
                    400,
                    "InvalidIdentityToken",
                    "The web identity token that was passed is expired or is not valid.",
                ));
            }
        }
        Some("AssumeRole") => {
            let (key, secret, token) = known_key(state, &cfg, req, call)?;
            verify_signature(req, &cfg, &key, &secret, token.as_deref())?;
            let want = cfg
                .roles
                .iter()
                .find(|(r, _)| *r == role)
                .and_then(|(_, e)| e.clone());
            if want.is_some() && want != get("ExternalId") {
                return Err(xml_error(
                    403,
                    "AccessDenied",
                    "Not authorized to perform sts:AssumeRole",
                ));
            }
        }
        _ => return Err(xml_error(400, "InvalidAction", "Could not find operation")),
    }
    if !cfg.roles.iter().any(|(r, _)| *r == role) {
        return Err(xml_error(
            403,
            "AccessDenied",
            "Not authorized to perform sts:AssumeRole",
        ));
    }
    Ok(issue(state, &cfg, lifetime))
}

/// New temporary credentials valid for `lifetime`, remembered (and shared).
fn issue(state: &StsState, cfg: &StsConfig, lifetime: Duration) -> Issued {
    let mut issued = state.issued.lock().expect("issued");
    let n = issued.len() + 1;
    let new = Issued {
        access_key_id: format!("ASIASTSEXAMPLE{n:04}"),
        secret: format!("sts/secret/{n:04}/wJalrXUtnFEMIK7MDENGbPxRfiCY"),
        token: format!("FwoGZXIvYXdzEXAMPLE-sts-token-{n:04}"),
        expiration: whole_seconds((cfg.clock)() + lifetime),
    };
    issued.push(new.clone());
    if let Some(ring) = &cfg.keyring {
        ring.lock().expect("keyring").push((
            new.access_key_id.clone(),
            new.secret.clone(),
            new.token.clone(),
        ));
    }
    new
}

/// The signing key: a long-term key, or a key this STS issued (with its token).
fn known_key(
    state: &StsState,
    cfg: &StsConfig,
    req: &Request,
    call: &mut Call,
) -> Result<(String, String, Option<String>), Response> {
    let auth = req.header("authorization").ok_or_else(|| {
        xml_error(
            400,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        )
    })?;
    let parsed = sigv4::parse_authorization(auth)
        .map_err(|_| xml_error(400, "IncompleteSignature", "Invalid Authorization header"))?;
    call.access_key_id = Some(parsed.access_key_id.clone());
    if let Some((k, s)) = cfg.keys.iter().find(|(k, _)| *k == parsed.access_key_id) {
        return Ok((k.clone(), s.clone(), None));
    }
    let trusted = cfg.trusted.as_ref().and_then(|ring| {
        let ring = ring.lock().expect("trusted");
        ring.iter()
            .find(|(k, _, _)| *k == parsed.access_key_id)
            .cloned()
    });
    if let Some((k, s, t)) = trusted {
        return Ok((k, s, Some(t)));
    }
    let issued = state.issued.lock().expect("issued");
    match issued
        .iter()
        .find(|i| i.access_key_id == parsed.access_key_id)
    {
        Some(i) if (cfg.clock)() < i.expiration => Ok((
            i.access_key_id.clone(),
            i.secret.clone(),
            Some(i.token.clone()),
        )),
        Some(_) => Err(xml_error(
            400,
            "ExpiredToken",
            "The security token included in the request is expired",
        )),
        None => Err(xml_error(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )),
    }
}

/// Recomputes the signature from the request as received, with the crate's signer.
fn verify_signature(
    req: &Request,
    cfg: &StsConfig,
    key: &str,
    secret: &str,
    token: Option<&str>,
) -> Result<(), Response> {
    let denied = |m: &str| xml_error(403, "SignatureDoesNotMatch", m);
    let auth = req.header("authorization").unwrap_or_default();
    let parsed = sigv4::parse_authorization(auth).map_err(|_| denied("bad header"))?;
    if parsed.service != "sts" || parsed.region != cfg.region {
        return Err(denied(
            "Credential should be scoped to a valid region and service sts.",
        ));
    }
    let date = req
        .header("x-amz-date")
        .ok_or_else(|| denied("no x-amz-date"))?;
    let format = time::format_description::parse("[year][month][day]T[hour][minute][second]Z")
        .expect("valid format description");
    let when = time::PrimitiveDateTime::parse(date, &format)
        .map_err(|_| denied("x-amz-date is not YYYYMMDDTHHMMSSZ"))?
        .assume_utc();
    if (when - (cfg.clock)()).abs() > Duration::minutes(15) {
        return Err(denied("Signature expired or not yet current"));
    }
    if parsed.date != date[..8] {
        return Err(denied("Date in Credential scope does not match x-amz-date"));
    }
    match (token, req.header("x-amz-security-token")) {
        (None, None) => {}
        (Some(want), Some(got)) if want == got => {
            if !parsed
                .signed_headers
                .iter()
                .any(|h| h == "x-amz-security-token")
            {
                return Err(denied("x-amz-security-token must be signed"));
            }
        }
        _ => {
            return Err(xml_error(
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            ));
        }
    }
    for must in ["host", "x-amz-date"] {
        if !parsed.signed_headers.iter().any(|h| h == must) {
            return Err(denied("host and x-amz-date must be signed"));
        }
    }
    let headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .filter(|(k, _)| {
            parsed
                .signed_headers
                .iter()
                .any(|s| s.eq_ignore_ascii_case(k))
        })
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let payload = sigv4::sha256_hex(req.body.as_bytes());
    let r = sigv4::Request {
        method: &req.method,
        path: &req.target,
        query: &[],
        headers: &headers,
        payload_sha256: &payload,
    };
    let expected = sigv4::sign(&r, key, secret, date, &cfg.region, "sts");
    let expected = sigv4::parse_authorization(&expected).map_err(|_| denied("own header"))?;
    if expected.signature != parsed.signature {
        return Err(denied(
            "The request signature we calculated does not match the signature you provided.",
        ));
    }
    Ok(())
}

/// `t` without its fraction of a second, as the services print expirations.
pub(crate) fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).expect("0 is a valid nanosecond")
}

// ---- Helpers for the credentials tests ----

use glacier_upload::config::{MapEnv, Settings, resolve};
use glacier_upload::credentials::{ChainOptions, Provider, chain_with};

use crate::support::TempDir;

/// A home with these config and credentials files, region us-east-1, instance metadata
/// disabled (tests never reach for 169.254.169.254).
pub fn home(config: &str, credentials: &str) -> (TempDir, MapEnv) {
    let dir = TempDir::new("creds");
    std::fs::create_dir_all(dir.join(".aws")).expect("create .aws");
    std::fs::write(dir.join(".aws/config"), config).expect("write config");
    std::fs::write(dir.join(".aws/credentials"), credentials).expect("write credentials");
    let env = MapEnv::new()
        .with_home(dir.path())
        .with("AWS_REGION", "us-east-1")
        .with("AWS_EC2_METADATA_DISABLED", "true");
    (dir, env)
}

/// The chain for `env` (and `--profile profile`) with these options, or its error text.
pub fn provider_with(
    env: &MapEnv,
    profile: Option<&str>,
    opts: ChainOptions,
) -> Result<Box<dyn Provider>, String> {
    let settings = Settings {
        profile: profile.map(str::to_string),
        ..Settings::default()
    };
    let resolved = resolve(&settings, env).map_err(|e| e.to_string())?;
    chain_with(&resolved, env, opts).map_err(|e| e.to_string())
}

/// The chain for `env` (and `--profile profile`) on `clock`, or its error text.
pub fn provider(
    env: &MapEnv,
    profile: Option<&str>,
    clock: &TestClock,
) -> Result<Box<dyn Provider>, String> {
    let opts = ChainOptions {
        clock: Some(Arc::clone(clock)),
        ..ChainOptions::default()
    };
    provider_with(env, profile, opts)
}
