//! The `aws-chunked` request body with a trailing SHA-256 checksum: how a part is sent
//! while its bytes are still arriving, so that it is never held whole in memory.
//!
//! The format is the one of "Signature Calculations for the Authorization Header:
//! Transferring Payload in Multiple Chunks (Chunked Upload)" and "Including Trailing
//! Headers" (S3 API Reference), in its unsigned variant: the request is signed with
//! `x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER`, carries
//! `Content-Encoding: aws-chunked`, `x-amz-decoded-content-length` (the part's size) and
//! `x-amz-trailer: x-amz-checksum-sha256`, and its body is a series of
//! `hex-size CRLF data CRLF` chunks, a `0 CRLF` last chunk, the trailer line
//! `x-amz-checksum-sha256:BASE64 CRLF`, and a final CRLF. `Content-Length` is the length
//! of that encoding, known in advance because every chunk but the last has [`CHUNK`]
//! bytes.
//!
//! The gate: the last chunk and the trailer are written only after the source, having
//! given every declared byte, answers one more read with end-of-file. A source that
//! checks its bytes (a Glacier range against its tree hash) answers with an error
//! instead when they do not match; the request then breaks off short of its
//! `Content-Length`, and S3 stores no part.

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

use crate::sync::LockExt;

/// The signed payload hash of a streamed body whose checksum comes as a trailer.
pub const CONTENT_SHA256: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
/// The trailer's name, also the value of `x-amz-trailer`.
pub const TRAILER: &str = "x-amz-checksum-sha256";
/// Data bytes per chunk (all but the last): AWS asks for at least 8 KiB. 1 MiB keeps the
/// buffers small (two per part in flight) while a part of gigabytes is still a few
/// thousand chunks: moto, the S3 server the tests run, joins a body's chunks by repeated
/// concatenation, which grows with the square of their number (64 KiB chunks made one
/// 256 MiB part take minutes).
pub const CHUNK: usize = 1 << 20;

/// Base64 of a SHA-256 digest: 44 characters.
const CHECKSUM_LEN: u64 = 44;

fn hex_len(n: u64) -> u64 {
    u64::from(n.max(1).ilog2() / 4 + 1)
}

/// The `Content-Length` of the encoding of `decoded` bytes.
pub fn encoded_len(decoded: u64) -> u64 {
    let chunk = CHUNK as u64;
    let (full, rest) = (decoded / chunk, decoded % chunk);
    let mut n = full * (hex_len(chunk) + 2 + chunk + 2);
    if rest > 0 {
        n += hex_len(rest) + 2 + rest + 2;
    }
    // "0\r\n", the trailer line, and the closing "\r\n".
    n + 3 + (TRAILER.len() as u64 + 1 + CHECKSUM_LEN + 2) + 2
}

/// The SHA-256 of what was sent, filled in when the trailer is written.
pub type SentDigest = Arc<Mutex<Option<[u8; 32]>>>;

/// A part's bytes: a reader that also takes their SHA-256 as they pass, so that a source
/// which hashes them anyway (a Glacier range, checked against its tree hash) computes
/// both in one pass instead of the body hashing them a second time.
pub trait PartSource: Read + Send {
    /// The SHA-256 of every byte read, once the reader has answered end-of-file; `None`
    /// before.
    fn sha256(&self) -> Option<[u8; 32]>;
}

impl<T: PartSource + ?Sized> PartSource for Box<T> {
    fn sha256(&self) -> Option<[u8; 32]> {
        (**self).sha256()
    }
}

/// Any reader as a [`PartSource`]: hashes what passes, finished at its end-of-file.
pub struct Hashing<R> {
    inner: R,
    sha: Sha256,
    digest: Option<[u8; 32]>,
}

impl<R: Read> Hashing<R> {
    /// `inner`, hashed as it is read.
    pub fn new(inner: R) -> Self {
        Hashing {
            inner,
            sha: Sha256::new(),
            digest: None,
        }
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.sha.update(&buf[..n]);
        } else if !buf.is_empty() && self.digest.is_none() {
            self.digest = Some(std::mem::take(&mut self.sha).finalize().into());
        }
        Ok(n)
    }
}

impl<R: Read + Send> PartSource for Hashing<R> {
    fn sha256(&self) -> Option<[u8; 32]> {
        self.digest
    }
}

/// Encodes exactly `len` bytes of a source as `aws-chunked` with the SHA-256 trailer;
/// see the module docs for when the last chunk is written.
pub struct ChunkedBody<R> {
    source: R,
    remaining: u64,
    data: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    finished: bool,
    digest: SentDigest,
}

impl<R: PartSource> ChunkedBody<R> {
    /// Encodes `len` bytes of `source`; `digest` receives their SHA-256 (the source's,
    /// see [`PartSource`]) once the trailer is written.
    pub fn new(source: R, len: u64, digest: SentDigest) -> Self {
        ChunkedBody {
            source,
            remaining: len,
            data: vec![0; CHUNK],
            out: Vec::with_capacity(CHUNK + 16),
            pos: 0,
            finished: false,
            digest,
        }
    }

    /// Encodes the next chunk (or the end) into `out`.
    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        if self.remaining > 0 {
            let want = (CHUNK as u64).min(self.remaining) as usize;
            let mut got = 0;
            while got < want {
                match self.source.read(&mut self.data[got..want]) {
                    Ok(0) => {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the part's source ended early",
                        ));
                    }
                    Ok(n) => got += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            self.out
                .extend_from_slice(format!("{want:x}\r\n").as_bytes());
            self.out.extend_from_slice(&self.data[..want]);
            self.out.extend_from_slice(b"\r\n");
            self.remaining -= want as u64;
            return Ok(());
        }
        // Every byte was given: the source's end-of-file is its word that they are good.
        let mut extra = [0u8; 1];
        match self.source.read(&mut extra)? {
            0 => {}
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the part's source has more bytes than the part",
                ));
            }
        }
        let digest = self
            .source
            .sha256()
            .ok_or_else(|| io::Error::other("the part's source gave no SHA-256 at its end"))?;
        self.out.extend_from_slice(b"0\r\n");
        self.out
            .extend_from_slice(format!("{TRAILER}:{}\r\n\r\n", BASE64.encode(digest)).as_bytes());
        *self.digest.lock_unpoisoned() = Some(digest);
        self.finished = true;
        Ok(())
    }
}

impl<R: PartSource> Read for ChunkedBody<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.out.len() {
            if self.finished {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(data: &[u8]) -> io::Result<(Vec<u8>, SentDigest)> {
        let digest = SentDigest::default();
        let mut out = Vec::new();
        ChunkedBody::new(Hashing::new(data), data.len() as u64, digest.clone())
            .read_to_end(&mut out)?;
        Ok((out, digest))
    }

    /// A plain decoder written from the grammar in the module docs.
    fn decode(mut body: &[u8]) -> (Vec<u8>, String) {
        let mut data = Vec::new();
        loop {
            let line_end = body
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("size line");
            let size =
                usize::from_str_radix(std::str::from_utf8(&body[..line_end]).expect("ascii"), 16)
                    .expect("hex");
            body = &body[line_end + 2..];
            if size == 0 {
                break;
            }
            data.extend_from_slice(&body[..size]);
            assert_eq!(&body[size..size + 2], b"\r\n");
            body = &body[size + 2..];
        }
        let trailer = std::str::from_utf8(body).expect("trailer");
        assert!(trailer.ends_with("\r\n\r\n"), "{trailer:?}");
        (data, trailer.trim_end().to_string())
    }

    #[test]
    fn the_encoding_round_trips_with_its_length_and_checksum() {
        for len in [0, 1, 15, 16, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 77] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let (out, digest) = encode(&data).expect("encode");
            assert_eq!(out.len() as u64, encoded_len(len as u64), "len {len}");
            let (back, trailer) = decode(&out);
            assert_eq!(back, data, "len {len}");
            let sha: [u8; 32] = Sha256::digest(&data).into();
            assert_eq!(trailer, format!("{TRAILER}:{}", BASE64.encode(sha)));
            assert_eq!(*digest.lock_unpoisoned(), Some(sha));
        }
    }

    /// Yields its bytes, then an error where end-of-file would be: a range whose check
    /// failed.
    struct FailsAtEnd(io::Cursor<Vec<u8>>);

    impl Read for FailsAtEnd {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.read(buf)? {
                0 => Err(io::Error::new(io::ErrorKind::InvalidData, "mismatch")),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn no_last_chunk_or_trailer_without_the_sources_end_of_file() {
        let data = vec![9u8; CHUNK + 10];
        let digest = SentDigest::default();
        let mut body = ChunkedBody::new(
            Hashing::new(FailsAtEnd(io::Cursor::new(data.clone()))),
            data.len() as u64,
            digest.clone(),
        );
        let mut out = Vec::new();
        let e = body.read_to_end(&mut out).expect_err("the check failed");
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(!String::from_utf8_lossy(&out).contains(TRAILER));
        assert!(out.len() as u64 <= encoded_len(data.len() as u64) - 3);
        assert!(digest.lock_unpoisoned().is_none());
        // Short and long sources are refused too.
        let short = ChunkedBody::new(Hashing::new(&data[..10]), 11, SentDigest::default())
            .read_to_end(&mut Vec::new())
            .expect_err("short");
        assert_eq!(short.kind(), io::ErrorKind::UnexpectedEof);
        let long = ChunkedBody::new(Hashing::new(&data[..]), 10, SentDigest::default())
            .read_to_end(&mut Vec::new())
            .expect_err("long");
        assert_eq!(long.kind(), io::ErrorKind::InvalidData);
    }

    /// Ends cleanly but never says what it hashed.
    struct NoDigest<'a>(&'a [u8]);

    impl Read for NoDigest<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.0.read(buf)
        }
    }

    impl PartSource for NoDigest<'_> {
        fn sha256(&self) -> Option<[u8; 32]> {
            None
        }
    }

    #[test]
    fn a_source_that_gives_no_sha256_gets_no_trailer() {
        let data = vec![3u8; 100];
        let digest = SentDigest::default();
        let mut out = Vec::new();
        ChunkedBody::new(NoDigest(&data), data.len() as u64, digest.clone())
            .read_to_end(&mut out)
            .expect_err("no checksum to send");
        assert!(!String::from_utf8_lossy(&out).contains(TRAILER));
        assert!(digest.lock_unpoisoned().is_none());
    }
}
