//! Multipart upload operations: initiate, upload a part, list parts, complete, abort,
//! list uploads.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::archives::archive_created;
use super::{ArchiveCreated, Call, Client, Page, Payload, UploadId, header, tree_hash_header};
use crate::error::{Error, Result};
use crate::treehash::TreeHash;

/// One uploaded part as ListParts reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartRange {
    /// First byte.
    pub start: u64,
    /// Last byte (inclusive).
    pub end: u64,
    /// The part's tree hash.
    pub tree_hash: TreeHash,
}

/// What ListParts says about an upload (all pages).
#[derive(Debug, Clone)]
pub struct PartList {
    /// The upload's part size.
    pub part_size: u64,
    /// The description given at initiation.
    pub archive_description: Option<String>,
    /// The parts present, in the order Glacier listed them.
    pub parts: Vec<PartRange>,
}

/// An upload in progress, as ListMultipartUploads reports it.
///
/// Every member is optional: the service model (botocore `glacier/2012-06-01`,
/// `UploadListElement`) marks none required. Glacier's PascalCase is read; our `--json`
/// output writes snake_case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "PascalCase", serialize = "snake_case"))]
pub struct UploadDescription {
    /// The upload ID.
    #[serde(default)]
    pub multipart_upload_id: Option<String>,
    /// The description given at initiation.
    #[serde(default)]
    pub archive_description: Option<String>,
    /// When it was initiated.
    #[serde(default)]
    pub creation_date: Option<String>,
    /// Its part size.
    #[serde(default)]
    pub part_size_in_bytes: Option<u64>,
    /// The vault's ARN.
    #[serde(rename(deserialize = "VaultARN", serialize = "vault_arn"), default)]
    pub vault_arn: Option<String>,
}

/// One page of ListMultipartUploads ("List Multipart Uploads": `UploadsList` and
/// `Marker`, both optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadsPage {
    /// The uploads on this page.
    #[serde(default)]
    pub uploads_list: Option<Vec<UploadDescription>>,
    /// Where the next page starts; `None` on the last page.
    #[serde(default)]
    pub marker: Option<String>,
}

impl Page for UploadsPage {
    type Item = UploadDescription;
    fn into_parts(self) -> (Vec<UploadDescription>, Option<String>) {
        (self.uploads_list.unwrap_or_default(), self.marker)
    }
}

/// One part as ListParts sends it (`PartListElement`: both members optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PartJson {
    /// `"start-end"`, inclusive.
    #[serde(default)]
    pub range_in_bytes: Option<String>,
    /// The part's tree hash, hex.
    #[serde(rename = "SHA256TreeHash", default)]
    pub sha256_tree_hash: Option<String>,
}

/// One page of ListParts ("List Parts"; `ListPartsOutput`: no member required).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PartsPage {
    /// The upload's part size.
    #[serde(default)]
    pub part_size_in_bytes: Option<u64>,
    /// The description given at initiation.
    #[serde(default)]
    pub archive_description: Option<String>,
    /// The parts on this page.
    #[serde(default)]
    pub parts: Option<Vec<PartJson>>,
    /// Where the next page starts; `None` on the last page.
    #[serde(default)]
    pub marker: Option<String>,
}

/// Parses `"a-b"` (ListParts' RangeInBytes) into inclusive bounds.
pub fn parse_range(s: &str) -> Option<(u64, u64)> {
    let (a, b) = s.split_once('-')?;
    let (a, b) = (a.parse().ok()?, b.parse().ok()?);
    (a <= b).then_some((a, b))
}

/// A ListParts entry as a part, when both members are present and well formed.
pub fn part_range(p: &PartJson) -> Option<PartRange> {
    let (start, end) = parse_range(p.range_in_bytes.as_deref()?)?;
    let tree_hash = p.sha256_tree_hash.as_deref()?.parse().ok()?;
    Some(PartRange {
        start,
        end,
        tree_hash,
    })
}

fn ctx(vault: &str, upload_id: &UploadId) -> String {
    format!("upload {upload_id} in vault '{vault}'")
}

impl Client {
    fn upload_path(vault: &str, upload_id: &UploadId) -> String {
        format!("{}/multipart-uploads/{upload_id}", Self::vault_path(vault))
    }

    /// Starts a multipart upload with this part size (1 MiB × 2^n).
    pub fn initiate_multipart_upload(
        &self,
        vault: &str,
        part_size: u64,
        description: &str,
    ) -> Result<UploadId> {
        let call = Call::new(
            "InitiateMultipartUpload",
            format!("vault '{vault}'"),
            Method::POST,
            format!("{}/multipart-uploads", Self::vault_path(vault)),
        )
        .ok(&[201])
        .header("x-amz-part-size", part_size.to_string())
        .header("x-amz-archive-description", description);
        // Not retried after a transport error that may have reached Glacier: a second
        // upload would be an orphan. The caller looks for the upload the first attempt
        // made instead (`upload::lost`).
        let call = Call {
            idempotent: false,
            ..call
        };
        let resp = self.send(&call)?;
        header(&resp, "x-amz-multipart-upload-id")
            .ok_or_else(|| Error::Transport {
                what: format!(
                    "InitiateMultipartUpload on vault '{vault}': no upload ID in the answer"
                ),
                source: "missing header x-amz-multipart-upload-id".into(),
            })
            .and_then(UploadId::from_server_checked)
    }

    /// Uploads one part starting at byte `start`. Succeeds only when Glacier accepted it
    /// (204) and, if it echoes a tree hash, that hash is ours.
    pub fn upload_part(
        &self,
        vault: &str,
        upload_id: &UploadId,
        start: u64,
        body: &Payload,
        tree_hash: &TreeHash,
    ) -> Result<()> {
        let end = start + body.len() - 1;
        let call = Call::new(
            "UploadMultipartPart",
            format!("part {start}-{end} of {}", ctx(vault, upload_id)),
            Method::PUT,
            Self::upload_path(vault, upload_id),
        )
        .ok(&[204])
        // No '=' here, unlike a GET Range (Glacier API Reference, Upload Part).
        .header("content-range", format!("bytes {start}-{end}/*"))
        .header("x-amz-sha256-tree-hash", tree_hash.to_hex())
        .body(body);
        let resp = self.send(&call)?;
        if let Some(theirs) = tree_hash_header(&resp, call.op)? {
            if theirs != *tree_hash {
                return Err(Error::Mismatch {
                    what: format!("{}: tree hash Glacier computed", call.context),
                    expected: tree_hash.to_hex(),
                    actual: theirs.to_hex(),
                });
            }
        }
        Ok(())
    }

    /// Every part uploaded so far (all pages, following `Marker`; no `limit` is sent,
    /// so the service's default page size applies). The part size is needed to resume,
    /// so an answer without one is a clear error rather than a guess.
    pub fn list_parts(&self, vault: &str, upload_id: &UploadId) -> Result<PartList> {
        let mut list = PartList {
            part_size: 0,
            archive_description: None,
            parts: Vec::new(),
        };
        let mut marker: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let mut call = Call::new(
                "ListParts",
                ctx(vault, upload_id),
                Method::GET,
                Self::upload_path(vault, upload_id),
            );
            if let Some(m) = marker.take() {
                call = call.query("marker", m);
            }
            let page: PartsPage = super::json_body(self.send(&call)?, "ListParts")?;
            list.part_size = page.part_size_in_bytes.ok_or_else(|| Error::Transport {
                what: format!("ListParts on {}: no part size in the answer", call.context),
                source: "PartSizeInBytes is missing or null".into(),
            })?;
            list.archive_description = page.archive_description;
            for p in page.parts.unwrap_or_default() {
                list.parts.push(part_range(&p).ok_or_else(|| {
                    Error::Transport {
                        what: format!("ListParts on {}: unexpected part entry", call.context),
                        source: format!(
                            "RangeInBytes {}, SHA256TreeHash {}",
                            p.range_in_bytes.as_deref().unwrap_or("null"),
                            p.sha256_tree_hash.as_deref().unwrap_or("null")
                        )
                        .into(),
                    }
                })?);
            }
            match super::next_marker(&mut seen, page.marker, &call)? {
                Some(m) => marker = Some(m),
                None => return Ok(list),
            }
        }
    }

    /// Completes an upload; Glacier checks the size and the whole-archive tree hash.
    pub fn complete_multipart_upload(
        &self,
        vault: &str,
        upload_id: &UploadId,
        archive_size: u64,
        tree_hash: &TreeHash,
    ) -> Result<ArchiveCreated> {
        let call = Call::new(
            "CompleteMultipartUpload",
            ctx(vault, upload_id),
            Method::POST,
            Self::upload_path(vault, upload_id),
        )
        .ok(&[201])
        .header("x-amz-archive-size", archive_size.to_string())
        .header("x-amz-sha256-tree-hash", tree_hash.to_hex());
        let resp = self.send(&call).map_err(|e| match e {
            // A retried Complete whose first attempt succeeded (answer lost) finds the
            // upload gone: the archive exists, but its ID is only in Glacier's inventory.
            Error::Service(s) if s.code == "ResourceNotFoundException" => Error::WithHint {
                error: Box::new(Error::Service(s)),
                hint: format!(
                    "if an earlier attempt of this request timed out, the archive may already exist: look for size {archive_size} and tree hash {tree_hash} in the vault's next inventory"
                ),
            },
            e => e,
        })?;
        archive_created(
            &resp,
            &format!("CompleteMultipartUpload on {}", call.context),
            tree_hash,
        )
    }

    /// Aborts an upload; its parts are discarded.
    pub fn abort_multipart_upload(&self, vault: &str, upload_id: &UploadId) -> Result<()> {
        let call = Call::new(
            "AbortMultipartUpload",
            ctx(vault, upload_id),
            Method::DELETE,
            Self::upload_path(vault, upload_id),
        )
        .ok(&[204]);
        self.send(&call).map(drop)
    }

    /// Every upload in progress in a vault (all pages, following `Marker`; no `limit`).
    pub fn list_multipart_uploads(&self, vault: &str) -> Result<Vec<UploadDescription>> {
        let path = format!("{}/multipart-uploads", Self::vault_path(vault));
        self.all_pages::<UploadsPage>(|| {
            Call::new(
                "ListMultipartUploads",
                format!("vault '{vault}'"),
                Method::GET,
                path.clone(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("0-8388607"), Some((0, 8_388_607)));
        assert_eq!(parse_range("5-4"), None);
        assert_eq!(parse_range("x-4"), None);
    }

    #[test]
    fn parts_page_json() {
        let p: PartsPage = serde_json::from_str(
            r#"{"ArchiveDescription":"d","CreationDate":"2026-01-01T00:00:00.000Z","Marker":null,"MultipartUploadId":"u","PartSizeInBytes":1048576,"Parts":[{"RangeInBytes":"0-1048575","SHA256TreeHash":"01d34dabf7be316472c93b1ef80721f5d4a2e8cbaaa1d1e0e8b9c4f9c4e5e5e5"}],"VaultARN":"arn"}"#,
        )
        .expect("parse");
        assert_eq!(p.part_size_in_bytes, Some(1 << 20));
        let parts = p.parts.expect("parts");
        assert_eq!(parts.len(), 1);
        assert!(part_range(&parts[0]).is_some());
    }

    #[test]
    fn upload_and_part_members_may_be_absent_or_null() {
        let u: UploadDescription = serde_json::from_str("{}").expect("empty upload");
        assert_eq!(u, UploadDescription::default());
        let p: PartsPage =
            serde_json::from_str(r#"{"Parts":null,"PartSizeInBytes":null}"#).expect("parts");
        assert_eq!(p, PartsPage::default());
        let e: PartJson = serde_json::from_str(r#"{"RangeInBytes":null}"#).expect("part");
        assert_eq!(part_range(&e), None);
        let page: UploadsPage = serde_json::from_str(r#"{"UploadsList":null}"#).expect("page");
        assert_eq!(page.into_parts(), (vec![], None));
    }
}
