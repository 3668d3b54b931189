//! Scale check for `glacier vault export` (not a timed test): plans a synthetic
//! 1,000,000-archive inventory (names over the whole inventory, selection, a shard, the
//! dry-run plan) and journals it (a `job` and an `exported` line per archive, as a full
//! run writes them, synced every 1,000 lines: a real run syncs each line after an HTTP
//! request that costs far more), then replays the journal, printing the time of each
//! step and the peak RSS. Target: under 256 MiB.
//!
//! Run: `cargo bench --bench export_plan` (optionally `-- N` for another count).

use std::io::{BufWriter, Write};
use std::time::Instant;

use glacier_upload::export;
use glacier_upload::vault::journal::{Journal, Record};
use glacier_upload::vault::select::Shard;
use glacier_upload::vault::{self, InventoryFile, Selection};

/// Peak resident set size in KiB (Linux `VmHWM`), if known.
fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let n: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("glacier-export-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench dir");
    let inv_path = dir.join("inventory.json");

    let t = Instant::now();
    {
        let mut w = BufWriter::new(std::fs::File::create(&inv_path).expect("inventory"));
        write!(w, "{{\"VaultARN\":\"arn:aws:glacier:us-east-1:1:vaults/v\",\"InventoryDate\":\"2026-01-01T00:00:00Z\",\"ArchiveList\":[").expect("write");
        for i in 0..n {
            if i > 0 {
                w.write_all(b",").expect("write");
            }
            // 138-character IDs like Glacier's; every 10th name repeats (collisions).
            let id = format!("{i:0>138}");
            let name = if i % 10 == 0 {
                format!("photos/{}/same.jpg", i % 1000)
            } else {
                format!("photos/{}/img_{i}.jpg", i % 1000)
            };
            write!(
                w,
                "{{\"ArchiveId\":\"{id}\",\"ArchiveDescription\":\"{name}\",\"CreationDate\":\"2020-01-{:02}T00:00:00Z\",\"Size\":{},\"SHA256TreeHash\":\"{:064x}\"}}",
                1 + i % 28,
                1 + i % 100_000,
                i
            )
            .expect("write");
        }
        w.write_all(b"]}").expect("write");
    }
    println!("generated {n} archives in {:.1?}", t.elapsed());

    let inv = InventoryFile::open(&inv_path).expect("open inventory");
    let t = Instant::now();
    let names = vault::count_names(&inv).expect("names");
    println!("names resolved over the inventory in {:.1?}", t.elapsed());

    let state = vault::journal::State::default();
    let t = Instant::now();
    let plan = export::plan(
        &inv,
        &names,
        &Selection::default(),
        &state,
        32 << 20,
        "Bulk",
    )
    .expect("plan");
    println!(
        "plan: {} archives, {} bytes, {} renamed, {} InitiateJob; {:.1?}",
        plan.archives,
        plan.bytes,
        plan.renamed,
        plan.initiate_job_requests,
        t.elapsed()
    );
    let shard = Selection {
        shard: Some(Shard { k: 2, n: 7 }),
        ..Selection::default()
    };
    let t = Instant::now();
    let p = export::plan(&inv, &names, &shard, &state, 32 << 20, "Bulk").expect("plan");
    println!("shard 2/7: {} archives; {:.1?}", p.archives, t.elapsed());

    let t = Instant::now();
    let (mut journal, _) = Journal::open(&dir.join("state")).expect("journal");
    let mut batch = Vec::with_capacity(1000);
    for it in vault::items(&inv, &names, &Selection::default()).expect("items") {
        let it = it.expect("item");
        batch.push(Record::Job {
            archive_id: it.archive_id.clone(),
            job_id: format!("{:0>92}", 7),
            time: "2026-01-01T00:00:00Z".into(),
        });
        batch.push(Record::Exported {
            archive_id: it.archive_id,
            path: it.name,
            size: it.size,
            tree_hash: it.tree_hash,
            time: "2026-01-01T00:00:00Z".into(),
        });
        if batch.len() >= 1000 {
            journal.append_batch(&batch).expect("append");
            batch.clear();
        }
    }
    journal.append_batch(&batch).expect("append");
    drop(journal);
    println!(
        "journaled {n} jobs and {n} exports (synced every 1000 lines) in {:.1?}",
        t.elapsed()
    );
    let t = Instant::now();
    let (_, st) = Journal::open(&dir.join("state")).expect("replay");
    println!(
        "replayed the journal ({} exported, {} jobs open) in {:.1?}",
        st.exported.len(),
        st.jobs.len(),
        t.elapsed()
    );
    drop(st);

    match peak_rss_kib() {
        Some(k) => println!("peak RSS: {:.1} MiB (target < 256 MiB)", k as f64 / 1024.0),
        None => println!("peak RSS: unknown (no /proc/self/status)"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
