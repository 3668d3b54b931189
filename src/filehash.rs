//! Tree hashes of local files and streams, fast.
//!
//! A regular file is split into power-of-two-MiB aligned segments that the
//! crate's worker pool (`workers`) hands out one at a time; each worker hashes them with
//! positioned reads into its own reused buffer, and the segment roots are then joined in
//! order with [`treehash::combine`]. Because the segments are aligned
//! nodes of the file's hash tree, the result is the same as hashing the file in one
//! stream. Memory is one read buffer per thread, whatever the file size. Streams (stdin,
//! pipes) are hashed in one pass. This module reads files; it never prints (progress is
//! reported through a shared counter) and never touches the network.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};

use crate::progress::Reporter;
use crate::treehash::{self, CHUNK_SIZE, TreeHash, TreeHasher};
use crate::workers::{Ended, Pool};

/// Bytes read per positioned read. Larger reads cost fewer system calls; 4 MiB measured
/// best here (`cargo bench --bench treehash -- read_size` compares sizes), and it stays
/// a few MiB per thread.
pub const READ_SIZE: usize = 4 << 20;

/// A zeroed heap buffer whose usable part starts on a page boundary.
///
/// Measured here: `pread` into a buffer that starts 16 bytes past a page boundary (what
/// malloc returns for a fresh large allocation) ran at about 1.6 GB/s for a 2-thread
/// tree hash, against 2.4 GB/s into a page-aligned one: the kernel's copy to user space
/// is much slower to a misaligned destination. `align_offset` gives the alignment
/// without unsafe code, at the price of one spare page.
pub struct AlignedBuf {
    raw: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    const ALIGN: usize = 4096;

    /// `len` zero bytes, page aligned.
    pub fn new(len: usize) -> AlignedBuf {
        let raw = vec![0u8; len + Self::ALIGN];
        let start = raw.as_ptr().align_offset(Self::ALIGN).min(Self::ALIGN);
        AlignedBuf { raw, start, len }
    }
}

impl std::ops::Deref for AlignedBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.raw[self.start..self.start + self.len]
    }
}

impl std::ops::DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.raw[self.start..self.start + self.len]
    }
}

/// What hashing an input found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digests {
    /// Bytes hashed.
    pub size: u64,
    /// The SHA-256 tree hash.
    pub tree_hash: TreeHash,
    /// The plain SHA-256 of all bytes, when asked for.
    pub sha256: Option<[u8; 32]>,
}

/// How to hash.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// Worker threads for regular files (at least 1).
    pub threads: usize,
    /// Also compute the linear SHA-256 (one more pass, on its own thread).
    pub sha256: bool,
    /// Told of the bytes hashed, for the progress display.
    pub progress: Option<&'a dyn Reporter>,
}

/// Picks the segment size: aligned (a power of two MiB) and small enough that every
/// thread gets several segments, so a slow segment does not leave a core idle at the end.
fn segment_size(len: u64, threads: usize) -> u64 {
    let target = len / (threads as u64 * 8).max(1);
    treehash::floor_pow2_mib(target).min(1 << 30)
}

/// Hashes `len` bytes of `file` starting at offset 0 with `opts.threads` workers.
///
/// `len` is the size the caller saw; if the file turns out shorter, this fails with
/// An input opened for hashing: a regular file (hashed in parallel segments) or anything
/// else readable (a FIFO, a device: one pass as a stream).
#[derive(Debug)]
pub struct Input {
    file: File,
    len: Option<u64>,
}

impl Input {
    /// Opens `path`; a directory is refused (`IsADirectory`).
    pub fn open(path: &std::path::Path) -> io::Result<Input> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory",
            ));
        }
        let len = meta.is_file().then_some(meta.len());
        Ok(Input { file, len })
    }

    /// The size of a regular file; `None` for a stream.
    pub fn file_len(&self) -> Option<u64> {
        self.len
    }

    /// Hashes the whole input.
    pub fn hash(self, opts: Options<'_>) -> io::Result<Digests> {
        match self.len {
            Some(len) => hash_file(&self.file, len, opts),
            None => hash_reader(self.file, opts),
        }
    }
}

/// `UnexpectedEof` rather than hashing less than promised.
pub fn hash_file(file: &File, len: u64, opts: Options<'_>) -> io::Result<Digests> {
    let threads = opts.threads.max(1);
    let seg = segment_size(len, threads);
    let segments = len.div_ceil(seg).max(1);
    // Set by whichever side fails first (the linear pass or a segment), so the other
    // stops reading too.
    let stop = AtomicBool::new(false);
    let (segment_hashes, linear) = std::thread::scope(|s| {
        let linear = opts.sha256.then(|| {
            s.spawn(|| {
                let r = sha256_range(file, 0, len, &stop);
                if r.is_err() {
                    stop.store(true, Ordering::Relaxed);
                }
                r
            })
        });
        let out = Pool::new(threads).stop(&stop).run(
            0..segments,
            || Ok(AlignedBuf::new(READ_SIZE.min(seg as usize))),
            |buf, _, i| {
                let start = i * seg;
                let end = (start + seg).min(len);
                tree_hash_range(file, start, end - start, buf, opts.progress)
            },
        );
        if out.error.is_some() {
            stop.store(true, Ordering::Relaxed);
        }
        let linear = linear.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        (out.into_values(), linear)
    });
    let hashes = match segment_hashes {
        Ok(h) => h,
        Err(Ended::Failed(e)) => return Err(e),
        // Only the linear pass sets the flag without the pool failing: its error.
        Err(Ended::Stopped { .. }) => {
            return Err(match linear {
                Some(Err(e)) => e,
                _ => io::Error::other("hashing stopped early"),
            });
        }
    };
    let tree_hash = treehash::combine(&hashes).expect("at least one segment");
    Ok(Digests {
        size: len,
        tree_hash,
        sha256: linear.transpose()?,
    })
}

/// The tree hash of `len` bytes of `file` at `offset`, read with positioned reads into
/// `buf` (any size; 4 MiB is a good choice). Fails with `UnexpectedEof` if the file is
/// shorter than `offset + len`.
pub fn tree_hash_range(
    file: &File,
    offset: u64,
    len: u64,
    buf: &mut [u8],
    progress: Option<&dyn Reporter>,
) -> io::Result<TreeHash> {
    let mut hasher = TreeHasher::new();
    let mut pos = offset;
    let end = offset + len;
    while pos < end {
        let want = (buf.len() as u64).min(end - pos) as usize;
        file.read_exact_at(&mut buf[..want], pos)?;
        hasher.update(&buf[..want]);
        pos += want as u64;
        if let Some(p) = progress {
            p.add_bytes(want as u64);
        }
    }
    Ok(hasher.finish())
}

fn sha256_range(file: &File, offset: u64, len: u64, stop: &AtomicBool) -> io::Result<[u8; 32]> {
    let mut buf = AlignedBuf::new(READ_SIZE);
    let mut h = Sha256::new();
    let mut pos = offset;
    let end = offset + len;
    while pos < end {
        if stop.load(Ordering::Relaxed) {
            return Err(io::Error::other("stopped"));
        }
        let want = (buf.len() as u64).min(end - pos) as usize;
        file.read_exact_at(&mut buf[..want], pos)?;
        h.update(&buf[..want]);
        pos += want as u64;
    }
    Ok(h.finalize().into())
}

/// Hashes a stream to its end in one pass (both hashes in the same pass when the plain
/// SHA-256 is asked for: [`treehash::LinearTreeHasher`]).
pub fn hash_reader(mut r: impl Read, opts: Options<'_>) -> io::Result<Digests> {
    let mut buf = AlignedBuf::new(CHUNK_SIZE as usize);
    let mut hasher = if opts.sha256 {
        StreamHasher::Both(treehash::LinearTreeHasher::new())
    } else {
        StreamHasher::Tree(TreeHasher::new())
    };
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        match &mut hasher {
            StreamHasher::Tree(h) => h.update(&buf[..n]),
            StreamHasher::Both(h) => h.update(&buf[..n]),
        }
        if let Some(p) = opts.progress {
            p.add_bytes(n as u64);
        }
    }
    Ok(match hasher {
        StreamHasher::Tree(h) => Digests {
            size: h.len(),
            tree_hash: h.finish(),
            sha256: None,
        },
        StreamHasher::Both(h) => {
            let size = h.len();
            let (linear, tree_hash) = h.finish();
            Digests {
                size,
                tree_hash,
                sha256: Some(linear),
            }
        }
    })
}

/// What a stream is hashed with: the tree hash alone, or with the plain SHA-256.
enum StreamHasher {
    Tree(TreeHasher),
    Both(treehash::LinearTreeHasher),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::treehash::reference;
    use std::io::Write;

    fn temp_file(data: &[u8]) -> File {
        let dir = std::env::temp_dir();
        let path = dir.join(format!(
            "glacier-filehash-{}-{}",
            std::process::id(),
            data.len()
        ));
        let mut f = File::create(&path).expect("create temp file");
        f.write_all(data).expect("write temp file");
        let f = File::open(&path).expect("reopen temp file");
        std::fs::remove_file(&path).expect("remove temp file");
        f
    }

    #[test]
    fn parallel_file_hash_equals_reference_for_awkward_sizes() {
        let mib = 1usize << 20;
        for len in [1, mib, mib + 1, 9 * mib + 3, 33 * mib + 1] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let f = temp_file(&data);
            for threads in [1, 2, 3, 8] {
                let counter = crate::progress::Counts::new();
                let d = hash_file(
                    &f,
                    len as u64,
                    Options {
                        threads,
                        sha256: true,
                        progress: Some(&counter),
                    },
                )
                .expect("hash");
                assert_eq!(
                    d.tree_hash,
                    reference::tree_hash(&data),
                    "len {len} t {threads}"
                );
                assert_eq!(d.sha256, Some(Sha256::digest(&data).into()));
                assert_eq!(counter.snapshot().bytes, len as u64);
            }
            for sha256 in [false, true] {
                let d = hash_reader(
                    &data[..],
                    Options {
                        threads: 1,
                        sha256,
                        progress: None,
                    },
                )
                .expect("hash stream");
                assert_eq!(d.tree_hash, reference::tree_hash(&data));
                assert_eq!(d.size, len as u64);
                let want = sha256.then(|| <[u8; 32]>::from(Sha256::digest(&data)));
                assert_eq!(d.sha256, want, "stream of {len}, sha256 {sha256}");
            }
        }
    }

    #[test]
    fn aligned_buffers_are_page_aligned_and_zeroed() {
        for len in [0, 1, 4096, 5000, 1 << 20] {
            let b = AlignedBuf::new(len);
            assert_eq!(b.len(), len);
            assert_eq!(b.as_ptr() as usize % 4096, 0);
            assert!(b.iter().all(|&x| x == 0));
        }
    }

    #[test]
    fn a_file_shorter_than_promised_is_an_error() {
        let f = temp_file(&[1, 2, 3]);
        for sha256 in [false, true] {
            let err = hash_file(
                &f,
                10,
                Options {
                    threads: 2,
                    sha256,
                    progress: None,
                },
            )
            .expect_err("short file");
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "sha256 {sha256}");
        }
    }
}
