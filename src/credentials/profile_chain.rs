//! The sources a profile configures, in botocore's order: assume role (`role_arn` with
//! `source_profile` or `credential_source`), web identity (`web_identity_token_file` with
//! `role_arn`, or the `AWS_WEB_IDENTITY_TOKEN_FILE` variables), static keys,
//! `credential_process`. `source_profile` chains are followed (a profile naming itself
//! uses its own static keys, as the SDKs allow); a loop is refused, and so is
//! `mfa_serial`, which needs a code typed at a terminal.

use std::cell::OnceCell;
use std::path::PathBuf;
use std::sync::Arc;

use super::keys::{from_env, from_profile};
use super::roles::{AssumeRole, WebIdentity};
use super::sts::{RoleRequest, Sts};
use super::{
    Cached, Clock, Container, IMDS_DEFAULT_ENDPOINT, Imds, Log, Process, Provider, Static,
};
use crate::config::{Env, Profile, Resolved, env_var, show_path};
use crate::error::{Error, Result};

/// What every step needs: the configuration, the environment, the clock, the log, and
/// the STS client (made once, on first need).
pub(super) struct Builder<'a> {
    pub(super) resolved: &'a Resolved,
    env: &'a dyn Env,
    clock: Clock,
    log: Option<Log>,
    sts: OnceCell<Arc<Sts>>,
}

impl<'a> Builder<'a> {
    pub(super) fn new(
        resolved: &'a Resolved,
        env: &'a dyn Env,
        clock: Clock,
        log: Option<Log>,
    ) -> Builder<'a> {
        Builder {
            resolved,
            env,
            clock,
            log,
            sts: OnceCell::new(),
        }
    }

    /// A line for `--verbose`.
    pub(super) fn log(&self, line: &str) {
        if let Some(log) = &self.log {
            log(line);
        }
    }

    /// `p` behind a cache that refreshes before expiry, on this chain's clock.
    pub(super) fn cached(&self, p: Box<dyn Provider>) -> Box<dyn Provider> {
        Box::new(Cached::with_clock(p, Arc::clone(&self.clock)).with_log(self.log.clone()))
    }

    /// The STS client: endpoint settings of the selected profile, as botocore takes
    /// them from the session.
    fn sts(&self) -> Result<Arc<Sts>> {
        if let Some(s) = self.sts.get() {
            return Ok(Arc::clone(s));
        }
        let sts = Arc::new(Sts::resolve(
            &self.resolved.region,
            self.env,
            &self.resolved.profile,
            self.resolved.ca_bundle.clone(),
        )?);
        Ok(Arc::clone(self.sts.get_or_init(|| sts)))
    }

    /// The profile's own sources in order; `env_web_identity` lets the
    /// `AWS_WEB_IDENTITY_TOKEN_FILE` variables come before the profile's web identity keys
    /// (the default chain; a named profile uses only its own settings).
    pub(super) fn profile_sources(
        &self,
        profile: &Profile,
        env_web_identity: bool,
    ) -> Result<Option<Box<dyn Provider>>> {
        if is_assume_role(profile) {
            let mut visited = vec![profile.name.clone()];
            return self.assume_role(profile, &mut visited).map(Some);
        }
        if let Some(p) = self.web_identity(profile, env_web_identity)? {
            return Ok(Some(p));
        }
        self.keys_or_process(profile)
    }

    /// Static keys, else `credential_process`.
    fn keys_or_process(&self, profile: &Profile) -> Result<Option<Box<dyn Provider>>> {
        if let Some(p) = from_profile(profile)? {
            return Ok(Some(Box::new(p)));
        }
        if let Some(cmd) = profile.get("credential_process") {
            let process = Process::new(cmd, profile.name.as_str());
            return Ok(Some(self.cached(Box::new(process))));
        }
        Ok(None)
    }

    /// Web identity from the variables (when allowed), else from the profile.
    fn web_identity(&self, profile: &Profile, use_env: bool) -> Result<Option<Box<dyn Provider>>> {
        let from_env = use_env
            .then(|| env_var(self.env, "AWS_WEB_IDENTITY_TOKEN_FILE"))
            .flatten();
        let (file, role_arn, session, origin) = if let Some(file) = from_env {
            let Some(arn) = env_var(self.env, "AWS_ROLE_ARN") else {
                return Err(Error::Credentials(
                    "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not: set the \
                     role to assume, or unset it"
                        .into(),
                ));
            };
            let session = env_var(self.env, "AWS_ROLE_SESSION_NAME");
            (
                file,
                arn,
                session,
                "AWS_WEB_IDENTITY_TOKEN_FILE".to_string(),
            )
        } else if let Some(file) = profile.get("web_identity_token_file") {
            let origin = format!("profile '{}'", profile.name);
            let Some(arn) = profile.get("role_arn") else {
                return Err(Error::Credentials(format!(
                    "{origin} sets web_identity_token_file but no role_arn: add it to {}",
                    profile.config_section()
                )));
            };
            let session = profile.get("role_session_name").map(str::to_string);
            (file.to_string(), arn.to_string(), session, origin)
        } else {
            return Ok(None);
        };
        let mut request = self.role_request(profile, role_arn.trim(), session)?;
        // External IDs are an AssumeRole parameter only.
        request.external_id = None;
        let p = WebIdentity::new(PathBuf::from(file.trim()), request, self.sts()?, origin);
        Ok(Some(self.cached(Box::new(p))))
    }

    /// `AssumeRole` for `profile` (which has `role_arn`), its source resolved first.
    fn assume_role(
        &self,
        profile: &Profile,
        visited: &mut Vec<String>,
    ) -> Result<Box<dyn Provider>> {
        let arn = profile
            .get("role_arn")
            .unwrap_or_default()
            .trim()
            .to_string();
        if profile.get("mfa_serial").is_some() {
            return Err(Error::Credentials(format!(
                "profile '{}' sets mfa_serial: assuming role {arn} needs an MFA code typed \
                 at a terminal, which an unattended run cannot do, so it is not supported; \
                 use a role without an MFA condition",
                profile.name
            )));
        }
        let source: Box<dyn Provider> = match (
            profile.get("source_profile"),
            profile.get("credential_source"),
        ) {
            (Some(_), Some(_)) => {
                return Err(Error::Credentials(format!(
                    "profile '{}' sets both source_profile and credential_source: keep one \
                     in {}",
                    profile.name,
                    profile.config_section()
                )));
            }
            (None, None) => {
                return Err(Error::Credentials(format!(
                    "profile '{}' sets role_arn but neither source_profile nor \
                     credential_source: add one to {}",
                    profile.name,
                    profile.config_section()
                )));
            }
            (Some(name), None) => self.source_profile(profile, name.trim(), visited)?,
            (None, Some(name)) => self.credential_source(profile, name.trim())?,
        };
        let session = profile.get("role_session_name").map(str::to_string);
        let request = self.role_request(profile, &arn, session)?;
        let p = AssumeRole::new(
            source,
            request,
            self.sts()?,
            Arc::clone(&self.clock),
            profile.name.clone(),
        );
        Ok(self.cached(Box::new(p)))
    }

    /// The credentials `source_profile = name` of `profile` stands for.
    fn source_profile(
        &self,
        profile: &Profile,
        name: &str,
        visited: &mut Vec<String>,
    ) -> Result<Box<dyn Provider>> {
        // A profile that names itself means "my own static keys" (botocore and the SDKs
        // allow this one loop).
        if name == profile.name {
            return match from_profile(profile)? {
                Some(p) => Ok(Box::new(p)),
                None => Err(Error::Credentials(format!(
                    "profile '{name}' is its own source_profile but has no \
                     aws_access_key_id and aws_secret_access_key"
                ))),
            };
        }
        if visited.iter().any(|v| v == name) {
            return Err(Error::Credentials(format!(
                "source_profile loop: {} -> {name}; a role's source must end in a profile \
                 with keys, credential_process, web identity or credential_source",
                visited.join(" -> ")
            )));
        }
        let Some(source) = profile.sibling(name)? else {
            return Err(Error::Credentials(format!(
                "profile '{}' names source_profile '{name}', which is in neither {} nor {}",
                profile.name,
                show_path(profile.config_file(), "~/.aws/config"),
                show_path(profile.credentials_file(), "~/.aws/credentials"),
            )));
        };
        visited.push(name.to_string());
        // Static keys win over a role in the source profile (botocore's order).
        if let Some(p) = from_profile(&source)? {
            return Ok(Box::new(p));
        }
        if is_assume_role(&source) {
            return self.assume_role(&source, visited);
        }
        if let Some(p) = self.web_identity(&source, false)? {
            return Ok(p);
        }
        match self.keys_or_process(&source)? {
            Some(p) => Ok(p),
            None => Err(Error::Credentials(format!(
                "source_profile '{name}' of profile '{}' has no credentials: set \
                 aws_access_key_id and aws_secret_access_key, credential_process, or a role \
                 in {}",
                profile.name,
                source.where_to_set()
            ))),
        }
    }

    /// The credentials `credential_source = name` of `profile` stands for; the source
    /// must yield, or the role cannot be assumed.
    fn credential_source(&self, profile: &Profile, name: &str) -> Result<Box<dyn Provider>> {
        let missing = |what: &str| {
            Error::Credentials(format!(
                "profile '{}' has credential_source = {name}, but {what}",
                profile.name
            ))
        };
        match name {
            "Environment" => match from_env(self.env)? {
                Some(c) => Ok(Box::new(Static::new(c, "environment variables"))),
                None => Err(missing(
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
                )),
            },
            "EcsContainer" => match Container::from_env(self.env)? {
                Some(c) => Ok(self.cached(Box::new(c))),
                None => Err(missing(
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and \
                     AWS_CONTAINER_CREDENTIALS_FULL_URI are not set",
                )),
            },
            "Ec2InstanceMetadata" => {
                let endpoint = env_var(self.env, "AWS_EC2_METADATA_SERVICE_ENDPOINT")
                    .unwrap_or_else(|| IMDS_DEFAULT_ENDPOINT.to_string());
                let tried = vec![format!("credential_source of profile '{}'", profile.name)];
                Ok(self.cached(Box::new(Imds::new(endpoint.trim(), tried))))
            }
            other => Err(Error::Credentials(format!(
                "profile '{}' has credential_source = {other}: expected Environment, \
                 Ec2InstanceMetadata or EcsContainer",
                profile.name
            ))),
        }
    }

    /// The request parameters a profile sets, checked: `duration_seconds`,
    /// `role_session_name` (else `glacier-upload-UNIXTIME`) and `external_id`.
    fn role_request(
        &self,
        profile: &Profile,
        role_arn: &str,
        session: Option<String>,
    ) -> Result<RoleRequest> {
        let bad = |key: &str, why: &str| {
            Error::Config(format!(
                "{key} in profile '{}' ({}): {why}",
                profile.name,
                show_path(profile.origin(key), "~/.aws/config")
            ))
        };
        let duration_seconds = match profile.get("duration_seconds") {
            None => None,
            // AssumeRole accepts 900 s to the role's maximum session, at most 12 hours.
            Some(d) => Some(
                d.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|d| (900..=43_200).contains(d))
                    .ok_or_else(|| {
                        bad(
                            "duration_seconds",
                            "expected whole seconds from 900 to 43200",
                        )
                    })?,
            ),
        };
        let role_session_name = match session {
            Some(s) => {
                let s = s.trim().to_string();
                // RoleSessionName: 2 to 64 of [\w+=,.@-] (AWS STS API Reference).
                let ok = (2..=64).contains(&s.len())
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
                if !ok {
                    return Err(Error::Config(format!(
                        "role session name '{s}': expected 2 to 64 letters, digits or _+=,.@-"
                    )));
                }
                s
            }
            None => format!("glacier-upload-{}", (self.clock)().unix_timestamp()),
        };
        Ok(RoleRequest {
            role_arn: role_arn.to_string(),
            role_session_name,
            duration_seconds,
            external_id: profile.get("external_id").map(|s| s.trim().to_string()),
        })
    }
}

/// A profile the assume-role step owns: `role_arn` without `web_identity_token_file`
/// (that pair is the web identity step's, as in botocore).
fn is_assume_role(profile: &Profile) -> bool {
    profile.get("role_arn").is_some() && profile.get("web_identity_token_file").is_none()
}
