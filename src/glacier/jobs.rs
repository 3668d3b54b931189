//! Job operations: initiate (archive or inventory retrieval), describe, list, and the job
//! output download.

use std::io::{self, Read};

use crate::aws::Response;
use reqwest::Method;
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
///
/// Every member is optional: the service model (botocore `glacier/2012-06-01`,
/// `GlacierJobDescription`) marks none required, and Glacier nulls what does not apply
/// to the job's action. Code that needs a member says so in one line when it is missing
/// (see the accessors). Glacier's PascalCase is read; our `--json` output writes
/// snake_case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "PascalCase", serialize = "snake_case"))]
pub struct JobDescription {
    /// The job ID.
    #[serde(default)]
    pub job_id: Option<String>,
    /// `ArchiveRetrieval`, `InventoryRetrieval` or `Select`.
    #[serde(default)]
    pub action: Option<String>,
    /// The archive, for archive retrievals.
    #[serde(default)]
    pub archive_id: Option<String>,
    /// The description given at initiation.
    #[serde(default)]
    pub job_description: Option<String>,
    /// The vault's ARN.
    #[serde(rename(deserialize = "VaultARN", serialize = "vault_arn"), default)]
    pub vault_arn: Option<String>,
    /// When the job was created.
    #[serde(default)]
    pub creation_date: Option<String>,
    /// Whether it finished.
    #[serde(default)]
    pub completed: Option<bool>,
    /// `InProgress`, `Succeeded` or `Failed`.
    #[serde(default)]
    pub status_code: Option<String>,
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
    #[serde(
        rename(deserialize = "SHA256TreeHash", serialize = "sha256_tree_hash"),
        default
    )]
    pub sha256_tree_hash: Option<String>,
    /// The whole archive's tree hash.
    #[serde(
        rename(
            deserialize = "ArchiveSHA256TreeHash",
            serialize = "archive_sha256_tree_hash"
        ),
        default
    )]
    pub archive_sha256_tree_hash: Option<String>,
    /// The retrieved range `"start-end"`.
    #[serde(default)]
    pub retrieval_byte_range: Option<String>,
    /// The retrieval tier.
    #[serde(default)]
    pub tier: Option<String>,
    /// The SNS topic.
    #[serde(rename(deserialize = "SNSTopic", serialize = "sns_topic"), default)]
    pub sns_topic: Option<String>,
    /// For inventory retrievals: the filters it ran with, and the `Marker` to continue
    /// from when a `Limit` cut the list short.
    #[serde(default)]
    pub inventory_retrieval_parameters: Option<InventoryRetrievalDescription>,
}

/// An inventory job's parameters as DescribeJob reports them
/// (`InventoryRetrievalJobDescription` in the service model; API Reference, "Describe
/// Job": `Marker` is "an opaque string that represents where to continue pagination of
/// the vault inventory retrieval results", null when the list is complete).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "PascalCase", serialize = "snake_case"))]
pub struct InventoryRetrievalDescription {
    /// `JSON` or `CSV`.
    #[serde(default)]
    pub format: Option<String>,
    /// Archives created at or after this date.
    #[serde(default)]
    pub start_date: Option<String>,
    /// Archives created before this date.
    #[serde(default)]
    pub end_date: Option<String>,
    /// At most this many archives.
    #[serde(default)]
    pub limit: Option<String>,
    /// Where the next page of the inventory starts; `None` when this page is the end.
    #[serde(default)]
    pub marker: Option<String>,
}

impl JobDescription {
    /// Whether Glacier says the job finished: `Completed`, or else a final status code
    /// (an answer with neither counts as not finished yet).
    pub fn is_completed(&self) -> bool {
        self.completed
            .unwrap_or_else(|| matches!(self.status(), "Succeeded" | "Failed"))
    }

    /// The status code, or `"unknown"` when Glacier sent none.
    pub fn status(&self) -> &str {
        self.status_code.as_deref().unwrap_or("unknown")
    }

    /// The action, or `"unknown"` when Glacier sent none.
    pub fn action_name(&self) -> &str {
        self.action.as_deref().unwrap_or("unknown")
    }

    /// The job's ID as a typed value; a description without one (which
    /// [`Client::describe_job`] never returns) is a one-line error.
    pub fn id(&self) -> Result<JobId> {
        self.job_id
            .clone()
            .ok_or_else(|| Error::Job("Glacier described a job without its JobId".into()))
            .and_then(JobId::from_server_checked)
    }

    /// The marker to continue an inventory from, when this job's inventory is partial.
    pub fn inventory_marker(&self) -> Option<&str> {
        self.inventory_retrieval_parameters
            .as_ref()
            .and_then(|p| p.marker.as_deref())
            .filter(|m| !m.is_empty())
    }
}

/// One page of ListJobs ("List Jobs": `JobList` and `Marker`, both optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobsPage {
    /// The jobs on this page.
    #[serde(default)]
    pub job_list: Option<Vec<JobDescription>>,
    /// Where the next page starts; `None` on the last page.
    #[serde(default)]
    pub marker: Option<String>,
}

impl Page for JobsPage {
    type Item = JobDescription;
    fn into_parts(self) -> (Vec<JobDescription>, Option<String>) {
        (self.job_list.unwrap_or_default(), self.marker)
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
            .ok_or_else(|| Error::Transport {
                what: format!("InitiateJob on vault '{vault}': no job ID in the answer"),
                source: "missing header x-amz-job-id".into(),
            })
            .and_then(JobId::from_server_checked)
    }

    /// One job's state.
    pub fn describe_job(&self, vault: &str, job_id: &JobId) -> Result<JobDescription> {
        let call = Call::new(
            "DescribeJob",
            ctx(vault, job_id),
            Method::GET,
            format!("{}/{job_id}", Self::jobs_path(vault)),
        );
        let mut job: JobDescription = json_body(self.send(&call)?, "DescribeJob")?;
        // The answer is about the job asked for, whether or not it repeats its ID.
        job.job_id
            .get_or_insert_with(|| job_id.as_str().to_string());
        Ok(job)
    }

    /// A ListJobs request for `vault`, with `limit` jobs a page (`None`: the service's
    /// default page size).
    fn list_jobs_call(vault: &str, limit: Option<u32>) -> Call<'static> {
        let call = Call::new(
            "ListJobs",
            format!("vault '{vault}'"),
            Method::GET,
            Self::jobs_path(vault),
        );
        match limit {
            Some(l) => call.query("limit", l.to_string()),
            None => call,
        }
    }

    /// Jobs of a vault (all pages, following `Marker`; no `limit` is sent, so the
    /// service's default page size applies), optionally filtered.
    pub fn list_jobs(
        &self,
        vault: &str,
        completed: Option<bool>,
        status: Option<&str>,
    ) -> Result<Vec<JobDescription>> {
        self.all_pages::<JobsPage>(|| {
            let mut call = Self::list_jobs_call(vault, None);
            if let Some(c) = completed {
                call = call.query("completed", c.to_string());
            }
            if let Some(s) = status {
                call = call.query("statuscode", s);
            }
            call
        })
    }

    /// Every job of a vault in pages of 1,000 (the most "List Jobs" gives: a vault-scale
    /// export leaves tens of thousands of jobs, which the service's default page size
    /// would take thousands of requests to list).
    pub fn list_all_jobs(&self, vault: &str) -> Result<Vec<JobDescription>> {
        self.all_pages::<JobsPage>(|| Self::list_jobs_call(vault, Some(1000)))
    }

    /// One page of ListJobs: at most `limit` jobs (1 to 1,000; `None`: the service's
    /// default), starting at `marker` (a `Marker` an earlier page of the same listing
    /// returned; Glacier lists jobs "sorted by job initiation time", API Reference,
    /// "List Jobs"). Callers that need only some jobs stop paging once they have them.
    pub fn list_jobs_page(
        &self,
        vault: &str,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<JobsPage> {
        let mut call = Self::list_jobs_call(vault, limit);
        if let Some(m) = marker {
            call = call.query("marker", m);
        }
        self.send_json(&call)
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
        assert_eq!(j.status(), "InProgress");
        assert!(!j.is_completed());
        assert_eq!(j.archive_size_in_bytes, Some(5));
    }

    #[test]
    fn job_members_may_be_absent_or_null() {
        let j: JobDescription = serde_json::from_str("{}").expect("empty object");
        assert_eq!(j, JobDescription::default());
        assert_eq!(j.status(), "unknown");
        assert!(!j.is_completed());
        let page: JobsPage =
            serde_json::from_str(r#"{"JobList":null,"Marker":null}"#).expect("null list");
        assert_eq!(page.into_parts(), (vec![], None));
    }

    #[test]
    fn inventory_marker_is_read() {
        let j: JobDescription = serde_json::from_str(
            r#"{"Action":"InventoryRetrieval","InventoryRetrievalParameters":{"Format":"JSON","Limit":"2","Marker":"m1"}}"#,
        )
        .expect("parse");
        assert_eq!(j.inventory_marker(), Some("m1"));
        let out = serde_json::to_value(&j).expect("json");
        assert_eq!(out["inventory_retrieval_parameters"]["marker"], "m1");
    }
}
