//! The container credentials provider of ECS tasks, AWS Batch jobs and EKS Pod Identity:
//! a GET to the URI the environment names, with the authorization token when one is given
//! ("Container credential provider", AWS SDKs and Tools Reference Guide).
//!
//! `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is resolved against `http://169.254.170.2`;
//! otherwise `AWS_CONTAINER_CREDENTIALS_FULL_URI` is used, over plain HTTP only to the
//! hosts the SDKs allow (loopback, the ECS and EKS agent addresses), else it must be
//! https. The token comes from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (re-read at each
//! fetch, as EKS rotates it) or `AWS_CONTAINER_AUTHORIZATION_TOKEN`. Neither the token nor
//! the answer is ever put in a message.

use std::fmt;
use std::io::Read;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Credentials, Provider};
use crate::config::{Env, env_var};
use crate::error::{Error, Result};

/// Where a relative URI is served: the ECS agent's link-local address.
pub const CONTAINER_RELATIVE_BASE: &str = "http://169.254.170.2";

/// The hosts a plain-HTTP full URI may name besides loopback: the ECS agent and the EKS
/// Pod Identity agent (IPv4 and IPv6).
const ALLOWED_HTTP_HOSTS: [&str; 3] = ["169.254.170.2", "169.254.170.23", "fd00:ec2::23"];

/// Where the authorization token comes from.
#[derive(Clone)]
enum Token {
    None,
    Value(String),
    File(PathBuf),
}

/// Credentials from the container credentials endpoint.
#[derive(Clone)]
pub struct Container {
    uri: String,
    /// Which variable named the URI, for messages.
    source: &'static str,
    token: Token,
}

impl fmt::Debug for Container {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Container")
            .field("uri", &self.uri)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl Container {
    /// The provider the environment configures, or `None` when neither URI variable is
    /// set. A full URI to a host the SDKs do not allow is an error.
    pub fn from_env(env: &dyn Env) -> Result<Option<Container>> {
        Container::from_env_at(env, CONTAINER_RELATIVE_BASE)
    }

    /// As [`Container::from_env`], resolving a relative URI against `base` instead of
    /// `http://169.254.170.2` (for tests, which serve it on loopback).
    pub fn from_env_at(env: &dyn Env, base: &str) -> Result<Option<Container>> {
        let (uri, source) =
            if let Some(rel) = env_var(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
                let rel = rel.trim();
                if !rel.starts_with('/') {
                    return Err(Error::Credentials(format!(
                        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/' (got \
                         '{rel}')"
                    )));
                }
                (
                    format!("{}{rel}", base.trim_end_matches('/')),
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                )
            } else if let Some(full) = env_var(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI") {
                let full = full.trim().to_string();
                check_full_uri(&full)?;
                (full, "AWS_CONTAINER_CREDENTIALS_FULL_URI")
            } else {
                return Ok(None);
            };
        // The file wins over the value ("Container credential provider": the file is
        // how EKS hands over a token it rotates).
        let token = if let Some(path) = env_var(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            Token::File(PathBuf::from(path.trim()))
        } else if let Some(value) = env_var(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN") {
            Token::Value(value)
        } else {
            Token::None
        };
        Ok(Some(Container { uri, source, token }))
    }

    fn fail(&self, why: impl fmt::Display) -> Error {
        Error::Credentials(format!(
            "container credentials at {} ({}): {why}",
            self.uri, self.source
        ))
    }

    /// The token to send now, read afresh from its file if it has one.
    fn token(&self) -> Result<Option<String>> {
        let value = match &self.token {
            Token::None => return Ok(None),
            Token::Value(v) => v.clone(),
            Token::File(path) => std::fs::read_to_string(path).map_err(|e| {
                Error::Credentials(format!(
                    "reading AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {}: {e}",
                    path.display()
                ))
            })?,
        };
        let value = value.trim();
        // A header value cannot span lines; the SDKs refuse such a token rather than send
        // a request the agent would misread.
        if value.is_empty() || value.contains(['\r', '\n']) {
            return Err(self.fail("the authorization token is empty or spans lines"));
        }
        Ok(Some(value.to_string()))
    }
}

/// A full URI's host must be loopback or an agent address over plain HTTP; any host is
/// allowed over https.
fn check_full_uri(uri: &str) -> Result<()> {
    let bad = |why: String| {
        Error::Credentials(format!("AWS_CONTAINER_CREDENTIALS_FULL_URI '{uri}': {why}"))
    };
    let url = reqwest::Url::parse(uri).map_err(|e| bad(format!("not a URL ({e})")))?;
    match url.scheme() {
        "https" => return Ok(()),
        "http" => {}
        other => {
            return Err(bad(format!(
                "the scheme must be http or https, not {other}"
            )));
        }
    }
    let host = url.host_str().unwrap_or("");
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let allowed = bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| {
            ip.is_loopback()
                || ALLOWED_HTTP_HOSTS
                    .iter()
                    .any(|a| a.parse::<IpAddr>().is_ok_and(|a| a == ip))
        });
    if allowed {
        Ok(())
    } else {
        Err(bad(format!(
            "host '{host}' is not allowed over plain HTTP; the AWS SDKs accept only \
             loopback, 169.254.170.2, 169.254.170.23 or fd00:ec2::23 there, or an https URL"
        )))
    }
}

impl Provider for Container {
    fn credentials(&self) -> Result<Credentials> {
        let token = self.token()?;
        // reqwest with rustls-no-provider needs a process-wide crypto provider even for
        // plain HTTP; installing it twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // The agent is local: short timeouts, no proxy, no redirects.
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| self.fail(format_args!("could not set up HTTP: {e}")))?;
        let mut rb = client.get(&self.uri);
        if let Some(t) = &token {
            rb = rb.header("Authorization", t);
        }
        let resp = rb
            .send()
            .map_err(|e| self.fail(format_args!("unreachable ({e})")))?;
        let status = resp.status().as_u16();
        if status != 200 {
            // Not the body: an agent's error text is not ours to echo.
            return Err(self.fail(format_args!("HTTP {status}")));
        }
        let mut body = String::new();
        resp.take(64 * 1024)
            .read_to_string(&mut body)
            .map_err(|e| self.fail(format_args!("reading the answer: {e}")))?;
        let value: serde_json::Value =
            serde_json::from_str(&body).map_err(|_| self.fail("the answer is not JSON"))?;
        let field = |name: &str| value.get(name).and_then(|v| v.as_str());
        let (Some(id), Some(secret)) = (field("AccessKeyId"), field("SecretAccessKey")) else {
            return Err(self.fail("the answer has no AccessKeyId and SecretAccessKey"));
        };
        let expiration = match field("Expiration") {
            None => None,
            Some(s) => Some(
                OffsetDateTime::parse(s, &Rfc3339)
                    .map_err(|_| self.fail("Expiration is not an RFC 3339 time"))?,
            ),
        };
        Ok(Credentials::new(
            id,
            secret,
            field("Token").map(str::to_string),
            expiration,
        ))
    }

    fn describe(&self) -> String {
        format!("container credentials at {} ({})", self.uri, self.source)
    }
}
