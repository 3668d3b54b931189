//! Files the tool keeps so nothing is lost: the receipts log (one JSON line per archive
//! uploaded, appended and flushed before success is reported) and the resume state of
//! multipart uploads in progress (written to a temporary file and renamed, so a crash
//! never leaves it half-written).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::durable;
use crate::error::{Error, Result};
use crate::glacier::UploadId;

/// What an upload's bytes come from, precisely enough to tell whether a resumed run reads
/// the same data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputId {
    /// A regular file, with the size and modification time it had.
    File {
        /// The path given.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// Its modification time, nanoseconds since the Unix epoch.
        modified_ns: Option<i64>,
    },
    /// A stream.
    Stream {
        /// What it is.
        label: String,
        /// A hash identifying its content, if one is known.
        fingerprint: Option<String>,
    },
}

impl InputId {
    /// Can a resumed run trust that its data is what this upload started with?
    pub fn same_data_as(&self, earlier: &InputId) -> bool {
        match (self, earlier) {
            (
                InputId::File {
                    path: p,
                    size: s,
                    modified_ns: m,
                },
                InputId::File {
                    path: q,
                    size: t,
                    modified_ns: n,
                },
            ) => {
                // States written before paths were made absolute hold the path as given;
                // size and modification time still decide for them.
                s == t && m == n && (p == q || p.is_relative() || q.is_relative())
            }
            (
                InputId::Stream {
                    fingerprint: Some(a),
                    ..
                },
                InputId::Stream {
                    fingerprint: Some(b),
                    ..
                },
            ) => a == b,
            _ => false,
        }
    }
}

/// A multipart upload in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadState {
    /// The vault.
    pub vault: String,
    /// The upload ID.
    pub upload_id: String,
    /// Its part size.
    pub part_size: u64,
    /// Where its data comes from.
    pub input: InputId,
    /// Which Glacier it lives in (endpoint, account, region; see
    /// [`Options::origin`](super::Options::origin)): an upload of another account or
    /// endpoint is never resumed automatically. Empty in states written before it existed.
    #[serde(default)]
    pub origin: String,
    /// Set (and synced) just before CompleteMultipartUpload is sent: every part is up
    /// and this is the archive asked for. If the answer is lost, a later run completes
    /// the upload again with these values instead of starting afresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completing: Option<Completing>,
    /// The description the upload was initiated with (Glacier keeps it for the archive),
    /// so completing it again never records another. `None` in older states.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The archive a CompleteMultipartUpload asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completing {
    /// Archive size in bytes.
    pub size: u64,
    /// Its tree hash, hex.
    pub tree_hash: String,
}

/// Nanoseconds since the epoch, for a modification time.
pub fn nanos(t: SystemTime) -> Option<i64> {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_nanos()).ok())
}

/// Where the state of `upload_id` is kept in `dir`.
pub fn state_path(dir: &Path, upload_id: &UploadId) -> PathBuf {
    dir.join(format!("{upload_id}.json"))
}

/// Saves the state atomically and durably (`durable::Replacement`: a temporary file
/// created exclusively, synced, renamed, the directory synced).
pub fn save(dir: &Path, state: &UploadState) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let id = UploadId::from_server(state.upload_id.clone());
    let path = state_path(dir, &id);
    let text = serde_json::to_vec_pretty(state).map_err(|e| Error::Input(e.to_string()))?;
    durable::write_atomic(&path, &text)
}

/// Loads the state of an upload, if this machine has it. An unreadable or malformed
/// state file counts as absent: it can only make a resume less trusting.
pub fn load(dir: &Path, upload_id: &UploadId) -> Option<UploadState> {
    let text = fs::read(state_path(dir, upload_id)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// The state of an interrupted upload of the same input to the same vault in the same
/// Glacier (`origin`), if this machine has one: what lets a plain re-run resume. The
/// newest match wins (by file modification time) should there be several.
pub fn find(dir: &Path, vault: &str, origin: &str, input: &InputId) -> Option<UploadState> {
    let mut best: Option<(SystemTime, UploadState)> = None;
    for entry in fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let Some(st) = fs::read(&path)
            .ok()
            .and_then(|t| serde_json::from_slice::<UploadState>(&t).ok())
        else {
            continue;
        };
        if st.vault != vault || st.origin != origin || !input.same_data_as(&st.input) {
            continue;
        }
        let when = entry
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        if best.as_ref().is_none_or(|(t, _)| when > *t) {
            best = Some((when, st));
        }
    }
    best.map(|(_, st)| st)
}

/// Forgets an upload's state (after completion).
pub fn remove(dir: &Path, upload_id: &UploadId) {
    let _ = fs::remove_file(state_path(dir, upload_id));
}

/// Appends one JSON line to the receipts file and makes sure it reached the disk before
/// returning, so an archive ID reported as uploaded is never lost.
pub fn append_receipt(path: &Path, receipt: &serde_json::Value) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let mut line = receipt.to_string();
    line.push('\n');
    let existed = path.exists();
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    // One write call for the whole line: appends of one line don't interleave.
    f.write_all(line.as_bytes())
        .map_err(|e| Error::io(path, e))?;
    f.sync_data().map_err(|e| Error::io(path, e))?;
    // A receipts file just created exists after a crash only once its directory entry
    // is synced too.
    if !existed {
        crate::durable::fsync_dir(crate::durable::parent_dir(path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trip_and_receipts_append() {
        let dir = std::env::temp_dir().join(format!("glacier-state-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let st = UploadState {
            vault: "v".into(),
            upload_id: "U1".into(),
            part_size: 1 << 20,
            input: InputId::File {
                path: "/x".into(),
                size: 5,
                modified_ns: Some(7),
            },
            origin: "https://glacier.example 012345678901".into(),
            completing: None,
            description: None,
        };
        save(&dir, &st).expect("save");
        let id = UploadId::from_server("U1");
        // A real modification time (nanoseconds) must survive the round trip.
        let st = UploadState {
            input: InputId::File {
                path: "/x".into(),
                size: 5,
                modified_ns: nanos(SystemTime::now()),
            },
            ..st
        };
        save(&dir, &st).expect("save");
        assert_eq!(load(&dir, &id), Some(st.clone()));
        assert!(st.input.same_data_as(&st.input));
        // Found again by what it uploads, but only in the same vault and Glacier.
        assert_eq!(find(&dir, "v", &st.origin, &st.input), Some(st.clone()));
        assert_eq!(find(&dir, "w", &st.origin, &st.input), None);
        assert_eq!(find(&dir, "v", "elsewhere", &st.input), None);
        remove(&dir, &id);
        assert_eq!(load(&dir, &id), None);

        let r = dir.join("sub/receipts.jsonl");
        append_receipt(&r, &serde_json::json!({"a": 1})).expect("append");
        append_receipt(&r, &serde_json::json!({"a": 2})).expect("append");
        assert_eq!(
            fs::read_to_string(&r).expect("read"),
            "{\"a\":1}\n{\"a\":2}\n"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn stdin_is_never_trusted_to_be_the_same() {
        let a = InputId::Stream {
            label: "standard input".into(),
            fingerprint: None,
        };
        assert!(!a.same_data_as(&a));
    }

    #[test]
    fn a_relative_path_from_an_older_state_still_matches_by_size_and_time() {
        let file = |path: &str, size| InputId::File {
            path: path.into(),
            size,
            modified_ns: Some(1),
        };
        assert!(file("/d/big.bin", 5).same_data_as(&file("big.bin", 5)));
        assert!(!file("/d/big.bin", 5).same_data_as(&file("big.bin", 6)));
        assert!(!file("/d/big.bin", 5).same_data_as(&file("/e/big.bin", 5)));
    }
}
