//! Credentials known up front: the environment's `AWS_ACCESS_KEY_ID` and
//! `AWS_SECRET_ACCESS_KEY`, or a profile's `aws_access_key_id` and
//! `aws_secret_access_key`; both keys or neither.

use super::{Credentials, Provider};
use crate::config::{Env, Profile, env_var, show_path};
use crate::error::{Error, Result};

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

/// The environment's keys: both or neither.
pub(super) fn from_env(env: &dyn Env) -> Result<Option<Credentials>> {
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
pub(super) fn from_profile(profile: &Profile) -> Result<Option<Static>> {
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
