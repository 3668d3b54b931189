//! `glacier inventory get` shows, beside each description, the name `vault export` would
//! give the archive (table, CSV, JSON lines), resolved over the whole inventory as the
//! export resolves it; checked against a real export of the same vault.

use std::collections::HashMap;

use crate::mock::MockGlacier;
use crate::support::{TempDir, pattern, run};

/// Descriptions as vaults hold them: a plain path, a name shared by two archives,
/// mt-aws-glacier's and FastGlacier's formats, a hostile path and none at all.
const DESCRIPTIONS: [&str; 7] = [
    "docs/report.txt",
    "same.bin",
    "same.bin",
    // mt2 + base64url({"filename":"mt/photo.jpg","mtime":"20130227T205137Z"})
    "mt2 eyJmaWxlbmFtZSI6Im10L3Bob3RvLmpwZyIsIm10aW1lIjoiMjAxMzAyMjdUMjA1MTM3WiJ9",
    // FastGlacier: base64("fg\dir\scan.pdf")
    "<m><v>4</v><p>ZmdcZGlyXHNjYW4ucGRm</p><lm>20120821T170824Z</lm></m>",
    "../../escape",
    "",
];

/// A vault `v` holding the archives above, inventoried, and a finished inventory job.
fn vault_with_inventory(home: &std::path::Path) -> (MockGlacier, String) {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    for (i, d) in DESCRIPTIONS.iter().enumerate() {
        mock.put_archive("v", &pattern(100 + i, i as u64), d);
    }
    mock.take_inventory("v");
    let job = run(&mock, home, &["inventory", "init-retrieval", "v"]);
    let job = job.ok().trim().to_string();
    mock.complete_jobs();
    (mock, job)
}

/// Archive ID → name, from `inventory get --format jsonl`.
fn names_from_jsonl(out: &str) -> HashMap<String, String> {
    out.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            let id = v["archive_id"].as_str().expect("archive_id").to_string();
            (id, v["name"].as_str().expect("a name").to_string())
        })
        .collect()
}

#[test]
fn inventory_get_shows_the_names_the_export_gives() {
    let home = TempDir::new("inv-names");
    let (mock, job) = vault_with_inventory(home.path());
    let jsonl = run(
        &mock,
        home.path(),
        &["inventory", "get", "--format", "jsonl", "v", &job],
    );
    let names = names_from_jsonl(jsonl.ok());
    assert_eq!(names.len(), DESCRIPTIONS.len());
    let all: Vec<&str> = names.values().map(String::as_str).collect();
    for want in ["docs/report.txt", "mt/photo.jpg", "fg/dir/scan.pdf"] {
        assert!(all.contains(&want), "{want} in {all:?}");
    }
    // The shared name gets the export's suffix, never the same name twice.
    let shared: Vec<&&str> = all.iter().filter(|n| n.starts_with("same.")).collect();
    assert_eq!(shared.len(), 2, "{all:?}");
    assert_ne!(shared[0], shared[1]);
    assert!(!all.contains(&"same.bin"), "{all:?}");

    // The export of the same vault writes exactly those names.
    let inv = home.join("inv.json");
    let inv_s = inv.to_str().expect("utf8");
    run(
        &mock,
        home.path(),
        &["inventory", "get", "-o", inv_s, "v", &job],
    )
    .ok();
    let out = home.join("out");
    let args = [
        "vault",
        "export",
        "--no-wait",
        "--inventory",
        inv_s,
        "v",
        out.to_str().expect("utf8"),
    ];
    assert_eq!(run(&mock, home.path(), &args).code, 3);
    mock.complete_jobs();
    run(&mock, home.path(), &args).ok();
    let manifest =
        std::fs::read_to_string(out.join("glacier-export-manifest.jsonl")).expect("manifest");
    for line in manifest.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        let id = v["archive_id"].as_str().expect("id");
        assert_eq!(v["path"].as_str(), Some(names[id].as_str()), "{id}");
        assert!(out.join(&names[id]).is_file(), "{}", names[id]);
    }
}

#[test]
fn the_table_and_csv_carry_the_name_beside_the_description() {
    let home = TempDir::new("inv-names-t");
    let (mock, job) = vault_with_inventory(home.path());
    let table = run(&mock, home.path(), &["inventory", "get", "v", &job]);
    let table = table.ok();
    let head = table.lines().next().expect("header");
    assert!(head.contains("  NAME  DESCRIPTION"), "{head}");
    let row = table
        .lines()
        .find(|l| l.contains("mt2 "))
        .expect("the mt2 archive's row");
    assert!(row.contains("  mt/photo.jpg  mt2 eyJ"), "{row}");
    assert!(
        table.trim_end().ends_with("7 archives, 721 B total"),
        "{table}"
    );

    let csv = run(
        &mock,
        home.path(),
        &["inventory", "get", "--format", "csv", "v", &job],
    );
    let csv = csv.ok();
    assert!(
        csv.starts_with("ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash,Name\n"),
        "{csv}"
    );
    assert!(csv.contains(",fg/dir/scan.pdf\n"), "{csv}");
    // It is still an inventory this tool reads: the extra column is skipped.
    let saved = home.join("named.csv");
    std::fs::write(&saved, csv).expect("write");
    let out = home.join("out");
    let r = run(
        &mock,
        home.path(),
        &[
            "vault",
            "export",
            "--dry-run",
            "--inventory",
            saved.to_str().expect("utf8"),
            "v",
            out.to_str().expect("utf8"),
        ],
    );
    assert!(r.ok().contains("7 of 7 archives in scope"), "{}", r.stdout);

    // --format json stays Glacier's document: no names added.
    let json = run(
        &mock,
        home.path(),
        &["inventory", "get", "--format", "json", "v", &job],
    );
    assert!(!json.ok().contains("\"Name\""), "{}", json.stdout);
}
