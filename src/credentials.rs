//! AWS credentials and the chain of places they come from.
//!
//! This module owns [`Credentials`] (which never shows its secret, `Debug` included), the
//! sources the AWS CLI users expect (environment variables, a profile's static keys, a
//! profile's `credential_process`, an EC2 instance role over IMDSv2), the order they are
//! tried in ([`chain`]), and [`Cached`], which refreshes temporary credentials before
//! they expire so a long upload keeps signing with valid keys. It reads configuration only
//! through [`crate::config::Resolved`] and [`Env`]; it never prints, and its errors never
//! carry a secret or a credential process's standard output.

use std::fmt;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::{Env, Profile, Resolved, env_var, show_path};
use crate::error::{Error, Result};

/// AWS credentials. `Debug` never shows the secret or the token; there is no `Display`.
#[derive(Clone)]
pub struct Credentials {
    /// The access key ID (not a secret; it appears in every `Authorization` header).
    pub access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    /// When temporary credentials stop working; `None` for long-term keys.
    pub expiration: Option<OffsetDateTime>,
}

impl Credentials {
    /// Credentials from their parts.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
        expiration: Option<OffsetDateTime>,
    ) -> Credentials {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token,
            expiration,
        }
    }

    /// The secret access key, for the signer only.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    /// The session token of temporary credentials (sent as `x-amz-security-token`).
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// A source of credentials.
pub trait Provider: Send + Sync {
    /// Credentials to sign with now.
    fn credentials(&self) -> Result<Credentials>;
    /// Where they come from, for `--verbose` and messages, e.g. `environment variables`.
    fn describe(&self) -> String;
}

/// Credentials known up front: environment variables or a profile's static keys.
#[derive(Debug, Clone)]
pub struct Static {
    credentials: Credentials,
    description: String,
}

impl Static {
    /// A provider that always returns `credentials`, described as `description`.
    pub fn new(credentials: Credentials, description: impl Into<String>) -> Static {
        Static {
            credentials,
            description: description.into(),
        }
    }
}

impl Provider for Static {
    fn credentials(&self) -> Result<Credentials> {
        Ok(self.credentials.clone())
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

/// Temporary credentials are refreshed when they expire within this window, so a request
/// signed now is not rejected mid-flight (the AWS SDKs refresh 5 to 15 minutes early).
pub const REFRESH_WINDOW: time::Duration = time::Duration::minutes(5);

/// When a source hands back credentials that are already inside the refresh window, ask it
/// again at most this often rather than on every request.
const MIN_REFETCH_INTERVAL: time::Duration = time::Duration::seconds(30);

/// The clock a [`Cached`] provider reads.
pub type Clock = Box<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Caches a provider's credentials; refreshes them when they expire within
/// [`REFRESH_WINDOW`] (clock injected).
pub struct Cached {
    inner: Box<dyn Provider>,
    clock: Clock,
    // The lock is held while refreshing, so concurrent workers wait for one refresh
    // instead of all running the credential process at once.
    state: Mutex<Option<(Credentials, OffsetDateTime)>>,
}

impl Cached {
    /// Caches `inner`, reading the system clock.
    pub fn new(inner: Box<dyn Provider>) -> Cached {
        Cached::with_clock(inner, Box::new(OffsetDateTime::now_utc))
    }

    /// Caches `inner`, reading `clock` to decide when to refresh.
    pub fn with_clock(inner: Box<dyn Provider>, clock: Clock) -> Cached {
        Cached {
            inner,
            clock,
            state: Mutex::new(None),
        }
    }
}

impl Provider for Cached {
    fn credentials(&self) -> Result<Credentials> {
        let now = (self.clock)();
        // A poisoned lock only means another thread panicked mid-refresh; the cached value
        // is still a whole `Option`, so carry on with it.
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((creds, fetched_at)) = state.as_ref() {
            let fresh = match creds.expiration {
                None => true,
                Some(exp) => {
                    now < exp - REFRESH_WINDOW
                        || (now < exp && now - *fetched_at < MIN_REFETCH_INTERVAL)
                }
            };
            if fresh {
                return Ok(creds.clone());
            }
        }
        match self.inner.credentials() {
            Ok(creds) => {
                *state = Some((creds.clone(), now));
                Ok(creds)
            }
            // A failed early refresh is not fatal while the old credentials still work
            // (the SDKs' "static stability"): try again on the next request.
            Err(e) => match state.as_ref() {
                Some((old, _)) if old.expiration.is_some_and(|exp| now < exp) => Ok(old.clone()),
                _ => Err(e),
            },
        }
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

/// Runs a profile's `credential_process` and reads its JSON ("Sourcing credentials with
/// an external process", AWS CLI User Guide).
#[derive(Debug, Clone)]
pub struct Process {
    command: String,
    profile: String,
}

impl Process {
    /// The command line `command` (run with `sh -c`) from profile `profile`.
    pub fn new(command: impl Into<String>, profile: impl Into<String>) -> Process {
        Process {
            command: command.into(),
            profile: profile.into(),
        }
    }

    fn fail(&self, why: impl fmt::Display) -> Error {
        Error::Credentials(format!(
            "credential_process of profile '{}' {why}",
            self.profile
        ))
    }
}

impl Provider for Process {
    fn credentials(&self) -> Result<Credentials> {
        // No stdin: the process must not wait on ours. Its stderr is captured for the
        // error message; a process that prompts (MFA) should use /dev/tty.
        let output = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| self.fail(format_args!("could not be started with sh: {e}")))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first = stderr
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(|l| format!(": {}", truncate(l, 300)))
                .unwrap_or_default();
            // Never its stdout: that is where the secret would be.
            return Err(self.fail(format_args!("failed ({}){first}", output.status)));
        }
        let value: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|e| {
            // Only the position: serde's message can quote the output.
            self.fail(format_args!(
                "printed output that is not JSON (error at line {} column {}); expected \
                 {{\"Version\": 1, \"AccessKeyId\": ..., \"SecretAccessKey\": ...}}",
                e.line(),
                e.column()
            ))
        })?;
        let field = |name: &str| value.get(name).and_then(|v| v.as_str());
        if value.get("Version").and_then(|v| v.as_u64()) != Some(1) {
            return Err(self.fail("printed JSON without \"Version\": 1"));
        }
        let (Some(id), Some(secret)) = (field("AccessKeyId"), field("SecretAccessKey")) else {
            return Err(self.fail(
                "printed JSON without string fields \"AccessKeyId\" and \"SecretAccessKey\"",
            ));
        };
        let expiration = match value.get("Expiration") {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(
                v.as_str()
                    .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
                    .ok_or_else(|| {
                        self.fail("printed an \"Expiration\" that is not an RFC 3339 time")
                    })?,
            ),
        };
        Ok(Credentials::new(
            id,
            secret,
            field("SessionToken").map(str::to_string),
            expiration,
        ))
    }

    fn describe(&self) -> String {
        format!("credential_process of profile '{}'", self.profile)
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

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

/// The "no credentials" error: what was tried, and how to fix it.
fn nothing_found(tried: &[String]) -> Error {
    Error::Credentials(format!(
        "none found; tried: {}. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run \
         `aws configure`, or pass --profile NAME",
        tried.join("; ")
    ))
}

/// The environment's keys: both or neither.
fn from_env(env: &dyn Env) -> Result<Option<Credentials>> {
    match (
        env_var(env, "AWS_ACCESS_KEY_ID"),
        env_var(env, "AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(id), Some(secret)) => Ok(Some(Credentials::new(
            id.trim(),
            secret.trim(),
            env_var(env, "AWS_SESSION_TOKEN").map(|t| t.trim().to_string()),
            None,
        ))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(Error::Credentials(
            "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or unset it"
                .to_string(),
        )),
        (None, Some(_)) => Err(Error::Credentials(
            "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both, or unset it"
                .to_string(),
        )),
    }
}

/// A profile's static keys: both or neither.
fn from_profile(profile: &Profile) -> Result<Option<Static>> {
    let id = profile.get("aws_access_key_id");
    let secret = profile.get("aws_secret_access_key");
    let missing = match (id, secret) {
        (Some(id), Some(secret)) => {
            let file = show_path(
                profile.origin("aws_secret_access_key"),
                "~/.aws/credentials",
            );
            let creds = Credentials::new(
                id,
                secret,
                profile.get("aws_session_token").map(str::to_string),
                None,
            );
            return Ok(Some(Static::new(
                creds,
                format!("static keys of profile '{}' in {file}", profile.name),
            )));
        }
        (None, None) => return Ok(None),
        (Some(_), None) => "aws_secret_access_key",
        (None, Some(_)) => "aws_access_key_id",
    };
    Err(Error::Credentials(format!(
        "profile '{}' has {} but no {missing}: add it to [{}] in {}",
        profile.name,
        if missing == "aws_access_key_id" {
            "aws_secret_access_key"
        } else {
            "aws_access_key_id"
        },
        profile.name,
        show_path(profile.credentials_file(), "~/.aws/credentials"),
    )))
}

/// The profile's credential sources in order: static keys, then `credential_process`.
fn profile_provider(profile: &Profile) -> Result<Option<Box<dyn Provider>>> {
    if let Some(p) = from_profile(profile)? {
        return Ok(Some(Box::new(p)));
    }
    if let Some(cmd) = profile.get("credential_process") {
        let process = Process::new(cmd, profile.name.as_str());
        return Ok(Some(Box::new(Cached::new(Box::new(process)))));
    }
    Ok(None)
}

/// Builds the chain for the resolved configuration: the first source that yields.
///
/// With a profile named by `--profile` or `AWS_PROFILE`: that profile's static keys
/// (credentials file, then config file), then its `credential_process`; nothing else.
/// Otherwise: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`), the
/// default profile's static keys, its `credential_process`, then the EC2 instance role
/// over IMDSv2 unless `AWS_EC2_METADATA_DISABLED=true`. Temporary credentials are wrapped
/// in [`Cached`]. Whether the metadata service answers is only known on the first
/// [`Provider::credentials`] call, which then reports "none found" if it does not.
pub fn chain(resolved: &Resolved, env: &dyn Env) -> Result<Box<dyn Provider>> {
    let profile = &resolved.profile;
    if profile.explicit {
        return match profile_provider(profile)? {
            Some(p) => Ok(p),
            None => {
                let mut msg = format!(
                    "profile '{}' has no credentials: set aws_access_key_id and \
                     aws_secret_access_key, or credential_process, in {}",
                    profile.name,
                    profile.where_to_set()
                );
                // Role, SSO and web-identity profiles need STS or SSO calls this tool
                // does not make; the AWS CLI can bridge them.
                let unsupported = [
                    "role_arn",
                    "sso_session",
                    "sso_start_url",
                    "web_identity_token_file",
                ];
                if let Some(key) = unsupported.iter().find(|k| profile.get(k).is_some()) {
                    msg.push_str(&format!(
                        " ({key} profiles are not supported directly; use credential_process = \
                         aws configure export-credentials --profile {} --format process)",
                        profile.name
                    ));
                }
                Err(Error::Credentials(msg))
            }
        };
    }

    if let Some(creds) = from_env(env)? {
        return Ok(Box::new(Static::new(creds, "environment variables")));
    }
    if let Some(p) = profile_provider(profile)? {
        return Ok(p);
    }
    let mut tried = vec![
        "environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: not set".to_string(),
        format!(
            "profile '{}' ({}): no aws_access_key_id or credential_process",
            profile.name,
            profile.where_to_set()
        ),
    ];
    let disabled = env_var(env, "AWS_EC2_METADATA_DISABLED")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if disabled {
        tried.push("EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED".to_string());
        return Err(nothing_found(&tried));
    }
    let endpoint = env_var(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .unwrap_or_else(|| IMDS_DEFAULT_ENDPOINT.to_string());
    Ok(Box::new(Cached::new(Box::new(Imds::new(
        endpoint.trim(),
        tried,
    )))))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // In tests a panic is the failure report.
mod tests {
    use super::*;
    use crate::config::test_support::TempDir;
    use crate::config::{MapEnv, Settings, resolve};
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::Arc;

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
        let (_d, env) = home("[profile r]\nrole_arn = arn:aws:iam::1:role/x\n", "");
        let env = env
            .with("AWS_ACCESS_KEY_ID", "ENVKEY")
            .with("AWS_SECRET_ACCESS_KEY", "ENVSECRET");
        let msg = chain_err(&env, Some("r"));
        assert!(msg.contains("profile 'r' has no credentials"), "{msg}");
        assert!(
            msg.contains("role_arn") && msg.contains("export-credentials"),
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
            "--profile",
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
        let (dir, env) = process_env(
            "echo '{\"Version\":1,\"AccessKeyId\":\"PROC\",\"SecretAccessKey\":\"S\"}'",
        );
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
            Box::new(move || *clock_now.lock().unwrap()),
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
}
