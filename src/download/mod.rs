//! Downloading an archive retrieval job's output: parallel ranged GETs of tree-hash
//! aligned chunks, each verified against the hash Glacier sends for it and fetched again
//! if it does not match, the whole checked against the job's tree hash, and only then
//! moved into place.
//!
//! Chunks run on the crate's worker pool (`workers`), one chunk per item, each
//! worker reusing its own block buffers. Socket reads are gathered into blocks, each
//! written with one positioned write into a temporary file beside the target and read
//! straight back, and the bytes read back are what is hashed (one SHA-256 pass per byte
//! in all, checking download and disk at once: what is hashed is what the file holds, so
//! there is no second pass before the rename). A small
//! append-only log beside the temporary file records each verified chunk, so an
//! interrupted download run again keeps what it has, after hashing those chunks from the
//! file to see that they are still there. The target is never overwritten without
//! `force`, never left partial under its final name, and a symlink there is not
//! followed. `files.rs` holds the lock, the part file's life and the write-verify-rename
//! path that inventory downloads use too; `fetch.rs` one chunk's ranged GET, block by
//! block, stored, read back and hashed; `small.rs` the one-step path for an output that
//! fits one chunk, which exports take. This module knows files, threads and the client;
//! it never prints.

mod fetch;
mod files;
mod small;

pub use files::{DownloadLock, Spool, VerifyingReader, save_stream};
pub use small::{download_small, fits_one_chunk};

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::durable;
use crate::error::{Error, Result, Setting};
use crate::filehash::AlignedBuf;
use crate::glacier::{Client, JobDescription, JobId};
use crate::progress::Reporter;
use crate::sync::LockExt;
use crate::treehash::{self, CHUNK_SIZE, TreeHash, TreeHasher};
use crate::workers::{Ended, Pool};
use fetch::{JobRange, fetch_chunk, write_checked};

/// Default chunk size: 32 MiB, a tree-hash aligned size that keeps a re-fetch cheap.
pub const DEFAULT_CHUNK_SIZE: u64 = 32 << 20;

/// Bytes gathered from the socket before one positioned write, read straight back and
/// hashed. Small enough that a worker's block, the bytes read back and the file's pages
/// just written stay in the CPU's cache between the write, the read-back and the hash
/// (with 4 MiB blocks each of those passes went to memory: `archive get` cost 3.4x one
/// SHA-256 pass instead of 2.8x, docs/benchmarks.md), large enough that a syscall moves
/// 32 pages. A divisor of the 1 MiB tree-hash leaf, so no block straddles two leaves.
const BLOCK_SIZE: u64 = CHUNK_SIZE / 8;

/// Fetch attempts per chunk when the bytes do not verify or the body breaks off.
const CHUNK_ATTEMPTS: u32 = 5;

/// How to download.
#[derive(Debug, Clone)]
pub struct Options {
    /// Chunks in flight.
    pub threads: usize,
    /// Chunk size: 1 MiB × 2^n.
    pub chunk_size: u64,
    /// Replace an existing target.
    pub force: bool,
    /// Told of the bytes verified, for progress.
    pub reporter: Arc<dyn Reporter>,
    /// Set by Ctrl-C: stop fetching new chunks.
    pub stop: Arc<AtomicBool>,
}

/// What a finished download checked.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Bytes written.
    pub size: u64,
    /// Tree hash of the bytes.
    pub tree_hash: TreeHash,
    /// Whether the whole was compared with a hash Glacier gave (false only for a ranged
    /// retrieval that is not tree-hash aligned, where Glacier gives none).
    pub verified_whole: bool,
    /// Chunks kept from an earlier interrupted run.
    pub chunks_resumed: u64,
}

/// The job's output: its size and the tree hash Glacier says it has, if any.
pub fn expected_output(job: &JobDescription) -> Result<(u64, Option<TreeHash>)> {
    let parse =
        |h: &Option<String>| -> Option<TreeHash> { h.as_deref().and_then(|s| s.parse().ok()) };
    let archive_size = job.archive_size_in_bytes.unwrap_or(0);
    let (size, whole) = match job
        .retrieval_byte_range
        .as_deref()
        .and_then(crate::glacier::parse_byte_range)
    {
        Some((a, b)) => (b - a + 1, a == 0 && b + 1 == archive_size),
        None => (archive_size, true),
    };
    if size == 0 {
        return Err(Error::Job(format!(
            "job {} reports no output size (ArchiveSizeInBytes); nothing to download",
            job.job_id.as_deref().unwrap_or("-")
        )));
    }
    let hash = parse(&job.sha256_tree_hash).or_else(|| {
        if whole {
            parse(&job.archive_sha256_tree_hash)
        } else {
            None
        }
    });
    Ok((size, hash))
}

/// Whether an earlier run left verified chunks for `target` that the same command run
/// again would keep (a chunk log with at least one chunk line beside the part file).
fn has_kept_chunks(target: &Path) -> bool {
    let p = files::paths(target);
    p.part.exists()
        && fs::read_to_string(p.log).is_ok_and(|s| s.lines().skip(1).any(|l| !l.is_empty()))
}

/// Refuses to clobber: an existing target needs `force`, and a symlink at the target is
/// never followed (it would write into another file).
pub fn check_target(target: &Path, force: bool) -> Result<()> {
    match fs::symlink_metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(target, e)),
        Ok(m) if m.is_dir() => Err(Error::Input(format!("{} is a directory", target.display()))),
        Ok(_) if force => Ok(()),
        Ok(m) if m.file_type().is_symlink() => Err(Error::Input(format!(
            "{} is a symbolic link; not following it (use {} to replace the link itself)",
            target.display(),
            Setting::Force
        ))),
        Ok(_) => Err(Error::Input(format!(
            "{} exists; use {} to replace it",
            target.display(),
            Setting::Force
        ))),
    }
}

/// The part file and its log are the download's own, but a symbolic link planted at
/// either would make the download truncate and write the file it points to: refuse it,
/// or with `force` remove the link itself (never its target).
fn check_own_file(path: &Path, force: bool) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            if force {
                fs::remove_file(path).map_err(|e| Error::io(path, e))
            } else {
                Err(Error::Input(format!(
                    "{} is a symbolic link; not following it (use {} to replace the link itself)",
                    path.display(),
                    Setting::Force
                )))
            }
        }
        _ => Ok(()),
    }
}

/// The chunk log: a header line naming the job, then one `index hash` line per chunk
/// verified and synced to disk. Append + flush only: a crash leaves at worst a torn last
/// line, which is ignored.
struct ChunkLog {
    file: Mutex<File>,
}

fn log_header(job_id: &JobId, size: u64, chunk_size: u64) -> String {
    format!("glacier-download v1 {job_id} {size} {chunk_size}")
}

/// Reads the chunks an earlier run verified, if its log matches this job exactly.
fn read_log(path: &Path, header: &str, chunks: u64) -> Vec<Option<TreeHash>> {
    let mut done = vec![None; chunks as usize];
    let Ok(f) = File::open(path) else {
        return done;
    };
    let mut lines = BufReader::new(f).lines();
    if lines.next().and_then(|l| l.ok()).as_deref() != Some(header) {
        return done;
    }
    for line in lines.map_while(|l| l.ok()) {
        let mut it = line.split(' ');
        let (Some(i), Some(h), None) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        if let (Ok(i), Ok(h)) = (i.parse::<u64>(), h.parse::<TreeHash>()) {
            if i < chunks {
                done[i as usize] = Some(h);
            }
        }
    }
    done
}

impl ChunkLog {
    fn open(path: &Path, header: &str, fresh: bool) -> Result<ChunkLog> {
        let f = if fresh {
            let mut f = durable::create_new(path)?;
            writeln!(f, "{header}")
                .and_then(|()| f.sync_data())
                .map_err(|e| Error::io(path, e))?;
            durable::fsync_dir(durable::parent_dir(path))?;
            f
        } else {
            durable::open_existing(path, true)?
        };
        Ok(ChunkLog {
            file: Mutex::new(f),
        })
    }

    fn record(&self, path: &Path, index: u64, hash: &TreeHash) -> Result<()> {
        let mut f = self.file.lock_unpoisoned();
        f.write_all(format!("{index} {hash}\n").as_bytes())
            .and_then(|()| f.flush())
            .map_err(|e| Error::io(path, e))
    }
}

/// Downloads the output of `job` (already checked to be a succeeded archive retrieval)
/// into `target`, holding the target's download lock throughout. An interruption or a
/// failure after some chunks verified says that running the same command again resumes.
pub fn download_to_file(
    client: &Client,
    vault: &str,
    job: &JobDescription,
    target: &Path,
    opts: &Options,
) -> Result<Outcome> {
    check_target(target, opts.force)?;
    let paths = files::paths(target);
    let _lock = DownloadLock::acquire(target, &paths.lock)?;
    download_locked(client, vault, job, target, &paths, opts).map_err(|e| match e {
        Error::Interrupted(m) => {
            Error::Interrupted(format!("{m}; run the same command again to resume"))
        }
        e if e.exit_code() == 1 && has_kept_chunks(target) => Error::WithHint {
            error: Box::new(e),
            hint: format!(
                "verified chunks are kept in {}; run the same command again to resume",
                paths.part.display()
            ),
        },
        e => e,
    })
}

fn download_locked(
    client: &Client,
    vault: &str,
    job: &JobDescription,
    target: &Path,
    paths: &files::Paths,
    opts: &Options,
) -> Result<Outcome> {
    let job_id = job.id()?;
    let (size, expected) = expected_output(job)?;
    let cs = opts.chunk_size;
    let chunks = size.div_ceil(cs).max(1);
    let (tmp, log_path) = (paths.part.clone(), paths.log.clone());
    check_own_file(&tmp, opts.force)?;
    check_own_file(&log_path, opts.force)?;
    let header = log_header(&job_id, size, cs);

    let mut done = read_log(&log_path, &header, chunks);
    let fresh = done.iter().all(|d| d.is_none()) || !tmp.exists();
    let file = if fresh {
        done = vec![None; chunks as usize];
        files::start_fresh(paths)?
    } else {
        durable::open_existing(&tmp, false)?
    };
    file.set_len(size).map_err(|e| Error::io(&tmp, e))?;
    let log = ChunkLog::open(&log_path, &header, fresh)?;

    let kept = done;
    let out = Pool::new(opts.threads).stop(&opts.stop).run(
        0..chunks,
        || Ok(Blocks::new(BLOCK_SIZE.min(cs) as usize)),
        |blocks, _, chunk| {
            let start = chunk * cs;
            let end = (start + cs).min(size) - 1;
            if let Some(want) = kept[chunk as usize] {
                // Logged by an earlier run: trust it only if the part file still holds it.
                let got = hash_range(&file, &mut blocks.recv, (start, end))
                    .map_err(|e| Error::io(&tmp, e))?;
                if got == want {
                    opts.reporter.add_bytes(end - start + 1);
                    return Ok(Chunk {
                        hash: got,
                        kept: true,
                    });
                }
                // Changed on disk since it was logged: fetch it again.
            }
            let Blocks { recv, back } = blocks;
            let hash = fetch_chunk(
                &JobRange {
                    client,
                    vault,
                    job_id: &job_id,
                    range: (start, end),
                    output_size: size,
                },
                recv,
                |block| write_checked(&file, &tmp, block, back),
                opts.reporter.as_ref(),
            )?;
            file.sync_data().map_err(|e| Error::io(&tmp, e))?;
            log.record(&log_path, chunk, &hash)?;
            Ok(Chunk { hash, kept: false })
        },
    );
    let chunks_done = match out.into_values() {
        Ok(v) => v,
        Err(Ended::Failed(e)) => return Err(e),
        Err(Ended::Stopped { .. }) => {
            return Err(Error::Interrupted("download interrupted".into()));
        }
    };
    let resumed = chunks_done.iter().filter(|c| c.kept).count() as u64;
    let hashes: Vec<TreeHash> = chunks_done.iter().map(|c| c.hash).collect();
    let tree_hash = treehash::combine(&hashes).expect("at least one chunk");
    if let Some(want) = expected {
        if want != tree_hash {
            // The whole does not match although every chunk did: start over next time.
            let _ = fs::remove_file(&log_path);
            return Err(Error::Mismatch {
                what: format!("job {job_id}: tree hash of the downloaded output"),
                expected: want.to_hex(),
                actual: tree_hash.to_hex(),
            });
        }
    }
    // No read-back pass here: every byte was hashed as read back from the file right
    // after it was written (`write_checked`), and kept chunks were hashed from the file
    // above, so the tree hash just checked is that of the part file's contents.
    file.sync_all().map_err(|e| Error::io(&tmp, e))?;
    drop(file);
    files::publish(&tmp, target, opts.force)?;
    let _ = fs::remove_file(&log_path);
    Ok(Outcome {
        size,
        tree_hash,
        verified_whole: expected.is_some(),
        chunks_resumed: resumed,
    })
}

/// Downloads the job output in order to `out` (standard output), one verified chunk at a
/// time, so nothing unverified is ever written (except a final unaligned tail, which the
/// whole-output check still covers).
pub fn download_to_writer(
    client: &Client,
    vault: &str,
    job: &JobDescription,
    out: &mut dyn Write,
    opts: &Options,
) -> Result<Outcome> {
    let outcome = stream_verified(client, vault, job, opts, &mut |chunk: &[u8]| {
        out.write_all(chunk).map_err(|e| {
            if e.kind() == io::ErrorKind::BrokenPipe {
                Error::BrokenPipe
            } else {
                Error::io("-", e)
            }
        })
    })?;
    out.flush().map_err(|e| Error::io("-", e))?;
    Ok(outcome)
}

/// The streaming entry point (used by stdout downloads and by the S3 migration): hands
/// the job output to `sink` in order, one chunk of `opts.chunk_size` at a time, each chunk
/// only after it matched the tree hash Glacier sent for it (a chunk that fails is fetched
/// again first). At the end the whole output's tree hash is checked against the job's;
/// a mismatch is an error returned after every chunk was handed over, so a sink must not
/// commit anything before this returns `Ok` (the S3 writer completes only then).
/// Memory: one chunk.
pub fn stream_verified(
    client: &Client,
    vault: &str,
    job: &JobDescription,
    opts: &Options,
    sink: &mut dyn FnMut(&[u8]) -> Result<()>,
) -> Result<Outcome> {
    let job_id = job.id()?;
    let (size, expected) = expected_output(job)?;
    let cs = opts.chunk_size;
    let mut hashes = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut block = AlignedBuf::new(BLOCK_SIZE.min(cs) as usize);
    let mut start = 0;
    while start < size {
        if opts.stop.load(Ordering::Relaxed) {
            return Err(Error::Interrupted("download interrupted".into()));
        }
        let end = (start + cs).min(size) - 1;
        // Every byte of the chunk is overwritten before `sink` sees it, so the buffer is
        // only sized, not cleared: zeroing 32 MiB per chunk cost as much as a copy.
        buf.resize((end - start + 1) as usize, 0);
        let h = fetch_chunk(
            &JobRange {
                client,
                vault,
                job_id: &job_id,
                range: (start, end),
                output_size: size,
            },
            &mut block,
            |b| {
                let off = (b.at - start) as usize;
                buf[off..off + b.data.len()].copy_from_slice(b.data);
                b.hasher.update(b.data);
                Ok(())
            },
            opts.reporter.as_ref(),
        )?;
        sink(&buf)?;
        hashes.push(h);
        start = end + 1;
    }
    let tree_hash = treehash::combine(&hashes).unwrap_or_else(|| treehash::tree_hash(&[]));
    if let Some(want) = expected {
        if want != tree_hash {
            return Err(Error::Mismatch {
                what: format!("job {job_id}: tree hash of the streamed output"),
                expected: want.to_hex(),
                actual: tree_hash.to_hex(),
            });
        }
    }
    Ok(Outcome {
        size,
        tree_hash,
        verified_whole: expected.is_some(),
        chunks_resumed: 0,
    })
}

/// A download worker's buffers, allocated on its first chunk and reused for every later
/// one: `recv` gathers the socket's bytes into a block, takes them read back from the
/// part file, and the bytes of kept chunks hashed on a resume; `back` stays empty unless
/// a range comes without Glacier's hash (see [`write_checked`]).
struct Blocks {
    recv: AlignedBuf,
    back: Vec<u8>,
}

impl Blocks {
    fn new(len: usize) -> Blocks {
        Blocks {
            recv: AlignedBuf::new(len),
            back: Vec::new(),
        }
    }
}

/// One chunk of the part file: its tree hash, and whether an earlier run had it.
struct Chunk {
    hash: TreeHash,
    kept: bool,
}

/// The tree hash of the inclusive byte range `(start, end)` of `file`, read in blocks of
/// `buf`'s size.
fn hash_range(file: &File, buf: &mut [u8], (start, end): (u64, u64)) -> io::Result<TreeHash> {
    let mut hasher = TreeHasher::new();
    let mut at = start;
    while at <= end {
        let n = (buf.len() as u64).min(end + 1 - at) as usize;
        file.read_exact_at(&mut buf[..n], at)?;
        hasher.update(&buf[..n]);
        at += n as u64;
    }
    Ok(hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(
        range: Option<&str>,
        size: u64,
        hash: Option<&str>,
        archive_hash: &str,
    ) -> JobDescription {
        serde_json::from_value(serde_json::json!({
            "JobId": "j", "Action": "ArchiveRetrieval", "CreationDate": "x", "Completed": true,
            "StatusCode": "Succeeded", "ArchiveSizeInBytes": size, "RetrievalByteRange": range,
            "SHA256TreeHash": hash, "ArchiveSHA256TreeHash": archive_hash,
        }))
        .expect("job json")
    }

    #[test]
    fn expected_output_uses_the_range_and_the_right_hash() {
        let h = "a".repeat(64);
        let a = "b".repeat(64);
        let (size, hash) = expected_output(&job(None, 100, None, &a)).expect("ok");
        assert_eq!((size, hash.map(|h| h.to_hex())), (100, Some(a.clone())));
        let (size, hash) =
            expected_output(&job(Some("1048576-2097151"), 5 << 20, Some(&h), &a)).expect("ok");
        assert_eq!((size, hash.map(|h| h.to_hex())), (1 << 20, Some(h)));
        let (size, hash) =
            expected_output(&job(Some("1048576-3000000"), 5 << 20, None, &a)).expect("ok");
        assert_eq!((size, hash), (3_000_000 - 1_048_576 + 1, None));
    }

    #[test]
    fn torn_log_lines_are_ignored_and_a_foreign_log_is_not_trusted() {
        let dir = std::env::temp_dir().join(format!("glacier-dl-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("dir");
        let p = dir.join("log");
        let h = treehash::tree_hash(b"x");
        fs::write(&p, format!("HDR\n0 {h}\n2 {h}\n1 {}", &h.to_hex()[..10])).expect("write");
        assert_eq!(read_log(&p, "HDR", 3), vec![Some(h), None, Some(h)]);
        assert_eq!(read_log(&p, "OTHER", 3), vec![None, None, None]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn targets_are_not_clobbered() {
        let dir = std::env::temp_dir().join(format!("glacier-dl2-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("dir");
        let f = dir.join("f");
        fs::write(&f, b"x").expect("write");
        assert!(check_target(&f, false).is_err());
        assert!(check_target(&f, true).is_ok());
        let l = dir.join("l");
        let _ = std::os::unix::fs::symlink(&f, &l);
        assert!(
            check_target(&l, false)
                .expect_err("symlink")
                .to_string()
                .contains("symbolic link")
        );
        assert!(check_target(&dir.join("new"), false).is_ok());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_range_hashes_like_the_whole_in_any_block_size() {
        let dir = std::env::temp_dir().join(format!("glacier-dl4-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("dir");
        let p = dir.join("f");
        let data: Vec<u8> = (0..3 * CHUNK_SIZE as usize + 7)
            .map(|i| (i * 7) as u8)
            .collect();
        fs::write(&p, &data).expect("write");
        let f = File::open(&p).expect("open");
        let mut buf = vec![0u8; CHUNK_SIZE as usize];
        let end = data.len() as u64 - 1;
        assert_eq!(
            hash_range(&f, &mut buf, (0, end)).expect("hash"),
            treehash::tree_hash(&data)
        );
        assert_eq!(
            hash_range(&f, &mut buf, (CHUNK_SIZE, 2 * CHUNK_SIZE - 1)).expect("hash"),
            treehash::tree_hash(&data[CHUNK_SIZE as usize..2 * CHUNK_SIZE as usize])
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
