//! Hashes of aligned parts (1 MiB × 2^n, last one short) combine to the whole.
#![no_main]

use glacier_upload::treehash::{self, TreeHash};
use glacier_upload_fuzz::{expand, reference_tree_hash};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    if input.len() < 4 {
        return;
    }
    let len = 1 + (u32::from_le_bytes([input[0], input[1], input[2], 0]) as usize) % (9 << 20);
    let part = (1usize << 20) << (input[3] % 4);
    let data = expand(&input[4..], len);
    let parts: Vec<TreeHash> = data.chunks(part).map(treehash::tree_hash).collect();
    let whole = treehash::combine(&parts).expect("at least one part");
    assert_eq!(whole.0, reference_tree_hash(&data), "len {len} part {part}");
});
