//! The EC2 instance role over IMDSv2: a session token, the role name, then the role's
//! credentials; "no metadata service here" is "none found", not a failure.

use std::fmt;
use std::io::Read;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::chain::nothing_found;
use super::{Credentials, Provider};
use crate::error::{Error, Result};

/// The default instance metadata endpoint (IPv4), as the AWS SDKs use it.
pub const IMDS_DEFAULT_ENDPOINT: &str = "http://169.254.169.254";

/// An EC2 instance role's credentials over IMDSv2 ("Retrieve security credentials from
/// instance metadata", Amazon EC2 User Guide).
///
/// When the metadata service cannot be reached, or the instance has no role, this is "no
/// credentials found", and the error lists what the chain tried before it.
#[derive(Debug, Clone)]
pub struct Imds {
    endpoint: String,
    tried: Vec<String>,
}

/// The steps of an IMDSv2 credentials fetch that can say "not here" rather than "broken".
enum ImdsOutcome {
    Found(Credentials),
    NotFound(String),
}

impl Imds {
    /// The provider for the metadata service at `endpoint` (`scheme://host[:port]`);
    /// `tried` lists the sources tried before it, for the "nothing found" message.
    pub fn new(endpoint: impl Into<String>, tried: Vec<String>) -> Imds {
        Imds {
            endpoint: endpoint.into().trim_end_matches('/').to_string(),
            tried,
        }
    }

    fn fetch(&self) -> Result<ImdsOutcome> {
        // reqwest with rustls-no-provider panics without a process-wide crypto provider,
        // even for plain HTTP; installing ring twice is harmless (the second call fails).
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Short timeouts: off EC2 nothing answers at 169.254.169.254 and a laptop must not
        // hang. No proxy: the metadata service is link-local and a proxy cannot reach it.
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(1))
            .timeout(Duration::from_secs(2))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| self.fail(format_args!("could not set up HTTP: {e}")))?;

        let token_url = format!("{}/latest/api/token", self.endpoint);
        let resp = match client
            .put(&token_url)
            .header("X-aws-ec2-metadata-token-ttl-seconds", "21600")
            .send()
        {
            Ok(r) => r,
            Err(e) => return Ok(ImdsOutcome::NotFound(format!("unreachable ({e})"))),
        };
        if !resp.status().is_success() {
            return Ok(ImdsOutcome::NotFound(format!(
                "no IMDSv2 token (HTTP {})",
                resp.status().as_u16()
            )));
        }
        let token = body_text(resp)
            .map_err(|e| self.fail(e))?
            .trim()
            .to_string();

        let list_url = format!(
            "{}/latest/meta-data/iam/security-credentials/",
            self.endpoint
        );
        let resp = client
            .get(&list_url)
            .header("X-aws-ec2-metadata-token", &token)
            .send()
            .map_err(|e| self.fail(format_args!("listing the instance role: {e}")))?;
        if resp.status().as_u16() == 404 {
            return Ok(ImdsOutcome::NotFound(
                "the instance has no IAM role attached".to_string(),
            ));
        }
        if !resp.status().is_success() {
            return Err(self.fail(format_args!(
                "listing the instance role: HTTP {}",
                resp.status().as_u16()
            )));
        }
        let list = body_text(resp).map_err(|e| self.fail(e))?;
        let Some(role) = list.lines().map(str::trim).find(|l| !l.is_empty()) else {
            return Ok(ImdsOutcome::NotFound(
                "the instance has no IAM role attached".to_string(),
            ));
        };
        // IAM role names are [\w+=,.@-]+; anything else would change the URL's meaning.
        if !role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
        {
            return Err(self.fail("returned an invalid role name"));
        }

        let resp = client
            .get(format!("{list_url}{role}"))
            .header("X-aws-ec2-metadata-token", &token)
            .send()
            .map_err(|e| self.fail(format_args!("fetching role '{role}': {e}")))?;
        if !resp.status().is_success() {
            return Err(self.fail(format_args!(
                "fetching role '{role}': HTTP {}",
                resp.status().as_u16()
            )));
        }
        let body = body_text(resp).map_err(|e| self.fail(e))?;
        let value: serde_json::Value = serde_json::from_str(&body)
            .map_err(|_| self.fail(format_args!("role '{role}': the answer is not JSON")))?;
        let field = |name: &str| value.get(name).and_then(|v| v.as_str());
        if let Some(code) = field("Code").filter(|c| *c != "Success") {
            return Err(self.fail(format_args!("role '{role}': {code}")));
        }
        let (Some(id), Some(secret)) = (field("AccessKeyId"), field("SecretAccessKey")) else {
            return Err(self.fail(format_args!(
                "role '{role}': the answer has no AccessKeyId and SecretAccessKey"
            )));
        };
        let expiration = match field("Expiration") {
            None => None,
            Some(s) => Some(OffsetDateTime::parse(s, &Rfc3339).map_err(|_| {
                self.fail(format_args!(
                    "role '{role}': Expiration is not an RFC 3339 time"
                ))
            })?),
        };
        Ok(ImdsOutcome::Found(Credentials::new(
            id,
            secret,
            field("Token").map(str::to_string),
            expiration,
        )))
    }

    fn fail(&self, why: impl fmt::Display) -> Error {
        Error::Credentials(format!("EC2 instance metadata at {}: {why}", self.endpoint))
    }
}

/// A response body as text, capped: metadata answers are small, and a misbehaving
/// endpoint must not fill memory.
fn body_text(resp: reqwest::blocking::Response) -> std::result::Result<String, String> {
    let mut text = String::new();
    resp.take(64 * 1024)
        .read_to_string(&mut text)
        .map_err(|e| format!("reading the answer: {e}"))?;
    Ok(text)
}

impl Provider for Imds {
    fn credentials(&self) -> Result<Credentials> {
        match self.fetch()? {
            ImdsOutcome::Found(c) => Ok(c),
            ImdsOutcome::NotFound(why) => {
                let mut tried = self.tried.clone();
                tried.push(format!("EC2 instance metadata at {}: {why}", self.endpoint));
                Err(nothing_found(&tried))
            }
        }
    }

    fn describe(&self) -> String {
        format!("EC2 instance role (IMDSv2 at {})", self.endpoint)
    }
}
