//! glacier-upload: a command-line tool and library for Amazon S3 Glacier vaults.
//!
//! The library is layered as `docs/architecture.md` describes: pure cores ([`treehash`],
//! [`sigv4`]) at the bottom, the Glacier and S3 clients ([`glacier`], [`s3`]) above them
//! with what they are built from ([`config`], [`credentials`]), the engines and workflows
//! (upload, download, export, purge) above those, and [`cli`] on top as the only code
//! that reads argv or prints results. The nouns a library user needs are re-exported
//! here: [`TreeHash`] and [`TreeHasher`], the Glacier [`Client`] and its
//! [`ClientConfig`], [`Credentials`], [`Error`] and [`Result`]. The engines are private
//! to the crate (a few stay reachable, hidden from these pages, for the crate's own tests
//! and benches: not a stable API).
//!
//! # Tree hash
//!
//! Glacier checks every byte with a SHA-256 tree hash: SHA-256 of each 1 MiB chunk,
//! combined pairwise up to the root. [`TreeHasher`] takes the data in pieces of any size:
//!
//! ```
//! use glacier_upload::{TreeHash, TreeHasher};
//!
//! let data = vec![7u8; 3 << 20]; // 3 MiB: three leaves
//! let mut hasher = TreeHasher::new();
//! for piece in data.chunks(100_000) {
//!     hasher.update(piece);
//! }
//! let streamed: TreeHash = hasher.finish();
//! assert_eq!(streamed, glacier_upload::treehash::tree_hash(&data));
//!
//! // Up to 1 MiB the tree hash is the plain SHA-256.
//! let small = glacier_upload::treehash::tree_hash(b"hello");
//! assert_eq!(small.to_hex(), glacier_upload::sigv4::sha256_hex(b"hello"));
//! ```
//!
//! # SigV4 signing
//!
//! [`sigv4`] is pure: a description of the request in, the `Authorization` header out;
//! the time is an argument. This is the `get-vanilla` case of AWS's published test suite:
//!
//! ```
//! use glacier_upload::sigv4;
//!
//! let amz_date = "20150830T123600Z";
//! let headers = [("Host", "example.amazonaws.com"), ("X-Amz-Date", amz_date)];
//! let request = sigv4::Request {
//!     method: "GET",
//!     path: "/",
//!     query: &[],
//!     headers: &headers,
//!     payload_sha256: sigv4::EMPTY_PAYLOAD_SHA256,
//! };
//! let authorization = sigv4::sign(
//!     &request,
//!     "AKIDEXAMPLE",
//!     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
//!     amz_date,
//!     "us-east-1",
//!     "service",
//! );
//! assert_eq!(
//!     authorization,
//!     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
//!      SignedHeaders=host;x-amz-date, \
//!      Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
//! );
//! ```
//!
//! # The Glacier client
//!
//! A [`Client`] is built from resolved settings (region, endpoint, account: found the
//! way the AWS CLI finds them, here from an injected environment) and a credentials
//! provider. Building it sends nothing; each method is one Glacier operation.
//!
//! ```
//! use glacier_upload::config::{self, MapEnv, Settings};
//! use glacier_upload::credentials::Static;
//! use glacier_upload::{Client, ClientConfig, Credentials};
//!
//! let env = MapEnv::new()
//!     .with("AWS_REGION", "eu-west-1")
//!     .with("AWS_ENDPOINT_URL_GLACIER", "http://127.0.0.1:9");
//! let resolved = config::resolve(&Settings::default(), &env)?;
//! assert_eq!(resolved.region, "eu-west-1");
//! let keys = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None);
//! let client = Client::new(ClientConfig::new(resolved, Box::new(Static::new(keys, "example"))))?;
//! // client.list_vaults()? would now send ListVaults to that endpoint.
//! # drop(client);
//! # Ok::<(), glacier_upload::Error>(())
//! ```
//!
//! # Errors
//!
//! Everything fallible returns [`Result`], whose [`Error`] names what the user gave
//! (path, vault, flag), carries its cause in `source()`, and classifies itself (throttled,
//! not found, transient, needs the user) and maps to the CLI's exit code:
//!
//! ```
//! use glacier_upload::Error;
//!
//! let err = glacier_upload::glacier::check_vault_name("no spaces allowed").unwrap_err();
//! assert!(matches!(err, Error::Usage(_)));
//! assert_eq!(err.exit_code(), 2);
//! assert!(!err.is_transient());
//! println!("glacier: {err}");
//! ```

// The library a user sees: the pure cores, the two clients and what they are built from.
pub mod config;
pub mod credentials;
pub mod error;
pub mod glacier;
pub mod inventory;
pub mod s3;
pub mod sigv4;
pub mod treehash;

// The engines and the CLI: private to the crate.
mod aws;
mod durable;
mod pack;
mod signals;
mod sync;

/// The command-line program: [`cli::main`] is what the `glacier` binary runs.
pub mod cli;

// Engines the integration tests and benches drive directly (an export run's journal and
// inventory file, the pricing plan, the file hasher, the download engine, the purge,
// retrieval, upload and vault-deletion workflows and the progress reporter they take): public so that
// they can reach them, hidden from the documentation because they are not a stable API.
#[doc(hidden)]
pub mod download;
#[doc(hidden)]
pub mod export;
#[doc(hidden)]
pub mod filehash;
#[doc(hidden)]
pub mod plan;
#[doc(hidden)]
pub mod progress;
#[doc(hidden)]
pub mod purge;
#[doc(hidden)]
pub mod retrieval;
#[doc(hidden)]
pub mod upload;
#[doc(hidden)]
pub mod vault;
#[doc(hidden)]
pub mod vault_delete;
mod workers;
#[doc(hidden)]
pub mod workflow;

/// What the integration tests and fuzz targets need from the crate's private parts,
/// kept to the least: not a stable API, hidden from the documentation.
#[doc(hidden)]
pub mod testing {
    /// Parses a command line (argv without the program name) as [`crate::cli::main`]
    /// does, without running it, and gives the `Debug` form of the command: the values
    /// it carries, for tests that check what a line parses to while the command types
    /// stay private to the CLI.
    pub fn parse_command(argv: Vec<std::ffi::OsString>) -> crate::Result<String> {
        crate::cli::parse(argv).map(|(_, cmd)| format!("{cmd:?}"))
    }
}

pub use credentials::Credentials;
pub use error::{Error, Result};
pub use glacier::{Client, ClientConfig};
pub use treehash::{TreeHash, TreeHasher};
