//! Streaming with arbitrary split points equals one-shot equals the reference; a tree
//! hash of at most 1 MiB is plain SHA-256; the one-pass linear and tree hasher (the
//! interleaved SHA-NI kernel where the CPU has it) fed the same pieces gives `sha2`'s
//! SHA-256 and the reference tree hash.
#![no_main]

use glacier_upload::treehash::{self, LinearTreeHasher, TreeHasher};
use glacier_upload_fuzz::{expand, reference_tree_hash};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

fuzz_target!(|input: &[u8]| {
    // Input: 3 bytes of length (up to ~6 MiB), then split points (2 bytes each, scaled),
    // the rest seeds the data.
    if input.len() < 3 {
        return;
    }
    let len = (u32::from_le_bytes([input[0], input[1], input[2], 0]) as usize) % (6 << 20);
    let rest = &input[3..];
    let (splits, seed) = rest.split_at(rest.len().min(16));
    let data = expand(seed, len);

    let want = reference_tree_hash(&data);
    assert_eq!(treehash::tree_hash(&data).0, want, "one-shot, len {len}");
    if len <= 1 << 20 {
        assert_eq!(want, <[u8; 32]>::from(Sha256::digest(&data)));
    }

    let mut h = TreeHasher::new();
    let mut both = LinearTreeHasher::new();
    let mut pos = 0usize;
    for pair in splits.chunks(2) {
        let step = pair.iter().fold(0usize, |a, &b| a * 256 + b as usize) * 97;
        let end = (pos + step).min(len);
        h.update(&data[pos..end]);
        both.update(&data[pos..end]);
        pos = end;
    }
    h.update(&data[pos..]);
    both.update(&data[pos..]);
    assert_eq!(h.len(), len as u64);
    assert_eq!(h.finish().0, want, "streaming, len {len}");
    assert_eq!(both.len(), len as u64);
    let (linear, tree) = both.finish();
    assert_eq!(tree.0, want, "one-pass tree hash, len {len}");
    assert_eq!(linear, <[u8; 32]>::from(Sha256::digest(&data)), "one-pass SHA-256, len {len}");
});
