//! `glacier vault purge` and `glacier archive delete ID...|-` through the real binary
//! against the mock: hundreds of archives under throttling, kill -9 and rerun with the
//! mock counting DeleteArchive per archive, dry runs, the terminal rule, --only-exported
//! against a real export, and DeleteVault before and after the mock's next inventory.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::mock::{Fault, FaultRule, Gate, MockConfig, MockGlacier};
use crate::support::{
    Run, TempDir, glacier_mock, inventory_json, pattern, run_with_stdin, stderr_lines,
};

fn run(mock: &MockGlacier, home: &Path, args: &[&str]) -> Run {
    glacier_mock(mock, home)
        .args(args)
        .output()
        .expect("run glacier")
        .into()
}

fn count(mock: &MockGlacier, op: &str) -> usize {
    mock.requests().iter().filter(|r| r.operation == op).count()
}

/// DeleteArchive requests per archive ID: (answered 204, any answer).
fn deletes(mock: &MockGlacier) -> HashMap<String, (usize, usize)> {
    let mut m: HashMap<String, (usize, usize)> = HashMap::new();
    for r in mock.requests() {
        if r.operation != "DeleteArchive" {
            continue;
        }
        let id = r.path.rsplit('/').next().expect("id").to_string();
        let e = m.entry(id).or_default();
        e.1 += 1;
        if r.status == 204 {
            e.0 += 1;
        }
    }
    m
}

/// A vault `v` with `n` small archives named `dir{i%3}/file{i}`; returns their IDs.
fn seed(mock: &MockGlacier, n: usize) -> Vec<String> {
    mock.create_vault("v");
    (0..n)
        .map(|i| {
            let data = pattern(1 + (i * 131) % 3000, i as u64);
            mock.put_archive("v", &data, &format!("dir{}/file{i}", i % 3))
        })
        .collect()
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

#[test]
fn hundreds_purged_in_parallel_under_throttling() {
    let mock = MockGlacier::start();
    let home = TempDir::new("purge-many");
    let ids = seed(&mock, 300);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    // A fifth of deletions throttled at random, and one burst longer than the client's
    // two attempts, so both the client's retries and purge's own pauses are needed.
    mock.inject(FaultRule::times(Fault::Throttle, Some("DeleteArchive"), 12));
    mock.inject(FaultRule {
        rate: Some((0.2, 7)),
        ..FaultRule::always(Fault::Throttle, Some("DeleteArchive"))
    });
    let journal = home.join("j.jsonl");
    let r = run(
        &mock,
        home.path(),
        &[
            "--json",
            "--max-attempts",
            "2",
            "vault",
            "purge",
            "--yes",
            "-t",
            "8",
            "--journal",
            journal.to_str().expect("utf8"),
            "--inventory",
            inv.to_str().expect("utf8"),
            "v",
        ],
    );
    let v = json(r.ok());
    assert_eq!(v["deleted"], 300, "{v}");
    assert_eq!(v["already_gone"], 0);
    assert_eq!(v["skipped"], 0);
    assert_eq!(v["failed"], serde_json::json!([]));
    assert!(v["throttle_pauses"].as_u64().expect("pauses") >= 1, "{v}");
    assert!(mock.archives("v").is_empty());
    let d = deletes(&mock);
    assert_eq!(d.len(), 300);
    assert!(
        ids.iter().all(|id| d[id].0 == 1),
        "each archive deleted once"
    );
    let throttled = mock
        .requests()
        .iter()
        .filter(|r| r.operation == "DeleteArchive" && r.status != 204)
        .count();
    assert!(throttled >= 12 + 30, "throttled {throttled}");
    assert!(
        r.stderr
            .contains("archives uploaded after the inventory of 2026-01-01T00:00:00Z"),
        "{}",
        r.stderr
    );
    // The same command again: the journal skips everything, nothing is sent.
    let before = count(&mock, "DeleteArchive");
    let again = run(
        &mock,
        home.path(),
        &[
            "--json",
            "vault",
            "purge",
            "--yes",
            "--journal",
            journal.to_str().expect("utf8"),
            "--inventory",
            inv.to_str().expect("utf8"),
            "v",
        ],
    );
    let v = json(again.ok());
    assert_eq!(
        (v["deleted"].as_u64(), v["skipped"].as_u64()),
        (Some(0), Some(300))
    );
    assert_eq!(count(&mock, "DeleteArchive"), before);
}

/// Polls until `op` has `n` requests answered 204 or the child exits.
/// Waits (with a deadline) until `n` DeleteArchive requests reached the mock, answered
/// or held.
fn wait_for_requests(mock: &MockGlacier, child: &mut std::process::Child, n: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if count(mock, "DeleteArchive") >= n {
            return true;
        }
        if child.try_wait().expect("try_wait").is_some() {
            return false;
        }
        std::thread::yield_now();
    }
    false
}

fn wait_for_deletes(mock: &MockGlacier, child: &mut std::process::Child, n: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let done = deletes(mock).values().map(|d| d.0).sum::<usize>();
        if done >= n {
            return true;
        }
        if child.try_wait().expect("try_wait").is_some() {
            return false;
        }
        std::thread::yield_now();
    }
    false
}

#[test]
fn kill_9_midway_then_rerun_deletes_nothing_twice_and_misses_nothing() {
    let mock = MockGlacier::start();
    let home = TempDir::new("purge-kill");
    let ids = seed(&mock, 200);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    // Slow answers so the kills land while deletions are in flight.
    mock.inject(FaultRule::always(
        Fault::Slow(Duration::from_millis(3)),
        Some("DeleteArchive"),
    ));
    let args = [
        "vault",
        "purge",
        "--yes",
        "-t",
        "4",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
    ];
    let threads = 4;
    let mut kills = 0;
    for target in [20, 70, 130] {
        let mut child = glacier_mock(&mock, home.path())
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let reached = wait_for_deletes(&mock, &mut child, target);
        child.kill().expect("kill -9");
        let _ = child.wait();
        assert!(reached, "the run ended before {target} deletions");
        kills += 1;
        assert!(!mock.archives("v").is_empty());
    }
    let r = run(
        &mock,
        home.path(),
        &["--json"].iter().chain(&args).copied().collect::<Vec<_>>(),
    );
    let v = json(r.ok());
    assert!(mock.archives("v").is_empty(), "nothing missed");
    let d = deletes(&mock);
    assert_eq!(d.len(), 200);
    assert!(ids.iter().all(|id| d[id].0 == 1), "nothing deleted twice");
    // A deletion whose journal line a kill cut off is sent once more and answered 404:
    // at most the deletions in flight at each kill.
    let resent: usize = d.values().map(|x| x.1 - 1).sum();
    assert!(resent <= kills * threads, "{resent} resent");
    let total = v["deleted"].as_u64().expect("n")
        + v["already_gone"].as_u64().expect("n")
        + v["skipped"].as_u64().expect("n");
    assert_eq!(total, 200, "{v}");
}

#[test]
fn dry_run_sends_no_delete_and_no_terminal_without_yes_sends_nothing() {
    let mock = MockGlacier::start();
    let home = TempDir::new("purge-dry");
    seed(&mock, 25);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let inv_s = inv.to_str().expect("utf8");
    let r = run(
        &mock,
        home.path(),
        &[
            "vault",
            "purge",
            "--dry-run",
            "--include",
            "dir1/**",
            "--inventory",
            inv_s,
            "v",
        ],
    );
    let out = r.ok();
    assert!(
        out.starts_with("dry run: would delete 8 of 25 archives"),
        "{out}"
    );
    assert!(out.contains("dir1/file1 "), "{out}");
    assert!(!out.contains("dir0/"), "{out}");
    // The same cost and risk summary as `vault plan`: for a purge, the early-deletion
    // charge of the 8 selected archives, all younger than 90 days.
    assert!(
        out.contains("purge now: 8 archives") && out.contains("early-deletion charge"),
        "{out}"
    );
    let v = json(
        run(
            &mock,
            home.path(),
            &[
                "--json",
                "vault",
                "purge",
                "--dry-run",
                "--inventory",
                inv_s,
                "v",
            ],
        )
        .ok(),
    );
    assert_eq!(v["archives"], 25);
    assert_eq!(v["first"].as_array().expect("first").len(), 10);
    assert!(v["plan"].is_object(), "{v}");
    assert_eq!(count(&mock, "DeleteArchive"), 0);
    // Standard input is not a terminal here and there is no --yes: exit 2, no request.
    let r = run(
        &mock,
        home.path(),
        &["vault", "purge", "--inventory", inv_s, "v"],
    );
    let e = r.fails(2);
    assert!(e.contains("--yes") && e.contains("'v'"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(mock.requests().is_empty());
    assert_eq!(mock.archives("v").len(), 25);
    // The default source (a new inventory job) is refused the same way, before any job.
    run(&mock, home.path(), &["vault", "purge", "v"]).fails(2);
    assert!(mock.requests().is_empty());
    // A dry run with the default source needs the journal's inventory: a stray
    // .inventory.json beside a journal that never recorded it starts no job either.
    let j = home.join("stale.jsonl");
    std::fs::copy(&inv, home.join("stale.inventory.json")).expect("copy");
    let r = run(
        &mock,
        home.path(),
        &[
            "vault",
            "purge",
            "--dry-run",
            "--journal",
            j.to_str().expect("utf8"),
            "v",
        ],
    );
    assert!(
        r.fails(2).contains("a dry run starts no job"),
        "{}",
        r.stderr
    );
    assert!(mock.requests().is_empty());
}

#[test]
fn only_exported_deletes_exactly_the_verified_ones() {
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(0),
        ..MockConfig::default()
    });
    let home = TempDir::new("purge-exported");
    let ids = seed(&mock, 30);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let inv_s = inv.to_str().expect("utf8");
    let out = home.join("out");
    let out_s = out.to_str().expect("utf8");
    // Export a subset: dir0 and dir1 (20 archives).
    run(
        &mock,
        home.path(),
        &[
            "vault",
            "export",
            "--exclude",
            "dir2/**",
            "--inventory",
            inv_s,
            "v",
            out_s,
        ],
    )
    .ok();
    let archives = mock.archives("v");
    let name = |id: &str| {
        let a = archives
            .iter()
            .find(|a| a.archive_id == id)
            .expect("archive");
        a.description.clone()
    };
    // One exported file later cut short, one whose inventory entry now says another
    // tree hash (a different version): neither is a verified copy.
    let cut = ids.iter().find(|id| name(id) == "dir0/file3").expect("id");
    std::fs::write(out.join("dir0/file3"), b"x").expect("cut");
    let changed = ids.iter().find(|id| name(id) == "dir1/file4").expect("id");
    let mut doc = json(&std::fs::read_to_string(&inv).expect("inv"));
    for a in doc["ArchiveList"].as_array_mut().expect("list") {
        if a["ArchiveId"] == changed.as_str() {
            a["SHA256TreeHash"] = serde_json::json!("ab".repeat(32));
        }
    }
    std::fs::write(&inv, doc.to_string()).expect("inv");
    let r = run(
        &mock,
        home.path(),
        &[
            "--json",
            "vault",
            "purge",
            "--yes",
            "--only-exported",
            out_s,
            "--inventory",
            inv_s,
            "v",
        ],
    );
    let v = json(r.ok());
    assert_eq!(v["deleted"], 18, "{v}");
    assert_eq!(v["not_exported"], 12, "{v}");
    let left: Vec<String> = mock
        .archives("v")
        .iter()
        .map(|a| a.description.clone())
        .collect();
    assert_eq!(left.len(), 12);
    assert!(left.iter().filter(|d| d.starts_with("dir2/")).count() == 10);
    assert!(left.contains(&"dir0/file3".to_string()) && left.contains(&"dir1/file4".to_string()));
    assert!(deletes(&mock).keys().all(|id| id != cut && id != changed));
    // --delete-vault with archives left: said plainly, not "tomorrow", and exit 0.
    let r = run(
        &mock,
        home.path(),
        &[
            "vault",
            "purge",
            "--yes",
            "--delete-vault",
            "--only-exported",
            out_s,
            "--inventory",
            inv_s,
            "v",
        ],
    );
    r.ok();
    assert!(
        r.stderr
            .contains("12 archives of the inventory were outside this purge"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("run tomorrow"), "{}", r.stderr);
    // No export there at all: one clear line, nothing sent.
    let before = mock.requests().len();
    let e = run(
        &mock,
        home.path(),
        &[
            "vault",
            "purge",
            "--yes",
            "--only-exported",
            home.join("none").to_str().expect("utf8"),
            "--inventory",
            inv_s,
            "v",
        ],
    );
    assert!(e.fails(2).contains("no export journal"), "{}", e.stderr);
    assert_eq!(mock.requests().len(), before);
}

#[test]
fn delete_vault_before_and_after_the_next_inventory() {
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(1),
        ..MockConfig::default()
    });
    let home = TempDir::new("purge-vault");
    seed(&mock, 12);
    assert!(mock.take_inventory("v"));
    // The default source: a new inventory job, waited for, saved next to the journal.
    let r = run(
        &mock,
        home.path(),
        &["--json", "vault", "purge", "--yes", "--delete-vault", "v"],
    );
    let v = json(r.ok());
    assert_eq!(v["deleted"], 12, "{v}");
    assert_eq!(v["vault_deleted"], false, "{v}");
    assert!(mock.archives("v").is_empty());
    assert!(
        r.stderr.contains("next inventory shows the vault empty"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("run tomorrow: glacier vault delete v"),
        "{}",
        r.stderr
    );
    assert_eq!(count(&mock, "InitiateJob"), 1);
    let saved = home.join("glacier-upload/purge/v.inventory.json");
    assert!(saved.exists() && home.join("glacier-upload/purge/v.jsonl").exists());
    // Rerun before the next inventory: the journal's inventory, nothing deleted again,
    // no second inventory job, still refused.
    let v = json(
        run(
            &mock,
            home.path(),
            &["--json", "vault", "purge", "--yes", "--delete-vault", "v"],
        )
        .ok(),
    );
    assert_eq!(
        (v["skipped"].as_u64(), v["vault_deleted"].as_bool()),
        (Some(12), Some(false))
    );
    assert_eq!(count(&mock, "InitiateJob"), 1);
    assert_eq!(count(&mock, "DeleteArchive"), 12);
    // Glacier's next inventory shows the vault empty: now it goes.
    assert!(mock.take_inventory("v"));
    let r = run(
        &mock,
        home.path(),
        &["vault", "purge", "--yes", "--delete-vault", "v"],
    );
    r.ok();
    assert!(r.stderr.contains("deleted vault 'v'"), "{}", r.stderr);
    assert_eq!(count(&mock, "DeleteArchive"), 12);
}

#[test]
fn archive_delete_takes_several_ids_and_stdin() {
    let mock = MockGlacier::start();
    let home = TempDir::new("purge-ids");
    let ids = seed(&mock, 6);
    // Two on the command line (one of them twice: the second is already gone).
    let r = run(
        &mock,
        home.path(),
        &[
            "--json", "archive", "delete", "v", "--", &ids[0], &ids[1], &ids[0],
        ],
    );
    let v = json(r.ok());
    assert_eq!(
        (v["deleted"].as_u64(), v["already_gone"].as_u64()),
        (Some(2), Some(1)),
        "{v}"
    );
    // The rest from stdin, one per line, with blank lines.
    let input = format!("{}\n\n{}\n{}\n  {}  \n", ids[2], ids[3], ids[4], ids[5]);
    let mut cmd = glacier_mock(&mock, home.path());
    cmd.args(["archive", "delete", "-t", "2", "v", "-"]);
    let r = run_with_stdin(cmd, input.as_bytes());
    r.ok();
    assert!(
        r.stderr
            .contains("deleted 4 archives from vault 'v'; 0 already gone, 0 failed"),
        "{}",
        r.stderr
    );
    assert!(mock.archives("v").is_empty());
    // A bad ID among several is refused before anything is sent.
    let before = count(&mock, "DeleteArchive");
    run(
        &mock,
        home.path(),
        &["archive", "delete", "v", "--", &ids[0], "not an id"],
    )
    .fails(2);
    assert_eq!(count(&mock, "DeleteArchive"), before);
    // A vault that is not there: one error, not "already gone".
    let e = run(
        &mock,
        home.path(),
        &["archive", "delete", "w", "--", &ids[0], &ids[1]],
    );
    assert!(
        e.fails(1).contains("ResourceNotFoundException"),
        "{}",
        e.stderr
    );
}

/// Runs `glacier ARGS` on a pseudo-terminal (util-linux `script`), typing `typed`.
fn on_terminal(mock: &MockGlacier, home: &Path, args: &[&str], typed: &str) -> Run {
    let q = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let line = std::iter::once(env!("CARGO_BIN_EXE_glacier"))
        .chain(args.iter().copied())
        .map(q)
        .collect::<Vec<_>>()
        .join(" ");
    // The environment the mock needs, with `script` as the program.
    let base = glacier_mock(mock, home);
    let mut cmd = std::process::Command::new("script");
    cmd.env_clear()
        .envs(base.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .env("SHELL", "/bin/sh")
        .args(["-qec", &line, "/dev/null"]);
    run_with_stdin(cmd, typed.as_bytes())
}

#[test]
fn on_a_terminal_the_vault_name_must_be_typed() {
    let mock = MockGlacier::start();
    let home = TempDir::new("purge-tty");
    seed(&mock, 5);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let args = [
        "vault",
        "purge",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
    ];
    let r = on_terminal(&mock, home.path(), &args, "photos\n");
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("this deletes 5 archives"), "{}", r.stdout);
    assert!(r.stdout.contains("Type the vault name"), "{}", r.stdout);
    assert!(r.stdout.contains("nothing was deleted"), "{}", r.stdout);
    assert_eq!(count(&mock, "DeleteArchive"), 0);
    let r = on_terminal(&mock, home.path(), &args, "v\n");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("deleted 5 archives"), "{}", r.stdout);
    assert!(mock.archives("v").is_empty());
}

#[test]
fn archives_uploaded_after_the_inventory_are_left_and_the_run_says_so() {
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(0),
        ..MockConfig::default()
    });
    let home = TempDir::new("purge-late");
    seed(&mock, 5);
    assert!(mock.take_inventory("v"));
    let late = mock.put_archive("v", b"late", "late.txt");
    let r = run(
        &mock,
        home.path(),
        &["--json", "vault", "purge", "--yes", "v"],
    );
    let v = json(r.ok());
    assert_eq!(v["deleted"], 5, "{v}");
    let left: Vec<String> = mock
        .archives("v")
        .into_iter()
        .map(|a| a.archive_id)
        .collect();
    assert_eq!(left, [late]);
    let date = v["inventory_date"]
        .as_str()
        .expect("the mock's inventory has a date");
    assert!(
        r.stderr.contains(&format!(
            "archives uploaded after the inventory of {date} are not in it and were not deleted"
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("run the same command again"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_second_run_on_the_same_journal_is_refused() {
    let mock = MockGlacier::start();
    let home = TempDir::new("purge-lock");
    seed(&mock, 3);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let journal = home.join("j.jsonl");
    let held = std::fs::File::create(&journal).expect("journal");
    held.try_lock().expect("lock");
    let args = [
        "vault",
        "purge",
        "--yes",
        "--journal",
        journal.to_str().expect("utf8"),
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
    ];
    let r = run(&mock, home.path(), &args);
    assert!(
        r.fails(2).contains("another run is using the journal"),
        "{}",
        r.stderr
    );
    assert!(mock.requests().is_empty());
    drop(held);
    run(&mock, home.path(), &args).ok();
    assert!(mock.archives("v").is_empty());
}

#[test]
fn ctrl_c_stops_between_deletions_and_the_same_command_continues() {
    let mock = MockGlacier::start();
    let home = TempDir::new("purge-int");
    seed(&mock, 120);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    // The first four deletions (one per thread) are performed and then held, so Ctrl-C
    // arrives while they are in flight however loaded the machine is; the rest are slow,
    // so the stop flag is set long before they could all be done.
    let gate = Gate::new();
    mock.inject(FaultRule::times(
        Fault::Hold(gate.clone()),
        Some("DeleteArchive"),
        4,
    ));
    mock.inject(FaultRule::always(
        Fault::Slow(Duration::from_millis(10)),
        Some("DeleteArchive"),
    ));
    let args = [
        "--json",
        "vault",
        "purge",
        "--yes",
        "-t",
        "4",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
    ];
    let mut child = glacier_mock(&mock, home.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let (lines, stderr) = stderr_lines(&mut child);
    assert!(wait_for_requests(&mock, &mut child, 4), "ended early");
    // Said at once, once the stop flag is set: the held deletions are still in flight.
    let r = crate::support::interrupt(
        child,
        stderr,
        &lines,
        "INT",
        "glacier: interrupted: no new deletion starts; requests in flight finish and are journaled and the same command continues",
        || gate.open(),
    );
    let e = r.fails(130);
    let last = e.lines().last().expect("a line");
    assert!(
        last.contains("run the same command again to continue"),
        "{e}"
    );
    let left = mock.archives("v").len();
    assert!(left > 0, "stopped before the end");
    // Everything in flight finished and was journaled: the rerun sends no 404.
    let v = json(run(&mock, home.path(), &args).ok());
    assert_eq!(v["deleted"].as_u64(), Some(left as u64), "{v}");
    assert_eq!(v["already_gone"], 0, "{v}");
    assert!(mock.archives("v").is_empty());
    assert!(deletes(&mock).values().all(|d| *d == (1, 1)));
}

/// An inventory whose entries lack members the service model does not mark
/// required. A missing CreationDate or ArchiveDescription is unknown, not an error; an
/// entry without ArchiveId, Size or SHA256TreeHash identifies no archive: export and
/// purge skip it, count it and say so, and do the rest.
#[test]
fn entries_missing_members_are_skipped_and_reported_not_fatal() {
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(0),
        ..MockConfig::default()
    });
    let home = TempDir::new("purge-gaps");
    let ids = seed(&mock, 6);
    let archives = mock.archives("v");
    let row = |i: usize| archives.iter().find(|a| a.archive_id == ids[i]).expect("a");
    // 0, 1: no CreationDate (absent, null) and no description; 2: no tree hash;
    // 3: Size null; 4, 5: whole.
    let mut list = Vec::new();
    for i in 0..6 {
        let a = row(i);
        let mut v = serde_json::json!({
            "ArchiveId": a.archive_id,
            "ArchiveDescription": a.description,
            "CreationDate": a.creation_date,
            "Size": a.size,
            "SHA256TreeHash": a.tree_hash,
        });
        let o = v.as_object_mut().expect("object");
        match i {
            0 => {
                o.remove("CreationDate");
                o.remove("ArchiveDescription");
            }
            1 => {
                o.insert("CreationDate".into(), serde_json::Value::Null);
            }
            2 => {
                o.remove("SHA256TreeHash");
            }
            3 => {
                o.insert("Size".into(), serde_json::Value::Null);
            }
            _ => {}
        }
        list.push(v);
    }
    let inv = home.join("inv.json");
    let doc = serde_json::json!({"VaultARN": "arn", "InventoryDate": "2026-01-01T00:00:00Z", "ArchiveList": list});
    std::fs::write(&inv, doc.to_string()).expect("inv");
    let inv_s = inv.to_str().expect("utf8");

    // The same inventory as CSV, exported into a directory: 4 archives, 2 skipped.
    let csv = home.join("inv.csv");
    let mut text = String::from("ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n");
    for v in doc["ArchiveList"].as_array().expect("list") {
        let s = |k: &str| match &v[k] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        text += &format!(
            "{},\"{}\",{},{},{}\n",
            s("ArchiveId"),
            s("ArchiveDescription"),
            s("CreationDate"),
            s("Size"),
            s("SHA256TreeHash")
        );
    }
    std::fs::write(&csv, text).expect("csv");
    let out = home.join("out");
    let r = run(
        &mock,
        home.path(),
        &[
            "vault",
            "export",
            "--inventory",
            csv.to_str().expect("utf8"),
            "v",
            out.to_str().expect("utf8"),
        ],
    );
    r.ok();
    assert!(r.stdout.contains("exported 4 of 4"), "{}", r.stdout);
    assert!(
        r.stderr.contains("2 inventory entries skipped"),
        "{}",
        r.stderr
    );

    // `inventory get`-style rendering is covered in the library; purge here.
    let r = run(
        &mock,
        home.path(),
        &[
            "--json",
            "vault",
            "purge",
            "--yes",
            "--inventory",
            inv_s,
            "v",
        ],
    );
    let v = json(r.ok());
    assert_eq!(v["deleted"], 4, "{v}");
    assert_eq!(v["unusable_entries"], 2, "{v}");
    assert!(
        r.stderr
            .contains("2 inventory entries skipped: they lack an archive ID, size or tree hash"),
        "{}",
        r.stderr
    );
    let mut left: Vec<String> = mock
        .archives("v")
        .iter()
        .map(|a| a.archive_id.clone())
        .collect();
    left.sort();
    let mut want = vec![ids[2].clone(), ids[3].clone()];
    want.sort();
    assert_eq!(
        left, want,
        "only the unidentifiable entries' archives are left"
    );
}

/// `--delete-vault --wait`: after the purge it keeps looking (DescribeVault, no DeleteVault
/// while Glacier's last inventory counts archives) and deletes the vault once the next
/// inventory shows it empty. `--wait` alone is a usage error that sends nothing.
#[test]
fn delete_vault_wait_deletes_once_the_next_inventory_shows_it_empty() {
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(1),
        ..MockConfig::default()
    });
    let home = TempDir::new("purge-wait");
    seed(&mock, 5);
    assert!(mock.take_inventory("v"));

    let r = run(
        &mock,
        home.path(),
        &["vault", "purge", "--yes", "--wait", "v"],
    );
    let e = crate::support::fails_once(&r, 2);
    assert!(e.contains("--wait") && e.contains("--delete-vault"), "{e}");
    assert!(mock.requests().is_empty(), "nothing sent");

    let child = glacier_mock(&mock, home.path())
        .args(["vault", "purge", "--yes", "--delete-vault", "--wait", "v"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // All archives go, then it keeps looking without sending DeleteVault...
    let looks_before = 1; // the purge's own DescribeVault, before deleting
    crate::support::wait_for("DescribeVault polls after the purge", 30, || {
        mock.archives("v").is_empty() && count(&mock, "DescribeVault") >= looks_before + 3
    });
    assert_eq!(count(&mock, "DeleteVault"), 0);
    // ...until Glacier's next inventory (later than the last deletion) shows it empty.
    let after = time::OffsetDateTime::now_utc();
    crate::support::wait_for("the clock to pass a millisecond", 5, || {
        time::OffsetDateTime::now_utc() - after >= time::Duration::milliseconds(2)
    });
    assert!(mock.take_inventory("v"));
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("checking again in"), "{stderr}");
    assert!(stderr.contains("deleted vault 'v'"), "{stderr}");
    assert!(!stderr.contains("run tomorrow"), "{stderr}");
    assert_eq!(count(&mock, "DeleteArchive"), 5);
    let list = run(&mock, home.path(), &["vault", "list"]);
    assert_eq!(list.ok(), "no vaults\n");
}
