//! Job operations: initiate (archive or inventory retrieval), describe, list, and the job
//! output download.

use std::io::{self, Read};

use reqwest::Method;
use reqwest::blocking::Response;
use serde::{Deserialize, Serialize};

use super::{Call, Client, JobId, Page, Payload, header, json_body, tree_hash_header};
use crate::error::{Error, Result};
use crate::treehash::TreeHash;

/// The InitiateJob body (Glacier API Reference, "Initiate Job"); unset fields are left
/// out.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobRequest {
    /// `archive-retrieval` or `inventory-retrieval`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// For archive retrievals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_id: Option<String>,
    /// Free text, up to 1,024 printable ASCII characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// An SNS topic to notify.
    #[serde(rename = "SNSTopic", skip_serializing_if = "Option::is_none")]
    pub sns_topic: Option<String>,
    /// `Expedited`, `Standard` or `Bulk`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// `"start-end"` for a ranged archive retrieval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retrieval_byte_range: Option<String>,
    /// `JSON` or `CSV`, for inventories.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Inventory filters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory_retrieval_parameters: Option<InventoryParameters>,
}

/// Inventory retrieval filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InventoryParameters {
    /// Archives created at or after this date (ISO 8601).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub start_date: Option<String>,
    /// Archives created before this date.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub end_date: Option<String>,
    /// At most this many archives.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub limit: Option<String>,
    /// Continue a previous inventory.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub marker: Option<String>,
}

/// A job as DescribeJob and ListJobs report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobDescription {
    /// The job ID.
    pub job_id: String,
    /// `ArchiveRetrieval`, `InventoryRetrieval` or `Select`.
    pub action: String,
    /// The archive, for archive retrievals.
    #[serde(default)]
    pub archive_id: Option<String>,
    /// The description given at initiation.
    #[serde(default)]
    pub job_description: Option<String>,
    /// The vault's ARN.
    #[serde(rename = "VaultARN", default)]
    pub vault_arn: String,
    /// When the job was created.
    pub creation_date: String,
    /// Whether it finished.
    pub completed: bool,
    /// `InProgress`, `Succeeded` or `Failed`.
    pub status_code: String,
    /// Why, in words.
    #[serde(default)]
    pub status_message: Option<String>,
    /// When it finished.
    #[serde(default)]
    pub completion_date: Option<String>,
    /// The whole archive's size (archive retrievals).
    #[serde(default)]
    pub archive_size_in_bytes: Option<u64>,
    /// The inventory's size (inventory retrievals).
    #[serde(default)]
    pub inventory_size_in_bytes: Option<u64>,
    /// The tree hash of the retrieved range, when it is tree-hash aligned.
    #[serde(rename = "SHA256TreeHash", default)]
    pub sha256_tree_hash: Option<String>,
    /// The whole archive's tree hash.
    #[serde(rename = "ArchiveSHA256TreeHash", default)]
    pub archive_sha256_tree_hash: Option<String>,
    /// The retrieved range `"start-end"`.
    #[serde(default)]
    pub retrieval_byte_range: Option<String>,
    /// The retrieval tier.
    #[serde(default)]
    pub tier: Option<String>,
    /// The SNS topic.
    #[serde(rename = "SNSTopic", default)]
    pub sns_topic: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct JobsPage {
    #[serde(default)]
    job_list: Vec<JobDescription>,
    #[serde(default)]
    marker: Option<String>,
}

impl Page for JobsPage {
    type Item = JobDescription;
    fn into_parts(self) -> (Vec<JobDescription>, Option<String>) {
        (self.job_list, self.marker)
    }
}

/// A job output response being read: the body streams through `Read`.
pub struct JobOutput {
    response: Response,
    /// The tree hash Glacier sent for this range (only for tree-hash aligned ranges).
    pub tree_hash: Option<TreeHash>,
    /// The body length, when Glacier said it.
    pub content_length: Option<u64>,
    /// `200` or `206`.
    pub status: u16,
}

impl Read for JobOutput {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.response.read(buf)
    }
}

fn ctx(vault: &str, job_id: &JobId) -> String {
    format!("job {job_id} in vault '{vault}'")
}

impl Client {
    fn jobs_path(vault: &str) -> String {
        format!("{}/jobs", Self::vault_path(vault))
    }

    /// Starts a job; returns its ID.
    pub fn initiate_job(&self, vault: &str, request: &JobRequest) -> Result<JobId> {
        let body = serde_json::to_vec(request).map_err(|e| Error::Input(e.to_string()))?;
        let payload = Payload::from_vec(body);
        let call = Call::new(
            "InitiateJob",
            format!("vault '{vault}'"),
            Method::POST,
            Self::jobs_path(vault),
        )
        .ok(&[202])
        .header("content-type", "application/json")
        .body(&payload);
        // Not retried after a transport error that may have reached Glacier: a second
        // retrieval would be billed twice. The caller looks for the job the first
        // attempt started instead (`cli::retrieval::start_job`).
        let call = Call {
            idempotent: false,
            ..call
        };
        let resp = self.send(&call)?;
        header(&resp, "x-amz-job-id")
            .map(JobId::from_server)
            .ok_or_else(|| Error::Transport {
                what: format!("InitiateJob on vault '{vault}': no job ID in the answer"),
                source: "missing header x-amz-job-id".into(),
            })
    }

    /// One job's state.
    pub fn describe_job(&self, vault: &str, job_id: &JobId) -> Result<JobDescription> {
        let call = Call::new(
            "DescribeJob",
            ctx(vault, job_id),
            Method::GET,
            format!("{}/{job_id}", Self::jobs_path(vault)),
        );
        json_body(self.send(&call)?, "DescribeJob")
    }

    /// Jobs of a vault (all pages), optionally filtered.
    pub fn list_jobs(
        &self,
        vault: &str,
        completed: Option<bool>,
        status: Option<&str>,
    ) -> Result<Vec<JobDescription>> {
        let path = Self::jobs_path(vault);
        self.all_pages::<JobsPage>(|| {
            let mut call = Call::new(
                "ListJobs",
                format!("vault '{vault}'"),
                Method::GET,
                path.clone(),
            )
            .query("limit", "1000");
            if let Some(c) = completed {
                call = call.query("completed", c.to_string());
            }
            if let Some(s) = status {
                call = call.query("statuscode", s);
            }
            call
        })
    }

    /// Starts downloading a job's output, or the inclusive byte `range` of it. Status
    /// errors are retried here; errors while reading the body are the caller's to retry
    /// (it knows how much it already has).
    pub fn job_output(
        &self,
        vault: &str,
        job_id: &JobId,
        range: Option<(u64, u64)>,
    ) -> Result<JobOutput> {
        let mut call = Call::new(
            "GetJobOutput",
            ctx(vault, job_id),
            Method::GET,
            format!("{}/{job_id}/output", Self::jobs_path(vault)),
        )
        .ok(&[200, 206]);
        if let Some((a, b)) = range {
            // With '=', unlike Upload Part's Content-Range (API Reference, Get Job Output).
            call = call.header("range", format!("bytes={a}-{b}"));
        }
        let resp = self.send(&call)?;
        let tree_hash = tree_hash_header(&resp, "GetJobOutput")?;
        Ok(JobOutput {
            status: resp.status().as_u16(),
            content_length: resp.content_length(),
            tree_hash,
            response: resp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_request_leaves_out_unset_fields() {
        let r = JobRequest {
            kind: "archive-retrieval".into(),
            archive_id: Some("-abc".into()),
            tier: Some("Bulk".into()),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&r).expect("json"),
            r#"{"Type":"archive-retrieval","ArchiveId":"-abc","Tier":"Bulk"}"#
        );
    }

    #[test]
    fn describe_job_json() {
        let j: JobDescription = serde_json::from_str(
            r#"{"Action":"ArchiveRetrieval","ArchiveId":"a","ArchiveSHA256TreeHash":"h","ArchiveSizeInBytes":5,"Completed":false,"CompletionDate":null,"CreationDate":"2026-01-01T00:00:00.000Z","InventorySizeInBytes":null,"JobDescription":null,"JobId":"j","RetrievalByteRange":"0-4","SHA256TreeHash":null,"SNSTopic":null,"StatusCode":"InProgress","StatusMessage":null,"Tier":"Standard","VaultARN":"arn"}"#,
        )
        .expect("parse");
        assert_eq!(j.status_code, "InProgress");
        assert_eq!(j.archive_size_in_bytes, Some(5));
    }
}
