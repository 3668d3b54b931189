//! What every workflow (upload, retrieval, export, purge) runs with, so each takes the
//! same three things: a context ([`Ctx`]: the Glacier client, the data directory, the
//! stop flag), its own options struct, and a [`Reporter`](crate::progress::Reporter);
//! and returns its own report. The CLI builds the context once (client from the flags,
//! data directory from the environment, stop flag wired to the signals), calls the
//! workflow and prints the report; the workflow never prints, never reads argv or the
//! environment, and never names a flag.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::glacier::Client;

/// The context a workflow runs in.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    /// The Glacier client (credentials, region, retries, rate limit already set).
    pub glacier: &'a Client,
    /// Where state that outlives a run is kept (resume state, receipts), if anywhere.
    pub data_dir: Option<&'a Path>,
    /// Set by Ctrl-C, SIGTERM or SIGHUP: stop between steps.
    pub stop: &'a Arc<AtomicBool>,
}

impl Ctx<'_> {
    /// Whether the run was asked to stop.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}
