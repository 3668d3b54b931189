//! `glacier vault plan [OPTIONS] VAULT`: parses the flags and prints the plan; the work
//! is in `crate::plan` (which reads the inventory through export's inventory source and
//! selects with export's selection).

use std::path::PathBuf;

use super::knobs::now;
use super::plan_report::{prices_from, print_report};
use super::scope::{parse_positive_size, parse_size};
use super::{Args, Global, Output, flags, note};
use crate::config::ProcessEnv;
use crate::error::{Error, Result};
use crate::export::S3Target;
use crate::plan::{self, Prices, Target};
use crate::progress::human_bytes;
use crate::s3;
use crate::vault::names_file::NamesFile;
use crate::vault::{InventorySource, Selection};

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

impl PlanCmd {
    pub(super) fn parse(mut args: Args) -> Result<PlanCmd> {
        let (source, selection) = super::scope::source_and_selection(&mut args)?;
        let to: Option<String> = args.text(&flags::PLAN_TO)?;
        let names = args.path(&flags::NAMES)?;
        let prices = args.path(&flags::PRICES)?;
        let part_size = args
            .parsed(&flags::S3_PART_SIZE, parse_size)?
            .unwrap_or(super::scope::DEFAULT_S3_PART_SIZE);
        if !(s3::MIN_PART_SIZE..=s3::MAX_PART_SIZE).contains(&part_size) {
            return Err(Error::Usage(format!(
                "--s3-part-size must be between {} and {} (S3's part limits)",
                human_bytes(s3::MIN_PART_SIZE),
                human_bytes(s3::MAX_PART_SIZE)
            )));
        }
        let max_bytes_per_day = args.parsed(&flags::PLAN_MAX_BYTES_PER_DAY, parse_positive_size)?;
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
            Some(Dest::Dir(d)) => Some(crate::vault::state_dir(d)),
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
