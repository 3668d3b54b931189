//! [`Cached`]: temporary credentials kept until shortly before they expire, with the
//! clock injected so tests decide what "now" is.

use std::sync::{Arc, Mutex};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Credentials, Log, Provider};
use crate::error::Result;
use crate::sync::LockExt;

/// Temporary credentials are refreshed when they expire within this window, so a request
/// signed now is not rejected mid-flight (the AWS SDKs refresh 5 to 15 minutes early).
pub const REFRESH_WINDOW: time::Duration = time::Duration::minutes(5);

/// When a source hands back credentials that are already inside the refresh window, ask it
/// again at most this often rather than on every request.
const MIN_REFETCH_INTERVAL: time::Duration = time::Duration::seconds(30);

/// The clock a [`Cached`] provider reads.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Caches a provider's credentials; refreshes them when they expire within
/// [`REFRESH_WINDOW`] (clock injected).
pub struct Cached {
    inner: Box<dyn Provider>,
    clock: Clock,
    log: Option<Log>,
    // The lock is held while refreshing, so concurrent workers wait for one refresh
    // instead of all running the credential process at once.
    state: Mutex<Option<(Credentials, OffsetDateTime)>>,
}

impl Cached {
    /// Caches `inner`, reading the system clock.
    pub fn new(inner: Box<dyn Provider>) -> Cached {
        Cached::with_clock(inner, Arc::new(OffsetDateTime::now_utc))
    }

    /// Caches `inner`, reading `clock` to decide when to refresh.
    pub fn with_clock(inner: Box<dyn Provider>, clock: Clock) -> Cached {
        Cached {
            inner,
            clock,
            log: None,
            state: Mutex::new(None),
        }
    }

    /// Also tells `log` each time credentials are fetched (the source and when they
    /// expire; never the keys), for `--verbose`.
    pub fn with_log(mut self, log: Option<Log>) -> Cached {
        self.log = log;
        self
    }
}

impl Provider for Cached {
    fn credentials(&self) -> Result<Credentials> {
        let now = (self.clock)();
        // A poisoned lock only means another thread panicked mid-refresh; the cached value
        // is still a whole `Option`, so carry on with it.
        let mut state = self.state.lock_unpoisoned();
        if let Some((creds, fetched_at)) = state.as_ref() {
            let fresh = match creds.expiration {
                None => true,
                Some(exp) => {
                    // Credentials that were already inside the window when fetched are
                    // kept a little while; others are refreshed as soon as they enter it.
                    let short_lived = *fetched_at >= exp - REFRESH_WINDOW;
                    now < exp - REFRESH_WINDOW
                        || (short_lived && now < exp && now - *fetched_at < MIN_REFETCH_INTERVAL)
                }
            };
            if fresh {
                return Ok(creds.clone());
            }
        }
        match self.inner.credentials() {
            Ok(creds) => {
                if let Some(log) = &self.log {
                    let until = creds
                        .expiration
                        .and_then(|e| e.format(&Rfc3339).ok())
                        .map_or_else(|| "no expiry".to_string(), |e| format!("expire {e}"));
                    let verb = if state.is_some() {
                        "refreshed"
                    } else {
                        "fetched"
                    };
                    log(&format!(
                        "credentials: {verb} from {} ({until})",
                        self.inner.describe()
                    ));
                }
                *state = Some((creds.clone(), now));
                Ok(creds)
            }
            // A failed early refresh is not fatal while the old credentials still work
            // (the SDKs' "static stability"): try again on the next request.
            Err(e) => match state.as_ref() {
                Some((old, _)) if old.expiration.is_some_and(|exp| now < exp) => Ok(old.clone()),
                _ => Err(e),
            },
        }
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}
