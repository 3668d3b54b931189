//! Hashing a body to disk in one pass (SHA-256 and the 1 MiB leaf tree hashes), and
//! checking a received body against its `x-amz-content-sha256` and
//! `x-amz-sha256-tree-hash` headers ("Computing Checksums").

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use glacier_upload::treehash::{CHUNK_SIZE, TreeHash, combine};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::http::Head;

/// What hashing a body produced.
#[derive(Debug, Clone)]
pub struct Hashed {
    pub len: u64,
    /// Linear SHA-256, lowercase hex.
    pub sha256: String,
    /// SHA-256 of every 1 MiB leaf, in order (one leaf of the empty input for empty data).
    pub leaves: Vec<TreeHash>,
}

impl Hashed {
    /// The tree hash over all leaves.
    pub fn tree_hash(&self) -> TreeHash {
        tree_of(&self.leaves)
    }
}

/// The root over consecutive leaves.
pub fn tree_of(leaves: &[TreeHash]) -> TreeHash {
    combine(leaves).unwrap_or_else(|| TreeHash(Sha256::digest(b"").into()))
}

/// Copies exactly `len` bytes from `src` into a new file at `dest` while computing the
/// SHA-256 and the 1 MiB leaf hashes in the same pass; memory stays at one chunk.
/// Returns an `UnexpectedEof` error when `src` ends early.
pub fn stream_to_file(src: &mut impl Read, len: u64, dest: &Path) -> io::Result<Hashed> {
    let mut file = io::BufWriter::with_capacity(1 << 20, File::create(dest)?);
    let mut buf = vec![0u8; CHUNK_SIZE as usize];
    let mut linear = Sha256::new();
    let mut leaves = Vec::with_capacity((len / CHUNK_SIZE + 1) as usize);
    let mut left = len;
    while left > 0 {
        let want = left.min(CHUNK_SIZE) as usize;
        src.read_exact(&mut buf[..want])?;
        let chunk = &buf[..want];
        linear.update(chunk);
        leaves.push(TreeHash(Sha256::digest(chunk).into()));
        file.write_all(chunk)?;
        left -= want as u64;
    }
    file.flush()?;
    if leaves.is_empty() {
        leaves.push(TreeHash(Sha256::digest(b"").into()));
    }
    Ok(Hashed {
        len,
        sha256: hex::encode(linear.finalize()),
        leaves,
    })
}

/// Reads a required tree-hash header as a hash.
pub fn tree_hash_header(head: &Head) -> Result<TreeHash, ApiError> {
    let v = head
        .header("x-amz-sha256-tree-hash")
        .ok_or_else(|| ApiError::missing("Required parameter missing: x-amz-sha256-tree-hash"))?;
    v.parse()
        .map_err(|_| ApiError::invalid(format!("Invalid x-amz-sha256-tree-hash: {v}")))
}

/// Checks a received body's hashes against its headers.
fn check_hashes(head: &Head, hashed: &Hashed, claimed_tree: &TreeHash) -> Result<(), ApiError> {
    let claimed = head.header("x-amz-content-sha256").unwrap_or_default();
    if !claimed.eq_ignore_ascii_case(&hashed.sha256) {
        return Err(ApiError::invalid(format!(
            "The value passed in as x-amz-content-sha256 does not match the computed payload hash. Computed digest: {} expected hash: {claimed}",
            hashed.sha256
        )));
    }
    let tree = hashed.tree_hash();
    if tree != *claimed_tree {
        return Err(ApiError::invalid(format!(
            "Checksum mismatch: the x-amz-sha256-tree-hash {claimed_tree} does not match the tree hash of the payload {tree}"
        )));
    }
    Ok(())
}

/// Streams exactly `len` bytes of `body` into a new file at `tmp` and checks them against
/// the request's hash headers (`claimed` is its tree hash). On failure `tmp` is removed
/// and the error is Glacier's: 408 RequestTimeoutException when the body ends early, or
/// the hash mismatch from [`check_hashes`].
pub fn receive_body(
    head: &Head,
    body: &mut impl Read,
    len: u64,
    tmp: &Path,
    claimed: &TreeHash,
) -> Result<Hashed, ApiError> {
    let hashed = stream_to_file(body, len, tmp).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        ApiError::new(
            408,
            "RequestTimeoutException",
            format!("body not received: {e}"),
        )
    })?;
    if let Err(e) = check_hashes(head, &hashed, claimed) {
        let _ = std::fs::remove_file(tmp);
        return Err(e);
    }
    Ok(hashed)
}
