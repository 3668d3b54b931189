//! The order credential sources are tried in, botocore's ("create_credential_resolver"
//! in botocore, which the AWS CLI uses; "Standardized credential providers", AWS SDKs and
//! Tools Reference Guide), and the "none found" error that lists what was tried.
//!
//! The profile-driven steps (assume role, web identity, static keys, `credential_process`)
//! live in `profile_chain.rs`; this file strings the whole chain together.

use std::sync::Arc;

use time::OffsetDateTime;

use super::keys::from_env;
use super::profile_chain::Builder;
use super::{Clock, Container, IMDS_DEFAULT_ENDPOINT, Imds, Provider, Static};
use crate::config::{Env, Resolved, env_var};
use crate::error::{Error, Result, Setting};

/// Where `--verbose` lines go (the same shape as the clients' loggers).
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// What callers may change about the chain; the default is what the CLI uses.
#[derive(Clone, Default)]
pub struct ChainOptions {
    /// Tells each step tried and each credentials fetch (never a key), for `--verbose`.
    pub log: Option<Log>,
    /// The clock that decides refreshes and dates STS signatures; the system clock when
    /// `None`.
    pub clock: Option<Clock>,
    /// Where a relative container-credentials URI is served; `http://169.254.170.2`
    /// when `None` (tests serve it on loopback).
    pub container_base: Option<String>,
}

/// The "no credentials" error: what was tried, and how to fix it.
pub(super) fn nothing_found(tried: &[String]) -> Error {
    Error::Credentials(format!(
        "none found; tried: {}. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run \
         `aws configure`, or pass {} NAME",
        tried.join("; "),
        Setting::Profile
    ))
}

/// Builds the chain for the resolved configuration with the default options.
pub fn chain(resolved: &Resolved, env: &dyn Env) -> Result<Box<dyn Provider>> {
    chain_with(resolved, env, ChainOptions::default())
}

/// Builds the chain for the resolved configuration: the first source that yields.
///
/// With a profile named by `--profile` or `AWS_PROFILE`, only that profile's sources, in
/// this order: `role_arn` with `source_profile` or `credential_source` (`AssumeRole`),
/// `web_identity_token_file` with `role_arn` (`AssumeRoleWithWebIdentity`), static keys
/// (credentials file, then config file), `credential_process`; nothing else.
///
/// Otherwise botocore's order: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+
/// `AWS_SESSION_TOKEN`); the default profile's assume-role settings;
/// `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (+ `AWS_ROLE_SESSION_NAME`), else the
/// profile's web identity settings; the profile's static keys; its `credential_process`;
/// the container credentials endpoint (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or
/// `_FULL_URI`); the EC2 instance role over IMDSv2 unless `AWS_EC2_METADATA_DISABLED=true`.
///
/// Temporary credentials are wrapped in [`super::Cached`]. Whether the metadata service
/// answers is only known on the first [`Provider::credentials`] call, which then reports
/// "none found" with the list of what was tried.
pub fn chain_with(
    resolved: &Resolved,
    env: &dyn Env,
    options: ChainOptions,
) -> Result<Box<dyn Provider>> {
    let clock = options
        .clock
        .clone()
        .unwrap_or_else(|| Arc::new(OffsetDateTime::now_utc));
    let b = Builder::new(resolved, env, clock, options.log.clone());
    let profile = &resolved.profile;
    let chosen = if profile.explicit {
        match b.profile_sources(profile, false)? {
            Some(p) => p,
            None => return Err(no_profile_credentials(profile)),
        }
    } else {
        let mut tried = Vec::new();
        let found = default_chain(&b, env, &options, &mut tried)?;
        for step in &tried {
            b.log(&format!("credentials: tried {step}"));
        }
        match found {
            Some(p) => p,
            None => return Err(nothing_found(&tried)),
        }
    };
    b.log(&format!("credentials: using {}", chosen.describe()));
    Ok(chosen)
}

/// The chain without a named profile: the provider, if one is configured; `tried` gains
/// each step passed over.
fn default_chain(
    b: &Builder,
    env: &dyn Env,
    options: &ChainOptions,
    tried: &mut Vec<String>,
) -> Result<Option<Box<dyn Provider>>> {
    let profile = &b.resolved.profile;
    if let Some(creds) = from_env(env)? {
        return Ok(Some(Box::new(Static::new(creds, "environment variables"))));
    }
    tried.push("environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: not set".into());
    if let Some(p) = b.profile_sources(profile, true)? {
        return Ok(Some(p));
    }
    tried.push("web identity: AWS_WEB_IDENTITY_TOKEN_FILE not set".into());
    let mut step = format!(
        "profile '{}' ({}): no role_arn, web_identity_token_file, aws_access_key_id or \
         credential_process",
        profile.name,
        profile.where_to_set()
    );
    if let Some(key) = sso_key(profile) {
        step.push_str(&format!(" ({key} is not supported)"));
    }
    tried.push(step);

    let base = options
        .container_base
        .as_deref()
        .unwrap_or(super::container::CONTAINER_RELATIVE_BASE);
    if let Some(c) = Container::from_env_at(env, base)? {
        return Ok(Some(b.cached(Box::new(c))));
    }
    tried.push(
        "container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and \
         AWS_CONTAINER_CREDENTIALS_FULL_URI not set"
            .into(),
    );

    let disabled = env_var(env, "AWS_EC2_METADATA_DISABLED")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if disabled {
        tried.push("EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED".to_string());
        return Ok(None);
    }
    let endpoint = env_var(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .unwrap_or_else(|| IMDS_DEFAULT_ENDPOINT.to_string());
    let imds = Imds::new(endpoint.trim(), tried.clone());
    Ok(Some(b.cached(Box::new(imds))))
}

/// An SSO key the profile sets, if any: SSO needs a browser sign-in this tool cannot do.
fn sso_key(profile: &crate::config::Profile) -> Option<&'static str> {
    ["sso_session", "sso_start_url"]
        .into_iter()
        .find(|k| profile.get(k).is_some())
}

/// The error for a named profile that configures no source.
fn no_profile_credentials(profile: &crate::config::Profile) -> Error {
    let mut msg = format!(
        "profile '{}' has no credentials: set aws_access_key_id and aws_secret_access_key, \
         credential_process, role_arn with source_profile or credential_source, or \
         web_identity_token_file with role_arn, in {}",
        profile.name,
        profile.where_to_set()
    );
    if let Some(key) = sso_key(profile) {
        // SSO needs a browser sign-in; the AWS CLI can bridge it.
        msg.push_str(&format!(
            " ({key} profiles are not supported directly; use credential_process = \
             aws configure export-credentials --profile {} --format process)",
            profile.name
        ));
    }
    Error::Credentials(msg)
}
