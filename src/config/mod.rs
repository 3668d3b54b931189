//! Region, endpoint, account and profile configuration, resolved the way AWS tools do.
//!
//! This module owns reading the shared config and credentials files (`~/.aws/config`,
//! `~/.aws/credentials`), choosing the profile, and settling the region, the endpoint, the
//! account ID and the CA bundle from command-line flags, the environment and the profile,
//! in the precedence the AWS CLI documents ("Configuration and credential file settings"
//! and "Environment variables to configure the AWS CLI" in the AWS CLI User Guide). The
//! environment comes in through [`Env`] so tests never read the real one. It does not pick
//! credentials (that is [`crate::credentials`]), never opens a connection and never prints.
//!
//! Files: `env.rs` (the [`Env`] seam), `ini.rs` (the INI format), `profile.rs` (choosing
//! and merging the profile), `endpoint.rs` (endpoint URLs); this file settles the
//! precedence in [`resolve`].

use std::path::PathBuf;

use crate::error::{Error, Result, Setting};

mod endpoint;
mod env;
mod ini;
mod profile;

pub use endpoint::Endpoint;
pub(crate) use env::env_var;
pub use env::{Env, MapEnv, ProcessEnv};
pub use ini::{IniFile, Section};
pub(crate) use profile::show_path;
pub use profile::{Profile, profile};

/// What the command line asked for (flags; `None` when not given).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `--region`.
    pub region: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--endpoint-url`.
    pub endpoint_url: Option<String>,
    /// `--account-id`.
    pub account_id: Option<String>,
    /// `--allow-http`: permit a plain-HTTP endpoint that is not loopback.
    pub allow_http: bool,
}

/// The configuration every request needs, settled once per run.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The region, e.g. `us-east-1`.
    pub region: String,
    /// Where requests go.
    pub endpoint: Endpoint,
    /// The account ID for request paths: `-` (the caller's own account) unless given.
    pub account_id: String,
    /// The chosen profile with its settings.
    pub profile: Profile,
    /// An extra CA certificate file to trust (`AWS_CA_BUNDLE` or the profile's `ca_bundle`).
    pub ca_bundle: Option<PathBuf>,
}

/// Checks a region's shape: lowercase letters, digits and inner `-`, like `us-east-1`.
fn check_region(region: &str, source: &str) -> Result<()> {
    let ok = !region.is_empty()
        && region.len() <= 63
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "invalid region '{region}' ({source}): a region is lowercase letters, digits and \
             '-', like us-east-1"
        )))
    }
}

/// Settles region, endpoint, account ID, profile and CA bundle from the flags, the
/// environment and the profile, first that is set wins:
///
/// - profile: `--profile`, `AWS_PROFILE`, else `default`;
/// - region: `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`;
/// - endpoint: `--endpoint-url`, `AWS_ENDPOINT_URL_GLACIER`, `AWS_ENDPOINT_URL`, the
///   profile's `endpoint_url`, else `https://glacier.{region}.amazonaws.com`;
/// - account ID: `--account-id`, else `-`;
/// - CA bundle: `AWS_CA_BUNDLE`, the profile's `ca_bundle`.
pub fn resolve(settings: &Settings, env: &dyn Env) -> Result<Resolved> {
    let profile = profile(settings, env)?;

    let region_sources = [
        (settings.region.clone(), Setting::Region.to_string()),
        (env_var(env, "AWS_REGION"), "AWS_REGION".to_string()),
        (
            env_var(env, "AWS_DEFAULT_REGION"),
            "AWS_DEFAULT_REGION".to_string(),
        ),
        (
            profile.get("region").map(str::to_string),
            format!("region in profile '{}'", profile.name),
        ),
    ];
    let Some((region, source)) = region_sources
        .into_iter()
        .find_map(|(v, s)| v.map(|v| (v.trim().to_string(), s)))
    else {
        return Err(Error::Config(format!(
            "no region: pass {r} (e.g. {r} us-east-1), set AWS_REGION, or set region in {}",
            profile.config_section(),
            r = Setting::Region
        )));
    };
    check_region(&region, &source)?;

    let endpoint_sources = [
        (
            settings.endpoint_url.clone(),
            Setting::EndpointUrl.to_string(),
        ),
        (
            env_var(env, "AWS_ENDPOINT_URL_GLACIER"),
            "AWS_ENDPOINT_URL_GLACIER".to_string(),
        ),
        (
            env_var(env, "AWS_ENDPOINT_URL"),
            "AWS_ENDPOINT_URL".to_string(),
        ),
        (
            profile.get("endpoint_url").map(str::to_string),
            format!("endpoint_url in profile '{}'", profile.name),
        ),
    ];
    let endpoint = match endpoint_sources
        .into_iter()
        .find_map(|(v, s)| v.map(|v| (v, s)))
    {
        Some((url, source)) => Endpoint::parse(url.trim(), &source, settings.allow_http)?,
        None => Endpoint::for_region(&region),
    };

    // "If you specify your account ID, do not include any hyphens" (Glacier API
    // Reference, "Common Request Headers" / path parameters); `-` means the caller's own.
    let account_id = match &settings.account_id {
        None => "-".to_string(),
        Some(a) if a == "-" || (a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())) => {
            a.clone()
        }
        Some(a) => {
            return Err(Error::Config(format!(
                "invalid {} '{a}': give the 12-digit account ID without hyphens, or '-' for \
                 your own account",
                Setting::AccountId
            )));
        }
    };

    let ca_bundle = env_var(env, "AWS_CA_BUNDLE")
        .or_else(|| profile.get("ca_bundle").map(str::to_string))
        .map(PathBuf::from);

    Ok(Resolved {
        region,
        endpoint,
        account_id,
        profile,
        ca_bundle,
    })
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
#[allow(clippy::unwrap_used)] // In tests a panic is the failure report.
mod tests;
