//! `glacier vault plan` through the real binary: the figures of a small inventory against
//! costs computed by hand (with a price table of round numbers), names from a file,
//! selection, the S3 side, a bad price table, and that nothing billed is ever sent.

use std::path::Path;

use crate::mock::MockGlacier;
use crate::support::{TempDir, fails_once, glacier_mock, json, path_str, quiet_ok, run_mock};

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;
const NOW: &str = "2026-06-01T00:00:00Z";

/// Round prices, so the expected costs below can be worked out by hand.
const PRICES: &str = "\
# test table
retrieval.Expedited.per_gb\t1
retrieval.Expedited.per_1000_requests\t1000
retrieval.Standard.per_gb\t0.5
retrieval.Standard.per_1000_requests\t100
retrieval.Bulk.per_gb\t0.25
retrieval.Bulk.per_1000_requests\t10
vault.storage_per_gb_month\t3
vault.minimum_days\t90
s3.DEEP_ARCHIVE.put_per_1000_requests\t1000
s3.DEEP_ARCHIVE.storage_per_gb_month\t1
s3.GLACIER.put_per_1000_requests\t0
s3.GLACIER.storage_per_gb_month\t0
s3.GLACIER_IR.put_per_1000_requests\t0
s3.GLACIER_IR.storage_per_gb_month\t2
s3.STANDARD_IA.put_per_1000_requests\t0
s3.STANDARD_IA.storage_per_gb_month\t0
s3.STANDARD.put_per_1000_requests\t0
s3.STANDARD.storage_per_gb_month\t0.5
";

/// Five archives: A1 2 GiB made 30 days before NOW (young), A2 1 GiB sharing A1's
/// name, A3 1 MiB with no description, A4 1 GiB whose description is no safe name,
/// A5 6 TiB (over S3's 5 TiB object limit).
fn inventory(path: &Path) {
    let a = |id: &str, desc: &str, date: &str, size: u64| {
        serde_json::json!({"ArchiveId": id, "ArchiveDescription": desc, "CreationDate": date,
            "Size": size, "SHA256TreeHash": "00".repeat(32)})
    };
    let doc = serde_json::json!({"VaultARN": "arn", "InventoryDate": "2026-05-31T00:00:00Z",
    "ArchiveList": [
        a("A1", "photos/a.jpg", "2026-05-02T00:00:00Z", 2 * GIB),
        a("A2", "photos/a.jpg", "2026-01-01T00:00:00Z", GIB),
        a("A3", "", "2026-01-01T00:00:00Z", MIB),
        a("A4", "../x", "2026-01-01T00:00:00Z", GIB),
        a("A5", "big.bin", "2026-01-01T00:00:00Z", 6 << 40),
    ]});
    std::fs::write(path, doc.to_string()).expect("write inventory");
}

struct Setup {
    m: MockGlacier,
    dir: TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = TempDir::new("plan");
        inventory(&dir.join("inv.json"));
        std::fs::write(dir.join("prices.tsv"), PRICES).expect("prices");
        Setup {
            m: MockGlacier::start(),
            dir,
        }
    }

    fn run(&self, extra: &[&str]) -> crate::support::Run {
        let inv = self.dir.join("inv.json");
        let prices = self.dir.join("prices.tsv");
        let mut args = vec!["vault", "plan", "--inventory", path_str(&inv)];
        args.extend(["--prices", path_str(&prices)]);
        args.extend(extra);
        args.push("v");
        glacier_mock(&self.m, self.dir.path())
            .env("GLACIER_TEST_NOW", NOW)
            .args(&args)
            .output()
            .expect("run")
            .into()
    }
}

#[track_caller]
fn near(v: &serde_json::Value, want: f64) {
    let got = v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"));
    assert!((got - want).abs() < 1e-9, "got {got}, want {want}");
}

#[test]
fn the_plan_s_figures_are_the_hand_computed_ones() {
    let s = Setup::new();
    let r = s.run(&[
        "--json",
        "--to",
        "s3://bkt/pre",
        "--max-bytes-per-day",
        "1T",
    ]);
    let v = json(quiet_ok(&r));
    assert_eq!(v["archives"], 5);
    assert_eq!(v["inventory_archives"], 5);
    // 2 + 1 + 1 + 6144 GiB, + 1 MiB.
    assert_eq!(v["bytes"], 6148 * GIB + MIB);
    let gb = 6148.0 + 1.0 / 1024.0;
    // Per tier: GB x price + 5 requests x price / 1000.
    let tiers = v["retrieval"].as_array().expect("tiers");
    assert_eq!(tiers[0]["tier"], "Expedited");
    near(&tiers[0]["total"], gb * 1.0 + 5.0);
    near(&tiers[1]["total"], gb * 0.5 + 0.5);
    near(&tiers[2]["bytes_cost"], 1537.000244140625);
    near(&tiers[2]["requests_cost"], 0.05);
    assert_eq!(tiers[2]["requests"], 5);
    // S3 at 16 MiB parts: A1 128 parts + 2, A2 and A4 64 + 2 each, A3 one PutObject,
    // A5 not written: 263 requests, $1 each in DEEP_ARCHIVE.
    let s3 = &v["s3"];
    assert_eq!(s3["requests"], 263);
    assert_eq!(s3["part_size"], 16 * MIB);
    let class = |name: &str| {
        s3["classes"]
            .as_array()
            .expect("classes")
            .iter()
            .find(|c| c["storage_class"] == name)
            .expect("class")
            .clone()
    };
    near(&class("DEEP_ARCHIVE")["requests_cost"], 263.0);
    // 4 GiB + 1 MiB at $1, plus per object (4) 8 KiB at STANDARD's $0.5 and 32 KiB at $1.
    let fits = 4.0 + 1.0 / 1024.0;
    let overhead = 4.0 * 8.0 / 1024.0 / 1024.0 * 0.5 + 4.0 * 32.0 / 1024.0 / 1024.0;
    near(&class("DEEP_ARCHIVE")["storage_per_month"], fits + overhead);
    near(&class("STANDARD")["storage_per_month"], fits * 0.5);
    near(&class("GLACIER_IR")["storage_per_month"], fits * 2.0);
    near(
        &class("GLACIER")["storage_per_month"],
        4.0 * 8.0 / 1024.0 / 1024.0 * 0.5,
    );
    // A1 is 30 days old: 60 of 90 days left, 2 GB x $3 a month x 60/30 = $12.
    let d = &v["early_deletion"];
    assert_eq!(d["archives"], 1);
    assert_eq!(d["bytes"], 2 * GIB);
    near(&d["cost"], 12.0);
    // 6148 GiB at 1 TiB a day: 7 days.
    assert_eq!(v["pacing_days"], 7);
    let h = v["histogram"].as_array().expect("histogram");
    assert_eq!(h[1]["archives"], 1, "1 MiB is in 1 MiB - 16 MiB");
    assert_eq!(h[3]["archives"], 3);
    assert_eq!(h[3]["bytes"], 4 * GIB);
    assert_eq!(h[6]["archives"], 1);
    let k = &v["risks"];
    assert_eq!(k["empty_descriptions"], 1);
    assert_eq!(k["unparsable_descriptions"], 1);
    assert_eq!(k["collisions"], 2);
    assert_eq!(k["too_large_for_s3"], 1);
    assert_eq!(k["too_large_examples"][0][0], "A5");
    assert!(
        v["prices"]
            .as_str()
            .is_some_and(|p| p.ends_with("prices.tsv"))
    );
    assert!(
        s.m.requests().is_empty(),
        "a plan from a file sends nothing"
    );
}

#[test]
fn the_text_plan_says_the_same_and_no_pacing_without_the_flag() {
    let s = Setup::new();
    let out = quiet_ok(&s.run(&[])).to_string();
    let has = |line: &str| assert!(out.lines().any(|l| l == line), "no '{line}' in:\n{out}");
    has("vault 'v': 5 of 5 archives in scope, 6.0 TiB (6601365782528 bytes); nothing was sent");
    has(
        "  Bulk       $1,537.05 = $1,537.00 for the bytes ($0.25/GB) + $0.05 for 5 requests ($10.00/1,000)",
    );
    has(
        "purge now: 1 archives (2.0 GiB) younger than the minimum storage time: early-deletion charge $12.00",
    );
    has("pacing: none (no --max-bytes-per-day)");
    has("  empty descriptions: 1 (named 00undefined/ARCHIVE_ID)");
    has("  name collisions: 2 (exported with a date, then ID, suffix)");
    assert!(!out.contains("S3"), "no S3 lines without --to s3://: {out}");
}

#[test]
fn names_from_a_file_and_the_selection_are_the_export_s() {
    let s = Setup::new();
    // A3 gets a name (Glacier-style quoting); A4 is named like A1 and A2.
    std::fs::write(
        s.dir.join("names.csv"),
        "archive_id,name\nA3,\"docs/say \\\"hi\\\".txt\"\nA4,photos/a.jpg\n",
    )
    .expect("names");
    let names = s.dir.join("names.csv");
    let v = json(quiet_ok(&s.run(&["--json", "--names", path_str(&names)])));
    let k = &v["risks"];
    assert_eq!(k["named_by_file"], 2);
    assert_eq!(k["empty_descriptions"], 0);
    assert_eq!(k["unparsable_descriptions"], 0);
    assert_eq!(k["collisions"], 3);
    // Export's selection, on the final names: only the three photos.
    let v = json(quiet_ok(&s.run(&[
        "--json",
        "--names",
        path_str(&names),
        "--include",
        "photos/**",
    ])));
    assert_eq!(v["archives"], 3);
    assert_eq!(v["bytes"], 4 * GIB);
    let v = json(quiet_ok(&s.run(&[
        "--json",
        "--created-after",
        "2026-05-01",
    ])));
    assert_eq!(v["archives"], 1);
}

#[test]
fn bad_input_is_one_line_naming_the_file_and_line_with_exit_2() {
    let s = Setup::new();
    std::fs::write(
        s.dir.join("prices.tsv"),
        PRICES.replace("\t0.25\n", "\tcheap\n"),
    )
    .expect("prices");
    let e = fails_once(&s.run(&[]), 2);
    assert!(
        e.ends_with("prices.tsv: line 6: 'cheap' is not a price (a number, 0 or more)"),
        "{e}"
    );
    std::fs::write(s.dir.join("prices.tsv"), PRICES).expect("prices");
    std::fs::write(s.dir.join("names.csv"), "A1,a\nA2\n").expect("names");
    let names = s.dir.join("names.csv");
    let e = fails_once(&s.run(&["--names", path_str(&names)]), 2);
    assert!(
        e.ends_with("names.csv: line 2: expected 2 fields (archive_id,name), found 1"),
        "{e}"
    );
    let e = fails_once(&s.run(&["--max-bytes-per-day", "0"]), 2);
    assert_eq!(e, "glacier: --max-bytes-per-day '0': must be more than 0");
    let e = fails_once(&run_mock(&s.m, &["vault", "plan", "v"]), 2);
    assert!(
        e.contains("a plan needs an inventory: give --inventory FILE"),
        "{e}"
    );
    assert!(s.m.requests().is_empty());
}

#[test]
fn an_inventory_job_s_output_is_read_without_starting_anything() {
    let m = MockGlacier::start();
    m.create_vault("v");
    m.put_archive("v", &[7u8; 3000], "one.txt");
    m.take_inventory("v");
    let init = json(run_mock(&m, &["--json", "inventory", "init-retrieval", "v"]).ok());
    let job = init["job_id"].as_str().expect("job_id").to_string();
    m.complete_jobs();
    let before = m.requests().len();
    let v = json(quiet_ok(&run_mock(
        &m,
        &["--json", "vault", "plan", "--inventory-job", &job, "v"],
    )));
    assert_eq!(v["archives"], 1);
    assert_eq!(v["bytes"], 3000);
    let ops: Vec<String> = m.requests()[before..]
        .iter()
        .map(|r| r.operation.clone())
        .collect();
    assert!(
        ops.iter()
            .all(|o| o == "DescribeJob" || o == "GetJobOutput"),
        "{ops:?}"
    );
}

#[test]
fn with_to_dir_the_inventory_an_export_saved_there_is_used() {
    use glacier_upload::vault::journal::{Journal, Record};
    let s = Setup::new();
    let out = s.dir.join("out");
    let state = glacier_upload::vault::state_dir(&out);
    // What an export leaves after downloading its inventory job's output.
    let (mut journal, _) = Journal::open(&state).expect("journal");
    journal
        .append(&Record::Inventory {
            job_id: Some("JOB".into()),
            saved: true,
            time: "2026-05-31T00:00:00Z".into(),
        })
        .expect("append");
    std::fs::copy(s.dir.join("inv.json"), state.join("inventory.json")).expect("copy");
    let prices = s.dir.join("prices.tsv");
    let r: crate::support::Run = glacier_mock(&s.m, s.dir.path())
        .args(["--json", "vault", "plan", "--prices", path_str(&prices)])
        .args(["--to", path_str(&out), "v"])
        .output()
        .expect("run")
        .into();
    let v = json(quiet_ok(&r));
    assert_eq!(v["archives"], 5);
    assert!(v["s3"].is_null(), "a directory has no S3 costs");
    assert!(s.m.requests().is_empty());
}
