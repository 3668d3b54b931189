//! The typed Glacier REST client: a set of operations over the shared AWS transport.
//!
//! [`Client`] holds the crate's AWS transport (`aws`) set up for Glacier (`service.rs`: the
//! version header, JSON error bodies, request ID header, hints) and the endpoint and
//! account every path starts with; the files beside this one add one typed method per API
//! operation (`vaults`, `archives`, `multipart`, `jobs`), each building a `Call` and
//! parsing the answer. `transport.rs` turns a call into a request path and reads Glacier's
//! answers (JSON bodies, tree hash headers). Signing, retries, timeouts, TLS and the
//! request log are the transport's. This module knows Glacier's API; it never reads argv
//! or the environment, and never prints.

mod archives;
mod ids;
mod jobs;
mod multipart;
mod service;
mod transport;
mod vaults;

pub use crate::aws::{Clock, Logger, MIN_UPLOAD_RATE_VAR, Payload, RetryPolicy, parse_http_date};
pub use archives::ArchiveCreated;
pub use ids::{ArchiveId, Description, JobId, UploadId};
pub use jobs::{
    InventoryParameters, InventoryRetrievalDescription, JobDescription, JobOutput, JobRequest,
    JobsPage,
};
pub use multipart::{
    PartJson, PartList, PartRange, PartsPage, UploadDescription, UploadsPage,
    parse_range as parse_byte_range, part_range,
};
pub use transport::outcome_unknown;
pub(crate) use transport::{header, json_body, tree_hash_header};
pub use vaults::{VaultDescription, VaultList, check_vault_name};

use reqwest::Method;

use crate::aws::{self, Transport};
use crate::config::Resolved;
use crate::credentials::Provider;
use crate::error::{Error, Result};
use crate::sigv4;

/// The API version every request names (`x-amz-glacier-version`).
pub const API_VERSION: &str = "2012-06-01";

/// Where Glacier is: the service's part of a [`ClientConfig`].
pub struct Destination {
    /// Region, endpoint, account, CA bundle.
    pub resolved: Resolved,
}

/// Everything a [`Client`] is built from: [`Destination`] and the transport settings
/// every AWS client shares (retries, timeouts, clock, request log), each with a default
/// that can be changed before the client is built.
///
/// ```
/// use std::time::Duration;
/// use glacier_upload::config::{self, MapEnv, Settings};
/// use glacier_upload::credentials::Static;
/// use glacier_upload::{ClientConfig, Credentials};
///
/// let env = MapEnv::new().with("AWS_REGION", "us-west-2");
/// let resolved = config::resolve(&Settings::default(), &env)?;
/// let keys = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None);
/// let mut cfg = ClientConfig::new(resolved, Box::new(Static::new(keys, "example")));
/// cfg.retry.max_attempts = 3;
/// cfg.timeout = Duration::from_secs(30);
/// assert_eq!(cfg.resolved.region, "us-west-2");
/// # Ok::<(), glacier_upload::Error>(())
/// ```
pub type ClientConfig = aws::ClientConfig<Destination>;

impl ClientConfig {
    /// Defaults for everything but the configuration and credentials; the CA bundle is
    /// the one `resolved` names.
    pub fn new(resolved: Resolved, credentials: Box<dyn Provider>) -> ClientConfig {
        let ca_bundle = resolved.ca_bundle.clone();
        let mut cfg = ClientConfig::with_service(Destination { resolved }, credentials);
        cfg.ca_bundle = ca_bundle;
        cfg
    }
}

/// A Glacier client: cheap to share between threads by reference.
///
/// Built from a [`ClientConfig`]; building sends nothing. Each method is one Glacier
/// operation, signed, retried when the failure is transient, and answered with typed
/// values or an [`Error`] that names the vault or archive.
///
/// ```
/// use glacier_upload::config::{self, MapEnv, Settings};
/// use glacier_upload::credentials::Static;
/// use glacier_upload::{Client, ClientConfig, Credentials, Result};
///
/// /// The names of the account's vaults in the client's region.
/// fn vault_names(client: &Client) -> Result<Vec<String>> {
///     let vaults = client.list_vaults()?;
///     Ok(vaults.into_iter().filter_map(|v| v.vault_name).collect())
/// }
///
/// let env = MapEnv::new()
///     .with("AWS_REGION", "eu-central-1")
///     .with("AWS_ENDPOINT_URL_GLACIER", "http://127.0.0.1:9");
/// let resolved = config::resolve(&Settings::default(), &env)?;
/// let keys = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None);
/// let client = Client::new(ClientConfig::new(resolved, Box::new(Static::new(keys, "example"))))?;
/// // vault_names(&client) would now send ListVaults to that endpoint.
/// # let _ = (vault_names, client);
/// # Ok::<(), glacier_upload::Error>(())
/// ```
pub struct Client {
    transport: Transport,
    resolved: Resolved,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.resolved.endpoint.url)
            .field("region", &self.resolved.region)
            .field("credentials", &self.transport.credentials_source())
            .finish()
    }
}

/// Where a Glacier request goes: the path after `/{accountId}/`, each segment already
/// safe (IDs and vault names).
pub(crate) struct Target(pub String);

/// One request to send.
pub(crate) type Call<'a> = aws::Call<'a, Target>;

impl<'a> Call<'a> {
    /// A call with no query, headers or body, expecting `200`.
    pub fn new(op: &'static str, context: String, method: Method, path: String) -> Call<'a> {
        Call::with_target(op, context, method, Target(path))
    }
}

/// One page of a list operation.
pub(crate) trait Page: serde::de::DeserializeOwned {
    type Item;
    /// The items and the marker for the next page (`None` or empty: last page).
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

/// The marker to follow after a page of `call`: `None` on the last page. A marker the
/// endpoint already sent would page forever (a broken or hostile endpoint), so it is an
/// error, as in `s3`.
pub(crate) fn next_marker(
    seen: &mut std::collections::HashSet<String>,
    next: Option<String>,
    call: &Call<'_>,
) -> Result<Option<String>> {
    match next {
        Some(m) if !m.is_empty() => {
            if !seen.insert(m.clone()) {
                let shown: String = m.chars().take(80).collect();
                return Err(Error::Transport {
                    what: format!(
                        "{}: the endpoint sent marker {shown:?} a second time",
                        call.what()
                    ),
                    source: "a list that pages forever".into(),
                });
            }
            Ok(Some(m))
        }
        _ => Ok(None),
    }
}

impl Client {
    /// Runs a list operation to its last page, following `Marker`.
    pub(crate) fn all_pages<P: Page>(
        &self,
        make: impl Fn() -> Call<'static>,
    ) -> Result<Vec<P::Item>> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let mut call = make();
            if let Some(m) = marker.take() {
                call = call.query("marker", m);
            }
            let page: P = self.send_json(&call)?;
            let (items, next) = page.into_parts();
            out.extend(items);
            match next_marker(&mut seen, next, &call)? {
                Some(m) => marker = Some(m),
                None => return Ok(out),
            }
        }
    }

    /// Builds a client: TLS roots (system store, else bundled; plus the CA bundle),
    /// timeouts, user agent.
    pub fn new(cfg: ClientConfig) -> Result<Client> {
        let region = cfg.resolved.region.clone();
        let (transport, destination) = Transport::new(cfg, region, &service::Glacier)?;
        Ok(Client {
            transport,
            resolved: destination.resolved,
        })
    }

    /// The request path for a vault: `vaults/{name}`.
    pub(crate) fn vault_path(vault: &str) -> String {
        format!("vaults/{}", sigv4::uri_encode(vault, true))
    }
}
