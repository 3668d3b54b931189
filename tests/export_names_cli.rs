//! `vault export --names FILE`, the `00undefined/` and `00error/` folders, and the
//! failed-archives file, through the real binary against the
//! mock.

use std::path::Path;

use crate::mock::{MockConfig, MockGlacier};
use crate::support::{TempDir, inventory_json, pattern, run};

fn quick_mock() -> MockGlacier {
    MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(0),
        ..MockConfig::default()
    })
}

fn export_args<'a>(inv: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["vault", "export", "--inventory", inv];
    a.extend_from_slice(extra);
    a.extend(["v", out]);
    a
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8")
}

#[test]
fn names_file_overrides_descriptions_and_unusable_ones_go_to_their_folders() {
    let mock = quick_mock();
    let home = TempDir::new("names");
    mock.create_vault("v");
    let mut ids = Vec::new();
    for (i, desc) in [
        "",
        "../escape",
        "plain.txt",
        "renamed-by-file",
        "00undefined",
    ]
    .iter()
    .enumerate()
    {
        let data = pattern(100 + i, i as u64);
        ids.push((mock.put_archive("v", &data, desc), data));
    }
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let names = home.join("names.csv");
    std::fs::write(
        &names,
        format!(
            "archive_id,name\n{},\"photos\\2020\\a, b.jpg\"\n{},../../not-safe\n",
            ids[3].0, ids[2].0
        ),
    )
    .expect("names file");
    let out = home.join("out");
    let r = run(
        &mock,
        home.path(),
        &export_args(s(&inv), s(&out), &["--names", s(&names)]),
    );
    r.ok();
    let file = |rel: &str| std::fs::read(out.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    // Empty description: 00undefined/<id>; unparsable: 00error/<id>.
    assert_eq!(file(&format!("00undefined/{}", ids[0].0)), ids[0].1);
    assert_eq!(file(&format!("00error/{}", ids[1].0)), ids[1].1);
    // A listed name that cannot be made safe: 00error too, not the description.
    assert_eq!(file(&format!("00error/{}", ids[2].0)), ids[2].1);
    assert!(!out.join("plain.txt").exists());
    // A listed name, Windows separators and all.
    assert_eq!(file("photos/2020/a, b.jpg"), ids[3].1);
    // A real archive named like the folder is suffixed, never mixed with it.
    let listing: Vec<String> = std::fs::read_dir(&out)
        .expect("out")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let suffixed = listing
        .iter()
        .find(|n| n.starts_with("00undefined."))
        .unwrap_or_else(|| panic!("{listing:?}"));
    assert_eq!(file(suffixed), ids[4].1);
    // Nothing failed: no failed-archives file.
    assert!(!out.join("glacier-export-failed.csv").exists());

    // A bad names file is one line naming it, exit 2, before anything is sent.
    std::fs::write(&names, "only-one-field\n").expect("names file");
    let before = mock.requests().len();
    let r = run(
        &mock,
        home.path(),
        &export_args(s(&inv), s(&home.join("out2")), &["--names", s(&names)]),
    );
    let e = r.fails(2);
    assert!(e.contains("names.csv") && e.contains("line 1"), "{e}");
    assert_eq!(mock.requests().len(), before);
}

#[test]
fn failed_archives_are_listed_beside_the_manifest_until_a_run_gets_through() {
    let mock = quick_mock();
    let home = TempDir::new("failed-file");
    mock.create_vault("v");
    for i in 0..4 {
        mock.put_archive("v", &pattern(500 + i, i as u64), &format!("f{i}, \"q\""));
    }
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let good = std::fs::read_to_string(&inv).expect("inventory");
    let a = mock.archives("v")[1].clone();
    std::fs::write(&inv, good.replace(&a.tree_hash, &"0".repeat(64))).expect("write");
    let out = home.join("out");
    let args = export_args(s(&inv), s(&out), &[]);
    let r = run(&mock, home.path(), &args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let failed = out.join("glacier-export-failed.csv");
    assert!(
        r.stderr.contains(&format!(
            "1 failed archives are listed in {}",
            failed.display()
        )),
        "{}",
        r.stderr
    );
    let text = std::fs::read_to_string(&failed).expect("failed file");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("archive_id,description,size,reason"));
    let row = lines.next().expect("one row");
    assert!(
        row.starts_with(&format!(
            "{},\"{}\",{},",
            a.archive_id,
            a.description.replace('"', "\"\""),
            a.size
        )),
        "{row}"
    );
    assert_eq!(lines.next(), None);
    // The inventory fixed, the rerun gets through: the list goes.
    std::fs::write(&inv, &good).expect("write");
    run(&mock, home.path(), &args).ok();
    assert!(!failed.exists());
}
