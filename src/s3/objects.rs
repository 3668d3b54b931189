//! One typed method per S3 operation the migration uses, and their XML.
//!
//! Requests and answers follow the Amazon S3 API Reference pages named on each method.
//! XML is read with roxmltree (README, Dependencies); elements are matched by local name,
//! so the `http://s3.amazonaws.com/doc/2006-03-01/` namespace, present or not, does not
//! matter.

use std::collections::BTreeMap;

use crate::aws::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::Method;
use sha2::{Digest, Sha256};

use super::service::parse_error;
use super::{Body, Call, Client, StorageClass, check_bucket_name, check_key};
use crate::aws::{Failure, header, read_body};
use crate::error::{Error, Result};

/// What a new object is written with.
#[derive(Debug, Clone, Default)]
pub struct ObjectOptions {
    /// `x-amz-storage-class`.
    pub storage_class: StorageClass,
    /// User metadata: names without the `x-amz-meta-` prefix, lowercase, header-safe values.
    pub metadata: Vec<(String, String)>,
}

/// An object's facts from HeadObject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    /// `Content-Length`.
    pub size: u64,
    /// The ETag, quotes included.
    pub etag: Option<String>,
    /// `x-amz-storage-class`; S3 omits it for STANDARD.
    pub storage_class: Option<String>,
    /// `x-amz-checksum-sha256` (asked for with `x-amz-checksum-mode: ENABLED`): base64,
    /// with `-N` for a multipart object on AWS.
    pub checksum_sha256: Option<String>,
    /// User metadata, names without the prefix.
    pub metadata: BTreeMap<String, String>,
}

/// The answer to PutObject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutResult {
    /// The ETag.
    pub etag: Option<String>,
    /// The checksum S3 computed, when it says.
    pub checksum_sha256: Option<String>,
}

/// An uploaded part, as CompleteMultipartUpload needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    /// 1-based part number.
    pub part_number: u32,
    /// The ETag S3 gave the part.
    pub etag: String,
    /// The part's SHA-256 digest (its base64 is the part's `ChecksumSHA256`).
    pub sha256: [u8; 32],
}

/// The answer to CompleteMultipartUpload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedUpload {
    /// The object's ETag.
    pub etag: Option<String>,
    /// The object's checksum, when S3 says.
    pub checksum_sha256: Option<String>,
}

/// An unfinished multipart upload (ListMultipartUploads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartUploadSummary {
    /// The object key.
    pub key: String,
    /// The upload ID.
    pub upload_id: String,
    /// When it was started, as S3 wrote it (ISO 8601).
    pub initiated: Option<String>,
}

/// The checksum of a multipart object as S3 defines it for SHA-256 "composite" checksums:
/// base64 of the SHA-256 of the concatenated part digests, then `-` and the part count
/// ("Checking object integrity", S3 User Guide, "Using part-level checksums for multipart
/// uploads").
pub fn multipart_checksum(parts: &[CompletedPart]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.sha256);
    }
    format!("{}-{}", BASE64.encode(h.finalize()), parts.len())
}

/// True when the checksum S3 reported for a multipart object is `expected`
/// ([`multipart_checksum`]). The `-N` suffix is compared when present; some S3-compatible
/// servers report only the digest.
pub(crate) fn multipart_checksum_matches(expected: &str, reported: &str) -> bool {
    let (digest, count) = expected.split_once('-').unwrap_or((expected, ""));
    match reported.split_once('-') {
        Some((d, n)) => d == digest && n == count,
        None => reported == digest,
    }
}

/// The XML escape of text content.
fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn child_text<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> Option<&'a str> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
        .and_then(|c| c.text())
}

/// Reads an XML answer body (at most 16 MiB: a list page of 1000 uploads is well under).
fn xml_text(resp: Response, what: &str) -> std::result::Result<String, Failure> {
    let body = read_body(resp, 16 << 20, what)?;
    String::from_utf8(body).map_err(|e| {
        Failure::Other(Error::Transport {
            what: format!("{what}: the answer is not UTF-8"),
            source: Box::new(e),
        })
    })
}

fn bad_answer(what: &str, why: impl Into<String>) -> Error {
    Error::Transport {
        what: format!("{what}: unexpected answer from S3"),
        source: why.into().into(),
    }
}

fn parse_doc<'a>(text: &'a str, what: &str) -> Result<roxmltree::Document<'a>> {
    roxmltree::Document::parse(text.trim_start()).map_err(|e| bad_answer(what, e.to_string()))
}

impl Client {
    /// HeadObject: the object's size, checksum and metadata, or `None` when there is no
    /// such object.
    pub fn head_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectHead>> {
        check_key(key)?;
        let call = Call::new("HeadObject", Method::HEAD, bucket, Some(key))
            .header("x-amz-checksum-mode", "ENABLED");
        let resp = match self.send(&call) {
            Ok(r) => r,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let size = header(&resp, "content-length")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| bad_answer(&call.what(), "no Content-Length"))?;
        let metadata = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| {
                let name = k.as_str().strip_prefix(super::metadata::META_PREFIX)?;
                Some((name.to_string(), v.to_str().ok()?.to_string()))
            })
            .collect();
        Ok(Some(ObjectHead {
            size,
            etag: header(&resp, "etag"),
            storage_class: header(&resp, "x-amz-storage-class"),
            checksum_sha256: header(&resp, "x-amz-checksum-sha256"),
            metadata,
        }))
    }

    fn object_headers<'a>(&self, mut call: Call<'a>, options: &ObjectOptions) -> Call<'a> {
        call = call.header("x-amz-storage-class", options.storage_class.as_str());
        for (k, v) in &options.metadata {
            call = call.header(format!("{}{k}", super::metadata::META_PREFIX), v.clone());
        }
        call
    }

    /// PutObject with `x-amz-checksum-sha256`, so S3 refuses a body that does not match
    /// (PutObject in the S3 API Reference). A checksum S3 reports back must match too.
    pub fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: &Body,
        options: &ObjectOptions,
    ) -> Result<PutResult> {
        check_bucket_name(bucket)?;
        check_key(key)?;
        let call = Call::new("PutObject", Method::PUT, bucket, Some(key))
            .header("x-amz-checksum-sha256", body.checksum())
            .body(body);
        let call = self.object_headers(call, options);
        let resp = self.send(&call)?;
        let checksum = header(&resp, "x-amz-checksum-sha256");
        if let Some(c) = &checksum {
            if *c != body.checksum() {
                return Err(Error::Mismatch {
                    what: format!("{}: SHA-256 checksum reported by S3", call.what()),
                    expected: body.checksum(),
                    actual: c.clone(),
                });
            }
        }
        Ok(PutResult {
            etag: header(&resp, "etag"),
            checksum_sha256: checksum,
        })
    }

    /// CreateMultipartUpload with `x-amz-checksum-algorithm: SHA256`, the storage class
    /// and the metadata; returns the upload ID.
    pub fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        options: &ObjectOptions,
    ) -> Result<String> {
        check_bucket_name(bucket)?;
        check_key(key)?;
        let call = Call::new("CreateMultipartUpload", Method::POST, bucket, Some(key))
            .query("uploads", "")
            .header("x-amz-checksum-algorithm", "SHA256");
        let call = self.object_headers(call, options);
        let what = call.what();
        let text = self.send_with(&call, |r| xml_text(r, &what))?;
        let doc = parse_doc(&text, &what)?;
        child_text(doc.root_element(), "UploadId")
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .ok_or_else(|| bad_answer(&what, "no UploadId"))
    }

    /// UploadPart with `x-amz-checksum-sha256` (S3 refuses a part whose bytes do not
    /// match); a checksum S3 reports back must match too.
    pub fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: &Body,
    ) -> Result<CompletedPart> {
        let call = Call::new("UploadPart", Method::PUT, bucket, Some(key))
            .query("partNumber", part_number.to_string())
            .query("uploadId", upload_id)
            .header("x-amz-checksum-sha256", body.checksum())
            .body(body);
        let resp = self.send(&call)?;
        if let Some(c) = header(&resp, "x-amz-checksum-sha256") {
            if c != body.checksum() {
                return Err(Error::Mismatch {
                    what: format!("{} part {part_number}: checksum from S3", call.what()),
                    expected: body.checksum(),
                    actual: c,
                });
            }
        }
        let etag = header(&resp, "etag")
            .ok_or_else(|| bad_answer(&call.what(), "no ETag for the part"))?;
        Ok(CompletedPart {
            part_number,
            etag,
            sha256: body.sha256(),
        })
    }

    /// UploadPart whose body streams from `source` as `aws-chunked` with the part's
    /// SHA-256 as a trailing `x-amz-checksum-sha256` ([`super::chunked`]): the part is
    /// never held in memory, and S3 stores it only when the whole body with its trailer
    /// arrived and matched. `source` must give exactly `len` bytes and then end-of-file;
    /// an error instead breaks the request off, and no part is stored. Sent once (the
    /// caller retries with a new source); a checksum S3 reports back must match.
    pub fn upload_part_streamed(
        &self,
        part: (&str, &str, &str, u32),
        len: u64,
        source: Box<dyn super::chunked::PartSource>,
    ) -> Result<CompletedPart> {
        let (bucket, key, upload_id, part_number) = part;
        let sent = super::chunked::SentDigest::default();
        let body = super::chunked::ChunkedBody::new(source, len, sent.clone());
        let payload = crate::aws::Payload::stream(
            Box::new(body),
            super::chunked::encoded_len(len),
            super::chunked::CONTENT_SHA256,
        );
        let call = Call::new("UploadPart", Method::PUT, bucket, Some(key))
            .query("partNumber", part_number.to_string())
            .query("uploadId", upload_id)
            .header("content-encoding", "aws-chunked")
            .header("x-amz-decoded-content-length", len.to_string())
            .header("x-amz-sdk-checksum-algorithm", "SHA256")
            .header("x-amz-trailer", super::chunked::TRAILER)
            .body(&payload);
        let resp = self.send(&call)?;
        let sha256 = {
            use crate::sync::LockExt;
            let digest = *sent.lock_unpoisoned();
            digest.ok_or_else(|| {
                bad_answer(&call.what(), "an answer before the whole part was sent")
            })?
        };
        let checksum = BASE64.encode(sha256);
        if let Some(c) = header(&resp, "x-amz-checksum-sha256") {
            if c != checksum {
                return Err(Error::Mismatch {
                    what: format!("{} part {part_number}: checksum from S3", call.what()),
                    expected: checksum,
                    actual: c,
                });
            }
        }
        let etag = header(&resp, "etag")
            .ok_or_else(|| bad_answer(&call.what(), "no ETag for the part"))?;
        Ok(CompletedPart {
            part_number,
            etag,
            sha256,
        })
    }

    /// CompleteMultipartUpload with every part's ETag and checksum. S3 may answer 200 and
    /// still fail: "the error is embedded in the 200 OK response"
    /// (CompleteMultipartUpload in the S3 API Reference), possibly after whitespace it
    /// sent to keep the connection open; such an error is returned (and retried when it is
    /// InternalError or SlowDown) like any other.
    pub fn complete_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<CompletedUpload> {
        let mut xml = String::from(
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
        );
        for p in parts {
            xml.push_str(&format!(
                "<Part><ChecksumSHA256>{}</ChecksumSHA256><ETag>{}</ETag>\
                 <PartNumber>{}</PartNumber></Part>",
                BASE64.encode(p.sha256),
                xml_escape(&p.etag),
                p.part_number
            ));
        }
        xml.push_str("</CompleteMultipartUpload>");
        let body = Body::new(bytes::Bytes::from(xml));
        let mut call = Call::new("CompleteMultipartUpload", Method::POST, bucket, Some(key))
            .query("uploadId", upload_id)
            .header("content-type", "application/xml")
            .body(&body);
        // Completing a large object can take minutes: S3 keeps the connection open.
        call.response_bytes = parts.len() as u64 * self.transport.min_rate();
        let what = call.what();
        let text = self.send_with(&call, |r| {
            let text = xml_text(r, &what)?;
            if let Some(mut e) = parse_error(text.as_bytes()) {
                e.context = what.clone();
                e.status = 200;
                return Err(Failure::Service(Box::new(e)));
            }
            Ok(text)
        })?;
        let doc = parse_doc(&text, &what)?;
        // The root is `CompleteMultipartUploadResult` on AWS; moto names it
        // `CompleteMultipartUploadResponse`. Only an `Error` root matters (handled above).
        let root = doc.root_element();
        Ok(CompletedUpload {
            etag: child_text(root, "ETag").map(str::to_string),
            checksum_sha256: child_text(root, "ChecksumSHA256").map(str::to_string),
        })
    }

    /// AbortMultipartUpload. An upload that no longer exists (NoSuchUpload: already
    /// aborted or completed, perhaps by an earlier attempt whose answer was lost) counts
    /// as done.
    pub fn abort_multipart_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<()> {
        let call = Call::new("AbortMultipartUpload", Method::DELETE, bucket, Some(key))
            .query("uploadId", upload_id)
            .ok(&[204, 200]);
        match self.send(&call) {
            Ok(_) => Ok(()),
            Err(Error::Service(e)) if e.code == "NoSuchUpload" => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// DeleteObject (204 whether or not the key existed, as the S3 API Reference says).
    pub fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        check_key(key)?;
        let call = Call::new("DeleteObject", Method::DELETE, bucket, Some(key)).ok(&[204, 200]);
        self.send(&call).map(|_| ())
    }

    /// ListMultipartUploads under `prefix`, every page (following `NextKeyMarker` and
    /// `NextUploadIdMarker` while `IsTruncated`), for cleaning up after a failure.
    pub fn list_multipart_uploads(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<MultipartUploadSummary>> {
        self.list_multipart_uploads_paged(bucket, prefix, None)
    }

    /// [`Client::list_multipart_uploads`] with pages of at most `max_uploads` (S3's
    /// default and maximum is 1000); smaller pages are for tests of the paging.
    pub fn list_multipart_uploads_paged(
        &self,
        bucket: &str,
        prefix: &str,
        max_uploads: Option<u32>,
    ) -> Result<Vec<MultipartUploadSummary>> {
        check_bucket_name(bucket)?;
        let mut out = Vec::new();
        let mut markers: Option<(String, String)> = None;
        loop {
            let mut call = Call::new("ListMultipartUploads", Method::GET, bucket, None)
                .query("uploads", "")
                .query("prefix", prefix);
            if let Some(n) = max_uploads {
                call = call.query("max-uploads", n.to_string());
            }
            let sent = markers.take();
            if let Some((k, u)) = &sent {
                call = call
                    .query("key-marker", k.clone())
                    .query("upload-id-marker", u.clone());
            }
            let what = call.what();
            let text = self.send_with(&call, |r| xml_text(r, &what))?;
            let doc = parse_doc(&text, &what)?;
            let root = doc.root_element();
            for u in root
                .children()
                .filter(|c| c.is_element() && c.tag_name().name() == "Upload")
            {
                out.push(MultipartUploadSummary {
                    key: child_text(u, "Key").unwrap_or_default().to_string(),
                    upload_id: child_text(u, "UploadId").unwrap_or_default().to_string(),
                    initiated: child_text(u, "Initiated").map(str::to_string),
                });
            }
            if child_text(root, "IsTruncated") != Some("true") {
                return Ok(out);
            }
            let next = (
                child_text(root, "NextKeyMarker").unwrap_or_default(),
                child_text(root, "NextUploadIdMarker").unwrap_or_default(),
            );
            if next.0.is_empty() && next.1.is_empty() {
                return Err(bad_answer(&what, "truncated page without a next marker"));
            }
            let next = (next.0.to_string(), next.1.to_string());
            // A server that hands back the marker it was given would page forever.
            if sent.as_ref() == Some(&next) {
                return Err(bad_answer(&what, "the same page marker twice"));
            }
            markers = Some(next);
        }
    }

    /// CreateBucket in the client's region (a `LocationConstraint` outside us-east-1, as
    /// CreateBucket in the S3 API Reference requires). A bucket this account already owns
    /// (BucketAlreadyOwnedByYou) counts as created.
    pub fn create_bucket(&self, bucket: &str) -> Result<()> {
        check_bucket_name(bucket)?;
        let region = self.transport.region();
        let config = (region != "us-east-1").then(|| {
            Body::new(bytes::Bytes::from(format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                xml_escape(region)
            )))
        });
        let mut call = Call::new("CreateBucket", Method::PUT, bucket, None);
        if let Some(b) = &config {
            call = call.body(b);
        }
        match self.send(&call) {
            Ok(_) => Ok(()),
            Err(Error::Service(e)) if e.code == "BucketAlreadyOwnedByYou" => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// GetObject, the whole body written to `out`; returns the bytes written.
    pub fn get_object(&self, bucket: &str, key: &str, out: &mut dyn std::io::Write) -> Result<u64> {
        check_key(key)?;
        let call = Call::new("GetObject", Method::GET, bucket, Some(key));
        let mut resp = self.send(&call)?;
        std::io::copy(&mut resp, out).map_err(|e| Error::Transport {
            what: format!("{}: reading the body", call.what()),
            source: Box::new(e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_checksum_is_the_hash_of_the_part_digests() {
        let part = |n, data: &[u8]| CompletedPart {
            part_number: n,
            etag: String::new(),
            sha256: Sha256::digest(data).into(),
        };
        let parts = [part(1, b"abc"), part(2, b"def")];
        let mut concat = Vec::new();
        concat.extend_from_slice(&Sha256::digest(b"abc"));
        concat.extend_from_slice(&Sha256::digest(b"def"));
        let want = format!("{}-2", BASE64.encode(Sha256::digest(&concat)));
        let got = multipart_checksum(&parts);
        assert_eq!(got, want);
        assert!(multipart_checksum_matches(&got, &got));
        assert!(multipart_checksum_matches(&got, got.trim_end_matches("-2")));
        assert!(!multipart_checksum_matches(&got, &got.replace("-2", "-3")));
        assert!(!multipart_checksum_matches(&got, "AAAA-2"));
    }

    #[test]
    fn etags_are_escaped_in_the_complete_body() {
        assert_eq!(xml_escape("\"a&b\""), "&quot;a&amp;b&quot;");
    }
}
