//! The Glacier operation a request names, parsed once from its method and path, with the
//! names the path carries. The method and path of each come from the "Request Syntax"
//! section of that operation's page in the Amazon S3 Glacier API reference
//! (<https://docs.aws.amazon.com/amazonglacier/latest/dev/amazon-glacier-api.html>).

use super::error::ApiError;
use super::http::{Head, percent_decode};

/// One Glacier operation and the vault, archive, upload or job its path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// `GET /{account}/vaults`.
    ListVaults,
    /// `PUT /{account}/vaults/{vault}`.
    CreateVault { vault: String },
    /// `GET /{account}/vaults/{vault}`.
    DescribeVault { vault: String },
    /// `DELETE /{account}/vaults/{vault}`.
    DeleteVault { vault: String },
    /// `POST /{account}/vaults/{vault}/archives`.
    UploadArchive { vault: String },
    /// `DELETE /{account}/vaults/{vault}/archives/{archive}`.
    DeleteArchive { vault: String, archive: String },
    /// `POST /{account}/vaults/{vault}/multipart-uploads`.
    InitiateMultipartUpload { vault: String },
    /// `GET /{account}/vaults/{vault}/multipart-uploads`.
    ListMultipartUploads { vault: String },
    /// `PUT /{account}/vaults/{vault}/multipart-uploads/{upload}`.
    UploadMultipartPart { vault: String, upload: String },
    /// `GET /{account}/vaults/{vault}/multipart-uploads/{upload}`.
    ListParts { vault: String, upload: String },
    /// `POST /{account}/vaults/{vault}/multipart-uploads/{upload}`.
    CompleteMultipartUpload { vault: String, upload: String },
    /// `DELETE /{account}/vaults/{vault}/multipart-uploads/{upload}`.
    AbortMultipartUpload { vault: String, upload: String },
    /// `POST /{account}/vaults/{vault}/jobs`.
    InitiateJob { vault: String },
    /// `GET /{account}/vaults/{vault}/jobs`.
    ListJobs { vault: String },
    /// `GET /{account}/vaults/{vault}/jobs/{job}`.
    DescribeJob { vault: String, job: String },
    /// `GET /{account}/vaults/{vault}/jobs/{job}/output`.
    GetJobOutput { vault: String, job: String },
}

impl Operation {
    /// The operation `head` names, or 404 UnknownOperationException when none matches
    /// (recorded under the name `Unknown`). The account ID in the path is checked
    /// separately, by [`check_account`], after the signature.
    pub fn parse(head: &Head) -> Result<Operation, ApiError> {
        use Operation::*;
        let unknown = || {
            ApiError::new(
                404,
                "UnknownOperationException",
                format!("No operation matches {} {}", head.method, head.path),
            )
        };
        let segs: Vec<String> = match head.path.strip_prefix('/') {
            Some(p) => p
                .split('/')
                .map(|s| percent_decode(s).ok_or_else(unknown))
                .collect::<Result<_, _>>()?,
            None => return Err(unknown()),
        };
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        Ok(match (head.method.as_str(), s.as_slice()) {
            ("GET", [_, "vaults"]) => ListVaults,
            ("PUT", [_, "vaults", a]) => CreateVault {
                vault: a.to_string(),
            },
            ("GET", [_, "vaults", a]) => DescribeVault {
                vault: a.to_string(),
            },
            ("DELETE", [_, "vaults", a]) => DeleteVault {
                vault: a.to_string(),
            },
            ("POST", [_, "vaults", a, "archives"]) => UploadArchive {
                vault: a.to_string(),
            },
            ("DELETE", [_, "vaults", a, "archives", b]) => DeleteArchive {
                vault: a.to_string(),
                archive: b.to_string(),
            },
            ("POST", [_, "vaults", a, "multipart-uploads"]) => InitiateMultipartUpload {
                vault: a.to_string(),
            },
            ("GET", [_, "vaults", a, "multipart-uploads"]) => ListMultipartUploads {
                vault: a.to_string(),
            },
            ("PUT", [_, "vaults", a, "multipart-uploads", b]) => UploadMultipartPart {
                vault: a.to_string(),
                upload: b.to_string(),
            },
            ("GET", [_, "vaults", a, "multipart-uploads", b]) => ListParts {
                vault: a.to_string(),
                upload: b.to_string(),
            },
            ("POST", [_, "vaults", a, "multipart-uploads", b]) => CompleteMultipartUpload {
                vault: a.to_string(),
                upload: b.to_string(),
            },
            ("DELETE", [_, "vaults", a, "multipart-uploads", b]) => AbortMultipartUpload {
                vault: a.to_string(),
                upload: b.to_string(),
            },
            ("POST", [_, "vaults", a, "jobs"]) => InitiateJob {
                vault: a.to_string(),
            },
            ("GET", [_, "vaults", a, "jobs"]) => ListJobs {
                vault: a.to_string(),
            },
            ("GET", [_, "vaults", a, "jobs", b]) => DescribeJob {
                vault: a.to_string(),
                job: b.to_string(),
            },
            ("GET", [_, "vaults", a, "jobs", b, "output"]) => GetJobOutput {
                vault: a.to_string(),
                job: b.to_string(),
            },
            _ => return Err(unknown()),
        })
    }

    /// The operation's name as the API reference spells it (and the request log records).
    pub fn name(&self) -> &'static str {
        use Operation::*;
        match self {
            ListVaults => "ListVaults",
            CreateVault { .. } => "CreateVault",
            DescribeVault { .. } => "DescribeVault",
            DeleteVault { .. } => "DeleteVault",
            UploadArchive { .. } => "UploadArchive",
            DeleteArchive { .. } => "DeleteArchive",
            InitiateMultipartUpload { .. } => "InitiateMultipartUpload",
            ListMultipartUploads { .. } => "ListMultipartUploads",
            UploadMultipartPart { .. } => "UploadMultipartPart",
            ListParts { .. } => "ListParts",
            CompleteMultipartUpload { .. } => "CompleteMultipartUpload",
            AbortMultipartUpload { .. } => "AbortMultipartUpload",
            InitiateJob { .. } => "InitiateJob",
            ListJobs { .. } => "ListJobs",
            DescribeJob { .. } => "DescribeJob",
            GetJobOutput { .. } => "GetJobOutput",
        }
    }

    /// Whether the body is archive data, streamed to disk while hashed; every other body
    /// is small and read whole first.
    pub fn streams_body(&self) -> bool {
        matches!(
            self,
            Operation::UploadArchive { .. } | Operation::UploadMultipartPart { .. }
        )
    }
}

/// 403 AccessDeniedException when the path's account ID is neither `-` nor 12 digits
/// (every operation's `accountId` URI parameter: an AWS account ID without hyphens, or
/// a single `-`). Call only for a path [`Operation::parse`] accepted.
pub fn check_account(head: &Head) -> Result<(), ApiError> {
    let account = head
        .path
        .strip_prefix('/')
        .and_then(|p| p.split('/').next())
        .and_then(percent_decode)
        .unwrap_or_default();
    if account != "-" && !(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())) {
        return Err(ApiError::new(
            403,
            "AccessDeniedException",
            format!("Invalid account ID: {account}. Use '-' or the 12-digit account ID"),
        ));
    }
    Ok(())
}
