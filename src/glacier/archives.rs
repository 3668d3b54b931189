//! Archive operations: single-request upload and delete.

use reqwest::Method;
use serde::Serialize;

use super::{ArchiveId, Call, Client, Payload, header, tree_hash_header};
use crate::error::{Error, Result};
use crate::treehash::TreeHash;

/// A stored archive, as UploadArchive and CompleteMultipartUpload report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchiveCreated {
    /// The new archive's ID.
    pub archive_id: ArchiveId,
    /// The tree hash Glacier computed (checked against ours).
    pub tree_hash: TreeHash,
    /// The archive's location (path).
    pub location: String,
}

impl Serialize for ArchiveId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Serialize for TreeHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

/// Reads the archive ID, location and tree hash from a 201 response, and checks the tree
/// hash Glacier computed equals ours.
pub(super) fn archive_created(
    resp: &crate::aws::Response,
    what: &str,
    ours: &TreeHash,
) -> Result<ArchiveCreated> {
    let archive_id = header(resp, "x-amz-archive-id").ok_or_else(|| Error::Transport {
        what: format!("{what}: Glacier's answer has no x-amz-archive-id"),
        source: "missing header".into(),
    })?;
    let theirs = tree_hash_header(resp, what)?.unwrap_or(*ours);
    if theirs != *ours {
        return Err(Error::Mismatch {
            what: format!("{what}: tree hash computed by Glacier for archive {archive_id}"),
            expected: ours.to_hex(),
            actual: theirs.to_hex(),
        });
    }
    Ok(ArchiveCreated {
        archive_id: ArchiveId::from_server(archive_id),
        tree_hash: theirs,
        location: header(resp, "location").unwrap_or_default(),
    })
}

impl Client {
    /// Uploads a whole archive in one request (Glacier: up to 4 GB; we use it below
    /// 100 MiB as AWS recommends).
    pub fn upload_archive(
        &self,
        vault: &str,
        description: &str,
        body: &Payload,
        tree_hash: &TreeHash,
    ) -> Result<ArchiveCreated> {
        let what = format!("vault '{vault}'");
        let call = Call::new(
            "UploadArchive",
            what.clone(),
            Method::POST,
            format!("{}/archives", Self::vault_path(vault)),
        )
        .ok(&[201])
        .header("x-amz-archive-description", description)
        .header("x-amz-sha256-tree-hash", tree_hash.to_hex())
        .body(body);
        // Retrying after a lost answer would store the archive twice and lose the first
        // ID: Glacier has no idempotency token for UploadArchive.
        let call = Call {
            idempotent: false,
            ..call
        };
        let resp = self.send(&call).map_err(|e| match e {
            e if super::outcome_unknown(&e) => Error::WithHint {
                error: Box::new(e),
                hint: "the archive may or may not have been stored; it was not retried so as not to store it twice (an archive that was stored shows in the vault's next inventory)".into(),
            },
            e => e,
        })?;
        archive_created(&resp, &format!("UploadArchive on {what}"), tree_hash)
    }

    /// Deletes an archive.
    pub fn delete_archive(&self, vault: &str, archive_id: &ArchiveId) -> Result<()> {
        let call = Call::new(
            "DeleteArchive",
            format!("archive {archive_id} in vault '{vault}'"),
            Method::DELETE,
            format!("{}/archives/{archive_id}", Self::vault_path(vault)),
        )
        .ok(&[204]);
        self.send(&call).map(drop)
    }
}
