//! The test-only environment knobs, read in one place. Each lets the integration tests
//! drive a path that real time or a real disk would make slow or impossible: polls every
//! few milliseconds, short retry pauses, a fixed "now", a disk that says it is full. None
//! is documented for users; none changes what is sent, only when or whether.

use std::time::Duration;

use crate::config::{Env, ProcessEnv};
use crate::error::{Error, Result};

/// `GLACIER_POLL_MS`: job polls (and `vault delete --when-empty --wait`) every N ms.
pub(crate) fn poll_override() -> Option<Duration> {
    millis(&ProcessEnv, "GLACIER_POLL_MS")
}

/// `GLACIER_RETRY_BASE_MS`: the client's first retry pause (the longest is 8 times it),
/// and the first pause of a long run after a fault that outlasted the client's retries.
pub(crate) fn retry_base(env: &dyn Env) -> Option<Duration> {
    millis(env, "GLACIER_RETRY_BASE_MS")
}

/// `GLACIER_TEST_NOW` (RFC 3339): the time archive ages, pacing windows and job expiry are
/// measured from; else the real clock.
pub(crate) fn now() -> Result<time::OffsetDateTime> {
    match ProcessEnv.var("GLACIER_TEST_NOW") {
        None => Ok(time::OffsetDateTime::now_utc()),
        Some(v) => time::OffsetDateTime::parse(&v, &time::format_description::well_known::Rfc3339)
            .map_err(|_| Error::Usage(format!("GLACIER_TEST_NOW '{v}' is not RFC 3339"))),
    }
}

/// `GLACIER_TEST_FREE_BYTES`: the free space an export's directory reports (the tests
/// cannot fill a disk).
pub(crate) fn free_bytes() -> Option<u64> {
    ProcessEnv
        .var("GLACIER_TEST_FREE_BYTES")
        .and_then(|v| v.parse::<u64>().ok())
}

fn millis(env: &dyn Env, name: &str) -> Option<Duration> {
    env.var(name)
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis)
}
