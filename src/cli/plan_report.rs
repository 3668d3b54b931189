//! The cost and risk summary of a plan, as `vault plan` prints it and `vault export
//! --dry-run` prints it too: one renderer for both, so the two never disagree.

use super::Output;
use crate::error::Result;
use crate::export::S3Target;
use crate::plan::{self, Report};
use crate::progress::human_bytes;

/// Where the prices came from, for the last line of the summary.
pub(crate) fn prices_from(file: Option<&std::path::Path>) -> String {
    match file {
        Some(p) => p.display().to_string(),
        None => format!(
            "us-east-1 list prices of {} (shipped table)",
            plan::prices::shipped_date()
        ),
    }
}

/// Prints a plan's cost and risk summary (`vault plan`, and export's `--dry-run`).
pub(crate) fn print_report(
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
    }
}
