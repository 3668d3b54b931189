//! What the vault-scale commands (`vault export`, `vault purge`, `vault plan`, `vault
//! delete --when-empty`) read from the command line alike: the inventory source and the
//! selection, sizes and durations. Defined once here so no command reaches into another's
//! file for them.

use std::path::PathBuf;
use std::time::Duration;

use super::{Args, flags};
use crate::config::{Env, ProcessEnv};
use crate::error::{Error, Result};
use crate::glacier::JobId;
use crate::vault::InventorySource;
use crate::vault::select::{Glob, Selection, Shard, parse_date};

/// The S3 part size when `--s3-part-size` is not given: 16 MiB keeps memory at about
/// threads x 16 MiB and needs 10,000 parts only above 156 GiB (then it grows).
pub(crate) const DEFAULT_S3_PART_SIZE: u64 = 16 << 20;

/// `SIZE`: bytes, or with a binary suffix K, M, G, T (`500G`, `1.5T` is not accepted).
pub(crate) fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("unknown unit '{c}' (use K, M, G or T)")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| "expected a number of bytes, e.g. 500G".to_string())?;
    n.checked_mul(mult).ok_or_else(|| "too large".into())
}

/// A `SIZE` that must be more than 0 (`--max-bytes-per-day`).
pub(crate) fn parse_positive_size(s: &str) -> std::result::Result<u64, String> {
    match parse_size(s)? {
        0 => Err("must be more than 0".to_string()),
        n => Ok(n),
    }
}

/// `DURATION`: `250ms`, `30s`, `15m`, `2h`, or plain seconds.
pub(crate) fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let bad = || "expected a duration like 30s, 15m or 1h".to_string();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: u64 = num.parse().map_err(|_| bad())?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(bad()),
    };
    if d.is_zero() {
        return Err("must be more than 0".into());
    }
    Ok(d)
}

fn usage<T, E: std::fmt::Display>(flag: &str, v: &str, r: std::result::Result<T, E>) -> Result<T> {
    r.map_err(|e| Error::Usage(format!("{flag} '{v}': {e}")))
}

/// The options `vault export` and `vault purge` share, defined once: where the inventory
/// comes from (`--inventory`, `--inventory-job`, else a new job) and what is in scope
/// (`--include`, `--exclude`, `--created-after`, `--created-before`, `--shard`).
pub(crate) fn source_and_selection(args: &mut Args) -> Result<(InventorySource, Selection)> {
    let inventory: Option<PathBuf> = args.path(&flags::INVENTORY_FILE)?;
    let inventory_job: Option<String> = args.text(&flags::INVENTORY_JOB)?;
    let source = match (inventory, inventory_job) {
        (Some(_), Some(_)) => {
            return Err(Error::Usage(
                "give --inventory or --inventory-job, not both".into(),
            ));
        }
        (Some(f), None) => InventorySource::File(f),
        (None, Some(j)) => InventorySource::Job(JobId::new(j)?),
        (None, None) => InventorySource::New,
    };
    let mut selection = Selection::default();
    for (flag, list) in [
        (&flags::INCLUDE, &mut selection.include),
        (&flags::EXCLUDE, &mut selection.exclude),
    ] {
        for v in args.texts(flag)? {
            list.push(usage(flag.long, &v, v.parse::<Glob>())?);
        }
    }
    selection.created_after = args.parsed(&flags::CREATED_AFTER, parse_date)?;
    selection.created_before = args.parsed(&flags::CREATED_BEFORE, parse_date)?;
    // `auto/N`: the index comes from the environment (Kubernetes, AWS Batch); without
    // one the run refuses before sending anything (`Selection::check`).
    if let Some(v) = args.text(&flags::SHARD)? {
        match Shard::parse_with_index(&v, &|var| ProcessEnv.var(var)) {
            Ok(s) => selection.shard = Some(s),
            Err(e) if v.trim().starts_with("auto/") => {
                selection.shard_unresolved = Some(format!("'{v}': {e}"));
            }
            Err(e) => return Err(Error::Usage(format!("--shard '{v}': {e}"))),
        }
    }
    Ok((source, selection))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("500G"), Ok(500 << 30));
        assert_eq!(parse_size("10T"), Ok(10 << 40));
        assert_eq!(parse_size("12"), Ok(12));
        assert!(parse_size("1.5T").is_err());
        assert!(parse_size("3X").is_err());
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("1d").is_err());
    }
}
