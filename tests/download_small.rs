//! The one-step download of an output that fits one chunk, driven through the
//! library against the mock: one GET, verified and read back, one new file and nothing
//! beside it, the temporary name never followed, and nothing left after a failure.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use glacier_upload::download::{self, Options};
use glacier_upload::error::Error;
use glacier_upload::glacier::{Client, JobDescription, JobRequest};
use glacier_upload::treehash;

use crate::mock::{Fault, FaultRule, MockGlacier};
use crate::support::{TempDir, count, mock_client, pattern};

fn opts(chunk_size: u64) -> Options {
    Options {
        threads: 4,
        chunk_size,
        force: false,
        reporter: Arc::new(glacier_upload::progress::Counts::new()),
        stop: Arc::new(AtomicBool::new(false)),
    }
}

/// A vault `v` holding `data`, and a finished retrieval job for it.
fn retrieved(mock: &MockGlacier, data: &[u8]) -> (Client, JobDescription) {
    mock.create_vault("v");
    let id = mock.put_archive("v", data, "small");
    let client = mock_client(mock);
    let req = JobRequest {
        kind: "archive-retrieval".into(),
        archive_id: Some(id),
        ..JobRequest::default()
    };
    let job_id = client.initiate_job("v", &req).expect("initiate");
    mock.complete_jobs();
    let job = client.describe_job("v", &job_id).expect("describe");
    (client, job)
}

fn get_job_outputs(mock: &MockGlacier) -> Vec<crate::mock::RecordedRequest> {
    mock.requests()
        .into_iter()
        .filter(|r| r.operation == "GetJobOutput")
        .collect()
}

#[test]
fn one_chunk_is_one_get_into_one_file_and_nothing_beside_it() {
    let mock = MockGlacier::start();
    let data = pattern(3000, 5);
    let (client, job) = retrieved(&mock, &data);
    let dir = TempDir::new("dl-small");
    let part = dir.join("part");
    let out = download::download_small(&client, "v", &job, &part, &opts(1 << 20)).expect("ok");
    assert_eq!(out.size, 3000);
    assert_eq!(out.tree_hash, treehash::tree_hash(&data));
    assert!(out.verified_whole);
    assert!(std::fs::read(&part).expect("part") == data);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("part")],
        "no log, no lock"
    );
    let gets = get_job_outputs(&mock);
    assert_eq!(gets.len(), 1);
    assert!(
        !gets[0]
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("range")),
        "the whole output, not a range"
    );
    assert!(download::fits_one_chunk(&job, 3000).expect("size"));
    assert!(!download::fits_one_chunk(&job, 2999).expect("size"));
}

#[test]
fn a_corrupted_body_is_fetched_again_and_a_lasting_one_leaves_nothing() {
    let mock = MockGlacier::start();
    let data = pattern(5000, 9);
    let (client, job) = retrieved(&mock, &data);
    let dir = TempDir::new("dl-small-corrupt");
    let part = dir.join("part");
    mock.inject(FaultRule::times(Fault::Corrupt, Some("GetJobOutput"), 1));
    download::download_small(&client, "v", &job, &part, &opts(1 << 20)).expect("second try");
    assert!(std::fs::read(&part).expect("part") == data);
    assert_eq!(get_job_outputs(&mock).len(), 2);

    std::fs::remove_file(&part).expect("rm");
    mock.inject(FaultRule::always(Fault::Corrupt, Some("GetJobOutput")));
    let e = download::download_small(&client, "v", &job, &part, &opts(1 << 20))
        .expect_err("never right");
    assert!(matches!(e, Error::Mismatch { .. }), "{e}");
    assert!(!part.exists(), "nothing left under the temporary name");
    assert_eq!(count(&mock, "GetJobOutput"), 2 + 5);
}

#[test]
fn the_temporary_name_is_never_followed_or_overwritten() {
    let mock = MockGlacier::start();
    let data = pattern(100, 1);
    let (client, job) = retrieved(&mock, &data);
    let dir = TempDir::new("dl-small-link");
    let victim = dir.join("victim");
    std::fs::write(&victim, b"keep me").expect("write");
    let link = dir.join("part");
    std::os::unix::fs::symlink(&victim, &link).expect("symlink");
    assert!(download::download_small(&client, "v", &job, &link, &opts(1 << 20)).is_err());
    assert_eq!(std::fs::read(&victim).expect("victim"), b"keep me");
    let dangling = dir.join("dangling");
    std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).expect("symlink");
    assert!(download::download_small(&client, "v", &job, &dangling, &opts(1 << 20)).is_err());
    assert!(
        !dir.join("nowhere").exists(),
        "nothing created through the link"
    );
    assert!(download::download_small(&client, "v", &job, &victim, &opts(1 << 20)).is_err());
    assert_eq!(std::fs::read(&victim).expect("victim"), b"keep me");
    assert_eq!(count(&mock, "GetJobOutput"), 0, "refused before fetching");
    // Larger than one chunk: not this path's to take.
    let big = dir.join("big");
    let e = download::download_small(&client, "v", &job, &big, &opts(64)).expect_err("too big");
    assert!(e.to_string().contains("larger than one chunk"), "{e}");
    assert!(!big.exists());
}
