//! AWS credentials and the chain of places they come from.
//!
//! This module owns [`Credentials`] (which never shows its secret, `Debug` included), the
//! sources the AWS CLI users expect (environment variables, a profile's static keys, a
//! profile's `credential_process`, assume-role profiles and web identity through STS, the
//! container credentials endpoint of ECS, Batch and EKS Pod Identity, an EC2 instance
//! role over IMDSv2), the order they are tried in ([`chain`]), and [`Cached`], which
//! refreshes temporary credentials before they expire so a long upload keeps signing with
//! valid keys. It reads configuration only
//! through [`crate::config::Resolved`] and [`Env`](crate::config::Env); it never prints, and its errors never
//! carry a secret or a credential process's standard output.
//!
//! Files: `keys.rs` (static keys from the environment or a profile), `process.rs`
//! (`credential_process`), `imds.rs` (the instance role), `container.rs` (the container
//! endpoint), `sts.rs` (the STS calls), `roles.rs` (web identity and assume role),
//! `cache.rs` ([`Cached`]), `profile_chain.rs` (a profile's sources, `source_profile`
//! chains) and `chain.rs` (the order); this file holds what they share.

use std::fmt;

use time::OffsetDateTime;

use crate::error::Result;

mod cache;
mod chain;
mod container;
mod imds;
mod keys;
mod process;
mod profile_chain;
mod roles;
mod sts;

pub use cache::{Cached, Clock, REFRESH_WINDOW};
pub use chain::{ChainOptions, Log, chain, chain_with};
pub use container::{CONTAINER_RELATIVE_BASE, Container};
pub use imds::{IMDS_DEFAULT_ENDPOINT, Imds};
pub use keys::Static;
pub use process::Process;
pub use roles::{AssumeRole, WebIdentity};
pub use sts::Sts;

/// AWS credentials. `Debug` never shows the secret or the token; there is no `Display`.
///
/// A client takes them from a [`Provider`]: [`Static`] for keys at hand, or [`chain`] to
/// find them the way the AWS CLI does (environment, profiles, SSO, container, instance).
///
/// ```
/// use glacier_upload::Credentials;
///
/// let keys = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None);
/// assert_eq!(keys.access_key_id, "AKIDEXAMPLE");
/// assert_eq!(keys.session_token(), None);
/// // Logging them is safe: the secret is redacted.
/// assert!(!format!("{keys:?}").contains("wJalrXUtnFEMI"));
/// ```
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

#[cfg(test)]
#[allow(clippy::unwrap_used)] // In tests a panic is the failure report.
mod tests;
