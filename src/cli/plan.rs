//! `glacier vault plan [OPTIONS] VAULT`: parses the flags and prints the plan; the work
//! is in `crate::plan` (which reads the inventory through export's inventory source and
//! selects with export's selection).

use std::path::PathBuf;

use super::{Args, Global, Output, flags, note};
use crate::config::ProcessEnv;
use crate::error::{Error, Result};
use crate::export::names_file::NamesFile;
use crate::export::{InventorySource, S3Target, Selection};
use crate::plan::{self, Prices, Report, Target};
use crate::progress::human_bytes;
use crate::s3;

/// A parsed `vault plan`.
#[derive(Debug)]
pub struct PlanCmd {
    vault: String,
    source: InventorySource,
    selection: Selection,
    to: Option<Dest>,
    names: Option<PathBuf>,
    prices: Option<PathBuf>,
    part_size: u64,
    max_bytes_per_day: Option<u64>,
}

#[derive(Debug)]
enum Dest {
    Dir(PathBuf),
    S3(S3Target),
}

/// `SIZE`: bytes, or with a binary suffix K, M, G, T (as export's sizes).
pub(super) fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let s = s.trim();
    let (num, shift) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("unknown unit '{c}' (use K, M, G or T)")),
            };
            (&s[..i], shift)
        }
        _ => (s, 0),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| "expected a number of bytes, e.g. 500G".to_string())?;
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| "too large".into())
}

impl PlanCmd {
    pub(super) fn parse(mut args: Args) -> Result<PlanCmd> {
        let (source, selection) = super::export::source_and_selection(&mut args)?;
        let to: Option<String> = args.text(&flags::PLAN_TO)?;
        let names = args.path(&flags::NAMES)?;
        let prices = args.path(&flags::PRICES)?;
        let part_size = args
            .parsed(&flags::S3_PART_SIZE, parse_size)?
            .unwrap_or(super::export::DEFAULT_S3_PART_SIZE);
        if !(s3::MIN_PART_SIZE..=s3::MAX_PART_SIZE).contains(&part_size) {
            return Err(Error::Usage(format!(
                "--s3-part-size must be between {} and {} (S3's part limits)",
                human_bytes(s3::MIN_PART_SIZE),
                human_bytes(s3::MAX_PART_SIZE)
            )));
        }
        let max_bytes_per_day = args.parsed(&flags::PLAN_MAX_BYTES_PER_DAY, |v| {
            parse_size(v).and_then(|n| {
                if n == 0 {
                    Err("must be more than 0".to_string())
                } else {
                    Ok(n)
                }
            })
        })?;
        let [vault] = args.exact("vault plan", ["VAULT"])?;
        crate::glacier::check_vault_name(&vault)?;
        let to = match to {
            None => None,
            Some(t) => Some(match S3Target::parse(&t) {
                Some(target) => Dest::S3(target?),
                None => Dest::Dir(PathBuf::from(t)),
            }),
        };
        Ok(PlanCmd {
            vault,
            source,
            selection,
            to,
            names,
            prices,
            part_size,
            max_bytes_per_day,
        })
    }

    /// Where an export to the same destination keeps its journal and saved inventory.
    fn state_dir(&self) -> Result<Option<PathBuf>> {
        Ok(match &self.to {
            None => None,
            Some(Dest::Dir(d)) => Some(crate::export::state_dir(d)),
            Some(Dest::S3(t)) => Some(crate::export::s3::default_journal_dir(
                &ProcessEnv,
                &self.vault,
                t,
            )?),
        })
    }

    pub(super) fn run(self, global: &Global, out: &mut Output) -> Result<()> {
        // `--shard auto/N` without an index: exit 2 before anything is sent.
        self.selection.check()?;
        let prices = match &self.prices {
            Some(p) => Prices::read(p)?,
            None => Prices::shipped(),
        };
        let names = self.names.as_deref().map(NamesFile::read).transpose()?;
        let state_dir = self.state_dir()?;
        let inv = plan::source::inventory(
            &|| global.client(),
            &self.vault,
            &self.source,
            state_dir.as_deref(),
            &mut |m| note(global, m),
        )?;
        let target = match &self.to {
            None => Target::None,
            Some(Dest::Dir(_)) => Target::Dir,
            Some(Dest::S3(_)) => Target::S3 {
                part_size: self.part_size,
            },
        };
        let opts = plan::Options {
            selection: self.selection.clone(),
            names,
            target,
            max_bytes_per_day: self.max_bytes_per_day,
            prices,
            now: now()?,
        };
        let report = plan::run(&inv.file, &opts)?;
        let prices_from = prices_from(self.prices.as_deref());
        if global.json {
            let mut v = serde_json::to_value(&report).map_err(|e| Error::Failed(e.to_string()))?;
            if let Some(o) = v.as_object_mut() {
                o.insert("vault".into(), self.vault.clone().into());
                o.insert("prices".into(), prices_from.into());
            }
            return out.json(&v);
        }
        let s3 = match &self.to {
            Some(Dest::S3(t)) => Some(t),
            _ => None,
        };
        print_report(out, &self.vault, s3, &report, &prices_from)
    }
}

/// Where the prices came from, for the last line of the summary.
pub(super) fn prices_from(file: Option<&std::path::Path>) -> String {
    match file {
        Some(p) => p.display().to_string(),
        None => format!(
            "us-east-1 list prices of {} (shipped table)",
            plan::prices::shipped_date()
        ),
    }
}

/// Prints a plan's cost and risk summary (`vault plan`, and export's `--dry-run`).
pub(super) fn print_report(
    out: &mut Output,
    vault: &str,
    s3: Option<&S3Target>,
    r: &Report,
    prices_from: &str,
) -> Result<()> {
    out.line(&format!(
        "vault '{}': {} of {} archives in scope, {} ({} bytes); nothing was sent",
        vault,
        r.archives,
        r.inventory_archives,
        human_bytes(r.bytes),
        r.bytes
    ))?;
    out.line("sizes:")?;
    for b in r.histogram.iter().filter(|b| b.archives > 0) {
        out.line(&format!(
            "  {:<18}{:>10} archives  {}",
            b.range,
            b.archives,
            human_bytes(b.bytes)
        ))?;
    }
    out.line("retrieval (one request per archive):")?;
    for t in &r.retrieval {
        out.line(&format!(
            "  {:<10} {} = {} for the bytes ({}/GB) + {} for {} requests ({}/1,000)",
            t.tier,
            usd(t.total),
            usd(t.bytes_cost),
            price(t.per_gb),
            usd(t.requests_cost),
            t.requests,
            price(t.per_1000_requests)
        ))?;
    }
    if let (Some(s), Some(target)) = (&r.s3, s3) {
        out.line(&format!(
            "S3 s3://{}/{} ({} PUT requests, parts of {}):",
            target.bucket,
            target.prefix,
            s.requests,
            human_bytes(s.part_size)
        ))?;
        for c in &s.classes {
            out.line(&format!(
                "  {:<13} requests {}, storage {} a month",
                c.storage_class,
                usd(c.requests_cost),
                usd(c.storage_per_month)
            ))?;
        }
    }
    print_purge_and_pacing(out, r)?;
    print_risks(out, r)?;
    out.line(&format!("prices: {prices_from}"))
}

fn print_purge_and_pacing(out: &mut Output, r: &Report) -> Result<()> {
    let d = &r.early_deletion;
    let unknown = match d.unknown_dates {
        0 => String::new(),
        n => format!(" ({n} archives with no creation date not counted)"),
    };
    out.line(&format!(
            "purge now: {} archives ({}) younger than the minimum storage time: early-deletion charge {}{unknown}",
            d.archives,
            human_bytes(d.bytes),
            usd(d.cost)
        ))?;
    match (r.max_bytes_per_day, r.pacing_days) {
        (Some(per_day), Some(days)) => out.line(&format!(
            "pacing: {} a day: {days} days",
            human_bytes(per_day)
        )),
        _ => out.line("pacing: none (no --max-bytes-per-day)"),
    }
}

fn print_risks(out: &mut Output, r: &Report) -> Result<()> {
    let k = &r.risks;
    out.line("risks:")?;
    out.line(&format!(
        "  empty descriptions: {} (named 00undefined/ARCHIVE_ID)",
        k.empty_descriptions
    ))?;
    out.line(&format!(
        "  unparsable descriptions: {} (named 00error/ARCHIVE_ID)",
        k.unparsable_descriptions
    ))?;
    if k.named_by_file > 0 {
        out.line(&format!("  named by --names: {}", k.named_by_file))?;
    }
    out.line(&format!(
        "  name collisions: {} (exported with a date, then ID, suffix)",
        k.collisions
    ))?;
    for (id, name) in &k.collision_examples {
        out.line(&format!("    {name}  <-  {id}"))?;
    }
    if r.s3.is_some() {
        out.line(&format!(
            "  too large for one S3 object (over {}): {}",
            human_bytes(plan::S3_MAX_OBJECT_SIZE),
            k.too_large_for_s3
        ))?;
        for (id, size) in &k.too_large_examples {
            out.line(&format!("    {id}  {}", human_bytes(*size)))?;
        }
    }
    if let Some(n) = &k.unusable_entries {
        out.line(&format!("  {n}"))?;
    }
    Ok(())
}

/// The time archive ages are measured from; a test hook fixes it (`GLACIER_TEST_NOW`,
/// RFC 3339), as `GLACIER_TEST_FREE_BYTES` fixes the free space for export.
pub(super) fn now() -> Result<time::OffsetDateTime> {
    use crate::config::Env;
    match ProcessEnv.var("GLACIER_TEST_NOW") {
        None => Ok(time::OffsetDateTime::now_utc()),
        Some(v) => time::OffsetDateTime::parse(&v, &time::format_description::well_known::Rfc3339)
            .map_err(|_| Error::Usage(format!("GLACIER_TEST_NOW '{v}' is not RFC 3339"))),
    }
}

/// A unit price as the table gives it: `$0.025`, `$10.00` (never rounded to the cent).
fn price(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0');
    let s = match s.find('.') {
        Some(i) if s.len() - i < 3 => format!("{s}{}", "0".repeat(3 - (s.len() - i))),
        _ => s.to_string(),
    };
    format!("${s}")
}

/// `$1,234.57`; amounts under a cent keep four decimals so that a price shows.
fn usd(v: f64) -> String {
    if v != 0.0 && v.abs() < 0.01 {
        return format!("${v:.4}");
    }
    let cents = (v * 100.0).round() as u64;
    let mut whole = (cents / 100).to_string();
    let mut i = whole.len();
    while i > 3 {
        i -= 3;
        whole.insert(i, ',');
    }
    format!("${whole}.{:02}", cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_sizes() {
        assert_eq!(usd(1234.567), "$1,234.57");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(0.0025), "$0.0025");
        assert_eq!(usd(1_000_000.0), "$1,000,000.00");
        assert_eq!(price(0.025), "$0.025");
        assert_eq!(price(10.0), "$10.00");
        assert_eq!(price(0.00099), "$0.00099");
        assert_eq!(price(0.5), "$0.50");
        assert_eq!(parse_size("10T"), Ok(10 << 40));
        assert!(parse_size("1X").is_err());
    }
}
