//! Shards that add up: three `--shard` runs into one directory and
//! into one bucket each leave their own manifest, the merged manifest lists every
//! archive once all three are done, and `vault purge --only-exported` of each place
//! deletes every archive. The index comes from `JOB_COMPLETION_INDEX` or
//! `AWS_BATCH_JOB_ARRAY_INDEX` with `--shard auto/3`, as a pod spec gives it.

use std::collections::HashMap;
use std::path::Path;

use crate::mock::{MockConfig, MockGlacier};
use crate::s3_client::{get, setup};
use crate::support::{Run, TempDir, glacier_mock, inventory_json, pattern};

const ARCHIVES: usize = 30;

fn seeded() -> MockGlacier {
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(0),
        ..MockConfig::default()
    });
    mock.create_vault("v");
    for i in 0..ARCHIVES {
        mock.put_archive(
            "v",
            &pattern(50 + i * 7, i as u64),
            &format!("d{}/f{i}", i % 4),
        );
    }
    mock
}

/// `glacier` against `mock` with `args`; `index` sets one of the two variables
/// `--shard auto/N` reads (and clears the other).
fn run(mock: &MockGlacier, home: &Path, index: Option<(&str, &str)>, args: &[&str]) -> Run {
    let mut c = glacier_mock(mock, home);
    c.env_remove("JOB_COMPLETION_INDEX")
        .env_remove("AWS_BATCH_JOB_ARRAY_INDEX");
    if let Some((k, v)) = index {
        c.env(k, v);
    }
    c.args(args).output().expect("run glacier").into()
}

/// The three ways a shard gets its index: K/N, and auto/N with each variable.
fn shard_runs() -> [(Option<(&'static str, &'static str)>, &'static str); 3] {
    [
        (None, "1/3"),
        (Some(("JOB_COMPLETION_INDEX", "1")), "auto/3"),
        (Some(("AWS_BATCH_JOB_ARRAY_INDEX", "2")), "auto/3"),
    ]
}

/// JSON-lines manifest text: archive ID -> status.
fn rows(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            let s = |k: &str| v[k].as_str().expect(k).to_string();
            (s("archive_id"), s("status"))
        })
        .collect()
}

fn purge_all(mock: &MockGlacier, home: &Path, place: &str, inv: &str, s3: Option<u16>) {
    let mut c = glacier_mock(mock, home);
    if let Some(port) = s3 {
        c.env("AWS_ENDPOINT_URL_S3", format!("http://127.0.0.1:{port}"));
    }
    let journal = home.join(format!("purge-{}.jsonl", s3.is_some()));
    let r: Run = c
        .args([
            "--json",
            "vault",
            "purge",
            "--yes",
            "--only-exported",
            place,
        ])
        .args([
            "--journal",
            journal.to_str().expect("utf8"),
            "--inventory",
            inv,
            "v",
        ])
        .output()
        .expect("run glacier")
        .into();
    let v: serde_json::Value = serde_json::from_str(r.ok()).expect("json");
    assert_eq!(v["deleted"], ARCHIVES, "{v}");
    assert_eq!(v["not_exported"], 0, "{v}");
    assert!(mock.archives("v").is_empty());
}

#[test]
fn three_shards_into_one_directory_add_up_and_purge_deletes_every_archive() {
    let mock = seeded();
    let home = TempDir::new("shards-dir");
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let inv_s = inv.to_str().expect("utf8");
    let out = home.join("out");
    let out_s = out.to_str().expect("utf8");
    let mut seen = 0;
    for (i, (index, shard)) in shard_runs().into_iter().enumerate() {
        let args = [
            "vault",
            "export",
            "--shard",
            shard,
            "--inventory",
            inv_s,
            "v",
            out_s,
        ];
        run(&mock, home.path(), index, &args).ok();
        let own = out.join(format!(
            "glacier-export-manifest.shard-{}-of-3.jsonl",
            i + 1
        ));
        let own = rows(&std::fs::read_to_string(&own).expect("shard manifest"));
        assert!(own.values().all(|s| s == "exported"), "{own:?}");
        seen += own.len();
        // The merged manifest holds every shard done so far, and only those.
        let merged =
            std::fs::read_to_string(out.join("glacier-export-manifest.jsonl")).expect("merged");
        assert_eq!(rows(&merged).len(), seen);
        let csv = std::fs::read_to_string(out.join("glacier-export-manifest.csv")).expect("csv");
        assert_eq!(csv.lines().count(), seen + 1, "one header: {csv}");
        assert!(csv.starts_with("archive_id,path,"));
    }
    assert_eq!(seen, ARCHIVES);
    let merged = std::fs::read_to_string(out.join("glacier-export-manifest.jsonl")).expect("m");
    let merged = rows(&merged);
    assert_eq!(merged.len(), ARCHIVES);
    assert!(merged.values().all(|s| s == "exported"));
    // An index outside the shards is one clear line, exit 2.
    let r = run(
        &mock,
        home.path(),
        Some(("JOB_COMPLETION_INDEX", "3")),
        &[
            "vault",
            "export",
            "--shard",
            "auto/3",
            "--inventory",
            inv_s,
            "v",
            out_s,
        ],
    );
    let e = r.fails(2);
    assert!(
        e.contains("--shard") && e.contains("JOB_COMPLETION_INDEX=3"),
        "{e}"
    );
    // No index at all: exit 2 before anything is sent (a dry run or a purge alike).
    let before = mock.requests().len();
    for args in [
        &[
            "vault",
            "export",
            "--shard",
            "auto/3",
            "--inventory",
            inv_s,
            "v",
            out_s,
        ][..],
        &[
            "vault",
            "purge",
            "--yes",
            "--shard",
            "auto/3",
            "--inventory",
            inv_s,
            "v",
        ][..],
    ] {
        let e = run(&mock, home.path(), None, args).fails(2).to_string();
        assert!(e.contains("auto needs JOB_COMPLETION_INDEX"), "{e}");
    }
    assert_eq!(mock.requests().len(), before);
    purge_all(&mock, home.path(), out_s, inv_s, None);
}

#[test]
fn three_shards_at_once_into_one_bucket_add_up_and_purge_deletes_every_archive() {
    let Some((server, client)) = setup("shards") else {
        return;
    };
    let mock = seeded();
    let home = TempDir::new("shards-s3");
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let inv_s = inv.to_str().expect("utf8");
    let endpoint = format!("http://127.0.0.1:{}", server.port);
    // All three at once, each with its own journal, as three pods would.
    let children: Vec<_> = shard_runs()
        .into_iter()
        .enumerate()
        .map(|(i, (index, shard))| {
            let mut c = glacier_mock(&mock, home.path());
            c.env_remove("JOB_COMPLETION_INDEX")
                .env_remove("AWS_BATCH_JOB_ARRAY_INDEX");
            if let Some((k, v)) = index {
                c.env(k, v);
            }
            let journal = home.join(&format!("journal-{i}"));
            c.args(["vault", "export", "--s3-endpoint-url", &endpoint])
                .args(["--storage-class", "STANDARD", "--shard", shard])
                .args(["--journal", journal.to_str().expect("utf8")])
                .args(["--inventory", inv_s, "v", "s3://shards/vaults/v"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn glacier")
        })
        .collect();
    for child in children {
        let r: Run = child.wait_with_output().expect("wait").into();
        r.ok();
    }
    let key = |name: &str| format!("vaults/v/.glacier-export/{name}");
    let mut total = 0;
    for k in 1..=3 {
        let own = get(
            &client,
            "shards",
            &key(&format!("glacier-export-manifest.shard-{k}-of-3.jsonl")),
        );
        total += rows(&String::from_utf8(own).expect("utf8")).len();
    }
    assert_eq!(total, ARCHIVES);
    let merged = get(&client, "shards", &key("glacier-export-manifest.jsonl"));
    let merged = rows(&String::from_utf8(merged).expect("utf8"));
    assert_eq!(merged.len(), ARCHIVES);
    assert!(merged.values().all(|s| s == "exported"));
    let csv = String::from_utf8(get(&client, "shards", &key("glacier-export-manifest.csv")))
        .expect("utf8");
    assert_eq!(csv.lines().count(), ARCHIVES + 1, "{csv}");
    purge_all(
        &mock,
        home.path(),
        "s3://shards/vaults/v",
        inv_s,
        Some(server.port),
    );
}
