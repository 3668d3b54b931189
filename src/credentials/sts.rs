//! AWS STS, the two calls the role providers make: `AssumeRole` (signed with SigV4 by the
//! source credentials) and `AssumeRoleWithWebIdentity` (unsigned: the web identity token
//! is the proof). Query-protocol requests (`POST /`, form body), XML answers read with
//! roxmltree ("AssumeRole" and "AssumeRoleWithWebIdentity", AWS STS API Reference).
//!
//! Errors never carry the token, the secret or the answer's body: only the STS error code
//! and message, with any echo of the token scrubbed.

use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Credentials;
use crate::aws::{Backoff, Next, RetryPolicy, network_fault, seed};
use crate::config::{Endpoint, Env, Profile, env_var};
use crate::error::{Error, Fault, NetworkFault, Result, ServiceError};
use crate::sigv4;

/// The STS API version every request names.
const VERSION: &str = "2011-06-15";

/// How a call is retried when STS is throttling, briefly down or unreachable: three
/// attempts, the transport's backoff with equal jitter (0.4-0.8 s, then 0.8-1.6 s):
/// enough for a throttled or restarting endpoint, short against the minutes the old
/// credentials still have.
const RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 3,
    base_delay: Duration::from_millis(800),
    max_delay: Duration::from_millis(1600),
};

/// STS's own "try again" beyond the shared throttling codes: the identity provider
/// could not be reached ("AssumeRoleWithWebIdentity", Errors, AWS STS API Reference).
const IDP_UNREACHABLE: &str = "IDPCommunicationError";

/// Where STS calls go and how they are sent.
pub struct Sts {
    endpoint: Endpoint,
    region: String,
    ca_bundle: Option<PathBuf>,
    // Built on first use: loading the system's roots is not free, and a chain that never
    // reaches an STS provider should not pay for it.
    http: OnceLock<reqwest::blocking::Client>,
    backoff: Backoff,
}

impl fmt::Debug for Sts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sts")
            .field("endpoint", &self.endpoint.url)
            .field("region", &self.region)
            .finish()
    }
}

/// One `AssumeRole` / `AssumeRoleWithWebIdentity` request's parameters.
#[derive(Clone, Default)]
pub(super) struct RoleRequest {
    /// `RoleArn`.
    pub role_arn: String,
    /// `RoleSessionName`.
    pub role_session_name: String,
    /// `DurationSeconds`, when the profile sets `duration_seconds`.
    pub duration_seconds: Option<u32>,
    /// `ExternalId` (AssumeRole only).
    pub external_id: Option<String>,
}

impl Sts {
    /// STS for `region`, at the endpoint the environment and `profile` name, first that
    /// is set wins: `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, `endpoint_url` under `sts`
    /// in the profile's `services` section, the profile's `endpoint_url`, else the
    /// regional endpoint `https://sts.REGION.amazonaws.com` ("Service-specific endpoints",
    /// AWS SDKs and Tools Reference Guide). Plain HTTP only to loopback.
    pub fn resolve(
        region: &str,
        env: &dyn Env,
        profile: &Profile,
        ca_bundle: Option<PathBuf>,
    ) -> Result<Sts> {
        let sources = [
            (
                env_var(env, "AWS_ENDPOINT_URL_STS"),
                "AWS_ENDPOINT_URL_STS".to_string(),
            ),
            (
                env_var(env, "AWS_ENDPOINT_URL"),
                "AWS_ENDPOINT_URL".to_string(),
            ),
            (
                profile
                    .service_setting("sts", "endpoint_url")
                    .map(str::to_string),
                format!(
                    "sts endpoint_url in the services of profile '{}'",
                    profile.name
                ),
            ),
            (
                profile.get("endpoint_url").map(str::to_string),
                format!("endpoint_url in profile '{}'", profile.name),
            ),
        ];
        let endpoint = match sources.into_iter().find_map(|(v, s)| v.map(|v| (v, s))) {
            Some((url, source)) => Endpoint::parse(url.trim(), &source, false)?,
            None => Endpoint::regional("sts", region),
        };
        // The global endpoint signs for us-east-1 whatever the client's region
        // ("Manage AWS STS in an AWS Region", IAM User Guide).
        let region = if endpoint.host == "sts.amazonaws.com" {
            "us-east-1"
        } else {
            region
        };
        Ok(Sts {
            endpoint,
            region: region.to_string(),
            ca_bundle,
            http: OnceLock::new(),
            backoff: Backoff::new(RETRY, seed()),
        })
    }

    /// The endpoint URL, for descriptions and messages.
    pub fn url(&self) -> &str {
        &self.endpoint.url
    }

    fn http(&self) -> Result<&reqwest::blocking::Client> {
        if let Some(c) = self.http.get() {
            return Ok(c);
        }
        let tls = crate::aws::tls::client_config(self.ca_bundle.as_deref())?;
        let client = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls)
            .user_agent(concat!("glacier-upload/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .map_err(|e| self.fail("", format_args!("could not set up HTTP: {e}")))?;
        Ok(self.http.get_or_init(|| client))
    }

    /// `AssumeRole`, signed with `source` at time `now`.
    pub(super) fn assume_role(
        &self,
        req: &RoleRequest,
        source: &Credentials,
        now: OffsetDateTime,
    ) -> Result<Credentials> {
        let mut params = vec![
            ("Action", "AssumeRole"),
            ("Version", VERSION),
            ("RoleArn", req.role_arn.as_str()),
            ("RoleSessionName", req.role_session_name.as_str()),
        ];
        let duration = req.duration_seconds.map(|d| d.to_string());
        if let Some(d) = &duration {
            params.push(("DurationSeconds", d));
        }
        if let Some(id) = &req.external_id {
            params.push(("ExternalId", id));
        }
        let body = form(&params);
        self.call("AssumeRole", &body, None, |headers| {
            self.sign(headers, &body, source, now)
        })
    }

    /// `AssumeRoleWithWebIdentity` with `token` (unsigned).
    pub(super) fn assume_role_with_web_identity(
        &self,
        req: &RoleRequest,
        token: &str,
    ) -> Result<Credentials> {
        let mut params = vec![
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", VERSION),
            ("RoleArn", req.role_arn.as_str()),
            ("RoleSessionName", req.role_session_name.as_str()),
            ("WebIdentityToken", token),
        ];
        let duration = req.duration_seconds.map(|d| d.to_string());
        if let Some(d) = &duration {
            params.push(("DurationSeconds", d));
        }
        let body = form(&params);
        self.call("AssumeRoleWithWebIdentity", &body, Some(token), |_| {})
    }

    /// Adds `x-amz-date`, the session token and `Authorization` to `headers`.
    fn sign(
        &self,
        headers: &mut Vec<(&'static str, String)>,
        body: &str,
        source: &Credentials,
        now: OffsetDateTime,
    ) {
        let date = sigv4::amz_date(now);
        headers.push(("x-amz-date", date.clone()));
        if let Some(t) = source.session_token() {
            headers.push(("x-amz-security-token", t.to_string()));
        }
        let signed: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let payload = sigv4::sha256_hex(body.as_bytes());
        let req = sigv4::Request {
            method: "POST",
            path: "/",
            query: &[],
            headers: &signed,
            payload_sha256: &payload,
        };
        let auth = sigv4::sign(
            &req,
            &source.access_key_id,
            source.secret_access_key(),
            &date,
            &self.region,
            "sts",
        );
        headers.push(("authorization", auth));
    }

    /// Sends one action, retrying what [`worth_retrying`] says is worth it under the
    /// transport's backoff ([`RETRY`]); `secret` is scrubbed from anything STS says back.
    fn call(
        &self,
        action: &str,
        body: &str,
        secret: Option<&str>,
        sign: impl Fn(&mut Vec<(&'static str, String)>),
    ) -> Result<Credentials> {
        let http = self.http()?;
        let gave_up = match self
            .backoff
            .run(|_| self.once(http, body, &sign), worth_retrying)
        {
            Ok(creds) => return Ok(creds),
            Err(g) => g.error,
        };
        let why = match secret {
            Some(s) if !s.is_empty() => gave_up.why.replace(s, "<redacted>"),
            _ => gave_up.why,
        };
        Err(self.fail(action, why))
    }

    /// One attempt: the credentials, or why not.
    fn once(
        &self,
        http: &reqwest::blocking::Client,
        body: &str,
        sign: &impl Fn(&mut Vec<(&'static str, String)>),
    ) -> std::result::Result<Credentials, Attempt> {
        let mut headers = vec![
            ("host", self.endpoint.host.clone()),
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8".to_string(),
            ),
        ];
        sign(&mut headers);
        let mut rb = http.post(format!("{}/", self.endpoint.url));
        // reqwest sets Host itself, from the URL, to the same value.
        for (k, v) in headers.iter().filter(|(k, _)| *k != "host") {
            rb = rb.header(*k, v);
        }
        let resp = rb.body(body.to_string()).send().map_err(|e| {
            let why = format!("unreachable ({e})");
            Attempt::network(network_fault(&e), e, why)
        })?;
        let status = resp.status().as_u16();
        let text = body_text(resp)?;
        if status == 200 {
            return parse_credentials(&text).map_err(|why| Attempt {
                error: Error::Credentials(why.clone()),
                why,
            });
        }
        let (code, message) = parse_error(&text);
        let why = format!("HTTP {status} {code}: {message}");
        let error = Error::Service(Box::new(ServiceError {
            context: format!("STS at {}", self.endpoint.url),
            status,
            code,
            message,
            request_id: None,
            hint: None,
        }));
        Err(Attempt { error, why })
    }

    fn fail(&self, action: &str, why: impl fmt::Display) -> Error {
        Error::Credentials(format!("STS {action} at {}: {why}", self.endpoint.url))
    }
}

/// The form body of a Query-protocol request.
fn form(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={}", sigv4::uri_encode(v, true)))
        .collect::<Vec<_>>()
        .join("&")
}

/// One failed attempt: the error, classified as the transport classifies its own, and
/// the words the message gives (which never carry the answer's body).
#[derive(Debug)]
struct Attempt {
    error: Error,
    why: String,
}

impl Attempt {
    /// A request that got no usable answer, of `kind`.
    fn network(
        kind: NetworkFault,
        e: impl std::error::Error + Send + Sync + 'static,
        why: String,
    ) -> Attempt {
        let error = Error::Transport {
            what: "STS".into(),
            source: Box::new(Fault {
                kind,
                error: Box::new(e),
            }),
        };
        Attempt { error, why }
    }
}

/// What a failed STS attempt calls for: another, after the backoff, for what the
/// transport retries (throttling, 5xx, request timeouts, no answer; not a refused
/// certificate) and for STS's [`IDP_UNREACHABLE`]; nothing else (a refusal, an answer
/// without credentials) gets better by asking again.
fn worth_retrying(a: &Attempt) -> Next {
    let idp = matches!(&a.error, Error::Service(s) if s.code == IDP_UNREACHABLE);
    if a.error.is_transient() || idp {
        Next::Later
    } else {
        Next::Stop
    }
}

/// A response body as text, capped: STS answers are a few KiB. A body cut short is an
/// answer lost on the way.
fn body_text(resp: reqwest::blocking::Response) -> std::result::Result<String, Attempt> {
    let mut text = String::new();
    resp.take(256 * 1024)
        .read_to_string(&mut text)
        .map_err(|e| {
            let why = format!("reading the answer: {e}");
            Attempt::network(NetworkFault::NoAnswer, e, why)
        })?;
    Ok(text)
}

/// The text of the first element named `name` under `node`.
fn child_text<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> Option<&'a str> {
    node.descendants()
        .find(|n| n.is_element() && n.tag_name().name() == name)
        .and_then(|n| n.text())
        .map(str::trim)
}

/// The `Credentials` of an `AssumeRoleResponse` / `AssumeRoleWithWebIdentityResponse`.
pub(super) fn parse_credentials(xml: &str) -> std::result::Result<Credentials, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|_| "the answer is not XML".to_string())?;
    let creds = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "Credentials")
        .ok_or("the answer has no Credentials")?;
    let field = |name| child_text(creds, name);
    let (Some(id), Some(secret), Some(token)) = (
        field("AccessKeyId"),
        field("SecretAccessKey"),
        field("SessionToken"),
    ) else {
        return Err("the answer has no AccessKeyId, SecretAccessKey and SessionToken".to_string());
    };
    let expiration = field("Expiration")
        .and_then(|e| OffsetDateTime::parse(e, &Rfc3339).ok())
        .ok_or("the answer's Expiration is missing or not an ISO 8601 time")?;
    Ok(Credentials::new(
        id,
        secret,
        Some(token.to_string()),
        Some(expiration),
    ))
}

/// The `Code` and `Message` of an `ErrorResponse`, or placeholders when there is none.
fn parse_error(xml: &str) -> (String, String) {
    let Ok(doc) = roxmltree::Document::parse(xml) else {
        return ("(no error code)".into(), "the answer is not XML".into());
    };
    let root = doc.root();
    let code = child_text(root, "Code").unwrap_or("(no error code)");
    // STS messages name the role and the reason; cap them in case one runs long.
    let message: String = child_text(root, "Message")
        .unwrap_or("")
        .chars()
        .take(300)
        .collect();
    (code.to_string(), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, code: &str) -> Attempt {
        Attempt {
            error: Error::Service(Box::new(ServiceError {
                context: "STS".into(),
                status,
                code: code.into(),
                message: String::new(),
                request_id: None,
                hint: None,
            })),
            why: format!("HTTP {status} {code}"),
        }
    }

    fn unanswered(kind: NetworkFault) -> Attempt {
        let e = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        Attempt::network(kind, e, "unreachable".into())
    }

    #[test]
    fn sts_retries_what_the_transport_retries_and_an_unreachable_identity_provider() {
        for a in [
            answered(400, "Throttling"),
            answered(400, "ThrottlingException"),
            answered(400, IDP_UNREACHABLE),
            answered(500, "InternalFailure"),
            answered(503, "ServiceUnavailable"),
            unanswered(NetworkFault::Connect),
            unanswered(NetworkFault::NoAnswer),
        ] {
            assert_eq!(worth_retrying(&a), Next::Later, "{}", a.why);
        }
        for a in [
            answered(403, "AccessDenied"),
            answered(400, "InvalidIdentityToken"),
            answered(400, "ExpiredTokenException"),
            unanswered(NetworkFault::Certificate),
            Attempt {
                error: Error::Credentials("the answer has no Credentials".into()),
                why: String::new(),
            },
        ] {
            assert_eq!(worth_retrying(&a), Next::Stop, "{}", a.why);
        }
        assert_eq!(RETRY.max_attempts, 3, "as many attempts as before");
    }
}
