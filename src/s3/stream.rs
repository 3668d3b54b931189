//! Streaming an object of known size into S3 from a source of checked byte ranges:
//! [`upload_streamed`], with memory bounded by a few buffers per part in flight, never
//! by the part size (a 40 TiB archive needs 4 GiB parts).
//!
//! Each part is one range of the source (a Glacier job output), opened when the part is
//! sent and streamed straight into UploadPart as `aws-chunked` with a trailing SHA-256
//! ([`super::chunked`]). The source's reader checks its range (Glacier's tree hash of
//! it) and ends only when it matched; otherwise the part's request breaks off before its
//! last chunk and S3 stores nothing. A failed part (a bad range, a broken connection, an
//! S3 error) is sent again from a newly opened range, since its bytes were never kept.
//! Parts are a power of two MiB ([`streamed_part_size`]) so that each one is a
//! tree-hash-aligned range Glacier gives a hash for. As with [`super::MultipartWriter`],
//! the object is completed only with a [`Verified`] token, asked for after every part is
//! in, and any other ending aborts the multipart upload.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::chunked::PartSource;
use super::objects::CompletedPart;
use super::writer::{MAX_PARTS, MIN_PART_SIZE, complete_checked};
use super::{Body, Client, ObjectSpec, Uploaded, Verified};
use crate::aws::{Backoff, Next, RetryPolicy, seed};
use crate::error::{Error, Result};
use crate::sync::LockExt;

/// The largest streamed part: the largest power of two within S3's 5 GiB.
pub const MAX_STREAMED_PART: u64 = 4 << 30;
/// The largest object [`upload_streamed`] writes: 10,000 parts of 4 GiB, which is also
/// Glacier's largest archive (10,000 parts of 4 GiB, "Uploading Large Archives in
/// Parts"). S3 itself takes objects up to 50 TB since December 2025.
pub const MAX_STREAMED_OBJECT: u64 = MAX_PARTS * MAX_STREAMED_PART;
/// Memory one part in flight takes, whatever its size: the chunk encoder's two buffers
/// of one [`super::chunked::CHUNK`] each, and the HTTP client's buffers on both
/// connections, with room to spare.
pub const PART_STREAM_MEMORY: u64 = 4 << 20;
/// How one part is sent again: three attempts in all, and before another attempt after
/// a fault of S3 or the connection, the transport's backoff with equal jitter (0.5-1 s,
/// then 1-2 s), since the transport cannot retry a part whose body is gone. A range
/// that failed its check is sent again at once: S3 was not at fault.
const PART_RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 3,
    base_delay: Duration::from_secs(1),
    max_delay: Duration::from_secs(2),
};

/// The part size for an object of `size` bytes: `preferred` rounded up to a power of two
/// (at least S3's 5 MiB minimum, so 8 MiB), doubled while `size` would need more than
/// 10,000 parts; an error above [`MAX_STREAMED_OBJECT`].
pub fn streamed_part_size(size: u64, preferred: u64) -> Result<u64> {
    if size > MAX_STREAMED_OBJECT {
        return Err(too_large(size));
    }
    let mut part = preferred
        .clamp(MIN_PART_SIZE, MAX_STREAMED_PART)
        .next_power_of_two();
    while size.div_ceil(part) > MAX_PARTS {
        part *= 2;
    }
    Ok(part)
}

fn too_large(size: u64) -> Error {
    Error::Input(format!(
        "an object of {size} bytes is larger than the {MAX_STREAMED_OBJECT} bytes \
         (10,000 parts of 4 GiB) one S3 object is written in"
    ))
}

/// Parts sent at once: `threads`, as far as `max_memory` holds
/// [`PART_STREAM_MEMORY`] for each (at least one).
pub fn parts_in_flight(threads: usize, max_memory: u64) -> usize {
    let fit = (max_memory / PART_STREAM_MEMORY).max(1);
    threads.clamp(1, usize::try_from(fit).unwrap_or(usize::MAX))
}

/// Where a streamed object's bytes come from.
pub trait RangeSource: Sync {
    /// A reader of bytes `start..=end`: it gives exactly those bytes, then end-of-file
    /// only once they were checked; when the check fails it returns an error instead.
    /// At its end it gives their SHA-256 too ([`PartSource`]; wrap a reader that does not
    /// hash in [`Hashing`](super::Hashing)).
    fn open(&self, start: u64, end: u64) -> Result<Box<dyn PartSource>>;
}

/// How to stream.
#[derive(Debug, Clone, Copy)]
pub struct StreamOptions {
    /// Parts sent at once, before the memory cap.
    pub threads: usize,
    /// The preferred part size; see [`streamed_part_size`].
    pub part_size: u64,
    /// Cap on the buffers of the parts in flight; see [`parts_in_flight`].
    pub max_memory: u64,
}

/// Writes `spec` from `source`, then asks `verify` for the token that lets it complete
/// the object; see the module docs. Nothing is left in the bucket unless it returns
/// `Ok`.
pub fn upload_streamed(
    client: &Client,
    spec: &ObjectSpec,
    opts: &StreamOptions,
    source: &dyn RangeSource,
    verify: &mut dyn FnMut() -> Result<Verified>,
) -> Result<Uploaded> {
    super::check_bucket_name(&spec.bucket)?;
    super::check_key(&spec.key)?;
    let part_size = streamed_part_size(spec.size, opts.part_size)?;
    if spec.size == 0 {
        // Nothing to stream; an empty multipart upload cannot be completed.
        let _verified = verify()?;
        let body = Body::new(bytes::Bytes::new());
        let put = client.put_object(&spec.bucket, &spec.key, &body, &spec.options)?;
        return Ok(Uploaded {
            etag: put.etag,
            checksum_sha256: body.checksum(),
            parts: 0,
        });
    }
    let upload_id = client.create_multipart_upload(&spec.bucket, &spec.key, &spec.options)?;
    let workers = parts_in_flight(opts.threads, opts.max_memory);
    let up = Upload {
        client,
        spec,
        upload_id: &upload_id,
        part_size,
        backoff: Backoff::new(PART_RETRY, seed()),
    };
    let result = up
        .parts(workers, source)
        .and_then(|done| {
            let _verified = verify()?;
            Ok(done)
        })
        .and_then(|done| complete_checked(client, spec, &upload_id, done));
    if result.is_err() {
        // Best effort: the error being reported matters more than a failed abort.
        let _ = client.abort_multipart_upload(&spec.bucket, &spec.key, &upload_id);
    }
    result
}

/// One multipart upload being streamed.
struct Upload<'a> {
    client: &'a Client,
    spec: &'a ObjectSpec,
    upload_id: &'a str,
    part_size: u64,
    /// Shared by the part threads.
    backoff: Backoff,
}

impl Upload<'_> {
    /// Sends every part, `workers` at a time; stops at the first part that fails for
    /// good.
    fn parts(&self, workers: usize, source: &dyn RangeSource) -> Result<Vec<CompletedPart>> {
        let count = self.spec.size.div_ceil(self.part_size);
        let next = AtomicU64::new(0);
        let failed = AtomicBool::new(false);
        let done: Mutex<Vec<CompletedPart>> = Mutex::new(Vec::new());
        let first_error: Mutex<Option<Error>> = Mutex::new(None);
        std::thread::scope(|s| {
            for _ in 0..(workers as u64).min(count) {
                s.spawn(|| {
                    while !failed.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            break;
                        }
                        match self.part(i, source) {
                            Ok(p) => done.lock_unpoisoned().push(p),
                            Err(e) => {
                                failed.store(true, Ordering::Relaxed);
                                first_error.lock_unpoisoned().get_or_insert(e);
                            }
                        }
                    }
                });
            }
        });
        if let Some(e) = first_error.lock_unpoisoned().take() {
            return Err(e);
        }
        let mut done = std::mem::take(&mut *done.lock_unpoisoned());
        done.sort_by_key(|p| p.part_number);
        if done.len() as u64 != count {
            return Err(Error::Mismatch {
                what: format!(
                    "s3://{}/{}: parts uploaded",
                    self.spec.bucket, self.spec.key
                ),
                expected: count.to_string(),
                actual: done.len().to_string(),
            });
        }
        Ok(done)
    }

    /// Sends part `i` (0-based), opening its range again for each attempt.
    fn part(&self, i: u64, source: &dyn RangeSource) -> Result<CompletedPart> {
        let start = i * self.part_size;
        let end = (start + self.part_size).min(self.spec.size) - 1;
        let number = u32::try_from(i + 1).map_err(|_| too_large(self.spec.size))?;
        let target = (
            self.spec.bucket.as_str(),
            self.spec.key.as_str(),
            self.upload_id,
            number,
        );
        let sent = self.backoff.run(
            |_| {
                source.open(start, end).and_then(|reader| {
                    self.client
                        .upload_part_streamed(target, end - start + 1, reader)
                })
            },
            part_retry,
        );
        let gave_up = match sent {
            Ok(p) => return Ok(p),
            Err(g) => g,
        };
        let e = gave_up.error;
        if !(gave_up.exhausted && refused_by_source(&e)) {
            // Interrupted, refused by S3, or S3 or the connection still failing: worth
            // another try later, as a whole, if at all.
            return Err(e);
        }
        Err(Error::Mismatch {
            what: format!(
                "s3://{}/{} part {number} (bytes {start}-{end}) after {} attempts",
                self.spec.bucket, self.spec.key, gave_up.attempts
            ),
            expected: "bytes that pass their check".into(),
            actual: crate::error::chain(&e),
        })
    }
}

/// What a failed part calls for: nothing after Ctrl-C; at once when its source refused
/// its bytes (S3 was not at fault); after the backoff for what the transport retries
/// (throttling, 5xx, request timeouts, no answer); nothing for the rest (a refusal, a
/// missing upload, a local error), which another attempt does not change.
fn part_retry(e: &Error) -> Next {
    if matches!(e, Error::Interrupted(_)) {
        Next::Stop
    } else if refused_by_source(e) {
        Next::Now
    } else if e.is_transient() {
        Next::Later
    } else {
        Next::Stop
    }
}

/// Whether the part failed because its source refused its bytes (an `InvalidData` or
/// `UnexpectedEof` I/O error anywhere in the chain: a range that did not match its hash
/// or was cut short), rather than because of S3 or the connection to it.
fn refused_by_source(e: &Error) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            ) {
                return true;
            }
        }
        next = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn streamed_parts_are_powers_of_two_within_s3_limits() {
        assert_eq!(streamed_part_size(0, 16 * MIB).expect("empty"), 16 * MIB);
        assert_eq!(streamed_part_size(1, MIB).expect("tiny"), 8 * MIB);
        assert_eq!(streamed_part_size(1, 5 * MIB).expect("min"), 8 * MIB);
        assert_eq!(streamed_part_size(1, 100 * MIB).expect("up"), 128 * MIB);
        assert_eq!(streamed_part_size(1, 5 << 30).expect("cap"), 4 << 30);
        // 1 TiB needs > 104.9 MiB parts: 128 MiB, 8192 parts.
        assert_eq!(
            streamed_part_size(1 << 40, 16 * MIB).expect("1T"),
            128 * MIB
        );
        // Glacier's largest archive fits exactly.
        assert_eq!(
            streamed_part_size(MAX_STREAMED_OBJECT, 16 * MIB).expect("40000 GiB"),
            4 << 30
        );
        let e = streamed_part_size(MAX_STREAMED_OBJECT + 1, 16 * MIB).expect_err("too big");
        assert!(e.to_string().contains("10,000 parts of 4 GiB"), "{e}");
    }

    fn service(status: u16, code: &str) -> Error {
        Error::Service(Box::new(crate::error::ServiceError {
            context: "UploadPart".into(),
            status,
            code: code.into(),
            message: String::new(),
            request_id: None,
            hint: None,
        }))
    }

    fn network(kind: crate::error::NetworkFault, io: std::io::ErrorKind) -> Error {
        Error::Transport {
            what: "UploadPart".into(),
            source: Box::new(crate::error::Fault {
                kind,
                error: Box::new(std::io::Error::from(io)),
            }),
        }
    }

    #[test]
    fn a_part_is_retried_by_the_transports_classification() {
        use crate::error::NetworkFault::{Certificate, NoAnswer};
        use std::io::ErrorKind;
        // The transport's transient faults wait for the backoff.
        for e in [
            service(503, "SlowDown"),
            service(500, "InternalError"),
            service(400, "RequestTimeout"),
            network(NoAnswer, ErrorKind::ConnectionReset),
        ] {
            assert_eq!(part_retry(&e), Next::Later, "{e}");
        }
        // A range that failed its check goes again at once, S3 being blameless.
        let refused = Error::io("(range)", ErrorKind::InvalidData.into());
        assert_eq!(part_retry(&refused), Next::Now);
        let cut = Error::io("(range)", ErrorKind::UnexpectedEof.into());
        assert_eq!(part_retry(&cut), Next::Now);
        // What another attempt does not change ends the part at once.
        for e in [
            Error::Interrupted("Ctrl-C".into()),
            service(403, "AccessDenied"),
            service(404, "NoSuchUpload"),
            network(Certificate, ErrorKind::Other),
            Error::io("(range)", ErrorKind::PermissionDenied.into()),
        ] {
            assert_eq!(part_retry(&e), Next::Stop, "{e}");
        }
    }

    #[test]
    fn the_memory_cap_bounds_the_parts_in_flight() {
        assert_eq!(parts_in_flight(4, 512 * MIB), 4);
        assert_eq!(parts_in_flight(4, 8 * MIB), 2);
        assert_eq!(parts_in_flight(4, 1), 1);
        assert_eq!(parts_in_flight(0, 512 * MIB), 1);
    }
}
