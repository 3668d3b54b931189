//! Pacing an export by bytes per day, and re-requesting staged output before it expires.
//!
//! Glacier limits retrievals per day ("35 random restore requests per PiB stored per
//! day"), and AWS's own vault-to-S3 solution paces by bytes and requests archives in
//! creation-date order, oldest first; so does `--max-bytes-per-day`. The bytes requested
//! in the last 24 hours come from the journal's job records (their time) and the
//! inventory (the archive's size). A job's output stays 24 hours after its
//! `CompletionDate` (Glacier API reference, "Describe Job"); AWS's solution requests an
//! archive again when less than 5 hours of that are left, and so do we.

use std::collections::HashMap;

use crate::error::{Result, Setting};
use crate::glacier::JobDescription;
use crate::progress::human_bytes;
use crate::vault::Item;
use crate::vault::journal::{Key, State, unix_seconds};

/// One day, in seconds: the pacing window and how long Glacier keeps job output.
const DAY: i64 = 86_400;
/// Output with less than this left (seconds) is requested again rather than downloaded.
const EXPIRY_MARGIN: i64 = 5 * 3_600;

/// `--max-bytes-per-day` and the sizes of the archives in scope.
pub(super) struct Pace {
    limit: u64,
    sizes: HashMap<Key, u64>,
}

impl Pace {
    /// A pace of `limit` bytes a day.
    pub(super) fn new(limit: u64) -> Pace {
        Pace {
            limit,
            sizes: HashMap::new(),
        }
    }

    /// Remembers an archive's size, for requests the journal records.
    pub(super) fn size(&mut self, k: Key, size: u64) {
        self.sizes.insert(k, size);
    }

    /// `Ok` when a retrieval of `size` bytes may start at `now` (Unix seconds); else
    /// why not and until when. One archive larger than the limit starts alone when
    /// nothing else was requested that day, or it would never start.
    pub(super) fn check(
        &self,
        state: &State,
        now: i64,
        size: u64,
    ) -> std::result::Result<(), String> {
        let since = now - DAY;
        let mut used = 0u64;
        let mut oldest: Option<i64> = None;
        // The journal appends in time order: only the window's tail is read.
        for (t, k) in state.requested.iter().rev().take_while(|(t, _)| *t > since) {
            used = used.saturating_add(self.sizes.get(k).copied().unwrap_or(0));
            oldest = Some(oldest.map_or(*t, |o| o.min(*t)));
        }
        if used == 0 || used.saturating_add(size) <= self.limit {
            return Ok(());
        }
        let until = oldest.map_or_else(String::new, |o| {
            time::OffsetDateTime::from_unix_timestamp(o + DAY)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .map(|t| format!(" (the window moves on at {t})"))
                .unwrap_or_default()
        });
        Err(format!(
            "{} {}: {} requested in the last 24 h; the next archive ({}) waits{until}",
            Setting::MaxBytesPerDay,
            human_bytes(self.limit),
            human_bytes(used),
            human_bytes(size)
        ))
    }
}

/// The archives in scope oldest first (`CreationDate`, RFC 3339 in UTC, so it sorts as
/// text; ties keep inventory order). Holds the scope in memory, so only when pacing.
pub(super) fn oldest_first(
    items: impl Iterator<Item = Result<Item>>,
) -> Result<std::vec::IntoIter<Result<Item>>> {
    let mut v = items.collect::<Result<Vec<Item>>>()?;
    v.sort_by(|a, b| a.creation_date.cmp(&b.creation_date));
    Ok(v.into_iter().map(Ok).collect::<Vec<_>>().into_iter())
}

/// Why a Succeeded job's output should be requested again before downloading it: less
/// than 5 hours of its 24 are left at `now`. `requested` is when the journal says the
/// job was requested: a completion before that means our clock and Glacier's disagree,
/// and then nothing is judged.
pub(super) fn expiring(j: &JobDescription, requested: Option<i64>, now: i64) -> Option<String> {
    let done_at = j.completion_date.as_deref()?;
    let done = unix_seconds(done_at)?;
    if requested.is_some_and(|r| done < r) {
        return None;
    }
    let left = done + DAY - now;
    (left < EXPIRY_MARGIN).then(|| {
        format!(
            "completed at {done_at} and its output expires within {} h (under 5 h left)",
            (left.max(0) + 3_599) / 3_600
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(completed: &str) -> JobDescription {
        JobDescription {
            completion_date: Some(completed.into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_window_is_the_last_24_hours_and_one_big_archive_goes_alone() {
        let mut pace = Pace::new(2_000);
        let mut state = State::default();
        for (i, t) in [(1u128, 0i64), (2, 10), (3, DAY + 5)] {
            pace.size(i, 1_000);
            state.requested.push((t, i));
        }
        // At DAY + 5 the first request (t = 0) is out of the window: 2,000 in it.
        assert!(pace.check(&state, DAY + 5, 1).is_err());
        // At DAY + 10 the second is out too: 1,000 in it, room for 1,000 more.
        assert!(pace.check(&state, DAY + 10, 1_000).is_ok());
        assert!(pace.check(&state, DAY + 10, 1_001).is_err());
        // Nothing in the window: an archive over the limit still starts.
        assert!(pace.check(&state, 3 * DAY, 5_000).is_ok());
    }

    #[test]
    fn output_with_under_5_hours_left_is_expiring_unless_the_clocks_disagree() {
        let done = "2026-01-01T00:00:00Z";
        let at = unix_seconds(done).expect("date");
        assert!(expiring(&job(done), Some(at - 60), at + 18 * 3_600).is_none());
        let why = expiring(&job(done), Some(at - 60), at + 20 * 3_600).expect("expiring");
        assert!(why.contains("within 4 h"), "{why}");
        // Completed before it was requested by our clock: nothing judged.
        assert!(expiring(&job(done), Some(at + 60), at + 20 * 3_600).is_none());
        assert!(expiring(&JobDescription::default(), None, at).is_none());
    }
}
