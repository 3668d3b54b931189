//! The price table `vault plan` computes with: the one shipped in `prices.tsv` (its header
//! says the date, the region and the pages the figures come from), or a file of the same
//! form given with `--prices FILE`. Every key is required and no other is accepted, so a
//! typo cannot silently price something at zero.

use std::path::Path;

use crate::error::{Error, Result};
use crate::s3::StorageClass;

/// The shipped table.
pub const DEFAULT_TABLE: &str = include_str!("prices.tsv");

/// The date the shipped table gives (`# Date: ...`).
pub fn shipped_date() -> &'static str {
    DEFAULT_TABLE
        .lines()
        .find_map(|l| l.strip_prefix("# Date: "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or("unknown")
}

/// The retrieval tiers, in the order the plan lists them.
pub const TIERS: [&str; 3] = ["Expedited", "Standard", "Bulk"];

/// What one retrieval tier costs.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct TierPrice {
    /// USD per GB retrieved.
    pub per_gb: f64,
    /// USD per 1,000 retrieval requests (one InitiateJob per archive).
    pub per_1000_requests: f64,
}

/// What one S3 storage class costs.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct ClassPrice {
    /// USD per 1,000 PUT-class requests (PutObject, CreateMultipartUpload, UploadPart,
    /// CompleteMultipartUpload).
    pub put_per_1000_requests: f64,
    /// USD per GB-month stored.
    pub storage_per_gb_month: f64,
}

/// A whole price table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Prices {
    /// Expedited, Standard, Bulk ([`TIERS`] order).
    pub tiers: [TierPrice; 3],
    /// Vault storage, USD per GB-month (the early-deletion charge is this, prorated).
    pub vault_storage_per_gb_month: f64,
    /// Days an archive is billed for at least.
    pub vault_minimum_days: f64,
    /// Per S3 class, in [`StorageClass::ALL`] order.
    pub s3: [ClassPrice; 5],
}

impl Prices {
    /// The shipped table.
    pub fn shipped() -> Prices {
        Prices::parse(DEFAULT_TABLE, "src/plan/prices.tsv")
            .expect("the shipped table is checked by a unit test")
    }

    /// Reads a `--prices FILE`; an unreadable one is bad input (exit 2), like a bad one.
    pub fn read(path: &Path) -> Result<Prices> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
        Prices::parse(&text, &path.display().to_string())
    }

    /// Parses a table; `origin` names it in errors (`FILE: line N: why`).
    pub fn parse(text: &str, origin: &str) -> Result<Prices> {
        let keys = keys();
        let mut values: Vec<Option<f64>> = vec![None; keys.len()];
        for (i, raw) in text.lines().enumerate() {
            let bad = |why: String| Error::Input(format!("{origin}: line {}: {why}", i + 1));
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(key), Some(value), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(bad(format!("expected KEY<TAB>VALUE, found '{line}'")));
            };
            let Some(at) = keys.iter().position(|k| k == key) else {
                return Err(bad(format!("unknown key '{key}'")));
            };
            let v: f64 = value
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| bad(format!("'{value}' is not a price (a number, 0 or more)")))?;
            if values[at].replace(v).is_some() {
                return Err(bad(format!("'{key}' is given twice")));
            }
        }
        if let Some(missing) = values.iter().position(Option::is_none) {
            return Err(Error::Input(format!(
                "{origin}: no '{}' (every key of the shipped table is required)",
                keys[missing]
            )));
        }
        let v: Vec<f64> = values.into_iter().flatten().collect();
        let tier = |i: usize| TierPrice {
            per_gb: v[2 * i],
            per_1000_requests: v[2 * i + 1],
        };
        let class = |i: usize| ClassPrice {
            put_per_1000_requests: v[8 + 2 * i],
            storage_per_gb_month: v[8 + 2 * i + 1],
        };
        Ok(Prices {
            tiers: [tier(0), tier(1), tier(2)],
            vault_storage_per_gb_month: v[6],
            vault_minimum_days: v[7],
            s3: [class(0), class(1), class(2), class(3), class(4)],
        })
    }

    /// The price of an S3 class.
    pub fn class(&self, c: StorageClass) -> ClassPrice {
        let i = StorageClass::ALL
            .iter()
            .position(|x| *x == c)
            .expect("ALL lists every class");
        self.s3[i]
    }
}

/// Every key, in the order [`Prices::parse`] reads the values.
fn keys() -> Vec<String> {
    let mut k = Vec::new();
    for t in TIERS {
        k.push(format!("retrieval.{t}.per_gb"));
        k.push(format!("retrieval.{t}.per_1000_requests"));
    }
    k.push("vault.storage_per_gb_month".into());
    k.push("vault.minimum_days".into());
    for c in StorageClass::ALL {
        k.push(format!("s3.{}.put_per_1000_requests", c.as_str()));
        k.push(format!("s3.{}.storage_per_gb_month", c.as_str()));
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_parses_and_says_where_it_comes_from() {
        let p = Prices::parse(DEFAULT_TABLE, "shipped").expect("parses");
        assert_eq!(p.tiers[2].per_gb, 0.0025);
        assert_eq!(
            p.class(StorageClass::DeepArchive).storage_per_gb_month,
            0.00099
        );
        assert_eq!(p.vault_minimum_days, 90.0);
        assert_eq!(shipped_date(), "2026-12-07");
        assert!(DEFAULT_TABLE.contains("https://aws.amazon.com/s3/glacier/pricing/"));
    }

    #[test]
    fn a_bad_table_is_one_line_naming_file_and_line() {
        let err = |t: &str| Prices::parse(t, "p.tsv").expect_err("bad").to_string();
        let good = DEFAULT_TABLE.to_string();
        let m = err(&good.replace("vault.minimum_days\t90", "vault.minimum_days\tninety"));
        assert!(
            m.starts_with("p.tsv: line ") && m.contains("'ninety' is not a price"),
            "{m}"
        );
        let m = err(&format!("{good}\nretrieval.Bulk.per_gbb\t1\n"));
        assert!(m.contains("unknown key 'retrieval.Bulk.per_gbb'"), "{m}");
        let m = err(&format!("{good}\nretrieval.Bulk.per_gb\t1\n"));
        assert!(m.contains("given twice"), "{m}");
        let m = err(&good.replace("retrieval.Bulk.per_gb\t0.0025\n", ""));
        assert_eq!(
            m,
            "p.tsv: no 'retrieval.Bulk.per_gb' (every key of the shipped table is required)"
        );
        let m = err("retrieval.Bulk.per_gb\n");
        assert!(
            m.starts_with("p.tsv: line 1: expected KEY<TAB>VALUE"),
            "{m}"
        );
        assert!(!m.contains('\n'));
        assert!(err("retrieval.Bulk.per_gb\t-1\n").contains("line 1"));
    }
}
