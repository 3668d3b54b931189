//! `glacier vault plan`: what an export (and a purge after it) would cost and risk, from
//! the inventory alone, before anything is paid.
//!
//! Two streaming passes over the inventory, as export makes them: names over the whole
//! inventory (so collisions match what export will do), then the archives in scope under
//! the same [`Selection`]. Memory is the collision counts (a few words per archive), never
//! the archives. The prices come from a table ([`prices`]); nothing here sends a request,
//! reads a clock or prints: the caller gives the time and renders the [`Report`].

pub mod prices;
pub mod source;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::Result;
use crate::inventory::Entry;
use crate::s3::{MAX_PARTS, StorageClass, part_size_for};
use crate::vault::names_file::{self, NamesFile};
use crate::vault::naming::{Collisions, NameSource};
use crate::vault::{InventoryFile, Selection};

pub use prices::Prices;

/// AWS bills a GB as 2^30 bytes.
pub const GB: f64 = (1u64 << 30) as f64;

/// S3's largest object, 5 TiB (Amazon S3 User Guide, "Amazon S3 multipart upload limits":
/// maximum object size 5 TiB, at most 10,000 parts of 5 MiB to 5 GiB).
pub const S3_MAX_OBJECT_SIZE: u64 = 5 << 40;

/// Per archived object in GLACIER or DEEP_ARCHIVE, S3 also bills 8 KiB at the STANDARD
/// rate and 32 KiB at the class's rate (Amazon S3 User Guide, lifecycle "Cost
/// considerations": name and metadata, and the archive's index).
const OVERHEAD_STANDARD_BYTES: f64 = 8.0 * 1024.0;
const OVERHEAD_CLASS_BYTES: f64 = 32.0 * 1024.0;

/// How many examples each risk keeps.
pub const EXAMPLES: usize = 10;

/// The size classes of the histogram: upper bounds (exclusive), the last unbounded.
const BUCKETS: [(u64, &str); 7] = [
    (1 << 20, "< 1 MiB"),
    (16 << 20, "1 MiB - 16 MiB"),
    (256 << 20, "16 MiB - 256 MiB"),
    (4 << 30, "256 MiB - 4 GiB"),
    (64 << 30, "4 GiB - 64 GiB"),
    (1 << 40, "64 GiB - 1 TiB"),
    (u64::MAX, ">= 1 TiB"),
];

/// Where the export would go.
#[derive(Debug, Clone, Default)]
pub enum Target {
    /// None given: retrieval and purge figures only.
    #[default]
    None,
    /// A directory.
    Dir,
    /// An S3 bucket, with the part size the export would use.
    S3 {
        /// `--s3-part-size` (the export's default otherwise).
        part_size: u64,
    },
}

/// What to plan.
#[derive(Debug)]
pub struct Options {
    /// What is in scope (export's `--include`, `--exclude`, dates, `--shard`).
    pub selection: Selection,
    /// `--names FILE`.
    pub names: Option<NamesFile>,
    /// `--to`.
    pub target: Target,
    /// `--max-bytes-per-day`.
    pub max_bytes_per_day: Option<u64>,
    /// The price table.
    pub prices: Prices,
    /// Now, for archive ages (injected: tests fix it).
    pub now: OffsetDateTime,
}

/// One size class of the histogram.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Bucket {
    /// `1 MiB - 16 MiB`.
    pub range: String,
    /// Archives in it.
    pub archives: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// What retrieving everything in scope costs in one tier.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TierCost {
    /// `Expedited`, `Standard` or `Bulk`.
    pub tier: String,
    /// USD per GB.
    pub per_gb: f64,
    /// USD per 1,000 requests.
    pub per_1000_requests: f64,
    /// Retrieval requests (one InitiateJob per archive).
    pub requests: u64,
    /// USD for the bytes.
    pub bytes_cost: f64,
    /// USD for the requests.
    pub requests_cost: f64,
    /// The sum.
    pub total: f64,
}

/// What writing everything in scope to S3 costs in one storage class.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ClassCost {
    /// `DEEP_ARCHIVE`...
    pub storage_class: String,
    /// USD for the PUT-class requests.
    pub requests_cost: f64,
    /// USD per month stored (with S3's per-object overhead for the archive classes).
    pub storage_per_month: f64,
}

/// The S3 side.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct S3Costs {
    /// The part size the export would use (raised per object above 10,000 parts).
    pub part_size: u64,
    /// PUT-class requests: PutObject for an archive of at most one part, else
    /// CreateMultipartUpload, each UploadPart and CompleteMultipartUpload.
    pub requests: u64,
    /// Per class, in `--storage-class` order.
    pub classes: Vec<ClassCost>,
}

/// The early-deletion charge a purge of the archives in scope would incur now.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EarlyDeletion {
    /// Archives younger than the minimum.
    pub archives: u64,
    /// Their bytes.
    pub bytes: u64,
    /// USD: their storage for the days left, a month counted as 30 days.
    pub cost: f64,
    /// Archives with no readable creation date (not charged here).
    pub unknown_dates: u64,
}

/// What could go wrong, found before anything is paid.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Risks {
    /// Archives with an empty description and no name from `--names`: named
    /// `00undefined/ARCHIVE_ID`.
    pub empty_descriptions: u64,
    /// Archives whose description gives no usable name: named `00error/ARCHIVE_ID`.
    pub unparsable_descriptions: u64,
    /// Archives named by `--names`.
    pub named_by_file: u64,
    /// Archives whose name is shared (or is another's directory): exported with a suffix.
    pub collisions: u64,
    /// Up to [`EXAMPLES`] of them: (archive ID, final name).
    pub collision_examples: Vec<(String, String)>,
    /// Archives above S3's object size limit (only with `--to s3://`).
    pub too_large_for_s3: u64,
    /// Their bytes.
    pub too_large_for_s3_bytes: u64,
    /// Up to [`EXAMPLES`] of them: (archive ID, size).
    pub too_large_examples: Vec<(String, u64)>,
    /// Inventory entries skipped for lacking an ID, size or tree hash (a note, if any).
    pub unusable_entries: Option<String>,
}

/// The plan.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    /// Archives in the inventory.
    pub inventory_archives: u64,
    /// Archives in scope.
    pub archives: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Sizes of the archives in scope.
    pub histogram: Vec<Bucket>,
    /// Retrieval, per tier.
    pub retrieval: Vec<TierCost>,
    /// S3 requests and storage (with `--to s3://`).
    pub s3: Option<S3Costs>,
    /// A purge now.
    pub early_deletion: EarlyDeletion,
    /// `--max-bytes-per-day`, if given.
    pub max_bytes_per_day: Option<u64>,
    /// Days the pacing takes (`None` without `--max-bytes-per-day`: no pacing).
    pub pacing_days: Option<u64>,
    /// Risks.
    pub risks: Risks,
}

/// Plans from `inv`; sends nothing.
pub fn run(inv: &InventoryFile, opts: &Options) -> Result<Report> {
    let names = opts.names.as_ref();
    let mut collisions = Collisions::default();
    let mut inventory_archives = 0u64;
    let mut entries = inv.entries()?;
    for e in entries.by_ref() {
        let e = e?;
        inventory_archives += 1;
        let n = names_file::name_for(names, &e.description, &e.archive_id);
        collisions.add(&n.path, &e.creation_date);
    }
    let unusable = entries.unusable().note();
    let mut t = Tally::new(opts);
    for e in inv.entries()? {
        let e = e?;
        let n = names_file::name_for(names, &e.description, &e.archive_id);
        let name = collisions.resolve(&n.path, &e.creation_date, &e.archive_id);
        if !opts
            .selection
            .admits(&e.archive_id, &name, &e.creation_date)?
        {
            continue;
        }
        t.add(&e, &name, n.source, collisions.is_shared(&n.path))?;
    }
    let mut report = t.finish();
    report.inventory_archives = inventory_archives;
    report.risks.unusable_entries = unusable;
    Ok(report)
}

/// The second pass's running sums.
struct Tally<'a> {
    opts: &'a Options,
    report: Report,
    s3_requests: u64,
}

impl<'a> Tally<'a> {
    fn new(opts: &'a Options) -> Self {
        let report = Report {
            histogram: BUCKETS
                .iter()
                .map(|(_, r)| Bucket {
                    range: r.to_string(),
                    ..Bucket::default()
                })
                .collect(),
            max_bytes_per_day: opts.max_bytes_per_day,
            ..Report::default()
        };
        Tally {
            opts,
            report,
            s3_requests: 0,
        }
    }

    fn add(&mut self, e: &Entry, name: &str, source: NameSource, shared: bool) -> Result<()> {
        let r = &mut self.report;
        r.archives += 1;
        r.bytes = r.bytes.saturating_add(e.size);
        let b = BUCKETS.iter().position(|(up, _)| e.size < *up).unwrap_or(6);
        r.histogram[b].archives += 1;
        r.histogram[b].bytes = r.histogram[b].bytes.saturating_add(e.size);
        let listed = self
            .opts
            .names
            .as_ref()
            .is_some_and(|n| n.name(&e.archive_id).is_some());
        if listed {
            r.risks.named_by_file += 1;
        } else if source == NameSource::ArchiveId {
            if e.description.trim().is_empty() {
                r.risks.empty_descriptions += 1;
            } else {
                r.risks.unparsable_descriptions += 1;
            }
        }
        if shared {
            r.risks.collisions += 1;
            if r.risks.collision_examples.len() < EXAMPLES {
                let ex = (e.archive_id.clone(), name.to_string());
                r.risks.collision_examples.push(ex);
            }
        }
        if let Target::S3 { part_size } = self.opts.target {
            if e.size > S3_MAX_OBJECT_SIZE {
                r.risks.too_large_for_s3 += 1;
                r.risks.too_large_for_s3_bytes += e.size;
                if r.risks.too_large_examples.len() < EXAMPLES {
                    r.risks
                        .too_large_examples
                        .push((e.archive_id.clone(), e.size));
                }
            } else {
                self.s3_requests += s3_requests(e.size, part_size)?;
            }
        }
        self.early_deletion(e);
        Ok(())
    }

    fn early_deletion(&mut self, e: &Entry) {
        let d = &mut self.report.early_deletion;
        let Ok(created) = OffsetDateTime::parse(&e.creation_date, &Rfc3339) else {
            d.unknown_dates += 1;
            return;
        };
        let p = &self.opts.prices;
        let age_days = (self.opts.now - created).as_seconds_f64() / 86_400.0;
        let left = p.vault_minimum_days - age_days.max(0.0);
        if left > 0.0 {
            d.archives += 1;
            d.bytes = d.bytes.saturating_add(e.size);
            d.cost += e.size as f64 / GB * p.vault_storage_per_gb_month * left / 30.0;
        }
    }

    fn finish(mut self) -> Report {
        let p = &self.opts.prices;
        let r = &mut self.report;
        let gb = r.bytes as f64 / GB;
        r.retrieval = prices::TIERS
            .iter()
            .zip(p.tiers)
            .map(|(tier, t)| {
                let bytes_cost = gb * t.per_gb;
                let requests_cost = r.archives as f64 / 1000.0 * t.per_1000_requests;
                TierCost {
                    tier: tier.to_string(),
                    per_gb: t.per_gb,
                    per_1000_requests: t.per_1000_requests,
                    requests: r.archives,
                    bytes_cost,
                    requests_cost,
                    total: bytes_cost + requests_cost,
                }
            })
            .collect();
        if let Target::S3 { part_size } = self.opts.target {
            r.s3 = Some(s3_costs(p, r, self.s3_requests, part_size));
        }
        r.pacing_days = r
            .max_bytes_per_day
            .map(|per_day| r.bytes.div_ceil(per_day.max(1)));
        self.report
    }
}

/// PUT-class requests to write one object of `size` bytes as export does: one PutObject
/// up to a part, else CreateMultipartUpload, the parts and CompleteMultipartUpload.
fn s3_requests(size: u64, preferred_part: u64) -> Result<u64> {
    let part = part_size_for(size, preferred_part)?;
    if size <= part {
        return Ok(1);
    }
    let parts = size.div_ceil(part);
    debug_assert!(parts <= MAX_PARTS);
    Ok(parts + 2)
}

fn s3_costs(p: &Prices, r: &Report, requests: u64, part_size: u64) -> S3Costs {
    // Archives too large for S3 are not written, so neither stored nor requested.
    let fits = r.bytes - r.risks.too_large_for_s3_bytes;
    let objects = (r.archives - r.risks.too_large_for_s3) as f64;
    let standard = p.class(StorageClass::Standard).storage_per_gb_month;
    let classes = StorageClass::ALL
        .iter()
        .map(|&c| {
            let cp = p.class(c);
            let mut storage = fits as f64 / GB * cp.storage_per_gb_month;
            if matches!(c, StorageClass::Glacier | StorageClass::DeepArchive) {
                storage += objects * OVERHEAD_STANDARD_BYTES / GB * standard;
                storage += objects * OVERHEAD_CLASS_BYTES / GB * cp.storage_per_gb_month;
            }
            ClassCost {
                storage_class: c.as_str().to_string(),
                requests_cost: requests as f64 / 1000.0 * cp.put_per_1000_requests,
                storage_per_month: storage,
            }
        })
        .collect();
    S3Costs {
        part_size,
        requests,
        classes,
    }
}
