//! `vault export` reruns at the edges between its steps: an inventory job a
//! killed run started is adopted, an expired one in the journal is replaced, a rerun on a
//! saved inventory says how old it is, a vault Glacier has not inventoried yet is "not
//! yet" (exit 3), and a `--no-wait` round that met only transient faults is exit 3.

use crate::mock::{Fault, FaultRule, MockConfig, MockGlacier};
use crate::support::{TempDir, count, mock_client, pattern, run};

/// A vault `v` with two small archives, inventoried.
fn vault(mock: &MockGlacier) {
    mock.create_vault("v");
    mock.put_archive("v", &pattern(100, 1), "a.txt");
    mock.put_archive("v", &pattern(200, 2), "b.txt");
    mock.take_inventory("v");
}

fn export_args(dir: &std::path::Path) -> Vec<String> {
    ["vault", "export", "--no-wait", "v"]
        .iter()
        .map(|s| s.to_string())
        .chain([dir.to_str().expect("utf8").to_string()])
        .collect()
}

fn export(mock: &MockGlacier, home: &TempDir, dir: &std::path::Path) -> crate::support::Run {
    let args = export_args(dir);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(mock, home.path(), &args)
}

/// A run killed between its inventory InitiateJob and the journal line
/// left a billed job; the rerun uses it rather than paying for a second.
#[test]
fn an_inventory_job_a_killed_run_started_is_adopted() {
    let mock = MockGlacier::start();
    vault(&mock);
    // What the killed run sent: the same request, with the export's description.
    let started = mock_client(&mock)
        .initiate_job(
            "v",
            &glacier_upload::glacier::JobRequest {
                kind: "inventory-retrieval".into(),
                format: Some("JSON".into()),
                description: Some("glacier vault export".into()),
                ..Default::default()
            },
        )
        .expect("initiate");
    let home = TempDir::new("rerun-adopt");
    let dir = home.join("out");
    let r = export(&mock, &home, &dir);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(count(&mock, "InitiateJob"), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("using inventory job {started}")),
        "{}",
        r.stderr
    );
    // The next round finishes with that job.
    mock.complete_jobs();
    let r = export(&mock, &home, &dir);
    assert_eq!(r.code, 3, "archive jobs now started: {}", r.stderr);
    mock.complete_jobs();
    export(&mock, &home, &dir).ok();
    assert_eq!(
        std::fs::read(dir.join("a.txt")).expect("a"),
        pattern(100, 1)
    );
    let inventory_jobs = mock_client(&mock)
        .list_jobs("v", None, None)
        .expect("list")
        .iter()
        .filter(|j| j.action.as_deref() == Some("InventoryRetrieval"))
        .count();
    assert_eq!(inventory_jobs, 1);
}

/// The journal's inventory job expired (Glacier forgot it): the rerun
/// starts a new one with a note instead of failing on every rerun.
#[test]
fn an_expired_inventory_job_in_the_journal_is_replaced_with_a_note() {
    let mock = MockGlacier::start();
    vault(&mock);
    let home = TempDir::new("rerun-expired");
    let dir = home.join("out");
    let r = export(&mock, &home, &dir);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let first = mock_client(&mock).list_jobs("v", None, None).expect("list")[0]
        .job_id
        .clone()
        .expect("id");
    mock.expire_job("v", &first);
    let r = export(&mock, &home, &dir);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("inventory job {first}"))
            && r.stderr.contains("starting a new inventory job"),
        "{}",
        r.stderr
    );
    assert_eq!(count(&mock, "InitiateJob"), 2);
    // The third round waits for the new job: no third inventory job.
    let r = export(&mock, &home, &dir);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(count(&mock, "InitiateJob"), 2);
}

/// A rerun on the saved inventory says its date, that newer archives
/// are not in it, and how to take a new one.
#[test]
fn a_rerun_on_the_saved_inventory_says_how_old_it_is() {
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(0),
        ..MockConfig::default()
    });
    vault(&mock);
    let home = TempDir::new("rerun-date");
    let dir = home.join("out");
    let first = export(&mock, &home, &dir);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(!first.stderr.contains("saved by an earlier run"));
    let r = export(&mock, &home, &dir);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = r
        .stderr
        .lines()
        .find(|l| l.contains("saved by an earlier run"))
        .unwrap_or_else(|| panic!("no note: {}", r.stderr));
    let inventory_date = mock_client(&mock)
        .describe_vault("v")
        .expect("describe")
        .last_inventory_date
        .expect("inventoried");
    assert!(line.contains(&inventory_date[..10]), "{line}");
    assert!(line.contains("not included"), "{line}");
    assert!(
        line.contains("glacier inventory init-retrieval v"),
        "{line}"
    );
}

/// A vault Glacier has not inventoried yet (no inventory job can be
/// started) is "not yet" for a cron loop: exit 3 and when to try again.
#[test]
fn a_vault_never_inventoried_is_not_yet() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    mock.put_archive("v", &pattern(100, 1), "a.txt");
    let home = TempDir::new("rerun-never");
    let r = export(&mock, &home, &home.join("out"));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("no inventory yet") && r.stderr.contains("again tomorrow"),
        "{}",
        r.stderr
    );
    // A missing vault is still an error (exit 1), not "not yet".
    let out2 = home.join("out2");
    let out2 = out2.to_str().expect("utf8");
    let r = run(
        &mock,
        home.path(),
        &["vault", "export", "--no-wait", "nosuch", out2],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
}

/// A `--no-wait` round whose only trouble was transient (Glacier failing every
/// InitiateJob) ends with exit 3, try later, not 1; nothing is billed twice.
#[test]
fn a_no_wait_round_that_met_only_transient_faults_is_exit_3() {
    let mock = MockGlacier::start();
    vault(&mock);
    mock.inject(FaultRule::always(Fault::Unavailable, Some("InitiateJob")));
    let home = TempDir::new("rerun-transient");
    let dir = home.join("out");
    let args = export_args(&dir);
    let mut all = vec!["--max-attempts", "1"];
    all.extend(args.iter().map(String::as_str));
    let r = run(&mock, home.path(), &all);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("run the same command again later"),
        "{}",
        r.stderr
    );
    mock.clear_faults();
    assert!(
        mock_client(&mock)
            .list_jobs("v", None, None)
            .expect("list")
            .is_empty()
    );
}

/// When the run fails (a full disk) and the manifest cannot be written
/// either, the run's own error is said first, then the manifest's; the exit code is the
/// run's.
#[test]
fn a_manifest_that_cannot_be_written_does_not_hide_the_run_error() {
    let mock = MockGlacier::start();
    vault(&mock);
    let home = TempDir::new("rerun-manifest");
    let dir = home.join("out");
    assert_eq!(export(&mock, &home, &dir).code, 3);
    mock.complete_jobs();
    assert_eq!(export(&mock, &home, &dir).code, 3, "archive jobs started");
    mock.complete_jobs();
    // The manifest's temporary file cannot be created: a directory holds its name.
    std::fs::create_dir_all(dir.join("glacier-export-manifest.csv.part")).expect("mkdir");
    let args = export_args(&dir);
    let r: crate::support::Run = crate::support::glacier_mock(&mock, home.path())
        .env("GLACIER_TEST_FREE_BYTES", "1048576")
        .args(&args)
        .output()
        .expect("run glacier")
        .into();
    let err = r.fails(1);
    let full = err
        .find("free")
        .unwrap_or_else(|| panic!("run error missing: {err}"));
    let manifest = err
        .find("the manifest could not be written either")
        .unwrap_or_else(|| panic!("manifest error missing: {err}"));
    assert!(full < manifest, "{err}");
}

/// A rerun does not trust the journal for files since deleted or
/// changed: a deleted one is exported again; a changed one is not overwritten (it may
/// be the user's now) but reported, exit 1, until moved away.
#[test]
fn a_rerun_exports_again_what_was_deleted_or_changed_since() {
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(0),
        ..MockConfig::default()
    });
    vault(&mock);
    let home = TempDir::new("rerun-vanished");
    let dir = home.join("out");
    assert_eq!(export(&mock, &home, &dir).code, 0);
    std::fs::remove_file(dir.join("a.txt")).expect("delete a");
    let mut changed = pattern(200, 2);
    changed[0] ^= 1;
    std::fs::write(dir.join("b.txt"), &changed).expect("change b");
    let r = export(&mock, &home, &dir);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("missing or changed"), "{}", r.stderr);
    assert!(r.stderr.contains("move it away"), "{}", r.stderr);
    assert_eq!(
        std::fs::read(dir.join("a.txt")).expect("a"),
        pattern(100, 1)
    );
    assert_eq!(
        std::fs::read(dir.join("b.txt")).expect("b"),
        changed,
        "not overwritten"
    );
    std::fs::rename(dir.join("b.txt"), home.join("b.mine")).expect("move away");
    let r = export(&mock, &home, &dir);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read(dir.join("b.txt")).expect("b"),
        pattern(200, 2)
    );
    // Nothing changed since: the next rerun sends no retrieval.
    let before = count(&mock, "InitiateJob");
    assert_eq!(export(&mock, &home, &dir).code, 0);
    assert_eq!(count(&mock, "InitiateJob"), before);
}
