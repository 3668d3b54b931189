//! glacier-upload: a command-line tool and library for Amazon S3 Glacier vaults.
//!
//! The library is layered as `../shared/DESIGN.md` (and the README's "Architecture")
//! describes: pure cores ([`treehash`]) at the bottom, file-level work ([`filehash`]) above
//! them, and [`cli`] on top as the only code that reads argv or prints results.

pub mod cli;
pub mod config;
pub mod credentials;
pub mod download;
pub mod durable;
pub mod error;
pub mod export;
pub mod filehash;
pub mod glacier;
pub mod inventory;
pub mod pack;
pub mod plan;
pub mod progress;
pub mod purge;
pub mod s3;
pub mod signals;
pub mod sigv4;
pub mod sync;
pub mod treehash;
pub mod upload;
pub mod vault_delete;
pub mod workers;

pub use error::{Error, Result};
pub use treehash::{TreeHash, TreeHasher};
