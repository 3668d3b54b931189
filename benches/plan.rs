//! Scale check for `glacier vault plan` (not a timed test): plans a synthetic
//! 1,000,000-archive inventory (both passes: names over the whole inventory with
//! collisions, then costs, histogram, S3 requests, early deletion and risks of the
//! archives in scope), with a `--names` file naming every tenth archive, and prints the
//! time of each step and the peak RSS. Targets: under 256 MiB and under a minute.
//!
//! Run: `cargo bench --bench plan` (optionally `-- N` for another count). With
//! `GLACIER_BENCH_KEEP=DIR` the inventory and names file are left in DIR, to measure the
//! binary itself: `/usr/bin/time -f %M glacier vault plan --inventory DIR/inventory.json
//! --names DIR/names.csv --to s3://b/p v`.

use std::io::{BufWriter, Write};
use std::time::Instant;

use glacier_upload::plan::{self, Prices, Target};
use glacier_upload::vault::names_file::NamesFile;
use glacier_upload::vault::{InventoryFile, Selection};

/// Peak resident set size in KiB (Linux `VmHWM`), if known.
fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn generate(dir: &std::path::Path, n: u64) {
    let mut w =
        BufWriter::new(std::fs::File::create(dir.join("inventory.json")).expect("inventory"));
    let mut names = BufWriter::new(std::fs::File::create(dir.join("names.csv")).expect("names"));
    writeln!(names, "archive_id,name").expect("write");
    write!(w, "{{\"VaultARN\":\"arn:aws:glacier:us-east-1:1:vaults/v\",\"InventoryDate\":\"2026-01-01T00:00:00Z\",\"ArchiveList\":[").expect("write");
    for i in 0..n {
        if i > 0 {
            w.write_all(b",").expect("write");
        }
        // 138-character IDs like Glacier's; every 10th name repeats (collisions), every
        // 100th description is empty, every 10th archive is named by the names file.
        let id = format!("{i:0>138}");
        let name = match i {
            _ if i % 100 == 1 => String::new(),
            _ if i % 10 == 0 => format!("photos/{}/same.jpg", i % 1000),
            _ => format!("photos/{}/img_{i}.jpg", i % 1000),
        };
        if i % 10 == 3 {
            writeln!(names, "{id},\"renamed/{i}, \\\"x\\\".jpg\"").expect("write");
        }
        write!(
            w,
            "{{\"ArchiveId\":\"{id}\",\"ArchiveDescription\":\"{name}\",\"CreationDate\":\"2026-{:02}-{:02}T00:00:00Z\",\"Size\":{},\"SHA256TreeHash\":\"{:064x}\"}}",
            1 + i % 12,
            1 + i % 28,
            1 + (i * 7919) % (64 << 20),
            i
        )
        .expect("write");
    }
    w.write_all(b"]}").expect("write");
}

fn main() {
    let n: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let keep = std::env::var_os("GLACIER_BENCH_KEEP").map(std::path::PathBuf::from);
    let dir = keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("glacier-plan-bench-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).expect("bench dir");

    let t = Instant::now();
    generate(&dir, n);
    println!("generated {n} archives in {:.1?}", t.elapsed());

    let t = Instant::now();
    let names = NamesFile::read(&dir.join("names.csv")).expect("names");
    println!("read {} names in {:.1?}", names.len(), t.elapsed());
    let inv = InventoryFile::open(&dir.join("inventory.json")).expect("open inventory");
    let opts = plan::Options {
        selection: Selection::default(),
        names: Some(names),
        target: Target::S3 {
            part_size: 16 << 20,
        },
        max_bytes_per_day: Some(10 << 40),
        prices: Prices::shipped(),
        now: time::OffsetDateTime::parse(
            "2026-06-01T00:00:00Z",
            &time::format_description::well_known::Rfc3339,
        )
        .expect("a fixed time"),
    };
    let t = Instant::now();
    let r = plan::run(&inv, &opts).expect("plan");
    println!(
        "plan: {} archives, {} bytes, {} collisions, {} empty descriptions, {} named by file, {} S3 requests, early deletion ${:.2}; {:.1?}",
        r.archives,
        r.bytes,
        r.risks.collisions,
        r.risks.empty_descriptions,
        r.risks.named_by_file,
        r.s3.as_ref().map_or(0, |s| s.requests),
        r.early_deletion.cost,
        t.elapsed()
    );
    match peak_rss_kib() {
        Some(k) => println!("peak RSS: {:.1} MiB (target < 256 MiB)", k as f64 / 1024.0),
        None => println!("peak RSS: unknown (no /proc/self/status)"),
    }
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
