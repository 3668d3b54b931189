//! The S3 client of the commands that reach a bucket (`vault export ... s3://`,
//! `vault purge --only-exported s3://`): one place, so both reach the same bucket the
//! same way (region, credentials chain, retries and timeouts of the Glacier client; the
//! endpoint from `--s3-endpoint-url`, the environment, the profile, else AWS's; the
//! `--limit-rate` limit shared with the Glacier client).

use std::sync::Arc;
use std::time::Duration;

use super::Global;
use crate::config::{Env, ProcessEnv};
use crate::error::Result;
use crate::s3;

/// Builds the S3 client; `endpoint_url` is the value of `--s3-endpoint-url`.
pub(super) fn s3_client(global: &Global, endpoint_url: Option<&str>) -> Result<Arc<s3::Client>> {
    let env = ProcessEnv;
    let resolved = crate::config::resolve(&global.settings, &env)?;
    let endpoint = s3::resolve_endpoint(
        endpoint_url,
        &env,
        &resolved.profile,
        &resolved.region,
        global.settings.allow_http,
    )?;
    let credentials = crate::credentials::chain(&resolved, &env)?;
    let mut cfg = s3::ClientConfig::new(resolved.region.clone(), endpoint, credentials);
    cfg.ca_bundle = resolved.ca_bundle.clone();
    if let Some(n) = global.max_attempts {
        cfg.retry.max_attempts = n;
    }
    // The same test hook as the Glacier client's.
    if let Some(base) = super::knobs::retry_base(&env) {
        cfg.retry.base_delay = base;
        cfg.retry.max_delay = base * 8;
    }
    if let Some(v) = env.var(crate::aws::MIN_UPLOAD_RATE_VAR) {
        cfg.min_rate = crate::aws::parse_min_upload_rate(&v)?;
    }
    if let Some(s) = global.connect_timeout {
        cfg.connect_timeout = Duration::from_secs(s);
    }
    if let Some(s) = global.timeout {
        cfg.timeout = Duration::from_secs(s);
    }
    if global.verbose {
        cfg.log = Some(Arc::new(|line: &str| eprintln!("glacier: {line}")));
    }
    // The Glacier client's limit itself (the same `Arc`): one rate for the whole run.
    cfg.limit_rate = global.limit_rate.clone();
    Ok(Arc::new(s3::Client::new(cfg)?))
}
