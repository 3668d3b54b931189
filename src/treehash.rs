//! The Amazon S3 Glacier SHA-256 tree hash.
//!
//! Glacier checks every upload and download with a hash tree: SHA-256 over each 1 MiB
//! chunk, then adjacent pairs hashed together level by level, an odd node at the end of a
//! level carried up unchanged, until one root remains ("Computing Checksums" in the
//! Amazon S3 Glacier Developer Guide). This module owns that algorithm, and the one-pass
//! pairing of it with the plain SHA-256 an upload part also needs ([`LinearTreeHasher`]),
//! over the SHA-256 block functions of its `sha256x2` submodule; nothing else: it is pure
//! (no files, no threads, no clock), so the file-level parallel hasher lives in
//! [`crate::filehash`] and builds on the pieces here.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

mod sha256x2;

/// The size of a tree-hash leaf: 1 MiB.
pub const CHUNK_SIZE: u64 = 1 << 20;

/// A SHA-256 tree hash (or any node of a hash tree): 32 bytes, shown as lowercase hex.
///
/// Parsed from and shown as the 64 hex digits of Glacier's `x-amz-sha256-tree-hash`
/// header; up to 1 MiB of data the tree hash is the plain SHA-256:
///
/// ```
/// use glacier_upload::TreeHash;
/// use glacier_upload::treehash::tree_hash;
///
/// let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// let parsed: TreeHash = empty.parse()?;
/// assert_eq!(tree_hash(b""), parsed);
/// assert_eq!(parsed.to_string(), empty);
/// assert!("not hex".parse::<TreeHash>().is_err());
/// # Ok::<(), glacier_upload::treehash::ParseTreeHashError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TreeHash(pub [u8; 32]);

impl TreeHash {
    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, as Glacier sends it in `x-amz-sha256-tree-hash`.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The parent node of two children: SHA-256 of their concatenation.
    pub fn parent(left: &TreeHash, right: &TreeHash) -> TreeHash {
        let mut h = Sha256::new();
        h.update(left.0);
        h.update(right.0);
        TreeHash(h.finalize().into())
    }
}

impl fmt::Display for TreeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for TreeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TreeHash({})", self.to_hex())
    }
}

/// Why a string is not a tree hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseTreeHashError {
    /// What was wrong, in words.
    pub reason: &'static str,
}

impl fmt::Display for ParseTreeHashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a SHA-256 tree hash: {}", self.reason)
    }
}

impl std::error::Error for ParseTreeHashError {}

impl FromStr for TreeHash {
    type Err = ParseTreeHashError;

    /// Parses 64 hex digits (either case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 64 {
            return Err(ParseTreeHashError {
                reason: "expected 64 hex digits",
            });
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| ParseTreeHashError {
            reason: "contains a character that is not a hex digit",
        })?;
        Ok(TreeHash(out))
    }
}

/// Joins hashes of consecutive nodes of one level into the root above them, pairing left
/// to right and carrying an odd last node up unchanged.
///
/// Given the tree hashes of consecutive parts of an archive, each part `1 MiB × 2^n` long
/// (the same `n` for all, the last part possibly shorter), this returns the tree hash of
/// the whole archive: that is how a multipart upload's final hash is formed. Returns
/// `None` for an empty slice.
pub fn combine(hashes: &[TreeHash]) -> Option<TreeHash> {
    let mut level: Vec<TreeHash> = hashes.to_vec();
    if level.is_empty() {
        return None;
    }
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        for pair in level.chunks(2) {
            match pair {
                [l, r] => next.push(TreeHash::parent(l, r)),
                [odd] => next.push(*odd),
                _ => unreachable!("chunks(2) yields one or two items"),
            }
        }
        level = next;
    }
    Some(level[0])
}

/// The SHA-256 of one leaf (at most 1 MiB of data).
pub fn leaf(chunk: &[u8]) -> TreeHash {
    TreeHash(Sha256::digest(chunk).into())
}

/// Streaming tree hasher: feed bytes with any split points, get the root.
///
/// ```
/// use glacier_upload::TreeHasher;
/// use glacier_upload::treehash::{CHUNK_SIZE, tree_hash};
///
/// // Two and a half 1 MiB leaves, fed in pieces that straddle the leaf boundaries.
/// let data: Vec<u8> = (0..CHUNK_SIZE * 5 / 2).map(|i| (i % 251) as u8).collect();
/// let mut hasher = TreeHasher::new();
/// for piece in data.chunks(777_777) {
///     hasher.update(piece);
/// }
/// assert_eq!(hasher.len(), data.len() as u64);
/// assert_eq!(hasher.finish(), tree_hash(&data));
/// ```
///
/// Memory stays O(log n): completed subtrees are kept on a stack like the digits of a
/// binary counter and merged as soon as two of the same height exist, which yields the
/// same root as the level-by-level definition (a node covering `2^k` leaves is the same
/// in both).
#[derive(Clone)]
pub struct TreeHasher {
    /// The block function for whole chunks, two at a time.
    kernel: sha256x2::Kernel,
    /// The chunk being filled.
    current: Sha256,
    /// Bytes in `current`.
    current_len: u64,
    /// Completed subtrees, oldest first, each with its height (leaf = 0); heights strictly
    /// decrease from bottom to top.
    stack: Vec<(u32, TreeHash)>,
    /// Total bytes seen.
    total: u64,
}

impl Default for TreeHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl TreeHasher {
    /// A hasher that has seen nothing.
    pub fn new() -> Self {
        Self::with_kernel(sha256x2::Kernel::detect())
    }

    fn with_kernel(kernel: sha256x2::Kernel) -> Self {
        TreeHasher {
            kernel,
            current: Sha256::new(),
            current_len: 0,
            stack: Vec::with_capacity(48),
            total: 0,
        }
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// True when nothing has been fed.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Feeds bytes.
    pub fn update(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        while !data.is_empty() {
            if self.current_len == 0 && data.len() as u64 >= 2 * CHUNK_SIZE {
                // Two whole chunks: two separate messages whose rounds interleave on
                // SHA-NI (`cargo bench --bench treehash`: `tree_hash_buffer` against
                // `sha256_baseline`).
                let (pair, rest) = data.split_at(2 * CHUNK_SIZE as usize);
                let (left, right) = leaf_pair(self.kernel, pair);
                self.push_leaf(left);
                self.push_leaf(right);
                data = rest;
                continue;
            }
            if self.current_len == 0 && data.len() as u64 >= CHUNK_SIZE {
                // Whole chunk available: hash it in one call, skipping the state copy.
                let (chunk, rest) = data.split_at(CHUNK_SIZE as usize);
                self.push_leaf(leaf(chunk));
                data = rest;
                continue;
            }
            let room = (CHUNK_SIZE - self.current_len) as usize;
            let take = room.min(data.len());
            self.current.update(&data[..take]);
            self.current_len += take as u64;
            data = &data[take..];
            if self.current_len == CHUNK_SIZE {
                let done = std::mem::take(&mut self.current);
                self.current_len = 0;
                self.push_leaf(TreeHash(done.finalize().into()));
            }
        }
    }

    /// Adds a finished node of the given height (leaf = 0) covering the next `2^height`
    /// chunks. Callers that hash aligned blocks elsewhere use this to join them.
    pub fn push_subtree(&mut self, height: u32, hash: TreeHash) {
        let mut node = (height, hash);
        while let Some(&(h, top)) = self.stack.last() {
            if h != node.0 {
                break;
            }
            self.stack.pop();
            node = (h + 1, TreeHash::parent(&top, &node.1));
        }
        self.stack.push(node);
    }

    fn push_leaf(&mut self, hash: TreeHash) {
        self.push_subtree(0, hash);
    }

    /// The root. The tree hash of empty input is defined here as the SHA-256 of nothing
    /// (Glacier never accepts empty archives, but a hash of nothing must not panic).
    pub fn finish(mut self) -> TreeHash {
        if self.current_len > 0 || self.stack.is_empty() {
            let done = std::mem::take(&mut self.current);
            self.push_leaf(TreeHash(done.finalize().into()));
        }
        // Fold the remaining subtrees from the right: the largest complete subtree is the
        // left child of the root, the rest form its right child.
        let mut acc: Option<TreeHash> = None;
        while let Some((_, node)) = self.stack.pop() {
            acc = Some(match acc {
                None => node,
                Some(right) => TreeHash::parent(&node, &right),
            });
        }
        acc.expect("finish always pushes at least one leaf")
    }
}

/// The linear SHA-256 and the tree hash of the same bytes, in one pass: what an upload
/// part needs (`x-amz-content-sha256` signs the body, `x-amz-sha256-tree-hash` checks it;
/// API Reference, "Upload Part").
///
/// Each 64-byte block goes into both computations at once; on a CPU with SHA-NI the two
/// states' rounds are interleaved and share one message schedule, so both hashes cost
/// about 0.73 of two separate passes (`cargo bench --bench treehash`, `part_hash`).
///
/// ```
/// use glacier_upload::treehash::{LinearTreeHasher, tree_hash};
/// use sha2::{Digest, Sha256};
///
/// let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
/// let mut h = LinearTreeHasher::new();
/// for piece in data.chunks(100_000) {
///     h.update(piece);
/// }
/// let (linear, tree) = h.finish();
/// assert_eq!(linear, <[u8; 32]>::from(Sha256::digest(&data)));
/// assert_eq!(tree, tree_hash(&data));
/// ```
#[derive(Clone)]
pub struct LinearTreeHasher {
    kernel: sha256x2::Kernel,
    linear: sha256x2::State,
    /// The leaf being filled.
    leaf: sha256x2::State,
    /// Bytes compressed into `leaf`: a multiple of 64, below [`CHUNK_SIZE`].
    leaf_len: u64,
    /// Bytes not yet compressed (fewer than 64): the tail of both computations, since a
    /// leaf boundary is a multiple of 64 bytes.
    pending: [u8; 64],
    pending_len: usize,
    /// The finished leaves.
    tree: TreeHasher,
    total: u64,
}

impl Default for LinearTreeHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl LinearTreeHasher {
    /// A hasher that has seen nothing, using the fastest block function this CPU has.
    pub fn new() -> Self {
        Self::with_kernel(sha256x2::Kernel::detect())
    }

    fn with_kernel(kernel: sha256x2::Kernel) -> Self {
        LinearTreeHasher {
            kernel,
            linear: sha256x2::H0,
            leaf: sha256x2::H0,
            leaf_len: 0,
            pending: [0; 64],
            pending_len: 0,
            tree: TreeHasher::new(),
            total: 0,
        }
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// True when nothing has been fed.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Feeds bytes.
    pub fn update(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        if self.pending_len > 0 {
            let take = (64 - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            if self.pending_len < 64 {
                return;
            }
            self.pending_len = 0;
            let block = self.pending;
            self.compress(&block);
        }
        while data.len() >= 64 {
            let room = (CHUNK_SIZE - self.leaf_len) as usize;
            let (blocks, rest) = data.split_at((data.len() & !63).min(room));
            self.compress(blocks);
            data = rest;
        }
        self.pending[..data.len()].copy_from_slice(data);
        self.pending_len = data.len();
    }

    /// Whole blocks, all within the current leaf, into both states.
    fn compress(&mut self, blocks: &[u8]) {
        debug_assert!(self.leaf_len + blocks.len() as u64 <= CHUNK_SIZE);
        self.kernel
            .compress_same(&mut self.linear, &mut self.leaf, blocks);
        self.leaf_len += blocks.len() as u64;
        if self.leaf_len == CHUNK_SIZE {
            let leaf = std::mem::replace(&mut self.leaf, sha256x2::H0);
            self.leaf_len = 0;
            let hash = finalize(self.kernel, leaf, &[], CHUNK_SIZE);
            self.tree.push_subtree(0, TreeHash(hash));
        }
    }

    /// The linear SHA-256 and the tree hash of everything fed. The tree hash of nothing is
    /// the SHA-256 of nothing, as [`TreeHasher::finish`] defines it.
    pub fn finish(mut self) -> ([u8; 32], TreeHash) {
        let tail = &self.pending[..self.pending_len];
        let in_leaf = self.leaf_len + tail.len() as u64;
        if in_leaf > 0 {
            let hash = finalize(self.kernel, self.leaf, tail, in_leaf);
            self.tree.push_subtree(0, TreeHash(hash));
        }
        let linear = finalize(self.kernel, self.linear, tail, self.total);
        (linear, self.tree.finish())
    }
}

/// Two whole leaves hashed side by side, fed the bytes at the same offsets of both: for a
/// reader that holds both at once (a download reading back leaf `2k`'s block when leaf
/// `2k+1`'s block at the same offset arrives), so their rounds interleave as in
/// [`TreeHasher`]'s pairs.
pub(crate) struct LeafPair {
    kernel: sha256x2::Kernel,
    a: sha256x2::State,
    b: sha256x2::State,
    len: u64,
}

impl LeafPair {
    /// A pair that has seen nothing.
    pub(crate) fn new() -> Self {
        LeafPair {
            kernel: sha256x2::Kernel::detect(),
            a: sha256x2::H0,
            b: sha256x2::H0,
            len: 0,
        }
    }

    /// The next bytes of both leaves: as many of each, whole 64-byte blocks.
    pub(crate) fn update(&mut self, a: &[u8], b: &[u8]) {
        assert!(
            self.len + a.len() as u64 <= CHUNK_SIZE,
            "past the end of a leaf"
        );
        self.kernel.compress_two(&mut self.a, a, &mut self.b, b);
        self.len += a.len() as u64;
    }

    /// True once both leaves have all their bytes.
    pub(crate) fn is_full(&self) -> bool {
        self.len == CHUNK_SIZE
    }

    /// The two leaves' hashes; the pair starts over.
    pub(crate) fn finish(&mut self) -> (TreeHash, TreeHash) {
        assert!(self.is_full(), "a pair is hashed whole leaves at a time");
        let done = std::mem::replace(self, LeafPair::new());
        (
            TreeHash(finalize(done.kernel, done.a, &[], CHUNK_SIZE)),
            TreeHash(finalize(done.kernel, done.b, &[], CHUNK_SIZE)),
        )
    }
}

/// The leaf hashes of the two chunks in `pair` (2 MiB), hashed side by side.
fn leaf_pair(kernel: sha256x2::Kernel, pair: &[u8]) -> (TreeHash, TreeHash) {
    let (a, b) = pair.split_at(CHUNK_SIZE as usize);
    let (mut sa, mut sb) = (sha256x2::H0, sha256x2::H0);
    kernel.compress_two(&mut sa, a, &mut sb, b);
    (
        TreeHash(finalize(kernel, sa, &[], CHUNK_SIZE)),
        TreeHash(finalize(kernel, sb, &[], CHUNK_SIZE)),
    )
}

/// The SHA-256 digest of a message of `len` bytes whose whole blocks are in `state` and
/// whose last `tail` bytes (fewer than 64) are not: the padding of FIPS 180-4, 5.1.1.
fn finalize(
    kernel: sha256x2::Kernel,
    mut state: sha256x2::State,
    tail: &[u8],
    len: u64,
) -> [u8; 32] {
    let mut block = [0u8; 128];
    block[..tail.len()].copy_from_slice(tail);
    block[tail.len()] = 0x80;
    let end = if tail.len() < 56 { 64 } else { 128 };
    block[end - 8..end].copy_from_slice(&(len * 8).to_be_bytes());
    kernel.compress(&mut state, &block[..end]);
    let mut out = [0u8; 32];
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// The tree hash of a byte slice, in one call.
pub fn tree_hash(data: &[u8]) -> TreeHash {
    let mut h = TreeHasher::new();
    h.update(data);
    h.finish()
}

/// Is the byte range `[start, end]` (inclusive) of an archive of `archive_size` bytes
/// tree-hash aligned, so that Glacier returns its tree hash when it is downloaded?
///
/// The rule ("Receiving Checksums When Downloading Data" in the Glacier Developer Guide):
/// the range is the whole archive, or it is exactly one node of the archive's hash tree:
/// `2^n` MiB long, starting at a multiple of its length, where a node at the archive's
/// end may be shorter. Equivalently: there is an `n` with `start` a multiple of
/// `2^n MiB` and `end + 1` equal to `start + 2^n MiB` or to `archive_size` (with
/// `start + 2^n MiB > archive_size` in that case).
pub fn is_tree_hash_aligned(start: u64, end: u64, archive_size: u64) -> bool {
    if end < start || end >= archive_size {
        return false;
    }
    if start == 0 && end + 1 == archive_size {
        return true;
    }
    let len = end - start + 1;
    let mut block = CHUNK_SIZE;
    loop {
        if start % block == 0 {
            let block_end = start.saturating_add(block);
            if len == block || (end + 1 == archive_size && block_end > archive_size) {
                return true;
            }
        } else {
            // A start not divisible by this block is not divisible by any larger one.
            return false;
        }
        if block >= len.max(CHUNK_SIZE) {
            // Larger blocks only get longer than the range; they still fit when the
            // range ends the archive, but that case was checked at the smallest block
            // that covers it, which is this one or a smaller one.
            return false;
        }
        block = match block.checked_mul(2) {
            Some(b) => b,
            None => return false,
        };
    }
}

/// The largest power-of-two multiple of 1 MiB that is at most `n` (at least 1 MiB).
pub fn floor_pow2_mib(n: u64) -> u64 {
    if n <= CHUNK_SIZE {
        return CHUNK_SIZE;
    }
    1u64 << (63 - n.leading_zeros())
}

/// Is `size` a valid Glacier part size: `1 MiB × 2^n` from 1 MiB to 4 GiB?
pub fn is_valid_part_size(size: u64) -> bool {
    size.is_power_of_two() && (CHUNK_SIZE..=(4u64 << 30)).contains(&size)
}

#[cfg(test)]
pub(crate) mod reference {
    //! The definition, written to be obviously right rather than fast: hash every chunk,
    //! then pair up level by level.
    use super::TreeHash;
    use sha2::{Digest, Sha256};

    pub fn tree_hash(data: &[u8]) -> TreeHash {
        let mut level: Vec<[u8; 32]> = if data.is_empty() {
            vec![Sha256::digest(b"").into()]
        } else {
            data.chunks(1 << 20)
                .map(|c| Sha256::digest(c).into())
                .collect()
        };
        while level.len() > 1 {
            let mut next = Vec::new();
            let mut i = 0;
            while i < level.len() {
                if i + 1 < level.len() {
                    let mut h = Sha256::new();
                    h.update(level[i]);
                    h.update(level[i + 1]);
                    next.push(h.finalize().into());
                } else {
                    next.push(level[i]);
                }
                i += 2;
            }
            level = next;
        }
        TreeHash(level[0])
    }

    /// Brute force: is the range one node of the tree, or the whole archive?
    pub fn is_aligned(start: u64, end: u64, size: u64) -> bool {
        if end < start || end >= size {
            return false;
        }
        if start == 0 && end + 1 == size {
            return true;
        }
        let mib = 1u64 << 20;
        let mut n = 0;
        while n < 40 {
            let block = mib << n;
            if start % block == 0 && (end + 1 == (start + block).min(size)) {
                return true;
            }
            n += 1;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    /// Deterministic bytes without a random crate.
    pub(super) fn pattern(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn linear_and_tree_in_one_pass_match_the_definitions_with_every_kernel() {
        let data = pattern(3 * MIB + 1000, 5);
        let mut kernels = vec![sha256x2::Kernel::Portable];
        if sha256x2::Kernel::fastest() != sha256x2::Kernel::Portable {
            kernels.push(sha256x2::Kernel::fastest());
        }
        let lens = [
            0,
            1,
            55,
            56,
            63,
            64,
            65,
            119,
            120,
            MIB - 1,
            MIB,
            MIB + 1,
            MIB + 63,
            2 * MIB,
            3 * MIB + 1000,
        ];
        for kernel in kernels {
            for len in lens {
                let data = &data[..len];
                let want = (
                    <[u8; 32]>::from(Sha256::digest(data)),
                    reference::tree_hash(data),
                );
                // One update, then pieces that straddle blocks and leaves.
                for piece in [usize::MAX, 1, 63, 64, 100, 4096 + 7, MIB - 64, MIB + 1] {
                    let mut h = LinearTreeHasher::with_kernel(kernel);
                    for p in data.chunks(piece.min(len.max(1))) {
                        h.update(p);
                        h.update(&[]);
                    }
                    assert_eq!(h.len(), len as u64);
                    assert_eq!(
                        h.finish(),
                        want,
                        "{kernel:?}, {len} bytes in pieces of {piece}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_leaf_pair_fed_block_by_block_hashes_both_leaves() {
        let data = pattern(2 * MIB, 9);
        let (left, right) = data.split_at(MIB);
        let mut pair = LeafPair::new();
        for (a, b) in left.chunks(128 << 10).zip(right.chunks(128 << 10)) {
            assert!(!pair.is_full());
            pair.update(a, b);
        }
        assert!(pair.is_full());
        assert_eq!(pair.finish(), (leaf(left), leaf(right)));
        assert!(!pair.is_full(), "starts over");
    }

    // Vectors below were cross-checked with botocore.utils.calculate_tree_hash
    // (botocore 1.43.11) on the same inputs: `len` bytes of value 0x61 ('a'). 5 MiB + 17 has an odd leaf count.
    #[test]
    fn edge_vectors_match_botocore() {
        let cases: &[(usize, &str)] = &[
            (
                1,
                "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
            ),
            (
                MIB,
                "9bc1b2a288b26af7257a36277ae3816a7d4f16e89c1e7e77d0a5c48bad62b360",
            ),
            (
                MIB + 1,
                "8dd49bbc6297567fac3852c2deddcdbc57358bc403c10d4f6dc64b143ad9b27b",
            ),
            (
                3 * MIB,
                "70239f4f2ead7561f69d48b956b547edef52a1280a93c262c0b582190be7db17",
            ),
            (
                5 * MIB + 17,
                "aa315fc3563b1d03dd5dcd2526fd6eda45f5662d0523278b98d82fe2f868abfc",
            ),
        ];
        let mut kernels = vec![sha256x2::Kernel::Portable];
        if sha256x2::Kernel::fastest() != sha256x2::Kernel::Portable {
            kernels.push(sha256x2::Kernel::fastest());
        }
        for &(len, want) in cases {
            let data = vec![b'a'; len];
            assert_eq!(tree_hash(&data).to_hex(), want, "len {len}");
            assert_eq!(reference::tree_hash(&data).to_hex(), want, "ref len {len}");
            for &kernel in &kernels {
                let mut tree = TreeHasher::with_kernel(kernel);
                tree.update(&data);
                assert_eq!(tree.finish().to_hex(), want, "{kernel:?}, len {len}");
                let mut both = LinearTreeHasher::with_kernel(kernel);
                both.update(&data);
                assert_eq!(
                    both.finish().1.to_hex(),
                    want,
                    "{kernel:?} one pass, len {len}"
                );
            }
        }
    }

    #[test]
    fn known_vector_from_the_issue() {
        // 11-byte text repeated 9,627,880 times = 105,906,680 bytes.
        let data = b"01245678912".repeat(9_627_880);
        assert_eq!(data.len(), 105_906_680);
        assert_eq!(
            tree_hash(&data).to_hex(),
            "3d417484359fc9f5a3bafd576dc47b8b2de2bf2d4fdac5aa2aff768f2210d386"
        );
    }

    #[test]
    fn small_input_is_plain_sha256() {
        for len in [0, 1, 100, MIB - 1, MIB] {
            let data = pattern(len, len as u64);
            let want: [u8; 32] = Sha256::digest(&data).into();
            assert_eq!(tree_hash(&data).0, want);
        }
    }

    #[test]
    fn streaming_equals_one_shot_and_reference() {
        let data = pattern(7 * MIB + 12345, 7);
        let want = reference::tree_hash(&data);
        assert_eq!(tree_hash(&data), want);
        for step in [1usize, 999, 4096, MIB - 1, MIB, MIB + 3, 3 * MIB] {
            let mut h = TreeHasher::new();
            for piece in data.chunks(step.max(1)) {
                h.update(piece);
            }
            assert_eq!(h.len(), data.len() as u64);
            assert_eq!(h.finish(), want, "step {step}");
        }
    }

    #[test]
    fn every_leaf_count_up_to_17_matches_reference() {
        for leaves in 1..=17usize {
            for extra in [0usize, 1] {
                let len = leaves * MIB - if extra == 1 { MIB / 2 } else { 0 };
                let data = pattern(len, leaves as u64);
                assert_eq!(
                    tree_hash(&data),
                    reference::tree_hash(&data),
                    "{leaves} leaves, short last {extra}"
                );
            }
        }
    }

    #[test]
    fn aligned_parts_combine_to_whole() {
        let data = pattern(13 * MIB + 5, 13);
        let whole = reference::tree_hash(&data);
        for part in [MIB, 2 * MIB, 4 * MIB, 8 * MIB, 16 * MIB] {
            let hashes: Vec<TreeHash> = data.chunks(part).map(tree_hash).collect();
            assert_eq!(combine(&hashes), Some(whole), "part {part}");
        }
        assert_eq!(combine(&[]), None);
    }

    #[test]
    fn push_subtree_joins_aligned_blocks() {
        let data = pattern(11 * MIB + 77, 11);
        let mut h = TreeHasher::new();
        // Two 4 MiB blocks then the tail streamed.
        h.push_subtree(2, tree_hash(&data[..4 * MIB]));
        h.push_subtree(2, tree_hash(&data[4 * MIB..8 * MIB]));
        h.update(&data[8 * MIB..]);
        assert_eq!(h.finish(), reference::tree_hash(&data));
    }

    #[test]
    fn hex_round_trip_and_errors() {
        let h = tree_hash(b"abc");
        let s = h.to_string();
        assert_eq!(s.parse::<TreeHash>(), Ok(h));
        assert_eq!(s.to_uppercase().parse::<TreeHash>(), Ok(h));
        assert!("abc".parse::<TreeHash>().is_err());
        let bad = format!("{}g", &s[..63]);
        assert!(bad.parse::<TreeHash>().is_err());
    }

    #[test]
    fn alignment_agrees_with_brute_force() {
        let m = 1u64 << 20;
        let sizes = [
            1,
            m - 1,
            m,
            m + 1,
            3 * m,
            4 * m,
            5 * m + 3,
            8 * m,
            13 * m + 1,
        ];
        for &size in &sizes {
            let points: Vec<u64> = (0..=16u64)
                .flat_map(|i| [i * m, (i * m).saturating_sub(1), i * m + 1])
                .chain([size - 1, size, size + 1])
                .collect();
            for &s in &points {
                for &e in &points {
                    assert_eq!(
                        is_tree_hash_aligned(s, e, size),
                        reference::is_aligned(s, e, size),
                        "start {s} end {e} size {size}"
                    );
                }
            }
        }
    }

    #[test]
    fn part_size_rules() {
        assert!(is_valid_part_size(1 << 20));
        assert!(is_valid_part_size(4 << 30));
        assert!(!is_valid_part_size(8 << 30));
        assert!(!is_valid_part_size(3 << 20));
        assert!(!is_valid_part_size(1 << 19));
        assert_eq!(floor_pow2_mib(5 << 20), 4 << 20);
        assert_eq!(floor_pow2_mib(1), 1 << 20);
    }
}
