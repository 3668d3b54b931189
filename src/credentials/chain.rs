//! The order credential sources are tried in, as the AWS CLI documents it, and the
//! "none found" error that lists what was tried.

use super::keys::{from_env, from_profile};
use super::{Cached, IMDS_DEFAULT_ENDPOINT, Imds, Process, Provider, Static};
use crate::config::{Env, Profile, Resolved, env_var};
use crate::error::{Error, Result};

/// The "no credentials" error: what was tried, and how to fix it.
pub(super) fn nothing_found(tried: &[String]) -> Error {
    Error::Credentials(format!(
        "none found; tried: {}. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run \
         `aws configure`, or pass --profile NAME",
        tried.join("; ")
    ))
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
