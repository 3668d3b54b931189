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

use crate::error::{Error, Result, Setting};
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

/// How many archives one pass of [`OldestFirst`] holds.
const WINDOW: usize = 32_768;

/// The archives in scope oldest first (`CreationDate`; ties, and dates that are not RFC
/// 3339, which go first, keep inventory order), from `make`, which streams the scope in
/// inventory order each time it is called. Memory stays bounded at vault scale: the order
/// is 16 bytes an archive while it is sorted and 4 after, and archives are read
/// [`WINDOW`] at a time, each window one
/// more pass over the saved inventory (a paced export runs for days; its passes are
/// spread over them, and each stops at the window's last archive).
pub(super) fn oldest_first<F, I>(make: F) -> Result<OldestFirst<F>>
where
    F: FnMut() -> Result<I>,
    I: Iterator<Item = Result<Item>>,
{
    oldest_first_in(make, WINDOW)
}

fn oldest_first_in<F, I>(mut make: F, window: usize) -> Result<OldestFirst<F>>
where
    F: FnMut() -> Result<I>,
    I: Iterator<Item = Result<Item>>,
{
    let mut keyed: Vec<(i64, u32)> = Vec::new();
    for (i, item) in make()?.enumerate() {
        let pos = u32::try_from(i).map_err(|_| {
            Error::Input("more than 4,294,967,295 archives in scope to pace".into())
        })?;
        keyed.push((date_key(&item?.creation_date), pos));
    }
    keyed.sort_unstable();
    Ok(OldestFirst {
        make,
        order: keyed.into_iter().map(|(_, pos)| pos).collect(),
        loaded: 0,
        window,
        current: Vec::new().into_iter(),
        failed: false,
    })
}

/// A creation date as nanoseconds since 1970 (`i64::MIN` when it is not RFC 3339).
fn date_key(date: &str) -> i64 {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(date, &Rfc3339)
        .map(|t| {
            t.unix_timestamp_nanos()
                .clamp(i64::MIN as i128, i64::MAX as i128) as i64
        })
        .unwrap_or(i64::MIN)
}

/// The iterator [`oldest_first`] returns.
pub(super) struct OldestFirst<F> {
    make: F,
    /// Inventory positions (among the archives in scope), oldest first.
    order: Vec<u32>,
    /// How much of `order` has been read into windows.
    loaded: usize,
    window: usize,
    current: std::vec::IntoIter<Item>,
    failed: bool,
}

impl<F, I> OldestFirst<F>
where
    F: FnMut() -> Result<I>,
    I: Iterator<Item = Result<Item>>,
{
    /// Reads the next window's archives in one pass over the scope.
    fn load(&mut self) -> Result<()> {
        let end = (self.loaded + self.window).min(self.order.len());
        let mut wanted: Vec<(u32, usize)> = self.order[self.loaded..end]
            .iter()
            .enumerate()
            .map(|(slot, &pos)| (pos, slot))
            .collect();
        wanted.sort_unstable();
        let mut slots: Vec<Option<Item>> = (0..wanted.len()).map(|_| None).collect();
        let mut next = wanted.iter().peekable();
        for (i, item) in (self.make)()?.enumerate() {
            let Some(&&(pos, slot)) = next.peek() else {
                break;
            };
            let item = item?;
            if i == pos as usize {
                slots[slot] = Some(item);
                next.next();
                if next.peek().is_none() {
                    break;
                }
            }
        }
        let items: Option<Vec<Item>> = slots.into_iter().collect();
        let items = items.ok_or_else(|| {
            Error::Input(
                "the saved inventory holds fewer archives in scope than when the run began".into(),
            )
        })?;
        self.current = items.into_iter();
        self.loaded = end;
        Ok(())
    }
}

impl<F, I> Iterator for OldestFirst<F>
where
    F: FnMut() -> Result<I>,
    I: Iterator<Item = Result<Item>>,
{
    type Item = Result<Item>;

    fn next(&mut self) -> Option<Result<Item>> {
        loop {
            if let Some(item) = self.current.next() {
                return Some(Ok(item));
            }
            if self.failed || self.loaded >= self.order.len() {
                return None;
            }
            if let Err(e) = self.load() {
                self.failed = true;
                return Some(Err(e));
            }
        }
    }
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

    fn item(n: usize, date: &str) -> Item {
        Item {
            archive_id: format!("a{n}"),
            name: format!("n{n}"),
            size: 1,
            tree_hash: String::new(),
            creation_date: date.into(),
            description: String::new(),
            mtime: None,
        }
    }

    /// Windows of 2 over 7 archives: 4 passes after the one that orders them, each
    /// stopping at its window's last archive; the order is by date, ties and bad dates
    /// in inventory order, bad dates first.
    #[test]
    fn oldest_first_reads_window_by_window_in_date_order() {
        let dates = [
            "2020-01-03T00:00:00Z",
            "2020-01-01T00:00:00.500Z",
            "not a date",
            "2020-01-01T00:00:00.25Z",
            "2020-01-03T00:00:00Z",
            "2019-12-31T23:00:00-02:00",
            "",
        ];
        let all: Vec<Item> = dates.iter().enumerate().map(|(n, d)| item(n, d)).collect();
        let passes = std::cell::Cell::new(0);
        let read = std::cell::Cell::new(0);
        let it = oldest_first_in(
            || {
                passes.set(passes.get() + 1);
                let read = &read;
                Ok(all
                    .clone()
                    .into_iter()
                    .map(Ok)
                    .inspect(move |_| read.set(read.get() + 1)))
            },
            2,
        )
        .expect("order");
        let got: Vec<String> = it.map(|i| i.expect("item").archive_id).collect();
        assert_eq!(got, ["a2", "a6", "a3", "a1", "a5", "a0", "a4"]);
        assert_eq!(passes.get(), 5);
        // 7 to order; then windows {2,6}, {3,1}, {5,0}, {4}: each pass stops once it has them.
        assert_eq!(read.get(), 7 + 7 + 4 + 6 + 5);
    }

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
