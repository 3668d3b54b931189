//! The library's advice as the CLI prints it: the library names what to do next as an
//! `error::Action` (ListJobs, an export...) and `glacier` installs its commands as the
//! words, so stderr names the command to run. The other such messages are held by the
//! tests of their commands (`archive get`/`inventory get` in retrieval_cli, `uploads list`
//! in review_findings, `uploads abort` in foreign_uploads) and, where a run cannot reach
//! them cheaply, by the unit test of `cli::help::action_command`.

use std::path::Path;

use crate::mock::{Fault, FaultRule, MockGlacier};
use crate::support::{Run, TempDir, glacier_mock, inventory_json};

fn run(mock: &MockGlacier, data: &Path, args: &[&str]) -> Run {
    glacier_mock(mock, data)
        .args(args)
        .output()
        .expect("run glacier")
        .into()
}

/// InitiateJob's answer lost and the ListJobs that looks for the job failing too: the
/// error ends with the command that shows whether the job was started.
#[test]
fn a_failed_look_for_a_lost_job_names_jobs_list() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("advice-jobs-list");
    mock.inject(FaultRule::times(Fault::DropAfter, Some("InitiateJob"), 1));
    mock.inject(FaultRule::always(Fault::Drop, Some("ListJobs")));
    let r = run(
        &mock,
        dir.path(),
        &["--max-attempts", "1", "inventory", "init-retrieval", "v"],
    );
    let err = r.fails(1);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("glacier: ")
            && last.ends_with(
                ", so a retrieval may have started: check 'glacier jobs list v' before starting it again"
            ),
        "{err}"
    );
}

/// `vault purge --only-exported DIR` with no export in DIR: one line that names the
/// command that makes one, and nothing sent.
#[test]
fn only_exported_without_an_export_names_vault_export() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let home = TempDir::new("advice-vault-export");
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let none = home.join("none");
    let none_s = none.to_str().expect("utf8");
    let before = mock.requests().len();
    let r = run(
        &mock,
        home.path(),
        &[
            "vault",
            "purge",
            "--yes",
            "--only-exported",
            none_s,
            "--inventory",
            inv.to_str().expect("utf8"),
            "v",
        ],
    );
    let err = r.fails(2).trim_end();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "glacier: --only-exported {none_s}: no export journal there ({none_s}/"
        )) && err
            .ends_with(" is missing); export the vault into it with `glacier vault export` first"),
        "{err}"
    );
    assert_eq!(mock.requests().len(), before);
}
