//! Streaming an object of known size into S3: [`MultipartWriter`].
//!
//! The caller (the export's download of one archive) writes bytes as they arrive, already
//! checked against Glacier's tree hash chunk by chunk. Full parts go to a small pool of
//! upload threads through a rendezvous channel, so at most `threads` parts are in flight
//! plus the one being filled: memory is bounded by `(threads + 1) x part size`, never by
//! the object's size. An object no larger than one part goes in one PutObject at the end.
//! The object is completed only with a [`Verified`] token, which exists only when the
//! whole archive's tree hash matched; every other ending (an error, `abort`, or dropping
//! the writer) aborts the multipart upload, so nothing half-checked stays in the bucket.
//! Once CompleteMultipartUpload was sent, S3 may have completed the object whatever the
//! client saw (an answer lost, a failed check after it): on any error from then on the
//! object is looked at again and kept only if it is exactly what was sent (size, SHA-256
//! checksum, metadata), else deleted, because its metadata would make a rerun skip it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use super::objects::{
    CompletedPart, ObjectOptions, multipart_checksum, multipart_checksum_matches,
};
use super::{Body, Client};
use crate::error::{Error, Result};
use crate::treehash::TreeHash;

/// S3's smallest part (all but the last), 5 MiB ("Amazon S3 multipart upload limits").
pub const MIN_PART_SIZE: u64 = 5 << 20;
/// S3's largest part, 5 GiB.
pub const MAX_PART_SIZE: u64 = 5 << 30;
/// S3's most parts in one upload.
pub const MAX_PARTS: u64 = 10_000;

/// The part size for an object of `size` bytes: `preferred` kept within S3's part limits,
/// raised (to a whole MiB) when `size` would otherwise need more than 10,000 parts.
pub fn part_size_for(size: u64, preferred: u64) -> Result<u64> {
    const MIB: u64 = 1 << 20;
    let needed = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
    let part = preferred.clamp(MIN_PART_SIZE, MAX_PART_SIZE).max(needed);
    if part > MAX_PART_SIZE {
        return Err(Error::Input(format!(
            "an object of {size} bytes does not fit in {MAX_PARTS} parts of at most \
             {MAX_PART_SIZE} bytes"
        )));
    }
    Ok(part)
}

/// Which object to write.
#[derive(Debug, Clone)]
pub struct ObjectSpec {
    /// The bucket.
    pub bucket: String,
    /// The object key.
    pub key: String,
    /// The exact number of bytes that will be written.
    pub size: u64,
    /// Storage class and metadata.
    pub options: ObjectOptions,
}

/// How to upload.
#[derive(Debug, Clone, Copy)]
pub struct UploadOptions {
    /// Parts uploaded at once (at least 1).
    pub threads: usize,
    /// The preferred part size; see [`part_size_for`].
    pub part_size: u64,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            threads: 4,
            part_size: 16 << 20,
        }
    }
}

/// Proof that the whole archive's tree hash matched: the only way to complete an object.
#[derive(Debug)]
pub struct Verified(());

impl Verified {
    /// `Ok` when `actual` (what was streamed) equals `expected` (the inventory's).
    pub fn tree_hash(expected: &TreeHash, actual: &TreeHash) -> Result<Verified> {
        if expected == actual {
            Ok(Verified(()))
        } else {
            Err(Error::Mismatch {
                what: "archive tree hash".into(),
                expected: expected.to_string(),
                actual: actual.to_string(),
            })
        }
    }
}

/// A finished object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// The object's ETag.
    pub etag: Option<String>,
    /// The SHA-256 checksum as S3 defines it (with `-N` for a multipart object), checked
    /// against what S3 reported.
    pub checksum_sha256: String,
    /// Parts uploaded; 0 for a single PutObject.
    pub parts: u32,
}

type Job = (u32, Vec<u8>);
type Outcome = (u32, Result<CompletedPart>);

struct Multipart {
    upload_id: String,
    jobs: Option<Sender<Job>>,
    results: Receiver<Outcome>,
    workers: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    next_part: u32,
    done: Vec<CompletedPart>,
    failed: Option<Error>,
}

/// Writes one object of known size, part by part in parallel; see the module docs.
pub struct MultipartWriter {
    client: Arc<Client>,
    spec: ObjectSpec,
    part_size: u64,
    written: u64,
    buf: Vec<u8>,
    multipart: Option<Multipart>,
    finished: bool,
}

impl std::fmt::Debug for MultipartWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultipartWriter")
            .field("bucket", &self.spec.bucket)
            .field("key", &self.spec.key)
            .field("size", &self.spec.size)
            .field("written", &self.written)
            .field("upload_id", &self.upload_id())
            .finish()
    }
}

fn worker(
    client: Arc<Client>,
    bucket: String,
    key: String,
    upload_id: String,
    jobs: Receiver<Job>,
    results: Sender<Outcome>,
    stop: Arc<AtomicBool>,
) {
    for (n, data) in jobs {
        // After a failure the remaining parts are drained unsent: the upload is aborted.
        if stop.load(Ordering::Relaxed) {
            continue;
        }
        let body = Body::new(bytes::Bytes::from(data));
        let r = client.upload_part(&bucket, &key, &upload_id, n, &body);
        if r.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        let _ = results.send((n, r));
    }
}

impl MultipartWriter {
    /// Starts an object: for one larger than a part, CreateMultipartUpload and the upload
    /// threads; for a smaller one nothing is sent until [`MultipartWriter::complete`].
    pub fn new(client: Arc<Client>, spec: ObjectSpec, opts: UploadOptions) -> Result<Self> {
        super::check_bucket_name(&spec.bucket)?;
        super::check_key(&spec.key)?;
        let part_size = part_size_for(spec.size, opts.part_size)?;
        let mut w = MultipartWriter {
            client,
            part_size,
            written: 0,
            buf: Vec::new(),
            multipart: None,
            finished: false,
            spec,
        };
        if w.spec.size <= part_size {
            w.buf.reserve_exact(w.spec.size as usize);
            return Ok(w);
        }
        let upload_id =
            w.client
                .create_multipart_upload(&w.spec.bucket, &w.spec.key, &w.spec.options)?;
        let (jobs_tx, jobs_rx) = crossbeam_channel::bounded::<Job>(0);
        let (res_tx, res_rx) = crossbeam_channel::unbounded::<Outcome>();
        let stop = Arc::new(AtomicBool::new(false));
        let workers = (0..opts.threads.max(1))
            .map(|_| {
                let (c, b, k, u) = (
                    Arc::clone(&w.client),
                    w.spec.bucket.clone(),
                    w.spec.key.clone(),
                    upload_id.clone(),
                );
                let (j, r, s) = (jobs_rx.clone(), res_tx.clone(), Arc::clone(&stop));
                std::thread::spawn(move || worker(c, b, k, u, j, r, s))
            })
            .collect();
        w.buf.reserve_exact(part_size as usize);
        w.multipart = Some(Multipart {
            upload_id,
            jobs: Some(jobs_tx),
            results: res_rx,
            workers,
            stop,
            next_part: 1,
            done: Vec::new(),
            failed: None,
        });
        Ok(w)
    }

    /// The part size in use.
    pub fn part_size(&self) -> u64 {
        self.part_size
    }

    /// The multipart upload ID, when the object is uploaded in parts (for a journal).
    pub fn upload_id(&self) -> Option<&str> {
        self.multipart.as_ref().map(|m| m.upload_id.as_str())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    fn context(&self) -> String {
        format!("s3://{}/{}", self.spec.bucket, self.spec.key)
    }

    /// Takes the next bytes of the object. Fails (and the object can then only be
    /// aborted) on more bytes than the declared size or when a part upload failed.
    pub fn write(&mut self, mut data: &[u8]) -> Result<()> {
        if self.written + data.len() as u64 > self.spec.size {
            return Err(Error::Mismatch {
                what: format!("{}: bytes written", self.context()),
                expected: self.spec.size.to_string(),
                actual: format!("at least {}", self.written + data.len() as u64),
            });
        }
        self.written += data.len() as u64;
        if self.multipart.is_none() {
            self.buf.extend_from_slice(data);
            return Ok(());
        }
        while !data.is_empty() {
            let room = self.part_size as usize - self.buf.len();
            let (now, rest) = data.split_at(room.min(data.len()));
            self.buf.extend_from_slice(now);
            data = rest;
            if self.buf.len() as u64 == self.part_size {
                self.dispatch()?;
            }
        }
        Ok(())
    }

    /// Hands the filled buffer to a worker (waiting for a free one), after collecting the
    /// parts finished so far so that a failure stops the writer early.
    fn dispatch(&mut self) -> Result<()> {
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(self.part_size as usize));
        let ctx = self.context();
        let Some(m) = self.multipart.as_mut() else {
            return Ok(());
        };
        collect(m);
        if let Some(e) = m.failed.take() {
            // Later writes fail too; the first error goes to the caller once.
            m.failed = Some(Error::Input(format!(
                "{ctx}: an earlier part upload failed"
            )));
            return Err(e);
        }
        let n = m.next_part;
        m.next_part += 1;
        if let Some(jobs) = &m.jobs {
            // The workers only stop when this sender is dropped, so send cannot fail.
            let _ = jobs.send((n, data));
        }
        Ok(())
    }

    /// Uploads what is left and completes the object, then checks the SHA-256 checksum S3
    /// reports against the one computed here (for a multipart object, from the answer to
    /// CompleteMultipartUpload or else HeadObject with checksum mode). On any failure
    /// before completion the upload is aborted.
    pub fn complete(mut self, _verified: Verified) -> Result<Uploaded> {
        let result = self.finish();
        if result.is_err() {
            let _ = self.abort_inner();
        }
        self.finished = true;
        result
    }

    fn finish(&mut self) -> Result<Uploaded> {
        if self.written != self.spec.size {
            return Err(Error::Mismatch {
                what: format!("{}: bytes written", self.context()),
                expected: self.spec.size.to_string(),
                actual: self.written.to_string(),
            });
        }
        if self.multipart.is_none() {
            let body = Body::new(bytes::Bytes::from(std::mem::take(&mut self.buf)));
            let put = self.client.put_object(
                &self.spec.bucket,
                &self.spec.key,
                &body,
                &self.spec.options,
            )?;
            return Ok(Uploaded {
                etag: put.etag,
                checksum_sha256: body.checksum(),
                parts: 0,
            });
        }
        if !self.buf.is_empty() {
            self.dispatch()?;
        }
        let ctx = self.context();
        let Some(m) = self.multipart.as_mut() else {
            return Err(Error::Input(format!("{ctx}: no upload")));
        };
        m.jobs = None;
        for h in m.workers.drain(..) {
            let _ = h.join();
        }
        collect(m);
        if let Some(e) = m.failed.take() {
            return Err(e);
        }
        m.done.sort_by_key(|p| p.part_number);
        let expected_parts = m.next_part - 1;
        if m.done.len() as u32 != expected_parts {
            return Err(Error::Mismatch {
                what: format!("{ctx}: parts uploaded"),
                expected: expected_parts.to_string(),
                actual: m.done.len().to_string(),
            });
        }
        let upload_id = m.upload_id.clone();
        let done = std::mem::take(&mut m.done);
        complete_checked(&self.client, &self.spec, &upload_id, done)
    }

    /// Stops the upload threads and aborts the multipart upload (nothing is left in the
    /// bucket); for a small object nothing was sent.
    pub fn abort(mut self) -> Result<()> {
        self.finished = true;
        self.abort_inner()
    }

    fn abort_inner(&mut self) -> Result<()> {
        let Some(m) = self.multipart.as_mut() else {
            return Ok(());
        };
        m.stop.store(true, Ordering::Relaxed);
        m.jobs = None;
        for h in m.workers.drain(..) {
            let _ = h.join();
        }
        self.client
            .abort_multipart_upload(&self.spec.bucket, &self.spec.key, &m.upload_id)
    }
}

/// Moves finished parts from the result channel into `done`, keeping the first error;
/// called again after the workers are joined, it sees every part.
fn collect(m: &mut Multipart) {
    while let Ok((_, r)) = m.results.try_recv() {
        match r {
            Ok(p) => m.done.push(p),
            Err(e) => {
                if m.failed.is_none() {
                    m.failed = Some(e);
                }
            }
        }
    }
}

/// CompleteMultipartUpload of `done` (every part, in order), then the SHA-256 checksum S3
/// reports (in the answer, else from HeadObject with checksum mode) checked against the
/// one computed from the parts. Once Complete was sent, any error settles the object
/// (see [`settle_after_complete`]); an error before S3 stored anything is returned for
/// the caller to abort the upload.
pub(super) fn complete_checked(
    client: &Client,
    spec: &ObjectSpec,
    upload_id: &str,
    done: Vec<CompletedPart>,
) -> Result<Uploaded> {
    let (bucket, key) = (&spec.bucket, &spec.key);
    let ctx = format!("s3://{bucket}/{key}");
    let expected = multipart_checksum(&done);
    let expected_parts = done.len() as u32;
    let completed = client
        .complete_multipart_upload(bucket, key, upload_id, &done)
        .and_then(|answer| {
            let reported = match answer.checksum_sha256 {
                Some(c) => Some(c),
                None => client
                    .head_object(bucket, key)?
                    .and_then(|h| h.checksum_sha256),
            };
            Ok((answer.etag, reported))
        });
    let error = match completed {
        Ok((etag, Some(r))) if multipart_checksum_matches(&expected, &r) => {
            return Ok(Uploaded {
                etag,
                checksum_sha256: expected,
                parts: expected_parts,
            });
        }
        Ok((_, other)) => Error::Mismatch {
            what: format!("{ctx}: SHA-256 checksum of the completed object from S3"),
            expected: expected.clone(),
            actual: other.unwrap_or_else(|| "none reported".into()),
        },
        Err(e) => e,
    };
    // Complete was sent: S3 may have completed the object (its answer lost, or the
    // check after it failed), and the object's metadata claims a verified archive, so
    // a rerun would skip it. Keep it only if it is exactly what was sent.
    settle_after_complete(client, spec, &expected, expected_parts, error)
}

/// After an error once CompleteMultipartUpload was sent: looks at the object again;
/// exactly the object sent (size, SHA-256 checksum, metadata) is the upload's result,
/// anything else (or an object that cannot be looked at) is deleted, so only checked
/// objects stay, and `error` is returned saying so.
fn settle_after_complete(
    client: &Client,
    spec: &ObjectSpec,
    expected: &str,
    parts: u32,
    error: Error,
) -> Result<Uploaded> {
    let (bucket, key) = (&spec.bucket, &spec.key);
    let checked = client.head_object(bucket, key);
    if let Ok(Some(head)) = &checked {
        let ours: std::collections::BTreeMap<String, String> =
            spec.options.metadata.iter().cloned().collect();
        let same = head.size == spec.size
            && head.metadata == ours
            && head
                .checksum_sha256
                .as_deref()
                .is_some_and(|r| multipart_checksum_matches(expected, r));
        // S3 itself reporting another checksum is not overruled by a look.
        if same && !matches!(error, Error::Mismatch { .. }) {
            return Ok(Uploaded {
                etag: head.etag.clone(),
                checksum_sha256: expected.to_string(),
                parts,
            });
        }
    }
    let completed = matches!(error, Error::Mismatch { .. });
    if matches!(checked, Ok(None)) && !completed {
        // Nothing was stored: the caller aborts the upload. (When S3 answered that it
        // completed the object, it is deleted even if a look does not find it yet.)
        return Err(error);
    }
    let removed = match client.delete_object(bucket, key) {
        Ok(()) => "the object was deleted".to_string(),
        Err(e) => format!(
            "deleting the object failed too ({}); delete it by hand",
            crate::error::chain(&e)
        ),
    };
    Err(match error {
        Error::Mismatch {
            what,
            expected,
            actual,
        } => Error::Mismatch {
            what: format!("{what} ({removed})"),
            expected,
            actual,
        },
        error => Error::WithHint {
            error: Box::new(error),
            hint: format!(
                "CompleteMultipartUpload was sent, and s3://{bucket}/{key} could not be shown to be exactly what was sent, so {removed}"
            ),
        },
    })
}

impl Drop for MultipartWriter {
    /// A writer dropped without `complete` or `abort` (an error in the caller, a panic)
    /// aborts its upload, best effort.
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.abort_inner();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn part_sizes_keep_within_s3_limits() {
        assert_eq!(part_size_for(0, 16 * MIB).expect("empty"), 16 * MIB);
        assert_eq!(part_size_for(1, MIB).expect("tiny"), MIN_PART_SIZE);
        // 100 GiB at 16 MiB would be 6400 parts: fine.
        assert_eq!(part_size_for(100 << 30, 16 * MIB).expect("100G"), 16 * MIB);
        // 1 TiB needs > 104.9 MiB parts: rounded up to 105 MiB, 9987 parts.
        let p = part_size_for(1 << 40, 16 * MIB).expect("1T");
        assert_eq!(p, 105 * MIB);
        assert!((1u64 << 40).div_ceil(p) <= MAX_PARTS);
        assert_eq!(part_size_for(10, 10 << 30).expect("cap"), MAX_PART_SIZE);
        assert!(part_size_for(MAX_PARTS * MAX_PART_SIZE + 1, MIB).is_err());
        assert!(part_size_for(MAX_PARTS * MAX_PART_SIZE, MIB).is_ok());
    }

    #[test]
    fn only_a_matching_tree_hash_verifies() {
        let a = TreeHash([1; 32]);
        assert!(Verified::tree_hash(&a, &a).is_ok());
        let e = Verified::tree_hash(&a, &TreeHash([2; 32])).expect_err("differs");
        assert!(e.to_string().contains("tree hash"), "{e}");
    }
}
