//! Request bodies of every service: shared bytes or a byte range of a file, kept so that
//! a retry can send them again, with the SHA-256 (hex) the signature needs, or a stream
//! read once (S3's aws-chunked part bodies), which the transport never retries. Under a
//! `--limit-rate` both kinds go to the HTTP stack as a paced reader: reqwest's blocking
//! client reads a reader body chunk by chunk as it writes the socket (shared bytes handed
//! over whole would be written at line speed), so pacing the reads paces the wire.

use std::io::Read;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use reqwest::blocking::Body;

use super::rate::{Paced, RateLimit};
use crate::sigv4;

/// A request body, kept so that a retry can send it again without holding a second
/// copy: shared bytes (a part buffer, a JSON body), or a range of a file re-read from
/// disk on every attempt.
#[derive(Clone)]
pub struct Payload {
    source: Source,
    sha256: String,
}

#[derive(Clone)]
enum Source {
    Bytes(bytes::Bytes),
    File {
        file: Arc<std::fs::File>,
        offset: u64,
        len: u64,
    },
    /// Read once: taken by the first attempt.
    Stream {
        reader: Arc<Mutex<Option<Box<dyn Read + Send>>>>,
        len: u64,
    },
}

/// What a second attempt of a streamed body reads: nothing but an error, so the request
/// fails instead of sending a body short.
struct Spent;

impl Read for Spent {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other(
            "a streamed request body cannot be sent twice",
        ))
    }
}

/// Reads `len` bytes of a file from `offset` with positioned reads, failing if the file
/// ends early (so a file that shrank is never sent short).
struct FileRange {
    file: Arc<std::fs::File>,
    pos: u64,
    end: u64,
}

impl std::io::Read for FileRange {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let want = (buf.len() as u64).min(self.end - self.pos) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "file shrank while it was uploaded",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Payload {
    /// Shared bytes with their SHA-256 (hex), computed by the caller in the same pass as
    /// the tree hash. `Bytes::from_owner` lets a pooled buffer go back to its pool when
    /// the HTTP layer drops its last reference.
    pub fn new(data: bytes::Bytes, sha256: String) -> Payload {
        Payload {
            source: Source::Bytes(data),
            sha256,
        }
    }

    /// `len` bytes of `file` from `offset`, re-read on every attempt, with their SHA-256.
    pub fn file_range(file: Arc<std::fs::File>, offset: u64, len: u64, sha256: String) -> Payload {
        Payload {
            source: Source::File { file, offset, len },
            sha256,
        }
    }

    /// A body read once from `reader`, exactly `len` bytes on the wire, signed with
    /// `content_sha256` as its payload hash (S3's `STREAMING-UNSIGNED-PAYLOAD-TRAILER`,
    /// whose checksum follows the body). It cannot be sent again: the transport does not
    /// retry a call that carries it ([`Payload::is_repeatable`]); its caller does, with a
    /// new stream.
    pub fn stream(reader: Box<dyn Read + Send>, len: u64, content_sha256: &str) -> Payload {
        Payload {
            source: Source::Stream {
                reader: Arc::new(Mutex::new(Some(reader))),
                len,
            },
            sha256: content_sha256.to_string(),
        }
    }

    /// False for a [`Payload::stream`]: its bytes are gone once sent.
    pub fn is_repeatable(&self) -> bool {
        !matches!(self.source, Source::Stream { .. })
    }

    /// A small body (JSON) whose hash is computed here.
    pub fn from_vec(v: Vec<u8>) -> Payload {
        let sha256 = sigv4::sha256_hex(&v);
        Payload::new(bytes::Bytes::from(v), sha256)
    }

    /// The body length.
    pub fn len(&self) -> u64 {
        match &self.source {
            Source::Bytes(b) => b.len() as u64,
            Source::File { len, .. } | Source::Stream { len, .. } => *len,
        }
    }

    /// True for an empty body.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The lowercase hex SHA-256 of the body, as signed.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The body for one attempt.
    pub(super) fn body(&self) -> Body {
        match &self.source {
            Source::Bytes(b) => Body::from(b.clone()),
            Source::File { .. } | Source::Stream { .. } => Body::sized(self.reader(), self.len()),
        }
    }

    /// The body for one attempt, paced by `limit`, waiting `budget` at most in all (the
    /// deadline of the request allows for that much; see `Transport::attempt`).
    pub(super) fn paced_body(&self, limit: &Arc<RateLimit>, budget: Duration) -> Body {
        Body::sized(Paced::with_budget(self.reader(), limit, budget), self.len())
    }

    /// The bytes as a reader, from the start (a stream: what is left of it, once).
    fn reader(&self) -> Box<dyn std::io::Read + Send> {
        match &self.source {
            Source::Bytes(b) => Box::new(std::io::Cursor::new(b.clone())),
            Source::File { file, offset, len } => Box::new(FileRange {
                file: Arc::clone(file),
                pos: *offset,
                end: offset + len,
            }),
            Source::Stream { reader, .. } => {
                use crate::sync::LockExt;
                let taken = reader.lock_unpoisoned().take();
                match taken {
                    Some(r) => r,
                    None => Box::new(Spent),
                }
            }
        }
    }
}

impl AsRef<Payload> for Payload {
    fn as_ref(&self) -> &Payload {
        self
    }
}
