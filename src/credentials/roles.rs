//! The two role providers: [`WebIdentity`] (`AssumeRoleWithWebIdentity` with a token
//! read from a file at each fetch, as Kubernetes and CI systems rotate it) and
//! [`AssumeRole`] (`AssumeRole` signed with a source provider's credentials). Both are
//! wrapped in [`super::Cached`] by the chain, so they are called again shortly before the
//! role's credentials expire.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use super::sts::{RoleRequest, Sts};
use super::{Clock, Credentials, Provider};
use crate::error::{Error, Result};

/// `AssumeRoleWithWebIdentity` with the token in a file ("Assume role with web identity",
/// AWS SDKs and Tools Reference Guide).
pub struct WebIdentity {
    token_file: PathBuf,
    request: RoleRequest,
    sts: Arc<Sts>,
    /// Where the settings came from, for messages: the variables or a profile.
    origin: String,
}

impl fmt::Debug for WebIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebIdentity")
            .field("token_file", &self.token_file)
            .field("role_arn", &self.request.role_arn)
            .finish()
    }
}

impl WebIdentity {
    /// Assumes `request.role_arn` with the token in `token_file`; `origin` says where
    /// these settings were found.
    pub(super) fn new(
        token_file: PathBuf,
        request: RoleRequest,
        sts: Arc<Sts>,
        origin: String,
    ) -> WebIdentity {
        WebIdentity {
            token_file,
            request,
            sts,
            origin,
        }
    }
}

impl Provider for WebIdentity {
    fn credentials(&self) -> Result<Credentials> {
        // Read at every fetch: the kubelet replaces the projected token before it expires.
        let token = std::fs::read_to_string(&self.token_file).map_err(|e| {
            Error::Credentials(format!(
                "reading the web identity token file {} ({}): {e}",
                self.token_file.display(),
                self.origin
            ))
        })?;
        let token = token.trim();
        if token.is_empty() {
            return Err(Error::Credentials(format!(
                "the web identity token file {} ({}) is empty",
                self.token_file.display(),
                self.origin
            )));
        }
        self.sts.assume_role_with_web_identity(&self.request, token)
    }

    fn describe(&self) -> String {
        format!(
            "web identity token file {} for role {} ({}; STS at {})",
            self.token_file.display(),
            self.request.role_arn,
            self.origin,
            self.sts.url()
        )
    }
}

/// `AssumeRole` signed with the credentials of `source` ("Assume role credential
/// provider", AWS SDKs and Tools Reference Guide).
pub struct AssumeRole {
    source: Box<dyn Provider>,
    request: RoleRequest,
    sts: Arc<Sts>,
    clock: Clock,
    profile: String,
}

impl fmt::Debug for AssumeRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRole")
            .field("profile", &self.profile)
            .field("role_arn", &self.request.role_arn)
            .field("source", &self.source.describe())
            .finish()
    }
}

impl AssumeRole {
    /// Assumes `request.role_arn` (from profile `profile`) with `source`'s credentials,
    /// signing at the time `clock` gives.
    pub(super) fn new(
        source: Box<dyn Provider>,
        request: RoleRequest,
        sts: Arc<Sts>,
        clock: Clock,
        profile: String,
    ) -> AssumeRole {
        AssumeRole {
            source,
            request,
            sts,
            clock,
            profile,
        }
    }
}

impl Provider for AssumeRole {
    fn credentials(&self) -> Result<Credentials> {
        let source = self.source.credentials()?;
        self.sts.assume_role(&self.request, &source, (self.clock)())
    }

    fn describe(&self) -> String {
        format!(
            "role {} of profile '{}' (STS at {}), assumed with {}",
            self.request.role_arn,
            self.profile,
            self.sts.url(),
            self.source.describe()
        )
    }
}
